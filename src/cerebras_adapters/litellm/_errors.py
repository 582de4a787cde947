"""Core exceptions → LiteLLM's exception classes, so the Router's retries, cooldowns and fallbacks act on them.

This module only translates: the status, the message, the request id and the retry hints come from the core's
exception (``cerebras_adapters.errors``); nothing here parses a response body. Every LiteLLM exception is built
with ``llm_provider`` and ``model`` by keyword (their positional order differs between classes,
docs/api-facts.md#litellm-exceptions) and, where LiteLLM takes one, an ``httpx.Response`` carrying the original status
and headers, so the Router's ``calculate_retry_after`` finds ``retry-after`` where it looks.

Mapping (docs/api-facts.md#litellm-exceptions; LiteLLM 1.106+ class names):

==============================================  ==============================================
core                                            LiteLLM
==============================================  ==============================================
RequestValidationError (refused locally)        LocalBadRequestError (a BadRequestError)
UnsupportedParameterError                       LocalUnsupportedParamsError (an UnsupportedParamsError)
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

**Local refusals never reach another deployment.** A ``RequestValidationError`` means nothing was sent and every
deployment of every model group would refuse the request the same way, so retrying, cooling the deployment down
or falling back only hides the caller's mistake behind "fallback also failed". LiteLLM's Router (1.106.2) does
not retry a 400 (``Router.should_retry_this_error``: ``litellm.should_retry(400)`` is False) and does not cool a
deployment down for one (``router_utils/cooldown_handlers.py::_is_cooldown_required``: 4xx other than
401/402/404/408/429), but it falls back on *every* exception
(``Router.async_function_with_fallbacks_common_utils``) except when the request disabled fallbacks or the
exception is a guardrail intervention (``litellm.integrations.custom_guardrail.is_guardrail_intervention``),
which ``Router.async_function_with_retries`` also re-raises before any retry decision. A local refusal is the
same kind of event (the request was stopped before it left), so ``LocalBadRequestError`` and
``LocalUnsupportedParamsError`` are LiteLLM's ``BadRequestError`` / ``UnsupportedParamsError`` *and*
``GuardrailRaisedException``: callers catch them as bad requests, the Router raises them as they are. They are
also tagged with ``router_utils.cooldown_handlers.mark_advisor_orchestration_failure``, LiteLLM's mark for "not
caused by the selected deployment": ``Router.deployment_callback_on_failure`` then neither counts the failure
against the deployment (the failure-rate cooldown reads that count) nor considers a cooldown. They carry the
core's ``param`` (the proxy puts it in its error JSON) and a 400 response whose body names it.

**Fixes in LiteLLM's words.** A core refusal ends with its ``fix`` ("Fix: ..."), written for the core client. Where
that fix names a client setting LiteLLM spells differently, the LiteLLM error says LiteLLM's: an unknown parameter
is dropped with ``drop_params=True`` (per call, in a deployment's ``litellm_params``, or ``litellm.drop_params``;
the provider hands it to the core as ``unsupported_params="drop"``) or, for that parameter alone,
``additional_drop_params=[name]`` (LiteLLM removes it before the provider sees the call). The exception's ``fix``
attribute and the proxy's error message carry the same text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import httpx
from litellm import exceptions as lx

try:  # LiteLLM's marker for "stopped on purpose before reaching the model": never retried nor fallen back on
    from litellm.exceptions import GuardrailRaisedException as _StoppedBeforeSending
except ImportError:  # pragma: no cover - LiteLLM releases before guardrails

    class _StoppedBeforeSending(Exception):  # type: ignore[no-redef]
        pass


try:  # LiteLLM's tag for "this failure is not the selected deployment's fault": not counted against it
    from litellm.router_utils.cooldown_handlers import mark_advisor_orchestration_failure as _not_the_deployments_fault
except ImportError:  # pragma: no cover - LiteLLM releases before the tag

    def _not_the_deployments_fault(exception: BaseException) -> None:
        pass


from .. import errors as core
from ..options import OPTION_NAMES

__all__ = ["LocalBadRequestError", "LocalUnsupportedParamsError", "litellm_fix", "to_litellm_error"]

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


def _local_body(exc: core.RequestValidationError, message: str) -> dict[str, Any]:
    # The OpenAI error shape: openai's APIError reads param / type / code from it, and LiteLLM's proxy reads
    # ``param`` from the exception for its error JSON.
    return {
        "message": message,
        "type": "invalid_request_error",
        "param": exc.param,
        "code": "unsupported_parameter" if isinstance(exc, core.UnsupportedParameterError) else "invalid_request",
    }


_DROP_PARAMS = (
    "drop_params=True (per call, in the deployment's litellm_params, or litellm.drop_params = True) to drop every "
    "parameter Cerebras rejects, with a warning"
)


def litellm_fix(exc: core.RequestValidationError) -> str | None:
    """The core's ``fix`` for ``exc``, in LiteLLM's words where the core names its own client settings."""
    fix = exc.fix
    if isinstance(exc, core.UnsupportedParameterError) and "." not in exc.param and exc.param not in OPTION_NAMES:
        # An unknown top-level parameter: the core's fix offers its client's unsupported_params="drop".
        name = exc.param
        return (
            f"remove it, send it anyway with extra_body={{{name!r}: ...}}, drop it alone with "
            f"additional_drop_params=[{name!r}], or pass {_DROP_PARAMS}"
        )
    if fix is not None and "unsupported_params" in fix:
        return fix.replace("unsupported_params='drop'", "drop_params=True") + f" (in LiteLLM: {_DROP_PARAMS})"
    return fix


def _local_message(exc: core.RequestValidationError, fix: str | None) -> str:
    text = str(exc)
    if exc.fix and text.endswith(f" Fix: {exc.fix}"):
        text = text[: -len(f" Fix: {exc.fix}")]
    return f"{text} Fix: {fix}" if fix else text


def _mark_local(error: Any, exc: core.RequestValidationError, body: dict[str, Any], fix: str | None) -> None:
    error.param = exc.param
    error.code = body["code"]
    error.type = body["type"]
    error.body = body
    # GuardrailRaisedException's attributes, for code that reads them off an intervention.
    error.guardrail_name = None
    error.blocked_content = False
    error.fix = fix
    error.cerebras_model = exc.model
    _not_the_deployments_fault(error)


class LocalBadRequestError(lx.BadRequestError, _StoppedBeforeSending):  # type: ignore[misc]
    """A request the core refused before sending it (``RequestValidationError``), as LiteLLM's ``BadRequestError``
    with ``param`` set; the Router neither retries nor falls back on it (see the module docstring)."""

    def __init__(self, exc: core.RequestValidationError, *, model: str, llm_provider: str, url: str | None) -> None:
        fix = litellm_fix(exc)
        message = _local_message(exc, fix)
        body = _local_body(exc, message)
        response = httpx.Response(400, json={"error": body}, request=_request(url))
        lx.BadRequestError.__init__(
            self, message=message, model=model, llm_provider=llm_provider, response=response, body=body
        )
        _mark_local(self, exc, body, fix)


class LocalUnsupportedParamsError(lx.UnsupportedParamsError, _StoppedBeforeSending):  # type: ignore[misc]
    """``UnsupportedParameterError`` (a parameter the API or the route rejects) as LiteLLM's
    ``UnsupportedParamsError``, with the same no-retry, no-fallback behaviour as ``LocalBadRequestError``."""

    def __init__(self, exc: core.RequestValidationError, *, model: str, llm_provider: str, url: str | None) -> None:
        fix = litellm_fix(exc)
        message = _local_message(exc, fix)
        body = _local_body(exc, message)
        response = httpx.Response(400, json={"error": body}, request=_request(url))
        lx.UnsupportedParamsError.__init__(
            self, message=message, model=model, llm_provider=llm_provider, response=response
        )
        self.response = response
        self.request = response.request
        _mark_local(self, exc, body, fix)


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
    if isinstance(exc, core.UnsupportedParameterError):
        return LocalUnsupportedParamsError(exc, url=url, **kw)
    if isinstance(exc, core.RequestValidationError):
        return LocalBadRequestError(exc, url=url, **kw)
    message = str(exc)
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
