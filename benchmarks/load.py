"""Load: hundreds of concurrent streams per client path, and the TCP connections each path opens for them.

Issue "Production hardening", item 8 ("the pool churns under load"): with httpx's default pool
(``max_keepalive_connections=20``, ``max_connections=100``) a batch of 256 concurrent streams opened 256 TCP
connections and closed all but 20 of them again, so every batch paid the connection setup anew. The core
client now defaults to ``DEFAULT_LIMITS`` (1000 connections, all kept alive for 5 s). httpcore 1.0.9's own
pool makes such a pool slow under a burst (its assignment step hands every queued request the same idle
connection, checks keep-alive in quadratic time and polls every idle socket on every pass), so the core's
clients run httpcore's pool with a fixed, linear assignment step (``cerebras_adapters._pool``; the upstream
fix is proposed in encode/httpcore#1035). This suite shows what limits and step do under load, per path, in
one run:

* ``core``: 1000 concurrent streams through one ``AsyncCerebrasClient`` (``asyncio`` tasks), 3 batches;
* ``core-256``: the same client, default limits and fixed step, 256 streams, 3 batches (the like-for-like row
  for the next two);
* ``core-256-stock-pool``: the same client and limits on a plain ``httpx.AsyncClient(limits=DEFAULT_LIMITS)``
  (``http_client=``): httpcore's stock pool and assignment step, for comparison at equal limits;
* ``core-256-httpx-limits``: the core client with ``limits=httpx.Limits(max_connections=100,
  max_keepalive_connections=20)``, httpx's defaults, on the fixed step;
* ``langchain``: 256 concurrent ``ChatCerebras.astream`` calls on one model, 3 batches;
* ``litellm``: 256 concurrent ``litellm.acompletion(model="cerebras-adapters/gpt-oss-120b", stream=True)``
  calls after ``cerebras_adapters.litellm.register()``, 3 batches.

Method. The contract emulator runs in its own process (``emulator.EmulatorProcess``). Every stream is paced
like the real service: its first token ``--load-first-token-ms`` (200) after the response headers (the
emulator's ``--fault slow-first-token=…``, a delay, not an error), then ``--load-tokens-per-second`` (3000)
tokens/s. Each path runs in **its own child process** (``python -m benchmarks.load child PATH SETTINGS``), one
after another, so its peak RSS, CPU time and connection count are its own (and whatever else the machine ran
at the time is in its figures). In that child, before anything connects, ``ConnectionCounter`` wraps
``asyncio.BaseEventLoop.create_connection`` (what httpcore's async backend reaches: httpx → httpcore
``AutoBackend`` → ``AnyIOBackend`` → ``anyio.connect_tcp`` → ``loop.create_connection``) and
``socket.create_connection`` (httpcore's sync backend): a process-level count of the TCP connections opened,
whatever opened them. ``PoolTimer`` wraps ``_assign_requests_to_connections`` on every pool class that defines
it (httpcore's, "stock", and the core's, "fixed") to take the CPU time of whichever step the pool runs, and
counts each pass under its step, so a row shows which step it ran. Both only observe; nothing under test is
replaced. The child then runs one untimed warm-up stream on a separate client (lazy imports, first-call setup;
its connection is not counted), and the batches: all streams of a batch are started at once and awaited
together, each batch bounded by ``--load-batch-timeout`` (streams still running then are cancelled and
counted as errors). Retries are off (``max_retries=0``) on every path, so a failure is counted, not hidden by
a retry that would also open a connection. After each batch LiteLLM's logging backlog is drained (untimed).
Per batch the child records the connections opened, how many of those opened since the warm-up are still
open at its end (kept alive in the pool), the idle time before it, the wall time, the assignment step's passes
and CPU time and the longest event-loop stall; per stream the time from the call to the first chunk that
carries a token (content or reasoning) and the number of chunks. The child reports JSON on stdout.
``run_in_process`` runs a path in the calling process instead (the smoke test does, to skip a child's
imports).

``python -m benchmarks load [--write]`` or ``python -m benchmarks.load [--write]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
import traceback
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .emulator import EmulatorProcess
from .report import Section, Suite, environment, environment_markdown, markdown_table, run_cli

__all__ = [
    "PATHS",
    "SUITE",
    "ConnectionCounter",
    "PathResult",
    "PathSpec",
    "PoolTimer",
    "Settings",
    "render",
    "run",
    "run_in_process",
    "run_path",
    "section",
]

MODEL = "gpt-oss-120b"
PROMPT = "Explain how a keep-alive connection pool behaves under a burst of concurrent requests."
API_KEY = "bench"
ROOT = Path(__file__).resolve().parent.parent
_RESULT_MARK = "LOAD-RESULT "
_PACKAGES = ("cerebras-adapters", "httpx", "httpcore", "anyio", "langchain-core", "litellm")
HTTPX_LIMITS = {"max_connections": 100, "max_keepalive_connections": 20}  # httpx's defaults


@dataclass(frozen=True)
class PathSpec:
    key: str
    label: str
    kind: str  # "core" | "langchain" | "litellm"
    wide: bool  # the 1000-stream batch (else the framework-sized one, 256)
    httpx_limits: bool = False  # httpx's default limits (100 / 20 kept alive) instead of DEFAULT_LIMITS
    pool: str = "fixed"  # the assignment step the path's pool should run: "fixed" (the core's) | "stock" (httpcore's)


PATHS: tuple[PathSpec, ...] = (
    PathSpec("core", "core `AsyncCerebrasClient`, default limits, fixed pool", "core", wide=True),
    PathSpec("core-256", "core `AsyncCerebrasClient`, default limits, fixed pool", "core", wide=False),
    PathSpec(
        "core-256-stock-pool",
        "core `AsyncCerebrasClient`, default limits, **stock httpcore pool** (plain `httpx.AsyncClient`)",
        "core",
        wide=False,
        pool="stock",
    ),
    PathSpec(
        "core-256-httpx-limits",
        "core `AsyncCerebrasClient`, **httpx's limits** (100 / 20 kept alive), fixed pool",
        "core",
        wide=False,
        httpx_limits=True,
    ),
    PathSpec("langchain", "LangChain `ChatCerebras.astream`", "langchain", wide=False),
    PathSpec("litellm", "LiteLLM `acompletion(stream=True)`, `cerebras-adapters/`", "litellm", wide=False),
)
_BY_KEY = {spec.key: spec for spec in PATHS}


@dataclass(frozen=True)
class Settings:
    core_streams: int = 1000
    framework_streams: int = 256
    batches: int = 3
    reply_tokens: int = 256  # x-emulator-reply-tokens: content tokens per stream (reasoning comes on top)
    tokens_per_second: float = 3000.0  # emulator pacing per stream; 0: unpaced
    first_token_ms: int = 200  # emulator delay before each stream's first token (after the headers); 0: none
    batch_timeout: float = 120.0  # seconds; a batch's streams still running then are cancelled (errors)
    paths: tuple[str, ...] = tuple(spec.key for spec in PATHS)

    def streams(self, spec: PathSpec) -> int:
        return self.core_streams if spec.wide else self.framework_streams

    def child_timeout(self) -> float:
        """The whole child process: imports, warm-up, every batch and its bound, LiteLLM's drains."""
        return 60.0 + self.batches * (self.batch_timeout + 70.0)


