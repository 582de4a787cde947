"""Request validation: every rule refuses before anything is sent, and nothing the real API accepts is refused.

Each refusal is a ``RequestValidationError`` (``UnsupportedParameterError`` for names the API rejects as
unknown) carrying the offending ``param``, the ``model`` and a ``fix``; ``api.requests == []`` shows that
no request left. Rules come from cerebras-api.md §1 and checklist §8 item 6; where a test mirrors a recorded
exchange the real-traffic id (RT-nn, ../shared/real-traffic/README.md) is cited.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import httpx
import pytest

from cerebras_adapters import RequestValidationError, UnsupportedParameterError
from cerebras_adapters import _request as request_module
from tests.wire import completion, sse, stream_chunks, tool_call

USER = [{"role": "user", "content": "What is the weather in Paris?"}]
PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=completion("Sunny."))


def sent_body(api: Any) -> dict[str, Any]:
    assert len(api.requests) == 1
    body: dict[str, Any] = json.loads(api.requests[0].content)
    return body


def obj(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A strict-valid object schema."""
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False, **extra}


def nested(levels: int) -> dict[str, Any]:
    node = obj({"v": {"type": "integer"}})
    for _ in range(levels - 1):
        node = obj({"x": node})
    return node


def tool(name: str = "get_weather", parameters: dict[str, Any] | None = None, strict: bool | None = True
         ) -> dict[str, Any]:
    fn: dict[str, Any] = {"name": name, "parameters": parameters or obj({"city": {"type": "string"}})}
    if strict is not None:
        fn["strict"] = strict
    return {"type": "function", "function": fn}


def json_schema_format(schema: dict[str, Any], strict: bool = True) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "answer", "strict": strict, "schema": schema}}


def refused(api: Any, model: str = "gpt-oss-120b", *, error: type[Exception] = RequestValidationError,
            stream: bool = False, messages: list[Any] | None = None, client_kwargs: dict[str, Any] | None = None,
            **options: Any) -> Any:
    """Call the client expecting a refusal; check it carries param/model/fix and that nothing was sent."""
    call = api.stream if stream else api.create
    with pytest.raises(error) as info:
        call(ok, model=model, messages=USER if messages is None else messages, client_kwargs=client_kwargs,
             **options)
    assert api.requests == []
    assert info.value.model == model
    assert info.value.fix
    return info.value


CALL = tool_call("8db3b6644", "get_weather", '{"city": "Paris"}')
ASKED = {"role": "assistant", "tool_calls": [CALL]}
ANSWERED = {"role": "tool", "tool_call_id": "8db3b6644", "content": "Sunny, 21 C"}


# -- option combinations -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [{"type": "json_object"}, json_schema_format(obj({"a": {"type": "string"}}))],
                         ids=["json_object", "json_schema"])
def test_tools_with_a_json_response_format_are_refused(api, fmt):
    err = refused(api, tools=[tool()], response_format=fmt)
    assert err.param == "response_format"


def test_json_object_response_format_with_streaming_is_refused(api):
    err = refused(api, stream=True, response_format={"type": "json_object"})
    assert err.param == "response_format"


def test_reasoning_effort_none_on_gpt_oss_is_refused(api):
    err = refused(api, reasoning_effort="none")
    assert err.param == "reasoning_effort"
    assert "low" in err.fix


def test_disable_reasoning_on_gpt_oss_is_refused_naming_disable_reasoning(api):
    with pytest.warns(DeprecationWarning):
        err = refused(api, disable_reasoning=True)
    assert err.param == "disable_reasoning"


def test_disable_reasoning_contradicting_reasoning_effort_is_refused(api):
    with pytest.warns(DeprecationWarning):
        err = refused(api, "zai-glm-4.7", disable_reasoning=True, reasoning_effort="high")
    assert err.param == "disable_reasoning"


def test_reasoning_effort_outside_the_models_set_is_refused(api):
    # qwen-3-235b-a22b-instruct-2507 rejected reasoning_effort "none" with an enum error (cerebras-api.md §6).
    err = refused(api, "qwen-3-235b-a22b-instruct-2507", reasoning_effort="none")
    assert err.param == "reasoning_effort"


def test_clear_thinking_on_a_model_other_than_glm_4_7_is_refused(api):
    err = refused(api, "gpt-oss-120b", clear_thinking=False)
    assert err.param == "clear_thinking"


