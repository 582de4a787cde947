"""Sending a 200 chat reply: one JSON body or a stream of SSE events, paced, with stream faults carried out.

This module owns the timing and the byte-level delivery of a successful chat response, shared by the Cerebras
and the OpenRouter routes: pacing at ``tokens_per_second`` (a non-streamed body waits as long as its stream
would have taken), the ``slow-first-token`` delay (OpenRouter keeps the wait alive with comment lines,
docs/api-facts.md#openrouter-streaming), and the ``StreamPlan`` of a faulted request (cut the body, insert a malformed
event, end with an error event, drop the connection). It must not decide what a reply says (``_generation``,
``_wire``) or whether a fault applies (``_faults``).
"""

from __future__ import annotations

import asyncio

from ._asgi import JSON_TYPE, SSE_TYPE, Send, encode_headers
from ._errors import ConnectionDropped
from ._faults import StreamPlan
from ._wire import Event, ResponseMeta, cerebras_stream_error_event, malformed_event, openrouter_stream_error_event

__all__ = ["send_completion", "send_stream"]

#: what OpenRouter sends while a stream waits for its first token (docs/api-facts.md#openrouter-streaming).
_PROCESSING = b": OPENROUTER PROCESSING\n\n"


async def send_completion(
    send: Send,
    headers: list[tuple[str, str]],
    text: str,
    plan: StreamPlan,
    completion_tokens: int,
    tokens_per_second: float | None,
) -> None:
    """A non-streamed reply: ``text`` after the time its tokens would take, cut short by a drop or malformed
    fault."""
    delay = plan.slow
    if tokens_per_second:
        delay += completion_tokens / tokens_per_second
    if delay > 0:
        await asyncio.sleep(delay)
    data = text.encode()
    if plan.malformed_at is not None:
        data = data[: max(1, len(data) // 2)]
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": encode_headers([("content-type", JSON_TYPE), ("content-length", str(len(data))), *headers]),
        }
    )
    if plan.drop_at is not None:
        await send({"type": "http.response.body", "body": data[: len(data) // 2], "more_body": True})
        raise ConnectionDropped("fault: drop-mid-stream")
    await send({"type": "http.response.body", "body": data, "more_body": False})


async def send_stream(
    send: Send,
    headers: list[tuple[str, str]],
    events: list[Event],
    plan: StreamPlan,
    meta: ResponseMeta,
    *,
    openrouter: bool,
    tokens_per_second: float | None,
) -> None:
    """An SSE reply: ``events`` with the plan's faults applied, all at once or paced."""

    def position(index: int) -> int:
        # Default: half-way through the stream, after at least the role chunk.
        lead = sum(1 for e in events if e.kind in ("comment", "role"))
        return max(lead, min(index if index >= 0 else len(events) // 2, len(events) - 1))

    if plan.error_at is not None:
        at = position(plan.error_at)
        error_event = openrouter_stream_error_event(meta) if openrouter else cerebras_stream_error_event()
        events = [*events[:at], error_event]
    if plan.malformed_at is not None:
        at = position(plan.malformed_at)
        events = [*events[:at], malformed_event(meta), *events[at:]]
    drop = False
    if plan.drop_at is not None:
        events = events[: position(plan.drop_at)]
        drop = True
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": encode_headers([("content-type", SSE_TYPE), *headers]),
        }
    )
    if not tokens_per_second and not plan.slow:
        await send({"type": "http.response.body", "body": "".join(e.text for e in events).encode(), "more_body": True})
    else:
        await _paced(send, events, tokens_per_second, plan.slow, openrouter)
    if drop:
        raise ConnectionDropped("fault: drop-mid-stream")
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _paced(send: Send, events: list[Event], tps: float | None, slow: float, openrouter: bool) -> None:
    loop = asyncio.get_running_loop()
    lead = 0
    while lead < len(events) and events[lead].kind in ("comment", "role"):
        lead += 1
    if lead:
        await send(
            {
                "type": "http.response.body",
                "body": "".join(e.text for e in events[:lead]).encode(),
                "more_body": True,
            }
        )
    if slow:
        if openrouter:
            # OpenRouter keeps a waiting stream alive with comment lines (docs/api-facts.md#openrouter-streaming).
            deadline = loop.time() + slow
            while (remaining := deadline - loop.time()) > 0:
                await asyncio.sleep(min(remaining, 0.1))
                if deadline - loop.time() > 0:
                    await send({"type": "http.response.body", "body": _PROCESSING, "more_body": True})
        else:
            await asyncio.sleep(slow)
    start = loop.time()
    produced = 0
    batch: list[str] = []
    for event in events[lead:]:
        produced += event.tokens
        if tps:
            delay = start + produced / tps - loop.time()
            if delay > 0.001:
                if batch:
                    await send({"type": "http.response.body", "body": "".join(batch).encode(), "more_body": True})
                    batch = []
                await asyncio.sleep(delay)
        batch.append(event.text)
    if batch:
        await send({"type": "http.response.body", "body": "".join(batch).encode(), "more_body": True})
