"""The adapters' shared output layer: what every framework adapter surfaces from a response, computed once.

This module owns the step between a core result (a ``ChatCompletion``, or a stream of ``ChatCompletionChunk``)
and a framework's types: the response extras every adapter exposes (``response_extras``, ``StreamTail``), the
OpenAI-shaped tool-call dicts (``tool_call_dicts``, ``tool_call_delta_dicts``, ``tool_arguments``), which
chunk of a stream carried what belongs on the last item (``StreamTail``), and how a streamed JSON-mode call is
served (``open_stream``, ``aopen_stream``). Adapters put what it returns into their framework's places
(LangChain: ``response_metadata``; LiteLLM: ``_hidden_params`` and the final chunk's
``provider_specific_fields``); they must not read a response field themselves. It must not import a
framework, send anything but the one call ``open_stream`` is asked for, or validate requests.

Decisions, each made here once (the adapters used to disagree; docs/adapters.md says the same for users):

* **JSON mode and streaming.** Cerebras refuses ``response_format: {"type": "json_object"}`` with
  ``stream: true`` (api-facts "JSON mode and streaming"; the core refuses it before sending). A streamed call
  in JSON mode is served by one non-streamed call whose answer is handed over as chunks, in every adapter
  (LangChain did this; LiteLLM raised ``BadRequestError``). Why: LangChain's standard tests and
  ``with_structured_output(method="json_mode").stream(...)`` stream JSON mode, and a caller who asked for a
  stream wants the answer, not an error about a transport detail; a direct core call still gets the error.
* **Service tier.** ``service_tier`` is the tier that served the request: ``service_tier_used`` when the
  response has it, else ``service_tier`` (api-facts "Service tier in responses": the docs describe
  ``service_tier_used`` for ``auto``, the SDK a ``service_tier``; neither was observed). LiteLLM read only
  ``service_tier``, which for ``auto`` would say "auto" instead of the tier used.
* **Rate limits.** One flat dict: the six documented headers by field name, plus every other
  ``x-ratelimit-*`` header by its name without the prefix, at the same level (LiteLLM's shape). Why: a
  per-minute request limit some keys send is the same kind of fact as the per-day one, and routing code
  (``litellm.router``) reads one dict. LangChain nested the others under ``extra``; that key is kept too.
* **Provider, cost, generation id.** Surfaced whenever the response carries them, on any route (LiteLLM gated
  them on the OpenRouter route; the direct API never sends them, so the response is the one authority).
  ``generation_id`` is the response id when it is an OpenRouter generation id (``types.generation_id_of``, the
  same test as ``ChatCompletion.generation_id``), the id OpenRouter's generation endpoint takes (api-facts
  "OpenRouter monitoring").
* **Citations.** ``annotations``: the message's annotations (OpenRouter's web search sends
  ``url_citation`` items in OpenAI's schema, api-facts "OpenRouter web search"), as wire-shaped dicts; a stream's
  are those its deltas carried for choice 0, appended in order (OpenRouter sends them in a delta near the end).
  LangChain shows them in ``response_metadata`` and as standard citations on the text block; LiteLLM on
  ``message.annotations`` / ``delta.annotations``, where its own stream assembly joins them.
* **Usage details.** The server's detail counts, flat (``cached_tokens``, ``reasoning_tokens``,
  ``accepted_prediction_tokens``, ``rejected_prediction_tokens``, ``image_tokens``) and ``cost``, present
  when the server sent them; the totals stay in each framework's own usage field. The two prediction counts
  and ``cost`` are the names LangChain already used.
* **Logprobs.** ``logprobs`` (and ``reasoning_logprobs``) as the wire's ``{"content": [...]}``, for the
  choice the message is built from; a stream's are joined in order (choice 0, the one a stream's final item
  describes). Frameworks that also carry them natively (LiteLLM's ``choices[].logprobs``) keep doing so.
* **Tool calls.** One OpenAI-shaped dict per call: ``type`` defaults to ``"function"``, missing
  ``arguments`` are ``""``, and gpt-oss's ``{"": {}}`` for a no-argument tool reads ``"{}"`` (api-facts "Tool
  calls in responses"); stream deltas keep ``index`` (the call's, else its position), and ``id``/``name``
  only where the fragment has them (RT-13).
* **Stream tail.** The last chunk that carried ``usage``, ``time_info``, a service tier or ``provider``
  wins, and the finish reason of choice 0 (else any choice) is the stream's: Cerebras puts them on the
  finish chunk (RT-12, RT-13, RT-15), OpenRouter may send usage on a later chunk with no choices
  (api-facts "OpenRouter usage"). Adapters therefore put finish reason, usage and extras on one item after
  the stream ends. ``accumulate`` reads the same tracker, so a stream's extras equal those of its assembled
  completion.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from .types import (
    ChatCompletion,
    ChatCompletionChunk,
    ChoiceDelta,
    ChunkChoice,
    FunctionCall,
    Logprobs,
    RateLimits,
    TimeInfo,
    TokenLogprob,
    ToolCall,
    Usage,
    generation_id_of,
)

if TYPE_CHECKING:
    from ._client import AsyncCerebrasClient, CerebrasClient
    from ._streaming import Stream

__all__ = [
    "EXTRA_KEYS",
    "Assembler",
    "ResponseExtras",
    "StreamTail",
    "WholeStream",
    "annotation_dicts",
    "aopen_stream",
    "completion_as_chunks",
    "has_delta",
    "model_assembler",
    "open_stream",
    "rate_limits_dict",
    "response_extras",
    "streams_as_one_call",
    "tool_arguments",
    "tool_call_delta_dicts",
    "tool_call_dicts",
]


class ResponseExtras(TypedDict, total=False):
    """What every adapter surfaces besides the message, usage totals, model, id and finish reason. A key is
    present only when the response said it."""

    request_id: str
    """``x-request-id`` (else ``inference-id``, else ``x-generation-id``)."""
    system_fingerprint: str
    time_info: dict[str, float]
    """Server timing in seconds: ``queue_time``, ``prompt_time``, ``completion_time``, ``total_time``, ``created``."""
    rate_limits: dict[str, Any]
    """The ``x-ratelimit-*`` headers, flat (see ``rate_limits_dict``)."""
    service_tier: str
    """The tier that served the request (``service_tier_used``, else ``service_tier``)."""
    provider: str
    """Who served it (OpenRouter only)."""
    generation_id: str
    """OpenRouter's generation id (the response id, on responses that name a provider)."""
    cost: float
    """The charge in USD (OpenRouter's ``usage.cost``)."""
    cached_tokens: int
    reasoning_tokens: int
    accepted_prediction_tokens: int
    rejected_prediction_tokens: int
    image_tokens: int
    logprobs: dict[str, Any]
    reasoning_logprobs: dict[str, Any]
    annotations: list[dict[str, Any]]
    """The message's annotations (url citations of OpenRouter's web search), wire-shaped."""


