"""Converters between LlamaIndex's chat types and the Cerebras wire, and back.

This module only translates: it holds no HTTP, no validation rules and no model knowledge. Where earlier
reasoning goes when a conversation is sent back is the core's rule (``cerebras_adapters.replay_reasoning``); this
module only collects it from LlamaIndex's places for it (a ``ThinkingBlock`` in ``ChatMessage.blocks``, or
``additional_kwargs["reasoning_content"]``) and hands it to that rule.

What a response surfaces besides the message is the shared output layer's (``cerebras_adapters._output``): tool
calls are its dicts, and ``ChatResponse.additional_kwargs`` holds the token counts (LlamaIndex's own keys,
``prompt_tokens``/``completion_tokens``/``total_tokens``), ``model``, ``id``, ``finish_reason`` and the layer's
extras (``response_extras``). A stream's last item is built from the assembled completion (``accumulate``), so
it is the very response a non-streamed call gives; the items before it carry the message so far, LlamaIndex's
convention (``delta`` is the new text, ``additional_kwargs["thinking_delta"]`` the new reasoning).

Reasoning is in two places on every call path: a ``ThinkingBlock`` first in ``message.blocks`` (where the
installed llama-index-core has it: 0.14.0 had not) and ``message.additional_kwargs["reasoning_content"]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from llama_index.core.base.llms import types as li_types
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    ImageBlock,
    MessageRole,
    TextBlock,
)

from .. import replay_reasoning
from .._output import model_assembler, response_extras, tool_arguments, tool_call_delta_dicts, tool_call_dicts
from .._streaming import Accumulator
from ..errors import RequestValidationError
from ..routes import CerebrasRoute, note_automatic_caching
from ..types import ChatCompletion, ChatCompletionChunk

__all__ = [
    "HAS_THINKING_BLOCK",
    "HAS_TOOL_CALL_BLOCK",
    "StreamAssembler",
    "chat_response",
    "completion_response",
    "messages_to_wire",
    "tool_calls_of",
]

# Both arrived during llama-index-core 0.14 (0.14.0 has neither): with an older core, reasoning and tool calls
# are in additional_kwargs only, as integrations wrote them before.
ThinkingBlock: Any = getattr(li_types, "ThinkingBlock", None)
ToolCallBlock: Any = getattr(li_types, "ToolCallBlock", None)
CachePoint: Any = getattr(li_types, "CachePoint", None)
HAS_THINKING_BLOCK = ThinkingBlock is not None
HAS_TOOL_CALL_BLOCK = ToolCallBlock is not None

REASONING_KEY = "reasoning_content"
TOOL_CALLS_KEY = "tool_calls"
_ROLES = {
    MessageRole.SYSTEM: "system",
    MessageRole.DEVELOPER: "developer",
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.TOOL: "tool",
    MessageRole.CHATBOT: "assistant",
    MessageRole.MODEL: "assistant",
}


# -- LlamaIndex → wire ------------------------------------------------------------------------------------------


def messages_to_wire(model: str, messages: Sequence[ChatMessage], route: str) -> list[dict[str, Any]]:
    """LlamaIndex chat messages → Cerebras chat messages, with earlier reasoning in the form ``model`` takes."""
    keep_markers = route != CerebrasRoute.name
    wire = [_message_to_wire(message, index, keep_markers) for index, message in enumerate(messages)]
    if any(REASONING_KEY in message for message in wire):
        wire = replay_reasoning(model, wire, route=route)
    return wire


def _message_to_wire(message: ChatMessage, index: int, keep_markers: bool) -> dict[str, Any]:
    role = _ROLES.get(MessageRole(message.role))
    if role is None:
        raise RequestValidationError(
            f"messages.{index}: the role {MessageRole(message.role).value!r} has no Cerebras equivalent.",
            param=f"messages.{index}.role",
            fix="use system, user, assistant or tool (a tool result carries additional_kwargs['tool_call_id'])",
        )
    extra = message.additional_kwargs
    parts: list[dict[str, Any]] = []
    reasoning: str | None = None
    calls: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, TextBlock):
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            parts.append({"type": "image_url", "image_url": {"url": _image_url(block)}})
        elif ThinkingBlock is not None and isinstance(block, ThinkingBlock):
            reasoning = reasoning or block.content
        elif ToolCallBlock is not None and isinstance(block, ToolCallBlock):
            calls.append(_tool_call_block_to_wire(block))
        elif CachePoint is not None and isinstance(block, CachePoint):
            # OpenRouter takes the marker on the part before it; the Cerebras API caches by itself and refuses
            # the field (docs/api-facts.md#prompt-caching).
            if keep_markers and parts:
                parts[-1]["cache_control"] = block.cache_control.model_dump(exclude_none=True)
            elif not keep_markers:
                note_automatic_caching()
        else:
            raise RequestValidationError(
                f"messages.{index}: {type(block).__name__} has no Cerebras equivalent.",
                param=f"messages.{index}.blocks",
                fix="send text (TextBlock), or images (ImageBlock) on a vision model",
            )
    out: dict[str, Any] = {"role": role}
    if role == "tool":
        out["tool_call_id"] = extra.get("tool_call_id")
        # Tool results go as plain text: list content was refused by gpt-oss (docs/api-facts.md#tool-message-content).
        out["content"] = "".join(p.get("text", "") for p in parts)
        return out
    out["content"] = _content(parts)
    if role == "assistant":
        if extra.get(TOOL_CALLS_KEY):
            # Wire-shaped calls (ours, and other integrations') carry the arguments exactly as the model wrote
            # them; ToolCallBlocks hold them parsed, so they are the fallback (and the only place on messages that
            # were built by hand).
            calls = [_tool_call_to_wire(call) for call in extra[TOOL_CALLS_KEY]]
        if calls:
            out["tool_calls"] = calls
            if not out["content"]:
                del out["content"]
        reasoning = reasoning or extra.get(REASONING_KEY) or extra.get("thinking")
        if reasoning:
            out[REASONING_KEY] = reasoning
    if extra.get("name"):
        out["name"] = extra["name"]
    return out


def _content(parts: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    if all(p["type"] == "text" and "cache_control" not in p for p in parts):
        # LlamaIndex's ChatMessage.content joins text blocks with a newline; so does the wire form.
        return "\n".join(p["text"] for p in parts)
    return parts


def _image_url(block: Any) -> str:
    if block.url is not None and block.image is None and block.path is None:
        return str(block.url)  # a data: URL is sent as is; the core refuses any other with its fix
    data = block.resolve_image(as_base64=True).read().decode("ascii")
    return f"data:{block.image_mimetype or 'image/png'};base64,{data}"


def _tool_call_block_to_wire(block: Any) -> dict[str, Any]:
    kwargs = block.tool_kwargs
    arguments = kwargs if isinstance(kwargs, str) else json.dumps(kwargs, ensure_ascii=False)
    return {"id": block.tool_call_id, "type": "function", "function": {"name": block.tool_name, "arguments": arguments}}


def _tool_call_to_wire(call: Any) -> dict[str, Any]:
    """An OpenAI-shaped tool call, as a dict or as the openai SDK's object (what other integrations stored)."""
    if not isinstance(call, Mapping):
        call = call.model_dump() if hasattr(call, "model_dump") else dict(call)
    function = dict(call.get("function") or {})
    arguments = function.get("arguments")
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments or {}, ensure_ascii=False)
    return {
        "id": call.get("id"),
        "type": call.get("type") or "function",
        "function": {"name": function.get("name"), "arguments": arguments},
    }


