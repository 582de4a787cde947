"""Every request option of ``chat.completions.create``, typed and documented, in one place.

This module owns the list of options (``ChatCompletionOptions``), where each one lands on the wire (body
field or request header) and the options the API is known to reject as unknown. The options reference in
the docs is generated from this TypedDict, and the adapters take their list of Cerebras options from it,
so an option is declared exactly once. It must not hold cross-option rules (``_validation``) or route
shaping (``routes``).

Ranges and enums come from docs/api-facts.md#option-ranges (conflicts resolved there: temperature 0–2). Numbers are
also bounded by what JSON and the server can carry: no NaN or infinity (``allow_inf_nan=False``: JSON has
neither), token counts and ``n`` within a signed 32-bit integer and ``seed`` within a signed 64-bit one (the
SPEC types them as plain ``int``; a larger number is a caller's mistake the server cannot parse, so it is refused
here rather than sent). Strict validation keeps ``True``/``False`` out of integer and number options.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, get_type_hints

import httpx
from pydantic import ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict

__all__ = [
    "HEADER_OPTIONS",
    "KNOWN_UNSUPPORTED",
    "ONLINE_SUFFIX",
    "OPENROUTER_ONLY",
    "OPENROUTER_PLUGIN_IDS",
    "OPTION_NAMES",
    "WEB_SEARCH_ENGINES",
    "CacheControl",
    "ChatCompletionOptions",
    "Message",
    "Plugin",
    "ReasoningEffort",
    "ReasoningFormat",
    "ServiceTier",
    "WebPlugin",
    "option_adapter",
    "option_descriptions",
    "options_markdown",
]

ReasoningEffort = Literal["none", "low", "medium", "high"]
ReasoningFormat = Literal["none", "parsed", "text_parsed", "raw", "hidden"]
ServiceTier = Literal["auto", "default", "flex", "priority"]
ToolChoice = Literal["none", "auto", "required"] | Mapping[str, Any]
INT32_MAX = 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
Message = Mapping[str, Any]
"""A chat message as the API takes it: ``{"role": ..., "content": ..., ...}`` (docs/api-facts.md#message-fields)."""

# OpenRouter's plugins and prompt-caching marker (docs/api-facts.md#openrouter-web-search,
# docs/api-facts.md#prompt-caching).
WebSearchEngine = Literal["native", "exa", "firecrawl", "parallel", "perplexity"]
WEB_SEARCH_ENGINES: tuple[str, ...] = ("native", "exa", "firecrawl", "parallel", "perplexity")
#: The plugin ids OpenRouter documents for chat completions; only ``web`` has fields this library checks.
OPENROUTER_PLUGIN_IDS: tuple[str, ...] = (
    "web",
    "moderation",
    "web-fetch",
    "file-parser",
    "response-healing",
    "context-compression",
    "auto-router",
    "auto-beta-router",
    "pareto-router",
    "fusion",
)
#: A model id ending in this asks OpenRouter for web search: exactly ``plugins=[{"id": "web"}]``.
ONLINE_SUFFIX = ":online"


class CacheControl(TypedDict, total=False):
    """A prompt-caching breakpoint, as OpenRouter takes it on a content part or at the top level of a request.

    Cerebras caches prompts automatically and takes no marker: the direct route removes it before sending."""

    type: Literal["ephemeral"]
    ttl: Literal["5m", "1h"]


class WebPlugin(TypedDict, total=False):
    """OpenRouter's web search plugin: ``{"id": "web", ...}``. Every field but ``id`` is optional."""

    id: Literal["web"]
    engine: WebSearchEngine
    max_results: int
    search_prompt: str
    include_domains: Sequence[str]
    exclude_domains: Sequence[str]


Plugin = WebPlugin | Mapping[str, Any]
"""An OpenRouter plugin: the web plugin, or another documented one (``{"id": "moderation"}``, …) with its fields."""


class ChatCompletionOptions(TypedDict, total=False):
    """Options of ``client.chat.completions.create`` besides ``model``, ``messages`` and ``stream``."""

    # -- length ------------------------------------------------------------------------------------------
    max_completion_tokens: Annotated[
        int,
        Field(
            ge=-1,
            le=INT32_MAX,
            description=(
                "Most tokens to generate, reasoning included; -1 means the model's maximum sequence length. The "
                "rate limiter reserves this many tokens up front, so keep it near what you need."
            ),
        ),
    ]
    max_tokens: Annotated[
        int,
        Field(
            ge=-1,
            le=INT32_MAX,
            description=("Deprecated alias of max_completion_tokens; sent as max_completion_tokens. Do not pass both."),
        ),
    ]
    min_completion_tokens: Annotated[
        int,
        Field(
            ge=-1,
            le=INT32_MAX,
            description=("Fewest tokens to generate; 0 or unset lets the model decide, -1 means the maximum."),
        ),
    ]
    # -- sampling ----------------------------------------------------------------------------------------
    temperature: Annotated[
        float, Field(ge=0, le=2, allow_inf_nan=False, description="Sampling temperature, 0 to 2 (default 1).")
    ]
    top_p: Annotated[
        float, Field(ge=0, le=1, allow_inf_nan=False, description="Nucleus sampling mass, 0 to 1 (default 1).")
    ]
    seed: Annotated[
        int,
        Field(ge=INT64_MIN, le=INT64_MAX, description="Best-effort deterministic sampling."),
    ]
    stop: Annotated[
        str | Sequence[str],
        Field(description=("Up to 4 stop sequences; the stop text is not included in the output.")),
    ]
    n: Annotated[int, Field(ge=1, le=INT32_MAX, description="Number of choices (n > 1 is undocumented by Cerebras).")]
    frequency_penalty: Annotated[
        float, Field(ge=-2, le=2, allow_inf_nan=False, description="-2 to 2 (accepted since 2026).")
    ]
    presence_penalty: Annotated[
        float, Field(ge=-2, le=2, allow_inf_nan=False, description="-2 to 2 (accepted since 2026).")
    ]
    logit_bias: Annotated[
        Mapping[str | int, Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False)]],
        Field(
            max_length=100,
            description=(
                "Token id (int or str) to bias, -100 to 100; accepted by the API but observed to have no "
                "effect (docs/api-facts.md#option-ranges)."
            ),
        ),
    ]
    logprobs: Annotated[bool, Field(description="Return log probabilities of the output tokens.")]
    top_logprobs: Annotated[int, Field(ge=0, le=20, description="0 to 20 alternatives per token; needs logprobs.")]
    # -- reasoning ---------------------------------------------------------------------------------------
    reasoning_effort: Annotated[
        ReasoningEffort,
        Field(
            description=(
                "none, low, medium or high. gpt-oss-120b: low/medium (default)/high, reasoning cannot be turned "
                "off. zai-glm-4.7 and gemma-4-31b: 'none' turns reasoning off."
            )
        ),
    ]
    reasoning_format: Annotated[
        ReasoningFormat,
        Field(
            description=(
                "Where reasoning goes: parsed / text_parsed (message.reasoning), raw (inside content, <think> tags "
                "on GLM/Qwen), hidden (dropped, still billed) or none (the model's default)."
            )
        ),
    ]
    clear_thinking: Annotated[
        bool,
        Field(
            description=(
                "zai-glm-4.7 only. True (server default) strips earlier turns' reasoning; False keeps it, "
                "recommended for multi-step tool loops."
            )
        ),
    ]
    disable_reasoning: Annotated[
        bool,
        Field(description=("Deprecated (2026-03-24): sent as reasoning_effort='none', with a DeprecationWarning.")),
    ]
    # -- tools and output format -------------------------------------------------------------------------
    tools: Annotated[
        Sequence[Mapping[str, Any]],
        Field(
            description=(
                "Function tools: {type: 'function', function: {name, description?, parameters?, strict?}}. "
                "strict must be the same on every tool."
            )
        ),
    ]
    tool_choice: Annotated[
        ToolChoice, Field(description=("none, auto, required, or {type: 'function', function: {name}}. Needs tools."))
    ]
    parallel_tool_calls: Annotated[bool, Field(description="Allow several tool calls in one turn (default true).")]
    response_format: Annotated[
        Mapping[str, Any],
        Field(
            description=(
                "{type: 'text'}, {type: 'json_object'} (not with stream) or {type: 'json_schema', json_schema: "
                "{name, schema, strict?}}. Not together with tools."
            )
        ),
    ]
    prediction: Annotated[
        Mapping[str, Any],
        Field(
            description=(
                "Predicted output {type: 'content', content: ...} (gpt-oss-120b, zai-glm-4.7); not with logprobs, "
                "n > 1 or tools. Usage reports accepted/rejected prediction tokens."
            )
        ),
    ]
    # -- service -----------------------------------------------------------------------------------------
    service_tier: Annotated[
        ServiceTier, Field(description=("auto, default, flex or priority (priority: dedicated endpoints only)."))
    ]
    queue_threshold: Annotated[
        int,
        Field(
            ge=50,
            le=20000,
            description=(
                "Reject the request early if the rolling queue time exceeds this many ms (50-20000); only with "
                "service_tier flex or auto. Sent as the 'queue_threshold' request header."
            ),
        ),
    ]
    prompt_cache_key: Annotated[
        str,
        Field(
            max_length=1024,
            description=("Routing hint for prompt-cache hits (needs account enablement); caching itself is automatic."),
        ),
    ]
    user: Annotated[str, Field(description="End-user id for abuse monitoring.")]
    # -- OpenRouter route only ---------------------------------------------------------------------------
    plugins: Annotated[
        Sequence[Plugin],
        Field(
            description=(
                "OpenRouter route only: plugins such as web search, [{id: 'web', engine?, max_results?, "
                "search_prompt?, include_domains?, exclude_domains?}] (citations come back in "
                "message.annotations). Refused on the Cerebras route, which has no web search."
            )
        ),
    ]
    cache_control: Annotated[
        CacheControl,
        Field(
            description=(
                "{type: 'ephemeral', ttl?: '5m' or '1h'}: OpenRouter's prompt-caching marker, also accepted on "
                "content parts. Sent on the OpenRouter route; removed on the Cerebras route, which caches "
                "automatically (usage.prompt_tokens_details.cached_tokens shows hits)."
            )
        ),
    ]
    model_parameters: Annotated[
        Mapping[str, Any],
        Field(description=("Per-model parameters, validated by the server for models that declare them.")),
    ]
    stream_options: Annotated[
        Mapping[str, Any],
        Field(description=("{include_usage: bool}. Cerebras sends usage on the final chunk regardless.")),
    ]
    api_version: Annotated[
        Annotated[int, Field(ge=1)] | Annotated[str, Field(pattern=r"^\s*[0-9]+\s*$")],
        Field(
            description=(
                "API version, sent as the X-Cerebras-Version-Patch header (2 is the default since 2026-07-21). "
                "An int, or a numeric string as headers are written ('1'); the rules checked are that version's."
            ),
        ),
    ]
    # -- escape hatches ----------------------------------------------------------------------------------
    extra_body: Annotated[
        Mapping[str, Any],
        Field(
            description=(
                "Merged into the JSON body as is, after validation: for fields this library does not know yet."
            )
        ),
    ]
    extra_headers: Annotated[Mapping[str, str], Field(description="Extra request headers for this call.")]
    timeout: Annotated[
        float | httpx.Timeout | None,
        Field(description=("Timeout for this call in seconds (or an httpx.Timeout); defaults to the client's.")),
    ]
    attempt_timeout: Annotated[
        float | None,
        Field(
            description=(
                "Total seconds for one attempt, from sending to the last byte (streams included); defaults to the "
                "client's (600). timeout bounds each read, this bounds a body that trickles."
            )
        ),
    ]
    deadline: Annotated[
        float | None,
        Field(
            description=(
                "Total seconds for the whole call, retries and backoff included; defaults to the client's (none). "
                "Raises APITimeoutError when reached."
            )
        ),
    ]


