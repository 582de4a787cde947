"""The fault matrix: every fault of the independent fault server × every way of calling the library.

This module owns the contract for misbehaving servers (issue "Production hardening", section "Tests that keep
these classes fixed"). Each cell plays one script of ``tests.faultserver`` faults against one call path:

* core ``CerebrasClient`` / ``AsyncCerebrasClient`` ``chat.completions.create``, streamed and not;
* LangChain ``ChatCerebras`` ``invoke``, ``stream`` and ``astream`` (streams drained);
* LiteLLM ``completion`` / ``acompletion`` on the ``cerebras-adapters/`` provider, streamed and not;

and asserts the exact exception class, how many requests the server received (the retry count), the partial
output where one exists (``exc.partial``), and for the timeout faults how long the call took. Nothing raw
(``httpx``, ``h11``, ``json``, ``pydantic``, ``ValueError``, ``OSError``, ...) may escape: core and LangChain
calls raise ``CerebrasAdapterError`` subclasses (LangChain lets the core's class surface unchanged), LiteLLM
calls raise ``litellm.exceptions`` classes.

It must not use the contract emulator (``cerebras_adapters.testing``): the fault server is an independent world
written from the HTTP/1.1 and SSE specs. It must not weaken an expectation to match what the code does today:
a failing cell is a bug report.

LiteLLM note (1.106): an exception raised while LiteLLM iterates a stream is wrapped by its
``CustomStreamWrapper`` in ``MidStreamFallbackError`` (a ``ServiceUnavailableError``, so the Router can fall
back), except non-429 4xx errors, which it re-raises as they are. Whether an error surfaces at the call or
during iteration is the provider's choice (the sync provider sends eagerly, the async one on first iteration),
so LiteLLM stream cells unwrap ``MidStreamFallbackError.original_exception`` and assert the class inside.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from cerebras_adapters import AsyncCerebrasClient, CerebrasClient
from cerebras_adapters import errors as core
from tests.faultserver import Fault, FaultServer, error_body, retry_after_date, text_of

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price-map fetch when litellm is imported

try:
    import litellm
    from litellm import exceptions as lx

    from cerebras_adapters.litellm import register
except ImportError:  # pragma: no cover - the [litellm] extra is part of the test environment
    litellm = None
try:
    from cerebras_adapters.langchain import ChatCerebras
except ImportError:  # pragma: no cover - the [langchain] extra is part of the test environment
    ChatCerebras = None

# LiteLLM's TypedDicts use typing.ReadOnly and pydantic warns when it first builds them (see tests/litellm).
pytestmark = pytest.mark.filterwarnings(r"ignore:Items? .* `ReadOnly` qualifier:UserWarning")

MODEL = "gpt-oss-120b"
KEY = "test-key"
MESSAGES = [{"role": "user", "content": "hi"}]
MAX_RETRIES = 2
ATTEMPTS = 1 + MAX_RETRIES
CHUNKS = 3
"""Content chunks a fault lets through before it strikes (``text_of(CHUNKS)`` is the partial output)."""
DEADLINE = 0.3
"""The deadline (and attempt timeout) of the timeout cells, in seconds. The issue's example uses 1.0; the matrix
has some 45 timeout cells, so it is scaled down to keep the file fast. The bounds below scale with it."""
SLACK = 0.5
"""How far past its deadline a call may end."""
TRICKLE_PERIOD = 0.05
GIVE_UP = 2.0
"""The server's bound on a connection it holds open: a client that ignores its deadline fails in seconds."""


# -- what each cell expects -------------------------------------------------------------------------------------

NO_PARTIAL = ""
"""``Expect.partial`` value meaning "no partial, or one without content"."""


@dataclass(frozen=True)
class Expect:
    """One acceptable outcome of a cell."""

    error: type[core.CerebrasAdapterError] | None
    """The exact core class (None: the call succeeds with ``text_of(CHUNKS)``)."""
    litellm: type[Exception] | None
    """The exact ``litellm.exceptions`` class a LiteLLM call raises."""
    requests: int
    partial: str | None = None
    """The text ``exc.partial`` holds (core and LangChain); None: not checked."""
    within: float | None = None
    """Upper bound on the call's elapsed time (timeout cells)."""
    at_least: float | None = None
    """Lower bound on the call's elapsed time (a deadline must not fire early)."""
    delays: str | tuple[float, float] | None = "backoff"
    """Retry delays (recorded, not slept): ``"backoff"`` is the core's ``min(0.5 * 2**n, 8) * jitter`` with jitter
    in [0.75, 1]; ``(lo, hi)`` bounds every delay; None: not checked."""
    check: Callable[[BaseException, FaultServer], list[str]] | None = None
    """Extra assertions on the exception; returns the problems found."""
    litellm_subclass: bool = False
    """Accept a subclass of the ``litellm`` class (the provider's documented local-refusal classes, which are also
    ``GuardrailRaisedException`` so LiteLLM's Router does not fall back on a request that never left)."""