# ------------------------------------------------------------------------------------- connection counting


class ConnectionCounter:
    """The TCP connections this process opens, counted at the connect calls themselves.

    ``install()`` wraps ``asyncio.BaseEventLoop.create_connection`` (the call anyio's asyncio backend, and so
    httpcore's async pool, makes for every new connection) and ``socket.create_connection`` (httpcore's sync
    backend). It keeps a weak reference to each transport/socket it saw opened, so ``open_now()`` says how many
    of them are still open (kept alive in a pool). It replaces nothing else and changes no behaviour."""

    def __init__(self) -> None:
        self.opened = 0
        self.failed = 0
        self.peers: Counter[str] = Counter()
        self._live: list[Callable[[], bool]] = []
        self._async_wrapper: Any = None
        self._originals: tuple[Any, Any] | None = None

    def install(self) -> None:
        if self._originals is not None:
            return
        counter = self
        create_connection = asyncio.BaseEventLoop.create_connection
        socket_create_connection = socket.create_connection

        @functools.wraps(create_connection)
        async def counted_create_connection(
            loop: Any, protocol_factory: Any, host: Any = None, port: Any = None, *args: Any, **kwargs: Any
        ) -> Any:
            try:
                transport, protocol = await create_connection(loop, protocol_factory, host, port, *args, **kwargs)
            except BaseException:
                counter.failed += 1
                raise
            ref = weakref.ref(transport)
            counter._record(f"{host}:{port}", lambda: (t := ref()) is not None and not t.is_closing())
            return transport, protocol

        @functools.wraps(socket_create_connection)
        def counted_socket_create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
            try:
                sock = socket_create_connection(address, *args, **kwargs)
            except BaseException:
                counter.failed += 1
                raise
            ref = weakref.ref(sock)
            counter._record(f"{address[0]}:{address[1]}", lambda: (s := ref()) is not None and s.fileno() != -1)
            return sock

        asyncio.BaseEventLoop.create_connection = counted_create_connection  # type: ignore[assignment]
        socket.create_connection = counted_socket_create_connection
        self._async_wrapper = counted_create_connection
        self._originals = (create_connection, socket_create_connection)

    def uninstall(self) -> None:
        """Put the original connect calls back (only needed outside a child process, e.g. in tests)."""
        if self._originals is None:
            return
        asyncio.BaseEventLoop.create_connection, socket.create_connection = self._originals  # type: ignore[method-assign]
        self._originals = None

    def check_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Fail loudly if ``loop`` does not reach the wrapped ``create_connection`` (e.g. uvloop): a count of 0
        must mean no connection, never an uncounted one."""
        if type(loop).create_connection is not self._async_wrapper:
            raise RuntimeError(f"{type(loop).__name__}.create_connection is not the counted one")

    def _record(self, peer: str, is_open: Callable[[], bool]) -> None:
        self.opened += 1
        self.peers[peer] += 1
        self._live.append(is_open)

    def reset(self) -> None:
        """Forget what was opened so far (the warm-up's connections): counts start again from 0."""
        self.opened = 0
        self.failed = 0
        self.peers.clear()
        self._live.clear()

    def open_now(self) -> int:
        return sum(1 for is_open in self._live if is_open())


_STEP = "_assign_requests_to_connections"


def _step_name(cls: type) -> str:
    """``"stock"`` for httpcore's own assignment step, ``"fixed"`` for the core's (``cerebras_adapters._pool``),
    the class's qualified name for any other."""
    step = vars(cls)[_STEP]
    module = getattr(step, "__module__", "") or ""
    if module.startswith("httpcore"):
        return "stock"
    if module == "cerebras_adapters._pool":
        return "fixed"
    return f"{cls.__module__}.{cls.__qualname__}"


def _pool_classes() -> list[type]:
    """httpcore's pool classes and every subclass of them defining its own assignment step (the core's
    ``_AsyncPool`` / ``_SyncPool``, whose class a pool is switched to after the transport built it)."""
    from httpcore import AsyncConnectionPool, ConnectionPool

    with contextlib.suppress(ImportError):
        import cerebras_adapters._pool  # noqa: F401 - its pool classes must exist to be wrapped

    found: list[type] = []
    todo: list[type] = [AsyncConnectionPool, ConnectionPool]
    while todo:
        cls = todo.pop()
        if cls in found:
            continue
        if _STEP in vars(cls):
            found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


class PoolTimer:
    """CPU time spent in the pool's assignment step (``_assign_requests_to_connections``, run on every request
    start, retry and response close), whichever step the pool runs: httpcore's own ("stock") or the core's
    linear, herd-free one (``cerebras_adapters._pool._assign``, "fixed"; the core's clients switch their pool's
    class to one defining it). ``install()`` wraps the method on every class that defines it, so each pass is
    timed once and counted under its step (``steps``): a row meant to run one step can be checked to have
    run it. A diagnostic: in httpcore 1.0.9 a pass costs O(connections × idle connections) and a burst on a warm
    pool retries passes (encode/httpcore#1035). Nothing else is changed."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.steps: Counter[str] = Counter()
        self._originals: list[tuple[type, Any]] = []

    def install(self) -> None:
        if self._originals:
            return
        timer = self
        clock = time.thread_time  # CPU time of the calling thread: what the pass costs, not GIL waits
        for cls in _pool_classes():
            original = vars(cls)[_STEP]
            name = _step_name(cls)

            def timed(pool: Any, _original: Any = original, _name: str = name) -> Any:
                start = clock()
                try:
                    return _original(pool)
                finally:
                    timer.seconds += clock() - start
                    timer.calls += 1
                    timer.steps[_name] += 1

            functools.update_wrapper(timed, original)
            setattr(cls, _STEP, timed)
            self._originals.append((cls, original))

    def uninstall(self) -> None:
        for cls, original in self._originals:
            setattr(cls, _STEP, original)
        self._originals.clear()

    def reset(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.steps.clear()


# -------------------------------------------------------------------------------------- the child process

StreamCall = Callable[[], Awaitable[tuple[float | None, int]]]  # → (seconds to first token, chunks)


@dataclass
class BatchResult:
    streams: int
    wall_s: float
    opened: int  # TCP connections opened during the batch
    open_after: int  # connections opened so far (since the warm-up) still open when the batch ended
    errors: int
    ttft_s: list[float] = field(default_factory=list)
    chunks: list[int] = field(default_factory=list)
    first_error: str | None = None
    idle_before_s: float = 0.0  # since the previous batch (or the warm-up) ended: keep-alive expiry is 5 s
    pool_cpu_s: float = 0.0  # CPU time in the pool's assignment step during the batch
    pool_passes: int = 0  # passes of the pool's assignment step (_assign_requests_to_connections) in the batch
    pool_steps: dict[str, int] = field(default_factory=dict)  # those passes per step: "stock" | "fixed"
    longest_stall_s: float = 0.0  # the longest time the event loop did not get round to a 50 ms timer


def _vm_kib(name: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _peak_rss_kib() -> int:
    # VmHWM is the resident high-water mark; ru_maxrss is the same figure (KiB on Linux) where /proc is absent.
    return _vm_kib("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _describe(exc: BaseException) -> str:
    message = str(exc).replace("\n", " ").strip()
    return f"{type(exc).__name__}: {message[:200]}" if message else type(exc).__name__


async def _one(call: StreamCall) -> tuple[float | None, int]:
    return await call()


async def _watch_stalls(longest: list[float], tick: float = 0.05) -> None:
    """Record in ``longest[0]`` the longest stretch the event loop was busy past a ``tick`` timer."""
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(tick)
        longest[0] = max(longest[0], loop.time() - before - tick)


async def _batch(
    call: StreamCall, streams: int, timeout: float, counter: ConnectionCounter, pool_timer: PoolTimer
) -> BatchResult:
    opened_before = counter.opened
    pool_s, pool_calls, pool_steps = pool_timer.seconds, pool_timer.calls, Counter(pool_timer.steps)
    stall = [0.0]
    watcher = asyncio.ensure_future(_watch_stalls(stall))
    start = time.perf_counter()
    tasks = [asyncio.ensure_future(_one(call)) for _ in range(streams)]
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    wall = time.perf_counter() - start
    watcher.cancel()
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=10.0)
    result = BatchResult(streams, wall, 0, 0, 0, longest_stall_s=stall[0])
    for task in tasks:
        if task in pending:
            result.errors += 1
            result.first_error = result.first_error or f"BatchTimeout: still running after {timeout:g} s"
            continue
        exc = task.exception()
        if exc is not None:
            result.errors += 1
            result.first_error = result.first_error or _describe(exc)
            continue
        ttft, chunks = task.result()
        if ttft is None:
            result.errors += 1
            result.first_error = result.first_error or f"NoToken: the stream ended after {chunks} chunks without one"
            continue
        result.ttft_s.append(ttft)
        result.chunks.append(chunks)
    await asyncio.sleep(0)  # let closes scheduled by the last responses run
    result.opened = counter.opened - opened_before
    result.open_after = counter.open_now()
    result.pool_cpu_s = pool_timer.seconds - pool_s
    result.pool_passes = pool_timer.calls - pool_calls
    result.pool_steps = dict(pool_timer.steps - pool_steps)
    return result


def _core_call(client: Any) -> StreamCall:
    messages = [{"role": "user", "content": PROMPT}]
    clock = time.perf_counter

    async def call() -> tuple[float | None, int]:
        start = clock()
        first: float | None = None
        n = 0
        stream = await client.chat.completions.create(model=MODEL, messages=messages, stream=True)
        async for chunk in stream:
            n += 1
            if first is None and chunk.choices:
                delta = chunk.choices[0].delta
                if delta.content or delta.reasoning:
                    first = clock() - start
        return first, n

    return call


def _langchain_call(model: Any) -> StreamCall:
    messages = [("user", PROMPT)]
    clock = time.perf_counter

    async def call() -> tuple[float | None, int]:
        start = clock()
        first: float | None = None
        n = 0
        async for chunk in model.astream(messages):
            n += 1
            if first is None and (chunk.content or chunk.additional_kwargs.get("reasoning_content")):
                first = clock() - start
        return first, n

    return call


def _litellm_call(litellm: Any, base_url: str, api_key: str, headers: dict[str, str]) -> StreamCall:
    messages = [{"role": "user", "content": PROMPT}]
    clock = time.perf_counter

    async def call() -> tuple[float | None, int]:
        start = clock()
        first: float | None = None
        n = 0
        response = await litellm.acompletion(
            model=f"cerebras-adapters/{MODEL}",
            messages=messages,
            stream=True,
            api_base=base_url,
            api_key=api_key,
            extra_headers=headers,
            max_retries=0,
            coalesce=False,  # one chunk per event, as in the core rows (coalescing has its rows in streams)
        )
        async for chunk in response:
            n += 1
            if first is None and chunk.choices:
                delta = chunk.choices[0].delta
                if delta.content or getattr(delta, "reasoning_content", None):
                    first = clock() - start
        return first, n

    return call


async def _settle_litellm() -> None:
    """Wait (bounded) until LiteLLM's logging backlog from the last batch is done, so it is not billed to the
    next one (the same drain as ``peers.py``)."""
    from litellm.litellm_core_utils.thread_pool_executor import executor

    def backlog_done() -> bool:  # private fields, best effort (as in peers.py)
        slots = getattr(executor, "_pending_slots", None)
        cap = getattr(executor, "_max_pending_tasks", None)
        return slots is None or cap is None or bool(slots._value >= cap)

    with contextlib.suppress(ImportError, asyncio.TimeoutError):
        from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

        await asyncio.wait_for(GLOBAL_LOGGING_WORKER.flush(), 30.0)
    deadline = time.monotonic() + 30.0
    while not backlog_done() and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


async def _child_async(
    spec: PathSpec, settings: Settings, base_url: str, counter: ConnectionCounter, pool_timer: PoolTimer
) -> dict[str, Any]:
    counter.check_loop(asyncio.get_running_loop())
    headers = {"x-emulator-reply-tokens": str(settings.reply_tokens)}
    closers: list[Callable[[], Awaitable[Any]]] = []
    settle: Callable[[], Awaitable[None]] | None = None
    import httpx

    if spec.kind == "core":
        from cerebras_adapters import AsyncCerebrasClient
        from cerebras_adapters._client import DEFAULT_LIMITS, DEFAULT_TIMEOUT

        limits = httpx.Limits(**HTTPX_LIMITS) if spec.httpx_limits else DEFAULT_LIMITS

        def core_client() -> Any:
            kwargs: dict[str, Any] = {"base_url": base_url, "max_retries": 0, "default_headers": headers}
            if spec.pool == "stock":
                # A plain httpx client: httpcore's own pool and assignment step, the core's limits and timeout.
                http = httpx.AsyncClient(limits=limits, timeout=DEFAULT_TIMEOUT, follow_redirects=True)
                return AsyncCerebrasClient(api_key=API_KEY, http_client=http, **kwargs), http.aclose
            client = AsyncCerebrasClient(api_key=API_KEY, limits=limits, **kwargs)
            return client, client.close

        warm, close_warm = core_client()
        await _core_call(warm)()
        await close_warm()
        client, close_client = core_client()
        call = _core_call(client)
        closers.append(close_client)
    elif spec.kind == "langchain":
        from cerebras_adapters.langchain import ChatCerebras

        def model() -> Any:
            return ChatCerebras(  # one chunk per event, as in the core rows (coalescing has its rows in streams)
                model=MODEL, api_key=API_KEY, base_url=base_url, max_retries=0, default_headers=headers, coalesce=False
            )

        warm = model()
        await _langchain_call(warm)()
        await warm.async_client.close()
        chat = model()
        call = _langchain_call(chat)
        closers.append(lambda: chat.async_client.close())
    elif spec.kind == "litellm":
        import litellm

        from cerebras_adapters.litellm import register

        litellm.suppress_debug_info = True
        register()
        # A different key is a different pooled client in the provider: the warm-up's connection stays its own.
        await _litellm_call(litellm, base_url, "bench-warm-up", headers)()
        call = _litellm_call(litellm, base_url, API_KEY, headers)
        settle = _settle_litellm
        await settle()
    else:  # pragma: no cover - PATHS is fixed
        raise ValueError(spec.kind)

    counter.reset()
    pool_timer.reset()
    rss_before = _vm_kib("VmRSS") or 0
    cpu_before = _cpu_s()
    batches: list[BatchResult] = []
    idle_since = time.perf_counter()
    for _ in range(settings.batches):
        idle = time.perf_counter() - idle_since
        batch = await _batch(call, settings.streams(spec), settings.batch_timeout, counter, pool_timer)
        batch.idle_before_s = idle
        batches.append(batch)
        idle_since = time.perf_counter()
        if settle is not None:
            await settle()
    cpu = _cpu_s() - cpu_before
    for close in closers:
        await close()
    return {
        "key": spec.key,
        "rss_before_kib": rss_before,
        "peak_rss_kib": _peak_rss_kib(),
        "cpu_s": cpu,
        "connect_failures": counter.failed,
        "peers": dict(counter.peers),
        "batches": [asdict(b) for b in batches],
    }


def _measure_path(key: str, settings: Settings, base_url: str) -> dict[str, Any]:
    """Run one path in this process with the instruments installed, and remove them afterwards."""
    counter = ConnectionCounter()
    counter.install()  # before anything can connect
    pool_timer = PoolTimer()
    pool_timer.install()
    try:
        return asyncio.run(_child_async(_BY_KEY[key], settings, base_url, counter, pool_timer))
    except BaseException as exc:  # reported as the path's error, with the traceback on stderr
        traceback.print_exc()
        return {"key": key, "failure": _describe(exc)}
    finally:
        pool_timer.uninstall()
        counter.uninstall()


def _child_main(key: str, settings_json: str) -> int:
    payload = json.loads(settings_json)
    base_url = payload.pop("base_url")
    settings = Settings(**{**payload, "paths": tuple(payload["paths"])})
    print(_RESULT_MARK + json.dumps(_measure_path(key, settings, base_url)), flush=True)
    return 0


# ------------------------------------------------------------------------------------------- the parent


@dataclass(frozen=True)
class PathResult:
    spec: PathSpec
    streams: int
    batches: tuple[BatchResult, ...] = ()
    rss_before_kib: int = 0
    peak_rss_kib: int = 0
    cpu_s: float = 0.0
    emulator_cpu_s: float | None = None
    connect_failures: int = 0
    peers: dict[str, int] = field(default_factory=dict)
    failure: str | None = None  # the child itself failed (no figures)

    @property
    def errors(self) -> int:
        return sum(b.errors for b in self.batches) + (1 if self.failure else 0)

    @property
    def first_error(self) -> str | None:
        return self.failure or next((b.first_error for b in self.batches if b.first_error), None)

    @property
    def opened(self) -> int:
        return sum(b.opened for b in self.batches)

    @property
    def ttft_s(self) -> list[float]:
        return [t for b in self.batches for t in b.ttft_s]

    @property
    def wall_s(self) -> float:
        return sum(b.wall_s for b in self.batches)

    @property
    def chunks(self) -> list[int]:
        return [c for b in self.batches for c in b.chunks]

    @property
    def pool_cpu_s(self) -> float:
        return sum(b.pool_cpu_s for b in self.batches)

    @property
    def pool_passes(self) -> int:
        return sum(b.pool_passes for b in self.batches)

    @property
    def pool_steps(self) -> dict[str, int]:
        """Passes of the pool's assignment step per step ("stock" / "fixed") over all batches."""
        total: Counter[str] = Counter()
        for b in self.batches:
            total.update(b.pool_steps)
        return dict(total)

    @property
    def longest_stall_s(self) -> float:
        return max((b.longest_stall_s for b in self.batches), default=0.0)


def _emulator_cpu_s(emulator: EmulatorProcess) -> float | None:
    process = emulator._process
    if process is None:
        return None
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def run_path(key: str, settings: Settings, base_url: str) -> PathResult:
    """One path (a key of ``PATHS``) in its own child process against the emulator at ``base_url``."""
    spec = _BY_KEY[key]
    payload = json.dumps({**asdict(settings), "base_url": base_url})
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "benchmarks.load", "child", spec.key, payload]
    streams = settings.streams(spec)
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=settings.child_timeout()
        )
    except subprocess.TimeoutExpired:
        return PathResult(spec, streams, failure=f"ChildTimeout: no result after {settings.child_timeout():g} s")
    line = next((ln for ln in reversed(done.stdout.splitlines()) if ln.startswith(_RESULT_MARK)), None)
    if line is None:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return PathResult(spec, streams, failure=f"ChildFailed: exit code {done.returncode}, {tail[:200]}")
    return _path_result(spec, streams, json.loads(line[len(_RESULT_MARK) :]))


