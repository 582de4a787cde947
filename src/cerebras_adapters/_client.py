"""The clients: ``CerebrasClient`` and ``AsyncCerebrasClient``, shaped like the official SDKs.

This module owns connection handling, retries and turning HTTP responses into results or errors. The two
clients share every decision (``_ClientCore`` and ``_Retry``); each has only its own I/O loop, in the way
httpx's ``Client``/``AsyncClient`` do. It must not validate options (``_request``), shape routes
(``routes``) or parse SSE (``_streaming``).

Retry policy (cerebras-api.md §5.3, checklist item 7; matches cerebras-cloud-sdk 1.91.0): connection errors,
timeouts, 408, 409, 429 and >= 500 are retried up to ``max_retries`` times (default 2); ``x-should-retry``
overrides; ``retry-after-ms`` / ``retry-after`` are honoured when 0 < d <= 60 s, otherwise the delay is
``min(0.5 * 2**n, 8) * (1 - 0.25 * random())``. A stream is retried only before its first byte is read.
"""

from __future__ import annotations

import asyncio
import builtins
import email.utils
import os
import random
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, Literal, overload

import httpx
import pydantic
import pydantic_core
from typing_extensions import Unpack

from ._request import PreparedRequest, UnsupportedPolicy, prepare_chat_request
from ._streaming import AsyncStream, Stream, _StreamState
from .catalog import Catalog, default_catalog
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    RequestValidationError,
    status_error,
)
from .options import ChatCompletionOptions, Message
from .routes import USER_AGENT, Route, RouteName, resolve_route
from .types import ChatCompletion, ChatCompletionChunk, ModelList, RateLimits

__all__ = ["DEFAULT_TIMEOUT", "AsyncCerebrasClient", "CerebrasClient"]

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
_RETRY_STATUSES = frozenset({408, 409, 429})
_MAX_RETRY_AFTER = 60.0


_ID_HEADERS = (b"x-request-id", b"inference-id", b"x-generation-id")  # in order of preference


def _response_meta(headers: httpx.Headers) -> tuple[RateLimits | None, str | None]:
    """The rate limits and the request id of a response, from one pass over the raw header bytes.

    httpx's ``Headers.get`` decodes every header on every lookup; three id lookups plus the rate-limit scan cost
    ~80 µs per call, which is most of what this library adds to a non-streamed call over raw httpx.
    """
    limits: dict[str, str] = {}
    ids: dict[bytes, bytes] = {}
    for key, value in headers.raw:
        lowered = key.lower()
        if lowered.startswith(b"x-ratelimit-"):
            limits[lowered.decode("latin-1")] = value.decode("latin-1")
        elif lowered in _ID_HEADERS:
            ids.setdefault(lowered, value)
    request_id = next((ids[name].decode("latin-1") for name in _ID_HEADERS if ids.get(name)), None)
    return (RateLimits.from_headers(limits) if limits else None), request_id


class _Retry:
    """The retry decisions for one call; the I/O loops ask it what to do after each failed attempt."""

    __slots__ = ("attempt", "max_retries")

    def __init__(self, max_retries: int) -> None:
        self.max_retries = max_retries
        self.attempt = 0

    def after_exception(self, exc: httpx.TransportError) -> float:
        """Delay before the next attempt, or raise the mapped error when no attempt is left."""
        if self.attempt >= self.max_retries:
            if isinstance(exc, httpx.TimeoutException):
                raise APITimeoutError(f"request timed out: {exc!r}") from exc
            raise APIConnectionError(f"connection error: {exc!r}") from exc
        return self._next_delay(None)

    def after_status(self, response: httpx.Response) -> float | None:
        """Delay before retrying an error status, or None when it must not be retried."""
        if self.attempt >= self.max_retries:
            return None
        override = response.headers.get("x-should-retry")
        if override == "true":
            return self._next_delay(response.headers)
        if override == "false":
            return None
        status = response.status_code
        if status in _RETRY_STATUSES or status >= 500:
            return self._next_delay(response.headers)
        return None

    def _next_delay(self, headers: httpx.Headers | None) -> float:
        taken = self.attempt
        self.attempt += 1
        hinted = _retry_after(headers) if headers is not None else None
        if hinted is not None and 0 < hinted <= _MAX_RETRY_AFTER:
            return hinted
        return min(0.5 * 2.0**taken, 8.0) * (1 - 0.25 * random.random())


