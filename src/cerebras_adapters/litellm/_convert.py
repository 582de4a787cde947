"""Translation between LiteLLM's call shape and the core's, in both directions.

This module only translates. It holds no HTTP, no validation rules and no model knowledge: options are
validated by the core (``cerebras_adapters._request``), where earlier reasoning goes is the core's rule
(``cerebras_adapters.replay_reasoning``), and SSE is parsed by the core's ``Stream``. What it does:

* **Requests.** LiteLLM hands a ``CustomLLM`` its ``optional_params`` (OpenAI params it let through, plus every
  non-OpenAI kwarg as a top-level key, docs/api-facts.md#litellm-parameters) and ``litellm_params``. ``split_options``
  sorts them into the route, the client settings and the core's options; Cerebras options sent inside ``extra_body``
  (LiteLLM's escape hatch) are lifted out so the core validates them like any other. ``messages_to_wire``
  turns LiteLLM ``Message`` objects and dicts into wire messages and hands assistant reasoning (LiteLLM's
  ``reasoning_content``, ``provider_specific_fields.reasoning``, ``thinking_blocks``) to ``replay_reasoning``.
* **Responses.** ``fill_model_response`` writes a core ``ChatCompletion`` into LiteLLM's ``ModelResponse``:
  ``message.reasoning`` becomes ``reasoning_content``, usage keeps its token details, and the response extras
  of the shared output layer (``cerebras_adapters._output.response_extras``: ``time_info``, rate limits,
  request id, service tier, OpenRouter's provider, cost and ``generation_id``, …) go to ``_hidden_params`` (see
  ``hidden_params``); the layer's ``annotations`` (web-search citations) go on ``message.annotations``, as LiteLLM
  carries OpenAI's. Tool calls are the layer's dicts. No response field is read here.
* **Streams.** ``StreamTranslator`` turns core chunks into what LiteLLM's ``CustomStreamWrapper`` keeps intact
  (docs/api-facts.md#litellm-streaming, "mixed" pattern): one ``ModelResponseStream`` per delta (content,
  ``reasoning_content``, tool calls, ``annotations``), then a single final ``GenericStreamingChunk`` dict
  carrying ``finish_reason``, the real usage and, as provider-specific fields, the layer's extras from its
  ``StreamTail`` (all but ``annotations``, sent on their delta). A ``ModelResponseStream`` carrying usage would
  have its usage thrown away and replaced by LiteLLM's own token estimate.
* **Model names.** A response's ``model`` is ``<provider>/<model id>``, as LiteLLM's built-in providers name theirs
  (``cerebras/gpt-oss-120b``): LiteLLM resolves the provider of a response from that name (``completion_cost``,
  ``stream_chunk_builder``), and a bare id resolves to none and prints LiteLLM's "Provider List" banner
  (docs/api-facts.md#litellm-model-names). A stream's first chunk carries the bare id and the later ones the
  prefixed name; see ``StreamTranslator``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import litellm
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

from .._output import (
    ResponseExtras,
    StreamTail,
    annotation_dicts,
    has_delta,
    response_extras,
    tool_call_delta_dicts,
    tool_call_dicts,
)
from ..catalog import Catalog
from ..options import OPTION_NAMES
from ..reasoning import replay_reasoning
from ..types import ChatCompletion, ChatCompletionChunk, RateLimits
from ..types import Usage as CoreUsage
from ._rate_limiter import call_governor

__all__ = [
    "CLIENT_SETTINGS",
    "ClientSettings",
    "StreamTranslator",
    "fill_model_response",
    "hidden_params",
    "messages_to_wire",
    "openai_rate_limit_headers",
    "provider_fields",
    "split_options",
]

# optional_params keys that configure the client or the call rather than the request body.
CLIENT_SETTINGS = frozenset(
    {
        "route",
        "max_retries",
        "stream",
        "stream_options",
        "extra_body",
        "drop_params",
        "validation",
        "coalesce",
        "coalesce_ms",
        "rate_limiter",
    }
)
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
    #: the core client's validation mode: "strict" (default), "warn" or "off"
    validation: Any = "strict"
    #: the ``RateLimitGovernor`` pacing the client's requests (``_rate_limiter``), or None
    rate_limiter: Any = None


def split_options(
    optional_params: Mapping[str, Any],
    litellm_params: Mapping[str, Any] | None,
    *,
    api_key: str | None,
    api_base: str | None,
    stream: bool,
) -> tuple[ClientSettings, dict[str, Any]]:
    """``(client settings, core options)`` for one call.

    ``max_retries``, ``drop_params`` and ``validation`` are read from the call, then the deployment's
    ``litellm_params``; a global ``litellm.drop_params = True`` drops too. ``validation`` (``"strict"``,
    ``"warn"`` or ``"off"``) is the core client's, so a Router deployment or a proxy ``config.yaml`` model can
    get past a rule the service no longer enforces; an unknown value is refused when the client is built.
    ``stream_options`` is sent only with ``stream=True`` (it means nothing, and may be refused, otherwise).
    ``coalesce`` / ``coalesce_ms`` (the call's, then the deployment's) are the core's stream coalescing, on by
    default for streams and never sent; a non-streamed call has nothing to merge and leaves them out.
    ``rate_limiter`` (a governor, or a setting that names one: ``_rate_limiter``) paces the client's requests.
    """
    lp = litellm_params or {}
    options: dict[str, Any] = {}
    for name, value in optional_params.items():
        if name in CLIENT_SETTINGS or value is None:
            continue
        options[name] = value
    extra_body = optional_params.get("extra_body")
    if extra_body and not isinstance(extra_body, Mapping):
        options["extra_body"] = extra_body  # refused by the core, naming extra_body
    elif extra_body:
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
    if stream:
        # Stream coalescing (docs/litellm.md#stream-coalescing), on unless turned off: LiteLLM pays per chunk.
        coalesce, coalesce_ms = (optional_params.get(name, lp.get(name)) for name in ("coalesce", "coalesce_ms"))
        options["coalesce"] = True if coalesce is None and coalesce_ms is None else coalesce
        if coalesce_ms is not None:
            options["coalesce_ms"] = coalesce_ms
    version = _api_version(lp.get("api_version"))
    if version is not None and "api_version" not in options:
        options["api_version"] = version
    max_retries = optional_params.get("max_retries", lp.get("max_retries"))
    drop = optional_params.get("drop_params", lp.get("drop_params"))
    validation = optional_params.get("validation", lp.get("validation"))
    settings = ClientSettings(
        route=optional_params.get("route") or lp.get("route") or "cerebras",
        api_key=api_key or None,
        base_url=api_base or None,
        max_retries=int(max_retries) if max_retries is not None else None,
        drop_params=_truthy(drop) or litellm.drop_params is True,
        validation=validation.strip().lower() if isinstance(validation, str) else (validation or "strict"),
        rate_limiter=call_governor(optional_params, lp),
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


def messages_to_wire(model: str, messages: Iterable[Any], route: str, catalog: Catalog) -> list[Any]:
    """LiteLLM messages (dicts or ``Message`` objects) → wire messages, reasoning in the form ``model`` takes.

    Anything that is not a message (a number, a string, a list) is passed through untouched: the core refuses
    it with a ``RequestValidationError`` naming ``messages.<i>``, which becomes a ``LocalBadRequestError``.
    """
    if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Iterable):
        return messages  # type: ignore[return-value]  # refused by the core as "messages must be a list"
    wire: list[Any] = []
    carries_reasoning = False
    readable = True
    for message in messages:
        if isinstance(message, Mapping):
            msg = {k: v for k, v in message.items() if v is not None}
        elif callable(getattr(message, "model_dump", None)):  # a LiteLLM Message appended from a response
            msg = {k: v for k, v in message.model_dump().items() if v is not None}
        else:
            wire.append(message)
            readable = False
            continue
        if msg.get("role") == "assistant":
            carries_reasoning = _assistant_to_wire(msg) or carries_reasoning
        wire.append(msg)
    if carries_reasoning and readable:
        wire = replay_reasoning(model, wire, route=route, catalog=catalog)
    return wire


def _assistant_to_wire(msg: dict[str, Any]) -> bool:
    """Normalise an assistant message in place; True when it carries earlier reasoning."""
    reasoning = next((msg[k] for k in _REASONING_KEYS if msg.get(k)), None)
    fields = msg.get("provider_specific_fields")
    if not reasoning and isinstance(fields, Mapping):
        reasoning = fields.get("reasoning") or fields.get("reasoning_content")
    blocks = msg.get("thinking_blocks")
    if not reasoning and isinstance(blocks, (list, tuple)):
        reasoning = "".join(str(b.get("thinking", "")) for b in blocks if isinstance(b, Mapping)) or None
    for key in _ASSISTANT_RESPONSE_ONLY:
        msg.pop(key, None)
    for key in _REASONING_KEYS:
        msg.pop(key, None)
    calls = msg.get("tool_calls")
    if isinstance(calls, (list, tuple)):  # anything else is left for the core to refuse, naming it
        if calls:
            msg["tool_calls"] = [_tool_call_to_wire(call) for call in calls]
        else:
            del msg["tool_calls"]
    if reasoning:
        msg["reasoning_content"] = reasoning  # replay_reasoning moves it to where the model takes it
        return True
    return False


def _tool_call_to_wire(call: Any) -> Any:
    if not isinstance(call, Mapping) and callable(getattr(call, "model_dump", None)):
        call = call.model_dump()
    if not isinstance(call, Mapping):
        return call  # refused by the core, naming messages.<i>.tool_calls.<j>
    function = call.get("function") or {}
    if not isinstance(function, Mapping) and callable(getattr(function, "model_dump", None)):
        function = function.model_dump()
    if not isinstance(function, Mapping):
        return dict(call)
    return {
        "id": call.get("id"),
        "type": call.get("type") or "function",
        "function": {"name": function.get("name"), "arguments": function.get("arguments") or ""},
    }


# -- responses ----------------------------------------------------------------------------------------------


def openai_rate_limit_headers(limits: RateLimits | None) -> dict[str, str]:
    """Cerebras's ``x-ratelimit-*-requests-day`` / ``-tokens-minute`` (docs/api-facts.md#rate-limit-headers) under the
    OpenAI names LiteLLM reads (``x-ratelimit-remaining-requests`` / ``-tokens``, ``types/utils.py``
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


def provider_fields(extras: ResponseExtras) -> dict[str, Any]:
    """The layer's extras as LiteLLM shows them: every key as is but ``annotations`` (which LiteLLM carries on
    ``message.annotations`` and ``delta.annotations``, as for OpenAI's web search), plus ``upstream_provider``,
    this provider's earlier name for ``provider`` (kept so existing readers keep working)."""
    out: dict[str, Any] = {name: value for name, value in extras.items() if name != "annotations"}
    if "provider" in extras:
        out["upstream_provider"] = extras["provider"]
    return out


def hidden_params(
    headers: Mapping[str, str] | None, rate_limits: RateLimits | None, extras: ResponseExtras
) -> dict[str, Any]:
    """What goes into ``_hidden_params``: the layer's extras (``provider_fields``), and every response header as
    ``llm_provider-<name>`` plus the OpenAI-style rate-limit headers (``additional_headers``, which the proxy
    returns to its clients), with OpenRouter's cost as ``llm_provider-x-litellm-response-cost`` (which LiteLLM's
    cost calculator prefers to the price map)."""
    additional: dict[str, Any] = {}
    if headers is not None:
        multi_items = getattr(headers, "multi_items", None)
        for name, value in multi_items() if multi_items is not None else headers.items():
            additional[f"llm_provider-{name}"] = value
    additional.update(openai_rate_limit_headers(rate_limits))
    if "cost" in extras:
        additional["llm_provider-x-litellm-response-cost"] = extras["cost"]
    return {"additional_headers": additional, **provider_fields(extras)}


def _usage(usage: CoreUsage | None) -> Usage | None:
    if usage is None:
        return None
    return Usage(**usage.to_dict())


def fill_model_response(response: ModelResponse, completion: ChatCompletion, *, model: str) -> ModelResponse:
    """Write ``completion`` into LiteLLM's ``response`` (the ``model_response`` LiteLLM passed in, which
    already carries LiteLLM's own hidden params); ``model`` is the name it gets, ``<provider>/<model id>``."""
    choices = []
    for choice in completion.choices:
        msg = choice.message
        message = Message(
            content=msg.content,
            role="assistant",
            tool_calls=tool_call_dicts(msg.tool_calls) or None,
            reasoning_content=msg.reasoning,
            annotations=annotation_dicts(msg.annotations) or None,  # type: ignore[arg-type]  # wire-shaped
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
    response.model = model  # <provider>/<Cerebras id> on both routes: the price map and get_model_info find it
    response.choices = choices
    response.system_fingerprint = completion.system_fingerprint
    usage = _usage(completion.usage)
    if usage is not None:
        response.usage = usage  # type: ignore[attr-defined]
    extras = response_extras(completion)
    if "time_info" in extras:
        response.time_info = extras["time_info"]  # type: ignore[attr-defined]
    if "service_tier" in extras:
        setattr(response, "service_tier", extras["service_tier"])  # noqa: B010 - not a declared field
    response._hidden_params.update(hidden_params(completion.headers, completion.rate_limits, extras))
    if "provider" in extras:
        # LiteLLM's cost calculator prices by this name when set: the model as the serving route named it.
        response._hidden_params["provider_response_model"] = completion.model
    return response


# -- streams ------------------------------------------------------------------------------------------------


class StreamTranslator:
    """Core chunks in, LiteLLM stream items out (see the module docstring for the pattern).

    ``finish_reason``, usage and the extras are held back in the layer's ``StreamTail`` until the core stream
    ends and sent on the one final item, because OpenRouter may send usage on a chunk after the one with
    ``finish_reason``.

    ``model`` is the Cerebras id, ``name`` the response's model name (``<provider>/<model id>``). The first item
    is a role-only chunk carrying the bare id; every later delta carries ``name``. LiteLLM stamps the chunk it
    builds from the final item with the bare id, and ``stream_chunk_builder`` names the assembled response after
    the first chunk whose model differs from the first chunk's (docs/api-facts.md#litellm-model-names): so the
    assembled response is ``name``, like a non-streamed one, and LiteLLM finds the provider from it.
    """

    __slots__ = ("_first", "_model", "_name", "tail")

    def __init__(self, *, model: str, name: str) -> None:
        self._model = model
        self._name = name
        self._first = True
        self.tail = StreamTail()

    def translate(self, chunk: ChatCompletionChunk) -> tuple[ModelResponseStream, ...]:
        """One core chunk → its ``ModelResponseStream`` (none when it carries no delta), preceded by the role-only
        first chunk when this is the first chunk with a delta and it carries more than a role."""
        self.tail.observe(chunk)
        out: list[StreamingChoices] = []
        rich = False
        for choice in chunk.choices:
            delta = choice.delta
            annotations = delta.annotations
            if not has_delta(delta) and not annotations:
                continue
            rich = rich or bool(delta.content or delta.reasoning or delta.tool_calls or annotations)
            out.append(
                StreamingChoices(
                    index=choice.index,
                    delta=Delta(
                        content=delta.content,
                        role=delta.role,
                        reasoning_content=delta.reasoning,
                        tool_calls=tool_call_delta_dicts(delta.tool_calls) or None,
                        annotations=annotation_dicts(annotations) or None,  # type: ignore[arg-type]
                    ),
                    logprobs=choice.logprobs.to_dict() if choice.logprobs is not None else None,
                )
            )
        if not out:
            return ()
        if not self._first:
            return (self._item(chunk, out, self._name),)
        self._first = False
        if rich:
            roles = [StreamingChoices(index=c.index, delta=Delta(role=c.delta.role or "assistant")) for c in out]
            lead = self._item(chunk, roles, self._model)
            items: tuple[ModelResponseStream, ...] = (lead, self._item(chunk, out, self._name))
        else:
            lead = self._item(chunk, out, self._model)
            items = (lead,)
        # What is known once the stream has begun (request id, rate limits, fingerprint), with the headers.
        lead._hidden_params.update(hidden_params(chunk.headers, chunk.rate_limits, self.tail.extras()))
        return items

    @staticmethod
    def _item(chunk: ChatCompletionChunk, choices: list[StreamingChoices], model: str) -> ModelResponseStream:
        return ModelResponseStream(
            id=chunk.id,
            created=chunk.created,
            model=model,
            choices=choices,
            system_fingerprint=chunk.system_fingerprint,
        )

    def final(self) -> GenericStreamingChunk:
        """The last item: ``finish_reason``, the server's usage and the layer's extras as provider-specific
        fields (LiteLLM sets each on the chunk, and ``stream_chunk_builder`` keeps them on the message)."""
        tail = self.tail
        fields = provider_fields(tail.extras())
        usage = tail.usage.to_dict() if tail.usage is not None else None
        return {
            "text": "",
            "tool_use": None,
            "is_finished": True,
            "finish_reason": tail.finish_reason or "stop",
            "usage": usage,  # type: ignore[typeddict-item]
            "index": 0,
            "provider_specific_fields": fields or None,
        }