def fails(
    error: type[core.CerebrasAdapterError], litellm_error: type[Exception] | None, requests: int, **kw: Any
) -> Expect:
    return Expect(error, litellm_error, requests, **kw)


def succeeds(requests: int = 1) -> Expect:
    return Expect(None, None, requests)


Outcomes = Expect | tuple[Expect, ...] | None

CORE, LANGCHAIN, LITELLM = "core", "langchain", "litellm"
EVERYWHERE = frozenset({CORE, LANGCHAIN, LITELLM})


@dataclass(frozen=True)
class Case:
    """A fault script and what it must produce on streamed and non-streamed paths (None: not applicable)."""

    id: str
    script: tuple[Fault, ...]
    stream: Outcomes
    nonstream: Outcomes
    route: str = "cerebras"
    client: Mapping[str, Any] = field(default_factory=dict)
    """Client / ``ChatCerebras`` keyword arguments (LiteLLM: ``deadline`` becomes ``timeout``)."""
    call: Mapping[str, Any] = field(default_factory=dict)
    """Per-call keyword arguments (``create``, ``invoke``/``stream``; LiteLLM: ``deadline`` becomes ``timeout``)."""
    frameworks: frozenset[str] = EVERYWHERE
    real_sleep: bool = False
    """Timeout cells sleep for real: a backoff sleep counts against a deadline."""

    def outcomes(self, stream: bool) -> tuple[Expect, ...]:
        chosen = self.stream if stream else self.nonstream
        if chosen is None:
            return ()
        return chosen if isinstance(chosen, tuple) else (chosen,)


def both(expect: Outcomes) -> dict[str, Outcomes]:
    return {"stream": expect, "nonstream": expect}


# The LiteLLM class of each core outcome (src/cerebras_adapters/litellm/_errors.py documents the table).
if litellm is not None:
    LITE: dict[type[core.CerebrasAdapterError], type[Exception]] = {
        core.BadRequestError: lx.BadRequestError,
        core.AuthenticationError: lx.AuthenticationError,
        core.PaymentRequiredError: lx.PaymentRequiredError,
        core.PermissionDeniedError: lx.PermissionDeniedError,
        core.NotFoundError: lx.NotFoundError,
        core.PayloadTooLargeError: lx.BadRequestError,
        core.UnprocessableEntityError: lx.UnprocessableEntityError,
        core.RequestTimeoutError: lx.Timeout,
        core.ConflictError: lx.APIError,
        core.RateLimitError: lx.RateLimitError,
        core.InternalServerError: lx.InternalServerError,
        core.ServiceUnavailableError: lx.ServiceUnavailableError,
        core.APIConnectionError: lx.APIConnectionError,
        core.StreamInterruptedError: lx.APIConnectionError,
        core.APITimeoutError: lx.Timeout,
        core.APIResponseValidationError: lx.APIResponseValidationError,
        core.RoutingError: lx.APIError,
        core.RequestValidationError: lx.BadRequestError,
    }
else:  # pragma: no cover
    LITE = {}


LITELLM_CLASSES: tuple[type[Exception], ...] = (
    tuple(
        cls for cls in vars(lx).values()
        if isinstance(cls, type) and issubclass(cls, Exception) and cls.__module__.startswith("litellm")
    )
    if litellm is not None
    else ()
)


def lite(error: type[core.CerebrasAdapterError], status: int | None = None) -> type[Exception] | None:
    if litellm is None:  # pragma: no cover
        return None
    if status == 502:
        return lx.BadGatewayError
    return LITE[error]


def status_matches(status: int) -> Callable[[BaseException, FaultServer], list[str]]:
    """The status and the server's message reach the core exception, whichever body shape carried them."""
    message = error_body(status)["message"]

    def check(exc: BaseException, server: FaultServer) -> list[str]:
        problems = []
        if getattr(exc, "status_code", None) != status:
            problems.append(f"status_code {getattr(exc, 'status_code', None)!r}, expected {status}")
        if getattr(exc, "message", None) != message:
            problems.append(f"message {getattr(exc, 'message', None)!r}, expected {message!r}")
        return problems

    return check


