"""Streaming: SSE framing as Cerebras and OpenRouter send it, and assembly into one completion."""

from __future__ import annotations

import httpx
import pytest

from cerebras_adapters import (
    APIResponseValidationError,
    InternalServerError,
    RateLimitError,
    RoutingError,
    SSEDecoder,
    StreamInterruptedError,
)
from tests.conftest import ChunkedBody
from tests.wire import RATE_HEADERS, TIME_INFO, chunk, completion, split_reads, sse, stream_chunks, tool_call, usage

SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", **RATE_HEADERS}
USER = [{"role": "user", "content": "hi"}]


def sse_handler(body: bytes, read_size: int | None = None, fail_with: Exception | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        pieces = list(split_reads(body, read_size)) if read_size else [body]
        return httpx.Response(200, headers=SSE_HEADERS, stream=ChunkedBody(pieces, fail_with))

    return handler


def test_stream_ends_at_connection_close_without_done(api):
    # Real Cerebras streams never send [DONE] (RT-12, RT-13, RT-15).
    chunks, final = api.stream(sse_handler(sse(stream_chunks())), model="gpt-oss-120b", messages=USER)
    assert len(chunks) == 5
    assert final.choices[0].message.content == "Hello."
    assert final.choices[0].finish_reason == "stop"


def test_stream_ends_at_done_and_ignores_anything_after_it(api):
    body = sse(stream_chunks(), done=True) + b'data: {"not": "read"}\n\n'
    chunks, final = api.stream(sse_handler(body), model="gpt-oss-120b", messages=USER)
    assert len(chunks) == 5
    assert final.choices[0].message.content == "Hello."


@pytest.mark.parametrize("read_size", [1, 7, 64, 1000])
def test_events_split_across_network_reads_are_reassembled(api, read_size):
    # RT-13: 81 events arrived in 17 reads; events never align with reads.
    body = sse(stream_chunks(content=["a", "b", "c", "d"]))
    chunks, final = api.stream(sse_handler(body, read_size), model="gpt-oss-120b", messages=USER)
    assert final.choices[0].message.content == "abcd"
    assert len(chunks) == 6


def test_crlf_framing_is_accepted(api):
    body = sse(stream_chunks()).replace(b"\n", b"\r\n")
    _, final = api.stream(sse_handler(body), model="gpt-oss-120b", messages=USER)
    assert final.choices[0].message.content == "Hello."


def test_an_event_cut_before_its_blank_line_is_dropped_and_reported(api):
    # SSE spec: an event not ended by a blank line when the input ends is not dispatched. Real Cerebras streams
    # end every event, the last one included, with a blank line (docs/api-facts.md#streaming).
    body = sse(stream_chunks(content=["cut ", "here"])).rstrip(b"\n")
    with pytest.raises(StreamInterruptedError) as info:
        api.stream(sse_handler(body), model="gpt-oss-120b", messages=USER)
    assert "middle of an event" in str(info.value)
    assert info.value.partial.choices[0].message.content == "cut here"
    assert info.value.partial.choices[0].finish_reason is None  # the finish chunk was the one cut


def test_usage_and_time_info_come_from_the_finish_chunk(api):
    body = sse(stream_chunks(final_usage=usage(prompt=80, completion=45, reasoning=34, cached=64)))
    chunks, final = api.stream(sse_handler(body), model="gpt-oss-120b", messages=USER)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].time_info is not None
    assert final.usage.prompt_tokens == 80
    assert final.usage.reasoning_tokens == 34
    assert final.usage.cached_tokens == 64
    assert final.time_info.total_time == TIME_INFO["total_time"]


def test_reasoning_deltas_assemble_into_message_reasoning(api):
    body = sse(stream_chunks(reasoning=["The user ", "asks 2+2."], content=["4"]))
    chunks, final = api.stream(sse_handler(body), model="gpt-oss-120b", messages=USER)
    assert [c.choices[0].delta.reasoning for c in chunks[1:3]] == ["The user ", "asks 2+2."]
    assert final.choices[0].message.reasoning == "The user asks 2+2."
    assert final.choices[0].message.content == "4"


INCREMENTAL = [  # gpt-oss: id and name first, then argument fragments without id/name (RT-13)
    {"function": {"name": "get_weather", "arguments": ""}, "type": "function", "id": "3fa9c0b12", "index": 0},
    {"function": {"arguments": '{"city": '}, "type": "function", "index": 0},
    {"function": {"arguments": '"Paris"}'}, "type": "function", "index": 0},
]
ONE_PIECE = [tool_call("3fa9c0b12", "get_weather", '{"city": "Paris"}', index=0)]  # llama/qwen/GLM (RT-15)


