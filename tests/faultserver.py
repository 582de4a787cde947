"""An independent fault-injecting HTTP/1.1 server for the chat-completions API.

This module owns a small raw HTTP/1.1 server on 127.0.0.1 (random port) that answers each request with the
next ``Fault`` of a script and records every request it received (headers, body, arrival time), so a test can
assert what a client did: how many attempts, how far apart, with which body. It is written from the HTTP/1.1
message syntax (RFC 9112: request parsing, ``Content-Length`` and ``chunked`` framing, close-delimited bodies),
the server-sent events format (WHATWG HTML "Server-sent events": ``data:`` lines, events ended by a blank line,
comments, ``event:``) and the shape of recorded Cerebras and OpenRouter traffic, with the standard library only
(``socket``, ``select``, ``threading``, ``json``).

It must not import ``cerebras_adapters``: neither the client nor the ``cerebras_adapters.testing`` emulator.
It is an independent world: a misreading of the wire shared by the client and the emulator cannot make it
agree. It must not know what any client does with a fault either; the expectations live in the tests.

Usage::

    with FaultServer() as server:
        server.script = [Fault.status(503), Fault.ok()]   # each request takes the next fault; the last repeats
        ...  # point a client at f"{server.url}/v1"
        assert len(server.requests) == 2

With ``only_api_paths=True`` only paths under ``/v1/`` (Cerebras) and ``/api/v1/`` (OpenRouter) are the API: any
other path gets a 404 with an empty body, as a server answers a path it does not serve (a client given a base URL
without its version path lands there), without using up a fault of the script. By default every path plays the
script.

Whether a request asked for a stream is read from its JSON body (``"stream": true``); most faults have a
streamed form (``text/event-stream``, chunked, like Cerebras) and a non-streamed form (one JSON body). Faults
that hold a connection open (``trickle``, ``stall``) give up after ``give_up_after`` seconds (30 by default),
as soon as the client closes its end, or when the server stops.
"""

from __future__ import annotations

import email.utils
import http
import json
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CONTENT",
    "MODEL",
    "Fault",
    "FaultServer",
    "RecordedRequest",
    "completion_body",
    "retry_after_date",
    "stream_events",
    "text_of",
]

MODEL = "gpt-oss-120b"
OPENROUTER_MODEL = "openai/gpt-oss-120b"
CONTENT = ("Hello", " from", " thé ☕", " fault", " server", ".", " More", " words", " follow", " here")
"""The content pieces of an answer; chunk ``i`` carries ``CONTENT[i % len(CONTENT)]``. JSON is sent as raw UTF-8
(not ``\\u`` escapes), as real servers do, so multi-byte characters can be split across reads."""

HeaderValue = str | Callable[[], str]


def text_of(chunks: int) -> str:
    """The text carried by the first ``chunks`` content chunks (and by a whole answer of that many)."""
    return "".join(CONTENT[i % len(CONTENT)] for i in range(chunks))


def retry_after_date(seconds: float) -> Callable[[], str]:
    """A ``retry-after`` value: the HTTP-date ``seconds`` after the moment the response is sent (RFC 9110
    §10.2.3; an HTTP-date has one-second resolution, so the hint is in ``(seconds - 1, seconds]``)."""
    return lambda: email.utils.formatdate(time.time() + seconds, usegmt=True)


# -- the wire: what a well-formed answer looks like ------------------------------------------------------------

_CREATED = 1760396445
_USAGE = {"prompt_tokens": 12, "completion_tokens": 0, "total_tokens": 12}
_TIME_INFO = {
    "queue_time": 0.00009326,
    "prompt_time": 0.000082939,
    "completion_time": 0.0044835,
    "total_time": 0.017619848,
    "created": _CREATED,
}


def _ids(openrouter: bool) -> dict[str, Any]:
    if openrouter:
        return {"id": "gen-fault-1", "model": OPENROUTER_MODEL}
    return {"id": "chatcmpl-fault-1", "model": MODEL}


def _usage(chunks: int) -> dict[str, int]:
    return {**_USAGE, "completion_tokens": chunks, "total_tokens": _USAGE["prompt_tokens"] + chunks}