@pytest.mark.parametrize("fmt", ["raw", "hidden"])
def test_reasoning_format_gemma_does_not_support_is_refused(api, fmt):
    err = refused(api, "gemma-4-31b", reasoning_format=fmt)
    assert err.param == "reasoning_format"


def test_more_than_four_stop_sequences_are_refused(api):
    err = refused(api, stop=["a", "b", "c", "d", "e"])
    assert err.param == "stop"


def test_top_logprobs_without_logprobs_is_refused(api):
    err = refused(api, top_logprobs=5)
    assert err.param == "top_logprobs"


@pytest.mark.parametrize("clash", [{"logprobs": True}, {"n": 2}, {"tools": [tool()]}], ids=["logprobs", "n", "tools"])
def test_prediction_with_an_incompatible_option_is_refused(api, clash):
    err = refused(api, prediction={"type": "content", "content": "x = 1"}, **clash)
    assert err.param == "prediction"


def test_prediction_on_a_model_without_predicted_outputs_is_refused(api):
    err = refused(api, "gemma-4-31b", prediction={"type": "content", "content": "x = 1"})
    assert err.param == "prediction"


def test_tool_choice_without_tools_is_refused(api):
    err = refused(api, tool_choice="auto")
    assert err.param == "tool_choice"


def test_mixed_strict_across_tools_is_refused(api):
    # RooCodeInc/Roo-Code#10334: "Tools with mixed values for 'strict' are not allowed".
    err = refused(api, tools=[tool("a", strict=True), tool("b", strict=None)])
    assert err.param == "tools"


def test_json_schema_response_format_without_a_name_is_refused(api):
    fmt = {"type": "json_schema", "json_schema": {"schema": obj({"a": {"type": "string"}})}}
    err = refused(api, response_format=fmt)
    assert err.param == "response_format.json_schema.name"


@pytest.mark.parametrize("tier", [None, "default", "priority"])
def test_queue_threshold_without_a_flex_or_auto_service_tier_is_refused(api, tier):
    err = refused(api, queue_threshold=500, service_tier=tier)
    assert err.param == "queue_threshold"


def test_max_tokens_together_with_max_completion_tokens_is_refused(api):
    err = refused(api, max_tokens=100, max_completion_tokens=100)
    assert err.param == "max_tokens"


# -- ranges and types ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("param", "options"),
    [
        ("temperature", {"temperature": 2.5}),
        ("temperature", {"temperature": -0.1}),
        ("top_p", {"top_p": 1.5}),
        ("queue_threshold", {"queue_threshold": 49, "service_tier": "flex"}),
        ("queue_threshold", {"queue_threshold": 20001, "service_tier": "auto"}),
        ("top_logprobs", {"top_logprobs": 21, "logprobs": True}),
        ("max_completion_tokens", {"max_completion_tokens": -2}),
        ("frequency_penalty", {"frequency_penalty": 2.5}),
    ],
    ids=["temperature-high", "temperature-low", "top_p", "queue_threshold-low", "queue_threshold-high",
         "top_logprobs", "max_completion_tokens", "frequency_penalty"],
)
def test_value_out_of_range_is_refused(api, param, options):
    err = refused(api, **options)
    assert err.param == param


@pytest.mark.parametrize(
    ("param", "options"),
    [
        ("temperature", {"temperature": "hot"}),
        ("temperature", {"temperature": True}),
        ("max_completion_tokens", {"max_completion_tokens": "100"}),
        ("seed", {"seed": 4.2}),
        ("logprobs", {"logprobs": "yes"}),
        ("stop", {"stop": 5}),
        ("stop", {"stop": ["a", 1]}),
        ("tools.0", {"tools": [5]}),
        ("tool_choice", {"tool_choice": "any", "tools": [tool()]}),
        ("reasoning_effort", {"reasoning_effort": "max"}),
        ("service_tier", {"service_tier": "free"}),
        ("timeout", {"timeout": "soon"}),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_value_of_the_wrong_type_is_refused_naming_where(api, param, options):
    err = refused(api, **options)
    assert err.param == param


# -- messages ------------------------------------------------------------------------------------------------


def test_developer_role_on_a_model_without_it_is_refused(api):
    messages = [{"role": "developer", "content": "Be brief."}, *USER]
    err = refused(api, "gemma-4-31b", messages=messages)
    assert err.param == "messages.0.role"
    assert "system" in err.fix


def test_image_on_a_model_without_vision_is_refused(api):
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                             {"type": "image_url", "image_url": {"url": PNG}}]}]
    err = refused(api, "gpt-oss-120b", messages=messages)
    assert err.param == "messages.0.content.1"