def run_in_process(key: str, settings: Settings, base_url: str) -> PathResult:
    """One path in *this* process, instruments installed for the run only (for tests: no process start-up,
    but RSS and CPU then include whatever the process did before)."""
    spec = _BY_KEY[key]
    return _path_result(spec, settings.streams(spec), _measure_path(key, settings, base_url))


def _path_result(spec: PathSpec, streams: int, data: dict[str, Any]) -> PathResult:
    if "failure" in data:
        return PathResult(spec, streams, failure=data["failure"])
    return PathResult(
        spec,
        streams,
        batches=tuple(BatchResult(**b) for b in data["batches"]),
        rss_before_kib=data["rss_before_kib"],
        peak_rss_kib=data["peak_rss_kib"],
        cpu_s=data["cpu_s"],
        connect_failures=data["connect_failures"],
        peers=data["peers"],
    )


def emulator_args(settings: Settings) -> list[str]:
    """The emulator's command-line options that pace its streams as ``settings`` says."""
    args = []
    if settings.tokens_per_second:
        args += ["--tokens-per-second", f"{settings.tokens_per_second:g}"]
    if settings.first_token_ms:
        args += ["--fault", f"slow-first-token={settings.first_token_ms}ms"]
    return args


def run(settings: Settings = Settings(), *, base_url: str | None = None) -> list[PathResult]:
    """Run every path in ``settings.paths`` (in ``PATHS`` order), each in its own child process, against the
    emulator at ``base_url`` (by default one started for the run with ``settings.tokens_per_second``). The
    emulator's CPU time per path is reported only when this function started it."""
    unknown = set(settings.paths) - set(_BY_KEY)
    if unknown:
        raise ValueError(f"unknown load paths {sorted(unknown)} (choose from {', '.join(_BY_KEY)})")
    if settings.batches < 1 or settings.core_streams < 1 or settings.framework_streams < 1:
        raise ValueError("need at least one batch and one stream")
    specs = [spec for spec in PATHS if spec.key in settings.paths]
    if base_url is not None:
        return [run_path(spec.key, settings, base_url) for spec in specs]
    results = []
    with EmulatorProcess(*emulator_args(settings)) as emulator:
        for spec in specs:
            before = _emulator_cpu_s(emulator)
            result = run_path(spec.key, settings, emulator.base_url)
            after = _emulator_cpu_s(emulator)
            if before is not None and after is not None:
                result = replace(result, emulator_cpu_s=after - before)
            results.append(result)
    return results


