"""Stream coalescing (``create(..., stream=True, coalesce=True)``): the events already received in one network read
are merged into one chunk, and the stream assembles to exactly what the uncoalesced stream gives."""

from __future__ import annotations

import asyncio
import gc
import json
import time
import warnings
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cerebras_adapters import APITimeoutError, AsyncCerebrasClient, CerebrasClient, RequestValidationError, accumulate
from tests import recording
from tests.conftest import ChunkedBody
from tests.faultserver import Fault, FaultServer, text_of
from tests.wire import CHAT_ID, RATE_HEADERS, TIME_INFO, chunk, sse, stream_chunks, usage

SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", **RATE_HEADERS}
USER = [{"role": "user", "content": "hi"}]
MODEL = "gpt-oss-120b"


# -- driving the real clients over a body delivered in given pieces --------------------------------------------


class PacedBody(ChunkedBody):
    """``ChunkedBody`` whose async pieces each take one turn of the event loop to arrive, as separate network
    reads do."""

    async def __aiter__(self) -> Any:
        for piece in self.pieces:
            await asyncio.sleep(0)
            yield piece


def _handler(pieces: list[bytes], paced: bool = False):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE_HEADERS, stream=(PacedBody if paced else ChunkedBody)(pieces))

    return handler


def run_stream(
    pieces: list[bytes],
    *,
    coalesce: bool,
    mode: str = "sync",
    paced: bool = False,
    pauses: list[int] = (),  # type: ignore[assignment]
    coalesce_ms: float | None = None,
    route: str = "cerebras",
) -> tuple[list[Any], Exception | None]:
    """Iterate a stream served in ``pieces``: the chunks the consumer got, and the error that ended it (if any).
    ``paced``: each piece arrives on its own turn of the event loop (async); ``pauses``: how many turns the async
    consumer lets pass after each chunk (a slow consumer, the pieces arriving meanwhile)."""
    got: list[Any] = []
    extra = {"coalesce_ms": coalesce_ms} if coalesce_ms is not None else {}
    if mode == "sync":
        http = httpx.Client(transport=httpx.MockTransport(_handler(pieces)))
        with CerebrasClient(api_key="test-key", http_client=http, max_retries=0, route=route) as client:
            try:
                for c in client.chat.completions.create(
                    model=MODEL, messages=USER, stream=True, coalesce=coalesce, **extra
                ):
                    got.append(c)
            except Exception as exc:
                return got, exc
        return got, None

    async def main() -> Exception | None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(_handler(pieces, paced)))
        async with AsyncCerebrasClient(api_key="test-key", http_client=http, max_retries=0, route=route) as client:
            stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True, coalesce=coalesce,
                                                          **extra)
            try:
                async for c in stream:
                    got.append(c)
                    for _ in range(pauses[len(got) % len(pauses)] if pauses else 0):
                        await asyncio.sleep(0)
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


def assert_same_outcome(
    merged: list[Any],
    merged_error: Exception | None,
    plain: list[Any],
    plain_error: Exception | None,
    events: int,
    dump: Any = _dump,
) -> None:
    """A coalesced stream against the same stream read one chunk per event: the same assembled completion from no
    more chunks, and the same error (type, message, partial completion) at the same point."""
    assert dump(merged) == dump(plain)
    assert len(merged) <= len(plain) <= events
    assert type(merged_error) is type(plain_error)
    if plain_error is not None:
        assert str(merged_error) == str(plain_error)
        partial, plain_partial = getattr(merged_error, "partial", None), getattr(plain_error, "partial", None)
        assert (partial and partial.model_dump()) == (plain_partial and plain_partial.model_dump())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=streams(), cuts=st.lists(st.integers(0, 4000), max_size=12), mode=st.sampled_from(["sync", "async"]))