def message_not_empty(exc: BaseException, server: FaultServer) -> list[str]:
    text = getattr(exc, "message", None)
    return [] if isinstance(text, str) and text.strip() else [f"empty message {text!r}"]


def retry_after_about(seconds: float) -> Callable[[BaseException, FaultServer], list[str]]:
    def check(exc: BaseException, server: FaultServer) -> list[str]:
        hint = getattr(exc, "retry_after", None)
        if not isinstance(hint, (int, float)) or not seconds - 1.1 <= hint <= seconds + 0.1:
            return [f"RateLimitError.retry_after {hint!r}, expected about {seconds} (from the HTTP-date)"]
        return []

    return check


def attempts_cut_at(seconds: float) -> Callable[[BaseException, FaultServer], list[str]]:
    def check(exc: BaseException, server: FaultServer) -> list[str]:
        gaps = [b - a for a, b in zip(server.arrivals, server.arrivals[1:], strict=False)]
        if not gaps or not all(seconds - 0.05 <= gap <= seconds + 0.3 for gap in gaps):
            return [f"attempts {gaps} apart, expected each cut at about {seconds} s"]
        return []

    return check


def build_cases() -> list[Case]:
    cases: list[Case] = [
        # Controls: the server's normal answers go through on every path.
        Case("ok-chunked", (Fault.ok(CHUNKS),), **both(succeeds())),
        Case("ok-close-delimited", (Fault.ok(CHUNKS, framing="close"),), **both(succeeds())),
        Case("ok-after-a-503", (Fault.status(503), Fault.ok(CHUNKS)), **both(succeeds(2))),
        Case("ok-after-a-reset", (Fault.reset_before_response(), Fault.ok(CHUNKS)), **both(succeeds(2))),
        Case("openrouter-ok", (Fault.openrouter(None, CHUNKS),), route="openrouter", **both(succeeds())),
        # Every byte its own write: events and multi-byte UTF-8 characters split across reads.
        Case("ok-one-byte-per-write", (Fault.trickle(0.0, chunks=CHUNKS),), **both(succeeds())),
        # Refused before sending: nothing reaches the server (LiteLLM: its BadRequestError).
        Case("refused-locally", (Fault.ok(CHUNKS),), call={"temperature": 5.0},
             **both(fails(core.RequestValidationError, lite(core.RequestValidationError), 0, litellm_subclass=True))),
    ]

    # Error statuses, both body shapes: the 4xx are final, 408/409/429/5xx are retried.
    final = [
        (400, core.BadRequestError),
        (401, core.AuthenticationError),
        (402, core.PaymentRequiredError),
        (403, core.PermissionDeniedError),
        (404, core.NotFoundError),
        (413, core.PayloadTooLargeError),
        (422, core.UnprocessableEntityError),
    ]
    retried = [
        (408, core.RequestTimeoutError),
        (409, core.ConflictError),
        (429, core.RateLimitError),
        (500, core.InternalServerError),
        (502, core.InternalServerError),
        (503, core.ServiceUnavailableError),
    ]
    for shape in ("flat", "envelope"):
        for status, error in final:
            expect = fails(error, lite(error, status), 1, check=status_matches(status))
            cases.append(Case(f"status-{status}-{shape}", (Fault.status(status, shape=shape),), **both(expect)))
        for status, error in retried:
            expect = fails(error, lite(error, status), ATTEMPTS, check=status_matches(status))
            cases.append(Case(f"status-{status}-{shape}", (Fault.status(status, shape=shape),), **both(expect)))

    # Retry hints.
    cases += [
        Case(
            "503-x-should-retry-false",
            (Fault.status(503, headers={"x-should-retry": "false"}),),
            **both(fails(core.ServiceUnavailableError, lite(core.ServiceUnavailableError), 1)),
        ),
        Case(
            "400-x-should-retry-true",
            (Fault.status(400, headers={"x-should-retry": "true"}),),
            **both(fails(core.BadRequestError, lite(core.BadRequestError), ATTEMPTS)),
        ),
        Case(
            "429-retry-after-garbage",
            (Fault.status(429, headers={"retry-after": "soon"}),),
            **both(fails(core.RateLimitError, lite(core.RateLimitError), ATTEMPTS)),
        ),
        Case(
            "429-retry-after-http-date",
            (Fault.status(429, headers={"retry-after": retry_after_date(5)}),),
            **both(
                fails(
                    core.RateLimitError,
                    lite(core.RateLimitError),
                    ATTEMPTS,
                    delays=(3.9, 5.1),
                    check=retry_after_about(5),
                )
            ),
        ),
        Case(
            "429-retry-after-beyond-60-s",
            (Fault.status(429, headers={"retry-after": "120"}),),
            **both(fails(core.RateLimitError, lite(core.RateLimitError), ATTEMPTS)),
        ),
        Case(
            "503-retry-after-http-date-in-the-past",
            (Fault.status(503, headers={"retry-after": retry_after_date(-30)}),),
            **both(fails(core.ServiceUnavailableError, lite(core.ServiceUnavailableError), ATTEMPTS)),
        ),
        Case(
            "503-retry-after-ms",
            (Fault.status(503, headers={"retry-after-ms": "1500"}),),
            **both(fails(core.ServiceUnavailableError, lite(core.ServiceUnavailableError), ATTEMPTS,
                         delays=(1.5, 1.5))),
        ),
    ]

    # Error bodies that are not JSON error bodies, and error bodies cut by the connection.
    bad_gateway = fails(core.InternalServerError, lite(core.InternalServerError, 502), ATTEMPTS,
                        check=message_not_empty)
    connection = fails(core.APIConnectionError, lite(core.APIConnectionError), ATTEMPTS)
    cases += [
        Case("502-empty-body", (Fault.empty_body(502),), **both(bad_gateway)),
        Case("502-html-body", (Fault.html_body(502),), **both(bad_gateway)),
        Case("502-truncated-json-body", (Fault.truncated_json(502),), **both(bad_gateway)),
        Case("503-body-cut-by-close", (Fault.cut_body(503),), **both(connection)),
        Case("503-body-cut-by-reset", (Fault.cut_body(503, reset=True),), **both(connection)),
        Case("reset-before-response", (Fault.reset_before_response(),), **both(connection)),
    ]

    # A 200 whose body breaks: a stream that has yielded is never retried; a JSON body is.
    interrupted = fails(core.StreamInterruptedError, lite(core.StreamInterruptedError), 1, partial=text_of(CHUNKS))
    cases += [
        Case("200-reset-mid-body", (Fault.reset_mid_body(CHUNKS),), stream=interrupted, nonstream=connection),
        Case("200-content-length-short", (Fault.truncated_ok(CHUNKS),), stream=interrupted, nonstream=connection),
    ]

    # Bodies and events that are not what the API sends.
    invalid = lite(core.APIResponseValidationError)
    cases += [
        Case(
            "malformed-event",
            (Fault.malformed_event(CHUNKS),),
            stream=fails(core.APIResponseValidationError, invalid, 1, partial=text_of(CHUNKS)),
            nonstream=fails(core.APIResponseValidationError, invalid, 1),
        ),
        Case(
            "invalid-utf8-event",
            (Fault.invalid_utf8_event(CHUNKS),),
            stream=fails(core.APIResponseValidationError, invalid, 1, partial=text_of(CHUNKS)),
            nonstream=fails(core.APIResponseValidationError, invalid, 1),
        ),
        Case(
            # The contract let the library choose between "a body it cannot decode" and "a broken transfer"
            # (never raw httpx.DecodingError); it chose the first, not retried: the same bytes would come back.
            "bad-gzip",
            (Fault.bad_gzip(),),
            stream=fails(core.APIResponseValidationError, invalid, 1, partial=NO_PARTIAL),
            nonstream=fails(core.APIResponseValidationError, invalid, 1),
        ),
    ]

    # Streams that end wrong (stream-only faults).
    cases += [
        Case(
            "error-event-with-status",
            (Fault.error_event(CHUNKS, status_code=503),),
            stream=fails(core.ServiceUnavailableError, lite(core.ServiceUnavailableError), 1, partial=text_of(CHUNKS)),
            nonstream=None,
        ),
        Case(
            "error-event-line",
            (Fault.error_event(CHUNKS, status_code=None, event_line=True),),
            stream=fails(core.InternalServerError, lite(core.InternalServerError), 1, partial=text_of(CHUNKS)),
            nonstream=None,
        ),
        Case("done-without-finish-reason", (Fault.done_without_finish(CHUNKS),), stream=interrupted, nonstream=None),
        # The unterminated event is dropped (SSE: an event is dispatched only by a blank line).
        Case("clean-close-mid-event-line", (Fault.close_mid_event(CHUNKS, cut="line"),), stream=interrupted,
             nonstream=None),
        Case("clean-close-mid-event-json", (Fault.close_mid_event(CHUNKS, cut="json"),), stream=interrupted,
             nonstream=None),
    ]

    # OpenRouter served the request elsewhere.
    routing = lite(core.RoutingError)
    cases += [
        Case(
            "openrouter-wrong-provider-first",
            (Fault.openrouter("first", CHUNKS),),
            route="openrouter",
            stream=fails(core.RoutingError, routing, 1, partial=NO_PARTIAL),
            nonstream=fails(core.RoutingError, routing, 1),
        ),
        Case(
            "openrouter-wrong-provider-last",
            (Fault.openrouter("last", CHUNKS),),
            route="openrouter",
            stream=fails(core.RoutingError, routing, 1, partial=text_of(CHUNKS)),
            nonstream=fails(core.RoutingError, routing, 1),
        ),
    ]

    # Slow servers: a deadline bounds the whole call; an attempt timeout bounds each attempt.
    timed_out = fails(
        core.APITimeoutError, lite(core.APITimeoutError), 1, within=DEADLINE + SLACK, at_least=DEADLINE - 0.05,
        delays=None,
    )
    slow = {"real_sleep": True, **both(timed_out)}
    cases += [
        Case("trickle-client-deadline", (Fault.trickle(TRICKLE_PERIOD, chunks=CHUNKS),), client={"deadline": DEADLINE},
             **slow),
        Case("trickle-call-deadline", (Fault.trickle(TRICKLE_PERIOD, chunks=CHUNKS),), call={"deadline": DEADLINE},
             frameworks=frozenset({CORE, LANGCHAIN}), **slow),
        Case("stall-after-headers-deadline", (Fault.stall(0),), client={"deadline": DEADLINE}, **slow),
        Case("stall-mid-body-deadline", (Fault.stall(CHUNKS),), client={"deadline": DEADLINE}, **slow),
        Case(
            "stall-attempt-timeout",
            (Fault.stall(0),),
            client={"attempt_timeout": DEADLINE, "max_retries": 1},
            frameworks=frozenset({CORE, LANGCHAIN}),  # LiteLLM has one timeout, mapped to the deadline
            **both(
                fails(core.APITimeoutError, lite(core.APITimeoutError), 2, within=2 * DEADLINE + SLACK,
                      at_least=2 * DEADLINE - 0.1, check=attempts_cut_at(DEADLINE))
            ),
        ),
    ]
    return cases