# ------------------------------------------------------------------------------------------------ report


def _percentile(values: Sequence[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.0f}"


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def _errors(result: PathResult) -> str:
    if not result.errors:
        return "0"
    first = (result.first_error or "?").split(":", 1)[0]
    return f"**{result.errors}** (`{first}`)"


def _per_batch(values: Iterable[object]) -> str:
    return " / ".join(str(v) for v in values) or "–"


def _steps(steps: dict[str, int]) -> str:
    """Which assignment step the pool's passes ran: "fixed", "stock", both, or "–" (no pass timed)."""
    return " + ".join(sorted(steps)) or "–"


def _ttft(values: Sequence[float]) -> str:
    return f"{_ms(_percentile(values, 50))} / {_ms(_percentile(values, 99))}"


def _passes_per_stream(r: PathResult) -> float:
    streams = sum(b.streams for b in r.batches)
    return r.pool_passes / streams if streams else 0.0


def _reopened(r: PathResult) -> int:
    """Connections opened after the first batch: with every batch starting well inside the keep-alive expiry,
    a pool that kept the first batch's connections opens none."""
    return sum(b.opened for b in r.batches[1:])


def _faster(name_a: str, a: float, name_b: str, b: float, what: str = "wall time") -> str:
    """``a`` vs ``b`` (seconds, lower is better) as a clause: which was faster and by what factor, or "within 10 %"."""
    if a <= 0 or b <= 0:
        return f"{what} {a:.1f} s ({name_a}) vs {b:.1f} s ({name_b})"
    figures = f"{a:.1f} vs {b:.1f} s"
    if max(a, b) / min(a, b) < 1.1:
        return f"{name_a} and {name_b} were within 10 % of each other in {what} ({figures})"
    if a < b:
        return f"{name_a} was {b / a:.1f}× faster than {name_b} in {what} ({figures})"
    return f"{name_a} was {a / b:.1f}× slower than {name_b} in {what} ({figures})"


def render(results: Sequence[PathResult]) -> str:
    """The summary table: one row per path, all batches together."""
    rows = []
    for r in results:
        if not r.batches:
            rows.append([r.spec.label, f"{r.streams} × –", _errors(r), *["–"] * 10])
            continue
        rows.append(
            [
                r.spec.label,
                f"{r.streams} × {len(r.batches)}",
                _errors(r),
                _ttft(r.ttft_s),
                f"{r.wall_s:.1f}",
                f"{r.cpu_s:.1f}",
                _steps(r.pool_steps),
                f"{r.pool_cpu_s:.1f}",
                "–" if r.emulator_cpu_s is None else f"{r.emulator_cpu_s:.1f}",
                f"{_mib(r.rss_before_kib)} → {_mib(r.peak_rss_kib)}",
                f"**{r.opened}**",
                _per_batch(b.opened for b in r.batches),
                _per_batch(b.open_after for b in r.batches),
            ]
        )
    return markdown_table(
        [
            "path",
            "streams × batches",
            "errors",
            "time to first token p50 / p99, ms",
            "wall time, s",
            "client CPU, s",
            "pool assignment step (measured)",
            "of which in the pool's assignment step, s",
            "emulator CPU, s",
            "client RSS, MiB (set up → peak)",
            "TCP connections opened",
            "opened per batch",
            "kept open after each batch",
        ],
        rows,
    )


def render_batches(results: Sequence[PathResult]) -> str:
    """One row per batch: how long the pool sat idle before it, what it cost, and what the pool did."""
    rows = []
    for r in results:
        for i, b in enumerate(r.batches):
            rows.append(
                [
                    f"{r.spec.label} ({r.streams})" if i == 0 else "″",
                    str(i + 1),
                    f"{b.idle_before_s:.1f}",
                    f"{b.wall_s:.2f}",
                    _ttft(b.ttft_s),
                    f"{b.errors}" if not b.errors else f"**{b.errors}**",
                    str(b.opened),
                    str(b.open_after),
                    f"{b.pool_passes / b.streams:.1f}",
                    f"{b.pool_cpu_s:.2f}",
                    f"{b.longest_stall_s:.2f}",
                ]
            )
    return markdown_table(
        [
            "path",
            "batch",
            "idle before, s",
            "wall, s",
            "TTFT p50 / p99, ms",
            "errors",
            "opened",
            "kept open after",
            "pool passes per stream",
            "pool assignment step CPU, s",
            "longest event-loop stall, s",
        ],
        rows,
    )


STALL_NOTE_S = 1.0  # a path whose event loop stalled this long (or longer) gets a finding of its own


def findings(results: Sequence[PathResult]) -> list[str]:
    """Sentences computed from the figures (so a re-run cannot leave stale prose behind)."""
    out = []
    by_key = {r.spec.key: r for r in results if r.batches}
    fixed, stock = by_key.get("core-256"), by_key.get("core-256-stock-pool")
    if fixed and stock:
        wall = _faster("the fixed step", fixed.wall_s, "the stock one", stock.wall_s)
        out.append(
            f"Equal limits (`DEFAULT_LIMITS`: 1000 connections, 1000 kept alive), {fixed.streams} streams × "
            f"{len(fixed.batches)} batches, fixed vs stock assignment step: "
            f"{wall}; time to first token p50 / p99 "
            f"{_ttft(fixed.ttft_s)} vs {_ttft(stock.ttft_s)} ms; {_passes_per_stream(fixed):.1f} vs "
            f"{_passes_per_stream(stock):.1f} passes of the step per stream, {fixed.pool_cpu_s:.1f} vs "
            f"{stock.pool_cpu_s:.1f} s of CPU in it, client CPU {fixed.cpu_s:.1f} vs {stock.cpu_s:.1f} s; longest "
            f"event-loop stall {fixed.longest_stall_s:.2f} vs {stock.longest_stall_s:.2f} s; connections opened per "
            f"batch {_per_batch(b.opened for b in fixed.batches)} vs {_per_batch(b.opened for b in stock.batches)}."
        )
    small = by_key.get("core-256-httpx-limits")
    if fixed and small:
        wall = _faster("the default-limits row", fixed.wall_s, "the httpx-limits row", small.wall_s)
        out.append(
            f"Fixed pool, default limits vs httpx's (100 connections, 20 kept alive), {fixed.streams} streams × "
            f"{len(fixed.batches)}: {wall}; time to "
            f"first token p50 / p99 {_ttft(fixed.ttft_s)} vs {_ttft(small.ttft_s)} ms. After the first batch the "
            f"default limits opened {_reopened(fixed)} connections again, httpx's {_reopened(small)} (per batch "
            f"{_per_batch(b.opened for b in fixed.batches)} vs {_per_batch(b.opened for b in small.batches)}; kept "
            f"open after each {_per_batch(b.open_after for b in fixed.batches)} vs "
            f"{_per_batch(b.open_after for b in small.batches)})."
        )
    wide = by_key.get("core")
    if wide:
        out.append(
            f"{wide.streams} streams × {len(wide.batches)} on the fixed pool, default limits: connections opened "
            f"per batch {_per_batch(b.opened for b in wide.batches)}, kept open after each "
            f"{_per_batch(b.open_after for b in wide.batches)}; wall time per batch "
            f"{_per_batch(f'{b.wall_s:.1f}' for b in wide.batches)} s; time to first token p50 / p99 "
            f"{_ttft(wide.ttft_s)} ms; {_passes_per_stream(wide):.1f} passes of the assignment step per stream, "
            f"{wide.pool_cpu_s:.1f} s of CPU in it; longest event-loop stall {wide.longest_stall_s:.2f} s."
        )
    for r in results:
        if r.batches and set(r.pool_steps) != {r.spec.pool}:
            out.append(
                f"{r.spec.label}: meant to run the {r.spec.pool} assignment step, but its passes ran: "
                f"{_steps(r.pool_steps)} ({r.pool_steps})."
            )
        if r.batches and not r.spec.httpx_limits and _reopened(r):
            out.append(
                f"{r.spec.label}: opened {_reopened(r)} connections again after the first batch (per batch "
                f"{_per_batch(b.opened for b in r.batches)}) under a limit that keeps them all; its batches took "
                f"{_per_batch(f'{b.wall_s:.1f}' for b in r.batches)} s and started at most "
                f"{max(b.idle_before_s for b in r.batches[1:]):.1f} s after the previous one ended, against a "
                "keep-alive expiry of 5 s."
            )
        if r.longest_stall_s >= STALL_NOTE_S:
            out.append(
                f"{r.spec.label}: the event loop stalled for up to {r.longest_stall_s:.1f} s (longest stall per "
                f"batch {_per_batch(f'{b.longest_stall_s:.1f}' for b in r.batches)} s; the connect timeout is 5 s)."
            )
        if r.errors:
            out.append(f"{r.spec.label}: {r.errors} errors; the first: `{r.first_error}`.")
        if r.connect_failures:
            out.append(f"{r.spec.label}: {r.connect_failures} connect calls failed.")
        other = {peer: n for peer, n in r.peers.items() if not peer.startswith("127.0.0.1:")}
        if other:
            out.append(f"{r.spec.label}: connections to other hosts: {other}.")
    return out


_METHOD = """\
- Server: the contract emulator in its own process, unlimited rate:
  `cerebras-adapters emulator --port 0 {emulator_args}`. Each stream is a gpt-oss-120b reply of
  {reply_tokens} content tokens plus its reasoning ({chunks} chunks), {pacing}. On this {cpus}-core machine
  the emulator and the client share the CPUs (and with them whatever else runs: see the load average below).
- Each path runs in its own child process (`python -m benchmarks.load child PATH …`), one path after another
  (not interleaved), so its RSS, CPU time and connection count are its own, and whatever else ran on the
  machine at the time is in its figures. One untimed warm-up stream on a separate client comes first (imports
  and first-call setup; its connection is not counted); then {batches} batch(es), each starting all its streams
  at once on one event loop and awaiting them together, bounded by {timeout:g} s (streams still running then
  are cancelled and counted as errors). Retries are off on every path (`max_retries=0`), so no failure is
  hidden by a retry. LiteLLM runs with its default settings; its logging backlog is drained after each batch,
  untimed (the drain counts in the next batch's "idle before").
- The pools. The core's clients (and so LangChain's `ChatCerebras` and the LiteLLM provider, which use them)
  run httpcore's connection pool with the core's assignment step ("fixed": `cerebras_adapters._pool`; the
  client switches the class of the pool httpx built to one whose `_assign_requests_to_connections` is that
  step). The "stock httpcore pool" row passes the same `AsyncCerebrasClient` a plain
  `httpx.AsyncClient(limits=DEFAULT_LIMITS, timeout=DEFAULT_TIMEOUT)`, whose pool runs httpcore's own step
  ("stock"). The "httpx's limits" row is the core client with `limits=httpx.Limits(max_connections=100,
  max_keepalive_connections=20)` on the fixed step.
- TCP connections opened: a process-level counter around `asyncio.BaseEventLoop.create_connection` (httpx →
  httpcore's `AnyIOBackend` → `anyio.connect_tcp` → `loop.create_connection`) and `socket.create_connection`
  (httpcore's sync backend), installed in the child before anything connects; it fails the run if the event
  loop does not reach it. "Kept open after": connections opened since the warm-up still open when the batch
  ended. "Idle before": time since the previous batch (or the warm-up) ended; the pool closes a connection
  idle for longer than its keep-alive expiry (5 s).
- The pool's assignment step: thread CPU time inside `_assign_requests_to_connections` (run when a request
  starts, retries or ends), measured by wrapping it on every class that defines it (httpcore's pools and the
  core's subclasses), each pass counted under the step it ran: the "measured" column says which, so a row
  cannot silently time the wrong one. "Passes per stream" is how often it ran (2 when each request finds its
  connection at once). httpcore 1.0.9's stock step walks every connection and, for each idle one, every
  connection again (its keep-alive check compares the total connection count with
  `max_keepalive_connections`), asks every idle socket whether it is readable, and on a burst against a warm
  pool hands each queued request the same idle connection, the losers retrying with a new pass each: all of it
  grows with the pool's size. The fixed step is one linear pass that gives each idle connection to at most one
  request, closes only the surplus idle connections, and polls the socket of the connection it hands out (all
  idle ones at most every 0.5 s); the upstream fix is proposed in encode/httpcore#1035. Longest event-loop
  stall: the longest a 50 ms timer was overdue during the batch (the client's connect timeout is 5 s).
- Time to first token: from the call to the first chunk carrying content or reasoning, per stream. Wall time:
  first stream started to last stream done, summed over the batches. RSS: `VmRSS` once the client is set up
  and warmed up → `VmHWM` (peak) at the end. CPU: `getrusage` of the child over the batches; the emulator's
  from `/proc/PID/stat` over the same path.
- Command: `python -m benchmarks load{options}`."""


def section(
    results: Sequence[PathResult], settings: Settings, load_average: tuple[float, float] | None = None
) -> Section:
    """The ``docs/benchmarks.md`` section; ``load_average``: the machine's 1-minute load average before and
    after the run (other processes on the machine share its CPUs with the measured ones)."""
    defaults = Settings()
    options = "".join(
        f" --load-{name.replace('_', '-')} {getattr(settings, name):g}"
        for name in _OPTIONS
        if getattr(settings, name) != getattr(defaults, name)
    )
    pacing = []
    if settings.first_token_ms:
        pacing.append(f"its first token {settings.first_token_ms} ms after the response headers")
    pacing.append(f"paced at {settings.tokens_per_second:g} tokens/s" if settings.tokens_per_second else "unpaced")
    chunks = sorted({c for r in results for c in r.chunks})
    method = _METHOD.format(
        emulator_args=" ".join(emulator_args(settings)),
        reply_tokens=settings.reply_tokens,
        chunks="–" if not chunks else (str(chunks[0]) if len(chunks) == 1 else f"{chunks[0]}–{chunks[-1]}"),
        pacing=", ".join(pacing),
        cpus=os.cpu_count(),
        batches=settings.batches,
        timeout=settings.batch_timeout,
        options=options,
    )
    notes = findings(results)
    machine = f"a {os.cpu_count()}-core machine the client and the emulator share with whatever else runs"
    if load_average is not None:
        machine += f" (1-minute load average {load_average[0]:.2f} before the run, {load_average[1]:.2f} after)"
    body = (
        'Issue "Production hardening", item 8: with httpx\'s default pool (100 connections, 20 kept alive), 256 '
        "concurrent streams opened 256 TCP connections per batch and closed most of them again. The core client's "
        "default is now `DEFAULT_LIMITS` (1000 connections, all kept alive for 5 s). httpcore 1.0.9's own pool "
        "makes a large warm pool costly: its assignment step hands every queued request the same idle connection "
        "(the losers retry with a new pass each), checks keep-alive in time quadratic in the pool size, and polls "
        "every idle socket on every pass. The core's clients therefore run "
        "httpcore's pool with a linear, herd-free assignment step (`cerebras_adapters._pool`; the upstream fix is "
        "proposed in encode/httpcore#1035). The table compares that fixed step with httpcore's stock one at equal "
        "limits, and the default limits with httpx's on the fixed step; the findings below it are computed from "
        f"the figures. One run, each path after the other, on {machine}: the figures compare paths within this "
        "run, and a busier machine stretches all of them, not evenly. Errors must be 0.\n\n"
        f"### Results\n\n{render(results)}\n\n"
        + ("".join(f"- {note}\n" for note in notes) + "\n" if notes else "")
        + f"### Per batch\n\n{render_batches(results)}\n\n"
        f"### How it was measured\n\n{method}\n\n"
        f"### Machine and versions\n\n{environment_markdown(environment(_PACKAGES))}\n"
        f"- open files limit (`ulimit -n`): `{resource.getrlimit(resource.RLIMIT_NOFILE)[0]}`\n"
        + (
            f"- 1-minute load average before → after the run: `{load_average[0]:.2f} → {load_average[1]:.2f}`\n"
            if load_average is not None
            else ""
        )
    )
    return Section("load", "Load", body, ok=all(r.errors == 0 for r in results))


def add_arguments(group: Any) -> None:
    d = Settings()
    group.add_argument("--load-core-streams", type=int, help=f"concurrent core streams (default {d.core_streams})")
    group.add_argument(
        "--load-framework-streams",
        type=int,
        help=f"concurrent streams for the 256-wide paths (default {d.framework_streams})",
    )
    group.add_argument("--load-batches", type=int, help=f"batches per path (default {d.batches})")
    group.add_argument("--load-reply-tokens", type=int, help=f"content tokens per stream (default {d.reply_tokens})")
    group.add_argument(
        "--load-tokens-per-second", type=float, help=f"emulator pacing, 0 = unpaced (default {d.tokens_per_second:g})"
    )
    group.add_argument(
        "--load-first-token-ms",
        type=int,
        help=f"emulator delay before each stream's first token, 0 = none (default {d.first_token_ms})",
    )
    group.add_argument(
        "--load-batch-timeout", type=float, help=f"seconds a batch may take (default {d.batch_timeout:g})"
    )
    group.add_argument(
        "--load-path", action="append", choices=list(_BY_KEY), help="run only this path (repeatable; default: all)"
    )


_OPTIONS = (
    "core_streams",
    "framework_streams",
    "batches",
    "reply_tokens",
    "tokens_per_second",
    "first_token_ms",
    "batch_timeout",
)


def settings_from(args: argparse.Namespace) -> Settings:
    chosen = {name: getattr(args, f"load_{name}", None) for name in _OPTIONS}
    paths = getattr(args, "load_path", None)
    if paths:
        chosen["paths"] = tuple(paths)
    return replace(Settings(), **{name: value for name, value in chosen.items() if value is not None})


def _measure(args: argparse.Namespace) -> Section:
    settings = settings_from(args)
    before = os.getloadavg()[0]
    results = run(settings)
    return section(results, settings, (before, os.getloadavg()[0]))


SUITE = Suite("load", "Load", _measure, add_arguments)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["child"]:
        return _child_main(argv[1], argv[2])
    return run_cli(argv, [SUITE], prog="python -m benchmarks.load")


if __name__ == "__main__":
    raise SystemExit(main())
