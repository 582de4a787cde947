"""LangChain v1's ``create_agent`` (``langchain.agents``) on ChatCerebras: a tool-calling agent, and structured
output through ``response_format=<pydantic model>`` with and without tools, on gpt-oss-120b and Gemma 4.

ChatCerebras's profile says it has native structured output, so ``create_agent`` picks its ProviderStrategy (a
``json_schema`` response format). An explicit ``ToolStrategy`` makes the schema a tool the model is forced to
call; that needs a model that accepts a forced tool call (gpt-oss does not: docs/api-facts.md#tool-choice).
"""

from __future__ import annotations

import pytest
from langchain.agents import create_agent
from langchain.agents.structured_output import ToolStrategy
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from cerebras_adapters.langchain import ChatCerebras

MODELS = ["gpt-oss-120b", "gemma-4-31b"]
WEATHER = {"london": "Light rain, 14 C", "tokyo": "Clear, 19 C"}


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return WEATHER.get(city.lower(), "Unknown city")


class WeatherReport(BaseModel):
    """A weather report for one city."""

    city: str = Field(description="The city the report is for")
    temperature_c: float = Field(description="The temperature in degrees Celsius")


class Capital(BaseModel):
    """A country's capital city."""

    country: str
    capital: str


def model(name: str, emulator, key: str) -> ChatCerebras:
    return ChatCerebras(model=name, base_url=emulator.base_url, api_key=key, reasoning_effort="low")


def chat_requests(emulator) -> list[dict]:
    return [r.json() for r in emulator.requests if r.path.endswith("/chat/completions")]


def tool_results(messages) -> list[str]:
    return [m.content for m in messages if isinstance(m, ToolMessage)]


@pytest.mark.parametrize("name", MODELS)
def test_agent_calls_the_tool_then_answers_from_its_result(cerebras_emulator, key, name):
    agent = create_agent(model(name, cerebras_emulator, key), [get_weather])
    messages = agent.invoke({"messages": [("user", "What is the weather in Tokyo?")]})["messages"]

    (call,) = [c for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
    assert (call["name"], call["args"]) == ("get_weather", {"city": "Tokyo"})
    assert tool_results(messages) == ["Clear, 19 C"]
    assert isinstance(messages[-1], AIMessage) and not messages[-1].tool_calls
    assert "Clear, 19 C" in messages[-1].content


@pytest.mark.parametrize("name", MODELS)
def test_response_format_without_tools_returns_a_validated_instance(cerebras_emulator, key, name):
    agent = create_agent(model(name, cerebras_emulator, key), [], response_format=Capital)
    result = agent.invoke({"messages": [("user", "What is the capital of France?")]})

    assert result["structured_response"] == Capital(country="France", capital="Paris")
    (sent,) = chat_requests(cerebras_emulator)
    assert sent["response_format"]["type"] == "json_schema" and "tools" not in sent
    assert sent["response_format"]["json_schema"]["schema"]["required"] == ["country", "capital"]


@pytest.mark.parametrize("name", MODELS)
def test_response_format_with_tools_calls_the_tool_first_and_structures_its_result(cerebras_emulator, key, name):
    agent = create_agent(model(name, cerebras_emulator, key), [get_weather], response_format=WeatherReport)
    result = agent.invoke({"messages": [("user", "What is the weather in London?")]})

    assert tool_results(result["messages"]) == ["Light rain, 14 C"]
    # The report is built from the tool's result (14 C), not made up before the call.
    assert result["structured_response"] == WeatherReport(city="London", temperature_c=14)
    sent = chat_requests(cerebras_emulator)
    # The API takes tools and a response_format only in separate requests (docs/api-facts.md#tools-and-response-format).
    assert not any("tools" in r and "response_format" in r for r in sent)
    assert sent[-1]["response_format"]["type"] == "json_schema" and sent[-1]["messages"][-1]["role"] == "tool"


def test_tool_strategy_calls_the_data_tool_before_the_answer_tool(cerebras_emulator, key):
    # ToolStrategy forces a tool call on every step (tool_choice "required"): the model must fetch the weather
    # first and call the WeatherReport tool with what it got, not both at once with made-up values.
    agent = create_agent(
        model("gemma-4-31b", cerebras_emulator, key), [get_weather], response_format=ToolStrategy(WeatherReport)
    )
    result = agent.invoke({"messages": [("user", "What is the weather in London?")]})

    steps = [[c["name"] for c in m.tool_calls] for m in result["messages"] if isinstance(m, AIMessage)]
    assert steps == [["get_weather"], ["WeatherReport"]]
    assert result["structured_response"] == WeatherReport(city="London", temperature_c=14)
    sent = chat_requests(cerebras_emulator)
    assert [r["tool_choice"] for r in sent] == ["required", "required"]
    assert sent[-1]["messages"][-1]["role"] == "tool" and sent[-1]["messages"][-1]["content"] == "Light rain, 14 C"


def test_the_create_agent_recipe_runs_offline(recipe):
    module = recipe("langgraph/create_agent_structured.py")
    assert module.main() == module.WeatherReport(city="London", temperature_c=14)
