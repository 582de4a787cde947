"""The bulk reader of chunked bodies below httpx (``cerebras_adapters._body``), checked against the outside world:
h11 (httpcore's own parser) as the oracle of RFC 9112's chunked framing, and a real uvicorn server streaming over
keep-alive connections that httpcore must be able to reuse afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import h11
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cerebras_adapters import AsyncCerebrasClient, CerebrasClient, StreamInterruptedError
from cerebras_adapters._body import _Dechunker, _Malformed, _whole_chunks, aiter_body, iter_body
from tests.wire import TIME_INFO, chunk, sse, stream_chunks, usage

# -- the decoder against h11 ---------------------------------------------------------------------------------

_HEAD = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"


def _h11_after_head() -> h11.Connection:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="POST", target="/", headers=[("host", "x"), ("content-length", "0")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(_HEAD)
    assert type(conn.next_event()) is h11.Response
    return conn


def _h11_body(conn: h11.Connection) -> tuple[bytes, bool]:
    """The data h11 yields from what it holds, and whether it reached the body's end."""
    data = []
    while True:
        event = conn.next_event()
        if type(event) is h11.Data:
            data.append(bytes(event.data))
            continue
        return b"".join(data), type(event) is h11.EndOfMessage


@st.composite
def chunked_bodies(draw: st.DrawFn) -> tuple[bytes, bytes, bytes]:
    """A payload and a valid chunked encoding of it: random chunk sizes, upper/lower hex, leading zeros,
    extensions, trailing whitespace, trailer fields."""
    pieces = draw(st.lists(st.binary(min_size=1, max_size=300), max_size=12))
    wire = []
    for piece in pieces:
        size = format(len(piece), draw(st.sampled_from(["x", "X"])))
        size = "0" * draw(st.integers(0, 2)) + size
        ext = draw(st.sampled_from(["", ";a=1", ';name="v;x"', ";e"]))
        ows = draw(st.sampled_from(["", " ", "\t"]))
        wire.append(f"{size}{ext}{ows}\r\n".encode() + piece + b"\r\n")
    trailer = draw(st.sampled_from([b"", b"x-trailer: 1\r\n", b"a: b\r\nc: d\r\n"]))
    wire.append(b"0\r\n" + trailer + b"\r\n")
    return b"".join(pieces), b"".join(wire), trailer


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=chunked_bodies(), data=st.data())
def test_any_split_of_a_chunked_body_decodes_to_what_h11_decodes(body: tuple[bytes, ...], data: st.DataObject):
    payload, wire, _ = body
    cuts = [0, *sorted(set(data.draw(st.lists(st.integers(0, len(wire)), max_size=8)))), len(wire)]
    decoder = _Dechunker()
    out = []
    rest = b""
    for start, stop in itertools.pairwise(cuts):
        assert not decoder.done
        got, rest = decoder.feed(wire[start:stop])
        out.append(got)
        if decoder.done:
            break
    assert decoder.done and rest == b""
    assert b"".join(out) == payload
    conn = _h11_after_head()
    conn.receive_data(wire)
    assert _h11_body(conn) == (payload, True)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=chunked_bodies(), data=st.data())
def test_the_completion_of_any_prefix_ends_the_body_for_h11(body: tuple[bytes, ...], data: st.DataObject):
    # What _body does at the end of a stream: h11 holds the prefix it had unparsed when the body was taken over,
    # and the completion computed after that prefix must bring it to EndOfMessage with the same data first, and
    # leave nothing behind in h11's buffer (that would be read as the next response on the connection).
    _, wire, trailer = body
    cut = data.draw(st.integers(0, len(wire)))
    prefix = wire[:cut]
    decoder = _Dechunker()
    got, _ = decoder.feed(prefix)
    completion = decoder.completion()
    if completion is None:  # only a trailer field cut in two: the connection is closed instead of reused
        trailer_at = len(wire) - len(trailer) - 2
        assert trailer and trailer_at < cut < len(wire) - 1 and not prefix.endswith(b"\r\n"), prefix[-20:]
        return
    conn = _h11_after_head()
    conn.receive_data(prefix + completion)
    decoded, ended = _h11_body(conn)
    assert ended
    assert decoded.startswith(got)
    assert set(decoded[len(got):]) <= {0}  # only the filler of a chunk h11 held in part
    assert conn.their_state is h11.DONE
    assert conn.trailing_data == (b"", False)


