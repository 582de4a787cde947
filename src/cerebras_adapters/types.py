"""Typed response objects of the chat-completions API (the "wire" side of the core).

This module owns the shapes the service sends back, exactly as docs/api-facts.md#responses and #streaming record them
from real traffic: every field optional where the API omits it, ``null`` and absent treated alike, and unknown new
fields kept (``extra="allow"``) rather than dropped. It must not hold request logic, validation rules or
framework types.

Parsing goes straight from bytes through pydantic-core (``model_validate_json``), which measured faster than
``json.loads`` alone for a typical chunk, so typed results cost nothing over raw dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Annotation",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "Choice",
    "ChoiceDelta",
    "ChunkChoice",
    "CompletionTokensDetails",
    "FunctionCall",
    "Logprobs",
    "Model",
    "ModelList",
    "OpenRouterGeneration",
    "OpenRouterKey",
    "PromptTokensDetails",
    "RateLimits",
    "TimeInfo",
    "TokenLogprob",
    "ToolCall",
    "TopLogprob",
    "URLCitation",
    "Usage",
]


class _Wire(BaseModel):
    """Base of every wire object: unknown fields are kept as extras, nothing is validated strictly."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_dict(self) -> dict[str, Any]:
        """The object as the API would send it (absent fields left out, extras included)."""
        return self.model_dump(exclude_none=True, by_alias=True)


class TimeInfo(_Wire):
    """Server-side timing in seconds (Cerebras extension, docs/api-facts.md#time-info). ``created`` was an int until
    2025-10 and is a float since (RT-11 vs RT-03), so it is typed float."""

    queue_time: float | None = None
    prompt_time: float | None = None
    completion_time: float | None = None
    total_time: float | None = None
    created: float | None = None


class PromptTokensDetails(_Wire):
    cached_tokens: int | None = None
    image_tokens: int | None = None  # observed inside prompt_tokens_details on gemma-4-31b (RT-01)


class CompletionTokensDetails(_Wire):
    reasoning_tokens: int | None = None
    accepted_prediction_tokens: int | None = None
    rejected_prediction_tokens: int | None = None


class Usage(_Wire):
    """Token counts. Reasoning tokens are included in ``completion_tokens`` (RT-05). ``cost`` is only sent
    by OpenRouter (docs/api-facts.md#openrouter-usage); the direct API has none."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None
    image_tokens: int | None = None  # top-level variant from SDK/SPEC (docs/api-facts.md#usage), not observed
    cost: float | None = None

    @property
    def cached_tokens(self) -> int:
        d = self.prompt_tokens_details
        return (d.cached_tokens or 0) if d else 0

    @property
    def reasoning_tokens(self) -> int:
        d = self.completion_tokens_details
        return (d.reasoning_tokens or 0) if d else 0


class FunctionCall(_Wire):
    name: str | None = None
    arguments: str | None = None


class ToolCall(_Wire):
    """A tool call. Ids are 9 hex characters on Cerebras (RT-01, RT-13), not ``call_…``. In streamed deltas
    only the first fragment of an incremental call carries ``id`` and ``name`` (RT-13)."""

    index: int | None = None
    id: str | None = None
    type: str | None = None
    function: FunctionCall | None = None


class TopLogprob(_Wire):
    token: str = ""
    logprob: float = 0.0
    bytes: list[int] | None = None


class TokenLogprob(_Wire):
    token: str = ""
    logprob: float = 0.0
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob] | None = None


class Logprobs(_Wire):
    content: list[TokenLogprob] | None = None
    refusal: list[TokenLogprob] | None = None


class URLCitation(_Wire):
    """A web source the answer cites (OpenAI's annotation schema, as OpenRouter's web search returns it;
    docs/api-facts.md#openrouter-web-search). ``content`` is OpenRouter's addition: the cited page's text."""

    url: str = ""
    title: str | None = None
    content: str | None = None
    start_index: int | None = None
    end_index: int | None = None


class Annotation(_Wire):
    """An annotation on the assistant's message; ``url_citation`` is set when ``type`` is ``"url_citation"``."""

    type: str = "url_citation"
    url_citation: URLCitation | None = None


class ChatCompletionMessage(_Wire):
    """The assistant's message. ``content`` is absent when only tool calls come back (RT-01, RT-14);
    ``reasoning`` is the field name on the wire, never ``reasoning_content`` (docs/api-facts.md#reasoning-output).
    OpenRouter adds ``reasoning_details``."""

    role: str = "assistant"
    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCall] | None = None
    reasoning_details: list[dict[str, Any]] | None = None
    annotations: list[Annotation] | None = None  # web search citations (OpenRouter route)


