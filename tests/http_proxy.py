"""A real HTTP forward proxy on loopback, for tests that check a client goes through a proxy.

It takes the absolute-form requests (``POST http://host:port/path``) a client sends a proxy for ``http://`` URLs,
forwards each to its origin, relays the whole answer (a stream arrives in one piece, which a client reads like any
other) and records what it forwarded. Standard library only; it must not import ``cerebras_adapters``.

Usage::

    with ForwardingProxy() as proxy:
        ...  # a client with proxy=proxy.url, or HTTP_PROXY=proxy.url in the environment
        assert proxy.forwarded == [("POST", "http://127.0.0.1:8000/v1/chat/completions")]
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
               "trailers", "transfer-encoding", "upgrade", "content-length"}


class ForwardingProxy:
    """The proxy server; ``url`` is its address, ``forwarded`` the (method, absolute URL) of each request."""

    def __init__(self) -> None:
        self.forwarded: list[tuple[str, str]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                proxy.forwarded.append((self.command, self.path))
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                upstream = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                upstream.request(self.command, url.path + (f"?{url.query}" if url.query else ""), body, headers)
                reply = upstream.getresponse()
                data = reply.read()
                self.send_response(reply.status)
                for name, value in reply.getheaders():
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = forward

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> ForwardingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
