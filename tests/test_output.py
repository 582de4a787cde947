"""The adapters' shared output layer (``cerebras_adapters._output``): each decision it makes, once, for every adapter.

The parity suite (``test_adapter_parity.py``) checks that both adapters show what this layer computes; these tests
pin what it computes, on hand-written responses.
"""

from __future__ import annotations

from typing import Any

import pytest

from cerebras_adapters import accumulate
from cerebras_adapters._output import (
    EXTRA_KEYS,
    StreamTail,
    completion_as_chunks,
    rate_limits_dict,
    response_extras,
    streams_as_one_call,
    tool_arguments,
    tool_call_delta_dicts,
    tool_call_dicts,
)
from cerebras_adapters.types import ChatCompletion, ChatCompletionChunk, RateLimits, ToolCall
from tests.wire import chunk, completion, tool_call, usage


def _completion(body: dict[str, Any], headers: dict[str, str] | None = None) -> ChatCompletion:
    result = ChatCompletion.model_validate(body)
    result.attach_http(RateLimits.from_headers(headers or {}), "req-1", headers)
    return result


def _chunks(*events: dict[str, Any]) -> list[ChatCompletionChunk]:
    out = []
    for event in events:
        parsed = ChatCompletionChunk.model_validate(event)
        parsed.attach_http(None, "req-1", None)
        out.append(parsed)
    return out


def test_service_tier_is_the_tier_used_when_the_response_says_it():
    body = {**completion("4"), "service_tier": "auto", "service_tier_used": "flex"}

    assert response_extras(_completion(body))["service_tier"] == "flex"


def test_service_tier_falls_back_to_the_response_service_tier():
    body = {**completion("4"), "service_tier": "priority"}

    assert response_extras(_completion(body))["service_tier"] == "priority"


def test_rate_limits_are_one_flat_dict_keeping_the_earlier_extra_key():
    limits = RateLimits.from_headers(
        {"x-ratelimit-remaining-tokens-minute": "900", "x-ratelimit-limit-requests-minute": "30"}
    )
    assert limits is not None

    flat = rate_limits_dict(limits)

    assert flat == {
        "remaining_tokens_minute": 900,
        "limit_requests_minute": "30",
        "extra": {"limit_requests_minute": "30"},
    }


def test_provider_cost_and_generation_id_are_shown_whenever_the_response_carries_them():
    body = completion("4", model="openai/gpt-oss-120b", provider="Cerebras", id="gen-17-abc")
    body["usage"]["cost"] = 0.0001

    extras = response_extras(_completion(body))

    assert (extras["provider"], extras["generation_id"], extras["cost"]) == ("Cerebras", "gen-17-abc", 0.0001)


def test_a_direct_response_has_no_generation_id():
    assert "generation_id" not in response_extras(_completion(completion("4")))


def test_usage_details_are_flat_counts_present_only_when_sent():
    body = completion("4")
    body["usage"] = usage(prompt=50, completion=12, reasoning=5, cached=32)

    extras = response_extras(_completion(body))

    assert (extras["cached_tokens"], extras["reasoning_tokens"]) == (32, 5)
    assert set(extras) <= set(EXTRA_KEYS)


def test_gpt_oss_no_argument_quirk_reads_as_no_arguments_in_dicts_and_dicts_of_arguments():
    calls = [ToolCall.model_validate(tool_call("3fa9c0b13", "now", '{"": {}}'))]

    assert tool_call_dicts(calls)[0]["function"] == {"name": "now", "arguments": "{}"}
    assert tool_arguments('{"": {}}') == {}


def test_tool_arguments_that_are_not_an_object_are_an_error():
    with pytest.raises(ValueError, match="not a JSON object"):
        tool_arguments("[1, 2]")


def test_delta_tool_calls_keep_their_index_or_take_their_position():
    fragments = [ToolCall.model_validate({"function": {"arguments": '{"city": '}}), ToolCall(index=3, id="x")]

    dicts = tool_call_delta_dicts(fragments)

    assert [(d["index"], d["id"], d["function"]["arguments"]) for d in dicts] == [(0, None, '{"city": '), (3, "x", "")]


def test_the_stream_tail_takes_usage_sent_after_the_finish_chunk():
    # OpenRouter: the finish chunk, then usage (and cost) on a chunk with no choices.
    events = _chunks(
        chunk({"role": "assistant", "content": "4"}, provider="Cerebras"),
        chunk({}, finish_reason="stop", provider="Cerebras"),
        {**chunk({}, provider="Cerebras"), "choices": [], "usage": {**usage(), "cost": 0.0001}},
    )
    tail = StreamTail()
    for event in events:
        tail.observe(event)

    assert tail.finish_reason == "stop"
    assert tail.usage is not None and tail.usage.cost == 0.0001
    assert tail.extras() == response_extras(accumulate(events))


def test_json_mode_is_served_by_one_call_when_streamed():
    assert streams_as_one_call({"response_format": {"type": "json_object"}})
    assert not streams_as_one_call({"response_format": {"type": "json_schema", "json_schema": {}}})
    assert not streams_as_one_call({})


def test_a_completion_as_chunks_assembles_back_into_itself():
    body = completion("4", reasoning="two and two", tool_calls=[tool_call("3fa9c0b12", "get_weather", "{}", 0)])
    original = _completion({**body, "service_tier_used": "flex"}, {"x-ratelimit-remaining-tokens-minute": "9"})

    (only,) = completion_as_chunks(original)
    tail = StreamTail()
    tail.observe(only)

    assert accumulate([only]).model_dump() == original.model_dump()
    assert tail.extras() == response_extras(original)
