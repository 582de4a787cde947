"""Stream coalescing (``create(..., stream=True, coalesce=True)``): the events already received in one network read
are merged into one chunk, and the stream assembles to exactly what the uncoalesced stream gives."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cerebras_adapters import AsyncCerebrasClient, CerebrasClient, RequestValidationError, accumulate
from tests.conftest import ChunkedBody
from tests.wire import CHAT_ID, RATE_HEADERS, TIME_INFO, chunk, sse, stream_chunks, usage

SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", **RATE_HEADERS}
USER = [{"role": "user", "content": "hi"}]
MODEL = "gpt-oss-120b"


# -- driving the real clients over a body delivered in given pieces --------------------------------------------


def _handler(pieces: list[bytes]):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE_HEADERS, stream=ChunkedBody(pieces))

    return handler


def run_stream(pieces: list[bytes], *, coalesce: bool, mode: str = "sync") -> tuple[list[Any], Exception | None]:
    """Iterate a stream served in ``pieces``: the chunks the consumer got, and the error that ended it (if any)."""
    got: list[Any] = []
    if mode == "sync":
        http = httpx.Client(transport=httpx.MockTransport(_handler(pieces)))
        with CerebrasClient(api_key="test-key", http_client=http, max_retries=0) as client:
            try:
                for c in client.chat.completions.create(model=MODEL, messages=USER, stream=True, coalesce=coalesce):
                    got.append(c)
            except Exception as exc:
                return got, exc
        return got, None

    async def main() -> Exception | None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(_handler(pieces)))
        async with AsyncCerebrasClient(api_key="test-key", http_client=http, max_retries=0) as client:
            stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True, coalesce=coalesce)
            try:
                async for c in stream:
                    got.append(c)
            except Exception as exc:
                return exc
        return None

    return got, asyncio.run(main())


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c for c in cuts if 0 < c < len(body)})
    return [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]


# -- real-shaped random streams --------------------------------------------------------------------------------

_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=6)
_CEREBRAS_ERROR = {
    "error": {"message": "Encountered a server error, please try again.", "type": "server_error", "param": "",
              "code": "", "id": ""},
    "status_code": 500,
}
_OPENROUTER_ERROR = {
    **chunk({"content": ""}, finish_reason="error"),
    "error": {"code": 429, "message": "Rate limit exceeded", "metadata": {"error_type": "rate_limit_exceeded"}},
}
_EVENT_ERROR_LINE = 'event: error\ndata: {"message": "boom", "type": "server_error"}\n\n'


def _logprob(token: str) -> dict[str, Any]:
    return {"token": token, "logprob": -0.25, "bytes": list(token.encode()), "top_logprobs": []}


@st.composite
def tool_call_events(draw: st.DrawFn, index: int) -> list[dict[str, Any]]:
    call_id = f"{index:x}a1b2c3d4"[:9]
    name = draw(st.sampled_from(["get_weather", "search", "add"]))
    args = draw(st.lists(_text, min_size=1, max_size=4))
    if draw(st.booleans()):  # one piece (llama / qwen / GLM)
        call = {"index": index, "id": call_id, "type": "function", "function": {"name": name,
                                                                              "arguments": "".join(args)}}
        return [chunk({"tool_calls": [call]})]
    # incremental (gpt-oss): id and name on the first fragment, then argument fragments
    head = {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
    return [chunk({"tool_calls": [head]})] + [
        chunk({"tool_calls": [{"index": index, "function": {"arguments": a}}]}) for a in args
    ]


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, int]:
    """An SSE body shaped like Cerebras' (or OpenRouter's) streams, and how many data events it carries."""
    events: list[dict[str, Any] | str] = [chunk({"role": "assistant"})]
    for piece in draw(st.lists(_text, max_size=6)):
        events.append(chunk({"reasoning": piece}))
    with_logprobs = draw(st.booleans())
    for piece in draw(st.lists(_text, max_size=8)):
        event = chunk({"content": piece})
        if with_logprobs:
            event["choices"][0]["logprobs"] = {"content": [_logprob(piece)]}
        events.append(event)
    for n in range(draw(st.integers(0, 2))):  # OpenRouter: reasoning details and web citations in deltas
        events.append(chunk({"reasoning_details": [{"type": "reasoning.text", "text": f"step {n}"}]}))
        events.append(chunk({"annotations": [
            {"type": "url_citation", "url_citation": {"url": f"https://example.com/{n}", "title": f"page {n}"}}
        ]}))
    calls = draw(st.integers(0, 2))
    if calls and draw(st.booleans()):  # parallel one-piece calls in one delta, keyed by position (no index)
        events.append(chunk({"tool_calls": [
            {"id": f"{i}b2c3d4e5f", "type": "function", "function": {"name": "add", "arguments": draw(_text)}}
            for i in range(calls)
        ]}))
    else:
        for index in range(calls):
            events.extend(draw(tool_call_events(index)))
    finish = "tool_calls" if calls else "stop"
    if draw(st.booleans()):  # Cerebras: the finish chunk carries usage and time_info
        events.append(chunk({}, finish_reason=finish, usage=usage(completion=len(events)), time_info=TIME_INFO))
    else:  # OpenRouter: a usage-only chunk with no choices after the finish chunk
        events.append(chunk({}, finish_reason=finish))
        events.append({**chunk({}), "choices": [], "usage": {**usage(completion=len(events)), "cost": 0.0001}})
    if draw(st.booleans()):  # keep-alive comments anywhere but first
        at = draw(st.integers(1, len(events)))
        events.insert(at, ": OPENROUTER PROCESSING\n\n")
    error = draw(st.sampled_from([None, None, _CEREBRAS_ERROR, _OPENROUTER_ERROR, _EVENT_ERROR_LINE]))
    if error is not None:
        at = draw(st.integers(1, len(events) - 1))
        events = [*events[:at], error]
    body = sse(events, done=error is None and draw(st.booleans()))
    return body, sum(1 for e in events if isinstance(e, dict))


def _dump(chunks: list[Any]) -> dict[str, Any]:
    return accumulate(chunks).model_dump()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=streams(), cuts=st.lists(st.integers(0, 4000), max_size=12), mode=st.sampled_from(["sync", "async"]))
def test_coalesced_stream_assembles_to_exactly_the_uncoalesced_one(stream, cuts, mode):
    body, events = stream
    pieces = split_at(body, cuts)
    plain, plain_error = run_stream(pieces, coalesce=False, mode=mode)
    merged, merged_error = run_stream(pieces, coalesce=True, mode=mode)

    assert _dump(merged) == _dump(plain)
    assert len(merged) <= len(plain) <= events
    assert type(merged_error) is type(plain_error)
    if plain_error is not None:
        assert str(merged_error) == str(plain_error)
        partial, plain_partial = getattr(merged_error, "partial", None), getattr(plain_error, "partial", None)
        assert (partial and partial.model_dump()) == (plain_partial and plain_partial.model_dump())
    for c in merged:  # ids stay those of the stream, whatever was merged into a chunk
        assert (c.id, c.model, c.created, c.request_id) == (CHAT_ID, MODEL, 1790000000, RATE_HEADERS["x-request-id"])


# -- what a merged chunk looks like ----------------------------------------------------------------------------


def test_events_received_in_one_read_become_one_chunk():
    calls = [
        {"index": 0, "id": "0a1b2c3d4", "type": "function", "function": {"name": "add", "arguments": ""}},
        {"index": 0, "function": {"arguments": '{"a": '}},
        {"index": 0, "function": {"arguments": "1}"}},
        {"index": 1, "id": "1a1b2c3d4", "type": "function", "function": {"name": "search", "arguments": "{}"}},
    ]
    events = stream_chunks(reasoning=["Let me ", "add."], content=["Sure", "."],
                           tool_calls=calls, finish_reason="tool_calls", final_usage=usage(completion=9))
    got, error = run_stream([sse(events)], coalesce=True)

    assert error is None
    [one] = got
    delta = one.choices[0].delta
    assert (delta.role, delta.reasoning, delta.content) == ("assistant", "Let me add.", "Sure.")
    assert [(t.index, t.id, t.type, t.function.name, t.function.arguments) for t in delta.tool_calls] == [
        (0, "0a1b2c3d4", "function", "add", '{"a": 1}'),
        (1, "1a1b2c3d4", "function", "search", "{}"),
    ]
    assert one.choices[0].finish_reason == "tool_calls"
    assert one.usage.completion_tokens == 9
    assert one.time_info.total_time == TIME_INFO["total_time"]
    assert one.rate_limits.limit_tokens_minute == 64000


def test_coalescing_is_off_by_default_one_chunk_per_event():
    events = stream_chunks(content=["a", "b", "c"])
    got, error = run_stream([sse(events)], coalesce=False)
    assert error is None
    assert len(got) == len(events)


def test_an_error_event_raises_after_the_merged_chunks_before_it():
    events = [*stream_chunks(content=["par", "tial"])[:3], _CEREBRAS_ERROR, *stream_chunks()[1:]]
    got, error = run_stream([sse(events)], coalesce=True)

    assert [c.choices[0].delta.content for c in got] == ["partial"]
    assert type(error).__name__ == "InternalServerError"
    assert error.partial.choices[0].message.content == "partial"


def test_the_chunks_of_a_coalesced_stream_still_list_every_event():
    events = stream_chunks(content=["a", "b", "c"])
    http = httpx.Client(transport=httpx.MockTransport(_handler([sse(events)])))
    with CerebrasClient(api_key="test-key", http_client=http) as client:
        stream = client.chat.completions.create(model=MODEL, messages=USER, stream=True, coalesce=True)
        assert len(list(stream)) == 1
        assert len(stream.chunks) == len(events)  # the events as received, for get_final_completion() and partials
        assert stream.get_final_completion().choices[0].message.content == "abc"


# -- the option ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1, "yes", None])
def test_coalesce_must_be_a_bool(value):
    with CerebrasClient(api_key="test-key") as client, pytest.raises(RequestValidationError) as info:
        client.chat.completions.create(model=MODEL, messages=USER, stream=True, coalesce=value)
    assert info.value.param == "coalesce"
    assert "coalesce=True" in str(info.value)


def test_coalesce_without_stream_is_refused_not_ignored():
    async def main() -> None:
        async with AsyncCerebrasClient(api_key="test-key") as client:
            await client.chat.completions.create(model=MODEL, messages=USER, coalesce=True)

    with pytest.raises(RequestValidationError) as info:
        asyncio.run(main())
    assert info.value.param == "coalesce"
    assert "stream=True" in str(info.value)


def test_coalesce_is_never_sent_on_the_wire():
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, headers=SSE_HEADERS, stream=ChunkedBody([sse(stream_chunks())]))

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with CerebrasClient(api_key="test-key", http_client=http) as client:
        client.chat.completions.create(model=MODEL, messages=USER, stream=True, coalesce=True).get_final_completion()
    assert "coalesce" not in seen[0]


# -- against the emulator: a stream at Cerebras speed gets fewer, bigger chunks ----------------------------------


def _read(base_url: str, coalesce: bool) -> tuple[int, int, Any, Any]:
    with CerebrasClient(api_key="test-key", base_url=base_url) as client:
        stream = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Tell me about the emulator."}], stream=True,
            coalesce=coalesce,
        )
        got = list(stream)
        final = stream.get_final_completion()
        return len(got), len(stream.chunks), accumulate(got), final


@pytest.mark.cerebras_emulator(tokens_per_second=3000)
def test_a_stream_at_cerebras_speed_gets_fewer_chunks_and_the_same_completion(cerebras_emulator):
    # Paced at 3000 tokens/s, the emulator (like Cerebras, docs/api-facts.md#streaming) writes the events due in
    # the same millisecond together, so one network read brings several of them.
    plain_count, plain_events, plain_assembled, plain_final = _read(cerebras_emulator.base_url, False)
    count, events, assembled, final = _read(cerebras_emulator.base_url, True)

    assert plain_count == plain_events  # one chunk per event without coalescing
    assert count < events  # events of one read were merged
    assert assembled.model_dump() == final.model_dump()  # merged chunks assemble to the events' completion
    assert plain_assembled.model_dump() == plain_final.model_dump()
    assert final.choices[0].message.content == plain_final.choices[0].message.content
    assert final.choices[0].message.reasoning == plain_final.choices[0].message.reasoning
    assert final.usage == plain_final.usage
