"""Reading a streamed response's chunked body in bulk, below httpx (issue 11: many full-speed streams per core).

Cerebras writes one SSE event per HTTP chunk, about 3,000 a second per stream. Through httpx every HTTP chunk is one
h11 event, one trip through httpcore's and httpx's iterators and one piece for the caller: ~12 µs of CPU per event
on its own (h11 extracts each chunk from the front of its buffer), which caps one core at about 20 such streams
whatever the caller does with the events. This module reads the same connection's bytes itself, up to 64 KiB per
read, and strips the chunked framing (RFC 9112 section 7.1) itself, so a read that holds 50 events is one piece of
body for the caller: a run of plain chunks with one CRLF split checked in C-level passes (``_whole_chunks``), anything
else with a few ``bytes.find`` calls per chunk.

The connection stays httpcore's, and is kept alive as usual. When the response head has been read, httpcore's h11
connection holds the bytes that arrived after it (``trailing_data``, unprocessed, with a fresh chunked reader);
those are the first bytes read here, and the rest come from the connection's network stream (the
``network_stream`` response extension), with the request's read timeout. When the body has been read to its end,
h11 is given what it still lacks to see the body as complete: the same held bytes it has not parsed, then the
shortest valid completion of them (``_Dechunker.completion``), then the end of the body. Then h11's state is "body
done" and httpcore puts the connection back in the pool when the response is closed, exactly as if it had read the
body itself. A body read only in part (an error, a consumer that stops early, a deadline) leaves h11 mid-body, and
httpcore closes that connection on ``response.close()``, as it does for its own reads.

Used only where every part is the one expected: httpx's default transport over httpcore, HTTP/1.1, ``transfer-encoding:
chunked`` alone, no ``content-encoding``, h11 waiting for the body. Anything else (HTTP/2, a custom or recording
transport, a proxy tunnel httpcore wraps differently, gzip) reads through ``response.iter_bytes()`` as before.
Finding the h11 connection walks four private attributes of httpx and httpcore, each checked; the h11 calls are its
public API. Errors are httpx's own types, as ``iter_bytes()`` raises them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import anyio
import anyio.abc
import h11
import httpcore  # imports anyio too (its async backend): importing it here costs nothing more
import httpx

from ._deadline import _shut, stream_socket

__all__ = ["aiter_body", "is_bulk", "iter_body"]

READ_SIZE = 64 * 1024
# The longest chunk header or trailer section we hold while waiting for its end (h11's own bound).
_MAX_LINE = 16 * 1024
# A chunk header: the size (at most 20 hex digits, as h11 takes it), any extension, trailing whitespace.
_HEADER = re.compile(rb"([0-9A-Fa-f]{1,20})(?:;.*)?[ \t]*")

# From how many bytes on a read is tried with ``_whole_chunks`` first (below: a few chunks, the loop is as fast).
_BULK_FROM = 1024
# The most filler bytes h11 is given to complete a chunk it holds in part (``_Dechunker.completion``).
_MAX_FILL = 1024 * 1024

_HEAD, _DATA, _CRLF, _TRAILER, _DONE = range(5)
_HEX_DIGITS = b"0123456789abcdefABCDEF"
# Chunk-size fields seen, each checked as h11 checks one (1 to 20 hex digits, nothing else), with its value. A stream's
# sizes take few values (its events differ in their text only), so a read's are checked by one C-level lookup each.
_SIZES: dict[bytes, int] = {}
_MAX_SIZES = 4096


def _known_sizes(fields: list[bytes]) -> list[int | None]:
    """Each field's size, None for a field that is not a plain size (then never added)."""
    sizes = list(map(_SIZES.get, fields))
    if None in sizes:
        if len(_SIZES) > _MAX_SIZES:
            _SIZES.clear()
        for field in {field for field, size in zip(fields, sizes, strict=True) if size is None}:
            if field and len(field) <= 20 and not field.translate(None, _HEX_DIGITS):
                _SIZES[field] = int(field, 16)
        sizes = list(map(_SIZES.get, fields))
    return sizes