def test_coalesced_stream_assembles_to_exactly_the_uncoalesced_one(stream, cuts, mode):
    body, events = stream
    pieces = split_at(body, cuts)
    plain, plain_error = run_stream(pieces, coalesce=False, mode=mode)
    merged, merged_error = run_stream(pieces, coalesce=True, mode=mode)

    assert_same_outcome(merged, merged_error, plain, plain_error, events)
    for c in merged:  # ids stay those of the stream, whatever was merged into a chunk
        assert (c.id, c.model, c.created, c.request_id) == (CHAT_ID, MODEL, 1790000000, RATE_HEADERS["x-request-id"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stream=streams(),
    cuts=st.lists(st.integers(0, 4000), max_size=40),
    pauses=st.lists(st.integers(0, 4), max_size=8),
    coalesce_ms=st.sampled_from([None, None, 0.5]),
)
def test_across_reads_a_slow_consumer_gets_exactly_the_same_completion(stream, cuts, pauses, coalesce_ms):
    # Many reads (each piece on its own turn of the loop), a consumer that lets a random number of them pass
    # between chunks: chunks merge events of many reads, at random boundaries.
    body, events = stream
    pieces = split_at(body, cuts)
    plain, plain_error = run_stream(pieces, coalesce=False, mode="async", paced=True)
    merged, merged_error = run_stream(pieces, coalesce=True, mode="async", paced=True, pauses=pauses,
                                      coalesce_ms=coalesce_ms)

    assert_same_outcome(merged, merged_error, plain, plain_error, events)


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


def _odd(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(event))
    for path, value in changes.items():
        target = out
        *parents, last = path.split("__")
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[last] = value
    return out


_TOKENS = stream_chunks(content=[f"t{i} " for i in range(12)])


@pytest.mark.parametrize(
    ("odd", "route"),
    [
        (_odd(_TOKENS[5], created=None), "cerebras"),  # invalid on its own: a validation error with the partial
        (_odd(_TOKENS[5], choices__0__delta__content=5), "cerebras"),  # not text
        ("data: {not json\n\n", "cerebras"),
        (_odd(_TOKENS[5], id="chatcmpl-other"), "cerebras"),  # valid, but not the run's: merged by the model path
        (_odd(_TOKENS[5], choices__0__index=1), "cerebras"),  # a second choice
        (_odd(_TOKENS[5], provider="Groq"), "openrouter"),  # served elsewhere: a RoutingError at that event
        (_odd(_TOKENS[5], provider=7), "openrouter"),
        (_odd(_TOKENS[5], usage=None, logprobs=None), "cerebras"),  # nulls are nothing
    ],
    ids=["null-created", "int-content", "not-json", "other-id", "second-choice", "wrong-provider", "int-provider",
         "nulls"],
)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_odd_event_among_token_events_ends_or_merges_as_without_coalescing(odd, route, mode):
    # Runs of text-only events are merged as JSON (one model for the run); anything else in the run must take the
    # per-event path and give exactly what it gives without coalescing.
    tokens = [_odd(e, provider="Cerebras") for e in _TOKENS] if route == "openrouter" else _TOKENS
    body = sse([*tokens[:5], odd, *tokens[6:]])
    plain, plain_error = run_stream([body], coalesce=False, mode=mode, route=route)
    merged, error = run_stream([body], coalesce=True, mode=mode, route=route)

    assert len(merged) < len(plain)
    assert _dump(merged) == _dump(plain)
    assert type(error) is type(plain_error)
    if plain_error is not None:
        assert str(error) == str(plain_error)
        assert error.partial.model_dump() == plain_error.partial.model_dump()


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


@pytest.mark.parametrize("value", [1, "yes", 0.5])
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


# -- across reads (async): a consumer slower than the network takes every event received since its last chunk ---


class _Watch:
    """What asyncio reports behind a test's back: exceptions given to the loop's handler ("Task was destroyed but it
    is pending", "exception was never retrieved") and warnings ("coroutine ... was never awaited")."""

    def run(self, main: Any) -> Any:
        self.loop_errors: list[str] = []

        async def watched() -> Any:
            asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: self.loop_errors.append(ctx["message"]))
            return await main()

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = asyncio.run(watched())
            gc.collect()
        self.warnings = [str(w.message) for w in caught if issubclass(w.category, (RuntimeWarning, ResourceWarning))]
        assert self.loop_errors == [] and self.warnings == []
        return result


