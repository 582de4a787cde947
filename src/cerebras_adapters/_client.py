"""The clients: ``CerebrasClient`` and ``AsyncCerebrasClient``, shaped like the official SDKs.

This module owns connection handling, retries, time limits and turning HTTP responses into results or errors.
The two clients share every decision (``_ClientCore``, ``_Retry`` and ``CallClock``); each has only its own I/O
loop, in the way httpx's ``Client``/``AsyncClient`` do. It must not validate options (``_request``), shape
routes (``routes``) or parse SSE (``_streaming``).

Retry policy (docs/api-facts.md#retries; matches cerebras-cloud-sdk 1.91.0): connection errors, timeouts, 408,
409, 429 and >= 500 are retried up to ``max_retries`` times (default 2); ``x-should-retry`` overrides;
``retry-after-ms`` / ``retry-after`` are honoured when 0 < d <= 60 s, otherwise the delay is
``min(0.5 * 2**n, 8) * (1 - 0.25 * random())``. A stream is retried only before its first byte is read. Errors
that come from this side (an illegal header, an unsupported URL scheme) are never retried.

Time limits: ``timeout`` bounds each connect, read and write (httpx); ``attempt_timeout`` (default 600 s) bounds
one attempt from sending to the last byte, streams included; ``deadline`` (default none) bounds the whole call,
retries and backoff included. A retry that would not fit in the deadline is not made.

Rate limits: with ``rate_limiter`` (a ``cerebras_adapters.governor.RateLimitGovernor``) every attempt reserves its
share of the key's limits before it leaves, and settles after: headers and usage on an answer (a stream's usage at
its end), the server's hint on a 429 (whose retry then waits in the governor, not in a backoff sleep as well), the
whole reservation back when the request never left.

Nothing from httpx reaches the caller: every failure is one of ``cerebras_adapters.errors``. Requests are logged
at DEBUG and retries at INFO on the ``cerebras_adapters`` logger, never with a header.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import math
import os
import random
import ssl
import threading
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, NoReturn, overload

import httpx
import pydantic
import pydantic_core
from typing_extensions import Unpack

from ._deadline import Alarm, CallClock, arm_async, arm_sync
from ._headers import check_api_key, check_headers
from ._openrouter_api import AsyncOpenRouterAPI, OpenRouterAPI
from ._request import (
    PreparedRequest,
    UnsupportedPolicy,
    Validation,
    check_validation_mode,
    encode_body,
    prepare_chat_request,
)
from ._streaming import AsyncStream, Stream, _StreamState
from .catalog import Catalog, default_catalog
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    RequestValidationError,
    parse_retry_after,
    status_error,
)
from .options import ChatCompletionOptions, Message
from .routes import USER_AGENT, Route, RouteName, resolve_base_url, resolve_route
from .types import ChatCompletion, ChatCompletionChunk, ModelList, RateLimits

if TYPE_CHECKING:  # imported where used: the governor, the pool and the bulk reader are not paid for by an import
    from .governor import Estimate, RateLimitGovernor, Reservation

__all__ = ["DEFAULT_ATTEMPT_TIMEOUT", "DEFAULT_LIMITS", "DEFAULT_TIMEOUT", "AsyncCerebrasClient", "CerebrasClient"]

logger = logging.getLogger("cerebras_adapters")

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
DEFAULT_ATTEMPT_TIMEOUT = 600.0
# Keep every connection a burst opened (up to 1000) for the keep-alive expiry: with httpx's default of 20
# kept connections, 256 concurrent streams opened 256 connections per batch and closed 236 of them again.
DEFAULT_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=1000, keepalive_expiry=5.0)
DEFAULT_MAX_RETRIES = 2
_RETRY_STATUSES = frozenset({408, 409, 429})
_MAX_RETRY_AFTER = 60.0
# Failures caused by what this side sent: retrying cannot help.
_NOT_RETRYABLE = (httpx.LocalProtocolError, httpx.UnsupportedProtocol)
# Failures before the request left: the server never saw it, so a governor reservation is given back whole.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, *_NOT_RETRYABLE)


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


_ssl_contexts: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


def _shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every client the library builds (per ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``, which
    httpx honours and so do we). Building one loads the whole CA bundle: ~40 ms and ~0.8 MB per client, paid
    again for every event loop by code that calls ``asyncio.run`` per request. An ``SSLContext`` is
    thread-safe and belongs to no event loop, so one can be shared."""
    key = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    context = _ssl_contexts.get(key)
    if context is None:
        context = _ssl_contexts.setdefault(key, httpx.create_ssl_context())
    return context