# Pieces as an SSE stream has them, and ones made to confuse a decoder that splits on CRLF: CRLF inside the data,
# lines that look like chunk sizes, an empty line, a last-chunk lookalike.
_TRICKY = [b"data: {\"a\":\"x\"}\n\n", b"\r\n", b"1a", b"0", b"\r\n0\r\n\r\n", b"ff\r\n", b"x" * 40, b"\n"]


@st.composite
def plain_chunked_bodies(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """Many chunks with plain hex sizes (the bulk path of ``_whole_chunks``), now and then one with an extension or
    whitespace, and data that now and then holds a CRLF or a line that looks like a size."""
    pieces = draw(
        st.lists(
            st.lists(st.sampled_from(_TRICKY), min_size=1, max_size=4).map(b"".join)
            | st.binary(min_size=1, max_size=80),
            min_size=1,
            max_size=80,
        )
    )
    wire = []
    for piece in pieces:
        size = "0" * draw(st.integers(0, 1)) + format(len(piece), draw(st.sampled_from(["x", "X"])))
        odd = draw(st.integers(0, 9)) == 0
        suffix = draw(st.sampled_from([";e", " ", "\t"])) if odd else ""
        wire.append(f"{size}{suffix}\r\n".encode() + piece + b"\r\n")
    wire.append(b"0\r\n\r\n")
    return b"".join(pieces), b"".join(wire)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=plain_chunked_bodies(), data=st.data())
def test_reads_of_many_plain_chunks_decode_to_what_h11_decodes(body: tuple[bytes, bytes], data: st.DataObject):
    payload, wire = body
    cuts = [0, *sorted(set(data.draw(st.lists(st.integers(0, len(wire)), max_size=4)))), len(wire)]
    decoder = _Dechunker()
    out = []
    for start, stop in itertools.pairwise(cuts):
        got, rest = decoder.feed(wire[start:stop])
        out.append(got)
        assert rest == b""
    assert decoder.done
    assert b"".join(out) == payload
    conn = _h11_after_head()
    conn.receive_data(wire)
    assert _h11_body(conn) == (payload, True)


def test_a_read_of_whole_plain_chunks_is_taken_in_bulk_and_a_crlf_in_the_data_is_not():
    events = [f'data: {{"n":{i}}}\n\n'.encode() for i in range(50)]
    wire = b"".join(format(len(e), "x").encode() + b"\r\n" + e + b"\r\n" for e in events) + b"0\r\n\r\n"
    chunks, at = _whole_chunks(wire, 0)
    assert chunks == events and wire[at:] == b"0\r\n\r\n"  # the last chunk is left to the loop
    cut = wire[: len(wire) - 30]  # ends inside a chunk: the whole ones before it, and `at` at the next one's header
    chunks, at = _whole_chunks(cut, 0)
    assert len(chunks) >= 45 and chunks == events[: len(chunks)]
    assert cut[at:].startswith(format(len(events[len(chunks)]), "x").encode() + b"\r\n")
    crlf = b"b\r\ndata: a\r\n\r\n\r\n" + wire  # 11 bytes of data holding CRLFs: no bulk, the loop takes it
    assert _whole_chunks(crlf, 0) == ([], 0)
    assert _Dechunker().feed(crlf)[0] == b"data: a\r\n\r\n" + b"".join(events)


def test_a_read_the_bulk_path_refuses_is_not_split_again_for_each_of_its_chunks(monkeypatch):
    # Chunk extensions on every chunk: the bulk split refuses the read, and the loop takes it chunk by chunk. Trying
    # the split again at each chunk header would split the rest of the read once per chunk (quadratic in the read).
    from cerebras_adapters import _body

    calls = []
    real = _body._whole_chunks
    monkeypatch.setattr(_body, "_whole_chunks", lambda data, pos: calls.append(pos) or real(data, pos))
    events = [b'data: {"n":%d}\n\n' % i for i in range(200)]
    wire = b"".join(format(len(e), "x").encode() + b";e=1\r\n" + e + b"\r\n" for e in events)
    got, rest = _Dechunker().feed(wire)
    assert got == b"".join(events) and rest == b""
    assert len(calls) == 1


