"""Every exception the core raises, as one tree.

This module owns the exception classes and the mapping from an HTTP status and an error body to a class.
It must not import httpx's request machinery or any framework; adapters re-map these classes to their
framework's own (LiteLLM) or let them surface unchanged (LangChain).

::

    CerebrasAdapterError
    ├── RequestValidationError            local: refused before any network call (param, model, fix)
    │   └── UnsupportedParameterError     a parameter the API (or this route) does not accept
    ├── GovernorUnavailableError          the rate-limit governor's shared backend (Redis) did not answer
    └── APIError                          something went wrong talking to the service
        ├── APIConnectionError            no usable HTTP response
        │   ├── APITimeoutError
        │   └── StreamInterruptedError    the connection dropped mid-stream (carries the partial output)
        ├── APIResponseValidationError    a body or stream chunk that is not what the API sends
        ├── RoutingError                  OpenRouter served the request on another provider
        └── APIStatusError                the service answered with an error status (or an error chunk)
            ├── BadRequestError               400
            │   └── ContextLengthExceededError
            ├── AuthenticationError           401
            ├── PaymentRequiredError          402
            ├── PermissionDeniedError         403
            ├── NotFoundError                 404 (unknown or retired model)
            │   └── NoEndpointsError          OpenRouter: no Cerebras endpoint takes these parameters
            ├── RequestTimeoutError           408
            ├── ConflictError                 409
            ├── PayloadTooLargeError          413
            ├── UnprocessableEntityError      422 (legacy validation status)
            ├── RateLimitError                429 (which limit, when it resets)
            └── InternalServerError           >= 500
                └── ServiceUnavailableError   503

Every ``APIError`` carries the ``RateLimits`` and request id of the response it came from (when there was
one) and, for errors raised while streaming, the ``partial`` completion assembled from the chunks already
received. ``fix`` says what to do when the cause is clear from the response and the request (as on
``RequestValidationError``): for a 404 or an unknown-model 400, the nearest model ids the catalog knows, or a
``base_url`` that misses its version path (``status_error``).
"""

from __future__ import annotations

import datetime
import difflib
import email.utils
import math
import re
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .types import ChatCompletion, RateLimits

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CerebrasAdapterError",
    "ConflictError",
    "ContextLengthExceededError",
    "InternalServerError",
    "NoEndpointsError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "RequestValidationError",
    "RoutingError",
    "ServiceUnavailableError",
    "StreamInterruptedError",
    "UnprocessableEntityError",
    "UnsupportedParameterError",
    "parse_retry_after",
    "status_error",
]


class CerebrasAdapterError(Exception):
    """Root of every exception raised by cerebras_adapters."""


class GovernorUnavailableError(CerebrasAdapterError):
    """The rate-limit governor's shared backend (Redis) did not answer and the governor was built with
    ``fail_open=False`` (``cerebras_adapters.governor``); nothing was sent."""


class RequestValidationError(CerebrasAdapterError, ValueError):
    """A request refused locally, before anything was sent.

    ``param`` names the offending parameter (dotted for nested ones, e.g. ``messages.2.role``), ``model``
    the model the rule applies to (None when the rule is model-independent) and ``fix`` what to do instead.
    ``rule`` names the request rule that refused it (``cerebras_adapters._rules``), None for the checks of the
    request's shape and types.
    """

    rule: str | None = None

    def __init__(
        self, message: str, *, param: str, model: str | None = None, fix: str | None = None, rule: str | None = None
    ):
        self.param = param
        self.model = model
        self.fix = fix
        self.rule = rule
        text = message
        if fix:
            text = f"{message} Fix: {fix}"
        super().__init__(text)


class UnsupportedParameterError(RequestValidationError):
    """A parameter the Cerebras API (or the chosen route) rejects as unknown."""

