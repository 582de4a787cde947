"""Validation holes found by fuzzing (issue "Production hardening", item 7): one regression test per hole.

Before the fix each of these either sent a body the API cannot take (``NaN`` is not JSON; ``seed=2**70`` does
not fit the server's integer) or raised a raw ``TypeError`` / ``RecursionError`` / ``AttributeError`` /
``PydanticSerializationError`` from ``create``. Now each is a ``RequestValidationError`` whose ``param`` is the
dotted path of the offending value, with a ``fix``, and nothing is sent (``api.requests == []``). The property
behind them lives in ``tests/test_fuzz_requests.py``.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

import httpx
import pytest

from cerebras_adapters import RequestValidationError
from cerebras_adapters.schema import check_strict_schema, make_strict
from cerebras_adapters.testing._schema import strict_schema_error
from tests.wire import completion

USER = [{"role": "user", "content": "What is the weather in Paris?"}]
CALL = {"id": "8db3b6644", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=completion("Sunny."))


def refused(api: Any, param: str, *, model: str = "gpt-oss-120b", messages: Any = None, **options: Any) -> Any:
    """Expect a RequestValidationError naming ``param`` with a fix, and no request sent."""
    with pytest.raises(RequestValidationError) as info:
        api.create(ok, model=model, messages=USER if messages is None else messages, **options)
    assert api.requests == []
    assert info.value.param == param
    assert info.value.fix
    return info.value


def _no_constants(name: str) -> Any:
    raise ValueError(name)


def sent_strict_json(api: Any) -> dict[str, Any]:
    assert len(api.requests) == 1
    body: dict[str, Any] = json.loads(api.requests[0].content, parse_constant=_no_constants)
    return body


def strict(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def strict_format(schema: Any) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "answer", "strict": True, "schema": schema}}


def strict_tool(parameters: Any) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": "get_weather", "strict": True, "parameters": parameters}}]


# -- NaN and infinities anywhere: JSON has neither -------------------------------------------------------------

NON_FINITE = {
    "logit_bias value": ({"logit_bias": {"50256": math.inf}}, "logit_bias.50256"),
    "extra_body nested": ({"extra_body": {"guidance": {"scale": [1.0, math.nan]}}}, "extra_body.guidance.scale.1"),
    "tool parameters": (
        {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {
            "x": {"type": "number", "minimum": -math.inf}}}}}]},
        "tools.0.function.parameters.properties.x.minimum",
    ),
    "response_format schema": (
        {"response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": {"default": math.nan}}}},
        "response_format.json_schema.schema.default",
    ),
    "model_parameters": ({"model_parameters": {"mirostat": math.nan}}, "model_parameters.mirostat"),
    "temperature": ({"temperature": math.nan}, "temperature"),
    "presence_penalty": ({"presence_penalty": -math.inf}, "presence_penalty"),
}


@pytest.mark.parametrize("options, param", NON_FINITE.values(), ids=NON_FINITE.keys())
def test_nan_or_infinity_anywhere_is_refused_naming_where(api, options, param):
    err = refused(api, param, **options)
    assert "nan" in str(err).lower() or "inf" in str(err).lower() or "finite" in str(err)


def test_nan_inside_a_content_part_is_refused_naming_the_part(api):
    messages = [{"role": "user", "content": [{"type": "text", "text": math.nan}]}]
    refused(api, "messages.0.content.0.text", messages=messages)


def test_text_that_spells_nan_or_infinity_is_sent_unchanged_as_strict_json(api):
    messages = [{"role": "user", "content": 'Is NaN < Infinity? {"x": NaN}'}]
    api.create(ok, model="gpt-oss-120b", messages=messages, extra_body={"note": "-Infinity"})

    body = sent_strict_json(api)
    assert body["messages"][0]["content"] == 'Is NaN < Infinity? {"x": NaN}'
    assert body["note"] == "-Infinity"


# -- tool-call ids and tool_calls of the wrong type ------------------------------------------------------------


def test_tool_call_id_that_is_a_list_is_refused(api):
    messages = [*USER, {"role": "assistant", "tool_calls": [CALL]},
                {"role": "tool", "tool_call_id": ["8db3b6644"], "content": "Sunny"}]
    refused(api, "messages.2.tool_call_id", messages=messages)


def test_tool_call_id_inside_tool_calls_that_is_a_list_is_refused(api):
    messages = [*USER, {"role": "assistant", "tool_calls": [{**CALL, "id": ["8db3b6644"]}]}]
    refused(api, "messages.1.tool_calls.0.id", messages=messages)


@pytest.mark.parametrize("calls", [5, {"id": "8db3b6644"}, "8db3b6644"], ids=["int", "dict", "str"])
def test_tool_calls_that_is_not_a_list_is_refused(api, calls):
    messages = [*USER, {"role": "assistant", "tool_calls": calls}]
    refused(api, "messages.1.tool_calls", messages=messages)


def test_tool_call_arguments_that_are_not_a_string_are_refused(api):
    messages = [*USER, {"role": "assistant", "tool_calls": [{**CALL, "function": {"name": "f", "arguments": {}}}]}]
    refused(api, "messages.1.tool_calls.0.function.arguments", messages=messages)


def test_a_tool_call_left_unanswered_at_the_end_is_refused(api):
    # API v2 (cerebras-api.md §1.2): every tool call is answered by a following tool message.
    refused(api, "messages.1.tool_calls", messages=[*USER, {"role": "assistant", "tool_calls": [CALL]}])


def test_an_assistant_turn_before_the_tool_answers_is_refused(api):
    messages = [*USER, {"role": "assistant", "tool_calls": [CALL]}, {"role": "assistant", "content": "Hm."}]
    refused(api, "messages.1.tool_calls", messages=messages)


# -- content: a string or a list of parts ------------------------------------------------------------------------


class Opaque:
    pass


@pytest.mark.parametrize(
    "content", [None, 5, {}, Opaque(), b"hi"], ids=["None", "int", "dict", "object", "bytes"]
)
def test_user_content_that_is_not_text_or_parts_is_refused(api, content):
    refused(api, "messages.0.content", messages=[{"role": "user", "content": content}])


def test_content_with_a_lone_surrogate_is_refused(api):
    err = refused(api, "messages.0.content", messages=[{"role": "user", "content": "a\ud800b"}])
    assert "surrogate" in str(err)


def test_a_lone_surrogate_in_a_text_part_is_refused_naming_the_part(api):
    messages = [{"role": "user", "content": [{"type": "text", "text": "ok"}, {"type": "text", "text": "\udfff"}]}]
    refused(api, "messages.0.content.1.text", messages=messages)


def test_a_lone_surrogate_in_an_extra_body_key_is_refused(api):
    refused(api, "extra_body.k\\udc80", extra_body={"k\udc80": 1})


@pytest.mark.parametrize(
    "part, param",
    [
        ("hello", "messages.0.content.0"),
        ({"type": "audio", "text": "x"}, "messages.0.content.0.type"),
        ({"type": "text"}, "messages.0.content.0.text"),
    ],
    ids=["bare string", "unknown type", "text missing"],
)
def test_a_content_part_that_is_not_a_text_or_image_part_is_refused(api, part, param):
    refused(api, param, messages=[{"role": "user", "content": [part]}])


def test_assistant_content_may_be_null_with_tool_calls(api):
    # RT-14: an assistant turn carrying tool calls and no content is what the API itself returns.
    messages = [*USER, {"role": "assistant", "content": None, "tool_calls": [CALL]},
                {"role": "tool", "tool_call_id": "8db3b6644", "content": "Sunny"}]
    api.create(ok, model="gpt-oss-120b", messages=messages)

    assert sent_strict_json(api)["messages"][1]["content"] is None


def test_tool_content_may_be_a_list_of_text_parts(api):
    # cerebras-api.md §1.2: tool content is a string or text parts.
    messages = [*USER, {"role": "assistant", "tool_calls": [CALL]},
                {"role": "tool", "tool_call_id": "8db3b6644", "content": [{"type": "text", "text": "Sunny"}]}]
    api.create(ok, model="gpt-oss-120b", messages=messages)

    assert sent_strict_json(api)["messages"][2]["content"] == [{"type": "text", "text": "Sunny"}]


def test_an_image_that_is_not_a_png_or_jpeg_data_uri_is_refused(api):
    messages = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/gif;base64,R0"}}]}]
    refused(api, "messages.0.content.0.image_url.url", model="gemma-4-31b", messages=messages)


# -- integers the server can take, and no bools as integers -------------------------------------------------------


@pytest.mark.parametrize(
    "option, value",
    [
        ("seed", 2**70),
        ("seed", -(2**63) - 1),
        ("max_completion_tokens", 10**30),
        ("max_tokens", 2**31),
        ("min_completion_tokens", 2**31),
        ("n", 10**30),
    ],
)
def test_integers_beyond_what_the_api_takes_are_refused(api, option, value):
    refused(api, option, **{option: value})


def test_the_largest_integers_the_api_takes_go_through(api):
    api.create(ok, model="gpt-oss-120b", messages=USER, seed=2**63 - 1, max_completion_tokens=2**31 - 1)

    body = sent_strict_json(api)
    assert (body["seed"], body["max_completion_tokens"]) == (2**63 - 1, 2**31 - 1)


@pytest.mark.parametrize("value", [101, -100.5, True], ids=["101", "-100.5", "bool"])
def test_logit_bias_values_outside_minus_100_to_100_are_refused(api, value):
    refused(api, "logit_bias.50256", logit_bias={"50256": value})


def test_logit_bias_with_more_than_100_entries_is_refused(api):
    # pydantic-ai's live testing: a map with more than 100 entries is a 400 (cerebras-api.md §1.1).
    refused(api, "logit_bias", logit_bias={str(i): 1 for i in range(101)})


@pytest.mark.parametrize("option", ["n", "seed", "max_completion_tokens", "top_logprobs"])
def test_a_bool_is_not_taken_as_an_integer(api, option):
    refused(api, option, **{option: True})


# -- strict schemas that are not schema-shaped -------------------------------------------------------------------


@pytest.mark.parametrize(
    "schema, where",
    [
        ({"allOf": 5}, "allOf"),
        ({**strict({}), "properties": True}, "properties"),
        ({**strict({}), "properties": None}, "properties"),
        ({**strict({"a": {"type": "string"}}), "required": 5}, "required"),
        ({"$defs": True}, "$defs"),
        (strict({"a": True}), "properties.a"),
        ({"type": "array", "items": [{"type": "string"}]}, "items"),
        ({"anyOf": "x"}, "anyOf"),
        (strict({"a": {"$ref": "#/$defs/Missing"}}), "properties.a.$ref"),
    ],
    ids=["allOf 5", "properties true", "properties null", "required 5", "$defs true", "boolean sub-schema",
         "items list", "anyOf string", "dangling $ref"],
)
def test_a_strict_response_schema_that_is_not_schema_shaped_is_refused_naming_the_place(api, schema, where):
    refused(api, f"response_format.json_schema.schema.{where}", response_format=strict_format(schema))


def test_a_strict_tool_schema_that_is_not_schema_shaped_is_refused_naming_the_place(api):
    refused(api, "tools.0.function.parameters.allOf", tools=strict_tool({"allOf": 5}))


def _nested_any_of(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        node = {"anyOf": [node]}
    return node


def test_a_strict_schema_nested_3000_levels_is_refused_not_a_recursion_error(api):
    err = refused(api, "response_format.json_schema.schema" + ".anyOf.0" * 50,
                  response_format=strict_format(_nested_any_of(3000)))
    assert "100 levels" in str(err)


def test_a_non_strict_schema_nested_3000_levels_is_refused_when_encoding(api):
    fmt = {"type": "json_schema", "json_schema": {"name": "a", "schema": _nested_any_of(3000)}}
    err = refused(api, "response_format.json_schema.schema" + ".anyOf.0" * 99, response_format=fmt)
    assert "nested" in str(err)


def test_a_value_that_contains_itself_is_refused_not_a_recursion_error(api):
    loop: dict[str, Any] = {}
    loop["again"] = loop
    with pytest.raises(RequestValidationError) as info:
        api.create(ok, model="gpt-oss-120b", messages=USER, extra_body={"x": loop})

    assert api.requests == []
    assert info.value.param.startswith("extra_body.x.again.again")
    assert "contains itself" in str(info.value)


def test_strict_schema_definitions_referencing_each_other_in_a_diamond_are_checked_in_linear_time():
    # 40 definitions, each referring twice to the previous one: 2**40 paths, 40 definitions.
    defs: dict[str, Any] = {"d0": {"type": "string"}}
    for i in range(1, 40):
        defs[f"d{i}"] = {"anyOf": [{"$ref": f"#/$defs/d{i - 1}"}, {"$ref": f"#/$defs/d{i - 1}"}]}
    schema = {**strict({"a": {"$ref": "#/$defs/d39"}}), "$defs": defs}

    started = time.perf_counter()
    check_strict_schema(schema, where="schema")
    assert strict_schema_error(schema) is None  # the emulator's independent check
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "schema, param",
    [
        ({"$defs": True}, "schema.$defs"),
        ({"definitions": 5}, "schema.definitions"),
        ({"properties": True}, "schema.properties"),
        ({"type": "object", "properties": {"a": {"type": "string"}}, "required": "a"}, "schema.required"),
        ({"allOf": 5}, "schema.allOf"),
        ({"properties": {"a": {"anyOf": 5}}}, "schema.properties.a.anyOf"),
        (_nested_any_of(3000), "schema" + ".anyOf.0" * 50),
        (["not", "a", "schema"], "schema"),
    ],
    ids=["$defs true", "definitions 5", "properties true", "required str", "allOf 5", "nested anyOf 5",
         "3000 levels", "a list"],
)
def test_make_strict_refuses_junk_with_a_request_validation_error_naming_where(schema, param):
    with pytest.raises(RequestValidationError) as info:
        make_strict(schema)

    assert info.value.param == param
    assert info.value.fix


# -- shapes the API's schema fixes (found by fuzzing against the emulator's validator) ---------------------------


@pytest.mark.parametrize(
    "options, param",
    [
        ({"tools": [{"type": "function", "function": {"name": "get weather"}}]}, "tools.0.function.name"),
        ({"tools": [{"type": "retrieval", "function": {"name": "f"}}]}, "tools.0"),
        ({"tools": [{"type": "function", "function": {"name": "f", "strict": "yes"}}]}, "tools.0.function.strict"),
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": 5}}]}, "tools.0.function.parameters"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function"}},
         "tool_choice"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "a", "strict": 1}}},
         "response_format.json_schema.strict"),
        ({"response_format": {"type": "text", "schema": {}}}, "response_format.schema"),
        ({"prediction": {"type": "content", "content": 5}}, "prediction.content"),
        ({"stream_options": {"include_usage": "yes"}}, "stream_options.include_usage"),
    ],
    ids=["tool name with a space", "tool type", "strict not bool", "parameters not object", "tool_choice shape",
         "json_schema strict not bool", "text format with a schema", "prediction content", "stream_options"],
)
def test_documented_shapes_are_checked_before_sending(api, options, param):
    refused(api, param, model="zai-glm-4.7", **options)


# -- found by fuzzing, in code owned elsewhere ---------------------------------------------------------------------


@pytest.mark.parametrize("extra", [{"reasoning": 5}, {"provider": [1]}], ids=["reasoning", "provider"])
@pytest.mark.parametrize("effort", [{"reasoning_effort": "low"}, {}], ids=["with-effort", "without"])
def test_openrouter_extra_body_reasoning_or_provider_that_is_not_an_object_is_refused(api, extra, effort):
    with pytest.raises(RequestValidationError) as info:
        api.create(ok, model="gpt-oss-120b", messages=USER, extra_body=extra, client_kwargs={"route": "openrouter"},
                   **effort)
    assert api.requests == []
    assert info.value.param == f"extra_body.{next(iter(extra))}"
