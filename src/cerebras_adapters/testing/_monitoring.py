"""OpenRouter's monitoring endpoints: ``GET /api/v1/key`` (and the legacy ``/api/v1/auth/key``) and
``GET /api/v1/generation?id=`` (docs/api-facts.md#openrouter-monitoring).

This module owns the ``Ledger``: what the OpenRouter route served, per generation id (the record the generation
endpoint returns: model, provider, tokens, cost, timing, outcome, search results) and the credits each key has used
(which the key endpoint reports). A record becomes visible ``generation_delay_s`` after the completion, as the real
endpoint answers 404 for a short while after a generation finishes. The ledger outlives option changes (a test may
turn the delay on after serving) and is emptied by ``reset``.

It must not answer chats or decide costs (``_openrouter`` records what it served); it must not import the client's
modules.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ._asgi import Request, Send, send_json
from ._errors import openrouter_error

__all__ = ["Ledger", "Monitoring"]


@dataclass
class _Entry:
    record: dict[str, Any]
    visible_at: float


@dataclass
class Ledger:
    """Generations served on the OpenRouter route, and the usage per key."""

    generations: dict[str, _Entry] = field(default_factory=dict)
    usage: dict[str, float] = field(default_factory=dict)

    def clear(self) -> None:
        self.generations.clear()
        self.usage.clear()

    def record(self, key: str, record: dict[str, Any], delay_s: float) -> None:
        self.generations[record["id"]] = _Entry(record, time.monotonic() + delay_s)
        self.usage[key] = self.usage.get(key, 0.0) + float(record["total_cost"])

    def generation(self, generation_id: str) -> dict[str, Any] | None:
        entry = self.generations.get(generation_id)
        if entry is None or time.monotonic() < entry.visible_at:
            return None
        return entry.record


def generation_record(
    *,
    generation_id: str,
    model: str,
    provider: str,
    usage: dict[str, Any],
    created: float,
    streamed: bool,
    finish_reason: str,
    cancelled: bool,
    latency_ms: int,
    generation_time_ms: int,
    num_search_results: int,
    web_search_engine: str | None,
) -> dict[str, Any]:
    """The generation endpoint's ``data`` for a served completion (OpenAPI ``GenerationResponse``)."""
    details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    return {
        "id": generation_id,
        "upstream_id": None,
        "request_id": None,
        "total_cost": usage["cost"],
        "cache_discount": None,
        "upstream_inference_cost": None,
        "created_at": datetime.fromtimestamp(created, tz=timezone.utc).isoformat(),
        "model": model,
        "app_id": None,
        "streamed": streamed,
        "cancelled": cancelled,
        "provider_name": provider,
        "latency": latency_ms,
        "moderation_latency": None,
        "generation_time": generation_time_ms,
        "finish_reason": finish_reason,
        "native_finish_reason": finish_reason,
        "tokens_prompt": usage["prompt_tokens"],
        "tokens_completion": usage["completion_tokens"],
        "native_tokens_prompt": usage["prompt_tokens"],
        "native_tokens_completion": usage["completion_tokens"],
        "native_tokens_completion_images": 0,
        "native_tokens_reasoning": completion_details.get("reasoning_tokens", 0),
        "native_tokens_cached": details.get("cached_tokens", 0),
        "num_media_prompt": None,
        "num_input_audio_prompt": None,
        "num_media_completion": None,
        "num_search_results": num_search_results,
        "web_search_engine": web_search_engine,
        "num_fetches": None,
        "origin": "",
        "usage": usage["cost"],
        "is_byok": False,
        "api_type": "completions",
        "router": None,
        "provider_responses": None,
        "session_id": None,
        "service_tier": None,
    }


def _label(key: str) -> str:
    """How OpenRouter shows a key: its start and end only, never the whole secret."""
    return f"{key[:10]}...{key[-3:]}" if len(key) > 16 else f"{key[:3]}..."


class Monitoring:
    """The key and generation routes over one ``Ledger``."""

    def __init__(self, ledger: Ledger, key_limit: float | None) -> None:
        self._ledger = ledger
        self._limit = key_limit

    async def key(self, request: Request, send: Send) -> None:
        used = round(self._ledger.usage.get(request.key, 0.0), 12)
        remaining = None if self._limit is None else round(max(self._limit - used, 0.0), 12)
        data = {
            "label": _label(request.key),
            "limit": self._limit,
            "limit_remaining": remaining,
            "limit_reset": None,
            "include_byok_in_limit": False,
            "usage": used,
            "usage_daily": used,
            "usage_weekly": used,
            "usage_monthly": used,
            "byok_usage": 0,
            "byok_usage_daily": 0,
            "byok_usage_weekly": 0,
            "byok_usage_monthly": 0,
            "is_free_tier": False,
            "is_management_key": False,
            "is_provisioning_key": False,
            "expires_at": None,
            "creator_user_id": None,
            "rate_limit": {"requests": -1, "interval": "10s", "note": "This field is deprecated and safe to ignore."},
        }
        await send_json(send, 200, {"data": data})

    async def generation(self, request: Request, send: Send) -> None:
        ids = request.query.get("id") or [""]
        if not ids[0]:
            raise openrouter_error(400, "id: Required (the generation id, e.g. gen-...)")
        record = self._ledger.generation(ids[0])
        if record is None:
            raise openrouter_error(404, "Resource not found")
        await send_json(send, 200, {"data": record})