def _chunk(
    delta: dict[str, Any],
    *,
    finish_reason: str | None = None,
    provider: str | None = None,
    openrouter: bool = False,
    tail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    ids = _ids(openrouter)
    chunk: dict[str, Any] = {
        "id": ids["id"],
        "object": "chat.completion.chunk",
        "created": _CREATED,
        "model": ids["model"],
        "system_fingerprint": "fp_fault",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    if provider is not None:
        chunk["provider"] = provider
    if tail:
        chunk.update(tail)
    return chunk


def content_chunk(i: int, *, provider: str | None = None, openrouter: bool = False) -> dict[str, Any]:
    """Content chunk ``i`` (the first also carries ``role``)."""
    delta: dict[str, Any] = {"content": CONTENT[i % len(CONTENT)]}
    if i == 0:
        delta = {"role": "assistant", **delta}
    return _chunk(delta, provider=provider, openrouter=openrouter)


def final_chunk(chunks: int, *, provider: str | None = None, openrouter: bool = False) -> dict[str, Any]:
    """Cerebras' last chunk: an empty delta with ``finish_reason``, plus ``usage`` and ``time_info``."""
    tail = {"usage": _usage(chunks), "time_info": _TIME_INFO}
    return _chunk({}, finish_reason="stop", provider=provider, openrouter=openrouter, tail=tail)


def sse(payload: Any, *, event: str | None = None) -> bytes:
    """One SSE event: optional ``event:`` line, one ``data:`` line, the blank line that dispatches it."""
    data = payload if isinstance(payload, bytes) else _json(payload)
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + data + b"\n\n"


def stream_events(chunks: int, *, providers: Iterable[str] | None = None, openrouter: bool = False) -> list[bytes]:
    """A whole streamed answer: ``chunks`` content events then the final one (``chunks + 1`` events).
    ``providers`` gives each event's top-level ``provider`` (OpenRouter); Cerebras sends none."""
    names = list(providers) if providers is not None else [None] * (chunks + 1)
    events = [sse(content_chunk(i, provider=names[i], openrouter=openrouter)) for i in range(chunks)]
    events.append(sse(final_chunk(chunks, provider=names[chunks], openrouter=openrouter)))
    return events


def completion_body(
    chunks: int, *, provider: str | None = None, openrouter: bool = False, finish_reason: str | None = "stop"
) -> dict[str, Any]:
    """The non-streamed answer carrying the same text as ``stream_events(chunks)``."""
    ids = _ids(openrouter)
    body: dict[str, Any] = {
        "id": ids["id"],
        "object": "chat.completion",
        "created": _CREATED,
        "model": ids["model"],
        "system_fingerprint": "fp_fault",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text_of(chunks)}, "finish_reason": finish_reason}
        ],
        "usage": _usage(chunks),
        "time_info": _TIME_INFO,
    }
    if provider is not None:
        body["provider"] = provider
    return body