def _whole_chunks(data: bytes, pos: int) -> tuple[list[bytes], int]:
    """The data of the plain chunks that lie whole in ``data`` from ``pos`` (a chunk header's start) on, and the
    position after them; ``([], pos)`` when that is not the simple case below, which ``feed``'s loop then takes.

    A fast stream sends one event per chunk, so this is the per-token cost of reading a body. When no chunk's data
    holds a CRLF (an SSE stream with LF line ends), splitting on CRLF gives size, data, size, data …, and the sizes
    can be checked against the data lengths in a few C-level passes rather than a Python loop per chunk. The check
    is exact: the first element is a real header, and a pair whose data was cut at a CRLF inside it cannot match
    its declared size, so when every pair matches, every header was where the framing put it. Any mismatch, chunk
    extension, whitespace or other digit sends the whole read to the loop, which finds the error if there is one.
    A zero-size chunk (the last) and what follows it are left to the loop too."""
    parts = data[pos:].split(b"\r\n") if pos else data.split(b"\r\n")
    pairs = (len(parts) - 1) // 2  # the elements a CRLF follows, two per whole chunk
    fields, chunks = parts[0 : 2 * pairs : 2], parts[1 : 2 * pairs : 2]
    lengths = list(map(len, chunks))
    if 0 in lengths:  # the last chunk (or a malformed one): stop before it
        pairs = lengths.index(0)
        del fields[pairs:], chunks[pairs:], lengths[pairs:]
    if not pairs or _known_sizes(fields) != lengths:
        return [], pos
    return chunks, pos + sum(map(len, fields)) + sum(lengths) + 4 * pairs


class _Dechunker:
    """An incremental decoder of a chunked body: bytes in, the chunks' data out, in as few pieces as possible."""

    __slots__ = ("_held", "_left", "_state")

    def __init__(self) -> None:
        self._state = _HEAD
        self._left = 0  # bytes of the current chunk's data still to come (_DATA), or of its CRLF (_CRLF)
        self._held = b""  # an incomplete header line, CRLF or trailer section, kept for the next bytes

    @property
    def done(self) -> bool:
        return self._state == _DONE

    def feed(self, data: bytes) -> tuple[bytes, bytes]:
        """The chunk data in ``data`` (joined), and what followed the body's end (normally nothing)."""
        if self._held:
            data = self._held + data
            self._held = b""
        out: list[bytes] = []
        pos, end = 0, len(data)
        state, left = self._state, self._left
        bulk = end > _BULK_FROM  # try _whole_chunks once per read (a read it refuses would be split again per chunk)
        while pos < end:
            if state == _DATA:
                if end - pos <= left:
                    out.append(data[pos:] if pos else data)
                    left -= end - pos
                    pos = end
                    if left == 0:
                        state, left = _CRLF, 2
                    break
                out.append(data[pos : pos + left])
                pos += left
                state, left = _CRLF, 2
            if state == _CRLF:  # left = 2: b"\r\n" expected; 1: b"\n" (the b"\r" ended the last read)
                need = b"\r\n"[2 - left :]
                came = data[pos : pos + left]
                if came == need:
                    pos += left
                    state, left = _HEAD, 0
                    continue
                if pos + len(came) == end and need.startswith(came):  # cut by the read
                    left -= len(came)
                    pos = end
                    break
                raise _Malformed(f"malformed chunk footer: {data[pos:pos + 2]!r} (expected {need!r})")
            if state == _HEAD:
                # The common case first: plain hex sizes, and whole chunks with their CRLF in this read.
                if bulk:
                    bulk = False
                    chunks, pos = _whole_chunks(data, pos)
                    out += chunks
                while True:
                    line_end = data.find(b"\r\n", pos, pos + 22)
                    if line_end < 0:
                        break
                    size_field = data[pos:line_end]
                    if not size_field or size_field.strip(_HEX_DIGITS):
                        break  # empty, or an extension or whitespace: the general path below
                    start = line_end + 2
                    stop = start + int(size_field, 16)
                    if stop == start or data[stop : stop + 2] != b"\r\n":
                        break  # the last chunk, or a chunk that goes on in the next read
                    out.append(data[start:stop])
                    pos = stop + 2
                line_end = data.find(b"\r\n", pos)
                if line_end < 0:
                    if end - pos > _MAX_LINE:
                        raise _Malformed("chunk header too long")
                    self._held = data[pos:]
                    break
                match = _HEADER.fullmatch(data, pos, line_end)
                if match is None:
                    raise _Malformed(f"illegal chunk header: {data[pos:line_end + 2]!r}")
                left = int(match.group(1), 16)
                pos = line_end + 2
                state = _DATA if left else _TRAILER
                continue
            if state == _TRAILER:  # after the last chunk: trailer fields (ignored, as h11 and httpx do), a blank line
                if data.startswith(b"\r\n", pos):
                    pos += 2
                else:
                    blank = data.find(b"\r\n\r\n", pos)
                    if blank < 0:
                        if end - pos > _MAX_LINE:
                            raise _Malformed("chunked trailer section too long")
                        self._held = data[pos:]
                        break
                    pos = blank + 4
                state = _DONE
                break
            break  # _DONE
        self._state, self._left = state, left
        rest = data[pos:] if state == _DONE and pos < end else b""
        return (out[0] if len(out) == 1 else b"".join(out)), rest

    def completion(self) -> bytes | None:
        """The fewest bytes that end the body validly from where this decoder stands (for h11: module doc), or
        None when there are none worth sending (a chunk declared larger than ``_MAX_FILL``, or a header h11 will not
        take either): the connection is then closed rather than reused."""
        state, left, held = self._state, self._left, self._held
        if state == _DONE:
            return b""
        if state == _DATA:
            return b"\0" * left + b"\r\n0\r\n\r\n" if left <= _MAX_FILL else None
        if state == _CRLF:
            return b"\r\n"[2 - left :] + b"0\r\n\r\n"
        if state == _TRAILER:  # after the last chunk's header: a blank line ends it (a field cut in two: None)
            if not held:
                return b"\r\n"
            if held == b"\r" or held.endswith(b"\r\n\r"):
                return b"\n"
            return b"\r\n" if held.endswith(b"\r\n") else None
        if not held:  # _HEAD: nothing yet, or the start of a header line
            return b"0\r\n\r\n"
        line, end = (held[:-1], b"\n") if held.endswith(b"\r") else (held, b"\r\n")
        match = _HEADER.fullmatch(line)
        if match is None:
            return None
        size = int(match.group(1), 16)
        if size == 0:  # the last chunk's header: its line's end, then the blank line
            return end + b"\r\n"
        return end + b"\0" * size + b"\r\n0\r\n\r\n" if size <= _MAX_FILL else None


