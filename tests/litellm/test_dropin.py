"""Changing ``cerebras/`` to ``cerebras-adapters/`` is all a user of LiteLLM's built-in provider has to do.

Each behaviour here failed before (issue 9): ``reasoning_effort`` refused without ``allowed_openai_params``; LiteLLM's
"Provider List" banner printed by ``stream_chunk_builder`` (and, on LiteLLM 1.110, ``completion_cost``) because a
response named its model with the bare id; errors telling LiteLLM users to set the core client's
``unsupported_params='drop'``; ``CEREBRAS_API_BASE`` ignored; a changed ``CEREBRAS_API_KEY`` ignored because the
client built from the old one was reused.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from typing import Any

import litellm
import openai
import pytest
from litellm.constants import DEFAULT_CHAT_COMPLETION_PARAM_VALUES
from litellm.llms.custom_llm import CustomLLM

from cerebras_adapters import CerebrasClient, default_catalog
from cerebras_adapters.litellm import ALLOWED_OPENAI_PARAMS, CerebrasLLM, register, unregister
from cerebras_adapters.options import OPTION_NAMES
from cerebras_adapters.testing import EmulatorServer

from .conftest import HELLO, KEY, MASTER_KEY, PROVIDER, Caller, chat_bodies
from .test_options import CASES, Case

BANNER = "Provider List"
_ENV = ("CEREBRAS_BASE_URL", "CEREBRAS_API_BASE", "CEREBRAS_API_KEY", "OPENROUTER_BASE_URL", "OPENROUTER_API_BASE")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean environment for the key and base URL variables (the tests set what they need)."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def banner_printed(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """LiteLLM as users run it (the harness silences its debug banners), and a check of what it printed."""
    monkeypatch.setattr(litellm, "suppress_debug_info", False)
    capsys.readouterr()

    def printed() -> bool:
        out, err = capsys.readouterr()
        return BANNER in out or BANNER in err

    yield printed


def _price(model: str, usage: Any) -> float:
    info = default_catalog().get(model)
    assert info is not None and info.input_price is not None and info.output_price is not None
    return (usage.prompt_tokens * info.input_price + usage.completion_tokens * info.output_price) / 1_000_000


# -- 1. reasoning_effort and every other Cerebras option, with no allowed_openai_params -----------------------------


@pytest.mark.parametrize(("model", "effort"), [("zai-glm-4.7", "none"), ("gpt-oss-120b", "low")])
def test_reasoning_effort_needs_no_allowed_openai_params(call: Caller, model: str, effort: str) -> None:
    call.complete(model, reasoning_effort=effort)

    assert call.emulator.last_request.json()["reasoning_effort"] == effort


def test_reasoning_effort_needs_no_allowed_openai_params_when_streaming(call: Caller) -> None:
    call.stream("zai-glm-4.7", reasoning_effort="none")

    assert call.emulator.last_request.json()["reasoning_effort"] == "none"


def test_drop_params_keeps_reasoning_effort_which_cerebras_takes(sync_call: Caller) -> None:
    # LiteLLM used to drop it silently, as a parameter the custom provider "does not support".
    sync_call.complete("gpt-oss-120b", reasoning_effort="high", drop_params=True)

    assert sync_call.emulator.last_request.json()["reasoning_effort"] == "high"


def test_reasoning_effort_in_router_litellm_params_and_per_request(cerebras_emulator: EmulatorServer) -> None:
    params = {"model": f"{PROVIDER}/gpt-oss-120b", "api_base": cerebras_emulator.base_url, "api_key": KEY}
    router = litellm.Router(model_list=[{"model_name": "m", "litellm_params": {**params, "reasoning_effort": "low"}}])

    router.completion(model="m", messages=HELLO)
    asyncio.run(router.acompletion(model="m", messages=HELLO, reasoning_effort="high"))

    assert [body["reasoning_effort"] for body in chat_bodies(cerebras_emulator)] == ["low", "high"]


def test_reasoning_effort_through_the_proxy_config(proxy_url: str, cerebras_emulator: EmulatorServer) -> None:
    # integrations/litellm/proxy.yaml has no allowed_openai_params.
    with openai.OpenAI(base_url=f"{proxy_url}/v1", api_key=MASTER_KEY, max_retries=0) as client:
        client.chat.completions.create(model="zai-glm-4.7", messages=HELLO, reasoning_effort="none")  # type: ignore[arg-type]

    assert chat_bodies(cerebras_emulator)[-1]["reasoning_effort"] == "none"


def _without_allowed(case: Case) -> Case:
    return case._replace(options={k: v for k, v in case.options.items() if k != "allowed_openai_params"})


@pytest.mark.parametrize("case", [_without_allowed(c) for c in CASES.values()], ids=CASES.keys())
def test_every_cerebras_option_reaches_the_wire_with_no_allowed_openai_params(call: Caller, case: Case) -> None:
    call.complete(case.model, **case.options)

    request = call.emulator.last_request
    for name, value in case.body.items():
        assert request.json()[name] == value, name
    for name, value in case.headers.items():
        assert request.headers[name] == value, name


def test_litellm_lets_through_every_openai_parameter_cerebras_takes() -> None:
    # If LiteLLM's custom-provider list (or the provider's) loses one, this names it.
    supported = set(litellm.get_supported_openai_params("gpt-oss-120b", custom_llm_provider=PROVIDER) or ())
    unchecked = {"user", "stream", "stream_options", "max_retries"}  # litellm.utils.PROVIDER_UNVALIDATED_PARAMS
    openai_params = OPTION_NAMES & DEFAULT_CHAT_COMPLETION_PARAM_VALUES.keys()
    refused = openai_params - supported - unchecked - {"api_version"}  # api_version: read from litellm_params

    assert refused <= set(ALLOWED_OPENAI_PARAMS)


class _Echo(CustomLLM):
    def completion(self, *args: Any, **kwargs: Any) -> Any:
        return litellm.ModelResponse(choices=[{"message": {"role": "assistant", "content": "ok"}}])


def test_other_custom_providers_still_get_litellms_own_check() -> None:
    litellm.custom_provider_map = [*litellm.custom_provider_map, {"provider": "echo-llm", "custom_handler": _Echo()}]
    try:
        with pytest.raises(litellm.UnsupportedParamsError, match="reasoning_effort"):
            litellm.completion("echo-llm/some-model", messages=HELLO, reasoning_effort="low")
    finally:
        unregister("echo-llm")


# -- 2. no "Provider List" banner; the cost is the same ------------------------------------------------------------


def test_a_response_is_named_with_the_provider_prefix_and_costs_the_same(call: Caller, banner_printed: Any) -> None:
    response = call.complete("gpt-oss-120b")
    cost = litellm.completion_cost(response)

    assert response.model == f"{PROVIDER}/gpt-oss-120b"
    assert cost == pytest.approx(_price("gpt-oss-120b", response.usage))
    assert response._hidden_params["response_cost"] == pytest.approx(cost)
    assert not banner_printed()


@pytest.mark.parametrize("route", ["cerebras", "openrouter"])
def test_a_stream_assembled_by_stream_chunk_builder_prints_no_banner_and_costs_the_same(
    call: Caller, banner_printed: Any, route: str
) -> None:
    chunks = call.stream("gpt-oss-120b", route=route)
    assembled = litellm.stream_chunk_builder(chunks)
    cost = litellm.completion_cost(assembled)

    assert assembled is not None and assembled.model == f"{PROVIDER}/gpt-oss-120b"
    assert assembled.choices[0].message.content
    assert cost == pytest.approx(_price("gpt-oss-120b", assembled.usage))
    assert not banner_printed()


def test_a_json_mode_stream_of_one_delta_is_named_the_same(call: Caller, banner_printed: Any) -> None:
    # JSON mode is served by one non-streamed call handed over as a single delta (docs/litellm.md, Responses).
    chunks = call.stream("gpt-oss-120b", response_format={"type": "json_object"})

    assembled = litellm.stream_chunk_builder(chunks)

    assert assembled is not None and assembled.model == f"{PROVIDER}/gpt-oss-120b"
    assert assembled.choices[0].message.content
    assert not banner_printed()


# -- 4. error fixes in LiteLLM's words ------------------------------------------------------------------------------


@pytest.mark.parametrize("param", ["top_k", "store"])
def test_an_unknown_parameter_is_refused_with_litellms_drop_settings(sync_call: Caller, param: str) -> None:
    with pytest.raises(litellm.UnsupportedParamsError) as info:
        sync_call.complete(**{param: 5 if param == "top_k" else True})

    error = info.value
    for text in (str(error), error.fix):  # type: ignore[attr-defined]
        assert "drop_params=True" in text and f"additional_drop_params=[{param!r}]" in text
        assert "unsupported_params" not in text
    assert chat_bodies(sync_call.emulator) == []


def test_additional_drop_params_named_in_the_fix_drops_the_parameter(sync_call: Caller) -> None:
    sync_call.complete(top_k=5, additional_drop_params=["top_k"])

    assert "top_k" not in sync_call.emulator.last_request.json()


def test_drop_params_named_in_the_fix_drops_the_parameter(sync_call: Caller) -> None:
    with pytest.warns(UserWarning, match="top_k"):
        sync_call.complete(top_k=5, drop_params=True)

    assert "top_k" not in sync_call.emulator.last_request.json()


# -- 5. CEREBRAS_API_BASE, and environment changes taking effect ---------------------------------------------------


def _call_without_endpoint(mode: str, model: str = f"{PROVIDER}/gpt-oss-120b", **kwargs: Any) -> Any:
    if mode == "sync":
        return litellm.completion(model=model, messages=HELLO, **kwargs)
    return asyncio.run(litellm.acompletion(model=model, messages=HELLO, **kwargs))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_cerebras_api_base_is_honoured(env: pytest.MonkeyPatch, cerebras_emulator: EmulatorServer, mode: str) -> None:
    env.setenv("CEREBRAS_API_KEY", KEY)
    env.setenv("CEREBRAS_API_BASE", cerebras_emulator.base_url)

    _call_without_endpoint(mode)

    assert len(chat_bodies(cerebras_emulator)) == 1


def test_openrouter_api_base_is_honoured(env: pytest.MonkeyPatch, cerebras_emulator: EmulatorServer) -> None:
    env.setenv("OPENROUTER_API_KEY", KEY)
    env.setenv("OPENROUTER_API_BASE", cerebras_emulator.openrouter_base_url)

    _call_without_endpoint("sync", route="openrouter")

    assert cerebras_emulator.last_request.path.startswith("/api/v1/")


def test_cerebras_base_url_wins_over_a_different_cerebras_api_base_with_a_warning(
    env: pytest.MonkeyPatch, cerebras_emulator: EmulatorServer
) -> None:
    env.setenv("CEREBRAS_API_KEY", KEY)
    env.setenv("CEREBRAS_BASE_URL", cerebras_emulator.base_url)
    env.setenv("CEREBRAS_API_BASE", "http://127.0.0.1:9/v1")  # nothing listens there

    with pytest.warns(UserWarning, match="CEREBRAS_BASE_URL and CEREBRAS_API_BASE are both set"):
        _call_without_endpoint("sync")

    assert len(chat_bodies(cerebras_emulator)) == 1


def test_the_same_url_in_both_variables_is_no_conflict(env: pytest.MonkeyPatch) -> None:
    env.setenv("CEREBRAS_BASE_URL", "http://127.0.0.1:9/v1")
    env.setenv("CEREBRAS_API_BASE", "http://127.0.0.1:9/v1/")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client = CerebrasClient(api_key=KEY)
    client.close()

    assert client.base_url == "http://127.0.0.1:9/v1"


def test_an_explicit_api_base_wins_over_both_variables(
    env: pytest.MonkeyPatch, cerebras_emulator: EmulatorServer
) -> None:
    env.setenv("CEREBRAS_BASE_URL", "http://127.0.0.1:9/v1")
    env.setenv("CEREBRAS_API_BASE", "http://127.0.0.1:9/v1")

    _call_without_endpoint("sync", api_base=cerebras_emulator.base_url, api_key=KEY)

    assert len(chat_bodies(cerebras_emulator)) == 1


def _sent_keys(emulator: EmulatorServer) -> list[str]:
    return [r.headers["authorization"] for r in emulator.requests if r.path.endswith("/chat/completions")]


KEYS = ["csk-" + "first-key", "csk-" + "second-key"]


def test_a_changed_api_key_takes_effect_on_the_next_call(
    env: pytest.MonkeyPatch, cerebras_emulator: EmulatorServer
) -> None:
    env.setenv("CEREBRAS_BASE_URL", cerebras_emulator.base_url)

    for key in KEYS:
        env.setenv("CEREBRAS_API_KEY", key)
        _call_without_endpoint("sync")

    assert _sent_keys(cerebras_emulator) == [f"Bearer {key}" for key in KEYS]


def test_a_changed_api_key_takes_effect_on_the_next_call_in_a_long_lived_event_loop(
    env: pytest.MonkeyPatch, cerebras_emulator: EmulatorServer
) -> None:
    # One loop for both calls, as in the proxy (asyncio.run per call would build a new client anyway).
    env.setenv("CEREBRAS_BASE_URL", cerebras_emulator.base_url)

    async def both() -> None:
        for key in KEYS:
            env.setenv("CEREBRAS_API_KEY", key)
            await litellm.acompletion(model=f"{PROVIDER}/gpt-oss-120b", messages=HELLO)

    asyncio.run(both())

    assert _sent_keys(cerebras_emulator) == [f"Bearer {key}" for key in KEYS]


def test_a_removed_api_key_is_litellms_authentication_error_naming_the_variable(
    env: pytest.MonkeyPatch, cerebras_emulator: EmulatorServer
) -> None:
    env.setenv("CEREBRAS_BASE_URL", cerebras_emulator.base_url)
    env.setenv("CEREBRAS_API_KEY", KEYS[0])
    _call_without_endpoint("sync")
    env.delenv("CEREBRAS_API_KEY")

    with pytest.raises(litellm.AuthenticationError, match="CEREBRAS_API_KEY"):
        _call_without_endpoint("sync")
    assert len(_sent_keys(cerebras_emulator)) == 1


@pytest.fixture
def fresh_provider() -> Iterator[CerebrasLLM]:
    name = "cerebras-adapters-env-test"
    handler = register(name)
    try:
        yield handler
    finally:
        handler.close()
        unregister(name)


def test_the_client_built_from_a_replaced_key_is_closed_not_kept(
    env: pytest.MonkeyPatch, cerebras_emulator: EmulatorServer, fresh_provider: CerebrasLLM
) -> None:
    env.setenv("CEREBRAS_BASE_URL", cerebras_emulator.base_url)
    env.setenv("CEREBRAS_API_KEY", KEYS[0])
    model = f"{fresh_provider.provider}/gpt-oss-120b"
    litellm.completion(model=model, messages=HELLO)
    (first,) = (client for _, client in fresh_provider._clients.values())

    env.setenv("CEREBRAS_API_KEY", KEYS[1])
    litellm.completion(model=model, messages=HELLO)
    litellm.completion(model=model, messages=HELLO)

    (current,) = (client for _, client in fresh_provider._clients.values())
    assert current is not first and current.api_key.endswith("second-key")
    assert first._http.is_closed and not current._http.is_closed