# -- wire → LlamaIndex ------------------------------------------------------------------------------------------


# Per token, a stream builds a response, its message and their blocks: assembled without re-validation (the
# shared layer's model_assembler), as every value is already what validation would produce; tests/llama_index
# checks they equal the validated construction.
_assemble_text = model_assembler(TextBlock)
_assemble_thinking = model_assembler(ThinkingBlock) if ThinkingBlock is not None else None
_assemble_message = model_assembler(ChatMessage)
_assemble_response = model_assembler(ChatResponse)
_assemble_completion = model_assembler(CompletionResponse)
_TEXT_SET = {"text"}
_THINKING_SET = {"content", "num_tokens"}
_MESSAGE_SET = {"role", "additional_kwargs", "blocks"}
_RESPONSE_SET = {"message", "raw", "delta", "additional_kwargs"}
_COMPLETION_SET = {"text", "additional_kwargs", "raw", "delta"}


def _blocks(
    reasoning: str | None, content: str, calls: list[dict[str, Any]], reasoning_tokens: int | None = None
) -> list[Any]:
    blocks: list[Any] = []
    if reasoning and _assemble_thinking is not None:
        blocks.append(
            _assemble_thinking(
                set(_THINKING_SET),
                {
                    "block_type": "thinking",
                    "content": reasoning,
                    "num_tokens": reasoning_tokens,
                    "additional_information": {},
                },
            )
        )
    blocks.append(_assemble_text(set(_TEXT_SET), {"block_type": "text", "text": content}))
    if ToolCallBlock is not None:
        for call in calls:
            function = call["function"]
            raw = function["arguments"]
            kwargs: dict[str, Any] | str
            try:
                kwargs = tool_arguments(raw)
            except ValueError:
                kwargs = raw  # arguments that are not (yet, in a stream) a JSON object stay the text sent
            blocks.append(
                ToolCallBlock(tool_call_id=call["id"], tool_name=function["name"] or "", tool_kwargs=kwargs)
            )
    return blocks


