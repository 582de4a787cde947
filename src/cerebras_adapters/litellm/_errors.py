"""Core exceptions → LiteLLM's exception classes, so the Router's retries, cooldowns and fallbacks act on them.

This module only translates: the status, the message, the request id and the retry hints come from the core's
exception (``cerebras_adapters.errors``); nothing here parses a response body. Every LiteLLM exception is built
with ``llm_provider`` and ``model`` by keyword (their positional order differs between classes, litellm.md §2.1)
and, where LiteLLM takes one, an ``httpx.Response`` carrying the original status and headers, so the Router's
``calculate_retry_after`` finds ``retry-after`` where it looks.

Mapping (litellm.md §2.1 table; LiteLLM 1.106+ class names):

==============================================  ==============================================
core                                            LiteLLM
==============================================  ==============================================
RequestValidationError (refused locally)        BadRequestError
UnsupportedParameterError                       UnsupportedParamsError (a BadRequestError)
ContextLengthExceededError                      ContextWindowExceededError
BadRequestError / PayloadTooLargeError          BadRequestError
AuthenticationError                             AuthenticationError
PaymentRequiredError                            PaymentRequiredError
PermissionDeniedError                           PermissionDeniedError
NotFoundError / NoEndpointsError                NotFoundError
RequestTimeoutError (408), APITimeoutError      Timeout
UnprocessableEntityError                        UnprocessableEntityError
RateLimitError                                  RateLimitError (+ ``retry-after``)
ServiceUnavailableError (503)                   ServiceUnavailableError
502                                             BadGatewayError
InternalServerError (other >= 500)              InternalServerError
StreamInterruptedError, APIConnectionError      APIConnectionError
APIResponseValidationError                      APIResponseValidationError
RoutingError, other statuses (409, …)           APIError (with the status)
==============================================  ==============================================
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import httpx
from litellm import exceptions as lx

from .. import errors as core

__all__ = ["to_litellm_error"]

_ERROR_URL = "https://api.cerebras.ai/v1/chat/completions"


def _request(url: str | None) -> httpx.Request:
    return httpx.Request("POST", url or _ERROR_URL)


def _response(status: int, exc: core.APIError, url: str | None, extra_headers: Mapping[str, str]) -> httpx.Response:
    headers = dict(getattr(exc, "headers", None) or {})
    headers.update(extra_headers)
    body = exc.body
    if isinstance(body, (dict, list)):
        content = json.dumps(body).encode()
        headers.setdefault("content-type", "application/json")
    elif isinstance(body, str):
        content = body.encode()
    else:
        content = json.dumps({"message": exc.message}).encode()
    headers.pop("content-length", None)
    headers.pop("transfer-encoding", None)
    headers.pop("content-encoding", None)
    return httpx.Response(status, headers=headers, content=content, request=_request(url))


def _retry_headers(exc: core.RateLimitError) -> dict[str, str]:
    """``retry-after`` in whole seconds, from the core's hint (the server's ``retry-after`` or the matching
    ``x-ratelimit-reset-*``), when the response did not carry one LiteLLM can read: LiteLLM's
    ``calculate_retry_after`` only parses integer seconds or an HTTP date."""
    sent = {k.lower(): v for k, v in (exc.headers or {}).items()}
    raw = sent.get("retry-after")
    if raw is not None and raw.strip().isdigit():
        return {}
    if exc.retry_after is None or exc.retry_after <= 0:
        return {}
    return {"retry-after": str(max(1, math.ceil(exc.retry_after)))}


def _hint_headers(exc: core.RateLimitError, retry: Mapping[str, str]) -> dict[str, str]:
    # Only retry hints travel on ``exception.headers`` (LiteLLM forwards those to proxy clients; arbitrary
    # upstream headers must not be, see litellm.exceptions.RateLimitError).
    hints = {k: v for k, v in (exc.headers or {}).items() if k.lower().startswith(("retry-after", "x-ratelimit-"))}
    hints.update(retry)
    return hints


def to_litellm_error(exc: core.CerebrasAdapterError, *, model: str, provider: str, url: str | None = None) -> Exception:
    """The LiteLLM exception for a core exception (see the module table)."""
    kw: dict[str, Any] = {"model": model, "llm_provider": provider}
    message = str(exc)
    if isinstance(exc, core.RequestValidationError):
        response = httpx.Response(400, json={"message": message, "param": exc.param}, request=_request(url))
        if isinstance(exc, core.UnsupportedParameterError):
            return lx.UnsupportedParamsError(message=message, response=response, **kw)
        return lx.BadRequestError(message=message, response=response, **kw)
    if not isinstance(exc, core.APIError):  # pragma: no cover - the tree has no other branch
        return lx.APIError(status_code=500, message=message, request=_request(url), **kw)
    if isinstance(exc, core.APITimeoutError):
        return lx.Timeout(message=message, **kw)
    if isinstance(exc, core.APIConnectionError):  # includes StreamInterruptedError
        return lx.APIConnectionError(message=message, request=_request(url), **kw)
    if isinstance(exc, core.APIResponseValidationError):
        return lx.APIResponseValidationError(message=message, **kw)
    if not isinstance(exc, core.APIStatusError):  # RoutingError: served by another provider
        return lx.APIError(status_code=502, message=message, request=_request(url), **kw)
    status = exc.status_code
    if isinstance(exc, core.RateLimitError):
        retry = _retry_headers(exc)
        return lx.RateLimitError(
            message=message,
            response=_response(429, exc, url, retry),
            headers=_hint_headers(exc, retry) or None,
            body=exc.body,
            **kw,
        )
    response = _response(status, exc, url, {})
    if isinstance(exc, core.ContextLengthExceededError):
        return lx.ContextWindowExceededError(message=message, response=response, **kw)
    if isinstance(exc, core.AuthenticationError):
        return lx.AuthenticationError(message=message, response=response, **kw)
    if isinstance(exc, core.PaymentRequiredError):
        return lx.PaymentRequiredError(message=message, response=response, **kw)
    if isinstance(exc, core.PermissionDeniedError):
        return lx.PermissionDeniedError(message=message, response=response, **kw)
    if isinstance(exc, core.NotFoundError):
        return lx.NotFoundError(message=message, response=response, **kw)
    if isinstance(exc, core.RequestTimeoutError):
        return lx.Timeout(message=message, response=response, **kw)
    if isinstance(exc, core.UnprocessableEntityError):
        return lx.UnprocessableEntityError(message=message, response=response, **kw)
    if isinstance(exc, (core.BadRequestError, core.PayloadTooLargeError)):
        return lx.BadRequestError(message=message, response=response, **kw)
    if isinstance(exc, core.ServiceUnavailableError):
        return lx.ServiceUnavailableError(message=message, response=response, **kw)
    if status == 502:
        return lx.BadGatewayError(message=message, response=response, **kw)
    if status >= 500:
        return lx.InternalServerError(message=message, response=response, **kw)
    return lx.APIError(status_code=status, message=message, request=_request(url), body=exc.body, **kw)
