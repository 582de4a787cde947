"""A LlamaIndex ``FunctionAgent`` on Cerebras with two tools over several turns.

The agent keeps the conversation in a ``Memory``: every turn sees the earlier ones, tool calls and results
included, and the model's earlier reasoning goes back the way its family takes it (gpt-oss: the ``reasoning``
field; GLM: ``<think>`` in the content). Tool calls stream as they are made (``AgentStream``/``ToolCallResult``).

    python integrations/llama_index/agent.py [model]

With CEREBRAS_API_KEY set it runs live; otherwise against the contract emulator, started in-process and scripted to
call the clock tool when asked for the time.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from llama_index.core.memory import Memory

from cerebras_adapters.llama_index import Cerebras

QUESTIONS = ("What's the weather in Paris?", "And what time is it in Tokyo?", "Thanks! Which cities did I ask about?")
EMULATOR_SCRIPT = [
    {"match": r"\btime\b", "reply": "Local time: {tool_result}", "tool_calls": [{"name": "get_time"}]},
]


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return {"paris": "Sunny, 21 C", "tokyo": "Clear, 19 C"}.get(city.lower(), "Unknown city")


def get_time(city: str) -> str:
    """Get the current local time in a city."""
    return {"paris": "09:00", "tokyo": "16:00"}.get(city.lower(), "unknown")


async def run(model: str, **connection: Any) -> list[str]:
    agent = FunctionAgent(
        tools=[get_weather, get_time],
        llm=Cerebras(model=model, reasoning_effort="low", **connection),
        system_prompt="You help travellers. Use the tools for weather and time.",
    )
    memory = Memory.from_defaults(session_id="trip", token_limit=50_000)
    answers = []
    for question in QUESTIONS:
        print(f"> {question}")
        handler = agent.run(user_msg=question, memory=memory)
        async for event in handler.stream_events():
            if isinstance(event, ToolCallResult):
                print(f"  {event.tool_name}({event.tool_kwargs}) -> {event.tool_output.content}")
        answer = str((await handler).response.content)
        print(answer)
        answers.append(answer)
    return answers


def main(model: str = "gpt-oss-120b") -> list[str]:
    if os.environ.get("CEREBRAS_API_KEY"):
        return asyncio.run(run(model))
    from cerebras_adapters.testing import EmulatorServer

    with EmulatorServer(scenarios=EMULATOR_SCRIPT) as emulator:
        return asyncio.run(run(model, api_base=emulator.base_url, api_key="csk-demo"))


if __name__ == "__main__":
    main(*sys.argv[1:2])