async def _consume(stream: Any, pause: float = 0.0, pauses: int = 10**9) -> list[Any]:
    got = []
    async for c in stream:
        got.append(c)
        if len(got) <= pauses and pause:
            await asyncio.sleep(pause)
    return got


def _content(chunks: list[Any]) -> str:
    return accumulate(chunks).choices[0].message.content or ""


def test_a_slow_async_consumer_gets_the_events_of_many_reads_in_one_chunk():
    # The fault server writes one HTTP chunk per event, and httpx hands over one HTTP chunk per read: merging only
    # within a read would give one chunk per event however slow the consumer is.
    with FaultServer([Fault.ok(chunks=60)]) as server:

        async def main(coalesce: bool) -> tuple[list[Any], Any]:
            async with AsyncCerebrasClient(api_key="test-key", base_url=f"{server.url}/v1", max_retries=0) as client:
                stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True,
                                                              coalesce=coalesce)
                got = await _consume(stream, pause=0.05, pauses=1)
                return got, await stream.get_final_completion()

        plain, plain_final = _Watch().run(lambda: main(False))
        merged, final = _Watch().run(lambda: main(True))

    assert len(plain) == 61  # one chunk per event
    assert len(merged) < 10  # everything the server sent while the consumer paused came as one chunk
    assert accumulate(merged).model_dump() == final.model_dump() == plain_final.model_dump()


@pytest.mark.cerebras_emulator(tokens_per_second=300)
def test_a_paced_stream_read_by_a_slow_consumer_comes_in_fewer_chunks(cerebras_emulator):
    # At 300 tokens/s the emulator writes each event on its own (3 ms apart); the consumer takes 20 ms a chunk.
    async def main(coalesce: bool) -> tuple[list[Any], int]:
        async with AsyncCerebrasClient(api_key="test-key", base_url=cerebras_emulator.base_url) as client:
            stream = await client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "Tell me about the emulator."}], stream=True,
                coalesce=coalesce, max_completion_tokens=120,
            )
            got = await _consume(stream, pause=0.02)
            return got, len(stream.chunks)

    plain, plain_events = _Watch().run(lambda: main(False))
    merged, events = _Watch().run(lambda: main(True))

    assert len(plain) == plain_events
    assert len(merged) * 3 < events
    same = {"choices": True, "usage": True, "model": True}  # two calls: their ids and timings differ
    assert accumulate(merged).model_dump(include=same) == accumulate(plain).model_dump(include=same)


@pytest.mark.cerebras_emulator(tokens_per_second=300)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_coalesce_ms_merges_for_that_long_after_the_first_event(cerebras_emulator, mode):
    # A consumer that keeps up gets about one chunk per event with coalesce=True alone; a 50 ms window at 300
    # tokens/s holds about 15 events.
    request = dict(model=MODEL, messages=[{"role": "user", "content": "Tell me about the emulator."}], stream=True,
                   max_completion_tokens=120)
    if mode == "sync":
        with CerebrasClient(api_key="test-key", base_url=cerebras_emulator.base_url) as client:
            stream = client.chat.completions.create(**request, coalesce_ms=50)
            got, events = list(stream), len(stream.chunks)
    else:

        async def main() -> tuple[list[Any], int]:
            async with AsyncCerebrasClient(api_key="test-key", base_url=cerebras_emulator.base_url) as client:
                stream = await client.chat.completions.create(**request, coalesce_ms=50)
                return await _consume(stream), len(stream.chunks)

        got, events = _Watch().run(main)
    assert len(got) * 4 < events
    assert accumulate(got).choices[0].message.content


def test_a_consumer_slower_than_the_read_timeout_is_not_cancelled():
    # The reads stay whole in the reader task: an httpx read timeout (anyio's cancel scope) never outlives its read,
    # so it cannot fire into the consumer's own awaits while the consumer holds a chunk for longer than it.
    with FaultServer([Fault.trickle(period=0.01, chunks=2)]) as server:

        async def main() -> str:
            async with AsyncCerebrasClient(
                api_key="test-key", base_url=f"{server.url}/v1", max_retries=0, timeout=httpx.Timeout(5, read=0.2)
            ) as client:
                stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True, coalesce=True)
                return _content(await _consume(stream, pause=0.4, pauses=3))

        assert _Watch().run(main) == text_of(2)


