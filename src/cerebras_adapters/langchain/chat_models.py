"""``ChatCerebras``: a LangChain chat model on the cerebras_adapters core.

This module owns the LangChain surface only: fields, per-call option merging, the sync/async/streaming
entry points, ``bind_tools`` and ``with_structured_output``. Everything else is the core's: validation
(``RequestValidationError`` before any request), routes, retries, SSE parsing, reasoning replay and strict
schemas. Core errors surface unchanged, so ``.with_retry()`` and ``.with_fallbacks()`` see the typed
exceptions.

Reasoning is in one place on every path (invoke, ainvoke, stream, astream):
``additional_kwargs["reasoning_content"]``, which langchain-core lifts into a standard ``reasoning`` content
block because ``response_metadata["model_provider"]`` is ``"cerebras"`` (docs/api-facts.md#langchain-reasoning-blocks).
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal

import httpx
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel, LangSmithParams
from langchain_core.language_models.model_profile import ModelProfile
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.rate_limiters import BaseRateLimiter
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator
from typing_extensions import Self

from .._client import (
    AsyncCerebrasClient,
    CerebrasClient,
    adapter_client_kwargs,
    adapter_coalescing,
    check_coalesce,
)
from .._loop_pool import PerLoopClients
from .._output import WholeStream, aopen_stream, completion_as_chunks, open_stream, tool_call_dicts
from .._request import prepare_chat_request
from .._request_parts import json_schema_format, strict_tool, tool_choice_for
from .._streaming import Stream
from ..catalog import default_catalog
from ..errors import RequestValidationError
from ..options import OPTION_NAMES, ReasoningEffort, ReasoningFormat, ServiceTier
from ..routes import OpenRouterRoute, Route, resolve_base_url, resolve_route
from ..schema import check_strict_schema
from ..types import ChatCompletion, ChatCompletionChunk, Usage
from ._convert import StreamTranslator, chat_generation, completion_to_message, messages_to_wire

if TYPE_CHECKING:
    from langchain_core.language_models import LanguageModelInput
    from langchain_core.runnables import Runnable
    from langchain_core.tools import BaseTool

    from ..governor import RateLimitGovernor

# What only bind_tools / with_structured_output need (tool conversion, output parsers, runnables) is imported
# where it is used: langchain_core.tools alone is ~40% of this module's import time (docs/benchmarks.md, LangChain
# import row), and a chain that only invokes the model never pays it.

__all__ = ["ChatCerebras", "GovernorRateLimiter"]

# LangChain keyword arguments that are not Cerebras options; ``coalesce``/``coalesce_ms`` apply to streams only.
_LANGCHAIN_KWARGS = frozenset({"stream", "stream_usage", "coalesce", "coalesce_ms"})


class GovernorRateLimiter(BaseRateLimiter):
    """A ``RateLimitGovernor`` in LangChain's ``rate_limiter`` field of a ``ChatCerebras`` (which builds it:
    ``ChatCerebras(rate_limiter=governor)``; ``llm.rate_limiter.governor`` is the governor).

    LangChain calls a chat model's limiter once per call, before it, knowing nothing of the request. The governor
    instead paces every attempt in ChatCerebras's core clients, by the request's tokens and the server's headers, so
    LangChain's ``acquire`` admits at once here. Another chat model given this limiter is paced by nothing: give it
    LangChain's own limiter instead."""

    def __init__(self, governor: RateLimitGovernor) -> None:
        from ..governor import require_governor  # imported when a governor is in use, not with the module

        self.governor = require_governor(governor, "pass ChatCerebras(rate_limiter=RateLimitGovernor())")

    def __repr__(self) -> str:
        return f"GovernorRateLimiter({self.governor!r})"

    def acquire(self, *, blocking: bool = True) -> bool:
        return True

    async def aacquire(self, *, blocking: bool = True) -> bool:
        return True


