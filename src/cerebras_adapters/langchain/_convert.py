"""Converters between LangChain messages and the Cerebras wire, and back.

This module only translates: it holds no HTTP, no validation rules and no model knowledge. Where earlier
reasoning must go when a conversation is sent back is the core's rule (``cerebras_adapters.replay_reasoning``);
this module only collects the reasoning from LangChain's two places for it (``additional_kwargs
["reasoning_content"]`` and ``reasoning`` content blocks) and hands it to that rule.

What a response surfaces besides the message is the shared output layer's (``cerebras_adapters._output``):
``response_metadata`` is LangChain's ``model_provider``/``model_name``/``id``/``finish_reason`` plus the layer's
extras, tool calls come from the layer's dicts, and a stream's finish reason, usage and extras go on one last
chunk from the layer's ``StreamTail`` (``StreamTranslator``). No response field is read here. The layer's
``annotations`` (OpenRouter's web-search citations) are in ``response_metadata`` and, through this module's
content translator, standard ``Citation`` annotations on the text block of ``content_blocks``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata, add_usage
from langchain_core.messages.tool import ToolCall, ToolCallChunk, invalid_tool_call, tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk

from .. import replay_reasoning
from .._output import (
    ResponseExtras,
    StreamTail,
    has_delta,
    model_assembler,
    response_extras,
    tool_arguments,
    tool_call_delta_dicts,
    tool_call_dicts,
)
from ..errors import RequestValidationError
from ..routes import CerebrasRoute, note_automatic_caching
from ..types import ChatCompletion, ChatCompletionChunk, Usage

PROVIDER = "cerebras"


def messages_to_wire(model: str, messages: Sequence[BaseMessage], route: str) -> list[dict[str, Any]]:
    """LangChain messages → Cerebras chat messages, with earlier reasoning in the form ``model`` accepts."""
    keep_markers = route != CerebrasRoute.name
    wire = [_message_to_wire(m, i, keep_markers) for i, m in enumerate(messages)]
    if any("reasoning_content" in m for m in wire):
        wire = replay_reasoning(model, wire, route=route)
    return wire


def _message_to_wire(message: BaseMessage, index: int, keep_markers: bool) -> dict[str, Any]:
    out: dict[str, Any]
    if isinstance(message, HumanMessage):
        out = {"role": "user", "content": _content(message.content, index, keep_markers)}
    elif isinstance(message, AIMessage):
        out = _assistant_to_wire(message, index)
    elif isinstance(message, SystemMessage):
        role = "developer" if message.additional_kwargs.get("__openai_role__") == "developer" else "system"
        out = {"role": role, "content": _content(message.content, index, keep_markers)}
    elif isinstance(message, ToolMessage):
        out = {"role": "tool", "tool_call_id": message.tool_call_id, "content": _tool_content(message.content)}
    elif isinstance(message, ChatMessage):
        out = {"role": message.role, "content": _content(message.content, index, keep_markers)}
    else:
        raise RequestValidationError(
            f"messages.{index}: {type(message).__name__} has no Cerebras equivalent.",
            param=f"messages.{index}",
            fix="use SystemMessage, HumanMessage, AIMessage or ToolMessage",
        )
    if message.name and not isinstance(message, ToolMessage):
        out["name"] = message.name
    return out


def _assistant_to_wire(message: AIMessage, index: int) -> dict[str, Any]:
    reasoning = message.additional_kwargs.get("reasoning_content")
    text_parts: list[str] = []
    if isinstance(message.content, str):
        text_parts.append(message.content)
    else:
        for block in message.content:
            if isinstance(block, str):
                text_parts.append(block)
            elif isinstance(block, Mapping):
                kind = block.get("type")
                if kind == "text":
                    text_parts.append(str(block.get("text", "")))
                elif kind == "reasoning" and not reasoning:
                    reasoning = block.get("reasoning")
                elif kind == "thinking" and not reasoning:  # Anthropic-format reasoning
                    reasoning = block.get("thinking")
                # tool_call / tool_use blocks are sent from message.tool_calls; other blocks carry nothing to send
    out: dict[str, Any] = {"role": "assistant", "content": "".join(text_parts)}
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": json.dumps(call["args"], ensure_ascii=False)},
            }
            for call in message.tool_calls
        ]
        if not out["content"]:
            del out["content"]
    if reasoning:
        out["reasoning_content"] = reasoning
    return out


def _content(
    content: str | list[str | dict[Any, Any]], index: int, keep_markers: bool
) -> str | list[dict[str, Any]]:
    """Content blocks → wire content. OpenRouter's prompt-caching marker (``cache_control`` on a block, the form
    LangChain users write for Anthropic too) is kept where the route takes it (``keep_markers``: OpenRouter). The
    Cerebras API caches automatically and rejects the field, so there it is left out, with the core's one-time
    note, and the text-only content stays the plain string every model takes (docs/api-facts.md#prompt-caching)."""
    if isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for block in content:
        if isinstance(block, str):
            parts.append({"type": "text", "text": block})
            continue
        kind = block.get("type")
        part: dict[str, Any]
        if kind == "text":
            part = {"type": "text", "text": block.get("text", "")}
        elif kind == "image_url":
            part = {"type": "image_url", "image_url": block["image_url"]}
        elif kind == "image":
            part = {"type": "image_url", "image_url": {"url": _image_url(block, index)}}
        elif kind in ("reasoning", "thinking", "tool_call", "tool_use"):
            continue
        else:
            raise RequestValidationError(
                f"messages.{index}: content blocks of type {kind!r} are not supported by Cerebras.",
                param=f"messages.{index}.content",
                fix="send text, or images as base64 on a vision model",
            )
        if _CACHE_CONTROL in block:
            if keep_markers:
                part[_CACHE_CONTROL] = block[_CACHE_CONTROL]
            else:
                note_automatic_caching()
        parts.append(part)
    if all(p["type"] == "text" and _CACHE_CONTROL not in p for p in parts):
        return "".join(p["text"] for p in parts)  # plain text is the form every model takes
    return parts


_CACHE_CONTROL = "cache_control"


def _image_url(block: Mapping[str, Any], index: int) -> str:
    data = block.get("base64") or (block.get("data") if block.get("source_type") == "base64" else None)
    if data:
        return f"data:{block.get('mime_type') or 'image/png'};base64,{data}"
    source = block.get("source")  # Anthropic format: {"type": "base64", "media_type": ..., "data": ...}
    if isinstance(source, Mapping):
        if source.get("type") == "base64" and source.get("data"):
            return f"data:{source.get('media_type') or 'image/png'};base64,{source['data']}"
        if source.get("type") == "url" and isinstance(source.get("url"), str):
            return str(source["url"])
    url = block.get("url")
    if isinstance(url, str):
        return url  # the core refuses non-data URLs with a clear fix
    raise RequestValidationError(
        f"messages.{index}: image block without base64 data or url.",
        param=f"messages.{index}.content",
        fix="pass base64 image data",
    )


def _tool_content(content: str | list[str | dict[Any, Any]]) -> str:
    # Tool results go as plain text: list content was refused by gpt-oss ("Array input not supported",
    # docs/api-facts.md#tool-message-content).
    if isinstance(content, str):
        return content
    texts = []
    for block in content:
        if isinstance(block, str):
            texts.append(block)
        elif block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        else:
            texts.append(json.dumps(block, ensure_ascii=False))
    return "".join(texts)


def usage_metadata(usage: Usage | None) -> UsageMetadata | None:
    if usage is None:
        return None
    # The detail keys are NotRequired; mypy at python_version 3.10 reads langchain-core's typing.NotRequired as
    # required.
    meta: UsageMetadata = {  # type: ignore[typeddict-item]
        "input_tokens": usage.prompt_tokens,
        "output_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.prompt_tokens_details is not None:
        meta["input_token_details"] = InputTokenDetails(cache_read=usage.cached_tokens)
    if usage.completion_tokens_details is not None:
        meta["output_token_details"] = OutputTokenDetails(reasoning=usage.reasoning_tokens)
    return meta


def usage_of(usage: Usage | None, spent: Usage | None) -> UsageMetadata | None:
    """``usage_metadata`` of a response, plus that of an earlier request made for the same call (``spent``)."""
    if spent is None:
        return usage_metadata(usage)
    total: UsageMetadata = add_usage(usage_metadata(usage), usage_metadata(spent))
    return total


def response_metadata(
    model: str, response_id: str, finish_reason: str | None, extras: ResponseExtras
) -> dict[str, Any]:
    """LangChain's keys (``model_provider``, ``model_name``, ``id``, ``finish_reason``) and the layer's extras."""
    meta: dict[str, Any] = {"model_provider": PROVIDER, "model_name": model, "id": response_id}
    if finish_reason is not None:
        meta["finish_reason"] = finish_reason
    meta.update(extras)
    return meta


def completion_to_message(result: ChatCompletion, index: int = 0, spent: Usage | None = None) -> AIMessage:
    choice = result.choices[index]
    message = choice.message
    additional: dict[str, Any] = {}
    if message.reasoning:
        additional["reasoning_content"] = message.reasoning
    tool_calls: list[ToolCall] = []
    invalid = []
    for call in tool_call_dicts(message.tool_calls):
        name = call["function"]["name"]
        raw = call["function"]["arguments"]
        try:
            tool_calls.append(ToolCall(name=name or "", args=tool_arguments(raw), id=call["id"], type="tool_call"))
        except ValueError as exc:
            invalid.append(invalid_tool_call(name=name, args=raw, id=call["id"], error=str(exc)))
    # Assembled without validation, like the streamed deltas below: every value is already what AIMessage's
    # validators would produce (a string, fresh dicts, ToolCall dicts built by langchain-core's own helpers).
    built: AIMessage = _assemble_ai_message(
        {"content", "additional_kwargs", "tool_calls", "invalid_tool_calls", "usage_metadata", "response_metadata",
         "id"},
        {
            "content": message.content or "",
            "additional_kwargs": additional,
            "response_metadata": response_metadata(
                result.model, result.id, choice.finish_reason, response_extras(result, choice.index)
            ),
            "type": "ai",
            "name": None,
            "id": result.id or None,
            "tool_calls": tool_calls,
            "invalid_tool_calls": invalid,
            "usage_metadata": usage_of(result.usage, spent),
        },
    )
    return built


def generation_info(finish_reason: str | None, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """A generation's ``generation_info``: the finish reason, and the log-probabilities where the response has
    them (where langchain-openai puts them too; ``response_metadata`` has them as well)."""
    info: dict[str, Any] = {"finish_reason": finish_reason}
    logprobs = metadata.get("logprobs")
    if logprobs is not None:
        info["logprobs"] = logprobs
    return info


def chat_generation(message: AIMessage, finish_reason: str | None) -> ChatGeneration:
    """``ChatGeneration(message=message, generation_info={"finish_reason": ..., "logprobs"?: ...})``, without
    re-validation."""
    generation: ChatGeneration = _assemble_chat_generation(
        {"message", "generation_info", "text"},
        {"text": message.text, "generation_info": generation_info(finish_reason, message.response_metadata),
         "type": "ChatGeneration", "message": message},
    )
    return generation


# -- the per-token fast path ---------------------------------------------------------------------------------
# Building an AIMessageChunk and a ChatGenerationChunk through pydantic validation costs ~8 µs per token, half of
# a streamed token's time in ChatCerebras (benchmarks/langchain_chat.py). For a plain text/reasoning delta there
# is nothing for validation to check or derive (strings and fresh dicts, no tool calls), so the two objects are
# assembled by the shared layer's model_assembler (what pydantic's model_construct() does, without its per-field
# default lookups): ~1.7 µs. tests/langchain/test_chat_cerebras.py checks the result equals the validated
# construction (dump, fields set, merging), so a change in langchain-core or pydantic shows up as a failing test,
# not a wrong message.

_assemble_message = model_assembler(AIMessageChunk)
_assemble_generation = model_assembler(ChatGenerationChunk)
_assemble_ai_message = model_assembler(AIMessage)
_assemble_chat_generation = model_assembler(ChatGeneration)


def _delta_chunk(content: str, additional: dict[str, Any], message_id: str | None) -> AIMessageChunk:
    """``AIMessageChunk(content=..., additional_kwargs=..., response_metadata=..., id=...)``, fast."""
    message: AIMessageChunk = _assemble_message(
        {"content", "additional_kwargs", "response_metadata", "id"},
        {
            "content": content,
            "additional_kwargs": additional,
            "response_metadata": {"model_provider": PROVIDER},
            "type": "AIMessageChunk",
            "name": None,
            "id": message_id,
            "tool_calls": [],
            "invalid_tool_calls": [],
            "usage_metadata": None,
            "tool_call_chunks": [],
            "chunk_position": None,
        },
    )
    return message


def generation_chunk(message: AIMessageChunk) -> ChatGenerationChunk:
    """``ChatGenerationChunk(message=message)``, fast (``text`` is what its validator would set)."""
    generation: ChatGenerationChunk = _assemble_generation(
        {"message", "text"},
        {"text": message.text, "generation_info": None, "type": "ChatGenerationChunk", "message": message},
    )
    return generation


class StreamTranslator:
    """Core chunks in, ``ChatGenerationChunk``s out: one per chunk that carries a delta of choice 0 (kept lean:
    it runs once per token), then ``final()``, the one ``chunk_position="last"`` chunk with the finish reason,
    usage and response metadata from the layer's ``StreamTail``. Holding those to the end is what makes
    OpenRouter's usage chunk after the finish chunk land on the same chunk as the rest, and keeps every
    ``response_metadata`` key on one chunk (LangChain concatenates repeated string values when it merges)."""

    __slots__ = ("spent", "tail")

    def __init__(self, spent: Usage | None = None) -> None:
        self.tail = StreamTail()
        self.spent = spent  # usage of an earlier request made for the same call, added to the stream's

    def translate(self, chunk: ChatCompletionChunk) -> ChatGenerationChunk | None:
        self.tail.observe(chunk)
        choices = chunk.choices
        if not choices:
            return None
        delta = choices[0].delta
        if not has_delta(delta):
            return None
        additional = {"reasoning_content": delta.reasoning} if delta.reasoning else {}
        if not delta.tool_calls:
            return generation_chunk(_delta_chunk(delta.content or "", additional, chunk.id or None))
        calls: list[ToolCallChunk] = [
            tool_call_chunk(
                name=call["function"]["name"], args=call["function"]["arguments"], id=call["id"], index=call["index"]
            )
            for call in tool_call_delta_dicts(delta.tool_calls)
        ]
        message = AIMessageChunk(
            content=delta.content or "",
            additional_kwargs=additional,
            tool_call_chunks=calls,
            response_metadata={"model_provider": PROVIDER},
            id=chunk.id or None,
        )
        return generation_chunk(message)

    def final(self) -> ChatGenerationChunk:
        tail = self.tail
        metadata = response_metadata(tail.model, tail.id, tail.finish_reason, tail.extras())
        message = AIMessageChunk(
            content="",
            usage_metadata=usage_of(tail.usage, self.spent),
            response_metadata=metadata,
            id=tail.id or None,
            chunk_position="last",
        )
        return ChatGenerationChunk(message=message, generation_info=generation_info(tail.finish_reason, metadata))


# -- standard content blocks ----------------------------------------------------------------------------------
# langchain-core turns a message into standard blocks through the translator registered for its
# response_metadata["model_provider"]; integrations outside langchain-core register their own. Streamed blocks
# carry an "index" so that langchain-core's merge joins fragments of the same block: the "lc_" string indices
# keep reasoning and text apart from tool calls, whose integer index comes from the wire.


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(
        b.get("text", "") if isinstance(b, Mapping) and b.get("type") == "text" else (b if isinstance(b, str) else "")
        for b in content
    )


def _citation(annotation: Mapping[str, Any]) -> dict[str, Any]:
    """One wire annotation as langchain-core's standard annotation: a ``url_citation`` becomes a ``Citation``
    (``url``, ``title``, ``start_index``, ``end_index``, and the cited excerpt OpenRouter sends as ``content``
    as ``cited_text``; other fields under ``extras``), as langchain-core's OpenAI translator does for OpenAI's
    url citations; any other type a ``non_standard_annotation`` holding it."""
    cited = annotation.get("url_citation")
    if annotation.get("type") != "url_citation" or not isinstance(cited, Mapping):
        return {"type": "non_standard_annotation", "value": dict(annotation)}
    out: dict[str, Any] = {"type": "citation"}
    extras: dict[str, Any] = {}
    for name, value in cited.items():
        if name in _CITATION_FIELDS:
            out[name] = value
        elif name == "content":
            out["cited_text"] = value
        else:
            extras[name] = value
    if extras:
        out["extras"] = extras
    return out


_CITATION_FIELDS = frozenset({"url", "title", "start_index", "end_index"})


def _text_block(text: str, annotations: Any, index: str | None = None) -> dict[str, Any] | None:
    """The text block, with the response's annotations as standard citations (None when neither is there)."""
    if not text and not annotations:
        return None
    block: dict[str, Any] = {"type": "text", "text": text}
    if annotations:
        block["annotations"] = [_citation(a) for a in annotations if isinstance(a, Mapping)]
    if index is not None:
        block["index"] = index
    return block


def content_blocks(message: AIMessage) -> list[Any]:
    blocks: list[Any] = []
    reasoning = message.additional_kwargs.get("reasoning_content")
    if reasoning:
        blocks.append({"type": "reasoning", "reasoning": reasoning})
    text = _text_block(_text_of(message.content), message.response_metadata.get("annotations"))
    if text is not None:
        blocks.append(text)
    for call in message.tool_calls:
        blocks.append({"type": "tool_call", "id": call.get("id"), "name": call["name"], "args": call["args"]})
    for bad in message.invalid_tool_calls:
        blocks.append(
            {
                "type": "invalid_tool_call",
                "id": bad.get("id"),
                "name": bad.get("name"),
                "args": bad.get("args"),
                "error": bad.get("error"),
            }
        )
    return blocks


def chunk_content_blocks(chunk: AIMessageChunk) -> list[Any]:
    blocks: list[Any] = []
    reasoning = chunk.additional_kwargs.get("reasoning_content")
    if reasoning:
        blocks.append({"type": "reasoning", "reasoning": reasoning, "index": "lc_reasoning"})
    text = _text_block(_text_of(chunk.content), chunk.response_metadata.get("annotations"), "lc_text")
    if text is not None:
        blocks.append(text)
    if chunk.chunk_position == "last":
        for call in chunk.tool_calls:
            blocks.append({"type": "tool_call", "id": call.get("id"), "name": call["name"], "args": call["args"]})
    else:
        for part in chunk.tool_call_chunks:
            block: dict[str, Any] = {
                "type": "tool_call_chunk",
                "id": part.get("id"),
                "name": part.get("name"),
                "args": part.get("args"),
            }
            if part.get("index") is not None:
                block["index"] = part["index"]
            blocks.append(block)
    return blocks


def register_content_translator() -> None:
    try:
        from langchain_core.messages.block_translators import register_translator
    except ImportError:  # older langchain-core: its best-effort parsing still finds reasoning_content
        return
    register_translator(PROVIDER, content_blocks, chunk_content_blocks)
