"""Turning a planned completion into bytes: Cerebras and OpenRouter bodies and SSE events.

Cerebras shapes (docs/api-facts.md#responses, docs/api-facts.md#streaming; RT-01, RT-03, RT-12, RT-13, RT-15):

* compact JSON; nulls omitted (no ``logprobs``, no ``content`` on tool-call-only messages, no
  ``finish_reason`` on intermediate chunks);
* chunk keys in the observed order ``id, choices, created, model, system_fingerprint, object`` (+ ``usage``,
  ``time_info`` on the final chunk);
* stream: ``delta:{"role":"assistant"}`` first, then ``reasoning`` deltas, ``content`` deltas, tool-call
  deltas (incremental on gpt-oss: id + name + ``arguments:""``, then fragments with only ``index``; whole on
  the others), and a final ``delta:{}`` chunk carrying ``finish_reason``, ``usage`` and ``time_info``;
  no ``data: [DONE]`` unless asked for.

OpenRouter shapes (docs/api-facts.md#openrouter): ``gen-…`` ids, a top-level ``provider``, ``native_finish_reason``,
``reasoning`` + ``reasoning_details``, ``usage.cost``, ``: OPENROUTER PROCESSING`` comment lines, usage on a
last chunk with empty ``choices``, and ``data: [DONE]``.

Events are built as strings around a precomputed chunk head and tail, so a 1000-token stream costs one
string escape per token.

This module owns the bytes of a successful reply; it must not decide what the reply says (``_generation``)
or when and how fast it is sent (``_replies``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from ._generation import Completion, logprob_entry
from ._models import ModelSpec

__all__ = ["Event", "ResponseMeta", "cerebras_body", "cerebras_events", "openrouter_body", "openrouter_events"]

_COMPACT = (",", ":")


def dumps(value: Any) -> str:
    return json.dumps(value, separators=_COMPACT, ensure_ascii=False)


@dataclass
class ResponseMeta:
    id: str
    created: int
    created_float: float
    model: str  # the id shown in responses
    fingerprint: str
    spec: ModelSpec
    tokens_per_second: float | None
    provider: str = "Cerebras"
    #: OpenRouter only: ``url_citation`` annotations of a web search, and what the search costs on top of the tokens.
    annotations: list[dict[str, Any]] | None = None
    extra_cost: float = 0.0


@dataclass
class Event:
    """One SSE event (text including its blank line) and the tokens it stands for (for pacing)."""

    text: str
    tokens: int
    kind: str = "data"  # "data" | "role" | "final" | "comment" | "done"


def usage(completion: Completion, spec: ModelSpec) -> dict[str, Any]:
    """``usage`` in the model's observed shape (docs/api-facts.md#usage timeline)."""
    body: dict[str, Any] = {
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "total_tokens": completion.prompt_tokens + completion.completion_tokens,
    }
    shape = spec.usage_shape
    if shape == "basic":
        return body
    details: dict[str, Any] = {"cached_tokens": completion.cached_tokens}
    if shape == "gemma":
        details["image_tokens"] = completion.image_tokens
    body["prompt_tokens_details"] = details
    if shape == "full":
        body["completion_tokens_details"] = {
            "accepted_prediction_tokens": completion.accepted_prediction_tokens,
            "reasoning_tokens": completion.reasoning_tokens,
            "rejected_prediction_tokens": completion.rejected_prediction_tokens,
        }
    elif shape == "gemma":
        body["completion_tokens_details"] = {"reasoning_tokens": completion.reasoning_tokens}
    return body


def time_info(completion: Completion, meta: ResponseMeta) -> dict[str, Any]:
    """``time_info`` (docs/api-facts.md#time-info) with plausible durations derived from the token counts; ``created``
    is a float."""
    queue = 0.000118
    prompt = round(completion.prompt_tokens / 45000.0 + 0.0004, 9)
    completion_time = round(completion.completion_tokens / (meta.tokens_per_second or 2800.0), 9)
    return {
        "queue_time": queue,
        "prompt_time": prompt,
        "completion_time": completion_time,
        "total_time": queue + prompt + completion_time + 0.0012,
        "created": meta.created_float,
    }


def _tool_call_whole(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"function": {"arguments": arguments, "name": name}, "id": call_id, "type": "function"}