def test_the_read_timeout_still_ends_a_stalled_coalesced_stream_with_its_partial():
    with FaultServer([Fault.stall(after_chunks=3)]) as server:

        async def main() -> Exception | None:
            async with AsyncCerebrasClient(
                api_key="test-key", base_url=f"{server.url}/v1", max_retries=0, timeout=httpx.Timeout(5, read=0.3)
            ) as client:
                stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True, coalesce=True)
                try:
                    await _consume(stream)
                except APITimeoutError as exc:
                    return exc
                return None

        started = time.monotonic()
        error = _Watch().run(main)
    assert isinstance(error, APITimeoutError)
    assert error.partial.choices[0].message.content == text_of(3)
    assert time.monotonic() - started < 3  # the read timeout, not the stalled server giving up (30 s)


def test_the_deadline_still_ends_a_stalled_coalesced_stream():
    with FaultServer([Fault.stall(after_chunks=3)]) as server:

        async def main() -> Exception | None:
            async with AsyncCerebrasClient(api_key="test-key", base_url=f"{server.url}/v1", max_retries=0) as client:
                stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True, coalesce=True,
                                                              deadline=0.5)
                try:
                    await _consume(stream)
                except APITimeoutError as exc:
                    return exc
                return None

        started = time.monotonic()
        error = _Watch().run(main)
        elapsed = time.monotonic() - started
    assert isinstance(error, APITimeoutError)
    assert error.partial.choices[0].message.content == text_of(3)
    assert elapsed < 3  # the deadline, not the stalled server giving up (30 s)


def test_cancelling_the_consumer_closes_the_response_and_its_reader():
    with FaultServer([Fault.stall(after_chunks=3)]) as server:

        async def main() -> None:
            async with AsyncCerebrasClient(api_key="test-key", base_url=f"{server.url}/v1", max_retries=0) as client:
                stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True, coalesce=True)
                consumer = asyncio.ensure_future(_consume(stream))
                await asyncio.sleep(0.2)  # the consumer waits for an event that never comes
                consumer.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await consumer
                await stream.close()
                assert stream.response.is_closed
                assert asyncio.all_tasks() == {asyncio.current_task()}  # the reader task is gone too

        _Watch().run(main)


def test_a_coalesced_stream_left_half_read_leaves_no_task_or_warning_behind():
    with FaultServer([Fault.stall(after_chunks=3)]) as server:

        async def main() -> None:
            async with AsyncCerebrasClient(api_key="test-key", base_url=f"{server.url}/v1", max_retries=0) as client:
                stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True, coalesce=True)
                async for _ in stream:
                    break  # neither read to its end nor closed: dropped
                del stream
                gc.collect()

        _Watch().run(main)  # asyncio.run closes the dropped stream's generator, which cancels its reader


# -- our recorded cassettes, coalesced ------------------------------------------------------------------------


def _recorded_streams() -> list[tuple[str, bytes]]:
    found = []
    for path in sorted(recording.CASSETTES.rglob("*.yaml")):
        for n, interaction in enumerate(yaml.safe_load(path.read_text())["interactions"]):
            response = interaction["response"]
            kind = {k.lower(): v for k, v in response["headers"].items()}.get("content-type", [""])[0]
            if "text/event-stream" in kind and response["status"]["code"] == 200:
                body = response["body"]["string"]
                found.append((f"{path.relative_to(recording.CASSETTES)}#{n}", body.encode() if isinstance(body, str)
                              else body))
    return found


RECORDED = _recorded_streams()


def test_there_are_recorded_streams_to_replay():
    assert len(RECORDED) >= 20


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_every_recorded_stream_assembles_the_same_coalesced(mode):
    for name, body in RECORDED:
        events = [e + b"\n\n" for e in body.split(b"\n\n") if e.strip()]  # one HTTP chunk per event
        plain, plain_error = run_stream(events, coalesce=False, mode=mode)
        merged, error = run_stream(events, coalesce=True, mode=mode)
        assert (error, plain_error) == (None, None), name
        # async: the reader takes every event already received; sync merges within one read (one event here)
        assert len(merged) < len(plain) if mode == "async" and len(plain) > 1 else len(merged) <= len(plain), name
        assert _dump(merged) == _dump(plain), name