# -- the call paths ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    base_url: str
    route: str
    client: dict[str, Any]
    call: dict[str, Any]


def _client_kwargs(call: Call) -> dict[str, Any]:
    return {"base_url": call.base_url, "api_key": KEY, "max_retries": MAX_RETRIES, "route": call.route, **call.client}


def _delta_text(chunks: Any) -> Iterator[str]:
    for chunk in chunks:
        for choice in chunk.choices:
            if choice.delta is not None and choice.delta.content:
                yield choice.delta.content


def core_sync(call: Call, stream: bool) -> str:
    with CerebrasClient(**_client_kwargs(call)) as client:
        if stream:
            chunks = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True, **call.call)
            return "".join(_delta_text(chunks))
        return client.chat.completions.create(model=MODEL, messages=MESSAGES, **call.call).choices[0].message.content


def core_async(call: Call, stream: bool) -> str:
    async def run() -> str:
        async with AsyncCerebrasClient(**_client_kwargs(call)) as client:
            if stream:
                chunks = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True, **call.call)
                return "".join([chunk async for chunk in _adelta_text(chunks)])
            completion = await client.chat.completions.create(model=MODEL, messages=MESSAGES, **call.call)
            return completion.choices[0].message.content

    return asyncio.run(run())


async def _adelta_text(chunks: Any) -> Any:
    async for chunk in chunks:
        for choice in chunk.choices:
            if choice.delta is not None and choice.delta.content:
                yield choice.delta.content


