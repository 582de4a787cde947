"""The emulator's ASGI application: state, ASGI plumbing, routing and API keys.

This module owns ``EmulatorApp``: what a test changes at run time (``configure``, ``reset``, ``fail_next``,
the request log), reading an HTTP request off ASGI (lifespan, body, gzip), choosing the route (404/405 in the
Cerebras or the OpenRouter error shape), checking the API key before a route runs (RT-08 for Cerebras,
docs/api-facts.md#openrouter-errors for OpenRouter), and turning an ``ApiError`` into its response. The routes
themselves are small objects built from the current ``Setup`` (``_chat``, ``_openrouter``, ``_model_lists``,
``_monitoring``) that the app delegates to; it must not answer a chat or list a model itself. The OpenRouter ledger
(generations served, usage per key) lives on the app so that it survives ``configure``.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs

from ._asgi import Handler, Receive, Request, Scope, Send, send_json
from ._chat import CerebrasChat
from ._errors import ApiError, openrouter_error
from ._faults import FaultSource
from ._model_lists import ModelLists
from ._monitoring import Ledger, Monitoring
from ._openrouter import OpenRouter
from ._options import EmulatorOptions, Setup, merge_options

__all__ = ["EmulatorApp", "RecordedRequest", "create_app"]

#: which key check a route needs: the Cerebras one, the OpenRouter one, or none.
Auth = Literal["cerebras", "openrouter", None]


@dataclass
class RecordedRequest:
    """A request as the emulator received it (for tests that assert what a client sent)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class EmulatorApp:
    """The ASGI application. Create it with ``create_app``."""

    def __init__(self, options: EmulatorOptions) -> None:
        self._initial = dataclasses.replace(options)
        self._faults = FaultSource()
        #: what the OpenRouter route served (generation records, usage per key); kept across ``configure``.
        self.ledger = Ledger()
        self.requests: deque[RecordedRequest] = deque(maxlen=options.keep_requests)
        self._apply(options)

    # ------------------------------------------------------------------------------------------ configuration

    def _apply(self, options: EmulatorOptions) -> None:
        setup = Setup.build(options)  # raises before anything changes
        self.options = options
        chat = CerebrasChat(setup, self._faults)
        openrouter = OpenRouter(setup, self._faults, self.ledger)
        monitoring = Monitoring(self.ledger, options.openrouter_key_limit)
        lists = ModelLists(setup)
        self._routes: dict[str, tuple[str, Auth, Handler]] = {
            "/v1/chat/completions": ("POST", "cerebras", chat),
            "/v1/models": ("GET", "cerebras", lists.list_models),
            "/v1/tcp_warming": ("GET", None, _tcp_warming),
            "/api/v1/chat/completions": ("POST", "openrouter", openrouter.chat),
            "/api/v1/models": ("GET", None, openrouter.models),
            "/api/v1/key": ("GET", "openrouter", monitoring.key),
            "/api/v1/auth/key": ("GET", "openrouter", monitoring.key),
            "/api/v1/generation": ("GET", "openrouter", monitoring.generation),
            "/_emulator/stats": ("GET", None, setup.limiter.stats_route),
        }
        self._retrieve_model: Handler = lists.retrieve_model
        self._openrouter_endpoints: Handler = openrouter.endpoints
        if self.requests.maxlen != options.keep_requests:
            self.requests = deque(self.requests, maxlen=options.keep_requests)

    def configure(self, **changes: Any) -> None:
        """Change options (unknown names raise ``TypeError``). Rate-limit and cache state start afresh when
        their options change."""
        self._apply(merge_options(self.options, changes))

    def reset(self) -> None:
        """Back to the options the app was created with; clear faults, rate limits, cache, the request log and the
        OpenRouter ledger."""
        self._faults.clear()
        self.ledger.clear()
        self.requests.clear()
        self._apply(dataclasses.replace(self._initial))

    def fail_next(self, n: int, fault: str) -> None:
        """Make the next ``n`` chat requests fail with ``fault`` (a fault spec, e.g. ``"503"``, ``"429=0.2"``)."""
        self._faults.fail_next(n, fault)

    @property
    def pending_faults(self) -> int:
        return self._faults.pending

    @property
    def last_request(self) -> RecordedRequest | None:
        return self.requests[-1] if self.requests else None

    # ----------------------------------------------------------------------------------------------- ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        body = b"".join(chunks)
        query = scope.get("query_string", b"").decode("latin-1")
        path = scope.get("path", "/")
        self.requests.append(RecordedRequest(scope.get("method", "GET"), path, query, headers, body))
        if headers.get("content-encoding", "").lower() == "gzip" and body:
            try:
                body = gzip.decompress(body)
            except OSError:
                body = b"\x00"  # not JSON → a validation error below
        request = Request(scope.get("method", "GET").upper(), path, parse_qs(query), headers, body)
        try:
            await self._dispatch(request, send)
        except ApiError as error:
            await send_json(send, error.status, error.body, error.headers)

    # -------------------------------------------------------------------------------------------- routing

    async def _dispatch(self, request: Request, send: Send) -> None:
        path = request.path.rstrip("/") or "/"
        method = request.method
        openrouter = path.startswith("/api/")
        route = self._routes.get(path)
        found: tuple[Auth, Handler] | None = None
        if route is not None:
            if method != route[0]:
                raise _not_found(openrouter, 405, "Method Not Allowed")
            found = route[1], route[2]
        elif path.startswith("/v1/models/") and method == "GET":
            found = "cerebras", self._retrieve_model
        elif path.startswith("/api/v1/models/") and path.endswith("/endpoints") and method == "GET":
            found = None, self._openrouter_endpoints
        if found is None:
            raise _not_found(openrouter, 404, "Not Found")
        auth, handler = found
        if auth is not None:
            request.key = self._api_key(request, openrouter=auth == "openrouter")
        await handler(request, send)

    def _api_key(self, request: Request, openrouter: bool) -> str:
        """The request's bearer key, or the 401 the route's service answers with."""
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        key = key.strip()
        ok = scheme.lower() == "bearer" and bool(key)
        if ok:
            allowed = self.options.api_keys
            if allowed is not None:
                ok = key in allowed
            else:
                lowered = key.lower()
                ok = not any(marker.lower() in lowered for marker in self.options.invalid_key_markers)
        if ok:
            return key
        if openrouter:
            raise openrouter_error(401, "No auth credentials found" if not key else "User not found.")
        # RT-08: flat body, no rate-limit headers.
        raise ApiError.flat(401, "Wrong API Key", "invalid_request_error", "api_key", "wrong_api_key")


def _not_found(openrouter: bool, status: int, message: str) -> ApiError:
    if openrouter:
        return openrouter_error(status, message)
    return ApiError.flat(status, message, "not_found_error" if status == 404 else "invalid_request_error", "", "")


async def _tcp_warming(request: Request, send: Send) -> None:
    """``GET /v1/tcp_warming``: ``{}`` (what the SDK's constructor sends, docs/api-facts.md#endpoints)."""
    await send_json(send, 200, {})


def create_app(**options: Any) -> EmulatorApp:
    """An emulator ASGI app; ``options`` are ``EmulatorOptions`` fields (plus rate-limit shorthands)."""
    return EmulatorApp(merge_options(EmulatorOptions(), options))