EXTRA_KEYS: tuple[str, ...] = tuple(ResponseExtras.__annotations__)
"""The keys of ``ResponseExtras``, in the order they are written."""

_RATE_FIELDS = tuple(name for name in RateLimits.__dataclass_fields__ if name != "extra")


def rate_limits_dict(limits: RateLimits) -> dict[str, Any]:
    """The rate limits as one flat dict: documented fields by name, other ``x-ratelimit-*`` headers by their name
    without the prefix at the same level, and those again under ``extra`` (LangChain's earlier place for them)."""
    out: dict[str, Any] = {}
    for name in _RATE_FIELDS:
        value = getattr(limits, name)
        if value is not None:
            out[name] = value
    if limits.extra:
        out.update(limits.extra)
        out["extra"] = dict(limits.extra)
    return out


def _extras(
    *,
    response_id: str,
    request_id: str | None,
    rate_limits: RateLimits | None,
    system_fingerprint: str | None,
    time_info: TimeInfo | None,
    service_tier: str | None,
    provider: str | None,
    usage: Usage | None,
    logprobs: Logprobs | None,
    reasoning_logprobs: Logprobs | None,
    annotations: Sequence[Any] | None = None,
) -> ResponseExtras:
    out = ResponseExtras()
    if request_id:
        out["request_id"] = request_id
    if system_fingerprint:
        out["system_fingerprint"] = system_fingerprint
    if time_info is not None:
        out["time_info"] = time_info.to_dict()
    if rate_limits is not None:
        out["rate_limits"] = rate_limits_dict(rate_limits)
    if service_tier:
        out["service_tier"] = service_tier
    if provider:
        out["provider"] = provider
    generation_id = generation_id_of(response_id)
    if generation_id:
        out["generation_id"] = generation_id
    if usage is not None:
        if usage.cost is not None:
            out["cost"] = usage.cost
        prompt = usage.prompt_tokens_details
        if prompt is not None and prompt.cached_tokens is not None:
            out["cached_tokens"] = prompt.cached_tokens
        completion = usage.completion_tokens_details
        if completion is not None:
            if completion.reasoning_tokens is not None:
                out["reasoning_tokens"] = completion.reasoning_tokens
            if completion.accepted_prediction_tokens is not None:
                out["accepted_prediction_tokens"] = completion.accepted_prediction_tokens
            if completion.rejected_prediction_tokens is not None:
                out["rejected_prediction_tokens"] = completion.rejected_prediction_tokens
        images = prompt.image_tokens if prompt is not None and prompt.image_tokens is not None else usage.image_tokens
        if images is not None:
            out["image_tokens"] = images
    if logprobs is not None and logprobs.content is not None:
        out["logprobs"] = logprobs.to_dict()
    if reasoning_logprobs is not None and reasoning_logprobs.content is not None:
        out["reasoning_logprobs"] = reasoning_logprobs.to_dict()
    if annotations:
        out["annotations"] = annotation_dicts(annotations)
    return out


