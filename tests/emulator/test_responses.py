"""Response shapes per model family, non-streamed and streamed (cerebras-api.md §2, §3; RT-01…RT-16)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.emulator._helpers import (
    FINGERPRINT,
    RATE_HEADERS,
    TOOL_CALL_ID,
    UUID_ID,
    WEATHER_TOOL,
    chunks,
    data_lines,
    deltas,
    joined,
    user,
)


def create(client, **body: Any) -> dict[str, Any]:
    response = client.post("/chat/completions", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def stream(client, **body: Any):
    response = client.post("/chat/completions", json={**body, "stream": True})
    assert response.status_code == 200, response.text
    return response


# ------------------------------------------------------------------------------------------- gpt-oss


def test_gpt_oss_reply_carries_reasoning_usage_and_time_info(client):
    response = client.post("/chat/completions", json={"model": "gpt-oss-120b", "messages": user("What is 2+2?")})
    body = response.json()
    assert response.headers["content-type"] == "application/json"
    assert UUID_ID.match(body["id"]) and response.headers["inference-id"] == body["id"]
    assert response.headers["x-request-id"]
    assert all(h in response.headers for h in RATE_HEADERS)
    assert body["object"] == "chat.completion" and body["model"] == "gpt-oss-120b"
    assert FINGERPRINT.match(body["system_fingerprint"]) and isinstance(body["created"], int)
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["index"] == 0 and "logprobs" not in choice
    message = choice["message"]
    assert message["role"] == "assistant" and message["content"] == "4" and message["reasoning"]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    details = usage["completion_tokens_details"]
    assert set(details) == {"accepted_prediction_tokens", "reasoning_tokens", "rejected_prediction_tokens"}
    assert 0 < details["reasoning_tokens"] < usage["completion_tokens"]  # reasoning is included (§2.3)
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0}
    info = body["time_info"]
    assert set(info) == {"queue_time", "prompt_time", "completion_time", "total_time", "created"}
    assert isinstance(info["created"], float)
    assert "service_tier" not in body and "service_tier_used" not in body  # RT-02


def test_gpt_oss_reasoning_effort_changes_reasoning_length(client):
    lengths = [
        create(client, model="gpt-oss-120b", messages=user("Why is the sky blue?"), reasoning_effort=effort)["usage"][
            "completion_tokens_details"
        ]["reasoning_tokens"]
        for effort in ("low", "medium", "high")
    ]
    assert lengths[0] < lengths[1] < lengths[2]


def test_gpt_oss_stream_sequence(client):
    response = stream(client, model="gpt-oss-120b", messages=user("What is 2+2?"))
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert all(h in response.headers for h in RATE_HEADERS)
    events = chunks(response)
    assert "[DONE]" not in data_lines(response.text)
    assert [list(c) for c in events[:1]] == [["id", "choices", "created", "model", "system_fingerprint", "object"]]
    assert events[0]["choices"][0] == {"delta": {"role": "assistant"}, "index": 0}
    kinds = [next(iter(c["choices"][0]["delta"]), "final") for c in events]
    assert kinds == ["role"] + ["reasoning"] * kinds.count("reasoning") + ["content"] * kinds.count("content") + [
        "final"
    ]
    assert all("finish_reason" not in c["choices"][0] for c in events[:-1])
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == response.headers["inference-id"] for c in events)
    final = events[-1]
    assert final["choices"] == [{"delta": {}, "finish_reason": "stop", "index": 0}]
    assert "usage" in final and isinstance(final["time_info"]["created"], float)
    assert joined(response, "content") == "4"
    whole = create(client, model="gpt-oss-120b", messages=user("What is 2+2?"))
    assert joined(response, "reasoning") == whole["choices"][0]["message"]["reasoning"]
    assert final["usage"] == whole["usage"]


def test_gpt_oss_streams_tool_calls_incrementally(client):
    response = stream(client, model="gpt-oss-120b", messages=user("What's the weather in Tokyo?"), tools=[WEATHER_TOOL])
    calls = [d["tool_calls"][0] for d in deltas(response) if "tool_calls" in d]
    first, rest = calls[0], calls[1:]
    assert TOOL_CALL_ID.match(first["id"])
    assert first == {
        "function": {"name": "get_weather", "arguments": ""},
        "type": "function",
        "id": first["id"],
        "index": 0,
    }
    assert len(rest) > 3 and all(
        set(c) == {"function", "type", "index"} and set(c["function"]) == {"arguments"} for c in rest
    )
    arguments = json.loads("".join(c["function"]["arguments"] for c in rest))
    assert arguments == {"city": "Tokyo", "unit": "celsius"}
    assert chunks(response)[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_tool_call_only_message_has_no_content_key(client):
    body = create(client, model="gpt-oss-120b", messages=user("What's the weather in Paris?"), tools=[WEATHER_TOOL])
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert "content" not in choice["message"] and choice["message"]["reasoning"]
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function" and TOOL_CALL_ID.match(call["id"])
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris", "unit": "celsius"}
    assert call["function"]["arguments"].startswith("{\n  ")  # gpt-oss pretty-prints (RT-14)


def test_llama_streams_a_tool_call_in_one_delta(client):
    response = stream(client, model="llama3.1-8b", messages=user("weather in Rome please"), tools=[WEATHER_TOOL])
    ds = deltas(response)
    assert ds[0] == {"role": "assistant"}
    (call,) = ds[1]["tool_calls"]
    assert set(call) == {"id", "type", "function", "index"} and call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Rome", "unit": "celsius"}
    assert ds[2] == {} and len(ds) == 3
    assert chunks(response)[-1]["usage"]["prompt_tokens_details"] == {"cached_tokens": 0}


def test_after_a_tool_result_the_model_answers_in_text(client):
    first = create(client, model="gpt-oss-120b", messages=user("What's the weather in Paris?"), tools=[WEATHER_TOOL])
    call = first["choices"][0]["message"]["tool_calls"][0]
    messages = [
        *user("What's the weather in Paris?"),
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "18 degrees and sunny"},
    ]
    second = create(client, model="gpt-oss-120b", messages=messages, tools=[WEATHER_TOOL])
    assert second["choices"][0]["finish_reason"] == "stop"
    assert "18 degrees and sunny" in second["choices"][0]["message"]["content"]


def test_tool_named_in_the_question_is_called_with_its_numbers(client):
    tool = {
        "type": "function",
        "function": {
            "name": "magic_function",
            "parameters": {"type": "object", "properties": {"input": {"type": "integer"}}, "required": ["input"]},
        },
    }
    body = create(
        client,
        model="llama3.1-8b",
        messages=user("What is the value of magic_function(3)? Use the tool."),
        tools=[tool],
    )
    call = body["choices"][0]["message"]["tool_calls"][0]
    assert call["function"] == {"arguments": '{"input": 3}', "name": "magic_function"}


def test_tool_choice_required_forces_a_call_and_none_forbids_it(client):
    forced = create(
        client, model="llama3.1-8b", messages=user("Say hello"), tools=[WEATHER_TOOL], tool_choice="required"
    )
    assert forced["choices"][0]["finish_reason"] == "tool_calls"
    plain = create(
        client, model="llama3.1-8b", messages=user("weather in Oslo"), tools=[WEATHER_TOOL], tool_choice="none"
    )
    assert plain["choices"][0]["finish_reason"] == "stop" and "tool_calls" not in plain["choices"][0]["message"]


def test_unrelated_question_with_tools_gets_text(client):
    body = create(client, model="llama3.1-8b", messages=user("Tell me about tea."), tools=[WEATHER_TOOL])
    assert body["choices"][0]["finish_reason"] == "stop" and body["choices"][0]["message"]["content"]


def test_parallel_tool_calls_false_keeps_one_call(client):
    tools = [
        WEATHER_TOOL,
        {
            "type": "function",
            "function": {
                "name": "get_time",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                    "additionalProperties": False,
                },
                "strict": True,
            },
        },
    ]
    question = user("What's the weather and the get_time in Paris?")
    both = create(client, model="llama3.1-8b", messages=question, tools=tools)
    assert len(both["choices"][0]["message"]["tool_calls"]) == 2
    one = create(client, model="llama3.1-8b", messages=question, tools=tools, parallel_tool_calls=False)
    assert len(one["choices"][0]["message"]["tool_calls"]) == 1


# ----------------------------------------------------------------------------------------------- GLM


def test_glm_reasons_by_default(client):
    body = create(client, model="zai-glm-4.7", messages=user("What is 2+2?"))
    assert body["choices"][0]["message"]["reasoning"]
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def test_glm_reasoning_effort_none_turns_reasoning_off(client):
    # RT-04: no reasoning key, 0 reasoning tokens.
    body = create(
        client, model="zai-glm-4.7", messages=user("What is 2+2?"), reasoning_effort="none", clear_thinking=False
    )
    message = body["choices"][0]["message"]
    assert message == {"role": "assistant", "content": "4"}
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0


def test_glm_raw_format_puts_think_tags_in_content(client):
    body = create(client, model="zai-glm-4.7", messages=user("What is 2+2?"), reasoning_format="raw")
    message = body["choices"][0]["message"]
    assert "reasoning" not in message
    assert message["content"].startswith("<think>\n") and message["content"].endswith("</think>\n\n4")


def test_hidden_format_drops_reasoning_but_counts_it(client):
    body = create(client, model="zai-glm-4.7", messages=user("What is 2+2?"), reasoning_format="hidden")
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "4"}
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def test_gpt_oss_raw_format_concatenates_without_tags(client):
    body = create(client, model="gpt-oss-120b", messages=user("What is 2+2?"), reasoning_format="raw")
    content = body["choices"][0]["message"]["content"]
    assert "<think>" not in content and content.endswith("number.4")


def test_glm_clear_thinking_drops_earlier_think_blocks_from_the_prompt(client):
    # RT-05: replayed <think> blocks barely change prompt_tokens with the default clear_thinking.
    think = "<think>" + "long reasoning " * 200 + "</think>\n\n"
    messages = [*user("What is 2+2?"), {"role": "assistant", "content": think + "4"}, *user("And 3+3?")]
    cleared = create(client, model="zai-glm-4.7", messages=messages)["usage"]["prompt_tokens"]
    kept = create(client, model="zai-glm-4.7", messages=messages, clear_thinking=False)["usage"]["prompt_tokens"]
    assert kept - cleared >= 400


def test_glm_stream_has_reasoning_deltas_then_content(client):
    response = stream(client, model="zai-glm-4.7", messages=user("What is 2+2?"))
    assert joined(response, "reasoning") and joined(response, "content") == "4"


def test_qwen_answers_with_raw_think_by_default(client):
    message = create(client, model="qwen-3-32b", messages=user("What is 2+2?"))["choices"][0]["message"]
    assert message["content"].startswith("<think>") and "reasoning" not in message


def test_qwen_3_32b_always_reasons_whatever_the_effort(client):
    # docs/api-facts.md#reasoning-per-model-family: Qwen 3 32B is always on, with no documented way off. What the
    # API answers to reasoning_effort "none" is not recorded, so the emulator accepts it and keeps reasoning.
    message = create(client, model="qwen-3-32b", messages=user("What is 2+2?"), reasoning_effort="none")
    assert message["choices"][0]["message"]["content"].startswith("<think>")


def test_glm_4_6_has_the_2025_usage_shape(client):
    usage = create(client, model="zai-glm-4.6", messages=user("hi"), disable_reasoning=True)["usage"]
    assert set(usage) == {"prompt_tokens", "completion_tokens", "total_tokens"}


# --------------------------------------------------------------------------------------------- gemma

PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_gemma_reasoning_is_off_by_default_and_image_tokens_are_reported(client):
    messages = [
        {
            "role": "user",
            "content": [{"type": "text", "text": "Describe"}, {"type": "image_url", "image_url": {"url": PNG}}],
        }
    ]
    body = create(client, model="gemma-4-31b", messages=messages)
    assert "reasoning" not in body["choices"][0]["message"]
    usage = body["usage"]
    assert usage["prompt_tokens_details"]["image_tokens"] == 256
    assert usage["prompt_tokens"] > 256
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 0}


def test_gemma_reasons_when_asked(client):
    body = create(client, model="gemma-4-31b", messages=user("hi"), reasoning_effort="low")
    assert body["choices"][0]["message"]["reasoning"]


# ------------------------------------------------------------------------------------ structured output


def test_json_schema_reply_validates_against_the_schema(client):
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 18},
            "tags": {"type": "array", "items": {"type": "string"}},
            "role": {"type": "string", "enum": ["admin", "user"]},
            "manager": {"anyOf": [{"$ref": "#/$defs/person"}, {"type": "null"}]},
        },
        "required": ["name", "age", "tags", "role", "manager"],
        "additionalProperties": False,
        "$defs": {
            "person": {
                "type": "object",
                "properties": {"email": {"type": "string", "format": "email"}},
                "required": ["email"],
                "additionalProperties": False,
            }
        },
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "profile", "schema": schema, "strict": True}}
    content = create(client, model="gpt-oss-120b", messages=user("Make a profile"), response_format=fmt)["choices"][0][
        "message"
    ]["content"]
    value = json.loads(content)
    assert set(value) == {"name", "age", "tags", "role", "manager"}
    assert isinstance(value["name"], str) and isinstance(value["age"], int) and value["age"] >= 18
    assert value["tags"] and all(isinstance(t, str) for t in value["tags"])
    assert value["role"] == "admin" and value["manager"] == {"email": "user@example.com"}


def test_json_object_reply_is_json(client):
    content = create(
        client, model="llama3.1-8b", messages=user("Reply in JSON"), response_format={"type": "json_object"}
    )["choices"][0]["message"]["content"]
    assert isinstance(json.loads(content), dict)


# ---------------------------------------------------------------------------------- budgets and stops


def test_max_completion_tokens_truncates_with_length(client):
    body = create(client, model="llama3.1-8b", messages=user("Tell me about tea."), max_completion_tokens=3)
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 3


def test_streamed_truncation_ends_with_length(client):
    response = stream(client, model="llama-3.3-70b", messages=user("Tell me about tea."), max_tokens=4)
    assert sum(1 for d in deltas(response) if "content" in d) == 4
    assert chunks(response)[-1]["choices"][0]["finish_reason"] == "length"


def test_reasoning_can_eat_the_whole_budget(client):
    body = create(client, model="gpt-oss-120b", messages=user("Why is the sky blue?"), max_completion_tokens=5)
    choice = body["choices"][0]
    assert choice["finish_reason"] == "length" and choice["message"]["content"] == ""
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 5


def test_stop_sequence_cuts_the_text_before_it(client):
    body = create(client, model="llama3.1-8b", messages=user("count to 10"), stop=[" 5", "nine"])
    choice = body["choices"][0]
    assert choice["message"]["content"] == "1 2 3 4" and choice["finish_reason"] == "stop"


def test_min_completion_tokens_pads_the_reply(client):
    body = create(client, model="llama3.1-8b", messages=user("hi"), min_completion_tokens=200)
    assert body["usage"]["completion_tokens"] == 200


def test_reply_tokens_header_sets_the_stream_length(client):
    response = client.post(
        "/chat/completions",
        headers={"x-emulator-reply-tokens": "1000"},
        json={"model": "llama3.1-8b", "messages": user("go"), "stream": True},
    )
    assert sum(1 for d in deltas(response) if "content" in d) == 1000


# ------------------------------------------------------------------------------------ other features


def test_prediction_reports_accepted_and_rejected_tokens(client):
    predicted = "The capital of France is Lyon, obviously."
    usage = create(
        client,
        model="gpt-oss-120b",
        messages=user("What is the capital of France?"),
        prediction={"type": "content", "content": predicted},
    )["usage"]
    details = usage["completion_tokens_details"]
    assert details["accepted_prediction_tokens"] == 6  # The, capital, of, France, is, "."
    assert details["rejected_prediction_tokens"] == 3  # Lyon, ",", obviously


def test_prediction_without_a_scenario_is_accepted_whole(client):
    details = create(
        client,
        model="zai-glm-4.7",
        messages=user("Fix the typo"),
        reasoning_effort="none",
        prediction={"type": "content", "content": "def add(a, b):\n    return a + b\n"},
    )["usage"]["completion_tokens_details"]
    assert details["rejected_prediction_tokens"] == 0 and details["accepted_prediction_tokens"] > 5


def test_repeated_prefixes_are_cached_in_128_token_blocks(client, cerebras_emulator):
    system = {"role": "system", "content": "You are a careful assistant. " * 120}
    body = {"model": "gpt-oss-120b", "messages": [system, *user("first question")]}
    first = create(client, **body)["usage"]
    second = create(client, **{**body, "messages": [system, *user("second question")]})["usage"]
    assert first["prompt_tokens_details"]["cached_tokens"] == 0
    cached = second["prompt_tokens_details"]["cached_tokens"]
    assert cached > 0 and cached % 128 == 0 and cached <= second["prompt_tokens"]
    other_key = client.post("/chat/completions", json=body, headers={"Authorization": "Bearer csk-someone-else"})
    assert other_key.json()["usage"]["prompt_tokens_details"]["cached_tokens"] == 0


def test_llama_3_1_8b_does_not_cache(client):
    body = {"model": "llama3.1-8b", "messages": [{"role": "system", "content": "Long. " * 400}, *user("q")]}
    create(client, **body)
    assert create(client, **body)["usage"]["prompt_tokens_details"]["cached_tokens"] == 0


def test_logprobs_when_asked(client):
    body = create(client, model="llama3.1-8b", messages=user("hi"), logprobs=True, top_logprobs=2)
    content = body["choices"][0]["logprobs"]["content"]
    assert "".join(e["token"] for e in content) == body["choices"][0]["message"]["content"]
    assert all(e["logprob"] <= 0 and len(e["top_logprobs"]) == 2 for e in content)


def test_alias_resolves_to_the_canonical_model_id(client):
    assert create(client, model="llama3.3-70b", messages=user("hi"))["model"] == "llama-3.3-70b"


def test_send_done_option_ends_streams_with_done(client, cerebras_emulator):
    cerebras_emulator.configure(send_done=True)
    response = stream(client, model="llama3.1-8b", messages=user("hi"))
    assert data_lines(response.text)[-1] == "[DONE]"


# -------------------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("model", ["gpt-oss-120b", "zai-glm-4.7", "llama3.1-8b"])
def test_same_request_same_reply(client, model):
    body = {"model": model, "messages": user("Explain caching briefly."), "tools": [WEATHER_TOOL]}
    a, b = create(client, **body), create(client, **body)
    assert a["choices"] == b["choices"]
    assert a["usage"]["completion_tokens"] == b["usage"]["completion_tokens"]
    assert a["id"] != b["id"]


def test_tool_call_ids_are_deterministic(client):
    body = {"model": "gpt-oss-120b", "messages": user("weather in Paris"), "tools": [WEATHER_TOOL]}
    first = create(client, **body)["choices"][0]["message"]["tool_calls"][0]["id"]
    assert create(client, **body)["choices"][0]["message"]["tool_calls"][0]["id"] == first


def test_different_questions_get_different_default_replies(client):
    replies = {
        create(client, model="llama3.1-8b", messages=user(q))["choices"][0]["message"]["content"]
        for q in ("alpha", "beta", "gamma", "delta", "epsilon")
    }
    assert len(replies) > 1


def test_a_scenario_structured_reply_is_fitted_to_the_requested_schema(client):
    # The default "capital of France" scenario carries {"country", "capital"}; a schema asking for other keys
    # still gets a reply that validates: matching keys of the right type are kept, the rest generated.
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "country": {"type": "string"}, "population": {"type": "number"}},
        "required": ["city", "country", "population"],
        "additionalProperties": False,
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "capital", "schema": schema, "strict": True}}
    reply = create(client, model="gpt-oss-120b", messages=user("The capital of France as JSON"), response_format=fmt)
    value = json.loads(reply["choices"][0]["message"]["content"])
    assert set(value) == {"city", "country", "population"}
    assert value["country"] == "France"
    assert isinstance(value["population"], (int, float))