def _message(
    reasoning: str | None, content: str, calls: list[dict[str, Any]], reasoning_tokens: int | None = None
) -> ChatMessage:
    additional: dict[str, Any] = {}
    if reasoning:
        additional[REASONING_KEY] = reasoning
    if calls:
        additional[TOOL_CALLS_KEY] = calls
    message: ChatMessage = _assemble_message(
        set(_MESSAGE_SET),
        {
            "role": MessageRole.ASSISTANT,
            "additional_kwargs": additional,
            "blocks": _blocks(reasoning, content, calls, reasoning_tokens),
        },
    )
    return message


def _response(message: ChatMessage, raw: Any, delta: str | None, additional: dict[str, Any]) -> ChatResponse:
    response: ChatResponse = _assemble_response(
        set(_RESPONSE_SET),
        {"message": message, "raw": raw, "delta": delta, "logprobs": None, "additional_kwargs": additional},
    )
    return response


def response_kwargs(completion: ChatCompletion, index: int = 0) -> dict[str, Any]:
    """``ChatResponse.additional_kwargs``: token counts, model, id, finish reason and the layer's extras."""
    out: dict[str, Any] = {}
    usage = completion.usage
    if usage is not None:
        out["prompt_tokens"] = usage.prompt_tokens
        out["completion_tokens"] = usage.completion_tokens
        out["total_tokens"] = usage.total_tokens
    out["model"] = completion.model
    out["id"] = completion.id
    choice = next((c for c in completion.choices if c.index == index), None)
    if choice is not None and choice.finish_reason is not None:
        out["finish_reason"] = choice.finish_reason
    out.update(response_extras(completion, index))
    return out


def chat_response(completion: ChatCompletion, delta: str | None = None) -> ChatResponse:
    """The ``ChatResponse`` of a completion (choice 0; ``raw`` is the completion itself)."""
    message = completion.choices[0].message if completion.choices else None
    built = _message(
        message.reasoning if message is not None else None,
        (message.content or "") if message is not None else "",
        tool_call_dicts(message.tool_calls) if message is not None else [],
        (completion.usage.reasoning_tokens or None) if completion.usage is not None else None,
    )
    return _response(built, completion, delta, response_kwargs(completion))


def completion_response(response: ChatResponse) -> CompletionResponse:
    """A ``ChatResponse`` as the ``CompletionResponse`` of ``complete``: the text, the same ``raw`` and
    ``additional_kwargs``, with the reasoning there too (``reasoning_content``; ``thinking_delta`` in a stream)."""
    additional = dict(response.additional_kwargs)
    reasoning = response.message.additional_kwargs.get(REASONING_KEY)
    if reasoning:
        additional[REASONING_KEY] = reasoning
    built: CompletionResponse = _assemble_completion(
        set(_COMPLETION_SET),
        {
            "text": response.message.content or "",
            "additional_kwargs": additional,
            "raw": response.raw,
            "logprobs": None,
            "delta": response.delta,
        },
    )
    return built