OPTION_NAMES: frozenset[str] = frozenset(ChatCompletionOptions.__annotations__)


def option_descriptions() -> dict[str, str]:
    """Each option's documentation, as declared above (used in error messages and the docs)."""
    hints = get_type_hints(ChatCompletionOptions, include_extras=True)
    out: dict[str, str] = {}
    for name, hint in hints.items():
        for meta in getattr(hint, "__metadata__", ()):
            if getattr(meta, "description", None):
                out[name] = meta.description
    return out


# Options sent as request headers rather than body fields (docs/api-facts.md#request-headers).
HEADER_OPTIONS: dict[str, str] = {
    "queue_threshold": "queue_threshold",
    "api_version": "X-Cerebras-Version-Patch",
}

# Options consumed by this library, never sent as such.
LOCAL_OPTIONS = frozenset(
    {"extra_body", "extra_headers", "timeout", "attempt_timeout", "deadline", "disable_reasoning"}
)

# OpenAI parameters Cerebras rejects as unknown fields (400 wrong_api_format;
# docs/api-facts.md#unknown-fields). Any other unknown name is refused the same way; these get a more specific hint.
KNOWN_UNSUPPORTED: dict[str, str] = {
    "store": "Cerebras does not store completions",
    "metadata": "Cerebras has no request metadata",
    "modalities": "Cerebras returns text only",
    "audio": "Cerebras has no audio output",
    "verbosity": "Cerebras has no verbosity control",
    "web_search_options": "Cerebras has no built-in web search",
    "reasoning": "use reasoning_effort / reasoning_format (the OpenRouter route translates them itself)",
    "thinking": "use reasoning_effort / reasoning_format",
    "functions": "use tools",
    "function_call": "use tool_choice",
    "top_k": "Cerebras supports top_p, not top_k",
    "repetition_penalty": "use frequency_penalty / presence_penalty",
    "safety_identifier": "use user",
}

