"""The ``Cerebras`` LLM driven by LlamaIndex's own machinery, as users run it: a ``FunctionAgent`` (and an
``AgentWorkflow``) with two tools over several turns, a ``VectorStoreIndex`` query engine over in-memory
documents with a local embedding stand-in, and ``as_structured_llm`` — all on the contract emulator."""

from __future__ import annotations

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import AgentStream, AgentWorkflow, FunctionAgent, ToolCallResult
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import ChatMessage
from llama_index.core.memory import Memory
from pydantic import BaseModel

from tests.llama_index.helpers import chat_bodies

# LlamaIndex's agents inspect their tools' pydantic models (inspect.getmembers), touching attributes pydantic has
# deprecated; nothing of ours.
pytestmark = [
    pytest.mark.filterwarnings("ignore::pydantic.PydanticDeprecatedSince20"),
    pytest.mark.filterwarnings("ignore::pydantic.PydanticDeprecatedSince211"),
]

TIME_SCENARIO = {
    "match": r"\btime\b",
    "reply": "Local time: {tool_result}",
    "reasoning": "The user asks for the time; the clock tool answers that.",
    "tool_calls": [{"name": "get_time", "arguments": {"city": "Tokyo"}}],
}
DOCUMENTS = [
    Document(text="Cerebras builds the wafer-scale engine, a chip the size of a whole wafer."),
    Document(text="The capital of France is Paris; it is on the Seine."),
]


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"Sunny, 21 C in {city}"


def get_time(city: str) -> str:
    """Current local time in a city."""
    return f"It is 14:00 in {city}"


TURNS = ["What's the weather in Paris?", "And what time is it in Tokyo?", "hi"]


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "not-streaming"])
@pytest.mark.parametrize(("model", "replayed_as"), [("gpt-oss-120b", "reasoning"), ("zai-glm-4.7", "think_tags")])
async def test_function_agent_uses_two_tools_over_several_turns(
    make_llm, cerebras_emulator, streaming, model, replayed_as
):
    cerebras_emulator.configure(scenarios=[TIME_SCENARIO])
    agent = FunctionAgent(
        tools=[get_weather, get_time], llm=make_llm(model), system_prompt="You help travellers.", streaming=streaming
    )
    memory = Memory.from_defaults(session_id="trip", token_limit=50_000)
    answers, called, streamed = [], [], []
    for turn in TURNS:
        handler = agent.run(user_msg=turn, memory=memory)
        async for event in handler.stream_events():
            if isinstance(event, ToolCallResult):
                called.append((event.tool_name, event.tool_kwargs, event.tool_output.content))
            elif isinstance(event, AgentStream):
                streamed.append(event.delta)
        answers.append((await handler).response.content)

    assert called == [
        ("get_weather", {"city": "Paris"}, "Sunny, 21 C in Paris"),
        ("get_time", {"city": "Tokyo"}, "It is 14:00 in Tokyo"),
    ]
    assert answers == [
        "Here is the current weather: Sunny, 21 C in Paris",
        "Local time: It is 14:00 in Tokyo",
        "Hello! How can I help you today?",
    ]
    assert ("".join(streamed) != "") == streaming
    # The last request carries the whole conversation: both tool rounds, with the reasoning of every earlier
    # assistant message in the form the model's family takes (never as reasoning_content).
    last = chat_bodies(cerebras_emulator)[-1]["messages"]
    assert [m["role"] for m in last] == [
        "system", "user", "assistant", "tool", "assistant", "user", "assistant", "tool", "assistant", "user",
    ]  # fmt: skip
    assistants = [m for m in last if m["role"] == "assistant"]
    assert all("reasoning_content" not in m for m in assistants)
    if replayed_as == "reasoning":
        assert all(m["reasoning"] for m in assistants)
    else:
        answered = [m for m in assistants if "tool_calls" not in m]
        assert all(m["content"].startswith("<think>") for m in answered)


async def test_agent_workflow_with_one_function_agent(make_llm, cerebras_emulator):
    cerebras_emulator.configure(scenarios=[TIME_SCENARIO])
    agent = FunctionAgent(name="travel", description="Weather and time", tools=[get_weather, get_time],
                          llm=make_llm("gpt-oss-120b"), system_prompt="You help travellers.")
    workflow = AgentWorkflow(agents=[agent], root_agent="travel")
    result = await workflow.run(user_msg="What time is it in Tokyo?")
    assert str(result) == "Local time: It is 14:00 in Tokyo"


def test_query_engine_over_in_memory_documents(make_llm, cerebras_emulator):
    index = VectorStoreIndex.from_documents(DOCUMENTS, embed_model=MockEmbedding(embed_dim=8))
    response = index.as_query_engine(llm=make_llm("gpt-oss-120b"), similarity_top_k=2).query(
        "What is the capital of France?"
    )
    assert str(response) == "The capital of France is Paris."
    assert len(response.source_nodes) == 2
    prompt = "".join(m["content"] for m in chat_bodies(cerebras_emulator)[-1]["messages"])
    assert "wafer-scale engine" in prompt and "on the Seine" in prompt  # the retrieved context was sent


async def test_streaming_query_engine(make_llm):
    index = VectorStoreIndex.from_documents(DOCUMENTS, embed_model=MockEmbedding(embed_dim=8))
    engine = index.as_query_engine(llm=make_llm("gemma-4-31b"), streaming=True)
    response = engine.query("What is the capital of France?")
    assert "".join(response.response_gen) == "The capital of France is Paris."
    aresponse = await engine.aquery("What is the capital of France?")
    assert "".join([t async for t in aresponse.async_response_gen()]) == "The capital of France is Paris."


class Capital(BaseModel):
    """A country's capital."""

    country: str
    capital: str


def test_as_structured_llm_in_a_query_engine(make_llm, cerebras_emulator):
    index = VectorStoreIndex.from_documents(DOCUMENTS, embed_model=MockEmbedding(embed_dim=8))
    engine = index.as_query_engine(llm=make_llm("gpt-oss-120b").as_structured_llm(Capital))
    response = engine.query("What is the capital of France?")
    assert response.response == Capital(country="France", capital="Paris")
    assert chat_bodies(cerebras_emulator)[-1]["response_format"]["json_schema"]["name"] == "Capital"


async def test_as_structured_llm_streams_partial_objects(make_llm):
    structured = make_llm("zai-glm-4.7").as_structured_llm(Capital)
    items = list(structured.stream_chat([ChatMessage(role="user", content="capital of France?")]))
    assert items[-1].raw == Capital(country="France", capital="Paris")
