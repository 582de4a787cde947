"""A contract emulator of the Cerebras Inference API (and of OpenRouter pinned to Cerebras), as an ASGI app.

**Independence.** The emulator is a model of the *server*, written from the API reference
(``reference/cerebras-api.md``, ``reference/openrouter.md``) and checked by hand against the real recordings
(RT-01…RT-16). It must not import the client's code — no ``cerebras_adapters`` module outside
``cerebras_adapters.testing`` (no client, ``_request``, ``_streaming``, ``types``, ``catalog``, ``errors``,
``options``): it has its own validation (``_validation``), model table (``_models``) and wire encoding
(``_wire``). If the client and the emulator shared a parser or a validator, a bug in it would pass every
test.

Entry points:

* ``create_app(**options)`` → ``EmulatorApp``, a plain ASGI 3 application (serve it with anything; the
  package's own dependency-free server is ``cerebras_adapters.testing.server.EmulatorServer``);
* the ``cerebras-adapters emulator`` command;
* the ``cerebras_emulator`` pytest fixture (``cerebras_adapters.testing.pytest_plugin``).

Routes:

* ``POST /v1/chat/completions`` — JSON or SSE (``stream: true``), Cerebras shapes;
* ``GET /v1/models[?format=default|openrouter|huggingface]``, ``GET /v1/models/{id}``;
* ``GET /v1/tcp_warming`` — ``{}`` (what the SDK's constructor sends, §5.1);
* ``POST /api/v1/chat/completions``, ``GET /api/v1/models``,
  ``GET /api/v1/models/{author}/{slug}/endpoints`` — OpenRouter mode.

**API keys.** ``Authorization: Bearer <key>`` is required on every route except ``tcp_warming`` and the
OpenRouter model list. With ``api_keys`` set, only those keys are accepted; otherwise any non-empty key is
accepted unless it contains one of ``invalid_key_markers`` (default ``"invalid"`` and ``"wrong"``,
case-insensitive), so ``Bearer csk-test`` works and ``Bearer csk-invalid`` gets the real 401 (RT-08).

**Options** (``create_app(**options)``, ``app.configure(**options)``, the fixture's ``configure`` and the
``@pytest.mark.cerebras_emulator(**options)`` marker) are the fields of ``EmulatorOptions``, plus the
shorthands ``requests_per_day``, ``tokens_per_minute`` and ``requests_per_minute`` for ``rate_limits``.

**Faults**: per request with the ``x-emulator-fault`` header, for every request with the ``faults`` option,
or for the next N requests with ``app.fail_next(n, spec)``; the spec grammar is in ``_faults``.
``x-emulator-reply-tokens: N`` makes a text reply exactly N tokens long (for benchmarks).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import hashlib
import json
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from ._errors import ApiError, ConnectionDropped, invalid
from ._faults import Fault, parse_faults
from ._generation import Completion, plan_completion
from ._models import MODELS, ModelSpec, find_model, find_openrouter_model
from ._ratelimit import Admission, RateLimitConfig, RateLimiter, rate_limit_error
from ._tokens import PrefixCache
from ._validation import MESSAGE_FIELDS, validate_for_model, validate_request
from ._wire import (
    DONE,
    Event,
    ResponseMeta,
    cerebras_body,
    cerebras_events,
    cerebras_stream_error_event,
    dumps,
    malformed_event,
    openrouter_body,
    openrouter_events,
    openrouter_stream_error_event,
)
from .scenarios import Scenario, resolve_scenarios

__all__ = ["EmulatorApp", "EmulatorOptions", "RateLimitConfig", "RecordedRequest", "create_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

FAULT_HEADER = "x-emulator-fault"
REPLY_TOKENS_HEADER = "x-emulator-reply-tokens"
JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream; charset=utf-8"
SERVER_ERROR_MESSAGE = "Encountered a server error, please try again."

# openrouter.md §1.1: parameter names a provider endpoint lists in supported_parameters. Cerebras' endpoint
# supports these; anything else is "unsupported" for require_parameters (e.g. top_k, min_p,
# repetition_penalty, logit_bias, web_search_options, verbosity, clear_thinking).
OPENROUTER_CEREBRAS_PARAMETERS = frozenset(
    {
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "stop",
        "seed",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "structured_outputs",
        "logprobs",
        "top_logprobs",
        "frequency_penalty",
        "presence_penalty",
    }
)
OPENROUTER_REASONING_PARAMETERS = frozenset({"reasoning", "include_reasoning", "reasoning_effort"})
# Request fields that are not model parameters (routing, accounting, observability): never filtered.
OPENROUTER_ROUTING_FIELDS = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "provider",
        "usage",
        "transforms",
        "models",
        "route",
        "session_id",
        "metadata",
        "trace",
        "plugins",
        "debug",
        "user",
        "prediction",
        "service_tier",
        "prompt_cache_key",
    }
)
_OPENROUTER_EFFORTS = {
    "max": "high",
    "xhigh": "high",
    "high": "high",
    "medium": "medium",
    "low": "low",
    "minimal": "low",
    "none": "none",
}


@dataclass
class EmulatorOptions:
    """Everything about the emulator that a test or a command line can change."""

    #: pace streams at this many tokens per second (None: as fast as possible; ~3000 feels like the real thing).
    tokens_per_second: float | None = None
    #: a scenario file (YAML or JSON) or a list of entries / ``Scenario`` objects, tried before the defaults.
    scenarios: str | Path | Sequence[Scenario | dict[str, Any]] | None = None
    #: also use the packaged ``scenarios/default.json``.
    default_scenarios: bool = True
    #: accept only these keys (None: any non-empty key without an invalid marker).
    api_keys: Collection[str] | None = None
    invalid_key_markers: tuple[str, ...] = ("invalid", "wrong")
    #: end Cerebras streams with ``data: [DONE]`` (the real service does not, RT-12/13/15/16).
    send_done: bool = False
    #: a fault spec applied to every chat request (see ``_faults``).
    faults: str | Sequence[str] = ()
    #: the ``retry-after`` (seconds) of injected 429s that do not give one.
    retry_after: float = 0.05
    rate_limits: RateLimitConfig = field(default_factory=RateLimitConfig)
    #: serve only these model ids (None: the whole table in ``_models``).
    models: Collection[str] | None = None
    #: who serves an OpenRouter request that is not pinned to Cerebras (set e.g. "DeepInfra" to test a guard).
    openrouter_unpinned_provider: str = "Cerebras"
    #: who serves an OpenRouter request when Cerebras is filtered out but fallbacks are allowed.
    openrouter_fallback_provider: str = "DeepInfra"
    #: prefix-cache block size in (emulator) tokens.
    cache_block_tokens: int = 128
    #: how many recent requests ``app.requests`` keeps.
    keep_requests: int = 1000


_RATE_SHORTHANDS = ("requests_per_day", "tokens_per_minute", "requests_per_minute")


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


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class _StreamPlan:
    drop_at: int | None = None
    malformed_at: int | None = None
    error_at: int | None = None
    slow: float = 0.0


def _fingerprint(spec: ModelSpec) -> str:
    return "fp_" + hashlib.sha256(spec.id.encode()).hexdigest()[:20]


def _per_token(price_per_million: float) -> str:
    return format(Decimal(str(price_per_million)) / Decimal(1_000_000), "f")


def _or_error(
    status: int, message: str, metadata: dict[str, Any] | None = None, headers: list[tuple[str, str]] | None = None
) -> ApiError:
    error: dict[str, Any] = {"code": status, "message": message}
    if metadata is not None:
        error["metadata"] = metadata
    return ApiError(status, {"error": error}, headers)


class EmulatorApp:
    """The ASGI application. Create it with ``create_app``."""

    def __init__(self, options: EmulatorOptions) -> None:
        self._initial = dataclasses.replace(options)
        self._lock = threading.Lock()
        self._fault_queue: deque[tuple[int, list[Fault]]] = deque()
        self.requests: deque[RecordedRequest] = deque(maxlen=options.keep_requests)
        self._apply(options)

    # ------------------------------------------------------------------------------------------ configuration

    def _apply(self, options: EmulatorOptions) -> None:
        faults = [options.faults] if isinstance(options.faults, str) else list(options.faults)
        always = [f for spec in faults for f in parse_faults(spec)]
        scenarios = resolve_scenarios(options.scenarios, options.default_scenarios)
        self.options = options
        self._always_faults = always
        self._scenarios: list[Scenario] = scenarios
        self._allowed = frozenset(options.models) if options.models is not None else None
        self._limiter = RateLimiter(options.rate_limits)
        self._cache = PrefixCache(options.cache_block_tokens)
        if self.requests.maxlen != options.keep_requests:
            self.requests = deque(self.requests, maxlen=options.keep_requests)

    @staticmethod
    def _merge(base: EmulatorOptions, changes: dict[str, Any]) -> EmulatorOptions:
        names = {f.name for f in dataclasses.fields(EmulatorOptions)}
        unknown = set(changes) - names - set(_RATE_SHORTHANDS)
        if unknown:
            raise TypeError(
                f"unknown emulator option(s): {', '.join(sorted(unknown))}; known: "
                f"{', '.join(sorted(names | set(_RATE_SHORTHANDS)))}"
            )
        rate = changes.get("rate_limits", base.rate_limits)
        if isinstance(rate, dict):
            rate = RateLimitConfig(**rate)
        shorthands = {k: changes[k] for k in _RATE_SHORTHANDS if k in changes}
        if shorthands:
            rate = dataclasses.replace(rate, **shorthands)
        plain = {k: v for k, v in changes.items() if k in names and k != "rate_limits"}
        return dataclasses.replace(base, rate_limits=rate, **plain)

    def configure(self, **changes: Any) -> None:
        """Change options (unknown names raise ``TypeError``). Rate-limit and cache state start afresh when
        their options change."""
        new = self._merge(self.options, changes)
        self._apply(new)

    def reset(self) -> None:
        """Back to the options the app was created with; clear faults, rate limits, cache and the request log."""
        with self._lock:
            self._fault_queue.clear()
        self.requests.clear()
        self._apply(dataclasses.replace(self._initial))

    def fail_next(self, n: int, fault: str) -> None:
        """Make the next ``n`` chat requests fail with ``fault`` (a fault spec, e.g. ``"503"``, ``"429=0.2"``)."""
        parsed = parse_faults(fault)
        if n > 0 and parsed:
            with self._lock:
                self._fault_queue.append((n, parsed))

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return sum(n for n, _ in self._fault_queue)

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
        request = _Request(scope.get("method", "GET").upper(), path, parse_qs(query), headers, body)
        try:
            await self._dispatch(request, send)
        except ApiError as error:
            await _send_json(send, error.status, error.body, error.headers)

    async def _dispatch(self, request: _Request, send: Send) -> None:
        path = request.path.rstrip("/") or "/"
        method = request.method
        openrouter = path.startswith("/api/")
        routes: dict[str, tuple[str, Callable[[_Request, Send], Awaitable[None]]]] = {
            "/v1/chat/completions": ("POST", self._chat),
            "/v1/models": ("GET", self._models),
            "/v1/tcp_warming": ("GET", self._tcp_warming),
            "/api/v1/chat/completions": ("POST", self._openrouter_chat),
            "/api/v1/models": ("GET", self._openrouter_models),
        }
        route = routes.get(path)
        handler: Callable[[_Request, Send], Awaitable[None]] | None = None
        if route is not None:
            if method != route[0]:
                raise self._not_found(openrouter, 405, "Method Not Allowed")
            handler = route[1]
        elif path.startswith("/v1/models/") and method == "GET":
            handler = self._model_retrieve
        elif path.startswith("/api/v1/models/") and path.endswith("/endpoints") and method == "GET":
            handler = self._openrouter_endpoints
        if handler is None:
            raise self._not_found(openrouter, 404, "Not Found")
        await handler(request, send)

    @staticmethod
    def _not_found(openrouter: bool, status: int, message: str) -> ApiError:
        if openrouter:
            return _or_error(status, message)
        return ApiError.flat(status, message, "not_found_error" if status == 404 else "invalid_request_error", "", "")

    # ------------------------------------------------------------------------------------------ common steps

    def _api_key(self, request: _Request, openrouter: bool = False) -> str:
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
            raise _or_error(401, "No auth credentials found" if not key else "User not found.")
        # RT-08: flat body, no rate-limit headers.
        raise ApiError.flat(401, "Wrong API Key", "invalid_request_error", "api_key", "wrong_api_key")

    def _faults_for(self, request: _Request) -> list[Fault]:
        faults: list[Fault] = []
        header = request.headers.get(FAULT_HEADER)
        if header:
            try:
                faults.extend(parse_faults(header))
            except ValueError as exc:
                raise ApiError.flat(
                    400, f"{FAULT_HEADER}: {exc}", "invalid_request_error", FAULT_HEADER, "bad_emulator_fault"
                ) from None
        with self._lock:
            if self._fault_queue:
                remaining, queued = self._fault_queue[0]
                faults.extend(queued)
                if remaining <= 1:
                    self._fault_queue.popleft()
                else:
                    self._fault_queue[0] = (remaining - 1, queued)
        faults.extend(self._always_faults)
        return faults

    def _status_fault(self, faults: list[Fault], openrouter: bool) -> ApiError | None:
        fault = next((f for f in faults if f.is_status), None)
        if fault is None:
            return None
        status = fault.status
        if status == 429:
            retry = fault.value if fault.value is not None else self.options.retry_after
            if openrouter:
                return _or_error(
                    429, "Rate limit exceeded", {"error_type": "rate_limit_exceeded"}, [("retry-after", f"{retry:g}")]
                )
            return rate_limit_error(fault.variant == "tokens", retry)
        if openrouter:
            kinds = {
                502: "provider_unavailable",
                503: "provider_overloaded",
                504: "timeout",
                500: "server",
                408: "timeout",
            }
            message = {
                503: "No available provider meets your routing requirements",
                502: "Provider returned error",
            }.get(status, "Internal Server Error" if status >= 500 else "Request failed")
            return _or_error(status, message, {"error_type": kinds.get(status, "unmapped")})
        message = SERVER_ERROR_MESSAGE if status >= 500 else "The request could not be processed."
        type_ = "server_error" if status >= 500 else "invalid_request_error"
        if fault.variant == "envelope":
            # 2026 5xx envelope (vercel/ai#11783, anomalyco/opencode#18150): empty strings, not nulls.
            return ApiError(
                status,
                {
                    "status_code": status,
                    "error": {"message": message, "type": type_, "param": "", "code": "", "id": ""},
                },
            )
        return ApiError.flat(status, message, type_)  # RT-10: no param / code

    @staticmethod
    def _stream_plan(faults: list[Fault]) -> _StreamPlan:
        plan = _StreamPlan()
        for fault in faults:
            index = int(fault.value) if fault.value is not None else -1
            if fault.kind == "drop" and plan.drop_at is None:
                plan.drop_at = index
            elif fault.kind == "malformed" and plan.malformed_at is None:
                plan.malformed_at = index
            elif fault.kind == "midstream" and plan.error_at is None:
                plan.error_at = index
            elif fault.kind == "slow":
                plan.slow = max(plan.slow, fault.value or 0.0)
        return plan

    @staticmethod
    def _parse_json(request: _Request) -> Any:
        try:
            return json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return ...

    def _reply_tokens(self, request: _Request) -> int | None:
        value = request.headers.get(REPLY_TOKENS_HEADER)
        if value is None:
            return None
        if not value.strip().isdigit():
            raise ApiError.flat(
                400,
                f"{REPLY_TOKENS_HEADER}: expected a whole number",
                "invalid_request_error",
                REPLY_TOKENS_HEADER,
                "bad_emulator_header",
            )
        return int(value)

    @staticmethod
    def _budget(body: dict[str, Any]) -> int | None:
        limit = body.get("max_completion_tokens")
        if limit is None:
            limit = body.get("max_tokens")
        return None if limit is None or limit == -1 else int(limit)

    @staticmethod
    def _check_context(completion: Completion, spec: ModelSpec, budget: int | None) -> None:
        total = completion.prompt_tokens + (budget or 0)
        if total > spec.context_length:
            # cline/cline#5140 (message); param and code are the emulator's.
            raise ApiError.flat(
                400,
                f"Please reduce the length of the messages or completion. Current length is {total} while "
                f"limit is {spec.context_length}",
                "invalid_request_error",
                "messages",
                "context_length_exceeded",
            )

    def _cache_hit(self, key: str, spec: ModelSpec, completion: Completion) -> None:
        if spec.prompt_caching:
            completion.cached_tokens = self._cache.lookup_and_store(f"{key}\x00{spec.id}", completion.prompt_token_list)

    # ---------------------------------------------------------------------------------------- Cerebras chat

    async def _chat(self, request: _Request, send: Send) -> None:
        key = self._api_key(request)
        faults = self._faults_for(request)
        error = self._status_fault(faults, openrouter=False)
        if error is not None:
            raise error
        body = self._parse_json(request)
        if body is ...:
            raise invalid("body: Input should be a valid JSON object")
        validate_request(body)
        spec = find_model(body["model"], self._allowed)
        if spec is None:
            # RT-09.
            raise ApiError.flat(
                404,
                f"Model {body['model']} does not exist or you do not have access to it.",
                "not_found_error",
                "model",
                "model_not_found",
            )
        validate_for_model(body, spec)
        completion = plan_completion(body, spec, self._scenarios, reply_tokens=self._reply_tokens(request))
        budget = self._budget(body)
        self._check_context(completion, spec, budget)
        reserve = completion.prompt_tokens + (budget if budget is not None else spec.max_output)
        admission: Admission = self._limiter.admit(key, reserve)
        try:
            self._cache_hit(key, spec, completion)
            now = time.time()
            meta = ResponseMeta(
                id=f"chatcmpl-{uuid.uuid4()}",
                created=int(now),
                created_float=now,
                model=spec.id,
                fingerprint=_fingerprint(spec),
                spec=spec,
                tokens_per_second=self.options.tokens_per_second,
            )
            headers = [*admission.headers, ("inference-id", meta.id), ("x-request-id", f"{secrets.token_hex(8)}-EMU")]
            plan = self._stream_plan(faults)
            logprobs = (int(body.get("top_logprobs") or 0)) if body.get("logprobs") else None
            if body.get("stream"):
                events = cerebras_events(completion, meta, logprobs)
                if self.options.send_done:
                    events.append(DONE)
                await self._send_stream(send, headers, events, plan, meta, openrouter=False)
            else:
                # A 200 carrying an error (the SDK's ErrorChunkResponse, §5.5) stands for mid-stream-error here.
                error_body = {
                    "error": {
                        "message": SERVER_ERROR_MESSAGE,
                        "type": "server_error",
                        "param": "",
                        "code": "",
                        "id": "",
                    },
                    "status_code": 500,
                }
                text = dumps(error_body if plan.error_at is not None else cerebras_body(completion, meta, logprobs))
                await self._send_completion(send, headers, text, plan, completion)
        finally:
            self._limiter.settle(admission, completion.prompt_tokens + completion.completion_tokens)

    # -------------------------------------------------------------------------------------- sending replies

    async def _send_completion(
        self, send: Send, headers: list[tuple[str, str]], text: str, plan: _StreamPlan, completion: Completion
    ) -> None:
        delay = plan.slow
        tps = self.options.tokens_per_second
        if tps:
            delay += completion.completion_tokens / tps
        if delay > 0:
            await asyncio.sleep(delay)
        data = text.encode()
        if plan.malformed_at is not None:
            data = data[: max(1, len(data) // 2)]
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": _encode_headers([("content-type", JSON_TYPE), ("content-length", str(len(data))), *headers]),
            }
        )
        if plan.drop_at is not None:
            await send({"type": "http.response.body", "body": data[: len(data) // 2], "more_body": True})
            raise ConnectionDropped("fault: drop-mid-stream")
        await send({"type": "http.response.body", "body": data, "more_body": False})

    async def _send_stream(
        self,
        send: Send,
        headers: list[tuple[str, str]],
        events: list[Event],
        plan: _StreamPlan,
        meta: ResponseMeta,
        openrouter: bool,
    ) -> None:
        def position(index: int) -> int:
            # Default: half-way through the stream, after at least the role chunk.
            lead = sum(1 for e in events if e.kind in ("comment", "role"))
            return max(lead, min(index if index >= 0 else len(events) // 2, len(events) - 1))

        if plan.error_at is not None:
            at = position(plan.error_at)
            error_event = openrouter_stream_error_event(meta) if openrouter else cerebras_stream_error_event()
            events = [*events[:at], error_event]
        if plan.malformed_at is not None:
            at = position(plan.malformed_at)
            events = [*events[:at], malformed_event(meta), *events[at:]]
        drop = False
        if plan.drop_at is not None:
            events = events[: position(plan.drop_at)]
            drop = True
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": _encode_headers([("content-type", SSE_TYPE), *headers]),
            }
        )
        tps = self.options.tokens_per_second
        if not tps and not plan.slow:
            await send(
                {"type": "http.response.body", "body": "".join(e.text for e in events).encode(), "more_body": True}
            )
        else:
            await self._paced(send, events, tps, plan.slow, openrouter)
        if drop:
            raise ConnectionDropped("fault: drop-mid-stream")
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    @staticmethod
    async def _paced(send: Send, events: list[Event], tps: float | None, slow: float, openrouter: bool) -> None:
        loop = asyncio.get_running_loop()
        lead = 0
        while lead < len(events) and events[lead].kind in ("comment", "role"):
            lead += 1
        if lead:
            await send(
                {
                    "type": "http.response.body",
                    "body": "".join(e.text for e in events[:lead]).encode(),
                    "more_body": True,
                }
            )
        if slow:
            if openrouter:
                # OpenRouter keeps a waiting stream alive with comment lines (openrouter.md §1.4).
                deadline = loop.time() + slow
                while (remaining := deadline - loop.time()) > 0:
                    await asyncio.sleep(min(remaining, 0.1))
                    if deadline - loop.time() > 0:
                        await send(
                            {"type": "http.response.body", "body": b": OPENROUTER PROCESSING\n\n", "more_body": True}
                        )
            else:
                await asyncio.sleep(slow)
        start = loop.time()
        produced = 0
        batch: list[str] = []
        for event in events[lead:]:
            produced += event.tokens
            if tps:
                delay = start + produced / tps - loop.time()
                if delay > 0.001:
                    if batch:
                        await send({"type": "http.response.body", "body": "".join(batch).encode(), "more_body": True})
                        batch = []
                    await asyncio.sleep(delay)
            batch.append(event.text)
        if batch:
            await send({"type": "http.response.body", "body": "".join(batch).encode(), "more_body": True})

    # ------------------------------------------------------------------------------------------ model lists

    def _served(self) -> list[ModelSpec]:
        return [m for m in MODELS if self._allowed is None or m.id in self._allowed]

    @staticmethod
    def _default_entry(spec: ModelSpec) -> dict[str, Any]:
        return {"id": spec.id, "object": "model", "created": spec.created, "owned_by": "Cerebras"}

    async def _models(self, request: _Request, send: Send) -> None:
        self._api_key(request)
        fmt = (request.query.get("format") or ["default"])[0]
        served = self._served()
        if fmt == "default":
            body: dict[str, Any] = {"object": "list", "data": [self._default_entry(m) for m in served]}
        elif fmt == "openrouter":
            body = {"data": [self._openrouter_format_entry(m) for m in served]}
        elif fmt == "huggingface":
            body = {"object": "list", "data": [self._huggingface_entry(m) for m in served]}
        else:
            raise invalid("format: Input should be 'default', 'openrouter' or 'huggingface'")
        await _send_json(send, 200, body, [("x-request-id", f"{secrets.token_hex(8)}-EMU")])

    async def _model_retrieve(self, request: _Request, send: Send) -> None:
        self._api_key(request)
        model_id = unquote(request.path.rstrip("/").rsplit("/", 1)[-1])
        spec = find_model(model_id, self._allowed)
        if spec is None:
            raise ApiError.flat(
                404,
                f"Model {model_id} does not exist or you do not have access to it.",
                "not_found_error",
                "model",
                "model_not_found",
            )
        fmt = (request.query.get("format") or ["default"])[0]
        entry = {"openrouter": self._openrouter_format_entry, "huggingface": self._huggingface_entry}.get(
            fmt, self._default_entry
        )(spec)
        await _send_json(send, 200, entry)

    @staticmethod
    def _openrouter_format_entry(spec: ModelSpec) -> dict[str, Any]:
        """§2.6 ``format=openrouter``: prices in USD per token, as strings."""
        features = ["tools", "json_mode", "structured_outputs"] + (["reasoning"] if spec.reasoning != "none" else [])
        return {
            "id": f"cerebras/{spec.id}",
            "name": spec.display_name,
            "context_length": spec.context_length,
            "max_output_length": spec.max_output,
            "created": spec.created,
            "pricing": {"prompt": _per_token(spec.price_in), "completion": _per_token(spec.price_out)},
            "quantization": "fp16",
            "supported_features": features,
            "supported_sampling_parameters": [
                "temperature",
                "top_p",
                "stop",
                "seed",
                "frequency_penalty",
                "presence_penalty",
            ],
            "input_modalities": list(spec.input_modalities),
            "output_modalities": ["text"],
            "datacenters": [{"country_code": "US"}],
            "hugging_face_id": spec.hugging_face_id,
            "openrouter": {"slug": spec.openrouter_id},
        }

    @staticmethod
    def _huggingface_entry(spec: ModelSpec) -> dict[str, Any]:
        """§2.6 ``format=huggingface``: prices in USD per million tokens."""
        return {
            "id": spec.id,
            "context_length": spec.context_length,
            "created": spec.created,
            "owned_by": "Cerebras",
            "pricing": {"input": spec.price_in, "output": spec.price_out},
            "capabilities": {
                "function_calling": True,
                "streaming": True,
                "structured_outputs": True,
                "vision": spec.vision,
            },
            "hugging_face_id": spec.hugging_face_id,
        }

    async def _tcp_warming(self, request: _Request, send: Send) -> None:
        await _send_json(send, 200, {})

    # ----------------------------------------------------------------------------------------- OpenRouter

    @staticmethod
    def _openrouter_parameters(spec: ModelSpec) -> list[str]:
        params = set(OPENROUTER_CEREBRAS_PARAMETERS)
        if spec.reasoning != "none":
            params |= OPENROUTER_REASONING_PARAMETERS
        return sorted(params)

    def _openrouter_model_entry(self, spec: ModelSpec) -> dict[str, Any]:
        modality = "text+image->text" if spec.vision else "text->text"
        return {
            "id": spec.openrouter_id,
            "canonical_slug": spec.openrouter_id,
            "hugging_face_id": spec.hugging_face_id,
            "name": spec.display_name,
            "created": spec.created,
            "description": f"{spec.display_name}, served by the Cerebras emulator.",
            "context_length": spec.context_length,
            "architecture": {
                "modality": modality,
                "input_modalities": list(spec.input_modalities),
                "output_modalities": ["text"],
                "tokenizer": "Other",
                "instruct_type": None,
            },
            "pricing": {
                "prompt": _per_token(spec.price_in),
                "completion": _per_token(spec.price_out),
                "request": "0",
                "image": "0",
                "web_search": "0",
                "internal_reasoning": "0",
            },
            "top_provider": {
                "context_length": spec.context_length,
                "max_completion_tokens": spec.max_output,
                "is_moderated": False,
            },
            "per_request_limits": None,
            "supported_parameters": self._openrouter_parameters(spec),
        }

    async def _openrouter_models(self, request: _Request, send: Send) -> None:
        data = [self._openrouter_model_entry(m) for m in self._served() if m.openrouter_id]
        await _send_json(send, 200, {"data": data})

    async def _openrouter_endpoints(self, request: _Request, send: Send) -> None:
        slug = request.path.rstrip("/")[len("/api/v1/models/") : -len("/endpoints")]
        spec = find_openrouter_model(unquote(slug), self._allowed)
        if spec is None:
            raise _or_error(404, "Model not found")
        entry = self._openrouter_model_entry(spec)
        endpoint = {
            "name": f"Cerebras | {spec.openrouter_id}",
            "model_name": spec.display_name,
            "context_length": spec.context_length,
            "pricing": entry["pricing"],
            "provider_name": "Cerebras",
            "tag": "cerebras",
            "quantization": "fp16",
            "max_completion_tokens": spec.max_output,
            "max_prompt_tokens": None,
            "supported_parameters": entry["supported_parameters"],
            "status": 0,
            "uptime_last_30m": 100.0,
        }
        data = {k: entry[k] for k in ("id", "name", "created", "description", "architecture")}
        data["endpoints"] = [endpoint]
        await _send_json(send, 200, {"data": data})

    def _route_openrouter(self, body: dict[str, Any], spec: ModelSpec) -> tuple[str, list[str]]:
        """Which provider serves the request, and the parameters Cerebras's endpoint lacks (openrouter.md §1.1)."""
        prefs = body.get("provider") or {}
        if not isinstance(prefs, dict):
            raise _or_error(400, "provider: Expected object")

        def slugs(name: str) -> list[str]:
            value = prefs.get(name) or []
            return [str(s).lower() for s in value] if isinstance(value, list) else []

        only, order, ignore = slugs("only"), slugs("order"), slugs("ignore")
        allow_fallbacks = prefs.get("allow_fallbacks", True) is not False
        require = prefs.get("require_parameters") is True
        supported = set(self._openrouter_parameters(spec))
        unsupported = [k for k in body if k not in supported and k not in OPENROUTER_ROUTING_FIELDS]
        cerebras_allowed = (not only or "cerebras" in only) and "cerebras" not in ignore
        # A pin: only Cerebras is allowed, or Cerebras first in `order` with fallbacks off.
        pinned = cerebras_allowed and (
            set(only) == {"cerebras"} or (bool(order) and order[0] == "cerebras" and not allow_fallbacks)
        )
        fallback = self.options.openrouter_fallback_provider
        if not cerebras_allowed:
            return fallback, unsupported
        if unsupported and require:
            if pinned:
                raise _or_error(404, "No endpoints found that can handle the requested parameters.")
            return fallback, unsupported
        if pinned:
            return "Cerebras", unsupported
        return self.options.openrouter_unpinned_provider, unsupported

    def _translate_openrouter(
        self, body: dict[str, Any], spec: ModelSpec, drop: Iterable[str]
    ) -> tuple[dict[str, Any], bool]:
        """The Cerebras request OpenRouter would send upstream, and whether reasoning is excluded."""
        skip = set(drop) | {
            "provider",
            "usage",
            "transforms",
            "models",
            "route",
            "session_id",
            "metadata",
            "trace",
            "plugins",
            "debug",
            "reasoning",
            "include_reasoning",
            "reasoning_effort",
        }
        upstream: dict[str, Any] = {k: v for k, v in body.items() if k not in skip}
        options = body.get("stream_options")
        if isinstance(options, dict):
            upstream["stream_options"] = {k: v for k, v in options.items() if k == "include_usage"}
        reasoning = body.get("reasoning")
        if reasoning is not None and not isinstance(reasoning, dict):
            raise _or_error(400, "reasoning: Expected object")
        reasoning = reasoning or {}
        effort: str | None = None
        if reasoning.get("enabled") is False:
            effort = "none"
        elif reasoning.get("effort") is not None:
            effort = _OPENROUTER_EFFORTS.get(str(reasoning["effort"]))
            if effort is None:
                raise _or_error(400, f"reasoning.effort: invalid value {reasoning['effort']!r}")
        elif reasoning.get("max_tokens") or reasoning.get("enabled"):
            effort = "medium"
        shorthand = body.get("reasoning_effort")
        if shorthand is not None and "reasoning_effort" not in drop:
            mapped = _OPENROUTER_EFFORTS.get(str(shorthand))
            if mapped is None or (effort is not None and reasoning.get("effort") not in (None, shorthand)):
                raise _or_error(400, "reasoning_effort must match reasoning.effort")
            effort = mapped
        exclude = reasoning.get("exclude") is True or body.get("include_reasoning") is False
        if spec.reasoning == "always" and effort == "none":
            raise _or_error(400, "Reasoning is mandatory for this endpoint and cannot be disabled.")
        if effort is not None and spec.reasoning != "none" and "reasoning" not in drop:
            upstream["reasoning_effort"] = effort
        messages = body.get("messages")
        if isinstance(messages, list):
            upstream["messages"] = [self._upstream_message(m) for m in messages]
        return upstream, exclude

    @staticmethod
    def _upstream_message(message: Any) -> Any:
        if not isinstance(message, dict) or message.get("role") not in MESSAGE_FIELDS:
            return message
        out = {k: v for k, v in message.items() if k in MESSAGE_FIELDS[message["role"]]}
        # OpenRouter accepts reasoning_content as an alias of reasoning on input (openrouter.md §1.2).
        if (
            message["role"] == "assistant"
            and "reasoning" not in out
            and isinstance(message.get("reasoning_content"), str)
        ):
            out["reasoning"] = message["reasoning_content"]
        content = out.get("content")
        if isinstance(content, list):
            out["content"] = [
                {k: v for k, v in p.items() if k != "cache_control"} if isinstance(p, dict) else p for p in content
            ]
        return out

    async def _openrouter_chat(self, request: _Request, send: Send) -> None:
        key = self._api_key(request, openrouter=True)
        faults = self._faults_for(request)
        error = self._status_fault(faults, openrouter=True)
        if error is not None:
            raise error
        body = self._parse_json(request)
        if not isinstance(body, dict):
            raise _or_error(400, "Invalid JSON body")
        model = body.get("model")
        if not isinstance(model, str):
            raise _or_error(400, "No models provided")
        spec = find_openrouter_model(model, self._allowed)
        if spec is None:
            raise _or_error(400, f"{model} is not a valid model ID")
        provider, unsupported = self._route_openrouter(body, spec)
        upstream, exclude = self._translate_openrouter(body, spec, unsupported)
        upstream["model"] = spec.id
        try:
            validate_request(upstream)
            validate_for_model(upstream, spec)
            completion = plan_completion(
                upstream, spec, self._scenarios, exclude_reasoning=exclude, reply_tokens=self._reply_tokens(request)
            )
            self._check_context(completion, spec, self._budget(upstream))
        except ApiError as upstream_error:
            if upstream_error.status >= 500 or "error" in upstream_error.body:
                raise
            raise _or_error(
                upstream_error.status,
                "Provider returned error",
                {"raw": dumps(upstream_error.body), "provider_name": provider},
            ) from None
        self._cache_hit(key, spec, completion)
        now = time.time()
        meta = ResponseMeta(
            id=f"gen-{int(now)}-{secrets.token_urlsafe(15)[:20]}",
            created=int(now),
            created_float=now,
            model=spec.openrouter_id or spec.id,
            fingerprint=_fingerprint(spec),
            spec=spec,
            tokens_per_second=self.options.tokens_per_second,
            provider=provider,
        )
        headers = [("x-generation-id", meta.id)]
        plan = self._stream_plan(faults)
        if body.get("stream"):
            await self._send_stream(send, headers, openrouter_events(completion, meta), plan, meta, openrouter=True)
        else:
            reply = openrouter_body(completion, meta)
            if plan.error_at is not None:
                # openrouter.md §1.4: a non-streamed 200 with the provider error embedded in the choice.
                reply["choices"][0]["finish_reason"] = "error"
                reply["choices"][0]["error"] = {
                    "code": 502,
                    "message": "Provider returned error",
                    "metadata": {"error_type": "provider_unavailable"},
                }
            await self._send_completion(send, headers, dumps(reply), plan, completion)


def _encode_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]


async def _send_json(send: Send, status: int, body: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
    data = dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": _encode_headers([("content-type", JSON_TYPE), ("content-length", str(len(data))), *headers]),
        }
    )
    await send({"type": "http.response.body", "body": data, "more_body": False})


def create_app(**options: Any) -> EmulatorApp:
    """An emulator ASGI app; ``options`` are ``EmulatorOptions`` fields (plus rate-limit shorthands)."""
    return EmulatorApp(EmulatorApp._merge(EmulatorOptions(), options))