class APIError(CerebrasAdapterError):
    """An error from talking to the service; see the subclasses. ``fix`` is what to do about it, when the
    response and the request make that clear (None otherwise); ``str()`` ends with it."""

    def __init__(
        self,
        message: str,
        *,
        body: Any = None,
        request_id: str | None = None,
        rate_limits: RateLimits | None = None,
        partial: ChatCompletion | None = None,
        fix: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.body = body
        self.request_id = request_id
        self.rate_limits = rate_limits
        self.partial = partial
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} Fix: {self.fix}" if self.fix else self.message


class APIConnectionError(APIError):
    """No usable HTTP response: connection refused or reset, DNS failure, protocol error."""


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool)."""


class StreamInterruptedError(APIConnectionError):
    """The stream ended abnormally after output had started; ``partial`` holds what arrived."""


class APIResponseValidationError(APIError):
    """A response body or stream event that could not be parsed as the API's format."""


class RoutingError(APIError):
    """OpenRouter served the request on a provider other than Cerebras (``provider`` says which)."""

    def __init__(self, message: str, *, provider: str | None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.provider = provider


class APIStatusError(APIError):
    """The service answered with an error status.

    ``status_code`` is the effective status (an enveloped body's ``status_code`` wins over the HTTP one, as
    in the official SDK); ``type``, ``param`` and ``code`` come from the error body when present (empty
    strings are normalised to None; ``code`` may be a number).
    """

    status_code: int = 0

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        type: str | None = None,
        param: str | None = None,
        code: str | int | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ):
        super().__init__(message, **kwargs)
        self.status_code = status_code
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def __str__(self) -> str:
        parts = [f"Error code: {self.status_code} - {self.message}"]
        if self.code:
            parts.append(f"(code={self.code!r}")
            parts[-1] += f", param={self.param!r})" if self.param else ")"
        if self.fix:
            parts.append(f"Fix: {self.fix}")
        return " ".join(parts)


class BadRequestError(APIStatusError):
    status_code = 400


class ContextLengthExceededError(BadRequestError):
    """The prompt plus ``max_completion_tokens`` exceeds the model's context window (a 400)."""


class AuthenticationError(APIStatusError):
    status_code = 401


class PaymentRequiredError(APIStatusError):
    status_code = 402


class PermissionDeniedError(APIStatusError):
    status_code = 403


class NotFoundError(APIStatusError):
    """404: an unknown or retired model (``fix`` names the nearest known ids), or a path the service does not
    serve, typically a ``base_url`` without its version path (``fix`` gives the corrected ``base_url``)."""

    status_code = 404