def _llm(call: Call) -> Any:
    return ChatCerebras(model=MODEL, **_client_kwargs(call))


def langchain_invoke(call: Call, stream: bool) -> str:
    return str(_llm(call).invoke("hi", **call.call).content)


def langchain_stream(call: Call, stream: bool) -> str:
    return "".join(str(chunk.content) for chunk in _llm(call).stream("hi", **call.call))


def langchain_astream(call: Call, stream: bool) -> str:
    async def drain() -> str:
        return "".join([str(chunk.content) async for chunk in _llm(call).astream("hi", **call.call)])

    return asyncio.run(drain())


def _litellm_kwargs(call: Call, stream: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": f"cerebras-adapters/{MODEL}",
        "messages": MESSAGES,
        "api_base": call.base_url,
        "api_key": KEY,
        "max_retries": MAX_RETRIES,
    }
    if call.route != "cerebras":
        kwargs["route"] = call.route
    for name, value in {**call.client, **call.call}.items():
        if name == "deadline":
            kwargs["timeout"] = value  # LiteLLM's one timeout is the call's deadline
        elif name == "attempt_timeout":  # pragma: no cover - a case using it must leave LiteLLM out
            raise AssertionError("LiteLLM has no attempt_timeout")
        else:
            kwargs[name] = value
    if stream:
        kwargs["stream"] = True
    return kwargs


