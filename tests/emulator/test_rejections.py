"""What the emulated API rejects, with the real status and body shape (cerebras-api.md §1, §4.1)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.emulator._helpers import WEATHER_TOOL, no_rate_headers, user

GPT = "gpt-oss-120b"
GLM = "zai-glm-4.7"
GEMMA = "gemma-4-31b"
PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def post(client, **body: Any):
    body.setdefault("model", GPT)
    body.setdefault("messages", user("hi"))
    return client.post("/chat/completions", json=body)


def assert_validation_error(response, message: str | None = None, contains: str | None = None) -> None:
    """2026 validation errors: 400 invalid_request_error / validation_error / wrong_api_format, flat body."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"message", "type", "param", "code"}
    assert body["type"] == "invalid_request_error"
    assert body["param"] == "validation_error"
    assert body["code"] == "wrong_api_format"
    if message is not None:
        assert body["message"] == message
    if contains is not None:
        assert contains in body["message"], body["message"]
    assert no_rate_headers(response)


# --------------------------------------------------------------------------------- auth and unknown model


def test_wrong_key_is_a_flat_401_without_rate_limit_headers(cerebras_emulator, client):
    response = client.post(
        "/chat/completions",
        json={"model": GPT, "messages": user("hi")},
        headers={"Authorization": "Bearer csk-invalid-key"},
    )
    assert response.status_code == 401
    assert response.json() == {
        "message": "Wrong API Key",
        "type": "invalid_request_error",
        "param": "api_key",
        "code": "wrong_api_key",
    }
    assert no_rate_headers(response)
    assert "inference-id" not in response.headers


@pytest.mark.parametrize("authorization", [None, "Bearer", "Basic abc", "Bearer csk-WRONG"])
def test_missing_or_malformed_keys_are_401(bare, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = bare.post("/v1/chat/completions", headers=headers, json={"model": GPT, "messages": user("hi")})
    assert response.status_code == 401
    assert response.json()["code"] == "wrong_api_key"


def test_configured_api_keys_are_the_only_ones_accepted(cerebras_emulator, client):
    cerebras_emulator.configure(api_keys=["csk-the-one"])
    assert post(client).status_code == 401
    ok = client.post(
        "/chat/completions",
        json={"model": GPT, "messages": user("hi")},
        headers={"Authorization": "Bearer csk-the-one"},
    )
    assert ok.status_code == 200


def test_unknown_model_is_404_model_not_found(client):
    response = post(client, model="llama-9-900b")
    assert response.status_code == 404
    assert response.json() == {
        "message": "Model llama-9-900b does not exist or you do not have access to it.",
        "type": "not_found_error",
        "param": "model",
        "code": "model_not_found",
    }
    assert no_rate_headers(response)


def test_models_outside_the_served_set_are_404(cerebras_emulator, client):
    cerebras_emulator.configure(models=["gpt-oss-120b"])
    assert post(client, model=GLM).status_code == 404
    assert post(client, model=GPT).status_code == 200


# ------------------------------------------------------------------------------------------ body shape


def test_unknown_top_level_field_is_unsupported(client):
    assert_validation_error(post(client, store=True), "store: property 'store' is unsupported")


def test_reasoning_content_on_an_assistant_message_is_rejected(client):
    messages = [*user("hi"), {"role": "assistant", "content": "hello", "reasoning_content": "thought"}, *user("again")]
    assert_validation_error(
        post(client, messages=messages),
        "messages.1.assistant.reasoning_content: property 'messages.1.assistant.reasoning_content' is unsupported",
    )


def test_reasoning_field_on_an_assistant_message_is_accepted(client):
    # RT-06: gpt-oss takes the earlier turn's reasoning back in the `reasoning` field.
    messages = [*user("hi"), {"role": "assistant", "content": "hello", "reasoning": "thought"}, *user("again")]
    assert post(client, messages=messages).status_code == 200


def test_unknown_content_part_keys_are_unsupported(client):
    messages = [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "x"}}]}]
    assert_validation_error(post(client, messages=messages), contains="messages.0.user.content.0.cache_control")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"messages": None}, "messages: Field required"),
        ({"messages": []}, "messages: List should have at least 1 item after validation, not 0"),
        ({"messages": [{"role": "robot", "content": "x"}]}, None),
        ({"messages": [{"role": "user"}]}, "messages.0.user.content: Field required"),
        ({"max_tokens": 10, "max_completion_tokens": 10}, None),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop: List should have at most 4 items after validation, not 5"),
        ({"temperature": 2.5}, "temperature: Input should be less than or equal to 2"),
        ({"temperature": -0.1}, "temperature: Input should be greater than or equal to 0"),
        ({"top_p": 1.5}, "top_p: Input should be less than or equal to 1"),
        ({"reasoning_format": None}, None),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}},
            "response_format.json_schema.name: Field required",
        ),
        ({"logit_bias": {str(i): 1 for i in range(101)}}, None),
        ({"n": 2}, "n: only n=1 is supported"),
        ({"tool_choice": "auto"}, None),
    ],
    ids=[
        "no-messages",
        "empty-messages",
        "unknown-role",
        "no-content",
        "both-max-tokens",
        "five-stops",
        "temperature-high",
        "temperature-low",
        "top-p-high",
        "null-reasoning-format",
        "schema-without-name",
        "logit-bias-over-100",
        "n-2",
        "tool-choice-without-tools",
    ],
)
def test_invalid_bodies_are_400(client, body, message):
    payload = {"model": GPT, "messages": user("hi"), **body}
    if payload["messages"] is None:
        del payload["messages"]
    assert_validation_error(client.post("/chat/completions", json=payload), message)