def cerebras_body(completion: Completion, meta: ResponseMeta, logprobs: int | None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant"}
    if completion.has_content:
        message["content"] = "".join(completion.content_pieces)
    if completion.reasoning_pieces:
        message["reasoning"] = "".join(completion.reasoning_pieces)
    if completion.tool_calls:
        message["tool_calls"] = [_tool_call_whole(c.id, c.name, c.arguments) for c in completion.tool_calls]
    choice: dict[str, Any] = {"finish_reason": completion.finish_reason, "index": 0, "message": message}
    if logprobs is not None:
        choice["logprobs"] = {"content": [logprob_entry(t, logprobs) for t in completion.content_pieces]}
    return {
        "id": meta.id,
        "choices": [choice],
        "created": meta.created,
        "model": meta.model,
        "system_fingerprint": meta.fingerprint,
        "object": "chat.completion",
        "usage": usage(completion, meta.spec),
        "time_info": time_info(completion, meta),
    }


def cerebras_events(completion: Completion, meta: ResponseMeta, logprobs: int | None) -> list[Event]:
    head = f'data: {{"id":"{meta.id}","choices":[{{"delta":'
    tail = (
        f',"index":0}}],"created":{meta.created},"model":{encode_basestring(meta.model)},'
        f'"system_fingerprint":"{meta.fingerprint}","object":"chat.completion.chunk"}}\n\n'
    )
    events = [Event(head + '{"role":"assistant"}' + tail, 0, "role")]
    enc = encode_basestring
    for token in completion.reasoning_pieces:
        events.append(Event(head + '{"reasoning":' + enc(token) + "}" + tail, 1))
    if logprobs is None:
        for token in completion.content_pieces:
            events.append(Event(head + '{"content":' + enc(token) + "}" + tail, 1))
    else:
        for token in completion.content_pieces:
            lp = dumps({"content": [logprob_entry(token, logprobs)]})
            events.append(Event(head + '{"content":' + enc(token) + '},"logprobs":' + lp + tail, 1))
    for index, call in enumerate(completion.tool_calls):
        if meta.spec.tool_stream == "incremental":
            first = {
                "tool_calls": [
                    {
                        "function": {"name": call.name, "arguments": ""},
                        "type": "function",
                        "id": call.id,
                        "index": index,
                    }
                ]
            }
            events.append(Event(head + dumps(first) + tail, 1))
            prefix = '{"tool_calls":[{"function":{"arguments":'
            suffix = f'}},"type":"function","index":{index}}}]}}'
            for fragment in call.argument_tokens:
                events.append(Event(head + prefix + enc(fragment) + suffix + tail, 1))
        else:
            whole = {
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments},
                        "index": index,
                    }
                ]
            }
            events.append(Event(head + dumps(whole) + tail, len(call.argument_tokens) + 1))
    final = {
        "id": meta.id,
        "choices": [{"delta": {}, "finish_reason": completion.finish_reason, "index": 0}],
        "created": meta.created,
        "model": meta.model,
        "system_fingerprint": meta.fingerprint,
        "object": "chat.completion.chunk",
        "usage": usage(completion, meta.spec),
        "time_info": time_info(completion, meta),
    }
    events.append(Event("data: " + dumps(final) + "\n\n", 0, "final"))
    return events


def cerebras_stream_error_event() -> Event:
    """The SDK's mid-stream error contract (docs/api-facts.md#mid-stream-errors): ``{"error": {...}, "status_code": N}``
    on a data line."""
    body = {
        "error": {
            "message": "Encountered a server error, please try again.",
            "type": "server_error",
            "param": "",
            "code": "",
            "id": "",
        },
        "status_code": 500,
    }
    return Event("data: " + dumps(body) + "\n\n", 0, "error")


def malformed_event(meta: ResponseMeta) -> Event:
    return Event(f'data: {{"id":"{meta.id}","choices":[{{"delta":{{"content":"\n\n', 0, "malformed")


DONE = Event("data: [DONE]\n\n", 0, "done")

# ---------------------------------------------------------------------------------------------- OpenRouter


def openrouter_cost(completion: Completion, spec: ModelSpec) -> float:
    return round((completion.prompt_tokens * spec.price_in + completion.completion_tokens * spec.price_out) / 1e6, 12)


def openrouter_usage(completion: Completion, spec: ModelSpec, extra_cost: float = 0.0) -> dict[str, Any]:
    cost = round(openrouter_cost(completion, spec) + extra_cost, 12)
    return {
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "total_tokens": completion.prompt_tokens + completion.completion_tokens,
        "cost": cost,
        "is_byok": False,
        "prompt_tokens_details": {"cached_tokens": completion.cached_tokens, "audio_tokens": 0},
        "cost_details": {
            "upstream_inference_cost": None,
            "upstream_inference_prompt_cost": round(completion.prompt_tokens * spec.price_in / 1e6, 12),
            "upstream_inference_completions_cost": round(completion.completion_tokens * spec.price_out / 1e6, 12),
        },
        "completion_tokens_details": {"reasoning_tokens": completion.reasoning_tokens, "image_tokens": 0},
    }


