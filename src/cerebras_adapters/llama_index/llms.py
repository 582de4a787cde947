"""``Cerebras``: a LlamaIndex LLM on the cerebras_adapters core.

This module owns the LlamaIndex surface only: fields, per-call option merging, the sync/async/streaming entry
points of ``FunctionCallingLLM``, tool calling (``chat_with_tools``, ``get_tool_calls_from_response``) and
structured output (``structured_predict``, ``as_structured_llm``). Everything else is the core's: validation
(``RequestValidationError`` before any request), routes, retries, timeouts, SSE parsing, reasoning replay and
strict schemas; what a response surfaces is the shared output layer's (``_convert``). Core errors reach the caller
unchanged (``cerebras_adapters.RateLimitError``, ``APITimeoutError``, …): LlamaIndex has no exception types of its
own for an LLM to map them to.

Model facts (context window, output limit, tool calling, structured outputs, which ``tool_choice`` forces a call)
come from the catalog, so a new model of a known family needs no code here.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncGenerator, Generator, Sequence
from typing import TYPE_CHECKING, Any, Literal

import httpx
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import Field, PrivateAttr, SecretStr
from llama_index.core.constants import DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUTS
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json
from llama_index.core.types import Model, PydanticProgramMode
from pydantic import BaseModel

from .._client import (
    AsyncCerebrasClient,
    CerebrasClient,
    adapter_client_kwargs,
    adapter_coalescing,
    check_coalesce,
)
from .._loop_pool import PerLoopClients
from .._output import aopen_stream, open_stream
from .._request import prepare_chat_request
from .._request_parts import json_schema_format, strict_tool, tool_choice_for
from ..catalog import ModelInfo, default_catalog
from ..errors import RequestValidationError
from ..options import OPTION_NAMES, ReasoningEffort, ReasoningFormat, ServiceTier
from ..routes import Route, resolve_route
from ._convert import StreamAssembler, chat_response, completion_response, messages_to_wire, tool_calls_of

if TYPE_CHECKING:
    from llama_index.core.prompts import PromptTemplate
    from llama_index.core.tools.types import BaseTool

    from ..governor import RateLimitGovernor

__all__ = ["Cerebras", "GovernorRateLimiter"]

try:  # llama-index-core 0.14.x added per-call limiters (BaseLLM.rate_limiter); the first 0.14 releases have none
    from llama_index.core.rate_limiter import BaseRateLimiter as _LlamaIndexLimiter
except ImportError:  # pragma: no cover - exercised by the lowest pinned set (compat/lowest.txt)
    _LlamaIndexLimiter = None  # type: ignore[assignment,misc]


class GovernorRateLimiter(*((_LlamaIndexLimiter,) if _LlamaIndexLimiter is not None else ())):  # type: ignore[misc]
    """A ``RateLimitGovernor`` in the ``rate_limiter`` field of a ``Cerebras`` LLM (which builds it:
    ``Cerebras(rate_limiter=governor)``; ``llm.rate_limiter.governor`` is the governor).

    LlamaIndex calls an LLM's limiter once per call, before it, knowing nothing of the request. The governor instead
    paces every attempt in the LLM's core clients, by the request's tokens and the server's headers, so LlamaIndex's
    ``acquire`` admits at once here. Another LLM given this limiter is paced by nothing: give it LlamaIndex's own."""

    def __init__(self, governor: RateLimitGovernor) -> None:
        from ..governor import require_governor

        self.governor = require_governor(governor, "pass Cerebras(rate_limiter=RateLimitGovernor())")

    def __repr__(self) -> str:
        return f"GovernorRateLimiter({self.governor!r})"

    def acquire(self, num_tokens: int = 0) -> None:
        return None

    async def async_acquire(self, num_tokens: int = 0) -> None:
        return None