# -- long runs of token events, taken whole (_template_run) ---------------------------------------------------

# Any text a token may carry, escapes included: quotes, backslashes, line breaks, control and non-ASCII characters.
_token = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=4)


@st.composite
def token_streams(draw: st.DrawFn) -> tuple[bytes, int, list[int]]:
    """A long stream, mostly one-token events (reasoning, then content) as a fast model sends them, with the odd
    events a real stream may hold among them: an event that starts like a token event but carries more (two texts,
    a finish_reason), a keep-alive comment, an error; written compact or spaced, ASCII-escaped or not, with LF or
    CRLF line ends."""
    compact, ascii_only, crlf = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    events: list[dict[str, Any] | str] = [chunk({"role": "assistant"})]
    events += [chunk({"reasoning": t}) for t in draw(st.lists(_token, max_size=40))]
    events += [chunk({"content": t}) for t in draw(st.lists(_token, min_size=1, max_size=120))]
    separators = (",", ":") if compact else (", ", ": ")

    def dumps(value: Any) -> str:
        return json.dumps(value, separators=separators, ensure_ascii=ascii_only)

    odd = [
        chunk({"content": "a", "reasoning": "b"}),  # the token event's head, then more than its tail
        chunk({"content": "end"}, finish_reason="stop"),
        chunk({"content": "x"}, logprobs=None),  # an extra key that is null: still a text-only event
        ": keep-alive\n\n",
        _CEREBRAS_ERROR,
        # a token event broken by a line end after its text: its data line ends there (a malformed event)
        "data: " + dumps(chunk({"content": "q"})).replace('"q"', '"q"\n') + "\n\n",
    ]
    for _ in range(draw(st.integers(0, 3))):
        events.insert(draw(st.integers(1, len(events))), draw(st.sampled_from(odd)))
    events.append(chunk({}, finish_reason="stop", usage=usage(completion=len(events)), time_info=TIME_INFO))
    texts = [e if isinstance(e, str) else f"data: {dumps(e)}\n\n" for e in events]
    encoded = [(t.replace("\n", "\r\n") if crlf else t).encode() for t in texts]
    # Where reads may end: at the end of an event, or right after the text of a token event (its tail to come).
    cuts, at = [], 0
    for event, piece in zip(events, encoded, strict=True):
        delta = event["choices"][0]["delta"] if isinstance(event, dict) and event.get("choices") else {}
        for key, value in delta.items():
            if key != "role":
                name = (dumps({key: value})[1:-1]).encode()
                found = piece.find(name)
                if found >= 0:
                    cuts.append(at + found + len(name))
        at += len(piece)
        cuts.append(at)
    return b"".join(encoded), sum(1 for e in events if isinstance(e, dict)), cuts


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stream=token_streams(),
    data=st.data(),
    mode=st.sampled_from(["sync", "async"]),
    coalesce_ms=st.sampled_from([None, 0.5]),
)
def test_long_token_runs_assemble_exactly_as_without_coalescing(stream, data, mode, coalesce_ms):
    # Reads end mostly where events or their texts end (a server writes whole events), sometimes anywhere. With a
    # window, the reads it gathers are joined and their token events taken as runs, as one read's are.
    body, events, ends = stream
    cuts = data.draw(st.lists(st.sampled_from(ends), max_size=30)) + data.draw(st.lists(st.integers(0, len(body))))
    pieces = split_at(body, cuts)
    plain, plain_error = run_stream(pieces, coalesce=False, mode=mode)
    merged, merged_error = run_stream(
        pieces, coalesce=True, mode=mode, paced=mode == "async", coalesce_ms=coalesce_ms
    )

    assert_same_outcome(merged, merged_error, plain, plain_error, events)