class _Malformed(ValueError):
    """A chunked body that breaks RFC 9112's framing (raised as httpx.RemoteProtocolError, as h11's would be)."""


_INCOMPLETE = "peer closed connection without sending complete message body (incomplete chunked read)"


def _h11_connection(response: httpx.Response) -> tuple[h11.Connection, Any] | None:
    """httpcore's h11 connection and network stream under ``response``, when the body may be read here."""
    if response.http_version != "HTTP/1.1":
        return None
    headers = response.headers
    if headers.get("transfer-encoding", "").strip().lower() != "chunked" or "content-length" in headers:
        return None
    if headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
        return None
    network = response.extensions.get("network_stream")
    stream = getattr(response.stream, "_stream", None)  # httpx: Bound(Async)Stream → (Async)ResponseStream
    stream = getattr(stream, "_httpcore_stream", None)  # → httpcore's PoolByteStream
    stream = getattr(stream, "_stream", None)  # → (Async)HTTP11ConnectionByteStream
    connection = getattr(stream, "_connection", None)  # → (Async)HTTP11Connection
    state = getattr(connection, "_h11_state", None)
    if (
        network is None
        or not isinstance(state, h11.Connection)
        or getattr(connection, "_network_stream", None) is not network
        or state.their_state is not h11.SEND_BODY
        or getattr(stream, "_closed", True)
        or response.is_stream_consumed
        or response.is_closed
    ):
        return None
    return state, network


def _read_timeout(response: httpx.Response) -> float | None:
    timeout = response.request.extensions.get("timeout")
    return timeout.get("read") if isinstance(timeout, dict) else None


def _mapped(exc: Exception, request: httpx.Request) -> Exception:
    """httpcore's and h11's errors as the httpx ones ``iter_bytes()`` raises."""
    if isinstance(exc, httpcore.TimeoutException):
        return httpx.ReadTimeout(str(exc), request=request)
    if isinstance(exc, httpcore.RemoteProtocolError | h11.RemoteProtocolError | _Malformed):
        return httpx.RemoteProtocolError(str(exc), request=request)
    if isinstance(exc, httpcore.NetworkError):
        return httpx.ReadError(str(exc), request=request)
    return exc


def _finish_h11(state: h11.Connection, completion: bytes | None, rest: bytes) -> None:
    """Bring h11 to "body done" (module doc): it still holds, unparsed, the bytes it had when the body was taken
    over; ``completion`` completes them; ``rest`` is what came after the body's end. Any failure leaves h11
    mid-body, and httpcore then closes the connection instead of reusing it."""
    if completion is None:
        return
    try:
        if completion:
            state.receive_data(completion)
        while True:
            event = state.next_event()
            if type(event) is h11.EndOfMessage:
                break
            if event is h11.NEED_DATA or event is h11.PAUSED or type(event) is not h11.Data:
                return
        if rest:
            state.receive_data(rest)
    except h11.ProtocolError:
        return


def iter_body(response: httpx.Response) -> Iterator[bytes]:
    """The body of a streamed ``response``, read in bulk where possible (module doc), else ``iter_bytes()``."""
    found = _h11_connection(response)
    if found is None:
        return response.iter_bytes()
    return _iter_body(response, *found)


def aiter_body(response: httpx.Response) -> AsyncIterator[bytes]:
    """The async twin of ``iter_body``."""
    found = _h11_connection(response)
    if found is None:
        return response.aiter_bytes()
    return _aiter_body(response, *found)


def is_bulk(body: object) -> bool:
    """Whether ``body`` is a bulk reader of this module (each read takes everything received so far)."""
    code = getattr(body, "ag_code", None) or getattr(body, "gi_code", None)
    return code is _aiter_body.__code__ or code is _iter_body.__code__


