"""Every Cerebras option reaches the wire, as a ``litellm.completion`` keyword and in a Router deployment's
``litellm_params`` — including the ones LiteLLM's built-in ``cerebras/`` provider refuses, drops or renames
(litellm.md §1.2)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import litellm
import pytest

from cerebras_adapters.litellm import deployment
from cerebras_adapters.testing import EmulatorServer

from .conftest import HELLO, KEY, Caller, chat_bodies

TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]
SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "answer",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"text": {"type": "string"}},
            "required": ["text"],
            "additionalProperties": False,
        },
    },
}


class Case(NamedTuple):
    model: str
    options: dict[str, Any]
    body: dict[str, Any]  # what must be in the JSON body
    headers: Mapping[str, str] = MappingProxyType({})  # what must be in the request headers


CASES: dict[str, Case] = {
    "reasoning_effort": Case(
        "gpt-oss-120b",
        {"reasoning_effort": "low", "allowed_openai_params": ["reasoning_effort"]},
        {"reasoning_effort": "low"},
    ),
    "reasoning_effort none on zai-glm-4.7": Case(
        "zai-glm-4.7",
        {"reasoning_effort": "none", "allowed_openai_params": ["reasoning_effort"]},
        {"reasoning_effort": "none"},
    ),
    "reasoning_effort in extra_body": Case(
        "gpt-oss-120b", {"extra_body": {"reasoning_effort": "high"}}, {"reasoning_effort": "high"}
    ),
    "reasoning_format": Case("gpt-oss-120b", {"reasoning_format": "parsed"}, {"reasoning_format": "parsed"}),
    "clear_thinking": Case("zai-glm-4.7", {"clear_thinking": False}, {"clear_thinking": False}),
    "prediction": Case(
        "gpt-oss-120b",
        {"prediction": {"type": "content", "content": "Hello there"}},
        {"prediction": {"type": "content", "content": "Hello there"}},
    ),
    "service_tier and queue_threshold": Case(
        "gpt-oss-120b",
        {"service_tier": "flex", "queue_threshold": 500},
        {"service_tier": "flex"},
        {"queue_threshold": "500"},
    ),
    "parallel_tool_calls": Case(
        "gpt-oss-120b", {"parallel_tool_calls": False, "tools": TOOLS}, {"parallel_tool_calls": False}
    ),
    "tools and tool_choice": Case(
        "zai-glm-4.7", {"tools": TOOLS, "tool_choice": "required"}, {"tools": TOOLS, "tool_choice": "required"}
    ),
    "logprobs": Case("gpt-oss-120b", {"logprobs": True, "top_logprobs": 2}, {"logprobs": True, "top_logprobs": 2}),
    "max_completion_tokens, not renamed": Case(
        "gpt-oss-120b", {"max_completion_tokens": 256}, {"max_completion_tokens": 256}
    ),
    "max_tokens, sent as max_completion_tokens": Case(
        "gpt-oss-120b", {"max_tokens": 256}, {"max_completion_tokens": 256}
    ),
    "min_completion_tokens": Case("gpt-oss-120b", {"min_completion_tokens": 8}, {"min_completion_tokens": 8}),
    "sampling": Case(
        "gpt-oss-120b",
        {"temperature": 0.2, "top_p": 0.9, "seed": 7, "stop": ["END"]},
        {"temperature": 0.2, "top_p": 0.9, "seed": 7, "stop": ["END"]},
    ),
    "penalties": Case(
        "gpt-oss-120b",
        {"frequency_penalty": 0.5, "presence_penalty": 0.25},
        {"frequency_penalty": 0.5, "presence_penalty": 0.25},
    ),
    "logit_bias": Case("gpt-oss-120b", {"logit_bias": {"1234": -50}}, {"logit_bias": {"1234": -50}}),
    "user": Case("gpt-oss-120b", {"user": "user-42"}, {"user": "user-42"}),
    "prompt_cache_key": Case("gpt-oss-120b", {"prompt_cache_key": "tenant-7"}, {"prompt_cache_key": "tenant-7"}),
    "response_format json_schema": Case("gpt-oss-120b", {"response_format": SCHEMA}, {"response_format": SCHEMA}),
    # LiteLLM types api_version as a string (Azure's API version); the provider sends digits as the number.
    "api_version": Case("gpt-oss-120b", {"api_version": "2"}, {}, {"x-cerebras-version-patch": "2"}),
}


def _check(emulator: EmulatorServer, case: Case) -> None:
    request = emulator.last_request
    body = request.json()
    for name, value in case.body.items():
        assert body[name] == value, name
    for name, value in case.headers.items():
        assert request.headers[name] == value, name


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_option_reaches_the_wire_as_a_completion_keyword(sync_call: Caller, case: Case) -> None:
    sync_call.complete(case.model, **case.options)

    _check(sync_call.emulator, case)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_option_reaches_the_wire_from_router_litellm_params(cerebras_emulator: EmulatorServer, case: Case) -> None:
    router = litellm.Router(
        model_list=[deployment("m", case.model, api_base=cerebras_emulator.base_url, api_key=KEY, **case.options)]
    )

    router.completion(model="m", messages=HELLO)

    _check(cerebras_emulator, case)


def test_max_completion_tokens_is_never_sent_as_max_tokens(sync_call: Caller) -> None:
    sync_call.complete(max_completion_tokens=256)

    assert "max_tokens" not in sync_call.emulator.last_request.json()


def test_stream_options_reach_the_wire_on_streams(sync_call: Caller) -> None:
    sync_call.stream(stream_options={"include_usage": True})

    assert sync_call.emulator.last_request.json()["stream_options"] == {"include_usage": True}


def test_reasoning_effort_passes_per_request_through_a_router_deployment(cerebras_emulator: EmulatorServer) -> None:
    # deployment() puts reasoning_effort in allowed_openai_params, so a plain keyword works per request.
    router = litellm.Router(
        model_list=[deployment("m", "gpt-oss-120b", api_base=cerebras_emulator.base_url, api_key=KEY)]
    )

    router.completion(model="m", messages=HELLO, reasoning_effort="high")

    assert cerebras_emulator.last_request.json()["reasoning_effort"] == "high"


def test_request_option_overrides_the_deployments(cerebras_emulator: EmulatorServer) -> None:
    router = litellm.Router(
        model_list=[
            deployment("m", "gpt-oss-120b", api_base=cerebras_emulator.base_url, api_key=KEY, reasoning_effort="low")
        ]
    )

    router.completion(model="m", messages=HELLO, reasoning_effort="high")

    assert chat_bodies(cerebras_emulator)[-1]["reasoning_effort"] == "high"


def test_drop_params_drops_what_cerebras_rejects(sync_call: Caller) -> None:
    # ``store`` is an OpenAI parameter LiteLLM lets through but Cerebras rejects (cerebras-api.md §1.1).
    with pytest.warns(UserWarning, match="store"):
        sync_call.complete(store=True, drop_params=True)

    assert "store" not in sync_call.emulator.last_request.json()


def test_openrouter_route_translates_reasoning_options(sync_call: Caller) -> None:
    sync_call.complete(route="openrouter", reasoning_effort="low", allowed_openai_params=["reasoning_effort"])

    assert sync_call.emulator.last_request.json()["reasoning"] == {"effort": "low"}