def _seconds(name: str, value: Any, *, allow_none: bool = True, model: str | None = None) -> float | None:
    """A time limit in seconds: a finite number > 0 (or None where that means "no limit")."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise RequestValidationError(
            f"{name} must be a finite number of seconds > 0, not {value!r}.",
            param=name,
            model=model,
            fix=f"pass {name}=30 (seconds){', or None for no limit' if allow_none else ''}",
        )
    return float(value)


def _timeout(value: float | httpx.Timeout | None, default: httpx.Timeout, model: str | None = None) -> httpx.Timeout:
    if value is None:
        return default
    if isinstance(value, httpx.Timeout):
        for part, seconds in value.as_dict().items():
            _seconds(f"timeout.{part}", seconds, model=model)
        return value
    seconds = _seconds("timeout", value, allow_none=False, model=model)
    assert seconds is not None
    return httpx.Timeout(seconds, connect=min(seconds, 5.0))


def _safe_url(url: str) -> str:
    """The URL without user info, for logs and error messages."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return "<invalid URL>"
    return str(parsed.copy_with(username=None, password=None)) if parsed.userinfo else url


class _Retry:
    """The retry decisions for one call; the I/O loops ask it what to do after each failed attempt."""

    __slots__ = ("attempt", "max_retries")

    def __init__(self, max_retries: int) -> None:
        self.max_retries = max_retries
        self.attempt = 0

    def after_status(self, status: int, headers: httpx.Headers) -> float | None:
        """Delay before retrying an error status, or None when it must not be retried."""
        if self.attempt >= self.max_retries:
            return None
        override = headers.get("x-should-retry")
        if override == "true":
            return self._next_delay(headers)
        if override == "false":
            return None
        if status in _RETRY_STATUSES or status >= 500:
            return self._next_delay(headers)
        return None

    def after_failure(self) -> float | None:
        """Delay before retrying after a connection failure or timeout, or None when no attempt is left."""
        if self.attempt >= self.max_retries:
            return None
        return self._next_delay(None)

    def _next_delay(self, headers: httpx.Headers | None) -> float:
        taken = self.attempt
        self.attempt += 1
        hinted = parse_retry_after(headers) if headers is not None else None
        if hinted is not None and 0 < hinted <= _MAX_RETRY_AFTER:
            return hinted
        return min(0.5 * 2.0**taken, 8.0) * (1 - 0.25 * random.random())


class _Exchange:
    """One call on the wire: the request, its clock and retry state, and what each failed attempt means."""

    __slots__ = (
        "base_timeouts",
        "clock",
        "core",
        "end",
        "governed",
        "prepared",
        "request",
        "reservation",
        "retry",
        "started",
        "stream",
    )

    def __init__(
        self,
        core: _ClientCore,
        request: httpx.Request,
        prepared: PreparedRequest | None,
        stream: bool,
        clock: CallClock,
    ) -> None:
        self.core = core
        self.request = request
        self.prepared = prepared
        self.stream = stream
        self.clock = clock
        self.retry = _Retry(core.max_retries)
        self.base_timeouts: dict[str, Any] = request.extensions.get("timeout") or {}
        self.started = 0.0
        self.end = math.inf
        # The rate-limit governor, the model and the estimate it reserves per attempt (None: not governed).
        self.governed = core._governed(prepared)
        self.reservation: Reservation | None = None

    def reserve(self) -> None:
        """Before an attempt leaves: reserve it with the governor, waiting until the key's limits allow it (each
        retry re-enters the governor)."""
        if self.governed is not None:
            governor, model, estimate = self.governed
            self.abandon()
            self.reservation = governor.reserve(self.core.api_key, model, estimate, timeout=self._time_left())

    async def areserve(self) -> None:
        if self.governed is not None:
            governor, model, estimate = self.governed
            self.abandon()
            self.reservation = await governor.areserve(self.core.api_key, model, estimate, timeout=self._time_left())

    def _time_left(self) -> float | None:
        """Seconds until the call's deadline (None: no deadline): the governor fails rather than wait past it."""
        end = self.clock.call_end
        return None if end == math.inf else end - time.monotonic()

    def abandon(self) -> None:
        """The attempt ended without a usable answer (no-op once its reservation is settled)."""
        if self.reservation is not None:
            self.reservation.abandon()

    def stream_started(self, state: _StreamState) -> None:
        """A stream's headers arrived: the governor learns from them now, and from its usage when it ends."""
        reservation = self.reservation
        if reservation is not None:
            reservation.reconcile(state.rate_limits, None, final=False)
            state.reservation = reservation

    def begin(self) -> float:
        """Start an attempt: its end time, with every httpx timeout capped at it."""
        clock = self.clock
        if clock.call_expired():
            if self.reservation is not None:
                self.reservation.release()
            raise APITimeoutError(
                f"the call's deadline of {clock.deadline} s was reached after {self.retry.attempt} retries"
            )
        end = self.end = clock.attempt_end()
        self.request.extensions["timeout"] = clock.capped(self.base_timeouts, end)
        self.started = time.monotonic()
        return end

    def responded(self, response: httpx.Response) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d (request id %s) in %.1f ms",
                self.request.method,
                _safe_url(str(self.request.url)),
                response.status_code,
                _response_meta(response.headers)[1],
                (time.monotonic() - self.started) * 1000,
            )

    def after_failure(self, exc: Exception, alarm: Alarm | None) -> float:
        """After a transport failure: the delay before the next attempt, or raise the mapped error."""
        if self.reservation is not None:
            if isinstance(exc, _NEVER_SENT):
                self.reservation.release()
            else:
                self.reservation.abandon()  # it may have reached the server and been charged
        timed_out = (
            isinstance(exc, (httpx.TimeoutException, _AttemptTimeUp))
            or (alarm is not None and alarm.fired)
            or time.monotonic() >= self.end
        )
        error = self.core._connection_error(exc, timed_out=timed_out, clock=self.clock)
        if isinstance(exc, _NOT_RETRYABLE) or (timed_out and self.clock.call_expired()):
            self._give_up(error, exc)
        delay = self.retry.after_failure()
        if delay is None or not self.clock.leaves_room_for(delay):
            self._give_up(error, exc)
        self._log_retry(delay, error.message)
        return delay

    def after_status(self, response: httpx.Response, content: bytes) -> float:
        """After an error status: the delay before the next attempt, or raise the mapped error."""
        reservation = self.reservation
        if reservation is not None:
            if response.status_code == 429:
                reservation.on_rate_limited(parse_retry_after(response.headers), _response_meta(response.headers)[0])
            elif response.status_code < 500:
                reservation.release()  # refused before it was processed
            else:
                reservation.abandon()
        delay = self.retry.after_status(response.status_code, response.headers)
        if delay is not None and reservation is not None and response.status_code == 429:
            delay = 0.0  # the governor's next reservation waits for the server's hint: no second sleep here
        if delay is None or not self.clock.leaves_room_for(delay):
            raise self.core._error(response, content, self.prepared)
        self._log_retry(delay, f"HTTP {response.status_code}")
        return delay

    def _give_up(self, error: APIError, cause: Exception) -> NoReturn:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("giving up on %s after %d attempts: %s", self.where(), self.retry.attempt + 1, error.message)
        # The cause's text may quote what was sent; never chain one that holds the key.
        if self.core._redact(str(cause)) != str(cause):
            raise error from None
        raise error from cause

    def _log_retry(self, delay: float, reason: str) -> None:
        logger.info(
            "retrying %s in %.2f s (retry %d of %d): %s",
            self.where(),
            delay,
            self.retry.attempt,
            self.retry.max_retries,
            reason,
        )

    def where(self) -> str:
        return f"{self.request.method} {_safe_url(str(self.request.url))}"


