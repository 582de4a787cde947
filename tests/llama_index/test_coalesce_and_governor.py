"""The LlamaIndex ``Cerebras`` LLM with stream coalescing (``coalesce``/``coalesce_ms``, fields and per-call
arguments) and a ``RateLimitGovernor`` (``rate_limiter``), as ``ChatCerebras`` and the LiteLLM provider have them:
fewer stream items that end in the same response, options never sent, bad values refused naming them, and a
governor that paces a concurrent workload against the emulator's quota with no 429 where the same workload without
it draws 429s."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pydantic
import pytest
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole

from cerebras_adapters import RateLimitError, RequestValidationError
from cerebras_adapters.governor import RateLimitGovernor
from cerebras_adapters.llama_index import Cerebras
from cerebras_adapters.llama_index.llms import GovernorRateLimiter
from tests.test_coalesce import PacedBody
from tests.wire import RATE_HEADERS, completion, sse, stream_chunks, usage

CALLS = [
    {"index": 0, "id": "0a1b2c3d4", "type": "function", "function": {"name": "get_weather", "arguments": ""}},
    {"index": 0, "function": {"arguments": '{"city": '}},
    {"index": 0, "function": {"arguments": '"Paris"}'}},
    {"index": 1, "id": "1a1b2c3d4", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
]
EVENTS = stream_chunks(
    reasoning=["The user ", "asks about ", "Paris."],
    content=["Let me ", "check."],
    tool_calls=CALLS,
    finish_reason="tool_calls",
    final_usage=usage(completion=12, reasoning=5),
)
ASK = [ChatMessage(role=MessageRole.USER, content="Weather and time in Paris?")]


class Server:
    """Streams ``EVENTS``, one network read per event (async: each on its own turn of the loop), or the whole body
    in one read (``one_read``); answers a call that does not stream with a plain completion. Records bodies."""

    def __init__(self, one_read: bool = False) -> None:
        self.one_read = one_read
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        if not body.get("stream"):
            return httpx.Response(200, json=completion("hi"), headers=RATE_HEADERS)
        headers = {"content-type": "text/event-stream", **RATE_HEADERS}
        if self.one_read:
            return httpx.Response(200, headers=headers, content=sse(EVENTS))
        return httpx.Response(200, headers=headers, stream=PacedBody([sse([e]) for e in EVENTS]))


def llm(server: Server, **fields: Any) -> Cerebras:
    transport = httpx.MockTransport(server)
    return Cerebras(
        api_key="csk-test",
        max_retries=0,
        http_client=httpx.Client(transport=transport),
        async_http_client=httpx.AsyncClient(transport=transport),
        **fields,
    )


async def astream(model: Cerebras, pause_turns: int = 0, **kwargs: Any) -> list[ChatResponse]:
    items = []
    async for item in await model.astream_chat(ASK, **kwargs):
        items.append(item)
        for _ in range(pause_turns):  # a consumer slower than the network
            await asyncio.sleep(0)
    return items


def ending(items: list[ChatResponse]) -> dict[str, Any]:
    """What a stream ends in: the last item's message and extras, and the text its deltas add up to."""
    last = items[-1]
    return {
        "message": last.message.model_dump(),
        "additional_kwargs": last.additional_kwargs,
        "deltas": "".join(item.delta or "" for item in items),
    }


def test_a_slow_async_consumer_gets_fewer_items_that_end_in_the_same_response() -> None:
    plain = asyncio.run(astream(llm(Server()), pause_turns=4, coalesce=False))
    merged = asyncio.run(astream(llm(Server()), pause_turns=4))  # coalescing is on by default

    assert len(merged) < len(plain)  # 5 against 10 here
    assert ending(merged) == ending(plain)
    assert ending(plain)["message"]["additional_kwargs"]["tool_calls"][0]["function"]["arguments"] == (
        '{"city": "Paris"}'
    )
    assert ending(plain)["deltas"] == "Let me check."


