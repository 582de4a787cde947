"""A small asyncio HTTP/1.1 server for ASGI apps, and ``EmulatorServer``, the emulator on a background thread.

Why our own server: the package's runtime dependencies are httpx and pydantic only, so uvicorn / starlette
are out. This one does what the emulator needs and no more:

* HTTP/1.1 keep-alive (HTTP/1.0 and ``Connection: close`` honoured), ``Expect: 100-continue``;
* request bodies with ``Content-Length`` or ``Transfer-Encoding: chunked``;
* responses with the app's ``Content-Length``, else a single-message body gets one computed, else the body
  is streamed with ``Transfer-Encoding: chunked`` (close-delimited for HTTP/1.0 clients or
  ``stream_framing="close"``);
* if the app raises after it started a response (e.g. ``ConnectionDropped`` for the ``drop-mid-stream``
  fault), the connection is closed without finishing the body — what a client sees when a server dies
  mid-stream; before that, a 500;
* binds 127.0.0.1 by default, port 0 (ephemeral) by default.

It writes each ASGI body message with one ``write`` call, so an app that sends a whole 1000-event stream in
one message costs one syscall.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

__all__ = ["EmulatorServer", "HTTPServer", "serve"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

_HEAD_LIMIT = 64 * 1024
_MAX_BODY = 64 * 1024 * 1024


class _BadRequest(Exception):
    pass


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b"Unknown"


class HTTPServer:
    """Serves one ASGI app on an asyncio loop. ``await start()``, then ``await close()``."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0, stream_framing: str = "chunked") -> None:
        self.app = app
        self.host = host
        self.port = port
        self.stream_framing = stream_framing
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        # A deep accept queue: benchmarks open hundreds of connections at once, and with the default backlog
        # (100) the kernel drops the overflow, each dropped connection then waiting ~1 s to retry.
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, limit=_HEAD_LIMIT, reuse_address=True, backlog=1024
        )
        sock = self._server.sockets[0]
        self.port = sock.getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                except asyncio.LimitOverrunError:
                    writer.write(
                        b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n"
                        b"connection: close\r\n\r\n"
                    )
                    return
                try:
                    keep_going = await self._request(head, reader, writer)
                except _BadRequest:
                    writer.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    return
                if not keep_going:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            # Server shutdown: end quietly (asyncio's stream callback would log a cancelled task as an error).
            return
        finally:
            if task is not None:
                self._connections.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _request(self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        lines = head[:-4].split(b"\r\n")
        try:
            method, target, version = lines[0].decode("latin-1").split(" ", 2)
        except ValueError:
            raise _BadRequest from None
        headers: list[tuple[bytes, bytes]] = []
        length = 0
        chunked = False
        keep_alive = version == "HTTP/1.1"
        expect_continue = False
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                raise _BadRequest
            name = name.strip().lower()
            value = value.strip()
            headers.append((name, value))
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    raise _BadRequest from None
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                token = value.lower()
                if b"close" in token:
                    keep_alive = False
                elif b"keep-alive" in token:
                    keep_alive = True
            elif name == b"expect" and value.lower() == b"100-continue":
                expect_continue = True
        if length > _MAX_BODY:
            raise _BadRequest
        if expect_continue:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if chunked:
            body = await self._read_chunked(reader)
        else:
            body = await reader.readexactly(length) if length else b""
        path, _, query = target.partition("?")
        sock = writer.get_extra_info("sockname")
        peer = writer.get_extra_info("peername")
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": version.split("/", 1)[-1],
            "method": method.upper(),
            "scheme": "http",
            "path": unquote(path),
            "raw_path": path.encode("latin-1"),
            "query_string": query.encode("latin-1"),
            "root_path": "",
            "headers": headers,
            "client": (peer[0], peer[1]) if isinstance(peer, tuple) else None,
            "server": (sock[0], sock[1]) if isinstance(sock, tuple) else None,
        }
        return await self._run_app(scope, body, writer, keep_alive, version == "HTTP/1.1")

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = await reader.readuntil(b"\r\n")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest from None
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return b"".join(parts)
            total += size
            if total > _MAX_BODY:
                raise _BadRequest
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)

    async def _run_app(
        self, scope: Scope, body: bytes, writer: asyncio.StreamWriter, keep_alive: bool, http11: bool
    ) -> bool:
        done = asyncio.Event()
        delivered = False
        state: dict[str, Any] = {
            "status": 0,
            "headers": [],
            "started": False,
            "head_sent": False,
            "framing": "length",
            "finished": False,
        }

        async def receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                if state["started"]:
                    raise RuntimeError("response already started")
                state["started"] = True
                state["status"] = int(message["status"])
                state["headers"] = list(message.get("headers", []))
                return
            if kind != "http.response.body" or state["finished"]:
                return
            if not state["started"]:
                raise RuntimeError("body before response start")
            data: bytes = bytes(message.get("body", b""))
            more = bool(message.get("more_body", False))
            out: list[bytes] = []
            if not state["head_sent"]:
                out.append(self._head(state, len(data), more, keep_alive, http11))
                state["head_sent"] = True
            framing = state["framing"]
            if framing == "chunked":
                if data:
                    out.append(b"%x\r\n" % len(data))
                    out.append(data)
                    out.append(b"\r\n")
                if not more:
                    out.append(b"0\r\n\r\n")
            else:
                out.append(data)
            writer.write(b"".join(out))
            if not more:
                state["finished"] = True
            await writer.drain()

        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            done.set()
            if not state["started"]:
                text = f"Internal Server Error: {type(exc).__name__}".encode()
                writer.write(
                    b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\n"
                    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(text), text)
                )
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
            return False
        done.set()
        if not state["finished"]:
            if not state["started"]:
                writer.write(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            return False
        return bool(state["keep_alive"])

    def _head(self, state: dict[str, Any], size: int, more: bool, keep_alive: bool, http11: bool) -> bytes:
        headers: list[tuple[bytes, bytes]] = state["headers"]
        has_length = any(k.lower() == b"content-length" for k, _ in headers)
        extra: list[bytes] = []
        if has_length:
            state["framing"] = "length"
        elif not more:
            state["framing"] = "length"
            extra.append(b"content-length: %d\r\n" % size)
        elif http11 and self.stream_framing == "chunked":
            state["framing"] = "chunked"
            extra.append(b"transfer-encoding: chunked\r\n")
        else:
            state["framing"] = "close"
            keep_alive = False
        state["keep_alive"] = keep_alive
        extra.append(b"connection: keep-alive\r\n" if keep_alive else b"connection: close\r\n")
        status = state["status"]
        lines = [b"HTTP/1.1 %d %s\r\n" % (status, _reason(status))]
        lines.extend(k + b": " + v + b"\r\n" for k, v in headers)
        lines.extend(extra)
        lines.append(b"\r\n")
        return b"".join(lines)


class EmulatorServer:
    """The emulator served over loopback HTTP on a background thread with its own event loop.

    ``EmulatorServer(**options)`` builds an app with ``create_app(**options)``; pass ``app=`` to serve an
    existing one. Use it as a context manager, or ``start()`` / ``stop()``::

        with EmulatorServer(tokens_per_second=3000) as emulator:
            client = SomeClient(base_url=emulator.base_url, api_key="csk-test")
    """

    def __init__(
        self,
        app: Any = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        stream_framing: str = "chunked",
        **options: Any,
    ) -> None:
        if app is None:
            from .emulator import create_app

            app = create_app(**options)
        elif options:
            raise TypeError("pass either app= or emulator options, not both")
        self.app = app
        self.host = host
        self.port = port
        self._framing = stream_framing
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._http: HTTPServer | None = None

    # URLs ------------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The Cerebras-style base URL, ``http://127.0.0.1:PORT/v1``."""
        return self.url + "/v1"

    @property
    def openrouter_base_url(self) -> str:
        """The OpenRouter-style base URL, ``http://127.0.0.1:PORT/api/v1``."""
        return self.url + "/api/v1"

    # Lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> EmulatorServer:
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            http = HTTPServer(self.app, self.host, self.port, self._framing)
            try:
                loop.run_until_complete(http.start())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            self._http = http
            self.port = http.port
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(http.close())
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.close()

        thread = threading.Thread(target=run, name=f"cerebras-emulator-{id(self):x}", daemon=True)
        thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        self._thread = thread
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = self._http = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Conveniences forwarded to the app ---------------------------------------------------------------

    def configure(self, **options: Any) -> None:
        self.app.configure(**options)

    def fail_next(self, n: int, fault: str) -> None:
        self.app.fail_next(n, fault)

    def reset(self) -> None:
        self.app.reset()

    @property
    def requests(self) -> Any:
        return self.app.requests

    @property
    def last_request(self) -> Any:
        return self.app.last_request


async def serve(
    app: ASGIApp, host: str = "127.0.0.1", port: int = 8089, on_ready: Callable[[HTTPServer], None] | None = None
) -> None:
    """Serve ``app`` in the foreground until cancelled (the CLI's path)."""
    http = HTTPServer(app, host, port)
    await http.start()
    if on_ready is not None:
        on_ready(http)
    try:
        await http.serve_forever()
    finally:
        await http.close()