@pytest.mark.parametrize("bad", [
    pytest.param(b"zz\r\nab\r\n", id="header-not-hex"),
    pytest.param(b"000000000000000000002\r\nab\r\n", id="size-over-20-digits"),
    pytest.param(b"+2\r\nab\r\n", id="size-with-sign"),
    pytest.param(b"0x2\r\nab\r\n", id="size-with-0x"),
    pytest.param(b"1_0\r\n" + b"a" * 16 + b"\r\n", id="size-with-underscore"),
])
def test_malformed_framing_after_a_long_run_of_plain_chunks_is_refused_as_h11_refuses_it(bad: bytes):
    good = b"".join(b"10\r\n" + b"%016d" % i + b"\r\n" for i in range(100))  # > _BULK_FROM: the bulk path
    wire = good + bad + b"0\r\n\r\n"
    conn = _h11_after_head()
    conn.receive_data(wire)
    with pytest.raises(h11.RemoteProtocolError):
        _h11_body(conn)
    for cut in (0, len(good) - 7, len(good), len(good) + 3, len(wire)):
        decoder = _Dechunker()
        with pytest.raises(_Malformed):
            decoder.feed(wire[:cut])
            decoder.feed(wire[cut:])


@pytest.mark.parametrize("wire", [
    pytest.param(b"zz\r\nab\r\n0\r\n\r\n", id="header-not-hex"),
    pytest.param(b"2\r\nabXY0\r\n\r\n", id="footer-not-crlf"),
    pytest.param(b"2\r\nab\rX", id="footer-half-crlf"),
    pytest.param(b"\r\n2\r\nab\r\n0\r\n\r\n", id="empty-header"),
    pytest.param(b"123456789012345678901\r\n", id="size-over-20-digits"),
])
def test_malformed_framing_is_refused_where_h11_refuses_it(wire: bytes):
    conn = _h11_after_head()
    conn.receive_data(wire)
    with pytest.raises(h11.RemoteProtocolError):
        _h11_body(conn)
    for cut in range(len(wire) + 1):  # however the reads cut it
        decoder = _Dechunker()
        with pytest.raises(_Malformed):
            decoder.feed(wire[:cut])
            decoder.feed(wire[cut:])


# -- through a real server -----------------------------------------------------------------------------------

MODEL = "gpt-oss-120b"
USER = [{"role": "user", "content": "hi"}]
EVENTS = stream_chunks(content=[f" t{i}" for i in range(60)])
TEXT = "".join(f" t{i}" for i in range(60))


async def _sse_app(scope, receive, send):  # a plain ASGI app: uvicorn frames it (chunked, keep-alive)
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/event-stream")]})
    for i, event in enumerate(EVENTS):
        await send({"type": "http.response.body", "body": sse([event]), "more_body": True})
        if i % 7 == 0:
            await asyncio.sleep(0.001)  # some events alone on the wire, some batched
    await send({"type": "http.response.body", "body": b"", "more_body": False})


@pytest.fixture(scope="module")
def uvicorn_url() -> Iterator[str]:
    uvicorn = pytest.importorskip("uvicorn")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    config = uvicorn.Config(_sse_app, host="127.0.0.1", port=port, log_level="warning", http="h11", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(5)


def _connections(client) -> list:
    return list(client._http._transport._pool.connections)  # the pool httpx keeps (private, for this check)


def test_a_sync_stream_is_read_in_bulk_and_its_connection_is_reused(uvicorn_url: str):
    with CerebrasClient(api_key="csk-test", base_url=uvicorn_url) as client:
        for _ in range(3):
            with client.chat.completions.create(model=MODEL, messages=USER, stream=True) as stream:
                final = stream.get_final_completion()
            assert final.choices[0].message.content == TEXT
        [connection] = _connections(client)
        assert connection.is_idle() and "Request Count: 3" in repr(connection)


def test_an_async_stream_is_read_in_bulk_and_its_connection_is_reused(uvicorn_url: str):
    async def main() -> list:
        async with AsyncCerebrasClient(api_key="csk-test", base_url=uvicorn_url) as client:
            for coalesce in (False, True, False):
                stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True,
                                                              coalesce=coalesce)
                final = await stream.get_final_completion()
                assert final.choices[0].message.content == TEXT
                connections = _connections(client)
                assert all(connection.is_idle() for connection in connections)
            return connections

    [connection] = asyncio.run(main())
    assert "Request Count: 3" in repr(connection)


