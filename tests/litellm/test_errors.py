"""Every failure surfaces as LiteLLM's exception class for it, with the status, the message and the retry hints,
so the Router's retries, cooldowns and fallbacks act on it (litellm.md §2.1 mapping table)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any, NamedTuple

import litellm
import pytest
from litellm.exceptions import MidStreamFallbackError

from cerebras_adapters.litellm._errors import LocalBadRequestError, LocalUnsupportedParamsError

from .conftest import HELLO, KEY, PROVIDER, Caller


class Failure(NamedTuple):
    fault: str | None  # emulator fault spec for the next request, if any
    call: dict[str, Any]  # extra completion kwargs
    error: type[Exception]
    status: int | None


FAILURES: dict[str, Failure] = {
    "429 requests": Failure("429", {}, litellm.RateLimitError, 429),
    "429 tokens": Failure("429-tokens", {}, litellm.RateLimitError, 429),
    "400": Failure("400", {}, litellm.BadRequestError, 400),
    "context length": Failure(None, {"max_completion_tokens": 131072}, litellm.ContextWindowExceededError, 400),
    "401 invalid key": Failure(None, {"api_key": "csk-invalid"}, litellm.AuthenticationError, 401),
    "403": Failure("403", {}, litellm.PermissionDeniedError, 403),
    "404 unknown model": Failure(None, {"model": f"{PROVIDER}/no-such-model"}, litellm.NotFoundError, 404),
    "422": Failure("422", {}, litellm.UnprocessableEntityError, 422),
    "500": Failure("500", {}, litellm.InternalServerError, 500),
    "502": Failure("502", {}, litellm.BadGatewayError, 502),
    "503": Failure("503", {}, litellm.ServiceUnavailableError, 503),
    "503 envelope": Failure("503-envelope", {}, litellm.ServiceUnavailableError, 503),
    "timeout": Failure("slow-first-token=2s", {"timeout": 0.2}, litellm.Timeout, None),
    # LiteLLM's classes, marked as local refusals so the Router neither retries nor falls back on them.
    "refused locally": Failure(None, {"top_logprobs": 2}, LocalBadRequestError, 400),
    "unknown parameter": Failure(None, {"top_k": 5}, LocalUnsupportedParamsError, 400),
}


def _raise(call: Caller, failure: Failure) -> Exception:
    if failure.fault:
        call.emulator.fail_next(1, failure.fault)
    kwargs = {"max_retries": 0, **failure.call}
    model = kwargs.pop("model", f"{PROVIDER}/gpt-oss-120b").split("/", 1)[1]
    with pytest.raises(failure.error) as info:
        call.complete(model, **kwargs)
    return info.value


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_failure_raises_litellms_class(call: Caller, failure: Failure) -> None:
    error = _raise(call, failure)

    assert type(error) is failure.error


@pytest.mark.parametrize(
    "failure", [f for f in FAILURES.values() if f.status], ids=[k for k, f in FAILURES.items() if f.status]
)
def test_failure_carries_the_status(sync_call: Caller, failure: Failure) -> None:
    error = _raise(sync_call, failure)

    assert error.status_code == failure.status  # type: ignore[attr-defined]


def test_failure_names_the_provider_and_model(sync_call: Caller) -> None:
    error = _raise(sync_call, FAILURES["503"])

    assert (error.llm_provider, error.model) == (PROVIDER, "gpt-oss-120b")  # type: ignore[attr-defined]


def test_failure_message_is_the_servers(sync_call: Caller) -> None:
    error = _raise(sync_call, FAILURES["429 requests"])

    assert "Requests per minute limit exceeded" in str(error)


def test_rate_limit_error_carries_a_retry_after_litellm_can_read(sync_call: Caller) -> None:
    error = _raise(sync_call, FAILURES["429 requests"])

    # The emulator says retry-after: 0.05; LiteLLM's calculate_retry_after reads whole seconds only.
    assert error.response.headers["retry-after"] == "1"  # type: ignore[attr-defined]
    assert error.response.headers["retry-after-ms"] == "50"  # type: ignore[attr-defined]
    assert error.headers["retry-after"] == "1"  # type: ignore[attr-defined]


def test_context_window_error_is_a_bad_request_too(sync_call: Caller) -> None:
    error = _raise(sync_call, FAILURES["context length"])

    assert isinstance(error, litellm.BadRequestError)


def test_connection_refused_raises_api_connection_error(sync_call: Caller) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    with pytest.raises(litellm.APIConnectionError):
        sync_call.complete(api_base=f"http://127.0.0.1:{port}/v1", max_retries=0)


def test_a_missing_key_raises_authentication_error(sync_call: Caller) -> None:
    with pytest.raises(litellm.AuthenticationError, match="CEREBRAS_API_KEY"):
        sync_call.complete(api_key=None)


def test_sync_stream_raises_a_429_from_the_completion_call_itself(sync_call: Caller) -> None:
    # The request is sent before completion() returns, so the Router's ordinary fallback path sees it.
    sync_call.emulator.fail_next(1, "429")
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(
            model=f"{PROVIDER}/gpt-oss-120b",
            messages=HELLO,
            api_base=sync_call.emulator.base_url,
            api_key=KEY,
            stream=True,
            max_retries=0,
        )


def test_async_stream_raises_a_429_before_the_first_chunk_as_a_pre_first_chunk_fallback(sync_call: Caller) -> None:
    sync_call.emulator.fail_next(1, "429")

    async def first_chunk() -> Any:
        response = await litellm.acompletion(
            model=f"{PROVIDER}/gpt-oss-120b",
            messages=HELLO,
            api_base=sync_call.emulator.base_url,
            api_key=KEY,
            stream=True,
            max_retries=0,
        )
        return await response.__anext__()

    with pytest.raises(MidStreamFallbackError) as info:
        asyncio.run(first_chunk())
    assert info.value.is_pre_first_chunk
    assert isinstance(info.value.original_exception, litellm.RateLimitError)


def test_stream_dropped_mid_way_raises_a_mid_stream_fallback_with_the_partial_text(call: Caller) -> None:
    call.emulator.fail_next(1, "drop-mid-stream=15")
    with pytest.raises(MidStreamFallbackError) as info:
        call.stream(max_retries=0)
    assert isinstance(info.value.original_exception, litellm.APIConnectionError)
    assert info.value.generated_content


def test_error_event_mid_stream_raises_a_mid_stream_fallback(call: Caller) -> None:
    call.emulator.fail_next(1, "mid-stream-error=15")
    with pytest.raises(MidStreamFallbackError) as info:
        call.stream(max_retries=0)
    assert isinstance(info.value.original_exception, litellm.InternalServerError)
