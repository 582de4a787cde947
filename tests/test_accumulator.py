"""``Accumulator``: ``accumulate`` one chunk at a time, for adapters that need the assembled answer after a stream
without keeping its chunks (the LlamaIndex stream items' last one)."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cerebras_adapters import ChatCompletionChunk, accumulate
from cerebras_adapters._streaming import Accumulator
from tests.wire import RATE_HEADERS, sse, stream_chunks, usage

CALLS = [
    {"index": 0, "id": "0a1b2c3d4", "type": "function", "function": {"name": "get_weather", "arguments": ""}},
    {"index": 0, "function": {"arguments": '{"city": '}},
    {"index": 0, "function": {"arguments": '"Paris"}'}},
    {"index": 1, "id": "1a1b2c3d4", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
]
LOGPROB = {"token": "x", "logprob": -0.5, "bytes": [120], "top_logprobs": []}


def _events() -> list[dict[str, Any]]:
    events = stream_chunks(reasoning=["Think ", "hard."], content=["Let me ", "check."], tool_calls=CALLS,
                           finish_reason="tool_calls", final_usage=usage(completion=12, reasoning=5))
    for event in events:  # logprobs on the content events, as with logprobs=True
        choice = event["choices"][0] if event.get("choices") else None
        if choice and choice["delta"].get("content"):
            choice["logprobs"] = {"content": [dict(LOGPROB, token=choice["delta"]["content"])]}
    return events


CHUNKS = [ChatCompletionChunk.model_validate(e) for e in _events()]


@given(st.integers(min_value=0, max_value=len(CHUNKS)), st.integers(min_value=0, max_value=len(CHUNKS)))
@settings(max_examples=60, deadline=None)
def test_an_accumulator_read_at_any_point_equals_accumulate_of_what_it_was_given(first: int, second: int) -> None:
    # Read twice (a completion taken mid-stream must not change what is assembled after it).
    first, second = sorted((first, second))
    accumulator = Accumulator()
    for chunk in CHUNKS[:first]:
        accumulator.add(chunk)
    early = accumulator.completion()
    for chunk in CHUNKS[first:second]:
        accumulator.add(chunk)

    assert early.model_dump() == accumulate(CHUNKS[:first]).model_dump()
    assert accumulator.completion().model_dump() == accumulate(CHUNKS[:second]).model_dump()
    assert early.model_dump() == accumulate(CHUNKS[:first]).model_dump()  # not changed by the later chunks


def test_the_assembled_answer_has_every_part() -> None:
    accumulator = Accumulator()
    for chunk in CHUNKS:
        accumulator.add(chunk)
    message = accumulator.completion().choices[0]

    assert message.message.content == "Let me check." and message.message.reasoning == "Think hard."
    assert [c.function.arguments for c in message.message.tool_calls or []] == ['{"city": "Paris"}', "{}"]
    assert [lp.token for lp in message.logprobs.content] == ["Let me ", "check."]  # type: ignore[union-attr]


def test_a_long_llama_index_stream_keeps_none_of_its_chunks_alive() -> None:
    pytest.importorskip("llama_index.core")
    from llama_index.core.base.llms.types import ChatMessage

    from cerebras_adapters.llama_index import Cerebras

    body = sse(stream_chunks(content=[f"t{i} " for i in range(400)], final_usage=usage(completion=400)))

    def answer(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["stream"] is True
        return httpx.Response(200, headers={"content-type": "text/event-stream", **RATE_HEADERS}, content=body)

    transport = httpx.MockTransport(answer)
    llm = Cerebras(api_key="csk-test", coalesce=False, http_client=httpx.Client(transport=transport),
                   async_http_client=httpx.AsyncClient(transport=transport))

    async def alive_at_item(n: int) -> tuple[int, str]:
        seen, alive, last = 0, -1, None
        async for item in await llm.astream_chat([ChatMessage(role="user", content="count")]):
            seen += 1
            last = item
            if seen == n:
                gc.collect()
                alive = sum(isinstance(o, ChatCompletionChunk) for o in gc.get_objects())
        assert last is not None
        return alive, last.message.content or ""

    alive, text = asyncio.run(alive_at_item(300))
    assert text == "".join(f"t{i} " for i in range(400))
    assert alive < 30, alive  # the stream's last few and the first (for the response's id); it was 300+