def test_the_bulk_reader_is_the_one_used_on_a_real_server(uvicorn_url: str):
    # The fast path is taken (not httpx's iterator) for a plain chunked stream from a real server.
    with httpx.Client() as http:
        with http.stream("POST", f"{uvicorn_url}/chat/completions", json={}) as response:
            body = iter_body(response)
            assert body.__name__ == "_iter_body"  # type: ignore[attr-defined]
            assert b"".join(body) == sse(EVENTS)

    async def main() -> bytes:
        async with httpx.AsyncClient() as http:
            async with http.stream("POST", f"{uvicorn_url}/chat/completions", json={}) as response:
                body = aiter_body(response)
                assert body.__name__ == "_aiter_body"  # type: ignore[attr-defined]
                return b"".join([piece async for piece in body])

    assert asyncio.run(main()) == sse(EVENTS)


def test_a_stream_closed_early_closes_its_connection_and_the_next_call_works(uvicorn_url: str):
    with CerebrasClient(api_key="csk-test", base_url=uvicorn_url) as client:
        stream = client.chat.completions.create(model=MODEL, messages=USER, stream=True)
        next(iter(stream))
        stream.close()
        assert _connections(client) == []  # h11 mid-body: httpcore closed it rather than reuse it
        final = client.chat.completions.create(model=MODEL, messages=USER, stream=True).get_final_completion()
        assert final.choices[0].message.content == TEXT