def _details(text: str) -> list[dict[str, Any]]:
    return [{"type": "reasoning.text", "text": text, "format": "unknown", "index": 0}]


def openrouter_body(completion: Completion, meta: ResponseMeta) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(completion.content_pieces),
        "refusal": None,
        "reasoning": completion.reasoning,
    }
    if completion.reasoning:
        message["reasoning_details"] = _details(completion.reasoning)
    if completion.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "index": i, "function": {"name": c.name, "arguments": c.arguments}}
            for i, c in enumerate(completion.tool_calls)
        ]
    if meta.annotations:
        message["annotations"] = meta.annotations
    return {
        "id": meta.id,
        "provider": meta.provider,
        "model": meta.model,
        "object": "chat.completion",
        "created": meta.created,
        "choices": [
            {
                "logprobs": None,
                "finish_reason": completion.finish_reason,
                "native_finish_reason": completion.finish_reason,
                "index": 0,
                "message": message,
            }
        ],
        "usage": openrouter_usage(completion, meta.spec, meta.extra_cost),
    }


def _or_chunk(meta: ResponseMeta, delta: dict[str, Any], finish: str | None = None) -> str:
    chunk = {
        "id": meta.id,
        "provider": meta.provider,
        "model": meta.model,
        "object": "chat.completion.chunk",
        "created": meta.created,
        "choices": [
            {"index": 0, "delta": delta, "finish_reason": finish, "native_finish_reason": finish, "logprobs": None}
        ],
    }
    return "data: " + dumps(chunk) + "\n\n"


PROCESSING = Event(": OPENROUTER PROCESSING\n\n", 0, "comment")


def openrouter_events(completion: Completion, meta: ResponseMeta) -> list[Event]:
    events = [PROCESSING, Event(_or_chunk(meta, {"role": "assistant", "content": ""}), 0, "role")]
    for token in completion.reasoning_pieces:
        delta = {"role": "assistant", "content": "", "reasoning": token, "reasoning_details": _details(token)}
        events.append(Event(_or_chunk(meta, delta), 1))
    for token in completion.content_pieces:
        events.append(Event(_or_chunk(meta, {"role": "assistant", "content": token}), 1))
    for index, call in enumerate(completion.tool_calls):
        if meta.spec.tool_stream == "incremental":
            first = {
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            events.append(Event(_or_chunk(meta, {"role": "assistant", "content": None, "tool_calls": [first]}), 1))
            for fragment in call.argument_tokens:
                piece = {"index": index, "type": "function", "function": {"arguments": fragment}}
                events.append(Event(_or_chunk(meta, {"role": "assistant", "content": None, "tool_calls": [piece]}), 1))
        else:
            whole = {
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            events.append(
                Event(
                    _or_chunk(meta, {"role": "assistant", "content": None, "tool_calls": [whole]}),
                    len(call.argument_tokens) + 1,
                )
            )
    if meta.annotations:
        # A web search's citations come in one delta near the end of the stream.
        events.append(Event(_or_chunk(meta, {"role": "assistant", "content": "", "annotations": meta.annotations}), 0))
    events.append(Event(_or_chunk(meta, {"role": "assistant", "content": ""}, completion.finish_reason), 0))
    usage_chunk = {
        "id": meta.id,
        "provider": meta.provider,
        "model": meta.model,
        "object": "chat.completion.chunk",
        "created": meta.created,
        "choices": [],
        "usage": openrouter_usage(completion, meta.spec, meta.extra_cost),
    }
    events.append(Event("data: " + dumps(usage_chunk) + "\n\n", 0, "final"))
    events.append(DONE)
    return events


def openrouter_stream_error_event(meta: ResponseMeta) -> Event:
    """docs/api-facts.md#openrouter-errors: top-level ``error`` with a numeric code, ``finish_reason: "error"``; the
    stream ends."""
    chunk = {
        "id": meta.id,
        "object": "chat.completion.chunk",
        "created": meta.created,
        "model": meta.model,
        "provider": meta.provider,
        "error": {
            "code": 502,
            "message": "Provider returned error",
            "metadata": {"error_type": "provider_unavailable", "provider_name": meta.provider},
        },
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error", "native_finish_reason": "error"}],
    }
    return Event("data: " + dumps(chunk) + "\n\n", 0, "error")