class Choice(_Wire):
    """``finish_reason`` is a plain string: unknown values (``cancelled`` leaked once, RT-10; OpenRouter's
    ``error``) must not break parsing."""

    index: int = 0
    message: ChatCompletionMessage = ChatCompletionMessage()
    finish_reason: str | None = None
    logprobs: Logprobs | None = None
    reasoning_logprobs: Logprobs | None = None


@dataclass(frozen=True)
class RateLimits:
    """The ``x-ratelimit-*`` response headers (docs/api-facts.md#rate-limit-headers). Resets are float seconds (RT-11).

    The six documented headers have fields; any other ``x-ratelimit-*`` header (e.g. a per-minute request
    limit some free-tier keys send) is kept in ``extra`` under its name without the prefix.
    """

    limit_requests_day: int | None = None
    remaining_requests_day: int | None = None
    reset_requests_day: float | None = None
    limit_tokens_minute: int | None = None
    remaining_tokens_minute: int | None = None
    reset_tokens_minute: float | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimits | None:
        """Parse the rate-limit headers of a response; None when it has none (errors usually don't, RT-08)."""
        values: dict[str, Any] = {}
        extra: dict[str, str] = {}
        # httpx.Headers.multi_items() is several times cheaper than items() (no merging of repeats).
        multi_items = getattr(headers, "multi_items", None)
        items = multi_items() if multi_items is not None else headers.items()
        for name, raw in items:
            lname = name.lower()
            if not lname.startswith("x-ratelimit-"):
                continue
            field_name = _RATE_HEADER_FIELDS.get(lname)
            if field_name is None:
                extra[lname[len("x-ratelimit-") :].replace("-", "_")] = raw
                continue
            try:
                number = float(raw)
            except ValueError:
                extra[field_name] = raw
                continue
            values[field_name] = number if field_name.startswith("reset") else int(number)
        if not values and not extra:
            return None
        return cls(**values, extra=extra)

    def reset_for(self, limit: str | None) -> float | None:
        """Seconds until the named quota (``tokens`` or ``requests``) resets, if the headers said."""
        if limit == "tokens":
            return self.reset_tokens_minute
        if limit == "requests":
            return self.reset_requests_day
        return None


_RATE_HEADER_FIELDS = {
    f"x-ratelimit-{name.replace('_', '-')}": name for name in RateLimits.__dataclass_fields__ if name != "extra"
}


class _Response(_Wire):
    """Fields every response object shares, plus what the transport attaches from the HTTP response."""

    id: str = ""
    created: int = 0
    model: str = ""
    system_fingerprint: str | None = None
    service_tier: str | None = None
    service_tier_used: str | None = None  # docs-derived spec; not observed (RT-02). Read both.
    provider: str | None = None  # OpenRouter only: who served it
    usage: Usage | None = None
    time_info: TimeInfo | None = None

    # Not on the wire: filled in from the HTTP response's headers (``request_id`` is ``x-request-id``, else
    # ``inference-id``; ``headers`` keeps them all, e.g. ``inference-id`` and ``cf-ray``).
    rate_limits: RateLimits | None = Field(default=None, exclude=True)
    request_id: str | None = Field(default=None, exclude=True)
    headers: Mapping[str, str] | None = Field(default=None, exclude=True, repr=False)

    def attach_http(
        self, rate_limits: RateLimits | None, request_id: str | None, headers: Mapping[str, str] | None
    ) -> None:
        """Set the fields that come from the HTTP response. Written straight into ``__dict__``: pydantic's
        attribute setter costs ~0.8 µs for the three, per chunk on the streaming hot path, and these fields are
        never validated or dumped."""
        values = self.__dict__
        values["rate_limits"] = rate_limits
        values["request_id"] = request_id
        values["headers"] = headers


