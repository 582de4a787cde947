"""ASGI vocabulary shared by the emulator's routes: the parsed request, and sending a JSON response.

This module owns the types a route handler sees (``Request``, ``Send``) and the one way a complete JSON
response is written. It must not know any route, model or fault: it is the bottom layer every other emulator
module may import, and it imports nothing of the emulator but the wire's JSON encoder.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

from ._wire import dumps

__all__ = [
    "JSON_TYPE",
    "SSE_TYPE",
    "Handler",
    "Receive",
    "Request",
    "Scope",
    "Send",
    "encode_headers",
    "parse_json",
    "send_json",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream; charset=utf-8"


@dataclass
class Request:
    """An HTTP request as the routes see it: body already read (and un-gzipped), query parsed."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    #: the API key, once the app has accepted it ("" on routes that need none).
    key: str = ""


Handler = Callable[[Request, Send], Awaitable[None]]


def parse_json(request: Request) -> Any:
    """The request's JSON body, or ``...`` when it is not JSON (``None`` is a valid JSON body)."""
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return ...


def encode_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]


async def send_json(send: Send, status: int, body: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
    data = dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": encode_headers([("content-type", JSON_TYPE), ("content-length", str(len(data))), *headers]),
        }
    )
    await send({"type": "http.response.body", "body": data, "more_body": False})
