"""A LangGraph agent that remembers: the prebuilt ReAct agent (``create_react_agent``) on ChatCerebras, with an
``InMemorySaver`` checkpointer. Every turn on one ``thread_id`` sees the earlier ones, tool calls and results
included, and the model's earlier reasoning goes back the way its family takes it (gpt-oss: the ``reasoning``
field; GLM: ``<think>`` in the content).

    python integrations/langgraph/agent_with_memory.py [model]

With CEREBRAS_API_KEY set it runs live; otherwise against the contract emulator, started in-process.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.prebuilt import create_react_agent

from cerebras_adapters.langchain import ChatCerebras

QUESTIONS = ("What is the weather in London?", "Please add 2 and 40.", "Thanks! Which city did I ask about?")


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return {"london": "Light rain, 14 C", "tokyo": "Clear, 19 C"}.get(city.lower(), "Unknown city")


@tool
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


def run(model: str, **connection: Any) -> list[BaseMessage]:
    """Ask QUESTIONS on one thread and return the thread's messages."""
    llm = ChatCerebras(model=model, reasoning_effort="low", **connection)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated in LangGraph 1.x for langchain.agents.create_agent; still shipped
        agent = create_react_agent(llm, [get_weather, add], checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "demo"}}
    messages: list[BaseMessage] = []
    for question in QUESTIONS:
        messages = agent.invoke({"messages": [("user", question)]}, config)["messages"]
        print(f"> {question}\n{messages[-1].content}")
    return messages


def main(model: str = "gpt-oss-120b") -> list[BaseMessage]:
    if os.environ.get("CEREBRAS_API_KEY"):
        return run(model)
    from cerebras_adapters.testing import EmulatorServer

    with EmulatorServer() as emulator:
        return run(model, base_url=emulator.base_url, api_key="csk-demo")


if __name__ == "__main__":
    main(*sys.argv[1:])
