"""``validation="strict" | "warn" | "off"``: a way past a stale rule, on every entry point.

``strict`` (default) refuses before sending; ``warn`` emits a ``ValidationWarning`` with the message strict
would have raised and sends the request as given; ``off`` checks nothing and sends what the caller gave, unknown
parameters included. In every mode the body is strict JSON and the headers legal. The scenario the modes exist
for is played against the emulator with a made-up family (``tests/made_up_family.py``) whose client-side
definition still says ``tool_choice`` is "auto"/"none" only while the emulated model has learned "required".
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cerebras_adapters import (
    AsyncCerebrasClient,
    CerebrasClient,
    RequestValidationError,
    UnsupportedParameterError,
    ValidationWarning,
)
from cerebras_adapters.testing import EmulatorServer
from tests.made_up_family import MODEL, made_up_family
from tests.wire import completion

USER = [{"role": "user", "content": "What is the weather in Paris?"}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
# Three things strict refuses: an unknown parameter, a value out of range, and a per-model rule (gpt-oss takes
# tool_choice "auto"/"none" only).
BROKEN = {"model": "gpt-oss-120b", "messages": USER, "store": True, "temperature": 5, "tools": TOOLS,
          "tool_choice": "required"}
READ_ONLY = r"ignore:Items? .* `ReadOnly` qualifier:UserWarning"  # LiteLLM's TypedDicts, when pydantic builds them


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=completion("Sunny."))


def body_of(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


def given_fields(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "stream"}


# -- the core client ---------------------------------------------------------------------------------------------


def test_strict_is_the_default_and_refuses_before_sending(api):
    with pytest.raises(UnsupportedParameterError):
        api.create(ok, **BROKEN)

    assert api.requests == []
    assert CerebrasClient(api_key="k").validation == "strict"


def test_warn_sends_the_request_as_given_after_one_warning_per_failed_check(api):
    with pytest.warns(ValidationWarning) as caught:
        api.create(ok, client_kwargs={"validation": "warn"}, **BROKEN)

    assert len(api.requests) == 1
    assert given_fields(body_of(api.requests[0])) == {k: v for k, v in BROKEN.items()}
    assert [(w.message.param, w.message.rule) for w in caught] == [  # type: ignore[union-attr]
        ("store", None),
        ("temperature", None),
        ("tool_choice", "tool_choice_forms_per_model"),
    ]


def test_a_warning_carries_the_message_strict_would_have_raised(api):
    options = {"model": "zai-glm-4.7", "messages": [{"role": "developer", "content": "Be brief."}, *USER]}
    with pytest.raises(RequestValidationError) as refused:
        api.create(ok, **options)

    with pytest.warns(ValidationWarning) as caught:
        api.create(ok, client_kwargs={"validation": "warn"}, **options)

    warning = caught[0].message
    assert isinstance(warning, ValidationWarning) and isinstance(warning, UserWarning)
    assert str(warning) == str(refused.value)
    assert (warning.param, warning.model, warning.fix, warning.rule) == (
        refused.value.param,
        refused.value.model,
        refused.value.fix,
        "developer_role",
    )


def test_a_warning_points_at_the_callers_line():
    http = httpx.Client(transport=httpx.MockTransport(ok))
    with CerebrasClient(api_key="k", http_client=http, validation="warn") as client:
        with pytest.warns(ValidationWarning) as caught:
            client.chat.completions.create(model="gpt-oss-120b", messages=USER, reasoning_effort="none")

    assert caught[0].filename == __file__


def test_off_sends_what_the_caller_gave_without_a_warning(api):
    messages = [{"role": "developer", "content": "Be brief.", "x-trace": 7}, *USER]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        api.create(ok, client_kwargs={"validation": "off"}, **{**BROKEN, "messages": messages})

    assert given_fields(body_of(api.requests[0])) == {**BROKEN, "messages": messages}


def test_off_still_translates_the_documented_options(api):
    api.create(ok, client_kwargs={"validation": "off"}, model="gpt-oss-120b", messages=USER, max_tokens=64,
               api_version="1")

    request = api.requests[0]
    assert body_of(request)["max_completion_tokens"] == 64
    assert request.headers["X-Cerebras-Version-Patch"] == "1"


@pytest.mark.parametrize("mode", ["warn", "off"])
def test_every_mode_refuses_a_body_that_is_not_strict_json(api, mode):
    with pytest.raises(RequestValidationError) as info, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ValidationWarning)
        api.create(ok, client_kwargs={"validation": mode}, model="gpt-oss-120b", messages=USER, temperature=math.nan)

    assert info.value.param == "temperature"
    assert "JSON cannot carry" in str(info.value)  # refused when the body is encoded, not by a check
    assert len(caught) == (1 if mode == "warn" else 0)  # warn also warned about the range
    assert api.requests == []


@pytest.mark.parametrize("mode", ["warn", "off"])
def test_every_mode_refuses_nan_inside_a_message(api, mode):
    messages = [{"role": "user", "content": [{"type": "text", "text": math.inf}]}]
    with pytest.raises(RequestValidationError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidationWarning)
        api.create(ok, client_kwargs={"validation": mode}, model="gpt-oss-120b", messages=messages)

    assert info.value.param == "messages.0.content.0.text"
    assert api.requests == []


@pytest.mark.parametrize("mode", ["warn", "off"])
def test_every_mode_refuses_an_illegal_header(api, mode):
    with pytest.raises(RequestValidationError) as info:
        api.create(ok, client_kwargs={"validation": mode}, model="gpt-oss-120b", messages=USER,
                   extra_headers={"x-trace": "a\nb"})

    assert info.value.param == "extra_headers.x-trace"
    assert api.requests == []


def test_off_still_drops_unknown_parameters_when_asked(api):
    with pytest.warns(UserWarning, match="store"):
        api.create(ok, client_kwargs={"validation": "off", "unsupported_params": "drop"}, model="gpt-oss-120b",
                   messages=USER, store=True)

    assert "store" not in body_of(api.requests[0])


@pytest.mark.parametrize("cls", [CerebrasClient, AsyncCerebrasClient])
def test_an_unknown_validation_mode_is_refused(cls):
    with pytest.raises(RequestValidationError) as info:
        cls(api_key="k", validation="lenient")

    assert info.value.param == "validation"


# -- the scenario: the service moved faster than the library ------------------------------------------------------


@pytest.fixture
def acme() -> Iterator[None]:
    with made_up_family():
        yield


def _chat_requests(emulator: EmulatorServer) -> list[Any]:
    return [r for r in emulator.requests if r.path.endswith("/chat/completions")]


@pytest.mark.parametrize("mode", ["warn", "off"])
def test_core_client_gets_past_a_stale_rule(acme, cerebras_emulator: EmulatorServer, mode):
    with CerebrasClient(api_key="csk-test", base_url=cerebras_emulator.base_url, validation=mode) as client:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = client.chat.completions.create(model=MODEL, messages=USER, tools=TOOLS, tool_choice="required")

    assert result.choices[0].message.tool_calls
    assert [type(w.message) for w in caught] == ([ValidationWarning] if mode == "warn" else [])


def test_core_client_refuses_the_stale_rule_by_default(acme, cerebras_emulator: EmulatorServer):
    with CerebrasClient(api_key="csk-test", base_url=cerebras_emulator.base_url) as client:
        with pytest.raises(RequestValidationError) as info:
            client.chat.completions.create(model=MODEL, messages=USER, tools=TOOLS, tool_choice="required")

    assert info.value.rule == "tool_choice_forms_per_model"
    assert _chat_requests(cerebras_emulator) == []


# -- ChatCerebras -------------------------------------------------------------------------------------------------


def _chat(validation: str | None, handler: Any) -> Any:
    pytest.importorskip("langchain_core")
    from cerebras_adapters.langchain import ChatCerebras

    kwargs: dict[str, Any] = {} if validation is None else {"validation": validation}
    transport = httpx.MockTransport(handler)
    return ChatCerebras(model="gpt-oss-120b", api_key="k", max_retries=0, http_client=httpx.Client(transport=transport),
                        http_async_client=httpx.AsyncClient(transport=transport), **kwargs)


def test_chat_cerebras_builds_its_clients_with_its_validation_mode():
    llm = _chat("off", ok)

    assert llm.client.validation == "off"
    assert llm._build_async_client().validation == "off"
    assert _chat(None, ok).client.validation == "strict"


@pytest.mark.parametrize("mode", ["warn", "off"])
def test_chat_cerebras_sends_past_a_rule(mode):
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(body_of(request))
        return ok(request)

    llm = _chat(mode, handler)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        llm.invoke("Hi", clear_thinking=False)

    assert bodies[0]["clear_thinking"] is False
    assert [w.message.rule for w in caught if isinstance(w.message, ValidationWarning)] == (
        ["clear_thinking_supported"] if mode == "warn" else []
    )


def test_chat_cerebras_is_strict_by_default():
    with pytest.raises(RequestValidationError) as info:
        _chat(None, ok).invoke("Hi", clear_thinking=False)

    assert info.value.rule == "clear_thinking_supported"


def test_chat_cerebras_refuses_an_unknown_validation_mode():
    pytest.importorskip("langchain_core")
    from pydantic import ValidationError

    from cerebras_adapters.langchain import ChatCerebras

    with pytest.raises(ValidationError):
        ChatCerebras(api_key="k", validation="lenient")


# -- the LiteLLM provider -----------------------------------------------------------------------------------------


@pytest.fixture
def litellm(monkeypatch: pytest.MonkeyPatch) -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network fetch of LiteLLM's price map
    module = pytest.importorskip("litellm")
    from cerebras_adapters.litellm import register

    register()
    monkeypatch.setattr(module, "drop_params", False)
    return module


def _litellm_call(emulator: EmulatorServer, **kwargs: Any) -> dict[str, Any]:
    return {"model": f"cerebras-adapters/{MODEL}", "messages": USER, "api_base": emulator.base_url,
            "api_key": "csk-test", "tools": TOOLS, "tool_choice": "required", **kwargs}


@pytest.mark.filterwarnings(READ_ONLY)
@pytest.mark.parametrize("mode", ["warn", "off"])
def test_litellm_gets_past_a_stale_rule_per_call(acme, litellm, cerebras_emulator: EmulatorServer, mode):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ValidationWarning)
        response = litellm.completion(**_litellm_call(cerebras_emulator, validation=mode))

    assert response.choices[0].message.tool_calls
    assert [w.message.rule for w in caught if isinstance(w.message, ValidationWarning)] == (
        ["tool_choice_forms_per_model"] if mode == "warn" else []
    )
    assert "validation" not in _chat_requests(cerebras_emulator)[-1].json()


@pytest.mark.filterwarnings(READ_ONLY)
def test_litellm_is_strict_by_default(acme, litellm, cerebras_emulator: EmulatorServer):
    with pytest.raises(litellm.BadRequestError, match="tool_choice"):
        litellm.completion(**_litellm_call(cerebras_emulator))

    assert _chat_requests(cerebras_emulator) == []


@pytest.mark.filterwarnings(READ_ONLY)
@pytest.mark.parametrize("mode", ["warn", "off"])
def test_a_router_deployment_gets_past_a_stale_rule(acme, litellm, cerebras_emulator: EmulatorServer, mode):
    params = {"model": f"cerebras-adapters/{MODEL}", "api_base": cerebras_emulator.base_url, "api_key": "csk-test",
              "validation": mode}
    router = litellm.Router(model_list=[{"model_name": "acme", "litellm_params": params}])

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ValidationWarning)
        response = router.completion(model="acme", messages=USER, tools=TOOLS, tool_choice="required")

    assert response.choices[0].message.tool_calls
    assert any(isinstance(w.message, ValidationWarning) for w in caught) == (mode == "warn")


@pytest.mark.filterwarnings(READ_ONLY)
def test_litellm_refuses_an_unknown_validation_mode(litellm, cerebras_emulator: EmulatorServer):
    with pytest.raises(litellm.BadRequestError, match="validation"):
        litellm.completion(model="cerebras-adapters/gpt-oss-120b", messages=USER, api_base=cerebras_emulator.base_url,
                           api_key="csk-test", validation="lenient")


@pytest.mark.filterwarnings(READ_ONLY)
def test_litellm_keeps_one_client_per_validation_mode(litellm, cerebras_emulator: EmulatorServer):
    from cerebras_adapters.litellm._convert import split_options

    handler = next(e["custom_handler"] for e in litellm.custom_provider_map if e["provider"] == "cerebras-adapters")
    strict, _ = split_options({}, {}, api_key="k", api_base=None, stream=False)
    off, _ = split_options({"validation": "off"}, {}, api_key="k", api_base=None, stream=False)
    routed, _ = split_options({}, {"validation": "Warn"}, api_key="k", api_base=None, stream=False)

    assert (strict.validation, off.validation, routed.validation) == ("strict", "off", "warn")
    assert handler._key(strict) != handler._key(off)
    assert handler._client_kwargs(off)["validation"] == "off"


@pytest.mark.filterwarnings(READ_ONLY)
def test_a_global_drop_params_keeps_the_validation_mode(litellm, monkeypatch):
    from cerebras_adapters.litellm._convert import split_options

    monkeypatch.setattr(litellm, "drop_params", True)

    settings, _ = split_options({"validation": "off"}, {}, api_key="k", api_base=None, stream=False)

    assert (settings.drop_params, settings.validation) == (True, "off")


@pytest.mark.filterwarnings(READ_ONLY)
def test_a_global_drop_params_does_not_lose_the_validation_mode_of_a_call(
    acme, litellm, cerebras_emulator: EmulatorServer, monkeypatch
):
    monkeypatch.setattr(litellm, "drop_params", True)

    response = litellm.completion(**_litellm_call(cerebras_emulator, validation="off"))

    assert response.choices[0].message.tool_calls