def test_image_given_as_a_url_rather_than_a_data_uri_is_refused(api):
    messages = [{"role": "user", "content": [{"type": "image_url",
                                              "image_url": {"url": "https://example.org/cat.png"}}]}]
    err = refused(api, "gemma-4-31b", messages=messages)
    assert err.param == "messages.0.content.0.image_url.url"


def test_tool_message_answering_no_tool_call_is_refused(api):
    messages = [*USER, {"role": "tool", "tool_call_id": "8db3b6644", "content": "Sunny"}]
    err = refused(api, messages=messages)
    assert err.param == "messages.1.tool_call_id"


def test_unanswered_tool_call_followed_by_a_user_message_is_refused(api):
    messages = [*USER, ASKED, {"role": "user", "content": "And in Rome?"}]
    err = refused(api, messages=messages)
    assert err.param == "messages.1.tool_calls"
    assert "8db3b6644" in err.fix


def test_duplicate_tool_call_ids_are_refused(api):
    messages = [*USER, ASKED, ANSWERED, ASKED, ANSWERED]
    err = refused(api, messages=messages)
    assert err.param == "messages.3.tool_calls.0.id"


def test_tool_call_without_an_id_is_refused(api):
    messages = [*USER, {"role": "assistant", "tool_calls": [{"type": "function",
                                                             "function": {"name": "f", "arguments": "{}"}}]}]
    err = refused(api, messages=messages)
    assert err.param == "messages.1.tool_calls.0.id"


def test_reasoning_content_on_an_assistant_message_is_refused_pointing_to_replay_reasoning(api):
    messages = [*USER, {"role": "assistant", "content": "Sunny.", "reasoning_content": "Look it up."},
                {"role": "user", "content": "Thanks"}]
    err = refused(api, messages=messages, error=UnsupportedParameterError)
    assert err.param == "messages.1.reasoning_content"
    assert "replay_reasoning" in err.fix


def test_reasoning_content_is_refused_even_when_unsupported_params_are_dropped(api):
    # Dropping it would silently lose the reasoning; replay_reasoning keeps it.
    messages = [*USER, {"role": "assistant", "content": "Sunny.", "reasoning_content": "Look it up."}]
    err = refused(api, messages=messages, error=UnsupportedParameterError,
                  client_kwargs={"unsupported_params": "drop"})
    assert err.param == "messages.1.reasoning_content"


def test_unknown_message_field_is_refused(api):
    messages = [{"role": "user", "content": "Hi", "cache_control": {"type": "ephemeral"}}]
    err = refused(api, messages=messages, error=UnsupportedParameterError)
    assert err.param == "messages.0.cache_control"


def test_unknown_message_field_is_dropped_with_a_warning_when_asked(api):
    messages = [{"role": "user", "content": "Hi", "cache_control": {"type": "ephemeral"}}]

    with pytest.warns(UserWarning, match="cache_control"):
        api.create(ok, model="gpt-oss-120b", messages=messages, client_kwargs={"unsupported_params": "drop"})

    assert sent_body(api)["messages"] == [{"role": "user", "content": "Hi"}]
    assert "cache_control" in messages[0]  # the caller's message is left as it was


@pytest.mark.parametrize("role", ["function", "bot", None])
def test_unknown_role_is_refused(api, role):
    err = refused(api, messages=[{"role": role, "content": "Hi"}])
    assert err.param == "messages.0.role"


def test_message_without_a_role_is_refused(api):
    err = refused(api, messages=[{"content": "Hi"}])
    assert err.param == "messages.0.role"


def test_user_message_without_content_is_refused(api):
    err = refused(api, messages=[{"role": "user"}])
    assert err.param == "messages.0.content"


def test_empty_messages_are_refused(api):
    err = refused(api, messages=[])
    assert err.param == "messages"


def test_messages_given_as_a_string_are_refused(api):
    err = refused(api, messages="Hi")
    assert err.param == "messages"


# -- strict schemas, for response_format and strict tools ---------------------------------------------------

