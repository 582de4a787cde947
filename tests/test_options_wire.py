"""Where every option of ``chat.completions.create`` lands on the wire, on both routes.

Cerebras (cerebras-api.md §0, §1.1, §1.3, §5.6): body fields under their own names, ``queue_threshold`` and
``api_version`` as request headers, ``max_tokens`` renamed, ``disable_reasoning`` translated. OpenRouter
(openrouter.md §1.1, §1.2, §1.7): model ids mapped, the Cerebras pin, the ``reasoning`` object, and the
Cerebras-only options refused before anything is sent.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from cerebras_adapters import OpenRouterRoute, RequestValidationError, UnsupportedParameterError
from cerebras_adapters.options import OPTION_NAMES
from tests.wire import completion

USER = [{"role": "user", "content": "What is the weather in Paris?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}
ANSWER_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "answer",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"answer": {"type": "string"}},
            "required": ["answer"],
            "additionalProperties": False,
        },
    },
}
OPENROUTER = {"route": "openrouter", "api_key": "or-test-key"}


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=completion("Sunny."))


def ok_on_cerebras(request: httpx.Request) -> httpx.Response:
    model = json.loads(request.content)["model"]
    return httpx.Response(200, json=completion("Sunny.", model=model, provider="Cerebras"))


def sent_body(api: Any) -> dict[str, Any]:
    assert len(api.requests) == 1
    body: dict[str, Any] = json.loads(api.requests[0].content)
    return body


# name, value, other options the value needs to be valid, model
BODY_OPTIONS = [
    ("max_completion_tokens", 16384, {}, "gpt-oss-120b"),
    ("min_completion_tokens", 64, {}, "gpt-oss-120b"),
    ("temperature", 0.0, {}, "gpt-oss-120b"),  # RT-13 sends 0.0
    ("top_p", 0.9, {}, "gpt-oss-120b"),
    ("seed", 42, {}, "gpt-oss-120b"),  # RT-13, RT-14
    ("stop", ["five"], {}, "gpt-oss-120b"),  # RT-10 sends an array
    ("n", 2, {}, "gpt-oss-120b"),
    ("frequency_penalty", 0.5, {}, "gemma-4-31b"),  # RT-01
    ("presence_penalty", 0.25, {}, "gemma-4-31b"),  # RT-01
    ("logit_bias", {"50256": -100}, {}, "gpt-oss-120b"),
    ("logprobs", True, {}, "gpt-oss-120b"),
    ("top_logprobs", 3, {"logprobs": True}, "gpt-oss-120b"),
    ("reasoning_effort", "low", {}, "gpt-oss-120b"),
    ("reasoning_format", "parsed", {}, "gpt-oss-120b"),
    ("clear_thinking", False, {"reasoning_effort": "none"}, "zai-glm-4.7"),  # RT-04
    ("tools", [WEATHER_TOOL], {}, "gemma-4-31b"),  # RT-01
    ("tool_choice", "required", {"tools": [WEATHER_TOOL]}, "llama3.1-8b"),  # withmartian recordings (2025)
    ("parallel_tool_calls", False, {"tools": [WEATHER_TOOL]}, "gemma-4-31b"),  # RT-01
    ("response_format", ANSWER_FORMAT, {}, "gpt-oss-120b"),
    ("prediction", {"type": "content", "content": "It is sunny in Paris."}, {}, "gpt-oss-120b"),
    ("service_tier", "flex", {}, "gemma-4-31b"),  # RT-01
    ("prompt_cache_key", "session-7", {}, "gpt-oss-120b"),
    ("user", "user-42", {}, "gpt-oss-120b"),
    ("model_parameters", {"top_k": 40}, {}, "gpt-oss-120b"),
    ("stream_options", {"include_usage": True}, {}, "gpt-oss-120b"),  # RT-13
]
# name, value, other options, header it is sent as, header value
HEADER_OPTIONS = [
    ("queue_threshold", 500, {"service_tier": "flex"}, "queue_threshold", "500"),
    ("api_version", 2, {}, "X-Cerebras-Version-Patch", "2"),
]
SPECIAL_OPTIONS = {
    "max_tokens", "disable_reasoning", "extra_body", "extra_headers", "timeout", "attempt_timeout", "deadline",
    # OpenRouter-only: their wire on both routes is tested in tests/test_openrouter_guide.py
    "plugins", "cache_control",
}


def test_every_declared_option_has_a_wire_test_here():
    covered = {c[0] for c in BODY_OPTIONS} | {c[0] for c in HEADER_OPTIONS} | SPECIAL_OPTIONS
    assert covered == OPTION_NAMES


@pytest.mark.parametrize(("name", "value", "needs", "model"), BODY_OPTIONS, ids=[c[0] for c in BODY_OPTIONS])
def test_body_option_is_sent_under_its_own_name_on_cerebras(api, name, value, needs, model):
    api.create(ok, model=model, messages=USER, **needs, **{name: value})

    body = sent_body(api)
    assert body[name] == value
    assert name not in {k.lower() for k in api.requests[0].headers}


@pytest.mark.parametrize(
    ("name", "value", "needs", "header", "header_value"), HEADER_OPTIONS, ids=[c[0] for c in HEADER_OPTIONS]
)
def test_header_option_is_sent_as_a_request_header_not_in_the_body(api, name, value, needs, header, header_value):
    api.create(ok, model="gpt-oss-120b", messages=USER, **needs, **{name: value})

    assert api.requests[0].headers[header] == header_value
    assert name not in sent_body(api)


def test_max_tokens_is_sent_as_max_completion_tokens(api):
    api.create(ok, model="gpt-oss-120b", messages=USER, max_tokens=500)  # RT-14 sends max_tokens

    body = sent_body(api)
    assert body["max_completion_tokens"] == 500
    assert "max_tokens" not in body


def test_disable_reasoning_is_sent_as_reasoning_effort_none_with_a_deprecation_warning(api):
    with pytest.warns(DeprecationWarning, match="reasoning_effort='none'"):
        api.create(ok, model="zai-glm-4.7", messages=USER, disable_reasoning=True)

    body = sent_body(api)
    assert body["reasoning_effort"] == "none"
    assert "disable_reasoning" not in body


def test_disable_reasoning_false_sends_nothing(api):
    with pytest.warns(DeprecationWarning):
        api.create(ok, model="zai-glm-4.7", messages=USER, disable_reasoning=False)

    body = sent_body(api)
    assert "disable_reasoning" not in body
    assert "reasoning_effort" not in body


def test_extra_body_is_merged_into_the_json_body(api):
    api.create(ok, model="gpt-oss-120b", messages=USER, temperature=0.2, extra_body={"grammar_root": "object"})

    body = sent_body(api)
    assert body["grammar_root"] == "object"
    assert body["temperature"] == 0.2
    assert "extra_body" not in body


def test_extra_headers_are_sent_as_request_headers(api):
    api.create(ok, model="gpt-oss-120b", messages=USER, extra_headers={"X-Delay-Time": "0.5"})

    assert api.requests[0].headers["X-Delay-Time"] == "0.5"
    assert "extra_headers" not in sent_body(api)


def test_timeout_applies_to_the_call_and_is_not_sent(api):
    api.create(ok, model="gpt-oss-120b", messages=USER, timeout=2.5)

    request = api.requests[0]
    assert "timeout" not in sent_body(api)
    assert "timeout" not in {k.lower() for k in request.headers}
    assert request.extensions["timeout"] == {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}


def test_options_given_as_none_are_not_sent(api):
    api.create(ok, model="gpt-oss-120b", messages=USER, temperature=None, seed=None)

    assert set(sent_body(api)) == {"model", "messages"}


# -- Cerebras route: URL, key, identifying headers ---------------------------------------------------------


def test_cerebras_route_posts_to_the_cerebras_chat_completions_url(api):
    api.create(ok, model="gpt-oss-120b", messages=USER)

    assert str(api.requests[0].url) == "https://api.cerebras.ai/v1/chat/completions"


def test_cerebras_route_sends_the_key_as_a_bearer_token(api):
    api.create(ok, model="gpt-oss-120b", messages=USER, client_kwargs={"api_key": "csk-test"})

    assert api.requests[0].headers["Authorization"] == "Bearer csk-test"


def test_cerebras_route_reads_the_key_from_cerebras_api_key(api, monkeypatch):
    monkeypatch.setenv("CEREBRAS_API_KEY", "csk-from-env")

    api.create(ok, model="gpt-oss-120b", messages=USER, client_kwargs={"api_key": None})

    assert api.requests[0].headers["Authorization"] == "Bearer csk-from-env"


def test_cerebras_route_sends_the_third_party_integration_header(api):
    api.create(ok, model="gpt-oss-120b", messages=USER)

    assert api.requests[0].headers["X-Cerebras-3rd-Party-Integration"] == "cerebras-adapters"
    assert "X-Title" not in api.requests[0].headers


@pytest.mark.parametrize(("route", "env"), [("cerebras", "CEREBRAS_API_KEY"), ("openrouter", "OPENROUTER_API_KEY")])
def test_missing_api_key_is_refused_naming_api_key_and_the_variable(api, monkeypatch, route, env):
    monkeypatch.delenv("CEREBRAS_API_KEY", raising=False)
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)

    with pytest.raises(RequestValidationError) as info:
        api.create(ok, model="gpt-oss-120b", messages=USER, client_kwargs={"route": route, "api_key": None})

    assert info.value.param == "api_key"
    assert env in info.value.fix
    assert api.requests == []


def test_openrouter_route_does_not_take_the_cerebras_key(api, monkeypatch):
    monkeypatch.setenv("CEREBRAS_API_KEY", "csk-from-env")
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)

    with pytest.raises(RequestValidationError) as info:
        api.create(ok, model="gpt-oss-120b", messages=USER, client_kwargs={"route": "openrouter", "api_key": None})

    assert info.value.param == "api_key"


# -- OpenRouter route ----------------------------------------------------------------------------------------


def test_openrouter_route_posts_to_the_openrouter_chat_completions_url(api):
    api.create(ok_on_cerebras, model="gpt-oss-120b", messages=USER, client_kwargs=OPENROUTER)

    assert str(api.requests[0].url) == "https://openrouter.ai/api/v1/chat/completions"


def test_openrouter_route_reads_the_key_from_openrouter_api_key(api, monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-" + "from-env")

    api.create(ok_on_cerebras, model="gpt-oss-120b", messages=USER, client_kwargs={"route": "openrouter",
                                                                                  "api_key": None})

    assert api.requests[0].headers["Authorization"] == "Bearer sk-or-" + "from-env"


def test_openrouter_route_maps_the_cerebras_model_id_to_the_openrouter_id(api):
    api.create(ok_on_cerebras, model="gpt-oss-120b", messages=USER, client_kwargs=OPENROUTER)

    assert sent_body(api)["model"] == "openai/gpt-oss-120b"


def test_openrouter_route_sends_an_openrouter_model_id_unchanged(api):
    api.create(ok_on_cerebras, model="openai/gpt-oss-120b", messages=USER, client_kwargs=OPENROUTER)

    assert sent_body(api)["model"] == "openai/gpt-oss-120b"


def test_openrouter_route_refuses_a_model_without_a_known_openrouter_id(api):
    with pytest.raises(UnsupportedParameterError) as info:
        api.create(ok_on_cerebras, model="qwen-3.8-27b", messages=USER, client_kwargs=OPENROUTER)

    assert info.value.param == "model"
    assert info.value.fix
    assert api.requests == []


def test_openrouter_route_pins_the_cerebras_provider_without_fallbacks(api):
    api.create(ok_on_cerebras, model="gpt-oss-120b", messages=USER, client_kwargs=OPENROUTER)

    assert sent_body(api)["provider"] == {"only": ["cerebras"], "allow_fallbacks": False, "require_parameters": True}


def test_openrouter_provider_preferences_are_added_to_the_pin(api):
    route = OpenRouterRoute(provider_preferences={"data_collection": "deny"})

    api.create(ok_on_cerebras, model="gpt-oss-120b", messages=USER, client_kwargs={"route": route, "api_key": "k"})

    assert sent_body(api)["provider"] == {
        "data_collection": "deny",
        "only": ["cerebras"],
        "allow_fallbacks": False,
        "require_parameters": True,
    }


def test_a_provider_object_in_extra_body_cannot_unpin_cerebras(api):
    extra = {"provider": {"only": ["groq"], "allow_fallbacks": True, "zdr": True}}

    api.create(ok_on_cerebras, model="gpt-oss-120b", messages=USER, extra_body=extra, client_kwargs=OPENROUTER)

    provider = sent_body(api)["provider"]
    assert provider["only"] == ["cerebras"]
    assert provider["allow_fallbacks"] is False
    assert provider["zdr"] is True


@pytest.mark.parametrize("effort", ["low", "medium", "high"])
def test_openrouter_route_sends_reasoning_effort_as_the_reasoning_object(api, effort):
    api.create(ok_on_cerebras, model="gpt-oss-120b", messages=USER, reasoning_effort=effort, client_kwargs=OPENROUTER)

    body = sent_body(api)
    assert body["reasoning"] == {"effort": effort}
    assert "reasoning_effort" not in body


def test_openrouter_route_sends_hidden_reasoning_format_as_reasoning_exclude(api):
    api.create(ok_on_cerebras, model="gpt-oss-120b", messages=USER, reasoning_format="hidden",
               client_kwargs=OPENROUTER)

    body = sent_body(api)
    assert body["reasoning"] == {"exclude": True}
    assert "reasoning_format" not in body


def test_openrouter_route_combines_effort_and_exclude_in_one_reasoning_object(api):
    api.create(ok_on_cerebras, model="gpt-oss-120b", messages=USER, reasoning_effort="high",
               reasoning_format="hidden", client_kwargs=OPENROUTER)

    assert sent_body(api)["reasoning"] == {"effort": "high", "exclude": True}


def test_openrouter_route_does_not_send_parsed_reasoning_format(api):
    # OpenRouter always returns reasoning in its own field; there is nothing to ask for.
    api.create(ok_on_cerebras, model="gpt-oss-120b", messages=USER, reasoning_format="parsed",
               client_kwargs=OPENROUTER)

    body = sent_body(api)
    assert "reasoning_format" not in body
    assert "reasoning" not in body


def test_openrouter_route_sends_disable_reasoning_as_effort_none(api):
    with pytest.warns(DeprecationWarning):
        api.create(ok_on_cerebras, model="zai-glm-4.7", messages=USER, disable_reasoning=True,
                   client_kwargs=OPENROUTER)

    assert sent_body(api)["reasoning"] == {"effort": "none"}


PASS_THROUGH = [c for c in BODY_OPTIONS if c[0] not in {
    "min_completion_tokens", "reasoning_effort", "reasoning_format", "clear_thinking", "model_parameters"}]


@pytest.mark.parametrize(("name", "value", "needs", "model"), PASS_THROUGH, ids=[c[0] for c in PASS_THROUGH])
def test_option_with_an_openrouter_equivalent_is_sent_unchanged_on_openrouter(api, name, value, needs, model):
    api.create(ok_on_cerebras, model=model, messages=USER, client_kwargs=OPENROUTER, **needs, **{name: value})

    assert sent_body(api)[name] == value


REFUSED_ON_OPENROUTER = [
    ("clear_thinking", {"clear_thinking": False}, "zai-glm-4.7"),
    ("min_completion_tokens", {"min_completion_tokens": 64}, "gpt-oss-120b"),
    ("queue_threshold", {"queue_threshold": 500, "service_tier": "flex"}, "gpt-oss-120b"),
    ("api_version", {"api_version": 2}, "gpt-oss-120b"),
    ("reasoning_format", {"reasoning_format": "raw"}, "gpt-oss-120b"),
    ("model_parameters", {"model_parameters": {"top_k": 40}}, "gpt-oss-120b"),
]


@pytest.mark.parametrize(
    ("param", "options", "model"), REFUSED_ON_OPENROUTER, ids=[c[0] for c in REFUSED_ON_OPENROUTER]
)
def test_option_without_an_openrouter_equivalent_is_refused_before_sending(api, param, options, model):
    with pytest.raises(UnsupportedParameterError) as info:
        api.create(ok_on_cerebras, model=model, messages=USER, client_kwargs=OPENROUTER, **options)

    assert info.value.param == param
    assert info.value.model == model
    assert info.value.fix
    assert api.requests == []


def test_openrouter_route_sends_the_title_attribution_headers(api):
    api.create(ok_on_cerebras, model="gpt-oss-120b", messages=USER, client_kwargs=OPENROUTER)

    headers = api.requests[0].headers
    assert headers["X-OpenRouter-Title"] == "cerebras-adapters"
    assert headers["X-Title"] == "cerebras-adapters"
    assert "HTTP-Referer" not in headers
    assert "X-Cerebras-3rd-Party-Integration" not in headers


def test_openrouter_route_sends_http_referer_when_given_an_app_url(api):
    route = OpenRouterRoute(app_url="https://example.org/app", app_title="Example App")

    api.create(ok_on_cerebras, model="gpt-oss-120b", messages=USER, client_kwargs={"route": route, "api_key": "k"})

    headers = api.requests[0].headers
    assert headers["HTTP-Referer"] == "https://example.org/app"
    assert headers["X-OpenRouter-Title"] == "Example App"
    assert headers["X-Title"] == "Example App"


def test_logit_bias_with_integer_token_ids_is_sent_with_string_keys(api):
    # OpenAI-SDK users write {token_id: bias}; JSON object keys are strings on the wire.
    api.create(ok, model="gpt-oss-120b", messages=USER, logit_bias={50256: -100})
    assert json.loads(api.requests[0].content)["logit_bias"] == {"50256": -100}


def test_openrouter_refuses_cerebras_headers_whatever_their_case(api):
    with pytest.raises(UnsupportedParameterError) as info:
        api.create(ok, OPENROUTER, model="gpt-oss-120b", messages=USER,
                   extra_headers={"x-cerebras-version-patch": "2"})
    assert info.value.param == "api_version"
    assert api.requests == []