class ChatCompletion(_Response):
    """A non-streamed chat completion (or one assembled from a stream by ``accumulate``)."""

    object: str = "chat.completion"
    choices: list[Choice] = []

    @property
    def generation_id(self) -> str | None:
        """The OpenRouter generation id (``client.openrouter.generation(...)`` reads its record), or None for a
        completion from the Cerebras route. OpenRouter's completion ids are its generation ids, ``gen-…``
        (docs/api-facts.md#openrouter-monitoring); Cerebras' are ``chatcmpl-…``."""
        return generation_id_of(self.id)


def generation_id_of(response_id: str | None) -> str | None:
    """``response_id`` when it is an OpenRouter generation id (``gen-…``; Cerebras' ids are ``chatcmpl-…``), else
    None: the one test of it, for completions and for the adapters' extras of streams."""
    return response_id if response_id and response_id.startswith("gen-") else None


class ChoiceDelta(_Wire):
    role: str | None = None
    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCall] | None = None
    reasoning_details: list[dict[str, Any]] | None = None
    annotations: list[Annotation] | None = None  # OpenRouter sends a stream's citations in a delta near its end


class ChunkChoice(_Wire):
    index: int = 0
    delta: ChoiceDelta = ChoiceDelta()
    finish_reason: str | None = None
    logprobs: Logprobs | None = None
    reasoning_logprobs: Logprobs | None = None


class ChatCompletionChunk(_Response):
    """One SSE event of a streamed completion. On Cerebras the chunk carrying ``finish_reason`` also
    carries ``usage`` and ``time_info`` (RT-12, RT-13, RT-15); OpenRouter may send usage on a chunk with
    empty ``choices``."""

    object: str = "chat.completion.chunk"
    choices: list[ChunkChoice] = []
    error: dict[str, Any] | None = None  # OpenRouter mid-stream error (docs/api-facts.md#openrouter-errors)


class Model(_Wire):
    """An entry of ``GET /v1/models`` in any of its formats (docs/api-facts.md#models-endpoint); format-specific fields
    are extras."""

    id: str
    object: str | None = None
    created: int | None = None
    owned_by: str | None = None


class ModelList(_Wire):
    object: str | None = "list"
    data: list[Model] = []


class OpenRouterKey(_Wire):
    """``GET /api/v1/key``'s ``data``: the OpenRouter key's label, credit limit and usage in USD
    (docs/api-facts.md#openrouter-monitoring). ``limit`` and ``limit_remaining`` are None for a key with no limit;
    other fields OpenRouter sends are kept as extras."""

    label: str | None = None
    limit: float | None = None
    limit_remaining: float | None = None
    limit_reset: str | None = None
    usage: float | None = None
    usage_daily: float | None = None
    usage_weekly: float | None = None
    usage_monthly: float | None = None
    is_free_tier: bool | None = None
    rate_limit: dict[str, Any] | None = None  # deprecated by OpenRouter, still sent by some


class OpenRouterGeneration(_Wire):
    """``GET /api/v1/generation?id=``'s ``data``: what OpenRouter recorded about one completion: who served it
    (``provider_name``), tokens (``tokens_*`` by OpenRouter's count, ``native_tokens_*`` by the provider's), cost in
    USD, latency and generation time in ms (docs/api-facts.md#openrouter-monitoring). Other fields are extras."""

    id: str = ""
    model: str | None = None
    provider_name: str | None = None
    total_cost: float | None = None
    usage: float | None = None
    tokens_prompt: int | None = None
    tokens_completion: int | None = None
    native_tokens_prompt: int | None = None
    native_tokens_completion: int | None = None
    native_tokens_reasoning: int | None = None
    native_tokens_cached: int | None = None
    latency: float | None = None
    generation_time: float | None = None
    streamed: bool | None = None
    cancelled: bool | None = None
    finish_reason: str | None = None
    native_finish_reason: str | None = None
    num_search_results: int | None = None
    created_at: str | None = None

    @property
    def served_by_cerebras(self) -> bool:
        return "cerebras" in (self.provider_name or "").lower()


FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]