def litellm_sync(call: Call, stream: bool) -> str:
    response = litellm.completion(**_litellm_kwargs(call, stream))
    if stream:
        return "".join(_delta_text(response))
    return str(response.choices[0].message.content)


def litellm_async(call: Call, stream: bool) -> str:
    async def run() -> str:
        response = await litellm.acompletion(**_litellm_kwargs(call, stream))
        if stream:
            return "".join([piece async for piece in _adelta_text(response)])
        return str(response.choices[0].message.content)

    return asyncio.run(run())


@dataclass(frozen=True)
class Path:
    id: str
    framework: str
    stream: bool
    run: Callable[[Call, bool], str]


PATHS = [
    Path("core-sync", CORE, False, core_sync),
    Path("core-sync-stream", CORE, True, core_sync),
    Path("core-async", CORE, False, core_async),
    Path("core-async-stream", CORE, True, core_async),
    Path("langchain-invoke", LANGCHAIN, False, langchain_invoke),
    Path("langchain-stream", LANGCHAIN, True, langchain_stream),
    Path("langchain-astream", LANGCHAIN, True, langchain_astream),
    Path("litellm-completion", LITELLM, False, litellm_sync),
    Path("litellm-completion-stream", LITELLM, True, litellm_sync),
    Path("litellm-acompletion", LITELLM, False, litellm_async),
    Path("litellm-acompletion-stream", LITELLM, True, litellm_async),
]
AVAILABLE = {CORE, *([LANGCHAIN] if ChatCerebras is not None else []), *([LITELLM] if litellm is not None else [])}

CELLS = [
    pytest.param(case, path, id=f"{case.id}-{path.id}")
    for case in build_cases()
    for path in PATHS
    if path.framework in case.frameworks and path.framework in AVAILABLE and case.outcomes(path.stream)
]


# -- fixtures ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def _module_fault_server() -> Iterator[FaultServer]:
    # One server for the module: LiteLLM's provider keeps one core client per base URL, so a fixed URL lets the
    # cells share it instead of building one per cell. Idle keep-alive connections are kept far longer than the
    # module runs, so no pooled connection is closed under a request.
    with FaultServer(give_up_after=GIVE_UP, idle_timeout=600) as server:
        yield server


@pytest.fixture(scope="module")
def _warm_paths(_module_fault_server: FaultServer, _litellm_provider: None, _one_tls_context: None) -> None:
    """Every path once, untimed, before any cell: first-use costs (lazy imports, LiteLLM's first call, the
    deadline machinery) must not land in a timeout cell's elapsed time."""
    url = f"{_module_fault_server.url}/v1"
    for path in PATHS:
        if path.framework not in AVAILABLE:
            continue
        for client in ({"deadline": 30.0}, {}):
            _module_fault_server.reset([Fault.ok(CHUNKS)])
            try:
                path.run(Call(url, "cerebras", client, {}), path.stream)
                break
            except Exception:  # best effort: the cells themselves report what is broken
                continue


@pytest.fixture
def fault_server(_module_fault_server: FaultServer, _warm_paths: None) -> FaultServer:
    _module_fault_server.reset()
    return _module_fault_server


@pytest.fixture(scope="module")
def _one_tls_context() -> Iterator[None]:
    """Speed only: every httpx client builds the same default TLS context (~30 ms, certifi's bundle) and no
    cell uses TLS; the matrix builds a few hundred clients, so they share one."""
    import httpx._transports.default as transports

    real = getattr(transports, "create_ssl_context", None)
    if real is None:  # pragma: no cover - another httpx layout: just slower
        yield
        return
    cache: dict[bool, Any] = {}

    def shared(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        if verify is not True or cert is not None:
            return real(verify=verify, cert=cert, trust_env=trust_env)
        if trust_env not in cache:
            cache[trust_env] = real(verify=verify, cert=cert, trust_env=trust_env)
        return cache[trust_env]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transports, "create_ssl_context", shared)
        yield


