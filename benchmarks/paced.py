"""A paced streaming server: many concurrent chat-completion streams, each sent at a fixed token rate.

This module owns the server side of the ``streams`` benchmark (issue 11): every streamed answer is ``tokens``
content tokens sent at ``rate`` tokens/s (3,000 by default, the speed issue 11 takes for gpt-oss-120b), one token
per SSE event and one HTTP chunk per event, shaped like a Cerebras stream (docs/api-facts.md#chunk-sequence and
#stream-end), and the server records, per stream, when it sent what, so the client side can be judged against it.
It must not import the client under test, nor anything outside the standard library: run as a script, it is the
child process ``PacedServer`` starts (its shapes come from ``loopback``, also stdlib-only).

One thread, one ``selectors`` loop, no per-event timer. Each stream has a schedule: event ``i`` (0 = the response
head and the ``{"role":"assistant"}`` delta, 1…``tokens`` = one content token each, then the final chunk with
``finish_reason``, ``usage`` and ``time_info``, sent with the last token; no ``data: [DONE]``, as real Cerebras
streams end) is due ``i / rate`` seconds after the stream's start (its request's arrival, or its batch's start).
On each wake-up the loop sends, per stream, every event that has come due in **one** ``send`` (a slice of one
precomputed buffer shared by all streams): one event per send while the loop keeps up, several chunks per send
when it wakes late, so a client that reads slowly finds many events buffered (the situation client-side
coalescing is for). Emission never waits for the client: if a socket's buffer is full, due events are still
counted as emitted on schedule and are flushed when the socket drains.

Per stream it records (``time.monotonic()``, the system-wide clock on Linux, so comparable with a client process's):
``first_at`` / ``last_at``, when the first and the last content token were emitted (handed to ``send``, or
queued behind a full socket buffer); ``flushed_at``, when the kernel accepted the stream's last byte;
``behind_max_ms``, the most any event was emitted after its due time (the server's own lag: it is one Python
process too); ``sends`` and ``blocked`` (sends the socket took only in part). The stream's id is the text of the
request's last message (the benchmark sends ``"stream-…"``, which every client path passes on unchanged), and
the request body's top-level keys are kept (``body_keys``) so a client option that leaked onto the wire shows.

Routes:
* ``POST /v1/chat/completions`` with ``"stream": true`` → the paced stream (``text/event-stream``, chunked,
  keep-alive, the ``x-ratelimit-*`` headers a real 200 carries); without it → 400 (this server only streams).
* ``GET /v1/tcp_warming`` → 200, empty.
* ``GET /_bench/streams`` → JSON: ``tokens``, ``rate``, ``content_chars`` (of one stream), the server's CPU
  seconds so far and ``streams``: the records of the finished streams, oldest first.
* ``POST /_bench/reset?batch=K&wait=S`` → forgets the finished streams' records; with ``batch``, the next K
  streams are held until the K-th arrives (at most S seconds after the first) and then start their schedules
  together (``t0``), so K streams really run at once however long the client takes to open K connections; each
  record says how long its stream waited and whether its batch started complete (``"all"``) or on ``"timeout"``.

The server binds 127.0.0.1 only, can pin itself to one CPU (``--cpu``), prints its port on the first line of
stdout and exits when its stdin closes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import selectors
import socket
import subprocess
import sys
import time
from typing import Any

if __package__:
    from ._child import HOST, ChildServer
    from .loopback import _COMMON_HEADERS, stream_events
else:  # run as a script in the child process (``python paced.py``)
    from _child import HOST, ChildServer
    from loopback import _COMMON_HEADERS, stream_events

__all__ = ["DEFAULT_RATE", "DEFAULT_TOKENS", "PacedServer", "reset", "stream_records"]

DEFAULT_TOKENS = 4000
DEFAULT_RATE = 3000.0
_HEAD_LIMIT = 64 * 1024
_RECV = 256 * 1024


def _head(status: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status}"] + [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _json_response(status: str, body: bytes) -> bytes:
    return _head(status, [("content-type", "application/json"), ("content-length", str(len(body)))]) + body


def _error(status: str, message: str) -> bytes:
    body = {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    return _json_response(status, json.dumps(body).encode())


class _Script:
    """One stream's bytes, built once and shared by every stream: ``blob[:ends[i]]`` is events 0…i, each its own
    HTTP chunk (as a server that flushes every token writes them)."""

    def __init__(self, tokens: int, rate: float) -> None:
        self.tokens = tokens
        self.rate = rate
        events = stream_events(tokens + 2)  # the role delta, ``tokens`` content deltas, the final chunk
        self.content_chars = sum(len(json.loads(e)["choices"][0]["delta"].get("content", "")) for e in events)
        head = _head(
            "200 OK",
            [("content-type", "text/event-stream; charset=utf-8"), ("transfer-encoding", "chunked"), *_COMMON_HEADERS],
        )
        sse = [b"data: %s\n\n" % event for event in events]
        frames = [b"%x\r\n%s\r\n" % (len(piece), piece) for piece in sse]
        frames[0] = head + frames[0]
        frames[-1] += b"0\r\n\r\n"
        self.ends: list[int] = []
        size = 0
        for frame in frames:
            size += len(frame)
            self.ends.append(size)
        self.blob = memoryview(b"".join(frames))
        self.events = len(frames)  # tokens + 2

    def due(self, elapsed: float) -> int:
        """How many events are due ``elapsed`` seconds into a stream (the final chunk comes with the last token)."""
        n = int(elapsed * self.rate) + 1
        return self.events if n > self.tokens else n


class _Stream:
    __slots__ = (
        "arrived",
        "behind_max",
        "blocked",
        "body_keys",
        "emitted",
        "first_at",
        "flushed_at",
        "id",
        "last_at",
        "sends",
        "t0",
        "waited",
        "written",
    )

    def __init__(self, stream_id: str, arrived: float, body_keys: list[str]) -> None:
        self.id = stream_id
        self.arrived = arrived
        self.t0 = arrived  # the schedule's start: when the request arrived, or when its batch started
        self.waited: str | None = None  # in a batch: "all" (its batch started complete) or "timeout"
        self.body_keys = body_keys
        self.emitted = 0  # events emitted (sent, or queued behind a full socket buffer)
        self.written = 0  # bytes of the script the kernel has accepted
        self.first_at = 0.0
        self.last_at = 0.0
        self.flushed_at = 0.0
        self.behind_max = 0.0
        self.sends = 0
        self.blocked = 0

    def record(self, complete: bool) -> dict[str, Any]:
        return {
            "id": self.id,
            "t0": self.t0,
            "waited_ms": (self.t0 - self.arrived) * 1000,
            "batch": self.waited,
            "first_at": self.first_at,
            "last_at": self.last_at,
            "flushed_at": self.flushed_at,
            "behind_max_ms": self.behind_max * 1000,
            "sends": self.sends,
            "blocked": self.blocked,
            "complete": complete,
            "body_keys": self.body_keys,
        }


class _Conn:
    __slots__ = ("inbuf", "out", "sock", "stream", "want_write")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.inbuf = bytearray()
        self.out = bytearray()  # a non-stream response not yet fully written
        self.stream: _Stream | None = None
        self.want_write = False


def _message_text(body: dict[str, Any]) -> str:
    messages = body.get("messages") or [{}]
    content = messages[-1].get("content") if isinstance(messages[-1], dict) else None
    if isinstance(content, list):  # content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


class PacedLoop:
    def __init__(self, script: _Script, listener: socket.socket, stdin_fd: int | None) -> None:
        self.script = script
        self.listener = listener
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ, None)
        self.stdin_fd = stdin_fd
        if stdin_fd is not None:
            self.selector.register(stdin_fd, selectors.EVENT_READ, "stdin")
        self.active: list[_Conn] = []  # connections with a stream in progress
        self.records: list[dict[str, Any]] = []
        self.running = True
        # A batch: the next ``batch`` streams are held until the last of them arrives (or ``batch_wait`` s after
        # the first), then all start their schedules at once, so K streams really run at the same time however
        # long the client takes to open K connections.
        self.batch = 0
        self.batch_wait = 0.0
        self.waiting: list[_Conn] = []
        self.batch_deadline = 0.0

    # -- the loop --------------------------------------------------------------------------------------------

    def run(self) -> None:
        clock = time.monotonic
        while self.running:
            now = clock()
            if self.waiting and now >= self.batch_deadline:
                self._start_batch(now, "timeout")
            next_due = self._emit(now)
            if self.waiting and (next_due is None or self.batch_deadline < next_due):
                next_due = self.batch_deadline
            wait = None if next_due is None else next_due - clock()
            if wait is None:
                ready = self.selector.select(None)
            elif wait > 0.0015:
                ready = self.selector.select(wait - 0.001)  # epoll rounds up to whole milliseconds
            else:
                ready = self.selector.select(0)
                if not ready and wait > 0:
                    time.sleep(wait)  # sub-millisecond: the next event is due before epoll could wake us
            for key, mask in ready:
                if key.data is None:
                    self._accept()
                elif key.data == "stdin":
                    if not os.read(key.fd, 4096):
                        self.running = False
                else:
                    conn: _Conn = key.data
                    if mask & selectors.EVENT_WRITE:
                        self._flush(conn, clock())
                    if mask & selectors.EVENT_READ:
                        self._read(conn)

    def _emit(self, now: float) -> float | None:
        """Emit every due event of every stream (one send per stream); return when the next one is due."""
        script = self.script
        rate, tokens, last = script.rate, script.tokens, script.events
        next_due: float | None = None
        for conn in list(self.active):  # a flush can finish (remove) a stream
            stream = conn.stream
            if stream is None:
                continue
            if stream.emitted < last:
                due = script.due(now - stream.t0)
                if due > stream.emitted:
                    behind = now - stream.t0 - stream.emitted / rate  # the oldest newly due event's lateness
                    if behind > stream.behind_max:
                        stream.behind_max = behind
                    if stream.emitted <= 1 < due:
                        stream.first_at = now
                    if due > tokens >= stream.emitted:
                        stream.last_at = now
                    stream.emitted = due
                    if not conn.want_write:
                        self._flush(conn, now)
                if stream.emitted < last and conn.stream is stream:
                    at = stream.t0 + stream.emitted / rate
                    if next_due is None or at < next_due:
                        next_due = at
        return next_due

    def _flush(self, conn: _Conn, now: float) -> None:
        try:
            if conn.out:
                sent = conn.sock.send(conn.out)
                del conn.out[:sent]
                if conn.out:
                    self._want_write(conn, True)
                    return
            stream = conn.stream
            if stream is not None and stream.emitted:
                end = self.script.ends[stream.emitted - 1]
                if stream.written < end:
                    sent = conn.sock.send(self.script.blob[stream.written : end])
                    stream.sends += 1
                    stream.written += sent
                    if stream.written < end:
                        stream.blocked += 1
                        self._want_write(conn, True)
                        return
            if stream is not None and stream.emitted == self.script.events:
                stream.flushed_at = now
                self._finish(conn, complete=True)
        except BlockingIOError:
            self._want_write(conn, True)
            return
        except OSError:
            self._close(conn)
            return
        self._want_write(conn, False)

    def _want_write(self, conn: _Conn, want: bool) -> None:
        if conn.want_write != want and conn.sock.fileno() != -1:
            conn.want_write = want
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if want else 0)
            self.selector.modify(conn.sock, events, conn)

    def _start_batch(self, now: float, how: str) -> None:
        for conn in self.waiting:
            assert conn.stream is not None
            conn.stream.t0 = now
            conn.stream.waited = how
            self.active.append(conn)
        self.waiting = []
        self.batch = 0

    def _finish(self, conn: _Conn, *, complete: bool) -> None:
        stream, conn.stream = conn.stream, None
        if stream is not None:
            self.records.append(stream.record(complete))
            (self.active if conn in self.active else self.waiting).remove(conn)
        if complete and conn.inbuf:
            self._handle(conn)  # a request that arrived while the stream ran

    # -- connections and requests ---------------------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except BlockingIOError:
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(sock)
            self.selector.register(sock, selectors.EVENT_READ, conn)

    def _read(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(_RECV)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close(conn)
            return
        conn.inbuf += data
        if conn.stream is None:
            self._handle(conn)

    def _close(self, conn: _Conn) -> None:
        if conn.stream is not None:
            self._finish(conn, complete=False)
        try:
            self.selector.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()

    def _handle(self, conn: _Conn) -> None:
        """Answer the complete requests in ``conn.inbuf`` until one starts a stream (which must end first)."""
        while conn.stream is None and conn.sock.fileno() != -1:
            buf = conn.inbuf
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > _HEAD_LIMIT:
                    self._close(conn)
                return
            lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if "chunked" in headers.get("transfer-encoding", "").lower():
                conn.out += _error("411 Length Required", "send the request body with a content-length")
                self._flush(conn, time.monotonic())
                self._close(conn)
                return
            length = int(headers.get("content-length", "0") or 0)
            if len(buf) < end + 4 + length:
                return
            body = bytes(buf[end + 4 : end + 4 + length])
            del buf[: end + 4 + length]
            method, _, rest = lines[0].partition(" ")
            path = rest.partition(" ")[0]
            self._answer(conn, method, path, body)
            if conn.stream is None:
                self._flush(conn, time.monotonic())
            if headers.get("connection", "").lower() == "close" and conn.stream is None:
                self._close(conn)
                return

    def _answer(self, conn: _Conn, method: str, path: str, body: bytes) -> None:
        if method == "POST" and path == "/v1/chat/completions":
            try:
                request = json.loads(body)
            except ValueError:
                request = None
            if not isinstance(request, dict) or request.get("stream") is not True:
                conn.out += _error("400 Bad Request", "the paced benchmark server answers streamed requests only")
                return
            now = time.monotonic()
            conn.stream = _Stream(_message_text(request), now, sorted(request))
            if not self.batch:
                self.active.append(conn)  # the loop sends its head and role delta on its next pass
                return
            if not self.waiting:
                self.batch_deadline = now + self.batch_wait
            self.waiting.append(conn)
            if len(self.waiting) >= self.batch:
                self._start_batch(now, "all")
        elif method == "GET" and path == "/v1/tcp_warming":
            conn.out += _json_response("200 OK", b"")
        elif method == "GET" and path == "/_bench/streams":
            usage = resource.getrusage(resource.RUSAGE_SELF)
            report = {
                "tokens": self.script.tokens,
                "rate": self.script.rate,
                "content_chars": self.script.content_chars,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "active": len(self.active),
                "streams": self.records,
            }
            conn.out += _json_response("200 OK", json.dumps(report).encode())
        elif method == "POST" and path.partition("?")[0] == "/_bench/reset":
            query = dict(p.partition("=")[::2] for p in path.partition("?")[2].split("&") if p)
            if self.waiting:
                self._start_batch(time.monotonic(), "timeout")
            self.records = []
            self.batch = int(query.get("batch", "0"))
            self.batch_wait = float(query.get("wait", "30"))
            conn.out += _json_response("200 OK", b"{}")
        else:
            conn.out += _json_response("404 Not Found", b'{"message":"no such route"}')


def _serve(tokens: int, rate: float) -> None:
    script = _Script(tokens, rate)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, 0))
    listener.listen(4096)
    listener.setblocking(False)
    loop = PacedLoop(script, listener, sys.stdin.fileno())
    sys.stdout.write(f"{listener.getsockname()[1]}\n")
    sys.stdout.flush()
    loop.run()


# -- the parent's side ------------------------------------------------------------------------------------------


def _call(origin: str, method: str, path: str) -> Any:
    host, _, port = origin.removeprefix("http://").partition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, path, body=b"" if method == "POST" else None)
        response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"paced server: {method} {path} answered {response.status}: {data[:200]!r}")
        return json.loads(data)
    finally:
        connection.close()


def stream_records(origin: str) -> dict[str, Any]:
    """What ``GET /_bench/streams`` says: the finished streams' records and the server's settings and CPU."""
    result: dict[str, Any] = _call(origin, "GET", "/_bench/streams")
    return result


def reset(origin: str, batch: int = 0, wait: float = 30.0) -> None:
    """Forget the finished streams; with ``batch``, hold the next ``batch`` streams until all have arrived (at
    most ``wait`` seconds after the first), then start them together."""
    _call(origin, "POST", f"/_bench/reset?batch={batch}&wait={wait:g}")


class PacedServer(ChildServer):
    """The paced server in a child process: ``with PacedServer(tokens=4000, rate=3000, cpu=0) as server: …``."""

    def __init__(self, tokens: int = DEFAULT_TOKENS, rate: float = DEFAULT_RATE, cpu: int | None = None) -> None:
        super().__init__()
        self.tokens = tokens
        self.rate = rate
        self.cpu = cpu

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> PacedServer:
        command = [sys.executable, "-u", __file__, "--tokens", str(self.tokens), "--rate", repr(self.rate)]
        if self.cpu is not None:
            command += ["--cpu", str(self.cpu)]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        self._process = process
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"paced server failed to start (said {line!r})")
        self.port = int(line)
        return self


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=DEFAULT_TOKENS, help="content tokens per stream")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help="tokens per second per stream")
    parser.add_argument("--cpu", type=int, help="pin the server to this CPU")
    args = parser.parse_args(argv)
    if args.tokens < 1 or args.rate <= 0:
        parser.error("--tokens must be at least 1 and --rate positive")
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    _serve(args.tokens, args.rate)


if __name__ == "__main__":
    main()