def _json(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


# Error bodies as Cerebras sends them (flat, most 4xx) and as its 2026 5xx do (enveloped, with "" fields).
_ERROR_TEXT: dict[int, tuple[str, str, str | None, str | None]] = {
    400: ("Invalid request: messages.0.content is required", "invalid_request_error", "messages", "wrong_api_format"),
    401: ("Wrong API Key", "invalid_request_error", "api_key", "wrong_api_key"),
    402: ("Payment required: add credits to continue", "payment_required_error", None, "payment_required"),
    403: ("You do not have access to this model", "permission_denied_error", "model", "permission_denied"),
    404: ("Model gpt-oss-120b does not exist or you do not have access to it.", "not_found_error", "model",
          "model_not_found"),
    408: ("Request timed out", "request_timeout_error", None, "request_timeout"),
    409: ("Conflict, please retry", "conflict_error", None, "conflict"),
    413: ("Request payload too large", "payload_too_large_error", None, "payload_too_large"),
    422: ("Unprocessable entity", "invalid_request_error", "messages", "validation_error"),
    429: ("Requests per minute limit exceeded - too many requests sent.", "too_many_requests_error", "quota",
          "request_quota_exceeded"),
    500: ("Encountered a server error, please try again.", "server_error", None, None),
    502: ("Bad gateway", "server_error", None, None),
    503: ("We're experiencing high traffic right now!", "server_error", None, None),
}


def error_body(status: int, shape: str = "flat", message: str | None = None) -> dict[str, Any]:
    """An error body in Cerebras' flat shape ``{message, type, param, code}`` or the envelope shape
    ``{"error": {...}, "status_code": N}`` (whose empty fields are ``""``)."""
    text, etype, param, code = _ERROR_TEXT.get(status, (f"HTTP {status}", "server_error", None, None))
    text = message or text
    if shape == "flat":
        return {"message": text, "type": etype, "param": param, "code": code}
    if shape == "envelope":
        inner = {"message": text, "type": etype, "param": param or "", "code": code or "", "id": ""}
        return {"error": inner, "status_code": status}
    raise ValueError(f"unknown error body shape {shape!r}")


# -- faults ----------------------------------------------------------------------------------------------------

_API_PREFIXES = ("/v1/", "/api/v1/")


def _is_api_path(target: str) -> bool:
    return target.split("?", 1)[0].startswith(_API_PREFIXES)


@dataclass
class Fault:
    """What the server does with one request. Build one with the named constructors."""

    kind: str
    http_status: int = 200
    headers: dict[str, HeaderValue] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return f"{self.kind}({self.http_status}, {self.options})"

    # Well-formed answers.
    @classmethod
    def ok(cls, chunks: int = 3, *, framing: str = "chunked") -> Fault:
        """A normal answer: ``chunks`` content chunks; streamed chunked (``framing="close"``: close-delimited)."""
        return cls("ok", options={"chunks": chunks, "framing": framing})

    @classmethod
    def openrouter(cls, wrong_provider_on: str | None = None, chunks: int = 3) -> Fault:
        """OpenRouter's stream: a ``: OPENROUTER PROCESSING`` comment, chunks with ``"provider": "Cerebras"``
        and ``data: [DONE]``; ``wrong_provider_on="first"|"last"`` puts ``"provider": "Groq"`` on that chunk.
        Non-streamed: one completion whose ``provider`` is Groq when ``wrong_provider_on`` is set."""
        if wrong_provider_on not in (None, "first", "last"):
            raise ValueError(wrong_provider_on)
        return cls("openrouter", options={"chunks": chunks, "wrong": wrong_provider_on})

    # Error statuses.
    @classmethod
    def status(
        cls, status: int, *, shape: str = "flat", headers: Mapping[str, HeaderValue] | None = None,
        message: str | None = None,
    ) -> Fault:
        """``status`` with a JSON error body in the ``flat`` or ``envelope`` shape, plus extra headers
        (``retry-after``, ``retry-after-ms``, ``x-should-retry``; a callable value is evaluated when sent)."""
        return cls("status", status, dict(headers or {}), {"shape": shape, "message": message})

    @classmethod
    def empty_body(cls, status: int = 502) -> Fault:
        """``status`` with ``Content-Length: 0``."""
        return cls("empty_body", status)

    @classmethod
    def html_body(cls, status: int = 502) -> Fault:
        """``status`` with a proxy's HTML page (``<html>502 Bad Gateway</html>``)."""
        return cls("html_body", status)

    @classmethod
    def truncated_json(cls, status: int = 502) -> Fault:
        """``status`` whose JSON error body stops half-way; the HTTP framing itself is intact."""
        return cls("truncated_json", status)

    @classmethod
    def cut_body(cls, status: int = 503, *, declared: int = 200, sent: int = 40, reset: bool = False) -> Fault:
        """``status`` with ``content-type: application/json`` and ``Content-Length: declared``, of which only
        ``sent`` bytes are sent before the connection is closed (``reset=True``: reset)."""
        return cls("cut_body", status, options={"declared": declared, "sent": sent, "reset": reset})

    # Broken connections.
    @classmethod
    def reset_before_response(cls) -> Fault:
        """The request is read, then the connection is reset before any response byte."""
        return cls("reset_before_response")

    @classmethod
    def reset_mid_body(cls, after_chunks: int = 3) -> Fault:
        """A 200 whose body is cut by a reset: streamed after ``after_chunks`` content chunks; non-streamed
        half-way through the JSON (``Content-Length`` announces the whole body)."""
        return cls("reset_mid_body", options={"after": after_chunks})

    @classmethod
    def truncated_ok(cls, after_chunks: int = 3) -> Fault:
        """A 200 with a ``Content-Length`` larger than what is sent (``after_chunks`` events, or half of the
        JSON), then a clean close (FIN)."""
        return cls("truncated_ok", options={"after": after_chunks})

    # Streams that go wrong.
    @classmethod
    def malformed_event(cls, after_chunks: int = 3) -> Fault:
        """``after_chunks`` good events, then ``data: {not json``, then the rest of the answer.
        Non-streamed: a 200 whose body is ``{not json``."""
        return cls("malformed_event", options={"after": after_chunks})

    @classmethod
    def invalid_utf8_event(cls, after_chunks: int = 3) -> Fault:
        """``after_chunks`` good events, then one whose content holds bytes that are not UTF-8 (``\\xff\\xfe``),
        then the rest. Non-streamed: the completion with those bytes inside its content."""
        return cls("invalid_utf8_event", options={"after": after_chunks})

    @classmethod
    def error_event(cls, after_chunks: int = 3, *, status_code: int | None = 503, event_line: bool = False) -> Fault:
        """``after_chunks`` good events, then an error payload ``{"error": {...}, "status_code": N}`` (no
        ``status_code`` when None); ``event_line=True`` also sends ``event: error``. The stream then ends."""
        return cls("error_event", options={"after": after_chunks, "status_code": status_code, "event": event_line})

    @classmethod
    def done_without_finish(cls, after_chunks: int = 3) -> Fault:
        """``after_chunks`` content events, then ``data: [DONE]``: no chunk ever carries ``finish_reason``."""
        return cls("done_without_finish", options={"after": after_chunks})

    @classmethod
    def close_mid_event(cls, after_chunks: int = 3, *, cut: str = "line") -> Fault:
        """``after_chunks`` good events, then an event that never gets its terminating blank line, then a clean
        end of the HTTP body. ``cut="line"``: a whole ``data:`` line of a valid chunk (content ``" LOST"``);
        ``cut="json"``: the ``data:`` line stops inside its JSON."""
        if cut not in ("line", "json"):
            raise ValueError(cut)
        return cls("close_mid_event", options={"after": after_chunks, "cut": cut})

    # Slow servers.
    @classmethod
    def trickle(cls, period: float = 0.2, *, chunks: int = 3, give_up_after: float | None = None) -> Fault:
        """Headers at once, then a valid body one byte every ``period`` seconds."""
        return cls("trickle", options={"period": period, "chunks": chunks, "give_up": give_up_after})

    @classmethod
    def stall(cls, after_chunks: int = 0, *, give_up_after: float | None = None) -> Fault:
        """Headers, then ``after_chunks`` events (non-streamed: half of the body when ``after_chunks`` > 0),
        then nothing until the server gives up and closes."""
        return cls("stall", options={"after": after_chunks, "give_up": give_up_after})

    # Bodies that lie about their encoding.
    @classmethod
    def bad_gzip(cls) -> Fault:
        """``content-encoding: gzip`` on a body that is plain JSON / plain SSE."""
        return cls("bad_gzip")


_UNKNOWN_PATH = Fault("unknown_path", 404)
"""What any path outside the API gets (see the module docstring); it is not part of a script."""


# -- requests ---------------------------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request as the server read it."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    arrived: float
    """``time.monotonic()`` when the request head had been read."""
    fault: Fault | None = None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def stream(self) -> bool:
        payload = self.json
        return isinstance(payload, dict) and payload.get("stream") is True


class _Closed(Exception):
    """The peer closed the connection (or the server is stopping)."""


class _Connection:
    """One accepted socket: buffered reads polled against the server's stop flag."""

    def __init__(self, sock: socket.socket, stopping: threading.Event) -> None:
        self.sock = sock
        self.stopping = stopping
        self.buf = b""
        self.closed = False
        sock.settimeout(5.0)  # bounds a send to a client that stopped reading

    def _fill(self, until: float) -> None:
        while True:
            if self.stopping.is_set():
                raise _Closed
            remaining = until - time.monotonic()
            if remaining <= 0:
                raise _Closed
            readable, _, _ = select.select([self.sock], [], [], min(remaining, 0.1))
            if readable:
                data = self.sock.recv(65536)
                if not data:
                    raise _Closed
                self.buf += data
                return

    def read_until(self, marker: bytes, until: float, limit: int = 1 << 20) -> bytes:
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise _Closed
            self._fill(until)
        head, _, self.buf = self.buf.partition(marker)
        return head

    def read_exact(self, n: int, until: float) -> bytes:
        while len(self.buf) < n:
            self._fill(until)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_request(self, idle: float) -> RecordedRequest | None:
        """The next request, or None when the client closed an idle connection."""
        try:
            head = self.read_until(b"\r\n\r\n", time.monotonic() + idle)
        except _Closed:
            return None
        arrived = time.monotonic()
        until = arrived + 10.0
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = [*lines[0].split(" ", 2), "", ""][:3]
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers.append((name.strip(), value.strip()))
        lowered = {k.lower(): v for k, v in headers}
        if "chunked" in lowered.get("transfer-encoding", "").lower():
            parts = []
            while True:
                size = int(self.read_until(b"\r\n", until).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.read_until(b"\r\n", until)  # no trailers expected: the empty line ending the body
                    break
                parts.append(self.read_exact(size, until))
                self.read_exact(2, until)
            body = b"".join(parts)
        else:
            body = self.read_exact(int(lowered.get("content-length", "0") or 0), until)
        return RecordedRequest(method, target, headers, body, arrived)

    def send(self, data: bytes) -> None:
        if self.stopping.is_set():
            raise _Closed
        self.sock.sendall(data)

    def client_gone(self) -> bool:
        """Whether the client closed its end (a readable socket with nothing to read)."""
        readable, _, _ = select.select([self.sock], [], [], 0)
        if not readable:
            return False
        try:
            return self.sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds``; False as soon as the client has gone or the server is stopping."""
        until = time.monotonic() + seconds
        while True:
            if self.stopping.is_set() or self.client_gone():
                return False
            remaining = until - time.monotonic()
            if remaining <= 0:
                return True
            self.stopping.wait(min(remaining, 0.02))

    def reset(self) -> None:
        """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            self.sock.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.sock.close()


# -- responses --------------------------------------------------------------------------------------------------

_SSE_TYPE = "text/event-stream; charset=utf-8"
_JSON_TYPE = "application/json"


class _Body:
    """Writes a body with one framing: ``chunked``, ``close`` (ends at connection close) or ``length``."""

    def __init__(self, conn: _Connection, framing: str) -> None:
        self.conn = conn
        self.framing = framing

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self.framing == "chunked":
            self.conn.send(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        else:
            self.conn.send(data)

    def end(self) -> None:
        if self.framing == "chunked":
            self.conn.send(b"0\r\n\r\n")


class _Responder:
    """Plays one fault on one connection. ``respond`` returns whether the connection may serve another
    request (a complete, well-framed response on a connection nobody asked to close)."""

    def __init__(self, server: FaultServer, conn: _Connection, request: RecordedRequest, fault: Fault) -> None:
        self.server = server
        self.conn = conn
        self.request = request
        self.fault = fault
        self.opts = fault.options
        self.stream = request.stream
        self.openrouter = "/api/" in request.target

    @property
    def give_up(self) -> float:
        value = self.opts.get("give_up")
        return float(value) if value is not None else self.server.give_up_after

    def head(self, status: int, headers: Iterable[tuple[str, str]], framing: str, length: int | None = None,
             *, close: bool = False) -> None:
        """The status line and headers. ``framing="close"`` (or ``close=True`` with another framing) announces
        ``connection: close``: a server that closes after a complete answer says so (RFC 9112 section 9.6), or a
        client may reuse the connection in the moment before the close reaches it."""
        reason = http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else "Status"
        lines = [f"HTTP/1.1 {status} {reason}", f"date: {email.utils.formatdate(usegmt=True)}", "server: faultserver"]
        lines.append(f"x-request-id: fault-{len(self.server.requests)}")
        lines.extend(f"{k}: {v}" for k, v in headers)
        for name, value in self.fault.headers.items():
            lines.append(f"{name}: {value() if callable(value) else value}")
        if framing == "chunked":
            lines.append("transfer-encoding: chunked")
        elif framing == "length":
            lines.append(f"content-length: {length if length is not None else 0}")
        if framing not in ("chunked", "length") or close:
            lines.append("connection: close")
        self.conn.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def whole(self, status: int, body: bytes, content_type: str | None = _JSON_TYPE,
              extra: Iterable[tuple[str, str]] = ()) -> bool:
        headers = [("content-type", content_type)] if content_type else []
        self.head(status, [*headers, *extra], "length", len(body))
        self.conn.send(body)
        return True

    def sse_head(self, framing: str = "chunked", extra: Iterable[tuple[str, str]] = (),
                 length: int | None = None) -> _Body:
        self.head(200, [("content-type", _SSE_TYPE), ("cache-control", "no-cache"), *extra], framing, length)
        return _Body(self.conn, "close" if framing == "length" else framing)

    def events(self, chunks: int) -> list[bytes]:
        return stream_events(chunks, openrouter=self.openrouter)

    def answer(self, chunks: int = 3) -> bytes:
        return _json(completion_body(chunks, openrouter=self.openrouter))

    def respond(self) -> bool:
        handler = getattr(self, f"_{self.fault.kind}")
        keep: bool = handler()
        return keep

    # Well-formed answers.
    def _ok(self) -> bool:
        chunks = self.opts.get("chunks", 3)
        if not self.stream:
            return self.whole(200, self.answer(chunks))
        framing = self.opts.get("framing", "chunked")
        body = self.sse_head(framing)
        for event in self.events(chunks):
            body.write(event)
        body.end()
        return framing == "chunked"

    def _openrouter(self) -> bool:
        chunks, wrong = self.opts["chunks"], self.opts["wrong"]
        if not self.stream:
            provider = "Groq" if wrong else "Cerebras"
            return self.whole(200, _json(completion_body(chunks, provider=provider, openrouter=True)))
        providers = ["Cerebras"] * (chunks + 1)
        if wrong == "first":
            providers[0] = "Groq"
        elif wrong == "last":
            providers[-1] = "Groq"
        body = self.sse_head()
        body.write(b": OPENROUTER PROCESSING\n\n")
        for event in stream_events(chunks, providers=providers, openrouter=True):
            body.write(event)
        body.write(sse(b"[DONE]"))
        body.end()
        return True

    # Paths outside the API.
    def _unknown_path(self) -> bool:
        return self.whole(404, b"", content_type=None)

    # Error statuses.
    def _status(self) -> bool:
        payload = error_body(self.fault.http_status, self.opts.get("shape", "flat"), self.opts.get("message"))
        return self.whole(self.fault.http_status, _json(payload))

    def _empty_body(self) -> bool:
        return self.whole(self.fault.http_status, b"", content_type=None)

    def _html_body(self) -> bool:
        page = f"<html>{self.fault.http_status} {http.HTTPStatus(self.fault.http_status).phrase}</html>".encode()
        return self.whole(self.fault.http_status, page, content_type="text/html")

    def _truncated_json(self) -> bool:
        full = _json(error_body(self.fault.http_status, "envelope"))
        return self.whole(self.fault.http_status, full[: len(full) // 2])

    def _cut_body(self) -> bool:
        declared, sent = self.opts["declared"], self.opts["sent"]
        payload = _json(error_body(self.fault.http_status, "envelope"))
        payload = payload + b" " * max(0, declared - len(payload))  # whitespace after JSON is still JSON
        self.head(self.fault.http_status, [("content-type", _JSON_TYPE)], "length", declared)
        self.conn.send(payload[:sent])
        self.conn.reset() if self.opts["reset"] else self.conn.close()
        return False

    # Broken connections.
    def _reset_before_response(self) -> bool:
        self.conn.reset()
        return False

    def _partial_answer(self, after: int, *, half_body: bool) -> None:
        """A 200 cut short: the first ``after`` events of a stream, or a JSON answer's head (and its first half
        when ``half_body``)."""
        if self.stream:
            body = self.sse_head()
            for event in self.events(after)[:after]:
                body.write(event)
        else:
            answer = self.answer()
            self.head(200, [("content-type", _JSON_TYPE)], "length", len(answer))
            if half_body:
                self.conn.send(answer[: len(answer) // 2])

    def _reset_mid_body(self) -> bool:
        self._partial_answer(self.opts["after"], half_body=True)
        self.conn.reset()
        return False

    def _truncated_ok(self) -> bool:
        after = self.opts["after"]
        if self.stream:
            events = self.events(after)
            body = self.sse_head("length", length=len(b"".join(events)) + 1024)
            for event in events[:after]:
                body.write(event)
        else:
            answer = self.answer()
            self.head(200, [("content-type", _JSON_TYPE)], "length", len(answer) + 1024)
            self.conn.send(answer[: len(answer) // 2])
        self.conn.close()
        return False

    # Streams that go wrong.
    def _bad_event_then_rest(self, bad: bytes) -> bool:
        after = self.opts["after"]
        events = self.events(after + 1)
        body = self.sse_head()
        for event in events[:after]:
            body.write(event)
        body.write(bad)
        for event in events[after + 1 :]:
            body.write(event)
        body.end()
        return True

    def _malformed_event(self) -> bool:
        if not self.stream:
            return self.whole(200, b"{not json")
        return self._bad_event_then_rest(b"data: {not json\n\n")

    def _invalid_utf8_event(self) -> bool:
        marker = "@@INVALID@@"
        if not self.stream:
            payload = completion_body(3, openrouter=self.openrouter)
            payload["choices"][0]["message"]["content"] = marker
            return self.whole(200, _json(payload).replace(marker.encode(), b"\xff\xfe bad"))
        chunk = content_chunk(self.opts["after"], openrouter=self.openrouter)
        chunk["choices"][0]["delta"]["content"] = marker
        return self._bad_event_then_rest(sse(chunk).replace(marker.encode(), b"\xff\xfe bad"))

    def _error_payload(self) -> dict[str, Any]:
        status = self.opts.get("status_code")
        inner = {"message": "Stream aborted: the model server went away", "type": "server_error", "param": "",
                 "code": "", "id": ""}
        if status is None:
            return {"error": inner}
        return {"error": inner, "status_code": status}

    def _error_event(self) -> bool:
        if not self.stream:
            return self.whole(200, _json(self._error_payload()))
        after = self.opts["after"]
        body = self.sse_head()
        for event in self.events(after)[:after]:
            body.write(event)
        body.write(sse(self._error_payload(), event="error" if self.opts["event"] else None))
        body.end()
        return True

    def _done_without_finish(self) -> bool:
        after = self.opts["after"]
        if not self.stream:
            return self.whole(200, _json(completion_body(after, openrouter=self.openrouter, finish_reason=None)))
        body = self.sse_head()
        for event in self.events(after)[:after]:
            body.write(event)
        body.write(sse(b"[DONE]"))
        body.end()
        return True

    def _close_mid_event(self) -> bool:
        after = self.opts["after"]
        if not self.stream:
            answer = self.answer()
            return self.whole(200, answer[: len(answer) // 2])
        body = self.sse_head()
        for event in self.events(after)[:after]:
            body.write(event)
        lost = content_chunk(after, openrouter=self.openrouter)
        lost["choices"][0]["delta"]["content"] = " LOST"
        line = b"data: " + _json(lost) + b"\n"
        body.write(line if self.opts["cut"] == "line" else line[: len(line) // 2])
        body.end()
        return True

    # Slow servers.
    def _trickle(self) -> bool:
        period, chunks = self.opts["period"], self.opts["chunks"]
        if self.stream:
            payload = b"".join(self.events(chunks))
            self.sse_head("close")
        else:
            payload = self.answer(chunks)
            # A complete answer and then a close: announced, as a server that closes after answering does.
            self.head(200, [("content-type", _JSON_TYPE)], "length", len(payload), close=True)
        until = time.monotonic() + self.give_up
        for i in range(len(payload)):
            self.conn.send(payload[i : i + 1])
            if time.monotonic() >= until or not self.conn.wait(period):
                break
        self.conn.close()
        return False

    def _stall(self) -> bool:
        after = self.opts["after"]
        self._partial_answer(after, half_body=bool(after))
        self.conn.wait(self.give_up)
        self.conn.close()
        return False

    def _bad_gzip(self) -> bool:
        gzip = [("content-encoding", "gzip")]
        if not self.stream:
            return self.whole(200, self.answer(), extra=gzip)
        body = self.sse_head(extra=gzip)
        for event in self.events(3):
            body.write(event)
        body.end()
        return True


# -- the server -------------------------------------------------------------------------------------------------


class FaultServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 playing a script of faults (see the module docstring).

    ``script`` is consumed one fault per request, the last one repeating; ``requests`` lists what arrived,
    oldest first. ``give_up_after`` bounds every fault that holds a connection open; ``stop()`` (or leaving the
    ``with`` block) ends every connection and joins every thread. ``only_api_paths=True`` answers paths outside
    ``/v1/`` and ``/api/v1/`` with an empty 404 instead of the script.
    """

    def __init__(
        self,
        script: Iterable[Fault] = (),
        *,
        give_up_after: float = 30.0,
        idle_timeout: float = 30.0,
        only_api_paths: bool = False,
    ):
        self.give_up_after = give_up_after
        self.only_api_paths = only_api_paths
        self.idle_timeout = idle_timeout
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._script: list[Fault] = list(script) or [Fault.ok()]
        self._position = 0
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: set[threading.Thread] = set()
        self._conns: set[_Connection] = set()
        self._accepter: threading.Thread | None = None
        self._wake_reader, self._wake_writer = socket.socketpair()  # wakes the accept loop on stop()
        self.port = 0

    # The script.
    @property
    def script(self) -> list[Fault]:
        return list(self._script)

    @script.setter
    def script(self, faults: Iterable[Fault]) -> None:
        faults = list(faults)
        if not faults:
            raise ValueError("a script needs at least one fault")
        with self._lock:
            self._script = faults
            self._position = 0

    def reset(self, script: Iterable[Fault] = ()) -> None:
        """Start over: forget the recorded requests and play ``script`` (a normal answer when empty)."""
        faults = list(script) or [Fault.ok()]
        with self._lock:
            self.requests = []
            self._script = faults
            self._position = 0

    def _next_fault(self) -> Fault:
        with self._lock:
            fault = self._script[min(self._position, len(self._script) - 1)]
            self._position += 1
            return fault

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def arrivals(self) -> list[float]:
        """Arrival times of the requests, in seconds after the first one."""
        if not self.requests:
            return []
        first = self.requests[0].arrived
        return [r.arrived - first for r in self.requests]

    # Lifecycle.
    def start(self) -> FaultServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._accepter = threading.Thread(target=self._accept_loop, name=f"faultserver-{self.port}", daemon=True)
        self._accepter.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._wake_writer.send(b"x")
        if self._accepter is not None:
            self._accepter.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
        self._wake_reader.close()
        self._wake_writer.close()
        with self._lock:
            conns, threads = list(self._conns), list(self._threads)
        for conn in conns:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in threads:
            thread.join(timeout=5)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            readable, _, _ = select.select([self._listener, self._wake_reader], [], [], 1.0)
            if self._listener not in readable:
                continue
            try:
                sock, _ = self._listener.accept()
            except OSError:
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            with self._lock:
                self._threads.add(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        conn = _Connection(sock, self._stopping)
        with self._lock:
            self._conns.add(conn)
        try:
            for request in self._requests(conn):
                outside = self.only_api_paths and not _is_api_path(request.target)
                fault = _UNKNOWN_PATH if outside else self._next_fault()
                request.fault = fault
                with self._lock:
                    self.requests.append(request)  # after reset(), a late request lands in the new list
                keep = _Responder(self, conn, request, fault).respond()
                if not keep or (request.header("connection") or "").lower() == "close":
                    break
        except (_Closed, OSError):
            pass
        finally:
            conn.close()
            with self._lock:
                self._conns.discard(conn)
                self._threads.discard(threading.current_thread())

    def _requests(self, conn: _Connection) -> Iterator[RecordedRequest]:
        while not self._stopping.is_set():
            request = conn.read_request(self.idle_timeout)
            if request is None:
                return
            yield request
