"""Cassettes: record once (live with a key, otherwise against the emulator), replay everywhere offline.

How a cassette-backed test works (``@pytest.mark.vcr`` plus the ``target`` fixture):

* **Replay** (the default, and all CI does): the client talks to the canonical URL
  (``https://api.cerebras.ai/v1`` or ``https://openrouter.ai/api/v1``) with a dummy key, and vcrpy answers from
  the cassette. ``record_mode`` is never set in the config (langchain.md §2.3 pitfall (a)), so pytest-recording's
  default ``none`` applies: a missing cassette fails loudly instead of calling out, and pytest-socket blocks any
  non-loopback connection besides.
* **Recording** (``make record``, i.e. ``--record-mode=rewrite``): with ``CEREBRAS_API_KEY`` /
  ``OPENROUTER_API_KEY`` set, the route is recorded live into ``cassettes/live/``; without, against the contract
  emulator into ``cassettes/emulator/``. Emulator recordings are rewritten to the canonical URL, so replay is
  the same whichever way a cassette was made, and the folder says which it was (provenance).
* The cassette folder is pinned to the repository's ``cassettes/`` whatever the working directory (pitfall (b)).
* Scrubbed on recording: ``authorization`` (→ ``Bearer PLACEHOLDER``), cookies, ``set-cookie``, ``cf-ray``,
  ``x-request-id`` (a Cloudflare ray id), and any key-shaped string in bodies or headers.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CASSETTES = REPO / "cassettes"
CANONICAL = {"cerebras": "https://api.cerebras.ai/v1", "openrouter": "https://openrouter.ai/api/v1"}
KEY_ENV = {"cerebras": "CEREBRAS_API_KEY", "openrouter": "OPENROUTER_API_KEY"}
DUMMY_KEY = "test-key"

# Real keys are captured once, before conftest removes them from the environment, and used only to record.
LIVE_KEYS = {route: os.environ.get(env) or None for route, env in KEY_ENV.items()}

_KEY_SHAPED = re.compile(r"(csk-[A-Za-z0-9]{8,}|sk-or-[A-Za-z0-9-]{8,})")
_DROP_RESPONSE_HEADERS = {"set-cookie", "cf-ray", "x-request-id", "cookie", "report-to", "nel"}


@dataclass(frozen=True)
class Target:
    """Where a cassette-backed test sends its requests."""

    route: str
    base_url: str
    api_key: str
    provenance: str  # "live" or "emulator"

    def client_kwargs(self) -> dict[str, Any]:
        return {"route": self.route, "base_url": self.base_url, "api_key": self.api_key}


def is_recording(record_mode: str | None) -> bool:
    return record_mode not in (None, "none")


def provenance(route: str, record_mode: str | None, module: str, name: str) -> str:
    """live or emulator: when recording, by whether a key is set; when replaying, live wins if it exists."""
    if is_recording(record_mode):
        return "live" if LIVE_KEYS[route] else "emulator"
    live = CASSETTES / "live" / module / f"{name}.yaml"
    return "live" if live.exists() else "emulator"


def _scrub_text(text: str) -> str:
    return _KEY_SHAPED.sub("REDACTED", text)


def make_vcr_config(emulator_origin: str | None) -> dict[str, Any]:
    def before_record_request(request: Any) -> Any:
        if emulator_origin and request.uri.startswith(emulator_origin):
            path = request.uri[len(emulator_origin) :]
            origin = "https://openrouter.ai" if path.startswith("/api/") else "https://api.cerebras.ai"
            request.uri = origin + path
            for header in list(request.headers):
                if header.lower() == "host":
                    request.headers[header] = origin.split("//", 1)[1]
        for header in list(request.headers):
            if header.lower() in ("authorization",):
                request.headers[header] = "Bearer PLACEHOLDER"
            elif header.lower() in ("cookie",):
                del request.headers[header]
        return request

    def before_record_response(response: dict[str, Any]) -> dict[str, Any]:
        headers = response.get("headers", {})
        for name in list(headers):
            if name.lower() in _DROP_RESPONSE_HEADERS:
                del headers[name]
            else:
                headers[name] = [_scrub_text(v) for v in headers[name]]
        body = response.get("body", {})
        raw = body.get("string")
        if isinstance(raw, bytes):
            body["string"] = _scrub_text(raw.decode("utf-8", "replace")).encode()
        elif isinstance(raw, str):
            body["string"] = _scrub_text(raw)
        return response

    return {
        "before_record_request": before_record_request,
        "before_record_response": before_record_response,
        "match_on": ["method", "scheme", "host", "port", "path", "query", "json_body"],
        "decode_compressed_response": True,
        "allow_playback_repeats": True,
    }


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _normalised_body(request: Any) -> Any:
    raw = request.body
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    # Some callers generate a fresh uuid4 per run (LangChain's tool_example_to_messages does for tool-call ids,
    # langchain.md §2.3 pitfall (d)); they are the only part of a request body that is not deterministic.
    text = _UUID.sub("<uuid>", text)
    try:
        return json.loads(text)
    except ValueError:
        return text


def json_body_matcher(r1: Any, r2: Any) -> None:
    """vcrpy matcher: request bodies equal as JSON, up to random uuids."""
    if _normalised_body(r1) != _normalised_body(r2):
        raise AssertionError("request bodies differ")