def annotation_dicts(annotations: Sequence[Any] | None) -> list[dict[str, Any]]:
    """Annotations as the wire's dicts (``{"type": "url_citation", "url_citation": {...}}``), typed or not."""
    out: list[dict[str, Any]] = []
    for item in annotations or ():
        if isinstance(item, Mapping):
            out.append(dict(item))
        elif callable(getattr(item, "to_dict", None)):
            out.append(item.to_dict())
    return out


def response_extras(completion: ChatCompletion, index: int = 0) -> ResponseExtras:
    """The extras of a non-streamed completion (``index``: the choice whose logprobs are meant)."""
    choice = next((c for c in completion.choices if c.index == index), None)
    return _extras(
        response_id=completion.id,
        request_id=completion.request_id,
        rate_limits=completion.rate_limits,
        system_fingerprint=completion.system_fingerprint,
        time_info=completion.time_info,
        service_tier=completion.service_tier_used or completion.service_tier,
        provider=completion.provider,
        usage=completion.usage,
        logprobs=choice.logprobs if choice is not None else None,
        reasoning_logprobs=choice.reasoning_logprobs if choice is not None else None,
        annotations=choice.message.annotations if choice is not None else None,
    )


# -- tool calls -------------------------------------------------------------------------------------------------


def _no_arguments_quirk(args: Mapping[str, Any]) -> bool:
    # api-facts "Tool calls in responses": gpt-oss has returned {"": {}} for a no-argument tool.
    return len(args) == 1 and "" in args and args[""] in ({}, None)


def _arguments(raw: str | None) -> str:
    if not raw:
        return ""
    if raw.lstrip().startswith('{""'):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return raw
        if isinstance(parsed, dict) and _no_arguments_quirk(parsed):
            return "{}"
    return raw


def tool_arguments(raw: str | None) -> dict[str, Any]:
    """A complete tool call's arguments as a dict (``{}`` for none, and for gpt-oss's ``{"": {}}``). Raises
    ``ValueError`` when they are not a JSON object."""
    if not raw:
        return {}
    args = json.loads(raw)
    if not isinstance(args, dict):
        raise ValueError(f"tool arguments are not a JSON object: {raw[:100]!r}")
    return {} if _no_arguments_quirk(args) else args


def tool_call_dicts(calls: Sequence[ToolCall] | None) -> list[dict[str, Any]]:
    """A complete message's tool calls, OpenAI-shaped: ``{"id", "type", "function": {"name", "arguments"}}``."""
    out = []
    for call in calls or ():
        function = call.function
        out.append(
            {
                "id": call.id,
                "type": call.type or "function",
                "function": {
                    "name": function.name if function is not None else None,
                    "arguments": _arguments(function.arguments if function is not None else None),
                },
            }
        )
    return out


def tool_call_delta_dicts(calls: Sequence[ToolCall] | None) -> list[dict[str, Any]]:
    """A stream delta's tool-call fragments, OpenAI-shaped with ``index`` (the call's, else its position in the
    delta). ``id`` and ``name`` are None on fragments that do not carry them; ``arguments`` is the fragment as
    sent (a fragment cannot be read on its own)."""
    out = []
    for position, call in enumerate(calls or ()):
        function = call.function
        out.append(
            {
                "index": call.index if call.index is not None else position,
                "id": call.id,
                "type": call.type or "function",
                "function": {
                    "name": function.name if function is not None else None,
                    "arguments": (function.arguments if function is not None else None) or "",
                },
            }
        )
    return out


# -- streams ----------------------------------------------------------------------------------------------------


def has_delta(delta: ChoiceDelta) -> bool:
    """Whether a streamed choice carries anything for the message (role, content, reasoning or tool calls); a
    chunk that only carries a finish reason or usage has nothing and goes to the ``StreamTail`` alone."""
    return delta.content is not None or delta.reasoning is not None or bool(delta.tool_calls) or delta.role is not None