def _start(state: h11.Connection) -> tuple[_Dechunker, bytes | None, bytes]:
    """The decoder after the bytes h11 holds (left in h11's buffer: ``_finish_h11``), what completes them, and
    their chunk data."""
    held = state.trailing_data[0]
    dechunker = _Dechunker()
    data = dechunker.feed(held)[0] if held else b""  # bytes after a body that ends here are h11's already
    return dechunker, dechunker.completion(), data


def _iter_body(response: httpx.Response, state: h11.Connection, network: Any) -> Iterator[bytes]:
    request = response.request
    timeout = _read_timeout(response)
    rest = b""
    try:
        dechunker, completion, data = _start(state)
        if data:
            yield data
        while not dechunker.done:
            raw = network.read(READ_SIZE, timeout=timeout)
            if not raw:
                raise httpx.RemoteProtocolError(_INCOMPLETE, request=request)
            data, rest = dechunker.feed(raw)
            if data:
                yield data
    except (httpcore.NetworkError, httpcore.TimeoutException, httpcore.ProtocolError, _Malformed) as exc:
        raise _mapped(exc, request) from None
    _finish_h11(state, completion, rest)


async def _aiter_body(response: httpx.Response, state: h11.Connection, network: Any) -> AsyncIterator[bytes]:
    request = response.request
    timeout = _read_timeout(response)
    rest = b""
    receive = _anyio_receive(network)
    watch: _ReadWatch | None = None
    try:
        dechunker, completion, data = _start(state)
        if data:
            yield data
        if receive is not None and timeout is not None:
            sock = stream_socket(network)
            if sock is None:
                receive = None
            else:
                watch = _ReadWatch(asyncio.get_running_loop(), timeout, sock)
        while not dechunker.done:
            if receive is None:
                raw = await network.read(READ_SIZE, timeout=timeout)
            else:
                raw = await _receive(receive, watch)
            if not raw:
                raise httpx.RemoteProtocolError(_INCOMPLETE, request=request)
            data, rest = dechunker.feed(raw)
            if data:
                yield data
    except (httpcore.NetworkError, httpcore.TimeoutException, httpcore.ProtocolError, _Malformed) as exc:
        raise _mapped(exc, request) from None
    finally:
        if watch is not None:
            watch.stop()
    _finish_h11(state, completion, rest)


def _anyio_receive(network: Any) -> Callable[[int], Awaitable[bytes]] | None:
    """The ``receive`` of the anyio stream under httpcore's async network stream, on asyncio; None for anything
    else (another backend or transport: httpcore's ``read`` is used)."""
    if type(network).__module__ != "httpcore._backends.anyio":
        return None
    stream = getattr(network, "_stream", None)
    try:
        if not isinstance(stream, anyio.abc.ByteReceiveStream) or asyncio.current_task() is None:
            return None
    except RuntimeError:  # not on an asyncio loop (trio)
        return None
    return stream.receive


async def _receive(receive: Callable[[int], Awaitable[bytes]], watch: _ReadWatch | None) -> bytes:
    """One read, as httpcore's ``AnyIOStream.read`` makes it (its errors, the read timeout), without the cancel scope
    it opens per read (~8 µs, paid once per read of every stream): the timeout is ``_ReadWatch``'s."""
    if watch is not None:
        watch.since = watch.loop.time()
    try:
        data = await receive(READ_SIZE)
    except anyio.EndOfStream:
        data = b""
    except (anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
        if watch is None or not watch.fired:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc
    finally:
        if watch is not None:
            watch.since = None
    if watch is not None and watch.fired:  # its socket was shut because it waited too long: it timed out
        raise httpcore.ReadTimeout("timed out")
    return data


class _ReadWatch:
    """The read timeout of one body read by ``_receive``: one timer for the whole body, not one per read. A read
    that has waited ``timeout`` seconds has its socket shut down, which ends it at once (as the call deadline's
    watchdog does: ``_deadline``), and is reported as httpcore's ``ReadTimeout``; the connection is closed, as
    httpcore closes one after a read timeout."""

    __slots__ = ("_handle", "_sock", "fired", "loop", "since", "timeout")

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float, sock: Any) -> None:
        self.loop, self.timeout, self._sock = loop, timeout, sock
        self.since: float | None = None  # when the read in progress started (loop time), None between reads
        self.fired = False
        self._handle: asyncio.TimerHandle | None = loop.call_at(loop.time() + timeout, self._check)

    def _check(self) -> None:
        self._handle = None
        since, now = self.since, self.loop.time()
        if since is not None and now - since >= self.timeout:
            self.fired = True
            _shut(self._sock)
            return
        self._handle = self.loop.call_at((now if since is None else since) + self.timeout, self._check)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