def tool_calls_of(message: ChatMessage) -> list[tuple[str, str, dict[str, Any] | str]]:
    """A message's tool calls as ``(id, name, arguments)``: from its ``ToolCallBlock``s, else from
    ``additional_kwargs["tool_calls"]`` (OpenAI-shaped, as older integrations and older llama-index-core kept them).
    Arguments are a dict, or the text sent when it is not (yet) a JSON object."""
    if ToolCallBlock is not None:
        found = [b for b in message.blocks if isinstance(b, ToolCallBlock)]
        if found:
            return [(b.tool_call_id or "", b.tool_name, b.tool_kwargs) for b in found]
    out: list[tuple[str, str, dict[str, Any] | str]] = []
    for call in message.additional_kwargs.get(TOOL_CALLS_KEY) or ():
        wire = _tool_call_to_wire(call)
        raw = wire["function"]["arguments"]
        try:
            arguments: dict[str, Any] | str = tool_arguments(raw)
        except ValueError:
            arguments = raw
        out.append((wire["id"] or "", wire["function"]["name"] or "", arguments))
    return out


class StreamAssembler:
    """Core chunks in, LlamaIndex stream items out: per chunk that carries a delta of choice 0, a ``ChatResponse``
    with the message so far (text, reasoning, the tool calls so far) and the new text as ``delta``; then
    ``final()``, the response of the assembled completion (``Accumulator``: exactly what a non-streamed call
    returns) with ``delta=""``. Kept lean: ``add`` runs once per token."""

    __slots__ = ("_accumulator", "_calls", "_content", "_reasoning", "_text_block", "_thinking_block")

    def __init__(self) -> None:
        self._accumulator = Accumulator()  # not the chunks: a long stream would keep ~9 tracked objects per chunk
        self._content = ""
        self._reasoning = ""
        self._calls: dict[int, dict[str, Any]] = {}
        # The blocks of the last item, reused by the next one while their text has not grown (a model reasons, then
        # answers: one of the two is unchanged on almost every token).
        self._text_block: Any = None
        self._thinking_block: Any = None

    def add(self, chunk: ChatCompletionChunk) -> ChatResponse | None:
        self._accumulator.add(chunk)
        choices = chunk.choices
        if not choices or choices[0].index != 0:
            return None
        delta = choices[0].delta
        text = delta.content
        thought = delta.reasoning
        calls = delta.tool_calls
        if calls:
            self._merge(tool_call_delta_dicts(calls))
        elif not text and not thought:
            return None
        text_block = self._text_block
        if text or text_block is None:
            self._content += text or ""
            text_block = self._text_block = _assemble_text({"text"}, {"block_type": "text", "text": self._content})
        if thought:
            self._reasoning += thought
            if _assemble_thinking is not None:
                self._thinking_block = _assemble_thinking(
                    {"content", "num_tokens"},
                    {"block_type": "thinking", "content": self._reasoning, "num_tokens": None,
                     "additional_information": {}},
                )
        reasoning = self._reasoning
        # _message and _response, inlined: this is the per-token path.
        blocks = [text_block]
        additional: dict[str, Any] = {}
        if reasoning:
            additional[REASONING_KEY] = reasoning
            if self._thinking_block is not None:
                blocks.insert(0, self._thinking_block)
        if self._calls:
            calls_so_far = list(self._calls.values())
            additional[TOOL_CALLS_KEY] = calls_so_far
            blocks = _blocks(reasoning, self._content, calls_so_far)
        message = _assemble_message(
            {"role", "additional_kwargs", "blocks"},
            {"role": MessageRole.ASSISTANT, "additional_kwargs": additional, "blocks": blocks},
        )
        response: ChatResponse = _assemble_response(
            {"message", "raw", "delta", "additional_kwargs"},
            {
                "message": message,
                "raw": chunk,
                "delta": text or "",
                "logprobs": None,
                "additional_kwargs": {"thinking_delta": thought} if thought else {},
            },
        )
        return response

    def _merge(self, fragments: list[dict[str, Any]]) -> None:
        # The calls so far, for the items before the last (an agent shows them as they come); the last item's are
        # the assembled completion's.
        for fragment in fragments:
            slot = self._calls.get(fragment["index"])
            function = fragment["function"]
            if slot is None:
                self._calls[fragment["index"]] = {
                    "id": fragment["id"],
                    "type": fragment["type"],
                    "function": {"name": function["name"], "arguments": function["arguments"]},
                }
                continue
            if fragment["id"]:
                slot["id"] = fragment["id"]
            if function["name"]:
                slot["function"]["name"] = function["name"]
            slot["function"]["arguments"] += function["arguments"]

    def final(self) -> ChatResponse:
        return chat_response(self._accumulator.completion(), delta="")
