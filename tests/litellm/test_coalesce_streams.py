"""Stream coalescing through LiteLLM: on by default for our provider's streams (``completion``/``acompletion``),
turned off or given a window per call (``coalesce=False``, ``coalesce_ms=...``) or per deployment (a Router's
``litellm_params``), and ``stream_chunk_builder`` assembles exactly the same answer either way."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cerebras_adapters.testing import EmulatorServer

from .conftest import KEY, PROVIDER, Caller, chat_bodies, litellm

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]
QUESTION = {"role": "user", "content": "What's the weather in Paris?"}
STORY = {"role": "user", "content": "Tell me about the emulator."}


def assembled(chunks: list[Any]) -> dict[str, Any]:
    response = litellm.stream_chunk_builder(chunks)
    message = response.choices[0].message
    return {
        "content": message.content,
        "reasoning": getattr(message, "reasoning_content", None),
        "tool_calls": [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []],
        "finish_reason": response.choices[0].finish_reason,
        "usage": response.usage.model_dump(),
    }


@pytest.mark.parametrize("messages", [[STORY], [QUESTION]], ids=["reasoning and content", "tool call"])
def test_a_coalesced_stream_assembles_exactly_the_same_answer(call: Caller, messages: list[Any]) -> None:
    merged = call.stream(messages=messages, tools=TOOLS)  # coalescing is on by default
    plain = call.stream(messages=messages, tools=TOOLS, coalesce=False)

    assert len(merged) < len(plain)  # the emulator writes an unpaced stream in one go: one read, one chunk
    assert assembled(merged) == assembled(plain)
    assert all("coalesce" not in body and "coalesce_ms" not in body for body in chat_bodies(call.emulator))


@pytest.mark.cerebras_emulator(tokens_per_second=300)
def test_acompletion_merges_what_arrived_while_a_slow_consumer_was_busy(cerebras_emulator: EmulatorServer) -> None:
    # At 300 tokens/s each event is its own network read; the consumer takes 20 ms a chunk.
    async def drain(**kwargs: Any) -> list[Any]:
        chunks = []
        response = await litellm.acompletion(model=f"{PROVIDER}/gpt-oss-120b", messages=[STORY], stream=True,
                                             api_base=cerebras_emulator.base_url, api_key=KEY,
                                             max_completion_tokens=120, **kwargs)
        async for chunk in response:
            chunks.append(chunk)
            await asyncio.sleep(0.02)
        return chunks

    merged = asyncio.run(drain())
    plain = asyncio.run(drain(coalesce=False))

    assert len(merged) * 3 < len(plain)
    same = ("content", "reasoning", "finish_reason")
    assert {k: assembled(merged)[k] for k in same} == {k: assembled(plain)[k] for k in same}


@pytest.mark.cerebras_emulator(tokens_per_second=300)
def test_coalesce_ms_from_a_router_deployment_merges_for_that_long(cerebras_emulator: EmulatorServer) -> None:
    def deployment(name: str, **settings: Any) -> dict[str, Any]:
        params = {"model": f"{PROVIDER}/gpt-oss-120b", "api_key": KEY, "api_base": cerebras_emulator.base_url}
        return {"model_name": name, "litellm_params": {**params, **settings}}

    router = litellm.Router(model_list=[deployment("windowed", coalesce_ms=50), deployment("off", coalesce=False)])

    async def drain(name: str) -> list[Any]:
        response = await router.acompletion(model=name, messages=[STORY], stream=True, max_completion_tokens=120)
        return [chunk async for chunk in response]

    windowed, off = asyncio.run(drain("windowed")), asyncio.run(drain("off"))
    assert len(windowed) * 4 < len(off)
    assert assembled(windowed)["content"] == assembled(off)["content"]


def test_a_bad_coalesce_ms_in_a_deployment_is_refused_naming_it(cerebras_emulator: EmulatorServer) -> None:
    router = litellm.Router(model_list=[{"model_name": "m", "litellm_params": {
        "model": f"{PROVIDER}/gpt-oss-120b", "api_key": KEY, "api_base": cerebras_emulator.base_url,
        "coalesce_ms": -5,
    }}], num_retries=0)
    with pytest.raises(litellm.BadRequestError, match="coalesce_ms"):
        list(router.completion(model="m", messages=[STORY], stream=True))
    assert chat_bodies(cerebras_emulator) == []  # refused before anything was sent


def test_a_non_streamed_call_leaves_the_stream_options_out(call: Caller) -> None:
    # A deployment's coalesce settings serve its streams; a plain call has nothing to merge.
    response = call.complete(messages=[STORY], coalesce=True, coalesce_ms=5)
    assert response.choices[0].message.content
    assert "coalesce" not in chat_bodies(call.emulator)[0]
