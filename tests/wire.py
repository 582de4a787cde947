"""Synthetic Cerebras wire fixtures, written from cerebras-api.md and shaped like the real recordings.

Nothing here is copied from ../shared/real-traffic: the builders produce the same *shapes* (absent rather
than null fields, the finish chunk carrying usage and time_info, 9-hex tool-call ids, float resets) with
our own values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

CHAT_ID = "chatcmpl-0f3c2a1e-6b1d-4e55-9a2f-1c0ffee00001"
FINGERPRINT = "fp_0a1b2c3d4e5f60718293"
RATE_HEADERS = {
    "x-ratelimit-limit-requests-day": "14400",
    "x-ratelimit-remaining-requests-day": "14390",
    "x-ratelimit-reset-requests-day": "4021.5593",
    "x-ratelimit-limit-tokens-minute": "64000",
    "x-ratelimit-remaining-tokens-minute": "63900",
    "x-ratelimit-reset-tokens-minute": "21.25",
    "inference-id": CHAT_ID,
    "x-request-id": "9a0b1c2d3e4f5061-SJC",
}
TIME_INFO = {
    "queue_time": 0.000211,
    "prompt_time": 0.0012,
    "completion_time": 0.0203,
    "total_time": 0.0231,
    "created": 1790000000.25,
}


def usage(prompt: int = 20, completion: int = 10, reasoning: int = 0, cached: int = 0) -> dict[str, Any]:
    return {
        "completion_tokens": completion,
        "completion_tokens_details": {
            "accepted_prediction_tokens": 0,
            "reasoning_tokens": reasoning,
            "rejected_prediction_tokens": 0,
        },
        "prompt_tokens": prompt,
        "prompt_tokens_details": {"cached_tokens": cached},
        "total_tokens": prompt + completion,
    }


def completion(
    content: str | None = "Hello.",
    *,
    model: str = "gpt-oss-120b",
    reasoning: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str = "stop",
    **extra: Any,
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant"}
    if content is not None:
        message["content"] = content
    if reasoning is not None:
        message["reasoning"] = reasoning
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    body = {
        "choices": [{"finish_reason": finish_reason, "index": 0, "message": message}],
        "created": 1790000000,
        "id": CHAT_ID,
        "model": model,
        "object": "chat.completion",
        "system_fingerprint": FINGERPRINT,
        "time_info": TIME_INFO,
        "usage": usage(reasoning=len(reasoning.split()) if reasoning else 0),
    }
    body.update(extra)
    return body


def tool_call(call_id: str, name: str, arguments: str, index: int | None = None) -> dict[str, Any]:
    call: dict[str, Any] = {"function": {"arguments": arguments, "name": name}, "id": call_id, "type": "function"}
    if index is not None:
        call["index"] = index
    return call


def chunk(delta: dict[str, Any], *, model: str = "gpt-oss-120b", finish_reason: str | None = None,
          **extra: Any) -> dict[str, Any]:
    choice: dict[str, Any] = {"delta": delta, "index": 0}
    if finish_reason is not None:
        choice["finish_reason"] = finish_reason
    body = {
        "id": CHAT_ID,
        "choices": [choice],
        "created": 1790000000,
        "model": model,
        "system_fingerprint": FINGERPRINT,
        "object": "chat.completion.chunk",
    }
    body.update(extra)
    return body


def stream_chunks(
    *,
    content: Iterable[str] = ("Hel", "lo", "."),
    reasoning: Iterable[str] = (),
    tool_calls: Iterable[dict[str, Any]] = (),
    finish_reason: str = "stop",
    model: str = "gpt-oss-120b",
    final_usage: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """A Cerebras-shaped stream: role chunk, reasoning deltas, content deltas, tool-call deltas, then the
    finish chunk with empty delta + finish_reason + usage + time_info (RT-12/RT-13 shape)."""
    out = [chunk({"role": "assistant"}, model=model)]
    out += [chunk({"reasoning": r}, model=model) for r in reasoning]
    out += [chunk({"content": c}, model=model) for c in content]
    out += [chunk({"tool_calls": [t]}, model=model) for t in tool_calls]
    out.append(chunk({}, model=model, finish_reason=finish_reason, usage=final_usage or usage(),
                     time_info=TIME_INFO))
    return out


def sse(events: Iterable[dict[str, Any] | str], *, done: bool = False) -> bytes:
    """Encode events as SSE bytes (``data: {json}\\n\\n``); a str event is sent verbatim."""
    parts = []
    for event in events:
        parts.append(event if isinstance(event, str) else f"data: {json.dumps(event)}\n\n")
    if done:
        parts.append("data: [DONE]\n\n")
    return "".join(parts).encode()


def split_reads(data: bytes, size: int) -> Iterator[bytes]:
    """Cut bytes into network-read-sized pieces that do not align with events (RT-13: 81 events in 17
    reads)."""
    for i in range(0, len(data), size):
        yield data[i : i + size]
