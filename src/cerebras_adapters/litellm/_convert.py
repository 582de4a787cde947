"""Translation between LiteLLM's call shape and the core's, in both directions.

This module only translates. It holds no HTTP, no validation rules and no model knowledge: options are
validated by the core (``cerebras_adapters._request``), where earlier reasoning goes is the core's rule
(``cerebras_adapters.replay_reasoning``), and SSE is parsed by the core's ``Stream``. What it does:

* **Requests.** LiteLLM hands a ``CustomLLM`` its ``optional_params`` (OpenAI params it let through, plus every
  non-OpenAI kwarg as a top-level key, litellm.md §2.1) and ``litellm_params``. ``split_options`` sorts them
  into the route, the client settings and the core's options; Cerebras options sent inside ``extra_body``
  (LiteLLM's escape hatch) are lifted out so the core validates them like any other. ``messages_to_wire``
  turns LiteLLM ``Message`` objects and dicts into wire messages and hands assistant reasoning (LiteLLM's
  ``reasoning_content``, ``provider_specific_fields.reasoning``, ``thinking_blocks``) to ``replay_reasoning``.
* **Responses.** ``fill_model_response`` writes a core ``ChatCompletion`` into LiteLLM's ``ModelResponse``:
  ``message.reasoning`` becomes ``reasoning_content``, usage keeps its token details, and ``time_info``, rate
  limits, request id and OpenRouter's serving provider and cost go to ``_hidden_params`` (see
  ``hidden_params``).
* **Streams.** ``StreamTranslator`` turns core chunks into what LiteLLM's ``CustomStreamWrapper`` keeps intact
  (litellm.md §2.1, "mixed" pattern): one ``ModelResponseStream`` per delta (content, ``reasoning_content``,
  tool calls), then a single final ``GenericStreamingChunk`` dict carrying ``finish_reason``, the real usage
  and, as provider-specific fields, ``time_info`` and the rest. A ``ModelResponseStream`` carrying usage
  would have its usage thrown away and replaced by LiteLLM's own token estimate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from litellm.types.utils import (
    Choices,
    Delta,
    GenericStreamingChunk,
    Message,
    ModelResponse,
    ModelResponseStream,
    StreamingChoices,
    Usage,
)

from ..catalog import Catalog
from ..options import OPTION_NAMES
from ..reasoning import replay_reasoning
from ..types import ChatCompletion, ChatCompletionChunk, RateLimits, TimeInfo, ToolCall
from ..types import Usage as CoreUsage

__all__ = [
    "CLIENT_SETTINGS",
    "ClientSettings",
    "StreamTranslator",
    "fill_model_response",
    "hidden_params",
    "messages_to_wire",
    "openai_rate_limit_headers",
    "split_options",
]

# optional_params keys that configure the client or the call rather than the request body.
CLIENT_SETTINGS = frozenset({"route", "max_retries", "stream", "stream_options", "extra_body", "drop_params"})
# Assistant-message keys LiteLLM's ``Message`` carries that are never sent as such: reasoning goes through
# ``replay_reasoning``, the rest are response-only (``annotations``, ``audio``, ``images``) or empty.
_ASSISTANT_RESPONSE_ONLY = (
    "provider_specific_fields",
    "thinking_blocks",
    "reasoning_items",
    "annotations",
    "audio",
    "images",
    "function_call",
)
_REASONING_KEYS = ("reasoning_content", "reasoning", "thinking")


@dataclasses.dataclass(frozen=True)
class ClientSettings:
    """What a core client is built from (the cache key of the provider's clients)."""

    route: Any
    api_key: str | None
    base_url: str | None
    max_retries: int | None
    drop_params: bool


def split_options(
    optional_params: Mapping[str, Any],
    litellm_params: Mapping[str, Any] | None,
    *,
    api_key: str | None,
    api_base: str | None,
    stream: bool,
) -> tuple[ClientSettings, dict[str, Any]]:
    """``(client settings, core options)`` for one call.

    ``max_retries`` and ``drop_params`` are read from the call, then the deployment's ``litellm_params``, then
    ``litellm.drop_params`` (the caller passes that in through ``litellm_params`` when set globally).
    ``stream_options`` is sent only with ``stream=True`` (it means nothing, and may be refused, otherwise).
    """
    lp = litellm_params or {}
    options: dict[str, Any] = {}
    for name, value in optional_params.items():
        if name in CLIENT_SETTINGS or value is None:
            continue
        options[name] = value
    extra_body = optional_params.get("extra_body")
    if extra_body:
        rest: dict[str, Any] = {}
        for name, value in extra_body.items():
            # LiteLLM users send options its validation refuses through extra_body; the core validates them.
            if name in OPTION_NAMES and name not in ("extra_body", "extra_headers", "timeout"):
                options.setdefault(name, value)
            else:
                rest[name] = value
        if rest:
            options["extra_body"] = rest
    if stream and optional_params.get("stream_options"):
        options["stream_options"] = optional_params["stream_options"]
    version = _api_version(lp.get("api_version"))
    if version is not None and "api_version" not in options:
        options["api_version"] = version
    max_retries = optional_params.get("max_retries", lp.get("max_retries"))
    drop = optional_params.get("drop_params", lp.get("drop_params"))
    settings = ClientSettings(
        route=optional_params.get("route") or lp.get("route") or "cerebras",
        api_key=api_key or None,
        base_url=api_base or None,
        max_retries=int(max_retries) if max_retries is not None else None,
        drop_params=_truthy(drop),
    )
    return settings, options


def _api_version(value: Any) -> int | None:
    """LiteLLM keeps ``api_version`` in ``litellm_params`` (it is Azure's API-version string there); for
    Cerebras it is the ``X-Cerebras-Version-Patch`` number. Anything that is not a number (e.g. a global Azure
    ``litellm.api_version`` date) is not meant for this provider and is left out."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):  # the proxy's config and DB deployments pass "true" as a string
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def messages_to_wire(model: str, messages: Iterable[Any], route: str, catalog: Catalog) -> list[dict[str, Any]]:
    """LiteLLM messages (dicts or ``Message`` objects) → wire messages, reasoning in the form ``model`` takes."""
    wire: list[dict[str, Any]] = []
    carries_reasoning = False
    for message in messages:
        if isinstance(message, Mapping):
            msg = {k: v for k, v in message.items() if v is not None}
        else:  # a LiteLLM Message (or any pydantic model) appended straight from a response
            msg = {k: v for k, v in message.model_dump().items() if v is not None}
        if msg.get("role") == "assistant":
            carries_reasoning = _assistant_to_wire(msg) or carries_reasoning
        wire.append(msg)
    if carries_reasoning:
        wire = replay_reasoning(model, wire, route=route, catalog=catalog)
    return wire


def _assistant_to_wire(msg: dict[str, Any]) -> bool:
    """Normalise an assistant message in place; True when it carries earlier reasoning."""
    reasoning = next((msg[k] for k in _REASONING_KEYS if msg.get(k)), None)
    fields = msg.get("provider_specific_fields")
    if not reasoning and isinstance(fields, Mapping):
        reasoning = fields.get("reasoning") or fields.get("reasoning_content")
    blocks = msg.get("thinking_blocks")
    if not reasoning and blocks:
        reasoning = "".join(str(b.get("thinking", "")) for b in blocks if isinstance(b, Mapping)) or None
    for key in _ASSISTANT_RESPONSE_ONLY:
        msg.pop(key, None)
    for key in _REASONING_KEYS:
        msg.pop(key, None)
    calls = msg.get("tool_calls")
    if calls is not None:
        if calls:
            msg["tool_calls"] = [_tool_call_to_wire(call) for call in calls]
        else:
            del msg["tool_calls"]
    if reasoning:
        msg["reasoning_content"] = reasoning  # replay_reasoning moves it to where the model takes it
        return True
    return False


def _tool_call_to_wire(call: Any) -> dict[str, Any]:
    if not isinstance(call, Mapping):
        call = call.model_dump()
    function = call.get("function") or {}
    if not isinstance(function, Mapping):
        function = function.model_dump()
    return {
        "id": call.get("id"),
        "type": call.get("type") or "function",
        "function": {"name": function.get("name"), "arguments": function.get("arguments") or ""},
    }


# -- responses ----------------------------------------------------------------------------------------------


def openai_rate_limit_headers(limits: RateLimits | None) -> dict[str, str]:
    """Cerebras's ``x-ratelimit-*-requests-day`` / ``-tokens-minute`` (cerebras-api.md §4.3) under the OpenAI
    names LiteLLM reads (``x-ratelimit-remaining-requests`` / ``-tokens``, ``types/utils.py``
    ``OPENAI_RESPONSE_HEADERS``). Resets are given in seconds with an ``s`` suffix, as OpenAI writes them."""
    if limits is None:
        return {}
    out: dict[str, str] = {}
    pairs = (
        ("x-ratelimit-limit-requests", limits.limit_requests_day),
        ("x-ratelimit-remaining-requests", limits.remaining_requests_day),
        ("x-ratelimit-limit-tokens", limits.limit_tokens_minute),
        ("x-ratelimit-remaining-tokens", limits.remaining_tokens_minute),
    )
    for name, value in pairs:
        if value is not None:
            out[name] = str(value)
    if limits.reset_requests_day is not None:
        out["x-ratelimit-reset-requests"] = f"{limits.reset_requests_day:g}s"
    if limits.reset_tokens_minute is not None:
        out["x-ratelimit-reset-tokens"] = f"{limits.reset_tokens_minute:g}s"
    return out


def hidden_params(
    headers: Mapping[str, str] | None,
    rate_limits: RateLimits | None,
    request_id: str | None,
    *,
    time_info: TimeInfo | None = None,
    provider: str | None = None,
    cost: float | None = None,
) -> dict[str, Any]:
    """What goes into ``_hidden_params``: every response header as ``llm_provider-<name>`` plus the OpenAI-style
    rate-limit headers (``additional_headers``, which the proxy returns to its clients), and the parsed
    ``rate_limits``, ``request_id``, ``time_info``, OpenRouter's serving ``upstream_provider`` and its cost
    (as ``llm_provider-x-litellm-response-cost``, which LiteLLM's cost calculator prefers to the price map)."""
    additional: dict[str, Any] = {}
    if headers is not None:
        multi_items = getattr(headers, "multi_items", None)
        for name, value in multi_items() if multi_items is not None else headers.items():
            additional[f"llm_provider-{name}"] = value
    additional.update(openai_rate_limit_headers(rate_limits))
    if cost is not None:
        additional["llm_provider-x-litellm-response-cost"] = cost
    out: dict[str, Any] = {"additional_headers": additional}
    if rate_limits is not None:
        out["rate_limits"] = _rate_limits_dict(rate_limits)
    if request_id is not None:
        out["request_id"] = request_id
    if time_info is not None:
        out["time_info"] = time_info.to_dict()
    if provider is not None:
        out["upstream_provider"] = provider
    return out


def _rate_limits_dict(limits: RateLimits) -> dict[str, Any]:
    out = {k: v for k, v in dataclasses.asdict(limits).items() if v is not None and k != "extra"}
    if limits.extra:
        out.update(limits.extra)
    return out


def _usage(usage: CoreUsage | None) -> Usage | None:
    if usage is None:
        return None
    return Usage(**usage.to_dict())


def _tool_calls(calls: list[ToolCall] | None) -> list[dict[str, Any]] | None:
    if not calls:
        return None
    return [
        {
            "id": call.id,
            "type": call.type or "function",
            "function": {
                "name": call.function.name if call.function else None,
                "arguments": (call.function.arguments if call.function else None) or "",
            },
        }
        for call in calls
    ]


def fill_model_response(
    response: ModelResponse, completion: ChatCompletion, *, model: str, route: str
) -> ModelResponse:
    """Write ``completion`` into LiteLLM's ``response`` (the ``model_response`` LiteLLM passed in, which
    already carries LiteLLM's own hidden params)."""
    choices = []
    for choice in completion.choices:
        msg = choice.message
        message = Message(
            content=msg.content,
            role="assistant",
            tool_calls=_tool_calls(msg.tool_calls),
            reasoning_content=msg.reasoning,
        )
        choices.append(
            Choices(
                finish_reason=choice.finish_reason,
                index=choice.index,
                message=message,
                logprobs=choice.logprobs.to_dict() if choice.logprobs is not None else None,
            )
        )
    response.id = completion.id or response.id
    response.created = completion.created or response.created
    response.model = model  # the Cerebras id on both routes, so the price map and get_model_info find it
    response.choices = choices
    response.system_fingerprint = completion.system_fingerprint
    usage = _usage(completion.usage)
    if usage is not None:
        response.usage = usage  # type: ignore[attr-defined]
    if completion.time_info is not None:
        response.time_info = completion.time_info.to_dict()  # type: ignore[attr-defined]
    if completion.service_tier is not None:
        setattr(response, "service_tier", completion.service_tier)  # noqa: B010 - not a declared field
    cost = completion.usage.cost if completion.usage is not None else None
    extra = hidden_params(
        completion.headers,
        completion.rate_limits,
        completion.request_id,
        time_info=completion.time_info,
        provider=completion.provider if route != "cerebras" else None,
        cost=cost if route != "cerebras" else None,
    )
    response._hidden_params.update(extra)
    if completion.provider is not None and route != "cerebras":
        response._hidden_params["provider_response_model"] = completion.model
    return response


# -- streams ------------------------------------------------------------------------------------------------


def _delta_tool_calls(calls: list[ToolCall]) -> list[dict[str, Any]]:
    out = []
    for position, call in enumerate(calls):
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


class StreamTranslator:
    """Core chunks in, LiteLLM stream items out (see the module docstring for the pattern).

    ``finish_reason``, usage, ``time_info`` and the rest are held back until the core stream ends and sent on
    the one final item, because OpenRouter may send usage on a chunk after the one with ``finish_reason``.
    """

    __slots__ = ("_finish", "_first", "_model", "_provider", "_route", "_service_tier", "_time_info", "_usage")

    def __init__(self, *, model: str, route: str) -> None:
        self._model = model
        self._route = route
        self._first = True
        self._finish: str | None = None
        self._usage: CoreUsage | None = None
        self._time_info: TimeInfo | None = None
        self._service_tier: str | None = None
        self._provider: str | None = None

    def translate(self, chunk: ChatCompletionChunk) -> ModelResponseStream | None:
        """One core chunk → one ``ModelResponseStream``, or None when it carries no delta."""
        if chunk.usage is not None:
            self._usage = chunk.usage
        if chunk.time_info is not None:
            self._time_info = chunk.time_info
        if chunk.service_tier is not None:
            self._service_tier = chunk.service_tier
        if chunk.provider is not None:
            self._provider = chunk.provider
        out: list[StreamingChoices] = []
        for choice in chunk.choices:
            if choice.finish_reason is not None:
                self._finish = choice.finish_reason
            delta = choice.delta
            if delta.content is None and delta.reasoning is None and not delta.tool_calls and delta.role is None:
                continue
            out.append(
                StreamingChoices(
                    index=choice.index,
                    delta=Delta(
                        content=delta.content,
                        role=delta.role,
                        reasoning_content=delta.reasoning,
                        tool_calls=_delta_tool_calls(delta.tool_calls) if delta.tool_calls else None,
                    ),
                    logprobs=choice.logprobs.to_dict() if choice.logprobs is not None else None,
                )
            )
        if not out:
            return None
        item = ModelResponseStream(
            id=chunk.id,
            created=chunk.created,
            model=self._model,
            choices=out,
            system_fingerprint=chunk.system_fingerprint,
        )
        if self._first:
            self._first = False
            item._hidden_params.update(hidden_params(chunk.headers, chunk.rate_limits, chunk.request_id))
        return item

    def final(self, rate_limits: RateLimits | None, request_id: str | None) -> GenericStreamingChunk:
        """The last item: ``finish_reason``, the server's usage and the provider-specific fields."""
        fields: dict[str, Any] = {}
        if self._time_info is not None:
            fields["time_info"] = self._time_info.to_dict()
        if self._service_tier is not None:
            fields["service_tier"] = self._service_tier
        if rate_limits is not None:
            fields["rate_limits"] = _rate_limits_dict(rate_limits)
        if request_id is not None:
            fields["request_id"] = request_id
        if self._provider is not None and self._route != "cerebras":
            fields["upstream_provider"] = self._provider
        usage = self._usage.to_dict() if self._usage is not None else None
        return {
            "text": "",
            "tool_use": None,
            "is_finished": True,
            "finish_reason": self._finish or "stop",
            "usage": usage,  # type: ignore[typeddict-item]
            "index": 0,
            "provider_specific_fields": fields or None,
        }
