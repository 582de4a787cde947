"""``CerebrasLLM``: LiteLLM's ``CustomLLM`` extension point, answered by the core client.

This module owns the four entry points LiteLLM calls (``completion``, ``acompletion``, ``streaming``,
``astreaming``, docs/api-facts.md#litellm-custom-provider) and the core clients behind them (one per route, key, base
URL, retry count, unsupported-parameter policy, validation mode and rate-limit governor; async ones per event loop,
since connections belong to a loop).
A key or base URL not given by the call is the environment's as it is at each call: a client built from values that
have changed since is replaced (docs/api-facts.md#base-url-variables).
Everything else is the core's (validation, routes, retries, SSE) or ``_convert``'s (translation) or ``_errors``'s
(exception mapping).

Two choices that matter for the Router:

* ``streaming`` sends the request before it returns, so a 429 or a 5xx before the first byte is raised from
  ``litellm.completion(..., stream=True)`` itself and the Router's ordinary retry/fallback path sees it.
  ``astreaming`` cannot: LiteLLM calls it from a worker thread and iterates the result on the event loop, so
  the request goes out on the first ``__anext__``; LiteLLM then raises a 429/5xx as ``MidStreamFallbackError``
  with ``is_pre_first_chunk=True``, which the Router's streaming fallback handles.
* Retries: LiteLLM's ``max_retries`` is passed to the core client (the Router passes 0 and retries itself).
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import httpx
from litellm import exceptions as lx
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import GenericStreamingChunk, ModelResponse, ModelResponseStream

from .._client import AsyncCerebrasClient, CerebrasClient
from .._loop_pool import PerLoopClients
from .._output import WholeStream, aopen_stream, open_stream
from .._streaming import Stream
from ..catalog import Catalog, default_catalog
from ..errors import CerebrasAdapterError, RequestValidationError
from ..options import ONLINE_SUFFIX
from ..routes import Route, resolve_route
from ._convert import ClientSettings, StreamTranslator, fill_model_response, messages_to_wire, split_options
from ._errors import to_litellm_error

__all__ = ["PROVIDER", "CerebrasLLM"]

PROVIDER = "cerebras-adapters"
"""The default provider prefix: ``litellm.completion(model="cerebras-adapters/gpt-oss-120b", ...)``."""

_StreamItem = ModelResponseStream | GenericStreamingChunk
_ClientKey = tuple[Any, ...]


def _route_name(route: Any) -> str:
    return route.name if isinstance(route, Route) else str(route)


class _Call:
    """One call, translated: the client settings, the Cerebras model id, the response's model name
    (``<provider>/<model id>``), wire messages and core options."""

    __slots__ = ("model", "name", "options", "route", "settings", "wire")

    def __init__(
        self, settings: ClientSettings, model: str, name: str, wire: list[dict[str, Any]], options: dict[str, Any]
    ):
        self.settings = settings
        self.route = _route_name(settings.route)
        self.model = model
        self.name = name
        self.wire = wire
        self.options = options


class CerebrasLLM(CustomLLM):
    """The Cerebras provider for LiteLLM (register it with ``cerebras_adapters.litellm.register()``).

    ``provider`` is the prefix it is registered under (``"cerebras-adapters"``); ``catalog`` the model catalog
    used for replaying reasoning and naming models (the process-wide one by default).
    """

    def __init__(self, provider: str = PROVIDER, catalog: Catalog | None = None) -> None:
        super().__init__()
        self.provider = provider
        self.catalog = catalog if catalog is not None else default_catalog()
        self._clients: dict[_ClientKey, tuple[tuple[Any, ...], CerebrasClient]] = {}
        self._async_clients: PerLoopClients[AsyncCerebrasClient] = PerLoopClients()
        self._lock = threading.Lock()

    # -- clients ------------------------------------------------------------------------------------------

    @staticmethod
    def _key(settings: ClientSettings) -> _ClientKey:
        route = settings.route if isinstance(settings.route, str) else id(settings.route)
        return (
            route,
            settings.api_key,
            settings.base_url,
            settings.max_retries,
            settings.drop_params,
            settings.validation if isinstance(settings.validation, str) else repr(settings.validation),
            settings.rate_limiter,  # a governor: one per setting per process (_rate_limiter), compared by identity
        )

    @staticmethod
    def _client_kwargs(settings: ClientSettings) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "api_key": settings.api_key,
            "base_url": settings.base_url,
            "route": settings.route,
            "unsupported_params": "drop" if settings.drop_params else "raise",
            "validation": settings.validation,
            "rate_limiter": settings.rate_limiter,
        }
        if settings.max_retries is not None:
            kwargs["max_retries"] = settings.max_retries
        return kwargs

    def _endpoint(self, settings: ClientSettings, model: str) -> tuple[Any, ...]:
        """What a client for ``settings`` is built from besides ``settings``: the environment variables it reads
        for the key and the base URL when the call gives none, as they are now. A client built from other
        values is stale, so a changed ``CEREBRAS_API_KEY`` or base URL variable takes effect on the next call."""
        try:
            route = resolve_route(settings.route)
        except RequestValidationError as exc:
            raise self._settings_error(exc, model) from exc
        environ = os.environ
        key = settings.api_key or environ.get(route.api_key_env)
        if settings.base_url:
            return key, settings.base_url
        return key, environ.get(route.base_url_env), environ.get(route.base_url_env_alias)

    def _client(self, settings: ClientSettings, model: str) -> CerebrasClient:
        key = self._key(settings)
        endpoint = self._endpoint(settings, model)
        entry = self._clients.get(key)
        if entry is not None and entry[0] == endpoint:
            return entry[1]
        with self._lock:
            stale = self._clients.get(key)
            if stale is not None and stale[0] == endpoint:
                return stale[1]
            client: CerebrasClient = self._build(CerebrasClient, settings, model)
            self._clients[key] = (endpoint, client)
        if stale is not None:
            stale[1].close()  # built from environment variables that have changed since: replaced, not kept
        return client

    def _async_client(self, settings: ClientSettings, model: str) -> AsyncCerebrasClient:
        # Closed when the running loop shuts down (cerebras_adapters._loop_pool); one per endpoint in use.
        key = (self._key(settings), self._endpoint(settings, model))
        return self._async_clients.get(key, lambda: self._build(AsyncCerebrasClient, settings, model))

    def _build(self, cls: Callable[..., Any], settings: ClientSettings, model: str) -> Any:
        try:
            return cls(**self._client_kwargs(settings), catalog=self.catalog)
        except RequestValidationError as exc:
            raise self._settings_error(exc, model) from exc

    def _settings_error(self, exc: RequestValidationError, model: str) -> Exception:
        if exc.param == "api_key":
            return lx.AuthenticationError(message=str(exc), llm_provider=self.provider, model=model)
        return self._error(exc, model, None)

    def close(self) -> None:
        """Close the pooled sync clients (async ones are closed when their event loop shuts down)."""
        with self._lock:
            clients, self._clients = self._clients, {}
        for _, client in clients.values():
            client.close()

    # -- translation ------------------------------------------------------------------------------------

    def _call(
        self,
        model: str,
        messages: list[Any],
        api_base: str | None,
        api_key: str | None,
        optional_params: Mapping[str, Any],
        litellm_params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        timeout: Any,
        logging_obj: Any,
        stream: bool,
    ) -> _Call:
        try:
            settings, options = split_options(
                optional_params, litellm_params, api_key=api_key, api_base=api_base, stream=stream
            )
        except RequestValidationError as exc:  # a rate_limiter setting refused
            raise self._error(exc, model, None) from exc
        if headers:
            options["extra_headers"] = {**headers, **options.get("extra_headers", {})}
        if timeout is not None:
            # LiteLLM's timeout is the whole call's (600 s unless set): it bounds each read as httpx's timeout
            # and the call, retries included, as the core's deadline, so a trickling answer ends with Timeout.
            # The core validates both and refuses an unusable value naming ``timeout``.
            options["timeout"] = timeout
            if not isinstance(timeout, httpx.Timeout):
                options.setdefault("deadline", timeout)
        if "user" not in options:
            # LiteLLM keeps ``user`` off a custom provider's optional_params (it is in no supported list)
            # but records it for logging.
            details = getattr(logging_obj, "model_call_details", None)
            user = details.get("user") if isinstance(details, dict) else None
            if isinstance(user, str) and user:
                options["user"] = user
        # "<id>:online" (OpenRouter's web search) is named after its model: the price map and get_model_info know it.
        info = self.catalog.get(model.removesuffix(ONLINE_SUFFIX))
        name = info.id if info is not None else model
        route = _route_name(settings.route)
        try:
            wire = messages_to_wire(model, messages, route, self.catalog)
        except (TypeError, AttributeError) as exc:
            raise lx.BadRequestError(
                message=f"messages could not be read: {exc}", model=model, llm_provider=self.provider
            ) from exc
        return _Call(settings, name, f"{self.provider}/{name}", wire, options)

    def _error(self, exc: CerebrasAdapterError, model: str, client: Any) -> Exception:
        url = f"{client.base_url}/chat/completions" if client is not None else None
        return to_litellm_error(exc, model=model, provider=self.provider, url=url)

    # -- entry points -----------------------------------------------------------------------------------

    def completion(
        self,
        model: str,
        messages: list[Any],
        api_base: str | None,
        custom_prompt_dict: dict[str, Any],
        model_response: ModelResponse,
        print_verbose: Callable[..., Any],
        encoding: Any,
        api_key: str | None,
        logging_obj: Any,
        optional_params: dict[str, Any],
        acompletion: Any = None,
        litellm_params: dict[str, Any] | None = None,
        logger_fn: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        client: Any = None,
    ) -> ModelResponse:
        call = self._call(
            model,
            messages,
            api_base,
            api_key,
            optional_params,
            litellm_params,
            headers,
            timeout,
            logging_obj,
            stream=False,
        )
        core = self._client(call.settings, model)
        try:
            completion = core.chat.completions.create(model=model, messages=call.wire, **call.options)
        except CerebrasAdapterError as exc:
            raise self._error(exc, model, core) from exc
        return fill_model_response(model_response, completion, model=call.name)

    async def acompletion(
        self,
        model: str,
        messages: list[Any],
        api_base: str | None,
        custom_prompt_dict: dict[str, Any],
        model_response: ModelResponse,
        print_verbose: Callable[..., Any],
        encoding: Any,
        api_key: str | None,
        logging_obj: Any,
        optional_params: dict[str, Any],
        acompletion: Any = None,
        litellm_params: dict[str, Any] | None = None,
        logger_fn: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        client: Any = None,
    ) -> ModelResponse:
        call = self._call(
            model,
            messages,
            api_base,
            api_key,
            optional_params,
            litellm_params,
            headers,
            timeout,
            logging_obj,
            stream=False,
        )
        core = self._async_client(call.settings, model)
        try:
            completion = await core.chat.completions.create(model=model, messages=call.wire, **call.options)
        except CerebrasAdapterError as exc:
            raise self._error(exc, model, core) from exc
        return fill_model_response(model_response, completion, model=call.name)

    def streaming(  # type: ignore[override]
        self,
        model: str,
        messages: list[Any],
        api_base: str | None,
        custom_prompt_dict: dict[str, Any],
        model_response: ModelResponse,
        print_verbose: Callable[..., Any],
        encoding: Any,
        api_key: str | None,
        logging_obj: Any,
        optional_params: dict[str, Any],
        acompletion: Any = None,
        litellm_params: dict[str, Any] | None = None,
        logger_fn: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        client: Any = None,
    ) -> Iterator[_StreamItem]:
        call = self._call(
            model,
            messages,
            api_base,
            api_key,
            optional_params,
            litellm_params,
            headers,
            timeout,
            logging_obj,
            stream=True,
        )
        core = self._client(call.settings, model)
        try:  # sent now, not on first iteration: errors before the first byte reach the Router as such
            stream = open_stream(core, model=model, messages=call.wire, options=call.options)
        except CerebrasAdapterError as exc:
            raise self._error(exc, model, core) from exc
        return self._iterate(stream, StreamTranslator(model=call.model, name=call.name), model, core)

    def _iterate(
        self, stream: Stream | WholeStream, translator: StreamTranslator, model: str, core: Any
    ) -> Iterator[_StreamItem]:
        translate = translator.translate
        try:
            for chunk in stream:
                yield from translate(chunk)
        except CerebrasAdapterError as exc:
            raise self._error(exc, model, core) from exc
        finally:
            stream.close()
        yield translator.final()

    async def astreaming(  # type: ignore[override]
        self,
        model: str,
        messages: list[Any],
        api_base: str | None,
        custom_prompt_dict: dict[str, Any],
        model_response: ModelResponse,
        print_verbose: Callable[..., Any],
        encoding: Any,
        api_key: str | None,
        logging_obj: Any,
        optional_params: dict[str, Any],
        acompletion: Any = None,
        litellm_params: dict[str, Any] | None = None,
        logger_fn: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        client: Any = None,
    ) -> AsyncIterator[_StreamItem]:
        # An async generator: LiteLLM calls this from a worker thread and iterates it on the event loop.
        call = self._call(
            model,
            messages,
            api_base,
            api_key,
            optional_params,
            litellm_params,
            headers,
            timeout,
            logging_obj,
            stream=True,
        )
        core = self._async_client(call.settings, model)
        translator = StreamTranslator(model=call.model, name=call.name)
        translate = translator.translate
        chunks = aopen_stream(core, model=model, messages=call.wire, options=call.options)
        try:
            async for chunk in chunks:
                for item in translate(chunk):
                    yield item
        except CerebrasAdapterError as exc:
            raise self._error(exc, model, core) from exc
        finally:
            await chunks.aclose()
        yield translator.final()
