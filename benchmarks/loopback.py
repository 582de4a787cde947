"""A tiny HTTP/1.1 keep-alive server on 127.0.0.1 that answers chat completions from precomputed bytes.

This module owns the server side of the micro-benchmarks: it runs in its own process (so its CPU never
competes for the client's GIL) and does as little as possible per request: parse the request head, read
the body, look up a response encoded once per chunk count, write it. It must not import the client under
test (or anything outside the standard library): run as a script, it is the child process
``LoopbackServer`` starts.

Routes:
* ``POST /v1/chat/completions`` with ``"stream": true`` → ``text/event-stream; charset=utf-8``, sent with
  ``Transfer-Encoding: chunked`` (one HTTP chunk per event, keep-alive kept), ``x-bench-chunks`` events
  (default 1000) and no ``data: [DONE]``: real Cerebras streams end without it and the final chunk carries
  ``finish_reason``, ``usage`` and ``time_info`` (cerebras-api.md §3). The first event is the
  ``{"role":"assistant"}`` delta, the middle ones carry one content token each.
* ``POST /v1/chat/completions`` otherwise → a ``chat.completion`` JSON body with ``Content-Length``
  (shaped like cerebras-api.md §2: gpt-oss ``reasoning`` + ``content``, usage details, float ``time_info``).
* ``GET /v1/tcp_warming`` → 200 with an empty body (what the client's ``warm_up`` asks for).
* anything else → 404 with a flat Cerebras error body (§4.1).

Every response carries the headers a real 200 carries (``x-ratelimit-*``, ``inference-id``,
``x-request-id``, §4.3), because parsing them is part of what the client pays per call. All values are
our own, written from the reference; nothing is copied from recordings.

The server binds 127.0.0.1 only, prints its port on the first line of stdout, and exits when its stdin
closes, so it dies with the process that started it even if that one is killed.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from typing import Any

__all__ = ["DEFAULT_CHUNKS", "LoopbackServer", "completion_body", "stream_body"]

DEFAULT_CHUNKS = 1000
if __package__:
    from ._child import HOST, ChildServer
else:  # run as a script in the child process (``python loopback.py``)
    from _child import HOST, ChildServer
MODEL = "gpt-oss-120b"
CHAT_ID = "chatcmpl-5e1f0b7a-3c2d-4a9e-8f10-b3ec0bench001"
FINGERPRINT = "fp_7c41d0e2b9a85f3362e1"
CREATED = 1791234567
_TOKENS = (
    *(" Loop", "back", " servers", " answer", " fast", ",", " so"),
    *(" the", " client", " is", " what", " we", " time", "."),
)
_MAX_CHUNKS = 1_000_000
_HEAD_LIMIT = 64 * 1024

_COMMON_HEADERS = (
    ("x-ratelimit-limit-requests-day", "1440000"),
    ("x-ratelimit-limit-tokens-minute", "1000000"),
    ("x-ratelimit-remaining-requests-day", "1439871"),
    ("x-ratelimit-remaining-tokens-minute", "998042"),
    ("x-ratelimit-reset-requests-day", "31044.52271080017"),
    ("x-ratelimit-reset-tokens-minute", "44.52271080017090"),
    ("inference-id", CHAT_ID),
    ("x-request-id", "a1b2c3d4e5f60718-SJC"),
)


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _usage(prompt: int, completion: int, reasoning: int) -> dict[str, Any]:
    return {
        "completion_tokens": completion,
        "completion_tokens_details": {
            "accepted_prediction_tokens": 0,
            "reasoning_tokens": reasoning,
            "rejected_prediction_tokens": 0,
        },
        "prompt_tokens": prompt,
        "prompt_tokens_details": {"cached_tokens": 0},
        "total_tokens": prompt + completion,
    }


def _time_info(tokens: int) -> dict[str, Any]:
    completion_time = tokens / 3000
    return {
        "completion_time": completion_time,
        "created": CREATED + 0.4172839641571045,
        "prompt_time": 0.000873215,
        "queue_time": 0.000162447,
        "total_time": completion_time + 0.0012408733367919922,
    }


def completion_body() -> bytes:
    """The JSON body of a non-streamed answer (about 1 KB, like a short gpt-oss reply)."""
    content = "".join(_TOKENS[i % len(_TOKENS)] for i in range(48)).strip()
    reasoning = "The user asks for a short answer about loopback servers; keep it to two sentences."
    return _dumps(
        {
            "id": CHAT_ID,
            "choices": [
                {
                    "finish_reason": "stop",
                    "index": 0,
                    "message": {"content": content, "reasoning": reasoning, "role": "assistant"},
                }
            ],
            "created": CREATED,
            "model": MODEL,
            "system_fingerprint": FINGERPRINT,
            "object": "chat.completion",
            "usage": _usage(prompt=31, completion=66, reasoning=18),
            "time_info": _time_info(66),
        }
    )


def _chunk(choice: dict[str, Any], **extra: Any) -> bytes:
    return _dumps(
        {
            "id": CHAT_ID,
            "choices": [choice],
            "created": CREATED,
            "model": MODEL,
            "system_fingerprint": FINGERPRINT,
            "object": "chat.completion.chunk",
            **extra,
        }
    )


def stream_events(chunks: int) -> list[bytes]:
    """The JSON payloads of a stream of ``chunks`` events: role delta, content tokens, final chunk."""
    if chunks < 2:
        raise ValueError("a stream needs at least 2 chunks (the role delta and the final chunk)")
    events = [_chunk({"delta": {"role": "assistant"}, "index": 0})]
    for i in range(chunks - 2):
        events.append(_chunk({"delta": {"content": _TOKENS[i % len(_TOKENS)]}, "index": 0}))
    events.append(
        _chunk(
            {"delta": {}, "finish_reason": "stop", "index": 0},
            usage=_usage(prompt=31, completion=chunks - 1, reasoning=0),
            time_info=_time_info(chunks - 1),
        )
    )
    return events


def stream_body(chunks: int) -> bytes:
    """The SSE body (before chunked transfer framing) of a ``chunks``-event stream."""
    return b"".join(b"data: " + event + b"\n\n" for event in stream_events(chunks))


def _head(status: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status}"] + [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _json_response(status: str, body: bytes, *, extra: bool = True) -> bytes:
    headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
    if extra:
        headers += _COMMON_HEADERS
    return _head(status, headers) + body


def _stream_response(chunks: int) -> bytes:
    # One HTTP chunk per SSE event, as a server that flushes every token writes them.
    pieces = [b"data: " + event + b"\n\n" for event in stream_events(chunks)]
    framed = [b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces]
    headers = [("content-type", "text/event-stream; charset=utf-8"), ("transfer-encoding", "chunked")]
    return _head("200 OK", headers + list(_COMMON_HEADERS)) + b"".join(framed) + b"0\r\n\r\n"


class _Responses:
    """Every response encoded once; streams once per chunk count, on first use."""

    def __init__(self) -> None:
        self.completion = _json_response("200 OK", completion_body())
        self.warm = _json_response("200 OK", b"", extra=False)
        error = _dumps({"message": "no such route", "type": "not_found_error", "param": None, "code": "not_found"})
        self.not_found = _json_response("404 Not Found", error, extra=False)
        bad = _dumps({"message": "bad x-bench-chunks", "type": "invalid_request_error", "param": None, "code": None})
        self.bad_request = _json_response("400 Bad Request", bad, extra=False)
        self._streams: dict[int, bytes] = {DEFAULT_CHUNKS: _stream_response(DEFAULT_CHUNKS)}

    def stream(self, chunks: int) -> bytes:
        cached = self._streams.get(chunks)
        if cached is None:
            cached = self._streams[chunks] = _stream_response(chunks)
        return cached


class _Connection(asyncio.Protocol):
    def __init__(self, responses: _Responses) -> None:
        self._responses = responses
        self._buf = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buf += data
        while self._transport is not None:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buf) > _HEAD_LIMIT:
                    self._transport.close()
                return
            head = bytes(self._buf[:end]).decode("latin-1").split("\r\n")
            headers: dict[str, str] = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self._buf) < end + 4 + length:
                return  # wait for the rest of the body
            body = bytes(self._buf[end + 4 : end + 4 + length])
            del self._buf[: end + 4 + length]
            method, _, rest = head[0].partition(" ")
            path = rest.partition(" ")[0]
            self._transport.write(self._answer(method, path, headers, body))
            if headers.get("connection", "").lower() == "close":
                self._transport.close()
                self._transport = None

    def _answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
        responses = self._responses
        if method == "POST" and path == "/v1/chat/completions":
            try:
                stream = json.loads(body).get("stream") is True
            except (ValueError, AttributeError):
                stream = False
            if not stream:
                return responses.completion
            try:
                chunks = int(headers.get("x-bench-chunks", DEFAULT_CHUNKS))
            except ValueError:
                return responses.bad_request
            if not 2 <= chunks <= _MAX_CHUNKS:
                return responses.bad_request
            return responses.stream(chunks)
        if method == "GET" and path == "/v1/tcp_warming":
            return responses.warm
        return responses.not_found

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None


def _finish(stop: asyncio.Future[None]) -> None:
    if not stop.done():
        stop.set_result(None)


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    responses = _Responses()
    server = await loop.create_server(lambda: _Connection(responses), HOST, 0, backlog=128)
    port = server.sockets[0].getsockname()[1]
    stop: asyncio.Future[None] = loop.create_future()

    def wait_for_parent() -> None:
        sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe or died
        loop.call_soon_threadsafe(_finish, stop)

    threading.Thread(target=wait_for_parent, name="parent-watch", daemon=True).start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    await stop
    server.close()  # open keep-alive connections die with the process; waiting for them could hang


class LoopbackServer(ChildServer):
    """The loopback server in a child process: ``with LoopbackServer() as server: server.base_url``."""

    def start(self) -> LoopbackServer:
        process = subprocess.Popen(
            [sys.executable, "-u", __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True
        )
        self._process = process
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"loopback server failed to start (said {line!r})")
        self.port = int(line)
        return self


if __name__ == "__main__":
    asyncio.run(_serve())