def test_the_coalesce_field_turned_off_gives_one_item_per_event_and_a_window_merges_them_all() -> None:
    off = asyncio.run(astream(llm(Server(), coalesce=False)))
    windowed = asyncio.run(astream(llm(Server(), coalesce_ms=50)))

    assert len(windowed) <= 3 < len(off)
    assert ending(windowed) == ending(off)


def test_a_sync_stream_merges_the_events_of_one_read() -> None:
    model = llm(Server(one_read=True))
    merged = list(model.stream_chat(ASK))
    plain = list(model.stream_chat(ASK, coalesce=False))

    assert len(merged) == 2 < len(plain)  # one item for the whole read, then the final response
    assert ending(merged) == ending(plain)


def test_coalescing_options_are_never_sent_and_a_call_that_does_not_stream_takes_them() -> None:
    server = Server()
    model = llm(server, coalesce_ms=5)
    asyncio.run(astream(model, coalesce=True))
    list(model.stream_chat(ASK, coalesce=False))
    assert model.chat(ASK, coalesce=False).message.content == "hi"
    assert model.complete("hi", coalesce_ms=2).text == "hi"

    assert len(server.bodies) == 4
    assert all("coalesce" not in body and "coalesce_ms" not in body for body in server.bodies)


@pytest.mark.parametrize("value", [0, -2, float("inf")])
def test_a_bad_coalesce_ms_field_is_refused_when_the_llm_is_made(value: float) -> None:
    with pytest.raises(RequestValidationError) as info:
        Cerebras(api_key="csk-test", coalesce_ms=value)
    assert info.value.param == "coalesce_ms"


def test_coalesce_must_be_a_bool_and_a_window_needs_coalescing_on() -> None:
    with pytest.raises(pydantic.ValidationError, match="coalesce"):
        Cerebras(api_key="csk-test", coalesce="yes")
    with pytest.raises(RequestValidationError) as info:
        Cerebras(api_key="csk-test", coalesce=False, coalesce_ms=5)
    assert info.value.param == "coalesce_ms"


def test_a_bad_per_call_value_is_refused_naming_it_streamed_or_not() -> None:
    with pytest.raises(RequestValidationError) as info:
        asyncio.run(astream(llm(Server()), coalesce_ms=-1))
    assert info.value.param == "coalesce_ms"
    with pytest.raises(RequestValidationError) as info:
        llm(Server()).chat(ASK, coalesce="no")
    assert info.value.param == "coalesce"


# -- rate_limiter: a RateLimitGovernor ------------------------------------------------------------------------------

KEY = "csk-" + "llamaindex0governor0key"  # assembled: no secret-shaped literal in tracked files
MODEL = "gpt-oss-120b"
SCALE = 20.0  # the emulator's and the governor's "minute" lasts 3 s (as in tests/langchain/test_rate_limiter.py)
TPM = 4000
CALLS_AT_ONCE = 12
REPLY_TOKENS = 800  # reserved (max_completion_tokens) and used: 12 calls need ~2.5 windows of tokens


@pytest.fixture
def quota(cerebras_emulator: Any) -> Any:
    cerebras_emulator.configure(tokens_per_minute=TPM, requests_per_day=None, time_scale=SCALE, tokens_per_second=40000)
    return cerebras_emulator


def _refused(emulator: Any) -> int:
    quotas = httpx.get(f"{emulator.url}/_emulator/stats").json()["quotas"]
    return sum(q["rate_limited"] for q in quotas if q["model"] == MODEL)


def _quota_llm(emulator: Any, **fields: Any) -> Cerebras:
    return Cerebras(
        model=MODEL,
        api_key=KEY,
        api_base=emulator.base_url,
        max_retries=0,
        max_completion_tokens=REPLY_TOKENS,
        extra_headers={"x-emulator-reply-tokens": str(REPLY_TOKENS)},
        **fields,
    )