class _Sent:
    """What a successful ``_send`` hands back: the response, and for a stream its alarm, its first bytes (in
    ``content``) and the iterator over the rest of its body."""

    __slots__ = ("alarm", "body", "content", "response")

    def __init__(self, response: httpx.Response, alarm: Alarm | None, content: bytes, body: Any) -> None:
        self.response = response
        self.alarm = alarm
        self.content = content
        self.body = body


class _AttemptTimeUp(Exception):
    """Raised by the body readers when the attempt's time ran out between reads."""


class _ClientCore:
    """Configuration and every decision shared by the sync and async clients."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        route: Route | RouteName | str | None,
        timeout: float | httpx.Timeout | None,
        attempt_timeout: float | None,
        deadline: float | None,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
        unsupported_params: UnsupportedPolicy,
        catalog: Catalog | None,
        validation: Validation = "strict",
        rate_limiter: RateLimitGovernor | None = None,
    ) -> None:
        self.route = resolve_route(route)
        if rate_limiter is not None:
            from .governor import require_governor

            fix = "pass rate_limiter=RateLimitGovernor() (from cerebras_adapters.governor), or leave it out"
            rate_limiter = require_governor(rate_limiter, fix)
        self.rate_limiter = rate_limiter
        if api_key is not None:
            key = check_api_key(api_key, source="the api_key argument")
        else:
            from_env = os.environ.get(self.route.api_key_env)
            if not from_env:
                raise RequestValidationError(
                    f"No API key for the {self.route.name} route.",
                    param="api_key",
                    fix=f"pass api_key=... or set {self.route.api_key_env}",
                )
            key = check_api_key(from_env, source=f"the {self.route.api_key_env} environment variable")
        self.api_key = key
        self.base_url = resolve_base_url(self.route, base_url)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise RequestValidationError(
                f"max_retries must be an int >= 0, not {max_retries!r}.", param="max_retries", fix="pass 0 or more"
            )
        self.max_retries = max_retries
        self.timeout = _timeout(timeout, DEFAULT_TIMEOUT)
        self.attempt_timeout = _seconds("attempt_timeout", attempt_timeout)
        self.deadline = _seconds("deadline", deadline)
        self.unsupported_params: UnsupportedPolicy = unsupported_params
        self.validation: Validation = check_validation_mode(validation)
        self.catalog = catalog if catalog is not None else default_catalog()
        if default_headers:
            check_headers(default_headers, param="default_headers")
        route_headers = self.route.default_headers()
        check_headers(route_headers, param="route")
        self._headers = {
            "Authorization": f"Bearer {key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **route_headers,
            **(default_headers or {}),
        }
        self._chat_url = f"{self.base_url}/chat/completions"
        # Built once: httpx normalises a plain dict of headers on every request, a Headers object it just copies.
        json_headers = {**self._headers, "Content-Type": "application/json"}
        self._post_headers = httpx.Headers(json_headers)
        self._stream_headers = httpx.Headers({**json_headers, "Accept": "text/event-stream"})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(route={self.route.name!r}, base_url={_safe_url(self.base_url)!r})"

    def _redact(self, text: str) -> str:
        key = self.api_key
        return text.replace(key, f"{key[:4]}…(redacted)") if key and key in text else text

    def _redact_bytes(self, data: bytes) -> bytes:
        """A response body with the key taken out: a server or gateway may quote the key it refused, and the
        error built from the body is printed in logs and tracebacks."""
        key = self.api_key
        if key:
            raw = key.encode("latin-1", "replace")
            if raw in data:
                return data.replace(raw, f"{key[:4]}…(redacted)".encode())
        return data

    def _redact_value(self, value: Any) -> Any:
        """A parsed error payload with the key taken out of every string in it."""
        if isinstance(value, str):
            return self._redact(value)
        if isinstance(value, dict):
            return {k: self._redact_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._redact_value(v) for v in value]
        return value

    def _prepare(
        self, model: str, messages: Iterable[Message], stream: bool, options: dict[str, Any]
    ) -> tuple[PreparedRequest, CallClock]:
        # Time limits are this module's, not request options: take them out before the request is validated.
        timeout = options.pop("timeout", None)
        attempt_timeout = options.pop("attempt_timeout", None)
        deadline = options.pop("deadline", None)
        prepared = prepare_chat_request(
            model,
            messages,
            stream,
            options,
            catalog=self.catalog,
            unsupported_params=self.unsupported_params,
            validation=self.validation,
        )
        if timeout is not None:
            prepared.timeout = _timeout(timeout, self.timeout, model)
        clock = CallClock(
            _seconds("attempt_timeout", attempt_timeout, model=model)
            if attempt_timeout is not None
            else self.attempt_timeout,
            _seconds("deadline", deadline, model=model) if deadline is not None else self.deadline,
        )
        self.route.shape(prepared, self.catalog)
        if prepared.headers:
            check_headers(prepared.headers, param="extra_headers")
        return prepared, clock

    def _governed(self, prepared: PreparedRequest | None) -> tuple[RateLimitGovernor, str, Estimate] | None:
        governor = self.rate_limiter
        if governor is None or prepared is None:
            return None
        from .governor import estimate_request

        return governor, prepared.model, estimate_request(prepared.body, prepared.info)

    def _finish(self, exchange: _Exchange, sent: _Sent) -> ChatCompletion:
        """A non-streamed answer, with its governor reservation reconciled (headers and usage)."""
        reservation = exchange.reservation
        if reservation is None:
            return self._completion(sent.response, sent.content)
        try:
            completion = self._completion(sent.response, sent.content)
        except APIError as exc:
            reservation.reconcile(exc.rate_limits)
            raise
        reservation.reconcile(completion.rate_limits, completion.usage)
        return completion

    def _build(self, http: httpx.Client | httpx.AsyncClient, prepared: PreparedRequest) -> httpx.Request:
        headers = self._stream_headers if prepared.stream else self._post_headers
        if prepared.headers:
            headers = headers.copy()
            headers.update(prepared.headers)
        timeout = self.timeout if prepared.timeout is None else prepared.timeout
        return http.build_request(
            "POST", self._chat_url, content=encode_body(prepared), headers=headers, timeout=timeout
        )

    def _get_request(self, http: httpx.Client | httpx.AsyncClient, path: str, params: Any) -> httpx.Request:
        return http.build_request("GET", f"{self.base_url}{path}", params=params, headers=self._headers)

    def _connection_error(self, exc: Exception, *, timed_out: bool, clock: CallClock) -> APIError:
        detail = self._redact(f"{type(exc).__name__}: {exc}") if str(exc) else type(exc).__name__
        if timed_out:
            if clock.call_expired():
                return APITimeoutError(f"the call's deadline of {clock.deadline} s was reached ({detail})")
            if not isinstance(exc, httpx.TimeoutException):  # cut by our clock or the watchdog, not by httpx
                return APITimeoutError(f"the attempt took longer than attempt_timeout={clock.attempt_timeout} s")
            return APITimeoutError(f"request timed out ({detail})")
        return APIConnectionError(f"connection error: {detail}")

    def _undecodable(self, exc: httpx.HTTPError, response: httpx.Response) -> APIError:
        rate_limits, request_id = _response_meta(response.headers)
        return APIResponseValidationError(
            f"the response body could not be decoded ({type(exc).__name__}: {self._redact(str(exc))})",
            request_id=request_id,
            rate_limits=rate_limits,
        )

    def _error(self, response: httpx.Response, content: bytes, prepared: PreparedRequest | None) -> APIError:
        content = self._redact_bytes(content)
        body: Any
        try:
            body = pydantic_core.from_json(content) if content else None
        except ValueError:
            body = content.decode("utf-8", "replace")
        rate_limits, request_id = _response_meta(response.headers)
        sent_model = prepared.body.get("model") if prepared is not None else None
        error = status_error(
            response.status_code,
            body,
            headers=dict(response.headers),
            request_id=request_id,
            rate_limits=rate_limits,
            # What a 404 or an unknown-model 400 needs for its fix (errors.status_error).
            base_url=_safe_url(self.base_url),
            version_path=httpx.URL(self.route.default_base_url).path,
            model=sent_model if isinstance(sent_model, str) else None,
            known_models=self._served_model_ids() if prepared is not None else (),
        )
        return self.route.map_error(error, prepared) if prepared is not None else error

    def _served_model_ids(self) -> list[str]:
        """The ids this route takes for the models the catalog does not list as retired, current ones first
        (OpenRouter's ``author/slug`` ids on that route)."""
        order = {"production": 0, "preview": 1, "deprecated": 2}
        models = sorted((m for m in self.catalog if m.status in order), key=lambda m: order[m.status])
        if self.route.name == "openrouter":
            return [m.openrouter_id for m in models if m.openrouter_id]
        return [m.id for m in models]

    def _completion(self, response: httpx.Response, content: bytes) -> ChatCompletion:
        headers = response.headers
        rate_limits, request_id = _response_meta(headers)
        try:
            completion = ChatCompletion.model_validate_json(content)
        except pydantic.ValidationError as exc:
            content = self._redact_bytes(content)
            raise APIResponseValidationError(
                f"response is not a chat completion: {content[:200]!r}",
                body=content.decode("utf-8", "replace"),
                request_id=request_id,
                rate_limits=rate_limits,
            ) from exc
        completion.attach_http(rate_limits, request_id, headers)
        # An error JSON may arrive with a 2xx (SDK ErrorChunkResponse; OpenRouter embeds provider errors in
        # the choice with finish_reason "error", docs/api-facts.md#openrouter-errors).
        extras = completion.model_extra or {}
        if "error" in extras or "status_code" in extras:
            raise status_error(
                response.status_code,
                self._redact_value(extras),
                request_id=completion.request_id,
                rate_limits=completion.rate_limits,
            )
        for choice in completion.choices:
            choice_error = (choice.model_extra or {}).get("error")
            if choice.finish_reason == "error" or choice_error is not None:
                raise status_error(
                    response.status_code,
                    {"error": self._redact_value(choice_error) or {"message": "provider error"}},
                    request_id=completion.request_id,
                    rate_limits=completion.rate_limits,
                    partial=completion,
                )
        self.route.check_served_by(completion.provider, request_id=completion.request_id)
        return completion

    def _json(self, response: httpx.Response, content: bytes) -> Any:
        try:
            return pydantic_core.from_json(content)
        except ValueError as exc:
            rate_limits, request_id = _response_meta(response.headers)
            content = self._redact_bytes(content)
            raise APIResponseValidationError(
                f"response is not JSON: {content[:200]!r}",
                body=content.decode("utf-8", "replace"),
                request_id=request_id,
                rate_limits=rate_limits,
            ) from exc

    def _stream_state(self, response: httpx.Response, alarm: Alarm | None, end: float) -> _StreamState:
        headers = response.headers
        return _StreamState(
            self.route, headers, *_response_meta(headers), alarm=alarm, end=end, scrub=self._redact_bytes
        )


def _read_sync(response: httpx.Response, alarm: Alarm | None, end: float) -> bytes:
    parts = []
    for piece in response.iter_bytes():
        parts.append(piece)
        if time.monotonic() >= end:
            raise _AttemptTimeUp
    if alarm is not None and alarm.fired:
        raise _AttemptTimeUp  # the watchdog cut a body that ended as if complete
    return b"".join(parts)


async def _read_async(response: httpx.Response, alarm: Alarm | None, end: float) -> bytes:
    parts = []
    async for piece in response.aiter_bytes():
        parts.append(piece)
        if time.monotonic() >= end:
            raise _AttemptTimeUp
    if alarm is not None and alarm.fired:
        raise _AttemptTimeUp
    return b"".join(parts)


def _check_proxy(proxy: object, http_client: object) -> None:
    # ``proxy`` configures the client built here; one passed in carries its own (httpx's ``proxy=``).
    if proxy is not None and http_client is not None:
        raise RequestValidationError(
            "proxy and http_client cannot both be given.",
            param="proxy",
            fix="pass proxy=... to your httpx client instead, or drop http_client",
        )


class CerebrasClient(_ClientCore):
    """Synchronous client.

    ``CerebrasClient(api_key=None, base_url=None, route="cerebras", timeout=60, max_retries=2)``:
    ``api_key`` defaults to ``CEREBRAS_API_KEY`` (``OPENROUTER_API_KEY`` on the OpenRouter route) and
    ``base_url`` (with the version path, e.g. ``https://api.cerebras.ai/v1``) to the route's. ``timeout`` bounds
    each connect/read/write, ``attempt_timeout`` (default 600 s) one attempt from request to last byte, and
    ``deadline`` (default none) the whole call including retries. ``limits`` sizes the connection pool (default
    ``DEFAULT_LIMITS``: up to 1000 connections, all kept alive for 5 s). ``validation`` is what a request that
    breaks a rule does: ``"strict"`` (default) raises ``RequestValidationError`` before sending, ``"warn"`` emits
    a ``ValidationWarning`` and sends it anyway, ``"off"`` sends what was given unchecked (still strict JSON,
    with legal headers). ``proxy`` sends every request through that proxy; without it (and without
    ``http_client``) the ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` variables apply, read when the
    client is built, by httpx's rules. ``rate_limiter`` paces requests to the key's rate limits
    (``cerebras_adapters.governor.RateLimitGovernor``; docs/rate-limits.md). Use it as a context manager or call
    ``close()``.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        route: Route | RouteName | str | None = None,
        timeout: float | httpx.Timeout | None = None,
        attempt_timeout: float | None = DEFAULT_ATTEMPT_TIMEOUT,
        deadline: float | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        unsupported_params: UnsupportedPolicy = "raise",
        catalog: Catalog | None = None,
        validation: Validation = "strict",
        http_client: httpx.Client | None = None,
        limits: httpx.Limits | None = None,
        warm_up: bool = False,
        proxy: str | httpx.Proxy | None = None,
        rate_limiter: RateLimitGovernor | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            route=route,
            timeout=timeout,
            attempt_timeout=attempt_timeout,
            deadline=deadline,
            max_retries=max_retries,
            default_headers=default_headers,
            unsupported_params=unsupported_params,
            catalog=catalog,
            validation=validation,
            rate_limiter=rate_limiter,
        )
        _check_proxy(proxy, http_client)
        self._owns_http = http_client is None
        if http_client is None:
            # httpx reads the proxy variables only for a transport it builds; ours come with theirs as mounts.
            from ._pool import sync_transports

            transport, mounts = sync_transports(limits or DEFAULT_LIMITS, _shared_ssl_context(), proxy)
            http_client = httpx.Client(timeout=self.timeout, follow_redirects=True, transport=transport, mounts=mounts)
        self._http = http_client
        self.chat = _Chat(self)
        self.models = _Models(self)
        self.openrouter = OpenRouterAPI(self)
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

    def _send(self, exchange: _Exchange) -> _Sent:
        """Send with retries. A stream's 2xx response comes back open, with its alarm, its first bytes and the
        iterator for the rest; anything else comes back read and closed."""
        while True:
            exchange.reserve()
            end = exchange.begin()
            try:
                response = self._http.send(exchange.request, stream=True)
            except httpx.TransportError as exc:
                time.sleep(exchange.after_failure(exc, None))
                continue
            except httpx.HTTPError as exc:  # e.g. too many redirects: not a transient failure
                raise self._connection_error(exc, timed_out=False, clock=exchange.clock) from None
            exchange.responded(response)
            alarm = arm_sync(response, end)
            handed_over = False
            try:
                if exchange.stream and response.status_code < 400:
                    # Wait for the first bytes here, inside the retry loop: a stream that stalls or is cut before
                    # its first byte has yielded nothing, so it is retried like any failed attempt.
                    from ._body import iter_body

                    body = iter_body(response)  # in bulk below httpx where it can (_body)
                    first = next(body, b"")
                    if alarm is not None and alarm.fired:
                        raise _AttemptTimeUp
                    handed_over = True
                    return _Sent(response, alarm, first, body)
                content = _read_sync(response, alarm, end)
            except (httpx.TransportError, _AttemptTimeUp) as exc:
                delay = exchange.after_failure(exc, alarm)
            except httpx.HTTPError as exc:
                raise self._undecodable(exc, response) from None
            else:
                if response.status_code < 400:
                    return _Sent(response, None, content, None)
                delay = exchange.after_status(response, content)
            finally:
                if not handed_over:
                    if alarm is not None:
                        alarm.disarm()
                    response.close()
            time.sleep(delay)

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        request = self._get_request(self._http, path, params)
        exchange = _Exchange(self, request, None, False, CallClock(self.attempt_timeout, self.deadline))
        sent = self._send(exchange)
        return self._json(sent.response, sent.content)

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
        attempt_timeout: float | None = DEFAULT_ATTEMPT_TIMEOUT,
        deadline: float | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        unsupported_params: UnsupportedPolicy = "raise",
        catalog: Catalog | None = None,
        validation: Validation = "strict",
        http_client: httpx.AsyncClient | None = None,
        limits: httpx.Limits | None = None,
        warm_up: bool = False,
        proxy: str | httpx.Proxy | None = None,
        rate_limiter: RateLimitGovernor | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            route=route,
            timeout=timeout,
            attempt_timeout=attempt_timeout,
            deadline=deadline,
            max_retries=max_retries,
            default_headers=default_headers,
            unsupported_params=unsupported_params,
            catalog=catalog,
            validation=validation,
            rate_limiter=rate_limiter,
        )
        _check_proxy(proxy, http_client)
        self._owns_http = http_client is None
        if http_client is None:
            # httpx reads the proxy variables only for a transport it builds; ours come with theirs as mounts.
            from ._pool import async_transports

            transport, mounts = async_transports(limits or DEFAULT_LIMITS, _shared_ssl_context(), proxy)
            http_client = httpx.AsyncClient(
                timeout=self.timeout, follow_redirects=True, transport=transport, mounts=mounts
            )
        self._http = http_client
        self.chat = _AsyncChat(self)
        self.models = _AsyncModels(self)
        self.openrouter = AsyncOpenRouterAPI(self)
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

    async def _send(self, exchange: _Exchange) -> _Sent:
        while True:
            await exchange.areserve()
            end = exchange.begin()
            try:
                response = await self._http.send(exchange.request, stream=True)
            except httpx.TransportError as exc:
                await asyncio.sleep(exchange.after_failure(exc, None))
                continue
            except httpx.HTTPError as exc:
                raise self._connection_error(exc, timed_out=False, clock=exchange.clock) from None
            exchange.responded(response)
            alarm = arm_async(response, end)
            handed_over = False
            try:
                if exchange.stream and response.status_code < 400:
                    from ._body import aiter_body

                    body = aiter_body(response)  # in bulk below httpx where it can (_body)
                    first = await anext(body, b"")
                    if alarm is not None and alarm.fired:
                        raise _AttemptTimeUp
                    handed_over = True
                    return _Sent(response, alarm, first, body)
                content = await _read_async(response, alarm, end)
            except (httpx.TransportError, _AttemptTimeUp) as exc:
                delay = exchange.after_failure(exc, alarm)
            except httpx.HTTPError as exc:
                raise self._undecodable(exc, response) from None
            else:
                if response.status_code < 400:
                    return _Sent(response, None, content, None)
                delay = exchange.after_status(response, content)
            finally:
                if not handed_over:
                    if alarm is not None:
                        alarm.disarm()
                    await response.aclose()
            await asyncio.sleep(delay)

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        request = self._get_request(self._http, path, params)
        exchange = _Exchange(self, request, None, False, CallClock(self.attempt_timeout, self.deadline))
        sent = await self._send(exchange)
        return self._json(sent.response, sent.content)

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
        coalesce: bool | None = None,
        coalesce_ms: float | None = None,
        **options: Unpack[ChatCompletionOptions],
    ) -> Stream: ...

    @overload
    def create(
        self,
        *,
        model: str,
        messages: Iterable[Message],
        stream: bool,
        coalesce: bool | None = None,
        coalesce_ms: float | None = None,
        **options: Unpack[ChatCompletionOptions],
    ) -> ChatCompletion | Stream: ...

    def create(
        self,
        *,
        model: str,
        messages: Iterable[Message],
        stream: bool = False,
        coalesce: bool | None = None,
        coalesce_ms: float | None = None,
        **options: Unpack[ChatCompletionOptions],
    ) -> ChatCompletion | Stream:
        """Create a chat completion; ``stream=True`` returns a ``Stream`` of ``ChatCompletionChunk``.
        Every option is validated before anything is sent (see ``ChatCompletionOptions``). ``coalesce=True`` (streams
        only, never sent) merges the events already received into one chunk, and ``coalesce_ms`` (which implies it)
        keeps merging for that many milliseconds after a merge's first event
        (docs/adapters.md#stream-coalescing-core)."""
        coalesce = check_coalesce(coalesce, coalesce_ms, stream, model)
        client = self._client
        prepared, clock = client._prepare(model, messages, stream, dict(options))
        exchange = _Exchange(client, client._build(client._http, prepared), prepared, stream, clock)
        try:
            sent = client._send(exchange)
        except BaseException:
            exchange.abandon()
            raise
        if stream:
            state = client._stream_state(sent.response, sent.alarm, exchange.end)
            exchange.stream_started(state)
            return Stream(sent.response, state, sent.content, sent.body, coalesce=coalesce, coalesce_ms=coalesce_ms)
        return client._finish(exchange, sent)


def adapter_client_kwargs(
    adapter: Any, base_url: str | None, rate_limiter: RateLimitGovernor | None = None
) -> dict[str, Any]:
    """The core client settings of a framework adapter's fields (LangChain's ``ChatCerebras``, LlamaIndex's
    ``Cerebras``: the same field names, except the base URL's, which the caller passes). ``attempt_timeout``,
    ``deadline``, ``proxy`` and ``rate_limiter`` are passed only when set: ``None`` there means the core's default
    (600 s per attempt, no deadline), not "unbounded"."""
    api_key = adapter.api_key
    kwargs: dict[str, Any] = {
        "api_key": api_key.get_secret_value() if api_key is not None else None,
        "base_url": base_url,
        "route": adapter.route,
        "timeout": adapter.timeout,
        "max_retries": adapter.max_retries,
        "default_headers": adapter.default_headers,
        "unsupported_params": adapter.unsupported_params,
        "validation": adapter.validation,
    }
    for name in ("attempt_timeout", "deadline", "proxy"):
        value = getattr(adapter, name)
        if value is not None:
            kwargs[name] = value
    if rate_limiter is not None:
        kwargs["rate_limiter"] = rate_limiter
    return kwargs


def adapter_coalescing(adapter: Any, call: Mapping[str, Any], model: str) -> dict[str, Any]:
    """A framework adapter's stream coalescing for one call: the call's ``coalesce``/``coalesce_ms`` over the
    adapter's fields of those names (a call's ``coalesce_ms`` alone turns coalescing on; a call's ``coalesce=False``
    drops the field's window), checked (``check_coalesce``)."""
    coalesce = call.get("coalesce", None if "coalesce_ms" in call else adapter.coalesce)
    coalesce_ms = call.get("coalesce_ms", adapter.coalesce_ms if coalesce is not False else None)
    check_coalesce(coalesce, coalesce_ms, True, model)
    return {"coalesce": coalesce, "coalesce_ms": coalesce_ms}


def check_coalesce(coalesce: Any, coalesce_ms: Any, stream: bool, model: str) -> bool:
    """``coalesce`` and ``coalesce_ms`` are client-side options of streams: a bool, and a window in milliseconds
    (a number > 0, which implies ``coalesce=True``), only with ``stream=True``. Returns whether to coalesce."""
    if coalesce is not None and not isinstance(coalesce, bool):
        raise RequestValidationError(
            f"coalesce must be True or False, not {coalesce!r}.",
            param="coalesce",
            model=model,
            fix="pass coalesce=True",
        )
    if coalesce_ms is not None:
        if isinstance(coalesce_ms, bool) or not isinstance(coalesce_ms, (int, float)) or not 0 < coalesce_ms < math.inf:
            raise RequestValidationError(
                f"coalesce_ms must be a number of milliseconds greater than 0, not {coalesce_ms!r}.",
                param="coalesce_ms",
                model=model,
                fix="pass e.g. coalesce_ms=5, or leave coalesce_ms out (no time window)",
            )
        if coalesce is False:
            raise RequestValidationError(
                "coalesce_ms is a time window for coalescing, and coalesce=False turns coalescing off.",
                param="coalesce_ms",
                model=model,
                fix="leave coalesce_ms out, or pass coalesce=True",
            )
    enabled = bool(coalesce) or coalesce_ms is not None
    if enabled and not stream:
        name = "coalesce" if coalesce else "coalesce_ms"
        raise RequestValidationError(
            f"{name} applies only to streamed calls (it merges stream events already received).",
            param=name,
            model=model,
            fix=f"pass stream=True, or leave {name} out",
        )
    return enabled


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
        coalesce: bool | None = None,
        coalesce_ms: float | None = None,
        **options: Unpack[ChatCompletionOptions],
    ) -> AsyncStream: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Iterable[Message],
        stream: bool,
        coalesce: bool | None = None,
        coalesce_ms: float | None = None,
        **options: Unpack[ChatCompletionOptions],
    ) -> ChatCompletion | AsyncStream: ...

    async def create(
        self,
        *,
        model: str,
        messages: Iterable[Message],
        stream: bool = False,
        coalesce: bool | None = None,
        coalesce_ms: float | None = None,
        **options: Unpack[ChatCompletionOptions],
    ) -> ChatCompletion | AsyncStream:
        """Async ``create``; ``stream=True`` returns an ``AsyncStream``."""
        coalesce = check_coalesce(coalesce, coalesce_ms, stream, model)
        client = self._client
        prepared, clock = client._prepare(model, messages, stream, dict(options))
        exchange = _Exchange(client, client._build(client._http, prepared), prepared, stream, clock)
        try:
            sent = await client._send(exchange)
        except BaseException:
            exchange.abandon()
            raise
        if stream:
            state = client._stream_state(sent.response, sent.alarm, exchange.end)
            exchange.stream_started(state)
            return AsyncStream(
                sent.response, state, sent.content, sent.body, coalesce=coalesce, coalesce_ms=coalesce_ms
            )
        return client._finish(exchange, sent)


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
