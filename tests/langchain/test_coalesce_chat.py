"""ChatCerebras with stream coalescing (``coalesce``/``coalesce_ms``, fields and per-call arguments): fewer chunks,
the same message once added up, never sent on the wire, bad values refused naming them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pydantic
import pytest

from cerebras_adapters import RequestValidationError
from cerebras_adapters.langchain import ChatCerebras
from tests.test_coalesce import PacedBody
from tests.wire import RATE_HEADERS, sse, stream_chunks, usage

CALLS = [
    {"index": 0, "id": "0a1b2c3d4", "type": "function", "function": {"name": "get_weather", "arguments": ""}},
    {"index": 0, "function": {"arguments": '{"city": '}},
    {"index": 0, "function": {"arguments": '"Paris"}'}},
    {"index": 1, "id": "1a1b2c3d4", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
]
EVENTS = stream_chunks(reasoning=["The user ", "asks about ", "Paris."], content=["Let me ", "check."],
                       tool_calls=CALLS, finish_reason="tool_calls", final_usage=usage(completion=12, reasoning=5))


class Server:
    """Streams ``EVENTS``, one network read per event (each on its own turn of the loop), recording bodies."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        pieces = [sse([e]) for e in EVENTS]
        return httpx.Response(200, headers={"content-type": "text/event-stream", **RATE_HEADERS},
                              stream=PacedBody(pieces))


def model(server: Server, **kwargs: Any) -> ChatCerebras:
    transport = httpx.MockTransport(server)
    return ChatCerebras(api_key="test-key", max_retries=0, http_client=httpx.Client(transport=transport),
                        http_async_client=httpx.AsyncClient(transport=transport), **kwargs)


async def astream(llm: ChatCerebras, pause_turns: int = 0, **kwargs: Any) -> list[Any]:
    chunks = []
    async for c in llm.astream("Weather and time in Paris?", **kwargs):
        chunks.append(c)
        for _ in range(pause_turns):  # a consumer slower than the network
            await asyncio.sleep(0)
    return chunks


def added_up(chunks: list[Any]) -> dict[str, Any]:
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    return {
        "content": total.content,
        "reasoning": total.additional_kwargs.get("reasoning_content"),
        "tool_calls": total.tool_calls,
        "invalid_tool_calls": total.invalid_tool_calls,
        "usage": total.usage_metadata,
        "metadata": {k: v for k, v in total.response_metadata.items() if k != "model_provider"},
        "blocks": [b for b in total.content_blocks if b.get("type") != "tool_call_chunk"],
    }


def test_a_slow_astream_consumer_gets_fewer_chunks_that_add_up_to_the_same_message():
    plain = asyncio.run(astream(model(Server()), pause_turns=4, coalesce=False))
    merged = asyncio.run(astream(model(Server()), pause_turns=4))  # coalescing is on by default

    assert len(plain) == len(EVENTS)  # one per event but the role-only one, then the stream's tail
    assert len(merged) < len(plain) / 2
    assert added_up(merged) == added_up(plain)
    assert added_up(merged)["tool_calls"] == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "0a1b2c3d4", "type": "tool_call"},
        {"name": "get_time", "args": {}, "id": "1a1b2c3d4", "type": "tool_call"},
    ]


def test_coalesce_ms_and_the_field_turned_off_give_the_same_message():
    windowed = asyncio.run(astream(model(Server(), coalesce_ms=50)))
    off = asyncio.run(astream(model(Server(), coalesce=False)))

    assert len(windowed) <= 3 and len(off) == len(EVENTS)
    assert added_up(windowed) == added_up(off)


def test_sync_stream_merges_the_events_of_one_read():
    whole = Server()
    whole_body = sse(EVENTS)

    def one_read(request: httpx.Request) -> httpx.Response:
        whole(request)
        return httpx.Response(200, headers={"content-type": "text/event-stream", **RATE_HEADERS}, content=whole_body)

    transport = httpx.MockTransport(one_read)
    llm = ChatCerebras(api_key="test-key", http_client=httpx.Client(transport=transport))
    merged = list(llm.stream("Weather and time in Paris?"))
    plain = list(llm.stream("Weather and time in Paris?", coalesce=False))

    assert len(merged) == 2 and len(plain) == len(EVENTS)
    assert added_up(merged) == added_up(plain)


def test_coalescing_options_are_never_sent():
    server = Server()
    llm = model(server, coalesce_ms=5)
    asyncio.run(astream(llm, coalesce=True))
    list(llm.stream("hi", coalesce=False))
    assert all("coalesce" not in body and "coalesce_ms" not in body for body in server.bodies)


def test_a_bound_coalesce_option_is_not_refused_by_a_call_that_is_not_streamed():
    requests: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(json.loads(request.content))
        return httpx.Response(200, json={
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-oss-120b",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": usage(),
        }, headers=RATE_HEADERS)

    llm = ChatCerebras(api_key="test-key", http_client=httpx.Client(transport=httpx.MockTransport(answer)))
    assert llm.bind(coalesce=False, coalesce_ms=None).invoke("hi").content == "hi"
    assert "coalesce" not in requests[0]


@pytest.mark.parametrize("value", [0, -2, float("inf")])
def test_a_bad_coalesce_ms_field_is_refused_when_the_model_is_made(value):
    with pytest.raises(RequestValidationError) as info:
        ChatCerebras(api_key="test-key", coalesce_ms=value)
    assert info.value.param == "coalesce_ms"


def test_coalesce_must_be_a_bool_not_something_that_looks_like_one():
    with pytest.raises(pydantic.ValidationError, match="coalesce"):
        ChatCerebras(api_key="test-key", coalesce="yes")


def test_a_bad_per_call_value_is_refused_naming_it():
    with pytest.raises(RequestValidationError) as info:
        asyncio.run(astream(model(Server()), coalesce_ms=-1))
    assert info.value.param == "coalesce_ms"
    with pytest.raises(RequestValidationError) as info:
        list(model(Server()).stream("hi", coalesce="no"))
    assert info.value.param == "coalesce"
