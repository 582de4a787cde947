"""A tool-calling agent loop: the model calls tools until it can answer. Reasoning from each step goes back
to the model in the form it accepts (ChatCerebras does that), so a multi-step loop keeps its thread.

A plain loop rather than LangGraph's prebuilt agent: it shows every message that goes back and forth, and needs
nothing beyond langchain-core.
"""

from __future__ import annotations

from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from cerebras_adapters.langchain import ChatCerebras


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return {"paris": "Sunny, 21 C", "london": "Light rain, 14 C"}.get(city.lower(), "Unknown")


def main(question: str = "What is the weather in Paris? Use the tool.", max_steps: int = 4) -> str:
    llm = ChatCerebras(model="gpt-oss-120b", reasoning_effort="low").bind_tools([get_weather])
    tools = {"get_weather": get_weather}
    messages: list[BaseMessage] = [HumanMessage(question)]
    for _ in range(max_steps):
        reply = llm.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            print(reply.content)
            return str(reply.content)
        for call in reply.tool_calls:
            result = tools[call["name"]].invoke(call["args"])
            print(f"{call['name']}({call['args']}) -> {result}")
            messages.append(ToolMessage(result, tool_call_id=call["id"]))
    raise RuntimeError(f"no answer after {max_steps} steps")


if __name__ == "__main__":
    main()