@pytest.fixture(scope="module")
def _litellm_provider() -> None:
    if litellm is not None:
        litellm.suppress_debug_info = True
        register()


def record_retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the library's retry delays instead of sleeping them; every other sleep is real.

    ``cerebras_adapters._client`` sleeps through ``time.sleep`` and ``asyncio.sleep`` (as tests/conftest.py's
    ``no_sleep`` patches them). Those are module attributes shared by every caller, and LiteLLM's workers sleep
    too (a no-op ``asyncio.sleep`` in a polling loop would spin), so only calls from ``cerebras_adapters`` are
    recorded and skipped.
    """
    slept: list[float] = []
    real_sleep, real_async_sleep = time.sleep, asyncio.sleep

    def from_library() -> bool:
        return str(sys._getframe(2).f_globals.get("__name__", "")).startswith("cerebras_adapters")

    def fake_sleep(seconds: float) -> None:
        if from_library():
            slept.append(seconds)
            return
        real_sleep(seconds)

    def fake_async_sleep(seconds: float, *args: Any, **kwargs: Any) -> Any:
        if from_library():
            slept.append(seconds)
            return real_async_sleep(0)
        return real_async_sleep(seconds, *args, **kwargs)

    monkeypatch.setattr(time, "sleep", fake_sleep)
    monkeypatch.setattr(asyncio, "sleep", fake_async_sleep)
    return slept


# -- the matrix -------------------------------------------------------------------------------------------------


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "no exception"
    return f"{type(exc).__module__}.{type(exc).__qualname__}: {str(exc)[:300]}"


def _unwrap_litellm(exc: BaseException) -> BaseException:
    if litellm is not None and isinstance(exc, lx.MidStreamFallbackError) and exc.original_exception is not None:
        return exc.original_exception
    return exc


def _problems(
    expect: Expect,
    path: Path,
    outcome: BaseException | None,
    text: str | None,
    elapsed: float,
    server: FaultServer,
    slept: list[float] | None,
) -> list[str]:
    problems: list[str] = []
    requests = len(server.requests)
    if requests != expect.requests:
        problems.append(f"server saw {requests} requests, expected {expect.requests}")
    if expect.within is not None and elapsed > expect.within:
        problems.append(f"took {elapsed:.2f} s, expected under {expect.within:.2f} s")
    if expect.at_least is not None and elapsed < expect.at_least:
        problems.append(f"took {elapsed:.2f} s, expected at least {expect.at_least:.2f} s")
    if slept is not None and expect.delays is not None:
        if len(slept) != max(expect.requests - 1, 0):
            problems.append(f"retry delays {slept}, expected {max(expect.requests - 1, 0)}")
        for n, delay in enumerate(slept):
            lo, hi = (0.375 * 2**n, 0.5 * 2**n) if expect.delays == "backoff" else expect.delays
            if not lo - 1e-6 <= delay <= hi + 1e-6:
                problems.append(f"retry delay {n} was {delay!r}, expected in [{lo}, {hi}]")
    if expect.error is None:
        if outcome is not None:
            problems.append(f"expected success, got {_describe(outcome)}")
        elif text != text_of(CHUNKS):
            problems.append(f"answer {text!r}, expected {text_of(CHUNKS)!r}")
        return problems
    if outcome is None:
        problems.append(f"expected {expect.error.__name__}, the call returned {text!r}")
        return problems
    if KEY in str(outcome) or KEY in repr(outcome):
        problems.append("the API key appears in the exception")
    if path.framework == LITELLM:
        inner = _unwrap_litellm(outcome)
        expected = expect.litellm
        if not isinstance(inner, LITELLM_CLASSES):
            problems.append(f"not a LiteLLM exception: {_describe(outcome)}")
        elif expected is None or not (
            type(inner) is expected or (expect.litellm_subclass and isinstance(inner, expected))
        ):
            problems.append(f"raised {_describe(outcome)}, expected litellm {getattr(expected, '__name__', None)}")
        return problems
    if not isinstance(outcome, core.CerebrasAdapterError):
        problems.append(f"raw exception escaped: {_describe(outcome)}")
        return problems
    if type(outcome) is not expect.error:
        problems.append(f"raised {_describe(outcome)}, expected {expect.error.__name__}")
        return problems
    if expect.partial is not None:
        partial = getattr(outcome, "partial", None)
        content = partial.choices[0].message.content if partial is not None and partial.choices else None
        if expect.partial == NO_PARTIAL:
            if content:
                problems.append(f"partial content {content!r}, expected none")
        elif content != expect.partial:
            problems.append(f"partial content {content!r}, expected {expect.partial!r}")
    if expect.check is not None:
        problems.extend(expect.check(outcome, server))
    return problems


@pytest.mark.parametrize(("case", "path"), CELLS)
def test_each_fault_surfaces_as_its_contracted_outcome_on_every_path(
    case: Case, path: Path, fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept = None if case.real_sleep else record_retry_sleeps(monkeypatch)
    fault_server.reset(case.script)
    suffix = "/api/v1" if case.route == "openrouter" else "/v1"
    call = Call(f"{fault_server.url}{suffix}", case.route, dict(case.client), dict(case.call))
    outcome: BaseException | None = None
    text: str | None = None
    started = time.monotonic()
    try:
        text = path.run(call, path.stream)
    except Exception as exc:
        outcome = exc
    elapsed = time.monotonic() - started
    attempts = [_problems(expect, path, outcome, text, elapsed, fault_server, slept) for expect in case.outcomes(
        path.stream)]
    if any(not problems for problems in attempts):
        return
    report = "\n  or: ".join("; ".join(problems) for problems in attempts)
    pytest.fail(f"{case.id} on {path.id} ({_describe(outcome)}, {len(fault_server.requests)} requests, "
                f"{elapsed:.2f} s):\n  {report}", pytrace=False)


# -- the fault server does what it says (checked with raw sockets, not the library) ------------------------------


def _raw_post(server: FaultServer, body: bytes = b'{"stream": false}') -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /anything HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        received = b""
        try:
            while data := sock.recv(65536):
                received += data
        except ConnectionResetError:
            received += b"<RST>"
        return received


def test_fault_server_plays_its_script_in_order_and_repeats_the_last_fault() -> None:
    with FaultServer([Fault.status(503), Fault.status(429)]) as server:
        first, second, third = (_raw_post(server) for _ in range(3))
    assert first.startswith(b"HTTP/1.1 503 ")
    assert second.startswith(b"HTTP/1.1 429 ")
    assert third.startswith(b"HTTP/1.1 429 ")
    assert [r.target for r in server.requests] == ["/anything"] * 3
    assert server.requests[0].json == {"stream": False}


def test_fault_server_resets_before_sending_any_response_byte() -> None:
    with FaultServer([Fault.reset_before_response()]) as server:
        assert _raw_post(server) == b"<RST>"


def test_fault_server_streams_server_sent_events_when_the_body_asks_for_a_stream() -> None:
    with FaultServer([Fault.ok(2)]) as server:
        raw = _raw_post(server, b'{"stream": true}')
    assert b"content-type: text/event-stream" in raw
    assert b"transfer-encoding: chunked" in raw
    assert raw.count(b"data: {") == 3
    assert raw.endswith(b"0\r\n\r\n")


@pytest.mark.parametrize(("fault", "stream"), [
    pytest.param(Fault.trickle(0.0, chunks=2), False, id="one-byte-per-write-json"),
    pytest.param(Fault.trickle(0.0, chunks=2), True, id="one-byte-per-write-stream"),
    pytest.param(Fault.ok(2, framing="close"), True, id="close-delimited-stream"),
])
def test_fault_server_announces_a_close_after_a_complete_answer(fault: Fault, stream: bool) -> None:
    # The success controls close the connection after a complete answer. Unannounced, a pooled client may send
    # the next cell's request on that connection before the close reaches it, and a control cell then sees a
    # connection error and a retry (a flaky "retry delays [0.4], expected 0" on a loaded CI machine).
    with FaultServer([fault]) as server:
        raw = _raw_post(server, b'{"stream": %s}' % (b"true" if stream else b"false"))
    head = raw.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 200 ")
    assert b"\r\nconnection: close" in head


def test_fault_server_releases_a_stalled_connection_when_it_stops() -> None:
    server = FaultServer([Fault.stall(0)], give_up_after=60).start()
    received: list[bytes] = []
    worker = threading.Thread(target=lambda: received.append(_raw_post(server)))
    worker.start()
    time.sleep(0.2)
    started = time.monotonic()
    server.stop()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert time.monotonic() - started < 2
    assert received and received[0].startswith(b"HTTP/1.1 200 ")
