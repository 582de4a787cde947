"""The flows that matter, replayed from cassettes on both routes (recorded with `make record`).

Each test runs against recorded traffic: live Cerebras/OpenRouter when the cassette is in cassettes/live/,
the contract emulator when it is in cassettes/emulator/. See tests/recording.py.
"""

from __future__ import annotations

import json

import pytest

import cerebras_adapters as ca
from cerebras_adapters import CerebrasClient

pytestmark = [pytest.mark.vcr, pytest.mark.parametrize("target", ["cerebras", "openrouter"], indirect=True)]

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                       "additionalProperties": False},
        "strict": True,
    },
}
ASK = [{"role": "user", "content": "What is 2+2? Reply with just the number."}]


def client(target) -> CerebrasClient:
    return CerebrasClient(**target.client_kwargs(), max_retries=0)


def test_plain_call_with_reasoning(target):
    with client(target) as c:
        resp = c.chat.completions.create(model="gpt-oss-120b", messages=ASK, reasoning_effort="low",
                                         max_completion_tokens=512)
    message = resp.choices[0].message
    assert message.content and "4" in message.content
    assert message.reasoning  # gpt-oss always reasons
    assert resp.usage.completion_tokens >= resp.usage.reasoning_tokens > 0
    assert resp.choices[0].finish_reason == "stop"
    if target.route == "cerebras":
        assert resp.time_info is not None and resp.time_info.total_time > 0
        assert resp.rate_limits is not None and resp.rate_limits.limit_tokens_minute
    else:
        assert resp.provider and "cerebras" in resp.provider.lower()
        assert resp.usage.cost is not None and resp.usage.cost > 0


def test_stream_assembles_with_usage_on_the_finish_chunk(target):
    with client(target) as c:
        stream = c.chat.completions.create(model="gpt-oss-120b", messages=ASK, stream=True,
                                           max_completion_tokens=512)
        chunks = list(stream)
    final = stream.get_final_completion()
    assert "4" in (final.choices[0].message.content or "")
    assert final.choices[0].message.reasoning
    assert final.choices[0].finish_reason == "stop"
    assert final.usage is not None and final.usage.total_tokens > 0
    assert any(c.choices and c.choices[0].delta.reasoning for c in chunks)


def test_tool_call_round_trip_with_reasoning_sent_back(target):
    messages = [{"role": "user", "content": "What is the weather in Paris? Use the tool."}]
    with client(target) as c:
        first = c.chat.completions.create(model="gpt-oss-120b", messages=messages, tools=[WEATHER],
                                          tool_choice="auto", max_completion_tokens=1024)
        call = first.choices[0].message.tool_calls[0]
        assert first.choices[0].finish_reason == "tool_calls"
        assert call.function.name == "get_weather"
        assert json.loads(call.function.arguments)["city"].lower() == "paris"
        history = [
            *messages,
            {"role": "assistant", "tool_calls": [call.to_dict()],
             "reasoning_content": first.choices[0].message.reasoning},
            {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21 C"},
        ]
        second = c.chat.completions.create(model="gpt-oss-120b", messages=ca.replay_reasoning("gpt-oss-120b", history),
                                           tools=[WEATHER], max_completion_tokens=1024)
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content


def test_streamed_tool_call(target):
    with client(target) as c:
        stream = c.chat.completions.create(
            model="gpt-oss-120b", messages=[{"role": "user", "content": "What is the weather in Paris? Use the tool."}],
            tools=[WEATHER], stream=True, max_completion_tokens=1024)
        stream.until_done()
    call = stream.get_final_completion().choices[0].message.tool_calls[0]
    assert call.id and call.function.name == "get_weather"
    assert json.loads(call.function.arguments)["city"].lower() == "paris"


def test_structured_output_with_a_strict_json_schema(target):
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"],
              "additionalProperties": False}
    with client(target) as c:
        resp = c.chat.completions.create(
            model="gpt-oss-120b", messages=[{"role": "user", "content": "What is 2+2? Answer in JSON."}],
            response_format={"type": "json_schema", "json_schema": {"name": "sum", "schema": schema, "strict": True}},
            max_completion_tokens=512)
    assert isinstance(json.loads(resp.choices[0].message.content)["answer"], int)


def test_unknown_model_is_a_typed_error(target):
    with client(target) as c, pytest.raises((ca.NotFoundError, ca.BadRequestError)) as info:
        c.chat.completions.create(model="no-such-model/at-all", messages=ASK)
    assert info.value.status_code in (400, 404)
