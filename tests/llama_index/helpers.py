"""Helpers of the LlamaIndex suites."""

from __future__ import annotations

from typing import Any

from cerebras_adapters.testing import EmulatorServer

KEY = "csk-test"


def chat_bodies(server: EmulatorServer) -> list[dict[str, Any]]:
    """The chat requests the emulator received, as JSON bodies."""
    return [r.json() for r in server.requests if r.path.endswith("/chat/completions")]