def test_a_body_cut_mid_chunk_is_an_interrupted_stream():
    # A server that declares a chunk and closes half-way: the error iter_bytes() would give, mapped as ever.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    first = sse(stream_chunks()[:1])

    def serve() -> None:
        conn, _ = listener.accept()
        request = b""
        while b"\r\n\r\n" not in request:  # the whole request, so the close is a FIN and not a reset
            request += conn.recv(65536)
        request_head, _, body = request.partition(b"\r\n\r\n")
        length = int(request_head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += conn.recv(65536)
        conn.sendall(head + b"%x\r\n" % len(first) + first + b"\r\n")
        time.sleep(0.05)
        conn.sendall(b"400\r\ndata: {")
        time.sleep(0.05)
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with CerebrasClient(api_key="csk-test", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0) as client:
        stream = client.chat.completions.create(model=MODEL, messages=USER, stream=True)
        with pytest.raises(StreamInterruptedError) as info:
            list(stream)
    assert "incomplete chunked read" in str(info.value)
    thread.join(5)
    listener.close()


# -- coalescing over the bulk reader, through a real socket ---------------------------------------------------


class _ChunkServer:
    """A keep-alive HTTP/1.1 server on loopback that answers every request with the body set last, written as
    one HTTP chunk per piece, a few of them after a short pause (so some reads find several chunks waiting)."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):  # a client that stops early resets the connection
            self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        buffered = b""
        while True:
            while b"\r\n\r\n" not in buffered:
                data = conn.recv(65536)
                if not data:
                    return
                buffered += data
            head, _, buffered = buffered.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(buffered) < length:
                buffered += conn.recv(65536)
            buffered = buffered[length:]
            conn.sendall(_HEAD.replace(b"\r\n\r\n", b"\r\ncontent-type: text/event-stream\r\n\r\n"))
            for n, piece in enumerate(self.pieces):
                conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                if n % 5 == 4:
                    time.sleep(0.0005)
            conn.sendall(b"0\r\n\r\n")

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(scope="module")
def chunk_server() -> Iterator[_ChunkServer]:
    server = _ChunkServer()
    yield server
    server.close()


def _over_socket(url: str, coalesce: bool, mode: str, pause: float) -> tuple[list, Exception | None]:
    got: list = []
    if mode == "sync":
        with CerebrasClient(api_key="test-key", base_url=url, max_retries=0) as client:
            try:
                for chunk in client.chat.completions.create(model=MODEL, messages=USER, stream=True,
                                                            coalesce=coalesce):
                    got.append(chunk)
                    time.sleep(pause)
            except Exception as exc:
                return got, exc
        return got, None

    async def main() -> Exception | None:
        async with AsyncCerebrasClient(api_key="test-key", base_url=url, max_retries=0) as client:
            stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True, coalesce=coalesce)
            try:
                async for chunk in stream:
                    got.append(chunk)
                    await asyncio.sleep(pause)
            except Exception as exc:
                return exc
        return None

    return got, asyncio.run(main())


def _merged_dump(chunks: list) -> dict:
    from cerebras_adapters import accumulate

    return accumulate(chunks).model_dump() if chunks else {}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(stream=st.deferred(lambda: _streams()), cuts=st.lists(st.integers(0, 4000), max_size=12),
       mode=st.sampled_from(["sync", "async"]), pause=st.sampled_from([0.0, 0.002]))
def test_over_a_real_socket_the_coalesced_stream_assembles_to_the_uncoalesced_one(
    chunk_server: _ChunkServer, stream: tuple[bytes, int], cuts: list[int], mode: str, pause: float
):
    # The property of tests/test_coalesce.py, on the path a real connection takes: the bulk reader, and (async)
    # coalescing by read in the consumer's task. Random HTTP chunk boundaries, a consumer that pauses or not.
    from tests.test_coalesce import assert_same_outcome, split_at

    body, events = stream
    chunk_server.pieces = split_at(body, cuts)
    plain, plain_error = _over_socket(chunk_server.url, False, mode, 0.0)
    merged, merged_error = _over_socket(chunk_server.url, True, mode, pause)
    assert_same_outcome(merged, merged_error, plain, plain_error, events, dump=_merged_dump)


def _streams():
    from tests.test_coalesce import streams

    return streams()


# -- the async read timeout of the bulk reader (one watch per body, not a cancel scope per read) ---------------


_TWELVE = [chunk({"role": "assistant"})] + [chunk({"content": f"t{n} "}) for n in range(12)] + [
    chunk({}, finish_reason="stop", usage=usage(completion=12), time_info=TIME_INFO)
]


def _paced_server(gaps: list[float], tls: Any = None) -> tuple[str, threading.Thread]:
    """One connection: a chunked stream whose i-th event is sent ``gaps[i]`` seconds after the one before; a gap of
    ``inf`` stalls there (until the client goes away). With ``tls`` (a server ``ssl.SSLContext``), over TLS."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    events = _TWELVE
    assert len(events) >= len(gaps)
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"

    def serve() -> None:
        conn, _ = listener.accept()
        with contextlib.suppress(OSError):
            if tls is not None:
                conn = tls.wrap_socket(conn, server_side=True)
        with conn, contextlib.suppress(OSError):
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            request_head, _, body = request.partition(b"\r\n\r\n")
            length = int(request_head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(body) < length:  # the whole request, so that what the server reads next is the client's end
                body += conn.recv(65536)
            conn.sendall(head)
            for gap, event in zip(gaps, events, strict=False):
                if gap == float("inf"):
                    conn.recv(1)  # until the client closes or shuts its socket
                    return
                time.sleep(gap)
                piece = sse([event])
                conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            conn.sendall(b"0\r\n\r\n")
            conn.recv(1)
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    scheme = "https" if tls is not None else "http"
    return f"{scheme}://127.0.0.1:{listener.getsockname()[1]}/v1", thread


def _run_async_stream(
    url: str, read: float, coalesce: bool, verify: Any = True, **create: Any
) -> tuple[str, Exception | None, float]:
    async def main() -> tuple[str, Exception | None]:
        text = []
        http = httpx.AsyncClient(verify=verify, timeout=httpx.Timeout(10, read=read)) if verify is not True else None
        async with AsyncCerebrasClient(
            api_key="csk-test", base_url=url, max_retries=0, timeout=httpx.Timeout(10, read=read), http_client=http
        ) as client:
            stream = await client.chat.completions.create(
                model=MODEL, messages=USER, stream=True, coalesce=coalesce, **create
            )
            try:
                async for chunk in stream:
                    text.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
            except Exception as exc:
                return "".join(text), exc
        return "".join(text), None

    started = time.monotonic()
    text, error = asyncio.run(main())
    return text, error, time.monotonic() - started


@pytest.mark.parametrize("coalesce", [False, True])
def test_reads_each_shorter_than_the_read_timeout_never_time_out(coalesce: bool):
    # Fourteen events 0.1 s apart under a 0.25 s read timeout: 1.3 s in all, no one read near the limit.
    events = _TWELVE
    url, thread = _paced_server([0.0] + [0.1] * (len(events) - 1))
    text, error, elapsed = _run_async_stream(url, read=0.25, coalesce=coalesce)
    thread.join(5)
    assert error is None
    assert text == "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"])
    assert elapsed > 0.25 * 2  # longer than the read timeout, several times over


@pytest.mark.parametrize("coalesce", [False, True])
def test_a_read_that_waits_past_the_read_timeout_ends_the_stream_as_a_timeout(coalesce: bool):
    from cerebras_adapters import APITimeoutError

    url, thread = _paced_server([0.0, 0.05, 0.05, float("inf")])
    text, error, elapsed = _run_async_stream(url, read=0.3, coalesce=coalesce)
    thread.join(5)
    assert isinstance(error, APITimeoutError), error
    assert "read timeout" in str(error)  # the limit that ran out, named
    assert error.partial is not None and error.partial.choices[0].message.content == text
    assert 0.3 <= elapsed < 3  # the read timeout, not the server