# Options only the OpenRouter route sends: plugins are refused on the Cerebras route, cache_control is removed there.
OPENROUTER_ONLY = frozenset({"plugins", "cache_control"})


def options_markdown() -> str:
    """The options reference as a markdown table (README and the docs embed it; a test keeps them in step)."""
    rows = ["| option | sent as | meaning |", "|---|---|---|"]
    for name, desc in option_descriptions().items():
        if name in HEADER_OPTIONS:
            where = f"header `{HEADER_OPTIONS[name]}`"
        elif name == "disable_reasoning":
            where = "body `reasoning_effort`"
        elif name == "max_tokens":
            where = "body `max_completion_tokens`"
        elif name in LOCAL_OPTIONS:
            where = "not sent"
        elif name in OPENROUTER_ONLY:
            where = "body (OpenRouter route only)"
        else:
            where = "body"
        rows.append(f"| `{name}` | {where} | {desc.replace('|', '/')} |")
    return "\n".join(rows)


_STRICT = ConfigDict(strict=True, arbitrary_types_allowed=True)


def _make_adapter() -> TypeAdapter[ChatCompletionOptions]:
    # The TypedDict cannot carry a config of its own without changing its public type, so one is set here.
    ChatCompletionOptions.__pydantic_config__ = _STRICT  # type: ignore[attr-defined]
    return TypeAdapter(ChatCompletionOptions)


_adapter: TypeAdapter[ChatCompletionOptions] | None = None


def option_adapter() -> TypeAdapter[ChatCompletionOptions]:
    """The pydantic validator for the options (built on first use: building it costs milliseconds)."""
    global _adapter
    if _adapter is None:
        _adapter = _make_adapter()
    return _adapter
