"""A request the core refuses locally is one ``BadRequestError`` with ``param`` set, never retried, cooled down or
fallen back on, in a real LiteLLM ``Router`` (``integrations/litellm/router.yaml``: Cerebras, then OpenRouter pinned
to Cerebras) and through the real LiteLLM proxy (``integrations/litellm/proxy.yaml``).

Before: ``reasoning_effort="none"`` on gpt-oss made the Router fall back to the OpenRouter deployment ("Fallback to
gpt-oss-120b-openrouter also failed") and the proxy's error JSON had ``param: null``. LiteLLM 1.106.2 falls back on
every exception but a guardrail intervention (``Router.async_function_with_fallbacks_common_utils``), so the
provider raises its local refusals as ``BadRequestError`` subclasses that are also ``GuardrailRaisedException``
(see ``cerebras_adapters.litellm._errors``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import litellm
import openai
import pytest
from litellm.integrations.custom_logger import CustomLogger
from litellm.router_utils.cooldown_handlers import get_cooldown_deployments
from litellm.router_utils.router_callbacks.track_deployment_metrics import get_deployment_failures_for_current_minute

from cerebras_adapters import RequestValidationError, UnsupportedParameterError
from cerebras_adapters.litellm._errors import to_litellm_error
from cerebras_adapters.testing import EmulatorServer

from .conftest import HELLO, MASTER_KEY

# Refused by the core before anything is sent (cerebras-api.md §1.1: gpt-oss cannot turn reasoning off; top_k is
# not a Cerebras parameter).
LOCAL = {
    "reasoning_effort none on gpt-oss": ({"reasoning_effort": "none"}, litellm.BadRequestError, "reasoning_effort"),
    "temperature NaN": ({"temperature": float("nan")}, litellm.BadRequestError, "temperature"),
    "unknown parameter": ({"top_k": 5}, litellm.UnsupportedParamsError, "top_k"),
    "tool message answering nothing": (
        {"messages": [*HELLO, {"role": "tool", "tool_call_id": "8db3b6644", "content": "Sunny"}]},
        litellm.BadRequestError,
        "messages.1.tool_call_id",
    ),
}


class Spy(CustomLogger):
    """Counts LiteLLM's failure and fallback callbacks."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0
        self.fallbacks: list[str] = []

    def log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self.failures += 1

    async def async_log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self.failures += 1

    async def log_success_fallback_event(self, original_model_group: str, kwargs: Any, original_exception: Any) -> None:
        self.fallbacks.append(str(kwargs.get("model")))

    async def log_failure_fallback_event(self, original_model_group: str, kwargs: Any, original_exception: Any) -> None:
        self.fallbacks.append(str(kwargs.get("model")))


@pytest.fixture
def spy() -> Spy:
    spy = Spy()
    litellm.callbacks.append(spy)  # the conftest restores litellm.callbacks after the test
    return spy


def _chat_requests(emulator: EmulatorServer) -> list[str]:
    return [r.path for r in emulator.requests if r.path.endswith("/chat/completions")]


def _call(router: litellm.Router, mode: str, **kwargs: Any) -> Any:
    kwargs = {"model": "fast", "messages": HELLO, **kwargs}
    if mode == "sync":
        return router.completion(**kwargs)
    if mode == "async-stream":

        async def drain() -> list[Any]:
            return [chunk async for chunk in await router.acompletion(stream=True, **kwargs)]

        return asyncio.run(drain())
    return asyncio.run(router.acompletion(**kwargs))


# -- the mapping ------------------------------------------------------------------------------------------------


def test_a_local_refusal_becomes_a_bad_request_carrying_the_param() -> None:
    core = RequestValidationError("messages.2.content must be a string.", param="messages.2.content", fix="x")

    error = to_litellm_error(core, model="gpt-oss-120b", provider="cerebras-adapters")

    assert isinstance(error, litellm.BadRequestError)
    assert error.status_code == 400
    assert error.param == "messages.2.content"
    assert error.response.json()["error"]["param"] == "messages.2.content"


def test_a_locally_refused_unknown_parameter_becomes_unsupported_params_carrying_the_param() -> None:
    core = UnsupportedParameterError("top_k is not a Cerebras parameter.", param="top_k", fix="remove it")

    error = to_litellm_error(core, model="gpt-oss-120b", provider="cerebras-adapters")

    assert isinstance(error, litellm.UnsupportedParamsError)
    assert (error.status_code, error.param) == (400, "top_k")


# -- the Router ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["sync", "async", "async-stream"])
@pytest.mark.parametrize("call, error, param", LOCAL.values(), ids=LOCAL.keys())
def test_a_local_refusal_in_the_router_is_one_bad_request_with_no_retry_fallback_or_cooldown(
    router: litellm.Router, cerebras_emulator: EmulatorServer, spy: Spy, mode: str, call: Any, error: Any, param: str
) -> None:
    with pytest.raises(error) as info:
        _call(router, mode, **call)

    assert info.value.param == param  # type: ignore[attr-defined]
    assert "Fallback" not in str(info.value)
    assert _chat_requests(cerebras_emulator) == []  # neither deployment was asked
    assert spy.failures == 1  # one attempt: no retry
    assert spy.fallbacks == []
    assert get_cooldown_deployments(router, parent_otel_span=None) == []
    for deployment in router.get_model_ids():
        assert get_deployment_failures_for_current_minute(router, deployment) == 0


def test_after_a_local_refusal_the_next_request_still_goes_to_cerebras(
    router: litellm.Router, cerebras_emulator: EmulatorServer
) -> None:
    for _ in range(3):  # more than allowed_fails (1) in router.yaml
        with pytest.raises(litellm.BadRequestError):
            router.completion(model="fast", messages=HELLO, reasoning_effort="none")

    router.completion(model="fast", messages=HELLO)

    assert _chat_requests(cerebras_emulator) == ["/v1/chat/completions"]


def test_a_429_still_falls_back_to_openrouter(router: litellm.Router, cerebras_emulator: EmulatorServer) -> None:
    # The other side of the coin: what the service refuses keeps LiteLLM's fallback behaviour.
    cerebras_emulator.fail_next(1, "429")

    router.completion(model="fast", messages=HELLO)

    assert _chat_requests(cerebras_emulator) == ["/v1/chat/completions", "/api/v1/chat/completions"]


# -- the proxy ---------------------------------------------------------------------------------------------------


@pytest.fixture
def client(proxy_url: str, cerebras_emulator: EmulatorServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{proxy_url}/v1", api_key=MASTER_KEY, max_retries=0) as http:
        yield http


def test_the_proxy_answers_a_local_refusal_with_400_and_the_param_without_falling_back(
    client: openai.OpenAI, cerebras_emulator: EmulatorServer
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-oss-120b", messages=HELLO, reasoning_effort="none")  # type: ignore[arg-type]

    assert info.value.status_code == 400
    assert info.value.param == "reasoning_effort"
    assert "always reasons" in info.value.message
    assert "Fallback" not in info.value.message
    assert _chat_requests(cerebras_emulator) == []


def test_the_proxy_names_a_nested_param(client: openai.OpenAI, cerebras_emulator: EmulatorServer) -> None:
    messages = [*HELLO, {"role": "tool", "tool_call_id": "8db3b6644", "content": "Sunny"}]

    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-oss-120b", messages=messages)  # type: ignore[arg-type]

    assert info.value.param == "messages.1.tool_call_id"
    assert _chat_requests(cerebras_emulator) == []
