"""A LangChain v1 agent with tools and a structured answer: ``create_agent(model, tools, response_format=Schema)``.

ChatCerebras's profile says which models have native structured output, so ``create_agent`` answers with
``ProviderStrategy`` (a ``json_schema`` response format) and never forces a tool call, which gpt-oss refuses. The
API takes tools and a response format only in separate requests: a turn that ends the loop is a request with the
tools (the model answers instead of calling one) and a request with the schema, whose answer is the result.
"""

from __future__ import annotations

from langchain.agents import create_agent
from langchain_core.tools import tool
from pydantic import BaseModel

from cerebras_adapters.langchain import ChatCerebras


class Weather(BaseModel):
    """The weather in a city."""

    city: str
    temperature: int


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return "Sunny, 21 C"


def main() -> Weather:
    agent = create_agent(ChatCerebras(model="gpt-oss-120b"), tools=[get_weather], response_format=Weather)
    result = agent.invoke({"messages": [("user", "What is the weather in Paris?")]})
    weather: Weather = result["structured_response"]
    print(weather)
    return weather


if __name__ == "__main__":
    main()
