"""SSEDecoder against the openai SDK's SSE decoder (written from the WHATWG event-stream spec, not by us), over random
event streams cut into random reads: the bulk path (runs of one-line ``data:`` events) and the line-by-line path must
give the events that decoder gives."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cerebras_adapters._streaming import SSEDecoder

openai_streaming = pytest.importorskip("openai._streaming")

# A field value: any text but line breaks (the spec's line ends are LF, CR LF and CR; CR alone is left out, see below).
_value = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=30)
_token_event = st.builds(
    lambda text: "data: " + json.dumps({"choices": [{"delta": {"content": text}, "index": 0}]}), _value
)


@st.composite
def event_streams(draw: st.DrawFn) -> bytes:
    """Runs of Cerebras-shaped one-line events with LF line ends (the bulk path), mixed with events of several data
    lines, ``event:`` fields, comments, ``data:`` without its space and CR LF line ends (mixed with LF ones). Every
    event has data: an event without any is dispatched by some decoders and not others (the spec leaves its data
    empty), and ``id:`` is left out because the openai decoder dispatches on it alone."""
    blocks = []
    for _ in range(draw(st.integers(0, 80))):
        kind = draw(st.sampled_from(["token"] * 6 + ["multi", "event", "comment", "nospace"]))
        if kind == "token":
            lines = [draw(_token_event)]
        elif kind == "multi":
            lines = [f"data: {v}" for v in draw(st.lists(_value, min_size=2, max_size=3))]
        elif kind == "event":
            lines = [f"event: {draw(st.sampled_from(['error', 'message', 'x']))}", f"data: {draw(_value)}"]
        elif kind == "comment":
            lines = [f": {draw(_value)}", f"data: {draw(_value)}"]
        else:
            lines = [f"data:{draw(_value)}"]
        end = draw(st.sampled_from(["\n"] * 5 + ["\r\n"]))
        blank = draw(st.sampled_from([end] * 3 + ["\n", "\r\n"]))  # now and then the other line end
        blocks.append(end.join(lines) + end + blank)
    return "".join(blocks).encode()


def _cut(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c for c in cuts if 0 < c < len(body)})
    return [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=event_streams(), cuts=st.lists(st.integers(0, 6000), max_size=10))
def test_any_reads_of_any_event_stream_decode_as_the_openai_sdk_decodes_them(body: bytes, cuts: list[int]):
    pieces = _cut(body, cuts)
    decoder = SSEDecoder()
    ours = [event for piece in pieces for event in decoder.feed(piece)]
    theirs = [(e.event, e.data.encode()) for e in openai_streaming.SSEDecoder().iter_bytes(iter(pieces))]
    assert ours == theirs
    assert not decoder.pending


def test_a_read_of_one_line_events_is_decoded_in_bulk_up_to_the_event_it_cuts():
    decoder = SSEDecoder()
    events = decoder.feed(b"data: a\n\ndata: b\n\ndata: c\n\ndata: d")
    assert events == [(None, b"a"), (None, b"b"), (None, b"c")]
    assert decoder.pending and decoder.feed(b"e\n\n") == [(None, b"de")]
    # A line break of another kind, or a field, anywhere in the read: the line-by-line path gives the same events.
    for read in (
        b"data: a\n\nevent: x\ndata: b\n\ndata: c\n\n",
        b"data: a\r\n\r\ndata: b\n\ndata: c\n\n",
        b"data: a\r\n\ndata: b\n\ndata: c\n\n",  # a CR LF line end, then an LF blank line
    ):
        bulk = SSEDecoder().feed(read)
        one = SSEDecoder()
        by_line = [event for line in read.splitlines(keepends=True) for event in one.feed(line)]
        assert [data for _, data in bulk] == [b"a", b"b", b"c"] and bulk == by_line


@pytest.mark.parametrize(
    "after", [b"data:xyz\n\n", b"event: e\ndata: xyz\n\n", b": note\ndata: xyz\n\n", b"data: xyz\r\n\r\n"]
)
def test_a_read_that_starts_inside_an_event_ends_it_then_decodes_the_rest_as_the_sdk_does(after: bytes):
    filler = b"".join(b'data: {"n":%d}\n\n' % i for i in range(100))  # the read is long enough for the bulk path
    pieces = [b'data: {"par', b'tial":1}\n\n' + after + filler]
    decoder = SSEDecoder()
    ours = [event for piece in pieces for event in decoder.feed(piece)]
    theirs = [(e.event, e.data.encode()) for e in openai_streaming.SSEDecoder().iter_bytes(iter(pieces))]
    assert ours == theirs and len(ours) == 102 and ours[1][1] == b"xyz"