def test_temperature_two_is_accepted(client):
    assert post(client, temperature=2.0).status_code == 200


def test_body_that_is_not_json_is_400(client):
    response = client.post("/chat/completions", content=b"{nope", headers={"content-type": "application/json"})
    assert_validation_error(response)


# ------------------------------------------------------------------------------------ conversation rules


def _tool_call(call_id: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}


def test_unanswered_tool_calls_are_rejected(client):
    messages = [*user("weather?"), {"role": "assistant", "tool_calls": [_tool_call("abc123def")]}, *user("well?")]
    assert_validation_error(post(client, messages=messages, tools=[WEATHER_TOOL]), contains="'abc123def'")


def test_orphan_tool_messages_are_rejected(client):
    messages = [*user("weather?"), {"role": "tool", "tool_call_id": "000000000", "content": "sunny"}]
    assert_validation_error(
        post(client, messages=messages, tools=[WEATHER_TOOL]), contains="messages.1.tool.tool_call_id"
    )


def test_duplicate_tool_call_ids_are_rejected(client):
    messages = [
        *user("weather?"),
        {"role": "assistant", "tool_calls": [_tool_call("aaa"), _tool_call("aaa")]},
        {"role": "tool", "tool_call_id": "aaa", "content": "sunny"},
    ]
    assert_validation_error(post(client, messages=messages, tools=[WEATHER_TOOL]), contains="duplicate")


def test_answered_tool_calls_are_accepted(client):
    messages = [
        *user("weather?"),
        {"role": "assistant", "tool_calls": [_tool_call("aaa")]},
        {"role": "tool", "tool_call_id": "aaa", "content": "sunny"},
    ]
    assert post(client, messages=messages, tools=[WEATHER_TOOL]).status_code == 200


def test_tool_choice_without_tools_is_rejected(client):
    assert_validation_error(post(client, tool_choice="none"), contains="tool_choice")


# -------------------------------------------------------------------------------- feature combinations


def test_tools_together_with_response_format_are_rejected(client):
    response = post(client, tools=[WEATHER_TOOL], response_format={"type": "json_object"})
    assert_validation_error(response, 'response_format: "tools" is incompatible with "response_format"')


def test_json_object_with_stream_is_rejected(client):
    assert_validation_error(post(client, stream=True, response_format={"type": "json_object"}), contains="json_object")


@pytest.mark.parametrize(
    "body", [{"reasoning_effort": "none"}, {"disable_reasoning": True}], ids=["effort-none", "disable-reasoning"]
)
def test_gpt_oss_reasoning_cannot_be_turned_off(client, body):
    assert_validation_error(post(client, model=GPT, **body))


def test_glm_reasoning_can_be_turned_off(client):
    assert post(client, model=GLM, reasoning_effort="none", clear_thinking=False).status_code == 200


def test_clear_thinking_is_only_for_zai_glm_4_7(client):
    assert_validation_error(post(client, model=GPT, clear_thinking=False), contains="clear_thinking")
    assert post(client, model=GLM, clear_thinking=True).status_code == 200


def test_developer_role_only_on_gpt_oss(client):
    messages = [{"role": "developer", "content": "Be brief."}, *user("hi")]
    assert_validation_error(post(client, model=GLM, messages=messages), contains="'developer'")
    assert post(client, model=GPT, messages=messages).status_code == 200


def test_images_only_on_gemma(client):
    messages = [
        {
            "role": "user",
            "content": [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": PNG}}],
        }
    ]
    assert_validation_error(post(client, model=GPT, messages=messages), contains="image input is not supported")
    assert post(client, model=GEMMA, messages=messages).status_code == 200


def test_images_only_as_data_uris(client):
    messages = [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}
    ]
    assert_validation_error(post(client, model=GEMMA, messages=messages), contains="base64 data URIs")


