"""LangChain v1's ``create_agent`` (built on LangGraph) with tools and a structured answer: the agent calls the
weather tool, then returns a validated ``WeatherReport`` built from the tool's result.

ChatCerebras declares native structured output in its profile, so ``create_agent`` asks for a ``json_schema``
response format (its ProviderStrategy). Cerebras takes tools and a response format only in separate requests;
ChatCerebras serves such a call as a tool request, then, once the model answers instead of calling a tool, a
schema request. ``ToolStrategy(WeatherReport)`` (the schema as a forced tool) works too on models that accept a
forced tool call (GLM, Gemma; not gpt-oss).

    python integrations/langgraph/create_agent_structured.py [model]

With CEREBRAS_API_KEY set it runs live; otherwise against the contract emulator, started in-process.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from langchain.agents import create_agent
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from cerebras_adapters.langchain import ChatCerebras


class WeatherReport(BaseModel):
    """A weather report for one city."""

    city: str = Field(description="The city the report is for")
    temperature_c: float = Field(description="The temperature in degrees Celsius")


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return {"london": "Light rain, 14 C", "tokyo": "Clear, 19 C"}.get(city.lower(), "Unknown city")


def run(model: str, question: str, **connection: Any) -> WeatherReport:
    llm = ChatCerebras(model=model, reasoning_effort="low", **connection)
    agent = create_agent(llm, [get_weather], response_format=WeatherReport)
    report: WeatherReport = agent.invoke({"messages": [("user", question)]})["structured_response"]
    print(report)
    return report


def main(model: str = "gpt-oss-120b", question: str = "What is the weather in London?") -> WeatherReport:
    if os.environ.get("CEREBRAS_API_KEY"):
        return run(model, question)
    from cerebras_adapters.testing import EmulatorServer

    with EmulatorServer() as emulator:
        return run(model, question, base_url=emulator.base_url, api_key="csk-demo")


if __name__ == "__main__":
    main(*sys.argv[1:])