class NoEndpointsError(NotFoundError):
    """OpenRouter found no Cerebras endpoint that accepts every parameter sent.

    With the provider pinned (``allow_fallbacks: false`` + ``require_parameters: true``), one unsupported
    parameter turns into this 404 (docs/api-facts.md#openrouter-parameters). ``unsupported`` lists the parameters of the
    request that are not in the Cerebras endpoint's known ``supported_parameters``.
    """

    def __init__(self, message: str, *, unsupported: list[str] | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.unsupported = unsupported or []


class RequestTimeoutError(APIStatusError):
    status_code = 408


class ConflictError(APIStatusError):
    status_code = 409


class PayloadTooLargeError(APIStatusError):
    status_code = 413


class UnprocessableEntityError(APIStatusError):
    status_code = 422


class RateLimitError(APIStatusError):
    """429. ``limit`` says which quota ran out (``requests`` or ``tokens``) when the body tells;
    ``retry_after`` is the server's hint in seconds, or the matching reset from the rate-limit headers."""

    status_code = 429

    def __init__(self, message: str, *, limit: str | None = None, retry_after: float | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.limit = limit
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    status_code = 500


class ServiceUnavailableError(InternalServerError):
    status_code = 503


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}

# Context-length 400s read "Please reduce the length of the messages or completion. Current length is
# 42328 while limit is 40000" (docs/api-facts.md#context-length-errors, cline/cline#5140); OpenRouter uses typed codes
# (docs/api-facts.md#openrouter-errors).
_CONTEXT_MARKERS = ("reduce the length of the messages", "context_length_exceeded", "context length")


def _clean(value: Any) -> Any:
    return None if value == "" else value


def status_error(
    http_status: int,
    body: Any,
    *,
    headers: dict[str, str] | None = None,
    request_id: str | None = None,
    rate_limits: RateLimits | None = None,
    partial: ChatCompletion | None = None,
    base_url: str | None = None,
    version_path: str = "/v1",
    model: str | None = None,
    known_models: Sequence[str] = (),
) -> APIStatusError:
    """Build the exception for an error response.

    Parsing rule from docs/api-facts.md#error-bodies (matches the official SDK): ``err = body.get("error", body)``,
    status from ``body["status_code"]`` when present, else the HTTP status. Flat bodies (RT-08, RT-09,
    RT-10), enveloped ones (2026 5xx), OpenRouter's ``{"error": {"code": 429, ...}}``, empty bodies, ``""``
    fields and numeric codes are all accepted.

    The request's context gives the error its ``fix``: ``model`` (the id sent) and ``known_models`` (the ids the
    caller's route serves, best first) for an unknown model; ``base_url`` (without credentials) and the
    route's ``version_path`` (``/v1``, or ``/api/v1`` on OpenRouter) for a 404 that is not about the model.
    """
    status = http_status
    err: dict[str, Any] = {}
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            err = inner
        elif isinstance(inner, str):
            err = {"message": inner}
        envelope_status = body.get("status_code")
        if isinstance(envelope_status, int) and envelope_status >= 400:
            status = envelope_status
        elif status < 400 and isinstance(err.get("code"), int) and err["code"] >= 400:
            # OpenRouter mid-stream errors arrive on a 200 with the HTTP-equivalent status in error.code.
            status = err["code"]
    if status < 400:
        # An error payload on a 2xx with no usable status (e.g. OpenRouter's string code "server_error",
        # docs/api-facts.md#openrouter-errors) is a server-side failure.
        status = 500
    message = _clean(err.get("message"))
    if not message and isinstance(err.get("detail"), str):  # a web framework's own 404: {"detail": "Not Found"}
        message = _clean(err["detail"])
    if not message:
        if isinstance(body, str) and body.strip():
            message = body.strip()[:500]
        else:
            message = f"HTTP {status} with no error message in the body"
    code = _clean(err.get("code"))
    etype = _clean(err.get("type"))
    metadata = err.get("metadata")
    if etype is None and isinstance(metadata, dict):
        etype = _clean(metadata.get("error_type"))
    if etype is None:
        etype = _clean(err.get("error_type"))
    param = _clean(err.get("param"))
    common: dict[str, Any] = {
        "status_code": status,
        "type": etype,
        "param": param,
        "code": code,
        "headers": headers,
        "body": body,
        "request_id": request_id,
        "rate_limits": rate_limits,
        "partial": partial,
        "fix": None,
    }
    if _names_an_unknown_model(status, err, message, code, param):
        common["fix"] = _nearest_models_fix(model, known_models)
    elif status == 404 and base_url:
        common["fix"] = _base_url_fix(base_url, version_path)
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = InternalServerError if status >= 500 else APIStatusError
    if cls is BadRequestError:
        lowered = f"{message} {code or ''} {etype or ''}".lower()
        if any(marker in lowered for marker in _CONTEXT_MARKERS):
            cls = ContextLengthExceededError
    if cls is RateLimitError:
        text = f"{message} {code or ''}".lower()
        limit = "tokens" if "token" in text else "requests" if "request" in text else None
        retry_after = parse_retry_after(headers or {})
        if retry_after is None and rate_limits is not None:
            retry_after = rate_limits.reset_for(limit)
        return RateLimitError(message, limit=limit, retry_after=retry_after, **common)
    return cls(message, **common)


# Cerebras: 404 not_found_error / model_not_found with param "model" (docs/api-facts.md#model-ids, RT-09).
# OpenRouter: 400 "<id> is not a valid model ID", availability codes model_not_found / model_deprecated
# (docs/api-facts.md#openrouter-model-ids, docs/api-facts.md#openrouter-errors).
_MODEL_CODES = frozenset({"model_not_found", "model_deprecated"})
_VERSION_SEGMENT = re.compile(r"/v\d+(?:/|$)")
_ENDPOINT_PATH = "/chat/completions"


def _names_an_unknown_model(status: int, err: Mapping[str, Any], message: str, code: Any, param: Any) -> bool:
    if status not in (400, 404):
        return False
    availability = err.get("availability")
    if code in _MODEL_CODES or (isinstance(availability, Mapping) and availability.get("code") in _MODEL_CODES):
        return True
    if "is not a valid model id" in message.lower():
        return True
    # A 400 that names the model param may be about what the model cannot do, not about the id.
    return status == 404 and param == "model"


def _nearest_models_fix(model: str | None, known: Sequence[str]) -> str | None:
    """``use one of: ...``: the known ids closest to ``model`` (difflib), or every known id when none is close."""
    candidates = [m for m in dict.fromkeys(known) if m != model]
    if not candidates:
        return None
    by_lower = {m.lower(): m for m in candidates}
    close = difflib.get_close_matches((model or "").lower(), list(by_lower), n=3)
    picks = [by_lower[m] for m in close] or candidates
    fix = "use one of: " + ", ".join(repr(m) for m in picks)
    if model is not None and model in known:
        return f"check that your key has access to {model!r} (the models endpoint lists the ones it can use), or {fix}"
    return fix


def _base_url_fix(base_url: str, version_path: str) -> str | None:
    """For a 404 that is not about the model: a ``base_url`` that ends with the endpoint path, or that has no
    version segment, explains it (docs/api-facts.md#unknown-paths); otherwise no fix is guessed."""
    base = base_url.rstrip("/")
    path = urlsplit(base).path
    if path.endswith(_ENDPOINT_PATH):
        fixed = base[: -len(_ENDPOINT_PATH)]
        return (
            f"base_url {base!r} already ends with {_ENDPOINT_PATH!r}, which the client adds itself: "
            f"use base_url={fixed!r}"
        )
    if _VERSION_SEGMENT.search(path):
        return None
    # Append what the path lacks of the route's version path: "" -> "/v1"; "/api" -> "/api/v1" on OpenRouter.
    have = [p for p in path.split("/") if p]
    want = [p for p in version_path.split("/") if p]
    overlap = next((k for k in range(min(len(have), len(want)), 0, -1) if have[-k:] == want[:k]), 0)
    fixed = base + "".join(f"/{p}" for p in want[overlap:])
    return f"base_url {base!r} has no version path (the API is served under {version_path!r}): use base_url={fixed!r}"


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The server's retry hint in seconds, or None when there is none or it cannot be read.

    The one parser for ``retry-after-ms`` (milliseconds, Stainless SDKs) and ``retry-after`` (seconds or an
    HTTP-date, RFC 9110 §10.2.3); the retry loop and ``RateLimitError.retry_after`` both use it, so they agree.
    ``headers`` must look names up case-insensitively or hold them in lower case (``httpx.Headers`` and
    ``dict(httpx.Headers)`` both do). Garbage (``soon``), non-finite numbers and negative values are ignored, so
    the caller falls back to its own backoff; a date in the past reads as 0.
    """
    ms = headers.get("retry-after-ms")
    if ms is not None:
        seconds = _finite(ms)
        if seconds is not None and seconds >= 0:
            return seconds / 1000
    raw = headers.get("retry-after")
    if raw is None:
        return None
    seconds = _finite(raw)
    if seconds is not None:
        return seconds if seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" dates parse as naive; HTTP-dates are always GMT
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _finite(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