class StreamTail:
    """What a stream says about itself as a whole, gathered chunk by chunk (``observe`` every chunk).

    ``first`` is the first chunk (id, model, fingerprint, rate limits, request id); ``usage``, ``time_info``,
    the service tiers and ``provider`` are the last values any chunk carried; ``finish_reason`` is choice 0's
    (else the last any choice gave). ``extras()`` is then what ``response_extras`` gives for the assembled
    completion. Cheap per chunk: a few attribute reads.
    """

    __slots__ = (
        "_annotations",
        "_finish",
        "_logprobs",
        "_reasoning_logprobs",
        "first",
        "provider",
        "service_tier",
        "service_tier_used",
        "time_info",
        "usage",
    )

    def __init__(self) -> None:
        self.first: ChatCompletionChunk | None = None
        self.usage: Usage | None = None
        self.time_info: TimeInfo | None = None
        self.service_tier: str | None = None
        self.service_tier_used: str | None = None
        self.provider: str | None = None
        self._finish: dict[int, str] = {}
        self._logprobs: list[TokenLogprob] | None = None
        self._reasoning_logprobs: list[TokenLogprob] | None = None
        self._annotations: list[Any] | None = None

    def observe(self, chunk: ChatCompletionChunk) -> None:
        if self.first is None:
            self.first = chunk
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.time_info is not None:
            self.time_info = chunk.time_info
        if chunk.service_tier is not None:
            self.service_tier = chunk.service_tier
        if chunk.service_tier_used is not None:
            self.service_tier_used = chunk.service_tier_used
        if chunk.provider is not None:
            self.provider = chunk.provider
        for choice in chunk.choices:
            if choice.finish_reason is not None:
                self._finish[choice.index] = choice.finish_reason
            if choice.index == 0:
                logprobs = choice.logprobs
                if logprobs is not None and logprobs.content:
                    if self._logprobs is None:
                        self._logprobs = []
                    self._logprobs.extend(logprobs.content)
                logprobs = choice.reasoning_logprobs
                if logprobs is not None and logprobs.content:
                    if self._reasoning_logprobs is None:
                        self._reasoning_logprobs = []
                    self._reasoning_logprobs.extend(logprobs.content)
                annotations = choice.delta.annotations
                if annotations:
                    if self._annotations is None:
                        self._annotations = []
                    self._annotations.extend(annotations)

    @property
    def finish_reason(self) -> str | None:
        finish = self._finish
        if not finish:
            return None
        return finish.get(0) or next(reversed(finish.values()))

    @property
    def id(self) -> str:
        return self.first.id if self.first is not None else ""

    @property
    def model(self) -> str:
        return self.first.model if self.first is not None else ""

    def extras(self) -> ResponseExtras:
        first = self.first
        return _extras(
            response_id=first.id if first is not None else "",
            request_id=first.request_id if first is not None else None,
            rate_limits=first.rate_limits if first is not None else None,
            system_fingerprint=first.system_fingerprint if first is not None else None,
            time_info=self.time_info,
            service_tier=self.service_tier_used or self.service_tier,
            provider=self.provider,
            usage=self.usage,
            logprobs=Logprobs(content=self._logprobs) if self._logprobs is not None else None,
            reasoning_logprobs=(
                Logprobs(content=self._reasoning_logprobs) if self._reasoning_logprobs is not None else None
            ),
            annotations=self._annotations,
        )


# -- JSON mode and streaming ------------------------------------------------------------------------------------


def streams_as_one_call(options: Mapping[str, Any]) -> bool:
    """Whether a streamed call with these options is served by one non-streamed call: JSON mode, which Cerebras
    cannot stream (api-facts "JSON mode and streaming")."""
    fmt = options.get("response_format")
    return isinstance(fmt, Mapping) and fmt.get("type") == "json_object"


def completion_as_chunks(completion: ChatCompletion) -> list[ChatCompletionChunk]:
    """A non-streamed completion as the stream that would have carried it: one chunk with every choice's whole
    message as its delta, the finish reasons and all the response's fields (``accumulate`` gives it back)."""
    choices = []
    for choice in completion.choices:
        message = choice.message
        calls = message.tool_calls
        delta = ChoiceDelta(
            role=message.role,
            content=message.content,
            reasoning=message.reasoning,
            tool_calls=(
                [
                    ToolCall(
                        index=call.index if call.index is not None else position,
                        id=call.id,
                        type=call.type,
                        function=call.function if call.function is not None else FunctionCall(),
                    )
                    for position, call in enumerate(calls)
                ]
                if calls
                else None
            ),
            reasoning_details=message.reasoning_details,
            annotations=message.annotations,
        )
        choices.append(
            ChunkChoice(
                index=choice.index,
                delta=delta,
                finish_reason=choice.finish_reason,
                logprobs=choice.logprobs,
                reasoning_logprobs=choice.reasoning_logprobs,
            )
        )
    chunk = ChatCompletionChunk(**{name: getattr(completion, name) for name in _RESPONSE_FIELDS}, choices=choices)
    chunk.attach_http(completion.rate_limits, completion.request_id, completion.headers)
    return [chunk]