class Cerebras(FunctionCallingLLM):
    """Cerebras Inference as a LlamaIndex LLM, with every Cerebras option.

    ``Cerebras(model="gpt-oss-120b", reasoning_effort="low")``; every option can also be passed per call
    (``llm.chat(messages, reasoning_effort="high")``). ``route="openrouter"`` sends the same calls through
    OpenRouter pinned to Cerebras (key from ``OPENROUTER_API_KEY``). Replaces ``llama_index.llms.cerebras.Cerebras``
    (same class name and constructor arguments; docs/migrating.md lists what differs).
    """

    model: str = Field(default="gpt-oss-120b", description="Cerebras model id, e.g. gpt-oss-120b or zai-glm-4.7.")
    api_key: SecretStr | None = Field(
        default=None, exclude=True, description="Defaults to CEREBRAS_API_KEY (OPENROUTER_API_KEY on that route)."
    )
    api_base: str | None = Field(
        default=None, description="Base URL including /v1; defaults to the route's (CEREBRAS_BASE_URL, else the API)."
    )
    route: Literal["cerebras", "openrouter"] | Route = Field(
        default="cerebras", description='"cerebras" (direct), "openrouter" (pinned to Cerebras) or a Route.'
    )
    timeout: float | None = Field(default=None, description="Read timeout in seconds (default 60; connect 5).")
    attempt_timeout: float | None = Field(default=None, description="Seconds for one attempt, streams included.")
    deadline: float | None = Field(default=None, description="Seconds for the whole call, retries included.")
    max_retries: int = Field(default=2, description="Retries on 429/5xx/connection errors (the core's policy).")
    default_headers: dict[str, str] | None = Field(default=None, description="Headers sent with every request.")
    unsupported_params: Literal["raise", "drop"] = Field(
        default="raise", description="An option the API does not know: raise (default) or drop with a warning."
    )
    validation: Literal["strict", "warn", "off"] = Field(
        default="strict", description="A request that breaks a rule: raise before sending, warn and send, or send."
    )
    http_client: httpx.Client | None = Field(default=None, exclude=True, description="An httpx.Client to send through.")
    async_http_client: httpx.AsyncClient | None = Field(
        default=None, exclude=True, description="An httpx.AsyncClient to send async calls through."
    )
    proxy: str | None = Field(default=None, exclude=True, description="Proxy URL; defaults to CEREBRAS_PROXY.")
    context_window: int | None = Field(
        default=None, description="Tokens of context; defaults to the catalog's value for the model."
    )
    is_chat_model: bool = Field(default=True, description="Always a chat model (kept for llama-index-llms-cerebras).")
    is_function_calling_model: bool | None = Field(
        default=None, description="Defaults to whether the catalog says the model calls tools."
    )
    strict: bool = Field(default=False, description="Send tool schemas as strict (made strict-compatible).")
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="More options sent with every request (validated by the core)."
    )
    coalesce: bool = Field(
        default=True,
        strict=True,
        description="Streams: each item merges the events already received (it never waits); False: one per event.",
    )
    coalesce_ms: float | None = Field(
        default=None,
        strict=True,
        description="Streams: keep merging for this many ms after an item's first event (throughput, not latency).",
    )
    rate_limiter: Any = Field(
        default=None,
        exclude=True,
        description="LlamaIndex's limiter (llama-index-core >= 0.14.x: per call), or a RateLimitGovernor "
        "(cerebras_adapters.governor: every attempt, by tokens and the server's headers), kept as "
        "GovernorRateLimiter(governor).",
    )

    # -- Cerebras options (cerebras_adapters.options.ChatCompletionOptions) ------------------------------------
    max_completion_tokens: int | None = Field(default=None, description="Most tokens to generate, reasoning included.")
    max_tokens: int | None = Field(default=None, description="Deprecated alias of max_completion_tokens.")
    min_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: list[str] | str | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logit_bias: dict[str | int, float] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    reasoning_effort: ReasoningEffort | None = None
    reasoning_format: ReasoningFormat | None = None
    clear_thinking: bool | None = None
    disable_reasoning: bool | None = Field(default=None, description="Deprecated: sent as reasoning_effort='none'.")
    parallel_tool_calls: bool | None = None
    prediction: dict[str, Any] | None = None
    service_tier: ServiceTier | None = None
    queue_threshold: int | None = Field(default=None, description="Milliseconds (50-20000); service_tier flex/auto.")
    prompt_cache_key: str | None = None
    cache_control: dict[str, Any] | None = Field(default=None, description="OpenRouter's prompt-caching marker.")
    plugins: list[dict[str, Any]] | None = Field(default=None, description="OpenRouter plugins (web search).")
    user: str | None = None
    model_parameters: dict[str, Any] | None = None
    stream_options: dict[str, Any] | None = None
    api_version: int | None = Field(default=None, description="Sent as the X-Cerebras-Version-Patch header.")
    extra_body: dict[str, Any] | None = None
    extra_headers: dict[str, str] | None = None

    _client: CerebrasClient | None = PrivateAttr(default=None)
    _async_clients: PerLoopClients[AsyncCerebrasClient] = PrivateAttr(default_factory=PerLoopClients)

    def __init__(self, model: str | None = None, **kwargs: Any) -> None:
        if model is not None:
            kwargs["model"] = model
        if "base_url" in kwargs:  # the core's and ChatCerebras's name for api_base
            kwargs.setdefault("api_base", kwargs.pop("base_url"))
        _refuse_unknown_arguments(kwargs)
        _wrap_governor(kwargs)
        super().__init__(**kwargs)
        if self.api_key is None:
            env = resolve_route(self.route).api_key_env
            if os.environ.get(env):
                self.api_key = SecretStr(os.environ[env])
        if self.proxy is None and self.http_client is None and self.async_http_client is None:
            self.proxy = os.environ.get("CEREBRAS_PROXY") or None
        self._check_options_now()
        check_coalesce(self.coalesce, self.coalesce_ms, True, self.model)

    @classmethod
    def class_name(cls) -> str:
        return "Cerebras"

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Cerebras:
        """A deep copy builds its own core clients on first use (connections are not copied) and shares the
        ``http_client``/``async_http_client`` it was given."""
        memo = {} if memo is None else memo
        if self._client is not None:
            memo[id(self._client)] = None
        for shared in (self.http_client, self.async_http_client):
            if shared is not None:
                memo[id(shared)] = shared
        clone: Cerebras = super().__deepcopy__(memo)
        return clone

    def _check_options_now(self) -> None:
        """The core's request checks on the constructor's options, so that one the model refuses fails here, not on
        the first call (``validation`` decides, as on a call)."""
        options = self._default_options()
        if not options or self.validation == "off":
            return
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "disable_reasoning is deprecated", DeprecationWarning)
            prepare_chat_request(
                self.model,
                [{"role": "user", "content": "."}],
                False,
                options,
                catalog=default_catalog(),
                unsupported_params=self.unsupported_params,
                validation=self.validation,
            )

    # -- what the model is --------------------------------------------------------------------------------------
    @property
    def _info(self) -> ModelInfo | None:
        return default_catalog().get(self.model)

    @property
    def metadata(self) -> LLMMetadata:
        info = self._info
        context = self.context_window or (info.context_window if info is not None else None)
        output = self.max_completion_tokens or self.max_tokens
        if output is None or output < 0:  # -1: the model's maximum
            output = info.max_output_tokens if info is not None else None
        calls_tools = self.is_function_calling_model
        if calls_tools is None:
            calls_tools = info.tools if info is not None else True
        return LLMMetadata(
            context_window=context or DEFAULT_CONTEXT_WINDOW,
            num_output=output if output and output > 0 else DEFAULT_NUM_OUTPUTS,
            is_chat_model=self.is_chat_model,
            is_function_calling_model=calls_tools,
            model_name=self.model,
            system_role=MessageRole.SYSTEM,
        )

    # -- clients ------------------------------------------------------------------------------------------------
    @property
    def _route_name(self) -> str:
        return self.route if isinstance(self.route, str) else self.route.name

    def _client_kwargs(self) -> dict[str, Any]:
        limiter = self.rate_limiter
        governor = limiter.governor if isinstance(limiter, GovernorRateLimiter) else None
        return adapter_client_kwargs(self, self.api_base, governor)

    @property
    def client(self) -> CerebrasClient:
        """The core client behind this LLM (built on first use)."""
        if self._client is None:
            self._client = CerebrasClient(**self._client_kwargs(), http_client=self.http_client)
        return self._client

    @property
    def async_client(self) -> AsyncCerebrasClient:
        """The async core client of the running event loop (one per loop, closed when the loop shuts down)."""
        return self._async_clients.get(None, self._build_async_client)

    def _build_async_client(self) -> AsyncCerebrasClient:
        return AsyncCerebrasClient(**self._client_kwargs(), http_client=self.async_http_client)

    # -- options ------------------------------------------------------------------------------------------------
    def _default_options(self) -> dict[str, Any]:
        values = self.__dict__
        options = {name: values[name] for name in _OPTION_FIELDS if values[name] is not None}
        options.update(self.additional_kwargs)
        return options

    def _request(
        self, messages: Sequence[ChatMessage], kwargs: dict[str, Any], stream: bool = False
    ) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
        options = self._default_options()
        model = kwargs.pop("model", None) or self.model
        # ``coalesce``/``coalesce_ms`` are the core's stream settings, as in ChatCerebras: a call that does not
        # stream has nothing to merge, and takes them (e.g. from an agent's shared llm_kwargs) without effect.
        coalescing: dict[str, Any] = {name: kwargs.pop(name) for name in ("coalesce", "coalesce_ms") if name in kwargs}
        options.update(kwargs)
        if stream:
            options.update(adapter_coalescing(self, coalescing, model))
        elif coalescing:
            check_coalesce(coalescing.get("coalesce"), coalescing.get("coalesce_ms"), True, model)
        return model, messages_to_wire(model, self._extend_messages(list(messages)), self._route_name), options

    # -- chat ---------------------------------------------------------------------------------------------------
    # The public entry points carry LlamaIndex's callbacks (instrumentation events, token counting); complete and
    # friends call the undecorated ones below, so that one call is one LLM event, not two.
    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._chat(messages, kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return await self._achat(messages, kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._stream_chat(messages, kwargs)

    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        return self._astream_chat(messages, kwargs)

    def _chat(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> ChatResponse:
        model, wire, options = self._request(messages, kwargs)
        return chat_response(self.client.chat.completions.create(model=model, messages=wire, **options))

    async def _achat(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> ChatResponse:
        model, wire, options = self._request(messages, kwargs)
        return chat_response(await self.async_client.chat.completions.create(model=model, messages=wire, **options))

    def _stream_chat(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> ChatResponseGen:
        model, wire, options = self._request(messages, kwargs, stream=True)
        # Sent now, so that an error before the first byte is raised by stream_chat itself.
        stream = open_stream(self.client, model=model, messages=wire, options=options)

        def gen() -> ChatResponseGen:
            assembler = StreamAssembler()
            add = assembler.add
            try:
                for chunk in stream:
                    item = add(chunk)
                    if item is not None:
                        yield item
            finally:
                stream.close()
            yield assembler.final()

        return gen()

    def _astream_chat(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> ChatResponseAsyncGen:
        model, wire, options = self._request(messages, kwargs, stream=True)
        chunks = aopen_stream(self.async_client, model=model, messages=wire, options=options)

        async def gen() -> ChatResponseAsyncGen:
            assembler = StreamAssembler()
            add = assembler.add
            try:
                async for chunk in chunks:
                    item = add(chunk)
                    if item is not None:
                        yield item
            finally:
                await chunks.aclose()
            yield assembler.final()

        return gen()

    # -- complete (a prompt is one user message) ----------------------------------------------------------------
    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return completion_response(self._chat(_prompt(prompt), kwargs))

    @llm_completion_callback()
    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return completion_response(await self._achat(_prompt(prompt), kwargs))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        responses = self._stream_chat(_prompt(prompt), kwargs)

        def gen() -> CompletionResponseGen:
            for response in responses:
                yield completion_response(response)

        return gen()

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        responses = self._astream_chat(_prompt(prompt), kwargs)

        async def gen() -> CompletionResponseAsyncGen:
            async for response in responses:
                yield completion_response(response)

        return gen()

    # -- tools --------------------------------------------------------------------------------------------------
    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The ``chat`` arguments for a call offering ``tools``. ``tool_required`` sends the ``tool_choice`` that
        forces a call on this model (``"required"``; ``"auto"`` on gpt-oss, which takes only auto/none: the
        catalog's ``forcing_tool_choice``); ``tool_choice`` may also name a tool. ``strict`` (default: the
        ``strict`` field) sends strict schemas."""
        specs = [_tool_spec(tool, self.strict if strict is None else strict) for tool in tools]
        messages = list(chat_history or [])
        if user_msg is not None:
            if isinstance(user_msg, str):
                user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
            messages.append(user_msg)
        out: dict[str, Any] = {"messages": messages, **kwargs}
        if specs:
            out["tools"] = specs
            choice = tool_choice_for(tool_choice, specs) if tool_choice is not None else None
            if choice is None and tool_required:
                info = self._info
                choice = info.forcing_tool_choice() if info is not None else "required"
            if choice is not None:
                out["tool_choice"] = choice
            out["parallel_tool_calls"] = allow_parallel_tool_calls
        return out

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        """The tool calls of a response (a streamed item's are those so far: partial arguments read leniently)."""
        calls = tool_calls_of(response.message)
        if not calls and error_on_no_tool_call:
            raise ValueError(
                f"{self.model} answered without calling a tool (finish_reason="
                f"{response.additional_kwargs.get('finish_reason')!r}). Pass error_on_no_tool_call=False to accept "
                "an answer without one, or tool_required=True to ask for a call."
            )
        selections = []
        for call_id, name, arguments in calls:
            if isinstance(arguments, str):
                try:
                    arguments = parse_partial_json(arguments) if arguments.strip() else {}
                except ValueError:
                    arguments = {}
            selections.append(ToolSelection(tool_id=call_id, tool_name=name, tool_kwargs=arguments))
        return selections

    # -- structured output --------------------------------------------------------------------------------------
    def _uses_json_schema(self) -> bool:
        """Structured output through a strict ``response_format`` (default), unless the catalog says the model has
        none or ``pydantic_program_mode`` asks for another program (then LlamaIndex's own: function calling)."""
        info = self._info
        supported = info.structured_outputs if info is not None else True
        return supported and self.pydantic_program_mode == PydanticProgramMode.DEFAULT

    def _schema_kwargs(self, llm_kwargs: dict[str, Any] | None, output_cls: type[BaseModel]) -> dict[str, Any]:
        options = dict(llm_kwargs or {})
        options.pop("tool_choice", None)
        options["response_format"] = json_schema_format(output_cls.model_json_schema())
        return options

    def structured_predict(
        self, output_cls: type[Model], prompt: PromptTemplate, llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """A validated ``output_cls`` from a strict json_schema answer (see ``_uses_json_schema``)."""
        if not self._uses_json_schema():
            program: Model = super().structured_predict(output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args)
            return program
        messages = prompt.format_messages(**prompt_args)
        response = self.chat(messages, **self._schema_kwargs(llm_kwargs, output_cls))
        parsed: Model = output_cls.model_validate_json(response.message.content or "")
        return parsed

    async def astructured_predict(
        self, output_cls: type[Model], prompt: PromptTemplate, llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        if not self._uses_json_schema():
            program: Model = await super().astructured_predict(output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args)
            return program
        messages = prompt.format_messages(**prompt_args)
        response = await self.achat(messages, **self._schema_kwargs(llm_kwargs, output_cls))
        parsed: Model = output_cls.model_validate_json(response.message.content or "")
        return parsed

    def _structured_stream_call(
        self, output_cls: type[Model], prompt: PromptTemplate, llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Generator[Any, None, None]:
        if not self._uses_json_schema():
            yield from super()._structured_stream_call(output_cls, prompt, llm_kwargs, **prompt_args)
            return
        from llama_index.core.program.streaming_utils import process_streaming_content_incremental

        messages = prompt.format_messages(**prompt_args)
        current = None
        for response in self.stream_chat(messages, **self._schema_kwargs(llm_kwargs, output_cls)):
            current = process_streaming_content_incremental(response, output_cls, current)
            yield current

    async def _structured_astream_call(
        self, output_cls: type[Model], prompt: PromptTemplate, llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> AsyncGenerator[Any, None]:
        if not self._uses_json_schema():
            return await super()._structured_astream_call(output_cls, prompt, llm_kwargs, **prompt_args)
        from llama_index.core.program.streaming_utils import process_streaming_content_incremental

        messages = prompt.format_messages(**prompt_args)
        responses = await self.astream_chat(messages, **self._schema_kwargs(llm_kwargs, output_cls))

        async def gen() -> AsyncGenerator[Any, None]:
            current = None
            async for response in responses:
                current = process_streaming_content_incremental(response, output_cls, current)
                yield current

        return gen()


def _wrap_governor(kwargs: dict[str, Any]) -> None:
    """``rate_limiter``: LlamaIndex's own limiters as they are, a ``RateLimitGovernor`` wrapped so that LlamaIndex's
    per-call ``acquire`` leaves the pacing to it (``GovernorRateLimiter``); anything else refused naming it."""
    value = kwargs.get("rate_limiter")
    if value is not None:
        from ..governor import adapter_rate_limiter  # only when a limiter is given

        example = "llama_index.core.rate_limiter.TokenBucketRateLimiter"
        native = _LlamaIndexLimiter
        kwargs["rate_limiter"] = adapter_rate_limiter(value, GovernorRateLimiter, native, "LlamaIndex", example)


def _refuse_unknown_arguments(kwargs: dict[str, Any]) -> None:
    """A constructor argument that is no field is refused, naming the nearest one: pydantic would ignore it, and an
    option the caller believes is sent must not vanish (llama-index-llms-cerebras drops them that way)."""
    unknown = sorted(name for name in kwargs if name not in Cerebras.model_fields)
    if not unknown:
        return
    import difflib  # only on this error path: not worth its import for every user

    name = unknown[0]
    close = difflib.get_close_matches(name, sorted(Cerebras.model_fields), n=1, cutoff=0.75)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise RequestValidationError(
        f"{name!r} is not an argument of Cerebras.{hint}",
        param=name,
        fix="pass a Cerebras option by its name, or a request field the API takes in additional_kwargs={...}",
    )


# Time limits are client settings; a per-call ``timeout=``/``deadline=`` still reaches the core.
_CLIENT_FIELDS = ("timeout", "attempt_timeout", "deadline")
_OPTION_FIELDS = tuple(name for name in Cerebras.model_fields if name in OPTION_NAMES and name not in _CLIENT_FIELDS)


def _prompt(prompt: str) -> list[ChatMessage]:
    return [ChatMessage(role=MessageRole.USER, content=prompt)]


def _tool_spec(tool: BaseTool, strict: bool) -> dict[str, Any]:
    spec: dict[str, Any] = tool.metadata.to_openai_tool(skip_length_check=True)
    return strict_tool(spec) if strict else spec
