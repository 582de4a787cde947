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

import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any, Literal

import httpx
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput
from langchain_core.language_models.model_profile import ModelProfile
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.output_parsers import JsonOutputKeyToolsParser, JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.base import OutputParserLike
from langchain_core.output_parsers.openai_tools import PydanticToolsParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator
from typing_extensions import Self

from .._client import AsyncCerebrasClient, CerebrasClient
from .._loop_pool import PerLoopClients
from .._output import aopen_stream, open_stream
from ..catalog import default_catalog
from ..errors import RequestValidationError
from ..options import OPTION_NAMES, ReasoningEffort, ReasoningFormat, ServiceTier
from ..routes import OpenRouterRoute, Route, resolve_route
from ..schema import check_strict_schema, make_strict
from ..types import ChatCompletion
from ._convert import StreamTranslator, chat_generation, completion_to_message, messages_to_wire

__all__ = ["ChatCerebras"]

# LangChain keyword arguments that are not Cerebras options.
_LANGCHAIN_KWARGS = frozenset({"stream", "stream_usage"})


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
    timeout: float | None = None
    """Read timeout in seconds (default 60; connect 5)."""
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
    http_client: httpx.Client | None = Field(default=None, exclude=True)
    """An httpx.Client to send through (proxies, custom transports); one is made when not given."""
    http_async_client: httpx.AsyncClient | None = Field(default=None, exclude=True)

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

    @model_validator(mode="after")
    def _key_from_environment(self) -> Self:
        if self.api_key is None:
            env = resolve_route(self.route).api_key_env
            if os.environ.get(env):
                self.api_key = SecretStr(os.environ[env])
        return self

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
        return {"api_key": resolve_route(self.route).api_key_env}

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
            tool_choice=info.tools,
            tool_call_streaming=info.tools,
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
        kwargs: dict[str, Any] = {
            "api_key": self.api_key.get_secret_value() if self.api_key is not None else None,
            "base_url": self.base_url,
            "route": self.route,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "default_headers": self.default_headers,
            "unsupported_params": self.unsupported_params,
            "validation": self.validation,
        }
        # Only when set: ``None`` means the core's defaults (600 s per attempt, no deadline), not "unbounded".
        if self.attempt_timeout is not None:
            kwargs["attempt_timeout"] = self.attempt_timeout
        if self.deadline is not None:
            kwargs["deadline"] = self.deadline
        return kwargs

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

    # -- calls ----------------------------------------------------------------------------------------------
    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        model, wire, options = self._call(messages, stop, kwargs)
        return _chat_result(self.client.chat.completions.create(model=model, messages=wire, **options))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        model, wire, options = self._call(messages, stop, kwargs)
        return _chat_result(await self.async_client.chat.completions.create(model=model, messages=wire, **options))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        model, wire, options = self._call(messages, stop, kwargs)
        # JSON mode, which Cerebras cannot stream, comes back from open_stream as one non-streamed answer.
        stream = open_stream(self.client, model=model, messages=wire, options=options)
        translator = StreamTranslator()
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
        chunks = aopen_stream(self.async_client, model=model, messages=wire, options=options)
        translator = StreamTranslator()
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
        if tool_choice is not None and tool_choice is not False:
            kwargs["tool_choice"] = _tool_choice(tool_choice, formatted)
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(tools=formatted, **kwargs)

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
        ``"json_mode"`` asks for any JSON object (put the schema in the prompt)."""
        if kwargs:
            raise RequestValidationError(
                f"Unexpected arguments {sorted(kwargs)}.",
                param=sorted(kwargs)[0],
                model=self.model_name,
                fix="see ChatCerebras.with_structured_output",
            )
        is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)  # pydantic v2 or v1
        parser: OutputParserLike[Any]
        if method == "function_calling":
            tool = _tool_to_wire(schema, strict)
            name = tool["function"]["name"]
            # Forced where the model allows it; gpt-oss rejects anything but auto/none (catalog).
            info = default_catalog().get(self.model_name)
            llm = self.bind_tools(
                [tool],
                tool_choice=info.forcing_tool_choice() if info is not None else "required",
                parallel_tool_calls=False,
                ls_structured_output_format={"kwargs": {"method": method}, "schema": schema},
            )
            parser = (
                PydanticToolsParser(tools=[schema], first_tool_only=True)
                if is_pydantic
                else JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
            )
        elif method == "json_schema":
            json_schema = _json_schema(schema)
            name = str(json_schema.pop("title", None) or "output")
            description = json_schema.pop("description", None)
            if strict is not False:
                json_schema = make_strict(json_schema)
                if self.validation == "strict":
                    # Refused here, before the chain runs; under "warn" / "off" the core applies the same rules
                    # on each call as configured (a warning, or nothing), and API v1 skips its v2-only rules.
                    v2 = _api_version(self.api_version) >= 2
                    check_strict_schema(
                        json_schema,
                        where="response_format.json_schema.schema",
                        model=self.model_name,
                        closed_objects=v2,
                        every_property_required=v2,
                    )
            spec: dict[str, Any] = {"name": _safe_name(name), "schema": json_schema, "strict": strict is not False}
            if description:
                spec["description"] = description
            llm = self.bind(
                response_format={"type": "json_schema", "json_schema": spec},
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


# Time limits are client settings (``_client_kwargs``); a per-call ``timeout=``/``deadline=`` still reaches the core.
_CLIENT_FIELDS = ("max_tokens", "timeout", "attempt_timeout", "deadline")
_OPTION_FIELDS = tuple(
    name for name in ChatCerebras.model_fields if name in OPTION_NAMES and name not in _CLIENT_FIELDS
)


def _chat_result(result: ChatCompletion) -> ChatResult:
    generations: list[ChatGeneration] = [
        chat_generation(completion_to_message(result, index), choice.finish_reason)
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
    return dict(convert_to_json_schema(schema))  # type: ignore[arg-type]  # pydantic v1, TypedDict, JSON schema


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "_-" else "_" for c in name)
    return cleaned[:64] or "output"


def _tool_to_wire(
    tool: Mapping[str, Any] | type | Callable[..., Any] | BaseTool, strict: bool | None
) -> dict[str, Any]:
    formatted = convert_to_openai_tool(tool, strict=strict)
    if strict:
        fn = formatted["function"]
        fn["parameters"] = make_strict(fn.get("parameters") or {"type": "object", "properties": {}})
        fn["strict"] = True
    return formatted


def _tool_choice(choice: str | bool | Mapping[str, Any], tools: Sequence[Mapping[str, Any]]) -> Any:
    if choice is True or choice == "any":
        return "required"
    if isinstance(choice, str) and choice not in ("auto", "none", "required"):
        names = [t["function"]["name"] for t in tools]
        if choice not in names:
            raise RequestValidationError(
                f"tool_choice {choice!r} names no bound tool ({names}).",
                param="tool_choice",
                fix="pass the name of one of the bound tools",
            )
        return {"type": "function", "function": {"name": choice}}
    return choice


# OpenRouterRoute is part of this module's public vocabulary (``ChatCerebras(route=OpenRouterRoute(...))``).
_ = OpenRouterRoute