@pytest.mark.parametrize("coalesce", [False, True])
def test_an_async_stream_that_stalls_before_its_deadline_ends_at_the_deadline(coalesce: bool):
    # Events until 0.6 s, then nothing. The read in progress at the deadline (1 s) must end there: the deadline's
    # watchdog shuts the socket, as it does for sync streams. Without it the read ran on to its read timeout, which
    # the deadline had capped only at the time left when the request started (1 s): ~1.6 s in all.
    from cerebras_adapters import APITimeoutError

    url, thread = _paced_server([0.0, 0.2, 0.2, 0.2, float("inf")])
    text, error, elapsed = _run_async_stream(url, read=30, coalesce=coalesce, deadline=1.0)
    thread.join(5)
    assert isinstance(error, APITimeoutError), error
    assert "attempt_timeout or deadline" in str(error)
    assert error.partial is not None and error.partial.choices[0].message.content == text == "t0 t1 t2 "
    assert 1.0 <= elapsed < 1.35


def test_the_async_bulk_reader_reads_the_anyio_stream_itself(uvicorn_url: str):
    # The path the tests above time: httpcore's per-read cancel scope is not on it (its read is never called).
    from httpcore._backends.anyio import AnyIOStream

    calls = []
    real = AnyIOStream.read

    async def counting(self, max_bytes: int, timeout: float | None = None) -> bytes:
        calls.append(max_bytes)
        return await real(self, max_bytes, timeout)

    async def main() -> bytes:
        async with httpx.AsyncClient(timeout=httpx.Timeout(5)) as http:
            async with http.stream("POST", f"{uvicorn_url}/chat/completions", json={}) as response:
                AnyIOStream.read = counting  # type: ignore[method-assign]
                try:
                    return b"".join([piece async for piece in aiter_body(response)])
                finally:
                    AnyIOStream.read = real  # type: ignore[method-assign]

    assert asyncio.run(main()) == sse(EVENTS)
    assert calls == []


# -- the same reads over TLS (anyio's TLSStream under httpcore: the path every call to api.cerebras.ai takes) ---


@pytest.fixture(scope="module")
def tls_contexts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """A server context with a fresh self-signed certificate for 127.0.0.1, and a client context that trusts it."""
    import datetime
    import ipaddress
    import ssl

    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


@pytest.mark.parametrize("coalesce", [False, True])
def test_over_tls_the_stream_is_read_by_the_anyio_stream_and_assembles_whole(tls_contexts, coalesce: bool):
    from httpcore._backends.anyio import AnyIOStream

    server, client = tls_contexts
    calls: list[int] = []
    real = AnyIOStream.read

    async def counting(self: Any, max_bytes: int, timeout: float | None = None) -> bytes:
        calls.append(max_bytes)
        return await real(self, max_bytes, timeout)

    url, thread = _paced_server([0.0] + [0.02] * (len(_TWELVE) - 1), tls=server)
    AnyIOStream.read = counting  # type: ignore[method-assign]
    try:
        text, error, _ = _run_async_stream(url, read=5, coalesce=coalesce, verify=client)
    finally:
        AnyIOStream.read = real  # type: ignore[method-assign]
    thread.join(5)
    assert error is None
    assert text == "".join(f"t{n} " for n in range(12))
    # httpcore reads the response head itself; the body's reads are the bulk reader's, on the TLS stream
    assert len(calls) <= 2


@pytest.mark.parametrize("coalesce", [False, True])
def test_over_tls_a_read_past_the_read_timeout_ends_the_stream_as_a_timeout(tls_contexts, coalesce: bool):
    from cerebras_adapters import APITimeoutError

    server, client = tls_contexts
    url, thread = _paced_server([0.0, 0.05, 0.05, float("inf")], tls=server)
    text, error, elapsed = _run_async_stream(url, read=0.3, coalesce=coalesce, verify=client)
    thread.join(5)
    assert isinstance(error, APITimeoutError), error
    assert "read timeout" in str(error)
    assert error.partial is not None and error.partial.choices[0].message.content == text == "t0 t1 "
    assert 0.3 <= elapsed < 3
