"""The LlamaIndex ``Cerebras`` LLM on recorded traffic, both routes (recorded with ``make record``; see
tests/recording.py): live Cerebras/OpenRouter when the cassette is in cassettes/live/, the contract emulator when it
is in cassettes/emulator/. Replayed offline with every non-loopback socket blocked."""

from __future__ import annotations

import pytest
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

import cerebras_adapters as ca
from cerebras_adapters.llama_index import Cerebras

pytestmark = [pytest.mark.vcr, pytest.mark.parametrize("target", ["cerebras", "openrouter"], indirect=True)]

ASK = [ChatMessage(role="user", content="What is 2+2? Reply with just the number.")]


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny, 21 C in {city}"


def llm(target, model: str = "gpt-oss-120b", **fields) -> Cerebras:
    return Cerebras(model=model, api_base=target.base_url, api_key=target.api_key, route=target.route,
                    max_retries=0, **fields)


class Sum(BaseModel):
    """The answer to a sum."""

    answer: int


def test_chat_with_reasoning(target):
    response = llm(target, reasoning_effort="low", max_completion_tokens=512).chat(ASK)
    assert "4" in (response.message.content or "")
    assert response.message.additional_kwargs["reasoning_content"]
    extra = response.additional_kwargs
    assert extra["finish_reason"] == "stop" and extra["completion_tokens"] >= extra["reasoning_tokens"] > 0
    if target.route == "cerebras":
        assert extra["time_info"]["total_time"] > 0 and extra["rate_limits"]["limit_tokens_minute"]
    else:
        assert "cerebras" in extra["provider"].lower() and extra["cost"] > 0


def test_stream_chat_ends_with_usage(target):
    items = list(llm(target, max_completion_tokens=512).stream_chat(ASK))
    last = items[-1]
    assert "4" in (last.message.content or "") and last.message.additional_kwargs["reasoning_content"]
    assert last.additional_kwargs["finish_reason"] == "stop" and last.additional_kwargs["total_tokens"] > 0
    assert any(item.additional_kwargs.get("thinking_delta") for item in items)


def test_tool_round_trip_with_reasoning_sent_back(target):
    model = llm(target, max_completion_tokens=1024)
    tool = FunctionTool.from_defaults(fn=get_weather)
    history = [ChatMessage(role="user", content="What is the weather in Paris? Use the tool.")]
    first = model.chat_with_tools([tool], chat_history=history, strict=True)
    (call,) = model.get_tool_calls_from_response(first)
    assert call.tool_name == "get_weather" and call.tool_kwargs["city"].lower() == "paris"
    history += [
        first.message,
        ChatMessage(
            role="tool", content=get_weather(**call.tool_kwargs), additional_kwargs={"tool_call_id": call.tool_id}
        ),
    ]
    second = model.chat_with_tools([tool], chat_history=history, strict=True)
    assert second.additional_kwargs["finish_reason"] == "stop" and second.message.content


def test_streamed_tool_call(target):
    model = llm(target, max_completion_tokens=1024)
    tool = FunctionTool.from_defaults(fn=get_weather)
    items = list(model.stream_chat_with_tools([tool], user_msg="What is the weather in Paris? Use the tool."))
    (call,) = model.get_tool_calls_from_response(items[-1])
    assert call.tool_id and call.tool_name == "get_weather" and call.tool_kwargs["city"].lower() == "paris"


def test_structured_predict_with_a_strict_json_schema(target):
    result = llm(target, max_completion_tokens=512).structured_predict(
        Sum, PromptTemplate("What is 2+2? Answer in JSON.")
    )
    assert result.answer == 4


def test_unknown_model_is_a_typed_error(target):
    with pytest.raises((ca.NotFoundError, ca.BadRequestError)) as info:
        llm(target, model="no-such-model/at-all").chat(ASK)
    assert info.value.status_code in (400, 404)