@pytest.mark.parametrize("deltas", [INCREMENTAL, ONE_PIECE], ids=["incremental", "one-piece"])
def test_both_tool_call_styles_assemble_to_the_non_streamed_result(api, deltas):
    non_streamed = completion(
        None, tool_calls=[tool_call("3fa9c0b12", "get_weather", '{"city": "Paris"}', index=0)],
        finish_reason="tool_calls")
    body = sse(stream_chunks(content=[], tool_calls=deltas, finish_reason="tool_calls"))
    _, final = api.stream(sse_handler(body), model="gpt-oss-120b", messages=USER)
    expected = api.create(lambda r: httpx.Response(200, json=non_streamed), model="gpt-oss-120b", messages=USER)
    assert final.choices[0].message.tool_calls == expected.choices[0].message.tool_calls
    assert final.choices[0].finish_reason == expected.choices[0].finish_reason == "tool_calls"


def test_parallel_tool_calls_are_kept_apart_by_index(api):
    deltas = [
        tool_call("a00000001", "f", '{"x": 1}', index=0),
        tool_call("b00000002", "g", '{"y": 2}', index=1),
    ]
    _, final = api.stream(sse_handler(sse(stream_chunks(content=[], tool_calls=deltas))), model="gpt-oss-120b",
                          messages=USER)
    calls = final.choices[0].message.tool_calls
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        ("a00000001", "f", '{"x": 1}'), ("b00000002", "g", '{"y": 2}')]


def test_streamed_and_non_streamed_results_are_the_same(api):
    reply = completion("It is 4.", reasoning="simple sum")
    reply["usage"] = usage(prompt=12, completion=9, reasoning=2)
    body = sse(stream_chunks(reasoning=["simple", " sum"], content=["It is", " 4."],
                             final_usage=usage(prompt=12, completion=9, reasoning=2)))
    _, streamed = api.stream(sse_handler(body), model="gpt-oss-120b", messages=USER)
    plain = api.create(lambda r: httpx.Response(200, json=reply), model="gpt-oss-120b", messages=USER)
    for field in ("id", "model", "created", "system_fingerprint", "usage", "time_info"):
        assert getattr(streamed, field) == getattr(plain, field), field
    assert streamed.choices[0].message.model_dump(exclude_none=True) == plain.choices[0].message.model_dump(
        exclude_none=True)
    assert streamed.choices[0].finish_reason == plain.choices[0].finish_reason


def test_stream_exposes_rate_limits_and_request_id(api):
    def handler(request):
        return httpx.Response(200, headers=SSE_HEADERS, content=sse(stream_chunks()))

    chunks, final = api.stream(handler, model="gpt-oss-120b", messages=USER)
    assert final.rate_limits.limit_tokens_minute == 64000
    assert final.request_id == "9a0b1c2d3e4f5061-SJC"
    assert chunks[0].rate_limits == final.rate_limits


def test_stream_request_asks_for_event_stream(api):
    api.stream(sse_handler(sse(stream_chunks())), model="gpt-oss-120b", messages=USER)
    sent = api.requests[0]
    assert sent.headers["accept"] == "text/event-stream"
    assert b'"stream":true' in sent.content


def test_unknown_chunk_fields_are_kept(api):
    events = stream_chunks()
    events[-1]["brand_new_field"] = {"a": 1}
    chunks, _ = api.stream(sse_handler(sse(events)), model="gpt-oss-120b", messages=USER)
    assert chunks[-1].model_extra["brand_new_field"] == {"a": 1}


def test_connection_dropped_mid_stream_raises_with_the_partial_text(api):
    events = stream_chunks(content=["The answer ", "is", " forty"])[:-1]  # no finish chunk
    handler = sse_handler(sse(events), fail_with=httpx.RemoteProtocolError("peer closed connection"))
    with pytest.raises(StreamInterruptedError) as info:
        api.stream(handler, model="gpt-oss-120b", messages=USER)
    assert info.value.partial.choices[0].message.content == "The answer is forty"
    assert info.value.partial.choices[0].finish_reason is None
    assert len(api.requests) == 1  # never retried once the stream has yielded


def test_malformed_chunk_raises_with_the_partial_text(api):
    body = sse(stream_chunks(content=["ok"])[:2]) + b"data: {not json\n\n"
    with pytest.raises(APIResponseValidationError) as info:
        api.stream(sse_handler(body), model="gpt-oss-120b", messages=USER)
    assert info.value.partial.choices[0].message.content == "ok"