# The response-level wire fields a completion and a chunk share (id, model, usage, time_info, tiers, provider, …).
_RESPONSE_FIELDS = tuple(
    name
    for name, info in ChatCompletion.model_fields.items()
    if name in ChatCompletionChunk.model_fields and not info.exclude and name not in ("object", "choices")
)


class WholeStream:
    """A non-streamed answer served where a ``Stream`` is expected: iterate it for its chunks; ``close`` does
    nothing (the answer is already read)."""

    __slots__ = ("completion",)

    def __init__(self, completion: ChatCompletion) -> None:
        self.completion = completion

    def __iter__(self) -> Iterator[ChatCompletionChunk]:
        return iter(completion_as_chunks(self.completion))

    def close(self) -> None:
        return None


def _unstreamed(options: Mapping[str, Any]) -> dict[str, Any]:
    """A stream's options for the one non-streamed call that serves it: the stream-only client settings
    (``coalesce``, ``coalesce_ms``: nothing to merge in one answer) are left out."""
    return {name: value for name, value in options.items() if name not in ("coalesce", "coalesce_ms")}


def open_stream(
    client: CerebrasClient, *, model: str, messages: Any, options: Mapping[str, Any]
) -> Stream | WholeStream:
    """Send a streamed call now: the core's ``Stream``, or for JSON mode (``streams_as_one_call``) the one
    non-streamed answer as a ``WholeStream``. Errors before the first byte are raised here."""
    completions = client.chat.completions
    if streams_as_one_call(options):
        return WholeStream(completions.create(model=model, messages=messages, **_unstreamed(options)))
    stream: Stream = completions.create(model=model, messages=messages, stream=True, **options)
    return stream


async def aopen_stream(
    client: AsyncCerebrasClient, *, model: str, messages: Any, options: Mapping[str, Any]
) -> AsyncGenerator[ChatCompletionChunk, None]:
    """The async ``open_stream``, as an async generator (the call is sent on the first ``__anext__``; ``aclose``
    closes the stream)."""
    completions = client.chat.completions
    if streams_as_one_call(options):
        answer = await completions.create(model=model, messages=messages, **_unstreamed(options))
        for chunk in completion_as_chunks(answer):
            yield chunk
        return
    stream = await completions.create(model=model, messages=messages, stream=True, **options)
    try:
        async for chunk in stream:
            yield chunk
    finally:
        await stream.close()


# -- building framework objects per token ---------------------------------------------------------------------
# Building a framework's pydantic message through validation (or even ``model_construct``, which looks up every
# field's default) costs several µs, and a stream builds one or more per token: most of an adapter's own time per
# token. Where every value is already what validation would produce (strings, fresh dicts, objects of the field's
# type), an adapter assembles the object the way ``model_construct`` does, without the lookups: ~0.3 µs. The
# adapters' tests check that what is assembled equals the validated construction, so a change in the framework or
# pydantic shows up as a failing test, not a wrong object.

Assembler = Callable[[set[str], dict[str, Any]], Any]
"""``assemble(fields_set, values)``: an instance whose ``__dict__`` is ``values`` (every field, in order)."""

_new = object.__new__
_set = object.__setattr__


def model_assembler(cls: type[Any]) -> Assembler:
    """An ``Assembler`` for the pydantic model ``cls`` (``model_construct`` itself for a model with private
    attributes, which need their defaults set)."""
    if cls.__private_attributes__:  # pragma: no cover - not the case for the framework versions supported
        return lambda fields_set, values: cls.model_construct(fields_set, **values)
    extra_is_dict = cls.model_config.get("extra") == "allow"

    def assemble(fields_set: set[str], values: dict[str, Any]) -> Any:
        obj = _new(cls)
        _set(obj, "__dict__", values)
        _set(obj, "__pydantic_fields_set__", fields_set)
        _set(obj, "__pydantic_extra__", {} if extra_is_dict else None)
        _set(obj, "__pydantic_private__", None)
        return obj

    return assemble