def test_a_run_of_token_events_read_at_once_is_taken_whole(monkeypatch):
    # The fast path must really run on the shape it is for, and give the per-event path's answer: 300 tokens in
    # reads of 50 events, the first read teaching the template.
    from cerebras_adapters import _streaming

    taken: list[int] = []
    real = _streaming._template_run

    def counting(state: Any, raw: bytes) -> Any:
        merged, used = real(state, raw)
        if merged is not None:
            taken.append(used)
        return merged, used

    monkeypatch.setattr(_streaming, "_template_run", counting)
    tokens = [f" t{n}\"\\é" for n in range(300)]
    events = [chunk({"role": "assistant"})] + [chunk({"content": t}) for t in tokens]
    events.append(chunk({}, finish_reason="stop", usage=usage(completion=300), time_info=TIME_INFO))
    each = [sse([e]) for e in events]
    pieces = [b"".join(each[i : i + 50]) for i in range(0, len(each), 50)]
    for mode in ("sync", "async"):
        taken.clear()
        plain, _ = run_stream(pieces, coalesce=False, mode=mode)
        merged, error = run_stream(pieces, coalesce=True, mode=mode, paced=True)
        assert error is None
        assert _dump(merged) == _dump(plain)
        assert _content(merged) == "".join(tokens)
        assert len(taken) == 6, mode  # every read after the first starts with a run of token events
        assert len(merged) == 1 + 6 + 1  # the first read's chunk, one per later run, the final chunk


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    "case", ["a line end after a text", "a read ending right after a text", "a text that is not a string"]
)
def test_a_run_stops_where_its_events_stop_being_whole_token_events(case, mode):
    # The run's pieces look like JSON string literals in each case; only the per-event answer is right.
    events = [chunk({"role": "assistant"})] + [chunk({"content": f"t{n}"}) for n in range(40)]
    events.append(chunk({}, finish_reason="stop", usage=usage(completion=40), time_info=TIME_INFO))
    each = [sse([e]) for e in events]
    if case == "a line end after a text":  # its data line ends after the text: the event is malformed
        each[30] = each[30].replace(b'"t29"', b'"t29"\n')
        pieces = [b"".join(each[:10]), b"".join(each[10:])]
    elif case == "a read ending right after a text":  # the event's tail comes in the next read
        cut = each[30].index(b'"t29"') + 5
        pieces = [b"".join(each[:10]), b"".join(each[10:30]) + each[30][:cut], each[30][cut:] + b"".join(each[31:])]
    else:
        each[30] = each[30].replace(b'"t29"', b"29")
        pieces = [b"".join(each[:10]), b"".join(each[10:])]
    plain, plain_error = run_stream(pieces, coalesce=False, mode=mode)
    merged, merged_error = run_stream(pieces, coalesce=True, mode=mode, paced=True)

    assert _dump(merged) == _dump(plain)
    assert type(merged_error) is type(plain_error)
    assert str(merged_error) == str(plain_error)
    if case == "a read ending right after a text":
        assert plain_error is None and _content(merged) == "".join(f"t{n}" for n in range(40))
    else:
        assert plain_error is not None
        assert merged_error.partial.model_dump() == plain_error.partial.model_dump()


# -- coalesce_ms, the option -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, "5", True, float("nan"), float("inf")])
def test_coalesce_ms_must_be_a_positive_number_of_milliseconds(value):
    with CerebrasClient(api_key="test-key") as client, pytest.raises(RequestValidationError) as info:
        client.chat.completions.create(model=MODEL, messages=USER, stream=True, coalesce_ms=value)
    assert info.value.param == "coalesce_ms"
    assert "coalesce_ms=5" in str(info.value)


def test_coalesce_ms_with_coalescing_turned_off_is_refused():
    with CerebrasClient(api_key="test-key") as client, pytest.raises(RequestValidationError) as info:
        client.chat.completions.create(model=MODEL, messages=USER, stream=True, coalesce=False, coalesce_ms=5)
    assert info.value.param == "coalesce_ms"


def test_coalesce_ms_without_stream_is_refused_not_ignored():
    with CerebrasClient(api_key="test-key") as client, pytest.raises(RequestValidationError) as info:
        client.chat.completions.create(model=MODEL, messages=USER, coalesce_ms=5)
    assert info.value.param == "coalesce_ms"
    assert "stream=True" in str(info.value)
