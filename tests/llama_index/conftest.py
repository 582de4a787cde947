"""The LlamaIndex suites' fixtures: a ``Cerebras`` LLM pointed at the contract emulator, on either route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("llama_index.core")

from cerebras_adapters.llama_index import Cerebras
from cerebras_adapters.testing import EmulatorServer
from tests.llama_index.helpers import KEY

MakeLLM = Callable[..., Cerebras]


@pytest.fixture
def make_llm(cerebras_emulator: EmulatorServer) -> MakeLLM:
    """``make_llm(model, route="cerebras", **fields)``: a Cerebras LLM talking to the emulator."""

    def make(model: str = "gpt-oss-120b", route: str = "cerebras", **fields: Any) -> Cerebras:
        base = cerebras_emulator.openrouter_base_url if route == "openrouter" else cerebras_emulator.base_url
        fields.setdefault("api_key", KEY)
        return Cerebras(model=model, api_base=base, route=route, **fields)

    return make