RECURSIVE = {
    **obj({"root": {"$ref": "#/$defs/Node"}}),
    "$defs": {"Node": obj({"next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}})},
}
BAD_SCHEMAS = [
    # case id, schema, where the error points (relative to the schema)
    ("longer-than-5000-characters", obj({"v": {"type": "string", "description": "x" * 5000}}), ""),
    ("deeper-than-5-levels", nested(6), ".properties.x" * 5),
    ("deeper-than-5-levels-through-defs", {**obj({"x": {"$ref": "#/$defs/Deep"}}), "$defs": {"Deep": nested(5)}},
     ".properties.x.$ref"),
    ("more-than-5-anyOf-branches",
     obj({"v": {"anyOf": [{"type": t} for t in ("string", "integer", "number", "boolean", "null", "array")]}}),
     ".properties.v.anyOf"),
    ("without-additionalProperties-false",
     {"type": "object", "properties": {"v": {"type": "string"}}, "required": ["v"]}, ".additionalProperties"),
    ("property-not-required", {**obj({"v": {"type": "string"}, "w": {"type": "string"}}), "required": ["v"]},
     ".required"),
    ("recursive-through-defs", RECURSIVE, ".$defs.Node"),
    ("definitions-instead-of-defs",
     {**obj({"v": {"$ref": "#/definitions/V"}}), "definitions": {"V": {"type": "string"}}}, ".definitions"),
    ("external-ref", obj({"v": {"$ref": "https://example.org/v.json"}}), ".properties.v.$ref"),
    ("type-list", obj({"v": {"type": ["string", "null"]}}), ".properties.v.type"),
]


@pytest.mark.parametrize(("case", "schema", "where"), BAD_SCHEMAS, ids=[c[0] for c in BAD_SCHEMAS])
def test_strict_json_schema_response_format_breaking_a_limit_is_refused(api, case, schema, where):
    err = refused(api, response_format=json_schema_format(schema))
    assert err.param == "response_format.json_schema.schema" + where


@pytest.mark.parametrize(("case", "schema", "where"), BAD_SCHEMAS, ids=[c[0] for c in BAD_SCHEMAS])
def test_strict_tool_parameters_breaking_a_limit_are_refused(api, case, schema, where):
    err = refused(api, tools=[tool(parameters=schema)])
    assert err.param == "tools.0.function.parameters" + where


# -- parameters the API rejects as unknown ------------------------------------------------------------------

UNKNOWN = [("store", True), ("metadata", {"run": "7"}), ("modalities", ["text"]), ("verbosity", "low"),
           ("frobnicate", 3)]


@pytest.mark.parametrize(("name", "value"), UNKNOWN, ids=[u[0] for u in UNKNOWN])
def test_unknown_parameter_is_refused_by_default(api, name, value):
    err = refused(api, error=UnsupportedParameterError, **{name: value})
    assert err.param == name
    assert "unsupported_params='drop'" in err.fix


@pytest.mark.parametrize(("name", "value"), UNKNOWN, ids=[u[0] for u in UNKNOWN])
def test_unknown_parameter_is_dropped_with_a_warning_when_asked(api, name, value):
    with pytest.warns(UserWarning, match=name):
        api.create(ok, model="gpt-oss-120b", messages=USER, client_kwargs={"unsupported_params": "drop"},
                   temperature=0.5, **{name: value})

    body = sent_body(api)
    assert name not in body
    assert body["temperature"] == 0.5


def test_unknown_parameter_can_be_sent_anyway_through_extra_body(api):
    api.create(ok, model="gpt-oss-120b", messages=USER, extra_body={"store": False})

    assert sent_body(api)["store"] is False


# -- what the real API accepts goes through -----------------------------------------------------------------


def goes_through(api: Any, model: str = "gpt-oss-120b", messages: list[Any] | None = None, **options: Any
                 ) -> dict[str, Any]:
    api.create(ok, model=model, messages=USER if messages is None else messages, **options)
    return sent_body(api)


def test_consecutive_messages_of_one_role_go_through(api):
    messages = [{"role": "user", "content": "Hi."}, {"role": "user", "content": "Still there?"}]
    assert goes_through(api, messages=messages)["messages"] == messages


def test_a_system_message_last_goes_through(api):
    messages = [*USER, {"role": "system", "content": "Answer in French."}]
    assert goes_through(api, messages=messages)["messages"] == messages


def test_an_assistant_only_history_goes_through(api):
    messages = [{"role": "assistant", "content": "How can I help?"}]
    assert goes_through(api, messages=messages)["messages"] == messages


def test_a_multi_turn_history_with_a_stop_array_goes_through(api):
    # RT-10: system, user, assistant, user with stop ["five"] and max_tokens 24.
    messages = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Count to five."},
                {"role": "assistant", "content": "one two three four five"},
                {"role": "user", "content": "Now to ten."}]
    body = goes_through(api, messages=messages, stop=["five"], max_tokens=24)
    assert body["messages"] == messages
    assert body["stop"] == ["five"]


def test_max_tokens_goes_through(api):
    # RT-11, RT-12 send max_tokens.
    assert goes_through(api, max_tokens=16)["max_completion_tokens"] == 16


def test_stream_options_go_through(api):
    # RT-13 streams with stream_options.include_usage.
    def stream_ok(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=sse(stream_chunks()), headers={"content-type": "text/event-stream"})

    api.stream(stream_ok, model="gpt-oss-120b", messages=USER, stream_options={"include_usage": True})

    body = sent_body(api)
    assert body["stream_options"] == {"include_usage": True}
    assert body["stream"] is True


def test_n_greater_than_one_goes_through(api):
    assert goes_through(api, n=2)["n"] == 2


def test_penalties_and_logit_bias_go_through(api):
    # RT-01 sends frequency_penalty 0.5 and presence_penalty 0.25 (accepted 2026-08).
    body = goes_through(api, "gemma-4-31b", frequency_penalty=0.5, presence_penalty=0.25,
                        logit_bias={"1024": 5})
    assert (body["frequency_penalty"], body["presence_penalty"], body["logit_bias"]) == (0.5, 0.25, {"1024": 5})


@pytest.mark.parametrize("tier", ["auto", "default", "flex", "priority"])
def test_every_service_tier_goes_through(api, tier):
    # RT-02: all four tiers answered 200 on gemma-4-31b.
    assert goes_through(api, "gemma-4-31b", service_tier=tier)["service_tier"] == tier


def test_parallel_tool_calls_false_goes_through(api):
    # RT-01: parallel_tool_calls false with a strict tool and tool_choice auto on gemma-4-31b.
    body = goes_through(api, "gemma-4-31b", tools=[tool()], tool_choice="auto", parallel_tool_calls=False)
    assert body["parallel_tool_calls"] is False


@pytest.mark.parametrize("choice", ["required", {"type": "function", "function": {"name": "get_weather"}}],
                         ids=["required", "named"])
def test_required_and_named_tool_choice_go_through(api, choice, monkeypatch):
    # cerebras-api.md §9: "required" and a named function worked on llama3.1-8b (withmartian recordings).
    monkeypatch.setattr(request_module, "_warned_retired", set())  # the warning is given once per process
    with pytest.warns(UserWarning, match="retired"):
        body = goes_through(api, "llama3.1-8b", tools=[tool()], tool_choice=choice)
    assert body["tool_choice"] == choice


@pytest.mark.parametrize("choice", ["required", {"type": "function", "function": {"name": "get_weather"}}],
                         ids=["required", "named"])
def test_forced_tool_choice_on_gpt_oss_is_refused(api, choice):
    # gpt-oss answered 400 "Expected 'auto' or 'none'" (567-labs/instructor#1766; cerebras-api.md §1.1).
    err = refused(api, "gpt-oss-120b", tools=[tool()], tool_choice=choice)
    assert err.param == "tool_choice"
    assert "auto" in err.fix


def test_auto_tool_choice_on_gpt_oss_goes_through(api):
    assert goes_through(api, tools=[tool()], tool_choice="auto")["tool_choice"] == "auto"


def test_a_valid_strict_tool_schema_goes_through(api):
    # RT-01 shape: strict tool with additionalProperties false and every property required.
    assert goes_through(api, "gemma-4-31b", tools=[tool()])["tools"] == [tool()]


def test_a_valid_strict_json_schema_at_the_depth_limit_goes_through(api):
    fmt = json_schema_format({**obj({"x": {"$ref": "#/$defs/Deep"}}), "$defs": {"Deep": nested(4)}})
    assert goes_through(api, response_format=fmt)["response_format"] == fmt


def test_a_non_strict_schema_is_not_held_to_the_strict_limits(api):
    # strict false: the schema is only a guide (cerebras-api.md §1.5), so the strict limits do not apply.
    loose = {"type": "object", "properties": {"v": {"type": ["string", "null"]}}}
    body = goes_through(api, tools=[tool(parameters=loose, strict=False)])
    assert body["tools"][0]["function"]["parameters"] == loose


def test_tool_call_answered_by_a_tool_message_goes_through(api):
    # RT-15 shape: a tool call answered before the next user turn.
    messages = [*USER, ASKED, ANSWERED, {"role": "user", "content": "And in Rome?"}]
    assert goes_through(api, tools=[tool()], messages=messages)["messages"] == messages


def test_a_model_missing_from_the_catalog_skips_the_capability_rules(api):
    # An id of no known family (an id with a family's prefix, e.g. "llama-9-future", gets its family's rules:
    # tests/test_families.py).
    messages = [{"role": "developer", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                             {"type": "image_url", "image_url": {"url": PNG}}]}]
    body = goes_through(api, "future-model-9b", messages=messages, reasoning_effort="none", clear_thinking=False,
                        reasoning_format="raw", prediction={"type": "content", "content": "A cat."})
    assert body["model"] == "future-model-9b"
    assert body["reasoning_effort"] == "none"
    assert body["clear_thinking"] is False


def test_a_retired_model_goes_through_with_a_warning(api, monkeypatch):
    monkeypatch.setattr(request_module, "_warned_retired", set())  # the warning is given once per process

    with pytest.warns(UserWarning, match="retired"):
        body = goes_through(api, "llama-3.3-70b", max_tokens=16)  # RT-11's model

    assert body["model"] == "llama-3.3-70b"


def test_a_retired_model_is_warned_about_once_per_process(api, monkeypatch):
    monkeypatch.setattr(request_module, "_warned_retired", set())
    with pytest.warns(UserWarning, match="retired"):
        api.create(ok, model="llama-3.3-70b", messages=USER)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        api.create(ok, model="llama-3.3-70b", messages=USER)

    assert len(api.requests) == 2


def test_reasoning_on_an_assistant_message_goes_through_for_gpt_oss(api):
    # RT-06: the assistant history message carries a top-level reasoning field.
    messages = [{"role": "user", "content": "What is 2 + 2?"},
                {"role": "assistant", "content": "4.", "reasoning": "Simple addition."},
                {"role": "user", "content": "Now add 3."}]
    assert goes_through(api, messages=messages)["messages"] == messages


def test_think_tags_in_assistant_content_go_through_for_glm(api):
    # RT-05: turn 2 replays turn-1 reasoning as <think>...</think> in the assistant content.
    messages = [{"role": "user", "content": "What is 25 * 4?"},
                {"role": "assistant", "content": "<think>\n25 * 4 = 100.\n</think>\n100"},
                {"role": "user", "content": "And 25 * 8?"}]
    assert goes_through(api, "zai-glm-4.7", messages=messages)["messages"] == messages


def test_reasoning_off_with_clear_thinking_goes_through_for_glm_4_7(api):
    # RT-04: reasoning_effort "none" with clear_thinking false on zai-glm-4.7.
    body = goes_through(api, "zai-glm-4.7", reasoning_effort="none", clear_thinking=False)
    assert (body["reasoning_effort"], body["clear_thinking"]) == ("none", False)


def test_images_in_a_system_message_go_through_on_a_vision_model(api):
    messages = [{"role": "system", "content": [{"type": "image_url", "image_url": {"url": PNG}}]}, *USER]
    assert goes_through(api, "gemma-4-31b", messages=messages)["messages"] == messages


def test_an_open_object_inside_allof_is_refused_in_a_strict_schema(api):
    open_object = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    schema = obj({"x": {"allOf": [open_object]}})
    err = refused(api, response_format=json_schema_format(schema))
    assert err.param == "response_format.json_schema.schema.properties.x.allOf.0.additionalProperties"


def test_an_open_object_as_additional_properties_schema_is_refused(api):
    schema = {"type": "object", "properties": {}, "required": [],
              "additionalProperties": {"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"]}}
    err = refused(api, response_format=json_schema_format(schema))
    assert err.param.startswith("response_format.json_schema.schema")