def _retry_after(headers: httpx.Headers) -> float | None:
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw) if raw else None
        if parsed is None:
            return None
        return parsed.timestamp() - time.time()


class _ClientCore:
    """Configuration and every decision shared by the sync and async clients."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        route: Route | RouteName | str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
        unsupported_params: UnsupportedPolicy,
        catalog: Catalog | None,
    ) -> None:
        self.route = resolve_route(route)
        key = api_key if api_key is not None else os.environ.get(self.route.api_key_env)
        if not key:
            raise RequestValidationError(
                f"No API key for the {self.route.name} route.",
                param="api_key",
                fix=f"pass api_key=... or set {self.route.api_key_env}",
            )
        self.api_key = key
        self.base_url = (base_url or os.environ.get(self.route.base_url_env) or self.route.default_base_url).rstrip("/")
        if max_retries < 0:
            raise RequestValidationError("max_retries must be >= 0.", param="max_retries", fix="pass 0 or more")
        self.max_retries = max_retries
        self.timeout = (
            DEFAULT_TIMEOUT
            if timeout is None
            else (timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout, connect=5.0))
        )
        self.unsupported_params: UnsupportedPolicy = unsupported_params
        self.catalog = catalog if catalog is not None else default_catalog()
        self._headers = {
            "Authorization": f"Bearer {key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **self.route.default_headers(),
            **(default_headers or {}),
        }
        self._chat_url = f"{self.base_url}/chat/completions"
        # Built once: httpx normalises a plain dict of headers on every request, a Headers object it just copies.
        json_headers = {**self._headers, "Content-Type": "application/json"}
        self._post_headers = httpx.Headers(json_headers)
        self._stream_headers = httpx.Headers({**json_headers, "Accept": "text/event-stream"})

    def _prepare(
        self, model: str, messages: Iterable[Message], stream: bool, options: Mapping[str, Any]
    ) -> PreparedRequest:
        prepared = prepare_chat_request(
            model, messages, stream, options, catalog=self.catalog, unsupported_params=self.unsupported_params
        )
        self.route.shape(prepared, self.catalog)
        return prepared

    def _build(self, http: httpx.Client | httpx.AsyncClient, prepared: PreparedRequest) -> httpx.Request:
        headers = self._stream_headers if prepared.stream else self._post_headers
        if prepared.headers:
            headers = headers.copy()
            headers.update(prepared.headers)
        timeout = self.timeout if prepared.timeout is None else prepared.timeout
        return http.build_request(
            "POST", self._chat_url, content=pydantic_core.to_json(prepared.body), headers=headers, timeout=timeout
        )

    def _error(self, response: httpx.Response, prepared: PreparedRequest | None) -> APIError:
        content = response.content
        body: Any
        try:
            body = pydantic_core.from_json(content) if content else None
        except ValueError:
            body = content.decode("utf-8", "replace")
        rate_limits, request_id = _response_meta(response.headers)
        error = status_error(
            response.status_code,
            body,
            headers=dict(response.headers),
            request_id=request_id,
            rate_limits=rate_limits,
        )
        return self.route.map_error(error, prepared) if prepared is not None else error

    def _completion(self, response: httpx.Response) -> ChatCompletion:
        content = response.content
        headers = response.headers
        rate_limits, request_id = _response_meta(headers)
        try:
            completion = ChatCompletion.model_validate_json(content)
        except pydantic.ValidationError as exc:
            raise APIResponseValidationError(
                f"response is not a chat completion: {content[:200]!r}",
                body=content.decode("utf-8", "replace"),
                request_id=request_id,
            ) from exc
        completion.attach_http(rate_limits, request_id, headers)
        # An error JSON may arrive with a 2xx (SDK ErrorChunkResponse; OpenRouter embeds provider errors in
        # the choice with finish_reason "error", openrouter.md §1.4).
        extras = completion.model_extra or {}
        if "error" in extras or "status_code" in extras:
            raise status_error(
                response.status_code, extras, request_id=completion.request_id, rate_limits=completion.rate_limits
            )
        for choice in completion.choices:
            choice_error = (choice.model_extra or {}).get("error")
            if choice.finish_reason == "error" or choice_error is not None:
                raise status_error(
                    response.status_code,
                    {"error": choice_error or {"message": "provider error"}},
                    request_id=completion.request_id,
                    rate_limits=completion.rate_limits,
                    partial=completion,
                )
        self.route.check_served_by(completion.provider, request_id=completion.request_id)
        return completion

    def _stream_state(self, response: httpx.Response) -> _StreamState:
        headers = response.headers
        return _StreamState(self.route, headers, *_response_meta(headers))


class CerebrasClient(_ClientCore):
    """Synchronous client.

    ``CerebrasClient(api_key=None, base_url=None, route="cerebras", timeout=60, max_retries=2)``:
    ``api_key`` defaults to ``CEREBRAS_API_KEY`` (``OPENROUTER_API_KEY`` on the OpenRouter route) and
    ``base_url`` (with the version path, e.g. ``https://api.cerebras.ai/v1``) to the route's. Use it as a
    context manager or call ``close()``.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        route: Route | RouteName | str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        unsupported_params: UnsupportedPolicy = "raise",
        catalog: Catalog | None = None,
        http_client: httpx.Client | None = None,
        warm_up: bool = False,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            route=route,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            unsupported_params=unsupported_params,
            catalog=catalog,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            timeout=self.timeout,
            follow_redirects=True,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )
        self.chat = _Chat(self)
        self.models = _Models(self)
        if warm_up:
            threading.Thread(target=self.warm_up, name="cerebras-warm-up", daemon=True).start()

    def warm_up(self) -> bool:
        """Open the pooled connection ahead of the first call (``GET /v1/tcp_warming`` on Cerebras, as the
        official SDK does). Never raises; returns whether the server answered."""
        try:
            self._http.get(f"{self.base_url}{self.route.warm_path}", headers=self._headers, timeout=1.0)
        except httpx.HTTPError:
            return False
        return True

    def _send(self, request: httpx.Request, stream: bool, prepared: PreparedRequest | None) -> httpx.Response:
        retry = _Retry(self.max_retries)
        while True:
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                time.sleep(retry.after_exception(exc))
                continue
            if response.status_code < 400:
                return response
            response.read()
            delay = retry.after_status(response)
            if delay is None:
                raise self._error(response, prepared)
            response.close()
            time.sleep(delay)

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        request = self._http.build_request("GET", f"{self.base_url}{path}", params=params, headers=self._headers)
        return self._send(request, False, None).json()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> CerebrasClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncCerebrasClient(_ClientCore):
    """Asynchronous twin of ``CerebrasClient`` (same arguments; ``await client.close()``)."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        route: Route | RouteName | str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        unsupported_params: UnsupportedPolicy = "raise",
        catalog: Catalog | None = None,
        http_client: httpx.AsyncClient | None = None,
        warm_up: bool = False,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            route=route,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            unsupported_params=unsupported_params,
            catalog=catalog,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=self.timeout,
            follow_redirects=True,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )
        self.chat = _AsyncChat(self)
        self.models = _AsyncModels(self)
        self._warm_task: asyncio.Task[bool] | None = None
        if warm_up:
            # Never block the event loop: warm in a task when a loop is running, otherwise skip (there is
            # no loop to keep the connection on yet).
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None:
                self._warm_task = loop.create_task(self.warm_up())

    async def warm_up(self) -> bool:
        """Async ``warm_up``: never raises, never blocks the loop."""
        try:
            await self._http.get(f"{self.base_url}{self.route.warm_path}", headers=self._headers, timeout=1.0)
        except httpx.HTTPError:
            return False
        return True

    async def _send(self, request: httpx.Request, stream: bool, prepared: PreparedRequest | None) -> httpx.Response:
        retry = _Retry(self.max_retries)
        while True:
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                await asyncio.sleep(retry.after_exception(exc))
                continue
            if response.status_code < 400:
                return response
            await response.aread()
            delay = retry.after_status(response)
            if delay is None:
                raise self._error(response, prepared)
            await response.aclose()
            await asyncio.sleep(delay)

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        request = self._http.build_request("GET", f"{self.base_url}{path}", params=params, headers=self._headers)
        return (await self._send(request, False, None)).json()

    async def close(self) -> None:
        if self._warm_task is not None and not self._warm_task.done():
            self._warm_task.cancel()
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncCerebrasClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _Completions:
    def __init__(self, client: CerebrasClient) -> None:
        self._client = client

    @overload
    def create(
        self,
        *,
        model: str,
        messages: Iterable[Message],
        stream: Literal[False] = False,
        **options: Unpack[ChatCompletionOptions],
    ) -> ChatCompletion: ...

    @overload
    def create(
        self,
        *,
        model: str,
        messages: Iterable[Message],
        stream: Literal[True],
        **options: Unpack[ChatCompletionOptions],
    ) -> Stream: ...

    @overload
    def create(
        self, *, model: str, messages: Iterable[Message], stream: bool, **options: Unpack[ChatCompletionOptions]
    ) -> ChatCompletion | Stream: ...

    def create(
        self, *, model: str, messages: Iterable[Message], stream: bool = False, **options: Unpack[ChatCompletionOptions]
    ) -> ChatCompletion | Stream:
        """Create a chat completion; ``stream=True`` returns a ``Stream`` of ``ChatCompletionChunk``.
        Every option is validated before anything is sent (see ``ChatCompletionOptions``)."""
        client = self._client
        prepared = client._prepare(model, messages, stream, options)
        response = client._send(client._build(client._http, prepared), stream, prepared)
        if stream:
            return Stream(response, client._stream_state(response))
        return client._completion(response)


class _AsyncCompletions:
    def __init__(self, client: AsyncCerebrasClient) -> None:
        self._client = client

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Iterable[Message],
        stream: Literal[False] = False,
        **options: Unpack[ChatCompletionOptions],
    ) -> ChatCompletion: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Iterable[Message],
        stream: Literal[True],
        **options: Unpack[ChatCompletionOptions],
    ) -> AsyncStream: ...

    @overload
    async def create(
        self, *, model: str, messages: Iterable[Message], stream: bool, **options: Unpack[ChatCompletionOptions]
    ) -> ChatCompletion | AsyncStream: ...

    async def create(
        self, *, model: str, messages: Iterable[Message], stream: bool = False, **options: Unpack[ChatCompletionOptions]
    ) -> ChatCompletion | AsyncStream:
        """Async ``create``; ``stream=True`` returns an ``AsyncStream``."""
        client = self._client
        prepared = client._prepare(model, messages, stream, options)
        response = await client._send(client._build(client._http, prepared), stream, prepared)
        if stream:
            return AsyncStream(response, client._stream_state(response))
        return client._completion(response)


class _Chat:
    def __init__(self, client: CerebrasClient) -> None:
        self.completions = _Completions(client)


class _AsyncChat:
    def __init__(self, client: AsyncCerebrasClient) -> None:
        self.completions = _AsyncCompletions(client)


_ModelFormat = Literal["default", "openrouter", "huggingface"]


def _format_params(format: _ModelFormat | None) -> dict[str, str] | None:
    return {"format": format} if format and format != "default" else None


def _refreshable(client: _ClientCore) -> None:
    if client.route.name != "cerebras":
        raise RequestValidationError(
            "refresh_catalog reads Cerebras' own /v1/models, which the OpenRouter route does not serve.",
            param="route",
            fix="call it on a client with route='cerebras'",
        )


class _Models:
    def __init__(self, client: CerebrasClient) -> None:
        self._client = client

    def list(self, format: _ModelFormat | None = None) -> ModelList:
        """``GET /v1/models`` (``format`` = default, openrouter or huggingface)."""
        return ModelList.model_validate(self._client._get("/models", _format_params(format)))

    def refresh_catalog(self, format: _ModelFormat = "openrouter") -> builtins.list[str]:
        """Merge the live model list into the client's catalog; returns the model ids the service lists."""
        _refreshable(self._client)
        return self._client.catalog.update_from_models(self._client._get("/models", _format_params(format)))


class _AsyncModels:
    def __init__(self, client: AsyncCerebrasClient) -> None:
        self._client = client

    async def list(self, format: _ModelFormat | None = None) -> ModelList:
        return ModelList.model_validate(await self._client._get("/models", _format_params(format)))

    async def refresh_catalog(self, format: _ModelFormat = "openrouter") -> builtins.list[str]:
        _refreshable(self._client)
        return self._client.catalog.update_from_models(await self._client._get("/models", _format_params(format)))


# Re-exported so ``from cerebras_adapters._client import ChatCompletionChunk`` keeps type checkers happy.
_ = ChatCompletionChunk