class ChatCerebras(BaseChatModel):
    """Cerebras chat model for LangChain, with every Cerebras option.

    ``ChatCerebras(model="gpt-oss-120b", reasoning_effort="low")``; every option can also be passed per call
    (``llm.invoke(msgs, reasoning_effort="high")``) or bound (``llm.bind(reasoning_format="parsed")``).
    ``route="openrouter"`` sends the same calls through OpenRouter pinned to Cerebras (key from
    ``OPENROUTER_API_KEY``).
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    model_name: str = Field(default="gpt-oss-120b", alias="model")
    """Cerebras model id (e.g. ``gpt-oss-120b``, ``zai-glm-4.7``); OpenRouter ids are mapped on that route."""
    api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("api_key", "cerebras_api_key"))
    """API key; defaults to ``CEREBRAS_API_KEY`` (``OPENROUTER_API_KEY`` on the OpenRouter route).
    ``cerebras_api_key`` (langchain-cerebras's name) is accepted too."""
    base_url: str | None = Field(default=None, validation_alias=AliasChoices("base_url", "cerebras_api_base"))
    """Base URL including the version path; defaults to the route's (``https://api.cerebras.ai/v1``)."""
    route: Literal["cerebras", "openrouter"] | Route = "cerebras"
    """``"cerebras"`` (direct), ``"openrouter"`` (pinned to Cerebras), or an ``OpenRouterRoute(...)``."""
    timeout: float | None = Field(default=None, validation_alias=AliasChoices("timeout", "request_timeout"))
    """Read timeout in seconds (default 60; connect 5). ``request_timeout`` (ChatOpenAI's name) is accepted too."""
    attempt_timeout: float | None = None
    """Total seconds for one attempt, streams included (default 600)."""
    deadline: float | None = None
    """Total seconds for the whole call, retries and backoff included (default none)."""
    max_retries: int = 2
    default_headers: dict[str, str] | None = None
    unsupported_params: Literal["raise", "drop"] = "raise"
    """What to do with parameters the Cerebras API does not know: raise (default) or drop with a warning."""
    validation: Literal["strict", "warn", "off"] = "strict"
    """What a request that breaks a rule does: ``"strict"`` raises ``RequestValidationError`` before sending
    (default), ``"warn"`` emits a ``ValidationWarning`` and sends it anyway, ``"off"`` sends it unchecked."""
    streaming: bool = False
    """Stream internally even for ``invoke`` (callbacks then see tokens as they arrive)."""
    stream_usage: bool = True
    """Kept for compatibility with other chat models: Cerebras always sends usage on the final chunk."""
    coalesce: bool = Field(default=True, strict=True)
    """Streams: each chunk merges the events already received when LangChain asks for it, so a consumer slower
    than Cerebras gets fewer, bigger ``AIMessageChunk``s (the same message once added up); it never waits for more.
    ``False``: one chunk per event. Per call: ``llm.stream(msgs, coalesce=False)``
    (docs/langchain.md#stream-coalescing)."""
    coalesce_ms: float | None = Field(default=None, strict=True)
    """Streams: keep merging for this many milliseconds after a chunk's first event (it waits: for throughput, not
    for latency). Per call: ``llm.astream(msgs, coalesce_ms=5)``."""
    rate_limiter: BaseRateLimiter | None = Field(default=None, exclude=True)
    """LangChain's limiter (e.g. ``InMemoryRateLimiter``: requests per second, called by LangChain before each
    call), or a ``RateLimitGovernor`` (``cerebras_adapters.governor``): token-aware, per key and model, paced by the
    server's ``x-ratelimit-*`` headers before each attempt, shared between processes over Redis
    (docs/rate-limits.md). A governor is kept as ``GovernorRateLimiter(governor)`` so LangChain's call-level
    limiting leaves it alone."""
    http_client: httpx.Client | None = Field(default=None, exclude=True)
    """An httpx.Client to send through (proxies, custom transports); one is made when not given."""
    http_async_client: httpx.AsyncClient | None = Field(default=None, exclude=True)
    proxy: str | None = Field(default=None, validation_alias=AliasChoices("proxy", "cerebras_proxy"), repr=False)
    """Proxy URL every request goes through (``http://user:pass@host:port``); defaults to ``CEREBRAS_PROXY`` when
    no ``http_client`` is given. ``cerebras_proxy`` (langchain-cerebras's name) is accepted too. Kept out of the
    repr and serialised as a secret: the URL may carry credentials."""
    disabled_params: dict[str, Any] | None = None
    """Parameters ``with_structured_output`` must not set by itself, as in langchain-openai
    (docs/api-facts.md#langchain-drop-in-conventions): ``{"param": None}``
    never, ``{"param": [values]}`` not those values (e.g. ``{"parallel_tool_calls": None}``). A parameter passed
    explicitly (``invoke``, ``bind``, ``bind_tools``) is still sent."""

    # -- Cerebras options (cerebras_adapters.options.ChatCompletionOptions) --------------------------------
    max_completion_tokens: int | None = Field(default=None, alias="max_tokens")
    """Most tokens to generate, reasoning included (``max_tokens`` is accepted as an alias)."""
    min_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    n: int | None = None
    """Number of choices; each becomes a generation of the ChatResult."""
    stop: list[str] | str | None = Field(default=None, alias="stop_sequences")
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logit_bias: dict[str | int, float] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    reasoning_effort: ReasoningEffort | None = None
    reasoning_format: ReasoningFormat | None = None
    clear_thinking: bool | None = None
    disable_reasoning: bool | None = None
    """Deprecated by Cerebras: sent as ``reasoning_effort="none"`` with a DeprecationWarning."""
    parallel_tool_calls: bool | None = None
    prediction: dict[str, Any] | None = None
    service_tier: ServiceTier | None = None
    queue_threshold: int | None = None
    """Milliseconds (50-20000), sent as the ``queue_threshold`` header; only with service_tier flex/auto."""
    prompt_cache_key: str | None = None
    plugins: list[dict[str, Any]] | None = None
    """OpenRouter plugins, e.g. ``[{"id": "web", "max_results": 5}]`` for web search (OpenRouter route only: the
    direct route refuses them, Cerebras has no web search). Citations come back in
    ``response_metadata["annotations"]`` and as standard citations in ``content_blocks``."""
    user: str | None = None
    model_parameters: dict[str, Any] | None = None
    stream_options: dict[str, Any] | None = None
    """Sent as is; Cerebras puts usage on the final chunk of every stream regardless."""
    api_version: int | None = None
    """Sent as the ``X-Cerebras-Version-Patch`` header."""
    extra_body: dict[str, Any] | None = None
    extra_headers: dict[str, str] | None = None
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """More options passed to ``create`` as they are (validated by the core like any other)."""

    _client: CerebrasClient | None = PrivateAttr(default=None)
    _async_clients: PerLoopClients[AsyncCerebrasClient] = PrivateAttr(default_factory=PerLoopClients)

    if not TYPE_CHECKING:  # type checkers keep the signature pydantic derives from the fields

        def __init__(self, **kwargs: Any) -> None:
            _move_unknown_arguments(kwargs)
            _wrap_governor(kwargs)
            super().__init__(**kwargs)
            # Outside pydantic's validators, so that the core's RequestValidationError reaches the caller as is.
            self._check_options_now()
            check_coalesce(self.coalesce, self.coalesce_ms, True, self.model_name)

    @model_validator(mode="after")
    def _settings_from_environment(self) -> Self:
        if self.api_key is None:
            env = resolve_route(self.route).api_key_env
            if os.environ.get(env):
                self.api_key = SecretStr(os.environ[env])
        if self.proxy is None and self.http_client is None and self.http_async_client is None:
            self.proxy = os.environ.get("CEREBRAS_PROXY") or None  # langchain-cerebras's variable
        return self

    def _check_options_now(self) -> None:
        """The core's request checks (``prepare_chat_request``: types, shapes and the rules of ``_rules``) on the
        options given to the constructor, so that one the model refuses (gpt-oss with ``reasoning_effort="none"``)
        fails here, not on the first call. ``validation`` decides as on a call; a model of no known family skips
        the per-model rules. Options passed through ``model_kwargs`` are checked on each call."""
        options = {name: value for name, value in self.__dict__.items() if name in _OPTION_FIELDS and value is not None}
        if not options or self.validation == "off":
            return
        with warnings.catch_warnings():
            # Said on every call that sends it; not twice for one constructor.
            warnings.filterwarnings("ignore", "disable_reasoning is deprecated", DeprecationWarning)
            prepare_chat_request(
                self.model_name,
                [{"role": "user", "content": "."}],
                False,  # a stream in JSON mode is served as one call (_output.open_stream): never refused as a stream
                options,
                catalog=default_catalog(),
                unsupported_params=self.unsupported_params,
                validation=self.validation,
            )

    # -- langchain-cerebras's names for our fields --------------------------------------------------------------
    @property
    def model(self) -> str:
        """The model id (``model_name``)."""
        return self.model_name

    @property
    def request_timeout(self) -> float | None:
        """The read timeout (``timeout``)."""
        return self.timeout

    @request_timeout.setter
    def request_timeout(self, value: float | None) -> None:
        self.timeout = value

    @property
    def cerebras_api_key(self) -> SecretStr | None:
        """The API key (``api_key``), as langchain-cerebras names it."""
        return self.api_key

    @cerebras_api_key.setter
    def cerebras_api_key(self, value: SecretStr | str | None) -> None:
        self.api_key = SecretStr(value) if isinstance(value, str) else value

    @property
    def cerebras_api_base(self) -> str:
        """The base URL requests go to: ``base_url``, else the route's environment variable, else its default
        (langchain-cerebras's name; resolved by the core, as for a request)."""
        return resolve_base_url(resolve_route(self.route), self.base_url)

    @cerebras_api_base.setter
    def cerebras_api_base(self, value: str | None) -> None:
        self.base_url = value

    @property
    def cerebras_proxy(self) -> str | None:
        """The proxy URL (``proxy``), as langchain-cerebras names it."""
        return self.proxy

    @cerebras_proxy.setter
    def cerebras_proxy(self, value: str | None) -> None:
        self.proxy = value

    @property
    def max_tokens(self) -> int | None:
        """``max_completion_tokens`` under the name LangChain's other chat models use."""
        return self.max_completion_tokens

    @max_tokens.setter
    def max_tokens(self, value: int | None) -> None:
        self.max_completion_tokens = value

    # -- identity -------------------------------------------------------------------------------------------
    @property
    def _llm_type(self) -> str:
        return "cerebras-chat"

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["cerebras_adapters", "langchain", "chat_models"]

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": resolve_route(self.route).api_key_env, "proxy": "CEREBRAS_PROXY"}

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "route": self._route_name, **self._default_options()}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="cerebras", ls_model_name=kwargs.get("model", self.model_name), ls_model_type="chat"
        )
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_completion_tokens", kwargs.get("max_tokens", self.max_completion_tokens))
        if max_tokens is not None:
            params["ls_max_tokens"] = max_tokens
        stop_value = stop or kwargs.get("stop") or self.stop
        if stop_value:
            params["ls_stop"] = [stop_value] if isinstance(stop_value, str) else list(stop_value)
        return params

    def _resolve_model_profile(self) -> ModelProfile | None:
        info = default_catalog().get(self.model_name)
        if info is None:
            return None
        profile = ModelProfile(
            status=info.status,
            text_inputs=True,
            image_inputs=info.vision,
            image_url_inputs=False,
            pdf_inputs=False,
            audio_inputs=False,
            video_inputs=False,
            text_outputs=True,
            reasoning_output=info.reasoning != "none",
            tool_calling=info.tools,
            # Forcing a tool call: gpt-oss accepts only tool_choice auto/none (docs/api-facts.md#tool-choice).
            tool_choice=info.tools and info.forcing_tool_choice() == "required",
            tool_call_streaming=info.tools,
            # Native structured output (response_format json_schema): LangChain's create_agent then uses
            # ProviderStrategy, which forces no tool call (docs/api-facts.md#langchain-agents-and-structured-output).
            # With tools too, a call is served in two requests (_split_tools_and_format).
            structured_output=info.structured_outputs,
        )
        if info.context_window:
            profile["max_input_tokens"] = info.context_window
        if info.max_output_tokens:
            profile["max_output_tokens"] = info.max_output_tokens
        if info.reasoning_efforts:
            profile["reasoning_effort_levels"] = list(info.reasoning_efforts)
        if info.default_reasoning_effort:
            profile["reasoning_effort_default"] = info.default_reasoning_effort
        return profile

    # -- clients --------------------------------------------------------------------------------------------
    @property
    def _route_name(self) -> str:
        return self.route if isinstance(self.route, str) else self.route.name

    def _client_kwargs(self) -> dict[str, Any]:
        limiter = self.rate_limiter
        governor = limiter.governor if isinstance(limiter, GovernorRateLimiter) else None
        return adapter_client_kwargs(self, self.base_url, governor)

    @property
    def client(self) -> CerebrasClient:
        """The core client behind this model (built on first use)."""
        if self._client is None:
            self._client = CerebrasClient(**self._client_kwargs(), http_client=self.http_client)
        return self._client

    @property
    def async_client(self) -> AsyncCerebrasClient:
        """The async core client for the running event loop (one per loop: connections belong to a loop; it is
        closed when the loop shuts down)."""
        return self._async_clients.get(None, self._build_async_client)

    def _build_async_client(self) -> AsyncCerebrasClient:
        return AsyncCerebrasClient(**self._client_kwargs(), http_client=self.http_async_client)

    # -- options --------------------------------------------------------------------------------------------
    def _default_options(self) -> dict[str, Any]:
        values = self.__dict__
        options = {name: values[name] for name in _OPTION_FIELDS if values[name] is not None}
        if self.model_kwargs:
            options.update(self.model_kwargs)
        return options

    def _call(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, kwargs: Mapping[str, Any]
    ) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
        options = self._default_options()
        model = self.model_name
        for name, value in kwargs.items():
            if name in _LANGCHAIN_KWARGS:
                continue
            if name == "model":
                model = value or model
            elif name == "max_tokens":
                options["max_completion_tokens"] = value
            else:
                options[name] = value
        if stop is not None:
            options["stop"] = stop
        if not options.get("stop"):
            options.pop("stop", None)  # LangChain passes stop=[] for "no stop sequences"
        return model, messages_to_wire(model, messages, self._route_name), options

    def _coalescing(self, model: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """The core's stream coalescing options: the fields, or this call's ``coalesce``/``coalesce_ms``."""
        return adapter_coalescing(self, kwargs, model)

    # -- calls ----------------------------------------------------------------------------------------------
    def _split_tools_and_format(self, options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """For a call with tools and a JSON ``response_format``: (the tool request's options, the answer request's
        options); None for any other call.

        The API takes tools and a response_format only in separate requests
        (docs/api-facts.md#tools-and-response-format), while LangChain sends them together: create_agent's
        ProviderStrategy binds an agent's tools and its schema at once. Such a call is served by a request with
        the tools and without the response_format (the model calls tools or answers); when it answers without
        calling a tool, a second request with the response_format and without the tools gives the schema-shaped
        answer that is returned (its usage counts both requests). With ``validation="off"`` the call is sent as
        given."""
        fmt = options.get("response_format")
        if (
            self.validation == "off"
            or not options.get("tools")
            or not isinstance(fmt, Mapping)
            or fmt.get("type") not in ("json_object", "json_schema")
        ):
            return None
        tool_request = {name: value for name, value in options.items() if name != "response_format"}
        answer_request = {name: value for name, value in options.items() if name not in _TOOL_OPTIONS}
        return tool_request, answer_request

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        model, wire, options = self._call(messages, stop, kwargs)
        create = self.client.chat.completions.create
        split = self._split_tools_and_format(options)
        if split is None:
            return _chat_result(create(model=model, messages=wire, **options))
        first = create(model=model, messages=wire, **split[0])
        if _calls_a_tool(first):
            return _chat_result(first)
        return _chat_result(create(model=model, messages=wire, **split[1]), spent=first.usage)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        model, wire, options = self._call(messages, stop, kwargs)
        create = self.async_client.chat.completions.create
        split = self._split_tools_and_format(options)
        if split is None:
            return _chat_result(await create(model=model, messages=wire, **options))
        first = await create(model=model, messages=wire, **split[0])
        if _calls_a_tool(first):
            return _chat_result(first)
        return _chat_result(await create(model=model, messages=wire, **split[1]), spent=first.usage)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        model, wire, options = self._call(messages, stop, kwargs)
        split = self._split_tools_and_format(options)
        coalescing = self._coalescing(model, kwargs)
        spent: Usage | None = None
        stream: Stream | WholeStream
        if split is None:
            # JSON mode, which Cerebras cannot stream, comes back from open_stream as one non-streamed answer.
            stream = open_stream(self.client, model=model, messages=wire, options={**options, **coalescing})
        else:
            # The tool request is not streamed: whether its answer is the result is known only at its end.
            first = self.client.chat.completions.create(model=model, messages=wire, **split[0])
            if _calls_a_tool(first):
                stream = WholeStream(first)
            else:
                spent = first.usage
                stream = open_stream(self.client, model=model, messages=wire, options={**split[1], **coalescing})
        translator = StreamTranslator(spent)
        translate = translator.translate
        on_token = run_manager.on_llm_new_token if run_manager is not None else None
        try:
            for chunk in stream:
                generation = translate(chunk)
                if generation is None:
                    continue
                if on_token is not None:
                    on_token(generation.text, chunk=generation)
                yield generation
        finally:
            stream.close()
        generation = translator.final()
        if on_token is not None:
            on_token(generation.text, chunk=generation)
        yield generation

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        model, wire, options = self._call(messages, stop, kwargs)
        split = self._split_tools_and_format(options)
        coalescing = self._coalescing(model, kwargs)
        spent: Usage | None = None
        chunks: AsyncGenerator[ChatCompletionChunk, None]
        if split is None:
            chunks = aopen_stream(self.async_client, model=model, messages=wire, options={**options, **coalescing})
        else:
            first = await self.async_client.chat.completions.create(model=model, messages=wire, **split[0])
            if _calls_a_tool(first):
                chunks = _replay(completion_as_chunks(first))
            else:
                spent = first.usage
                chunks = aopen_stream(
                    self.async_client, model=model, messages=wire, options={**split[1], **coalescing}
                )
        translator = StreamTranslator(spent)
        translate = translator.translate
        try:
            async for chunk in chunks:
                generation = translate(chunk)
                if generation is None:
                    continue
                if run_manager is not None:
                    await run_manager.on_llm_new_token(generation.text, chunk=generation)
                yield generation
        finally:
            await chunks.aclose()
        generation = translator.final()
        if run_manager is not None:
            await run_manager.on_llm_new_token(generation.text, chunk=generation)
        yield generation

    # -- tools and structured output -------------------------------------------------------------------------
    def _not_disabled(self, settings: dict[str, Any]) -> dict[str, Any]:
        """``settings`` without those ``disabled_params`` rules out (langchain-openai's meaning: a key mapped to
        None is never set, one mapped to a list is not set to those values)."""
        disabled = self.disabled_params or {}
        return {
            name: value
            for name, value in settings.items()
            if not (name in disabled and (disabled[name] is None or value in disabled[name]))
        }

    def bind_tools(
        self,
        tools: Sequence[Mapping[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | bool | Mapping[str, Any] | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (any LangChain tool form). ``tool_choice``: ``"auto"``, ``"none"``, ``"required"`` (also
        ``"any"`` or ``True``), or a tool name. ``strict=True`` makes every tool schema strict-compatible and
        checks it against Cerebras's strict-mode limits."""
        formatted = [_tool_to_wire(tool, strict) for tool in tools]
        if formatted:  # no tools at all sends none (create_agent binds [] with ProviderStrategy)
            kwargs["tools"] = formatted
        if tool_choice is not None and tool_choice is not False:
            kwargs["tool_choice"] = tool_choice_for(tool_choice, formatted)
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(**kwargs)

    def with_structured_output(
        self,
        schema: Mapping[str, Any] | type,
        *,
        method: Literal["json_schema", "function_calling", "json_mode"] = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Structured output. ``method="json_schema"`` (default) sends a strict ``response_format`` built from
        the schema (made strict-compatible, limits checked); ``"function_calling"`` forces a tool call;
        ``"json_mode"`` asks for any JSON object (put the schema in the prompt).

        With ``"function_calling"`` on a model that cannot be forced to call a tool (gpt-oss accepts only
        tool_choice auto/none), the tool is offered with ``tool_choice="auto"``; an answer that calls no tool is
        then an ``OutputParserException`` (``parsing_error`` with ``include_raw=True``), never a ``None``.
        ``disabled_params`` keeps ``tool_choice``/``parallel_tool_calls``/``strict`` from being set here."""
        if kwargs:
            raise RequestValidationError(
                f"Unexpected arguments {sorted(kwargs)}.",
                param=sorted(kwargs)[0],
                model=self.model_name,
                fix="see ChatCerebras.with_structured_output",
            )
        from langchain_core.output_parsers import JsonOutputKeyToolsParser, JsonOutputParser, PydanticOutputParser
        from langchain_core.output_parsers.openai_tools import PydanticToolsParser
        from langchain_core.runnables import RunnableLambda, RunnableMap, RunnablePassthrough
        from langchain_core.utils.pydantic import is_basemodel_subclass

        is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)  # pydantic v2 or v1
        parser: Runnable[Any, Any]
        if method == "function_calling":
            # Forced where the model allows it; gpt-oss rejects anything but auto/none (catalog).
            info = default_catalog().get(self.model_name)
            choice = info.forcing_tool_choice() if info is not None else "required"
            settings = self._not_disabled({"tool_choice": choice, "parallel_tool_calls": False, "strict": strict})
            tool = _tool_to_wire(schema, settings.pop("strict", None))
            name = tool["function"]["name"]
            llm = self.bind_tools(
                [tool], **settings, ls_structured_output_format={"kwargs": {"method": method}, "schema": schema}
            )
            tool_parser = (
                PydanticToolsParser(tools=[schema], first_tool_only=True)
                if is_pydantic
                else JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
            )
            parser = RunnableLambda(_ToolCallRequired(name, self.model_name, settings.get("tool_choice"))) | tool_parser
        elif method == "json_schema":
            response_format = json_schema_format(_json_schema(schema), strict=strict is not False)
            if strict is not False and self.validation == "strict":
                # Refused here, before the chain runs; under "warn" / "off" the core applies the same rules
                # on each call as configured (a warning, or nothing), and API v1 skips its v2-only rules.
                v2 = _api_version(self.api_version) >= 2
                check_strict_schema(
                    response_format["json_schema"]["schema"],
                    where="response_format.json_schema.schema",
                    model=self.model_name,
                    closed_objects=v2,
                    every_property_required=v2,
                )
            llm = self.bind(
                response_format=response_format,
                ls_structured_output_format={"kwargs": {"method": method}, "schema": schema},
            )
            parser = PydanticOutputParser(pydantic_object=schema) if is_pydantic else JsonOutputParser()
        elif method == "json_mode":
            llm = self.bind(
                response_format={"type": "json_object"},
                ls_structured_output_format={"kwargs": {"method": method}, "schema": schema},
            )
            parser = PydanticOutputParser(pydantic_object=schema) if is_pydantic else JsonOutputParser()
        else:
            raise RequestValidationError(
                f"Unknown method {method!r}.",
                param="method",
                model=self.model_name,
                fix="use json_schema, function_calling or json_mode",
            )
        if not include_raw:
            return llm | parser
        with_parsed = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
        without = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | with_parsed.with_fallbacks([without], exception_key="parsing_error")


def _constructor_names() -> frozenset[str]:
    """Every name ChatCerebras's constructor takes: field names, aliases and alias choices."""
    names: set[str] = set()
    for name, info in ChatCerebras.model_fields.items():
        names.add(name)
        if info.alias:
            names.add(info.alias)
        choices = info.validation_alias
        if isinstance(choices, str):
            names.add(choices)
        elif isinstance(choices, AliasChoices):
            names.update(choice for choice in choices.choices if isinstance(choice, str))
    return frozenset(names)


def _move_unknown_arguments(kwargs: dict[str, Any]) -> None:
    """Constructor arguments ChatCerebras does not know go to ``model_kwargs`` with a warning, as in ChatOpenAI and
    langchain-cerebras (docs/api-facts.md#langchain-drop-in-conventions): each is then sent with every request,
    where the core refuses a name the API does not know (``UnsupportedParameterError`` naming it) on the first
    call instead of the argument vanishing."""
    known = _CONSTRUCTOR_NAMES
    unknown = [name for name in kwargs if name not in known]
    if not unknown:
        return
    model_kwargs = dict(kwargs.get("model_kwargs") or {})
    for name in unknown:
        if name in model_kwargs:
            raise RequestValidationError(
                f"{name} is given both as an argument and in model_kwargs.",
                param=name,
                fix=f"pass {name} once",
            )
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        warnings.warn(
            f"{name!r} is not a ChatCerebras parameter: it was moved to model_kwargs and is sent with every request, "
            f"where an option the API does not know is refused.{hint}",
            UserWarning,
            stacklevel=3,
        )
        model_kwargs[name] = kwargs.pop(name)
    kwargs["model_kwargs"] = model_kwargs


def _wrap_governor(kwargs: dict[str, Any]) -> None:
    """``rate_limiter``: LangChain's limiters as they are; a ``RateLimitGovernor`` wrapped for the core clients
    (``GovernorRateLimiter``); anything else refused naming it (pydantic's error would not say what fits)."""
    value = kwargs.get("rate_limiter")
    if value is not None:
        from ..governor import adapter_rate_limiter  # only when a limiter is given

        example = "langchain_core.rate_limiters.InMemoryRateLimiter"
        kwargs["rate_limiter"] = adapter_rate_limiter(value, GovernorRateLimiter, BaseRateLimiter, "LangChain", example)


# Time limits are client settings (``_client_kwargs``); a per-call ``timeout=``/``deadline=`` still reaches the core.
_CLIENT_FIELDS = ("max_tokens", "timeout", "attempt_timeout", "deadline")
_OPTION_FIELDS = tuple(
    name for name in ChatCerebras.model_fields if name in OPTION_NAMES and name not in _CLIENT_FIELDS
)
_CONSTRUCTOR_NAMES = _constructor_names()


# A tool request's options that an answer request (_split_tools_and_format) leaves out.
_TOOL_OPTIONS = frozenset({"tools", "tool_choice", "parallel_tool_calls"})


def _calls_a_tool(result: ChatCompletion) -> bool:
    return any(tool_call_dicts(choice.message.tool_calls) for choice in result.choices)


async def _replay(chunks: list[ChatCompletionChunk]) -> AsyncGenerator[ChatCompletionChunk, None]:
    for chunk in chunks:
        yield chunk


class _ToolCallRequired:
    """Passes on an answer that calls the ``name`` tool; otherwise an ``OutputParserException`` saying why (what
    would have been a silent ``None`` from the tool parsers)."""

    def __init__(self, name: str, model: str, tool_choice: Any) -> None:
        self.name = name
        self.model = model
        self.tool_choice = tool_choice

    def __call__(self, message: AIMessage) -> AIMessage:
        if any(call["name"] == self.name for call in message.tool_calls):
            return message
        if self.tool_choice == "auto":
            why = "it cannot be forced to call a tool (it takes tool_choice 'auto' or 'none' only), so 'auto' was sent"
        elif self.tool_choice is None:
            why = "tool_choice is disabled (disabled_params), so the call was not forced"
        else:
            why = f"the answer ended with finish_reason={message.response_metadata.get('finish_reason')!r}"
        raise OutputParserException(
            f"{self.model} answered without calling the {self.name} tool: {why}. "
            "Fix: use method='json_schema' (the default), which constrains the answer to the schema.",
            llm_output=message.text,
        )


def _chat_result(result: ChatCompletion, spent: Usage | None = None) -> ChatResult:
    """The ChatResult of a completion; ``spent``: the usage of an earlier request of the same call, added in."""
    generations: list[ChatGeneration] = [
        chat_generation(completion_to_message(result, index, spent), choice.finish_reason)
        for index, choice in enumerate(result.choices)
    ]
    usage = result.usage.to_dict() if result.usage is not None else {}
    llm_output: dict[str, Any] = {"model_name": result.model, "token_usage": usage}
    if result.system_fingerprint:
        # Only when sent: langchain-core copies llm_output into a lone generation's response_metadata, where a
        # None would stand for a fingerprint the response never had (OpenRouter sends none).
        llm_output["system_fingerprint"] = result.system_fingerprint
    return ChatResult(generations=generations, llm_output=llm_output)


def _api_version(value: object) -> int:
    """The API version a request will use (2 unless set), read leniently: the core refuses a bad value itself."""
    try:
        return int(str(value).strip()) if value is not None else 2
    except ValueError:
        return 2


def _json_schema(schema: Mapping[str, Any] | type) -> dict[str, Any]:
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_json_schema()
    from langchain_core.utils.function_calling import convert_to_json_schema

    return dict(convert_to_json_schema(schema))  # type: ignore[arg-type]  # pydantic v1, TypedDict, JSON schema


def _tool_to_wire(
    tool: Mapping[str, Any] | type | Callable[..., Any] | BaseTool, strict: bool | None
) -> dict[str, Any]:
    from langchain_core.utils.function_calling import convert_to_openai_tool

    formatted: dict[str, Any] = convert_to_openai_tool(tool, strict=strict)
    return strict_tool(formatted) if strict else formatted


# OpenRouterRoute is part of this module's public vocabulary (``ChatCerebras(route=OpenRouterRoute(...))``).
_ = OpenRouterRoute
