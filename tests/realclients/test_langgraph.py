"""LangGraph's prebuilt ReAct agent (``langgraph.prebuilt.create_react_agent``) on ChatCerebras, with an
``InMemorySaver`` checkpointer: several turns on one thread, tools called and answered, and each turn's request
carrying the whole thread so far, earlier reasoning replayed the way the model family takes it back."""

from __future__ import annotations

import json
import warnings

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.prebuilt import create_react_agent

from cerebras_adapters.langchain import ChatCerebras

MODELS = ["gpt-oss-120b", "zai-glm-4.7"]
WEATHER = {"london": "Light rain, 14 C", "tokyo": "Clear, 19 C"}


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return WEATHER.get(city.lower(), "Unknown city")


@tool
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


def make_agent(model: str, emulator, key: str):
    llm = ChatCerebras(model=model, base_url=emulator.base_url, api_key=key, reasoning_effort="low")
    with warnings.catch_warnings():
        # Deprecated in LangGraph 1.x in favour of langchain.agents.create_agent (test_create_agent.py); still the
        # prebuilt agent LangGraph ships, and what many graphs use.
        warnings.simplefilter("ignore")
        return create_react_agent(llm, [get_weather, add], checkpointer=InMemorySaver())


def chat_requests(emulator) -> list[dict]:
    return [r.json() for r in emulator.requests if r.path.endswith("/chat/completions")]


def thread(agent, thread_id: str, text: str):
    return agent.invoke({"messages": [("user", text)]}, {"configurable": {"thread_id": thread_id}})["messages"]


@pytest.mark.parametrize("model", MODELS)
def test_each_turn_calls_the_tool_the_question_needs_and_answers_from_its_result(cerebras_emulator, key, model):
    agent = make_agent(model, cerebras_emulator, key)

    first = thread(agent, "t", "What is the weather in London?")
    second = thread(agent, "t", "Please add 2 and 40.")

    calls = [c for m in second if isinstance(m, AIMessage) for c in m.tool_calls]
    assert [(c["name"], c["args"]) for c in calls] == [("get_weather", {"city": "London"}), ("add", {"a": 2, "b": 40})]
    results = [m.content for m in second if isinstance(m, ToolMessage)]
    assert results == ["Light rain, 14 C", "42"]
    assert "Light rain, 14 C" in first[-1].content and not first[-1].tool_calls
    assert "42" in second[-1].content and not second[-1].tool_calls
    assert second[: len(first)] == first  # the checkpointer kept turn one, unchanged


@pytest.mark.parametrize("model", MODELS)
def test_a_later_turn_sends_the_whole_thread_with_reasoning_replayed_per_family(cerebras_emulator, key, model):
    agent = make_agent(model, cerebras_emulator, key)
    _, call_reply, _, answer_reply = thread(agent, "t", "What is the weather in London?")
    call_reasoning = call_reply.additional_kwargs["reasoning_content"]
    answer_reasoning = answer_reply.additional_kwargs["reasoning_content"]
    assert call_reasoning and answer_reasoning

    thread(agent, "t", "Thanks. Which city did I ask about?")
    sent = chat_requests(cerebras_emulator)[-1]["messages"]

    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "assistant", "user"]
    assert sent[0]["content"] == "What is the weather in London?"
    (call,) = sent[1]["tool_calls"]
    assert call["function"]["name"] == "get_weather" and json.loads(call["function"]["arguments"]) == {"city": "London"}
    assert sent[2] == {"role": "tool", "tool_call_id": call["id"], "content": "Light rain, 14 C"}
    assert sent[4]["content"] == "Thanks. Which city did I ask about?"
    if model == "gpt-oss-120b":
        # gpt-oss takes earlier reasoning back in the assistant message's reasoning field.
        assert sent[1]["reasoning"] == call_reasoning
        assert sent[3] == {"role": "assistant", "content": answer_reply.content, "reasoning": answer_reasoning}
    else:
        # GLM takes it back as <think> in the content.
        assert sent[1]["content"] == f"<think>{call_reasoning}</think>"
        assert sent[3] == {"role": "assistant", "content": f"<think>{answer_reasoning}</think>{answer_reply.content}"}


def test_threads_are_kept_apart(cerebras_emulator, key):
    agent = make_agent("gpt-oss-120b", cerebras_emulator, key)
    thread(agent, "alice", "What is the weather in London?")
    bob = thread(agent, "bob", "What is the weather in Tokyo?")

    assert [m.content for m in bob if isinstance(m, ToolMessage)] == ["Clear, 19 C"]
    sent = chat_requests(cerebras_emulator)[-1]["messages"]
    assert "London" not in json.dumps(sent)
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"]


# Paced like the real service: ChatCerebras merges the events already received into one chunk (stream coalescing),
# so an emulator that writes a whole answer at once would stream it as one block.
@pytest.mark.cerebras_emulator(tokens_per_second=300)
async def test_the_async_agent_streams_its_answer_token_by_token(cerebras_emulator, key):
    agent = make_agent("zai-glm-4.7", cerebras_emulator, key)
    config = {"configurable": {"thread_id": "t"}}
    chunks = [
        chunk
        async for chunk, _ in agent.astream(
            {"messages": [("user", "What is the weather in Tokyo?")]}, config, stream_mode="messages"
        )
        if isinstance(chunk, AIMessageChunk)
    ]

    text = "".join(c.content for c in chunks if isinstance(c.content, str))
    assert "Here is the current weather: Clear, 19 C" in text
    assert len([c for c in chunks if c.content]) > 3  # streamed, not one block
    state = await agent.aget_state(config)
    assert [m.content for m in state.values["messages"] if isinstance(m, ToolMessage)] == ["Clear, 19 C"]
    assert all(r.get("stream") for r in chat_requests(cerebras_emulator))


def test_the_agent_with_memory_recipe_runs_offline(recipe):
    messages = recipe("langgraph/agent_with_memory.py").main()

    assert [m.content for m in messages if isinstance(m, ToolMessage)] == ["Light rain, 14 C", "42"]
    assert [m.content for m in messages if m.type == "human"] == [
        "What is the weather in London?",
        "Please add 2 and 40.",
        "Thanks! Which city did I ask about?",
    ]
    assert isinstance(messages[-1], AIMessage) and messages[-1].content