def test_gpt_oss_tool_choice_is_auto_or_none(client):
    named = {"type": "function", "function": {"name": "get_weather"}}
    response = post(client, model=GPT, tools=[WEATHER_TOOL], tool_choice=named)
    assert_validation_error(response, contains="Expected 'auto' or 'none'")
    assert post(client, model="llama3.1-8b", tools=[WEATHER_TOOL], tool_choice=named).status_code == 200


def test_gemma_has_no_raw_reasoning_format(client):
    assert_validation_error(post(client, model=GEMMA, reasoning_format="raw"), contains="reasoning_format")


def test_prediction_only_on_models_that_support_it(client):
    prediction = {"type": "content", "content": "hello"}
    assert_validation_error(post(client, model="llama3.1-8b", prediction=prediction), contains="prediction")
    assert post(client, model=GPT, prediction=prediction).status_code == 200


def test_context_length_is_enforced(client):
    response = post(client, model="llama3.1-8b", max_completion_tokens=40000)
    assert response.status_code == 400
    assert response.json()["message"].startswith(
        "Please reduce the length of the messages or completion. Current length is "
    )


# --------------------------------------------------------------------------------------- strict schemas

GOOD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "address": {"$ref": "#/$defs/address"},
        "age": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
    },
    "required": ["name", "tags", "address", "age"],
    "additionalProperties": False,
    "$defs": {
        "address": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        }
    },
}


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        node = {"type": "object", "properties": {"x": node}, "required": ["x"], "additionalProperties": False}
    return node


def _broken(kind: str) -> dict[str, Any]:
    schema = copy.deepcopy(GOOD_SCHEMA)
    if kind == "no-additional-properties":
        del schema["$defs"]["address"]["additionalProperties"]
    elif kind == "optional-property":
        schema["required"].remove("age")
    elif kind == "definitions":
        schema["definitions"] = schema.pop("$defs")
        schema["properties"]["address"] = {"$ref": "#/definitions/address"}
    elif kind == "recursion":
        schema["$defs"]["address"]["properties"]["next"] = {"$ref": "#/$defs/address"}
        schema["$defs"]["address"]["required"].append("next")
    elif kind == "too-long":
        schema["properties"]["name"]["description"] = "x" * 5000
    elif kind == "too-deep":
        schema = _nested(6)
    elif kind == "six-any-of":
        schema["properties"]["age"] = {"anyOf": [{"type": "integer"}] * 6}
    elif kind == "type-array":
        schema["properties"]["age"] = {"type": ["integer", "null"]}
    elif kind == "external-ref":
        schema["properties"]["address"] = {"$ref": "https://example.com/address.json"}
    return schema


BROKEN = [
    "no-additional-properties",
    "optional-property",
    "definitions",
    "recursion",
    "too-long",
    "too-deep",
    "six-any-of",
    "type-array",
    "external-ref",
]


@pytest.mark.parametrize("kind", BROKEN)
def test_strict_json_schema_violations_are_rejected(client, kind):
    fmt = {"type": "json_schema", "json_schema": {"name": "person", "schema": _broken(kind), "strict": True}}
    assert_validation_error(post(client, response_format=fmt), contains="response_format.json_schema.schema")


@pytest.mark.parametrize("kind", BROKEN)
def test_strict_tool_schema_violations_are_rejected(client, kind):
    tool = {"type": "function", "function": {"name": "save", "parameters": _broken(kind), "strict": True}}
    assert_validation_error(post(client, tools=[tool]), contains="tools.0.function.parameters")


def test_a_schema_within_the_limits_is_accepted_strict_and_non_strict(client):
    for strict in (True, False):
        fmt = {"type": "json_schema", "json_schema": {"name": "person", "schema": GOOD_SCHEMA, "strict": strict}}
        assert post(client, response_format=fmt).status_code == 200
    assert (
        post(
            client,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "deep", "schema": _nested(5), "strict": True},
            },
        ).status_code
        == 200
    )


def test_non_strict_schemas_are_not_checked(client):
    fmt = {"type": "json_schema", "json_schema": {"name": "p", "schema": _broken("optional-property")}}
    assert post(client, response_format=fmt).status_code == 200


def test_mixed_strict_values_across_tools_are_rejected(client):
    loose = {"type": "function", "function": {"name": "other", "parameters": {"type": "object", "properties": {}}}}
    assert_validation_error(
        post(client, tools=[WEATHER_TOOL, loose]), "tools: Tools with mixed values for 'strict' are not allowed"
    )