def test_cerebras_error_event_mid_stream_raises_the_mapped_error(api):
    # SDK contract (cerebras-api.md §3): a data payload with "error" and "status_code".
    events = [*stream_chunks(content=["par", "tial"])[:3],
              {"error": {"message": "Encountered a server error, please try again.", "type": "server_error",
                         "param": "", "code": "", "id": ""}, "status_code": 500}]
    with pytest.raises(InternalServerError) as info:
        api.stream(sse_handler(sse(events)), model="gpt-oss-120b", messages=USER)
    assert info.value.partial.choices[0].message.content == "partial"
    assert info.value.code is None  # "" normalised


def test_event_error_line_raises(api):
    body = sse(stream_chunks()[:2]) + b'event: error\ndata: {"message": "boom", "type": "server_error"}\n\n'
    with pytest.raises(InternalServerError, match="boom"):
        api.stream(sse_handler(body), model="gpt-oss-120b", messages=USER)


OPENROUTER = {"route": "openrouter", "api_key": "or-test"}


def or_chunk(delta, **kw):
    return chunk(delta, model="openai/gpt-oss-120b", provider="Cerebras", **kw)


def test_openrouter_comment_lines_and_usage_only_final_chunk(api):
    events = [
        ": OPENROUTER PROCESSING\n\n",
        or_chunk({"role": "assistant", "content": ""}),
        ": OPENROUTER PROCESSING\n\n",
        or_chunk({"content": "Hi"}),
        or_chunk({}, finish_reason="stop"),
        {**or_chunk({}), "choices": [], "usage": {**usage(), "cost": 0.0000123}},
    ]
    chunks, final = api.stream(sse_handler(sse(events, done=True)), OPENROUTER, model="gpt-oss-120b",
                               messages=USER)
    assert len(chunks) == 4
    assert final.choices[0].message.content == "Hi"
    assert final.usage.cost == pytest.approx(0.0000123)
    assert final.provider == "Cerebras"


@pytest.mark.parametrize("code", [429, "server_error"])
def test_openrouter_mid_stream_error_raises_with_partial_output(api, code):
    # openrouter.md §1.4: HTTP 200, top-level error, finish_reason "error"; int or string code.
    error_chunk = {**or_chunk({"content": ""}, finish_reason="error"),
                   "error": {"code": code, "message": "Rate limit exceeded",
                             "metadata": {"error_type": "rate_limit_exceeded"}}}
    events = [or_chunk({"role": "assistant"}), or_chunk({"content": "Half an ans"}), error_chunk]
    expected = RateLimitError if code == 429 else InternalServerError
    with pytest.raises(expected) as info:
        api.stream(sse_handler(sse(events)), OPENROUTER, model="gpt-oss-120b", messages=USER)
    assert info.value.partial.choices[0].message.content == "Half an ans"
    assert info.value.type == "rate_limit_exceeded"


def test_openrouter_stream_served_elsewhere_raises_routing_error(api):
    events = [chunk({"role": "assistant"}, model="openai/gpt-oss-120b", provider="SomeOtherCloud")]
    with pytest.raises(RoutingError) as info:
        api.stream(sse_handler(sse(events)), OPENROUTER, model="gpt-oss-120b", messages=USER)
    assert info.value.provider == "SomeOtherCloud"


def test_decoder_handles_multiline_data_and_ignores_id_and_retry_fields():
    decoder = SSEDecoder()
    events = decoder.feed(b"id: 7\nretry: 10\ndata: {\"a\":\ndata: 1}\n\n: comment\n\ndata:x")
    assert events == [(None, b'{"a":\n1}')]
    assert decoder.pending
    assert decoder.flush() == []  # the unterminated event is not dispatched
    assert not decoder.pending


def test_stream_closed_cleanly_before_the_finish_chunk_raises_with_partial(api):
    # Every Cerebras stream ends with a finish chunk (RT-12, RT-13, RT-15); a clean close before it is a cut.
    events = stream_chunks(content=["cut ", "here"])[:-1]
    with pytest.raises(StreamInterruptedError) as info:
        api.stream(sse_handler(sse(events)), model="gpt-oss-120b", messages=USER)
    assert info.value.partial.choices[0].message.content == "cut here"


def test_empty_stream_raises_instead_of_returning_an_empty_completion(api):
    with pytest.raises(StreamInterruptedError) as info:
        api.stream(sse_handler(b""), model="gpt-oss-120b", messages=USER)
    assert info.value.partial is None