def _workload(model: Cerebras, mode: str) -> list[Any]:
    """``CALLS_AT_ONCE`` concurrent async calls: each result is the answer's text, or the exception it raised."""

    async def one(i: int) -> Any:
        ask = [ChatMessage(role=MessageRole.USER, content=f"question {i}")]
        try:
            if mode == "achat":
                return (await model.achat(ask)).message.content
            items = [item async for item in await model.astream_chat(ask)]
            return items[-1].message.content
        except Exception as exc:
            return exc

    async def run() -> list[Any]:
        return list(await asyncio.gather(*(one(i) for i in range(CALLS_AT_ONCE))))

    return asyncio.run(run())


def test_without_a_governor_the_concurrent_workload_draws_429s(quota: Any) -> None:
    results = _workload(_quota_llm(quota), "achat")

    assert _refused(quota) > 0
    assert any(isinstance(r, RateLimitError) for r in results)


@pytest.mark.parametrize("mode", ["achat", "astream_chat"])
def test_a_governor_paces_the_same_workload_with_no_429(quota: Any, mode: str, clock_watch: Any) -> None:
    governor = RateLimitGovernor(time_scale=SCALE)
    model = _quota_llm(quota, rate_limiter=governor)

    results = _workload(model, mode)

    assert [r for r in results if not isinstance(r, str)] == [], (governor.stats, str(clock_watch))
    assert all(results), results
    assert _refused(quota) == 0
    assert governor.stats.reservations == CALLS_AT_ONCE
    assert governor.stats.waits > 0  # the workload needed more than the quota held: the governor made callers wait


def test_the_governor_reaches_both_core_clients_and_llama_index_call_level_limiting_admits_at_once() -> None:
    governor = RateLimitGovernor()
    model = Cerebras(api_key="csk-test", rate_limiter=governor)

    async def async_client_governor() -> Any:
        assert await model.rate_limiter.async_acquire() is None
        return model.async_client.rate_limiter

    assert isinstance(model.rate_limiter, GovernorRateLimiter)
    assert model.rate_limiter.governor is governor
    assert model.client.rate_limiter is governor
    assert asyncio.run(async_client_governor()) is governor
    assert model.rate_limiter.acquire() is None
    assert "rate_limiter" not in model.to_dict()


def test_llama_index_own_limiter_still_paces_calls_by_itself() -> None:
    limiters = pytest.importorskip("llama_index.core.rate_limiter")  # llama-index-core >= 0.14.x
    limiter = limiters.TokenBucketRateLimiter(requests_per_minute=600)  # 10 per second, a bucket of 600
    model = llm(Server(), rate_limiter=limiter)
    for _ in range(600):  # empty the bucket: from here on, one call per 0.1 s
        limiter.acquire()

    assert model.rate_limiter is limiter
    assert model.client.rate_limiter is None  # not a governor: the core clients pace nothing
    started = time.monotonic()
    answers = [model.chat(ASK).message.content for _ in range(3)]
    elapsed = time.monotonic() - started

    assert answers == ["hi"] * 3
    assert elapsed >= 0.25, elapsed


@pytest.mark.parametrize("value", ["redis://localhost:6379/0", 5, object()])
def test_a_rate_limiter_of_another_type_is_refused_naming_it(value: Any) -> None:
    with pytest.raises(RequestValidationError) as caught:
        Cerebras(api_key="csk-test", rate_limiter=value)

    assert caught.value.param == "rate_limiter"
    assert "RateLimitGovernor" in str(caught.value)


def test_the_wrapper_itself_takes_only_a_governor() -> None:
    with pytest.raises(RequestValidationError) as caught:
        GovernorRateLimiter(5)  # type: ignore[arg-type]

    assert caught.value.param == "rate_limiter"
    assert "Cerebras(rate_limiter=RateLimitGovernor())" in str(caught.value)
