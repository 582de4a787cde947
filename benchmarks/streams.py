"""Streams: K concurrent full-speed streams per client path, the client on one core (issue 11's benchmark).

Cerebras sends a token every 0.33 ms (3,000 tokens/s), one per SSE event. This suite asks, per client path, how
many such streams one core can consume at that speed: the largest K whose every stream is delivered at
≥ ``min_tok_s`` (2,900) tokens/s with a tail lag p99 ≤ ``max_lag_ms`` (50 ms).

This module owns the client side (the paths, the per-K measurement, the sweep), the parent that runs it and the
report (tables, findings, the SVG plot); the server side is ``paced`` (stdlib only, its own process). It must not
time anything in the parent: every figure comes from a pinned child process or from the server's records.

Method. The paced server (``paced.PacedServer``, pinned to one CPU) answers every streamed chat completion with
``tokens`` (4,000) content tokens at ``rate`` (3,000) tokens/s, one token per SSE event and one HTTP chunk per
event, starts the K streams of a K together once all K requests have arrived, and records per stream when it
emitted its first and last token and how far it fell behind its own schedule. Each group of paths runs in **its
own child process** (``python -m benchmarks.streams child GROUP SETTINGS``) pinned to the other CPU with
``os.sched_setaffinity``; it starts K streams at once as ``asyncio`` tasks, each sending the user message
``"stream-<path>-k<K>-<n>"`` (every path passes it on unchanged, so the server's record of that stream can be
found), and notes ``time.monotonic()`` at each chunk carrying content. Per stream: delivered tokens/s and tail
lag = client's last content chunk − the server's emission of the last token (``CLOCK_MONOTONIC`` is system-wide
on Linux, so the two processes' clocks compare). Per K: the CPU time of the pinned client process (all its threads,
LiteLLM's logging threads included, its logging backlog drained before it is read) per million tokens delivered,
and how busy other processes kept the client's CPU meanwhile (``/proc/stat``). K sweeps ``ks`` (1, 2, 5, 10, 20,
50, 100, …) up to ``max_k`` and stops, per path, at the first K that misses (or that the server itself could not
pace: "server limit"). The paths of one process run interleaved: every path at K, then every path still going at
the next K. With ``profile``, each in-process path's first missed K runs once more under cProfile.

Paths (``PATHS``): raw httpx (``AsyncClient.stream`` + ``aiter_lines`` + ``json.loads``); our core
(``AsyncCerebrasClient``); ``ChatCerebras.astream``; LlamaIndex's ``Cerebras.astream_chat`` (no goal in issue 11:
measured, as every adapter has coalescing); our LiteLLM provider through ``litellm.acompletion(stream=True)``
after ``register()``, with LiteLLM's defaults and with its streaming logging off
(``litellm.disable_streaming_logging = True``, as the ``litellm-provider`` suite does); LiteLLM's built-in
``cerebras/`` (``api_base`` = the paced server), both settings too; and a real LiteLLM proxy process
(``litellm --config`` with ``integrations/litellm/proxy.yaml``, one worker) pinned to the client CPU, its base URLs
pointed at the paced server, driven by ``openai.AsyncOpenAI`` in a child process on the **server's** CPU. Every path
with a coalescing option (core, ChatCerebras, LlamaIndex, the LiteLLM provider, the proxy's ``litellm_params``) has
rows with ``coalesce`` passed explicitly off and on (and ``coalesce_ms`` rows when a window is given); an "on" row
appears only when the option exists in the code measured (feature-detected in the child, and checked on the wire: a
request body carrying ``coalesce`` means it leaked instead of being used).

``python -m benchmarks streams [--write]`` (``--write`` also draws ``docs/img/streams.svg``); a quick run:
``--streams-max-k 2 --streams-tokens 300``; ``--streams-path KEY`` (repeatable) picks rows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import inspect
import json
import math
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Container, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple
from xml.sax.saxutils import escape

from . import paced
from .report import GCPauses, Section, Suite, environment, environment_markdown, markdown_table, run_cli

__all__ = [
    "PATHS",
    "SUITE",
    "Goal",
    "KRun",
    "PathSpec",
    "Results",
    "Settings",
    "render_svg",
    "run",
    "section",
]

MODEL = "gpt-oss-120b"
API_KEY = "bench"
ROOT = Path(__file__).resolve().parent.parent
SVG_PATH = ROOT / "docs" / "img" / "streams.svg"
PROXY_YAML = ROOT / "integrations" / "litellm" / "proxy.yaml"
BATCH_WAIT = 30.0  # seconds the server holds a K's first streams for the rest of its K requests
_RESULT = "STREAMS-RESULT "
_UNAVAILABLE = "STREAMS-UNAVAILABLE "
_PROFILE = "STREAMS-PROFILE "
_PACKAGES = (
    "cerebras-adapters", "httpx", "httpcore", "langchain-core", "llama-index-core", "litellm", "openai", "uvicorn"
)


class Goal(NamedTuple):
    k: int | None  # issue 11's K goal (None: measured, no goal)
    text: str


REFERENCE = Goal(None, "reference")


@dataclass(frozen=True)
class PathSpec:
    key: str
    group: str  # the child process that runs it: "httpx" | "core" | "langchain" | "llama_index" | "litellm" | "proxy"
    label: str
    coalesce: bool | None = None  # passed explicitly when the option exists; None: not passed (the default)
    window: bool = False  # pass ``coalesce_ms`` (``Settings.coalesce_ms``): the row exists only when it is set
    logging: bool = True  # LiteLLM's streaming logging (False: litellm.disable_streaming_logging = True)
    goal: Goal = REFERENCE

    def proxy_model(self) -> str:
        """The proxy's model name for this row: the recipe's own entry, or a copy with the row's option."""
        return MODEL if self.key == "proxy-recipe" else f"{MODEL}-{self.key}"


def _paths() -> tuple[PathSpec, ...]:
    core = Goal(100, "K ≥ 100 (or the server's limit)")
    chat = Goal(50, "K ≥ 50")
    ours = Goal(10, "K ≥ 10")
    proxy = Goal(5, "K ≥ 5")
    built_in = Goal(None, "measure (the issue: not one stream today)")
    ll, proxy_label = "our LiteLLM provider", "LiteLLM proxy (1 worker)"
    return (
        PathSpec("httpx", "httpx", "raw httpx (`aiter_lines` + `json.loads`)"),
        PathSpec("core", "core", "core `AsyncCerebrasClient`, `coalesce=False`", False, goal=core),
        PathSpec("core-coalesce", "core", "core, `coalesce=True`", True, goal=core),
        PathSpec("core-coalesce-ms", "core", "core, `coalesce_ms`", window=True, goal=core),
        PathSpec("langchain", "langchain", "`ChatCerebras.astream`, `coalesce=False`", False, goal=chat),
        PathSpec("langchain-coalesce", "langchain", "`ChatCerebras.astream`, `coalesce=True`", True, goal=chat),
        PathSpec("langchain-coalesce-ms", "langchain", "`ChatCerebras.astream`, `coalesce_ms`", window=True, goal=chat),
        PathSpec("llama-index", "llama_index", "LlamaIndex `Cerebras.astream_chat`, `coalesce=False`", False),
        PathSpec("llama-index-coalesce", "llama_index", "LlamaIndex `Cerebras.astream_chat`, `coalesce=True`", True),
        PathSpec("litellm", "litellm", f"{ll}, LiteLLM defaults, `coalesce=False`", False, goal=ours),
        PathSpec("litellm-coalesce", "litellm", f"{ll}, LiteLLM defaults, `coalesce=True`", True, goal=ours),
        PathSpec("litellm-coalesce-ms", "litellm", f"{ll}, LiteLLM defaults, `coalesce_ms`", window=True, goal=ours),
        PathSpec("litellm-nolog", "litellm", f"{ll}, logging off, `coalesce=False`", False, logging=False, goal=ours),
        PathSpec(
            "litellm-nolog-coalesce", "litellm", f"{ll}, logging off, `coalesce=True`", True, logging=False, goal=ours
        ),
        PathSpec("built-in", "litellm", "LiteLLM built-in `cerebras/`, LiteLLM defaults", goal=built_in),
        PathSpec(
            "built-in-nolog", "litellm", "LiteLLM built-in `cerebras/`, logging off", logging=False, goal=built_in
        ),
        PathSpec("proxy-recipe", "proxy", f"{proxy_label}, the recipe's entry as shipped", goal=proxy),
        PathSpec("proxy", "proxy", f"{proxy_label}, `coalesce: false`", False, goal=proxy),
        PathSpec("proxy-coalesce", "proxy", f"{proxy_label}, `coalesce: true`", True, goal=proxy),
        PathSpec("proxy-coalesce-ms", "proxy", f"{proxy_label}, `coalesce_ms`", window=True, goal=proxy),
    )


PATHS = _paths()
_BY_KEY = {spec.key: spec for spec in PATHS}
GROUPS = tuple(dict.fromkeys(spec.group for spec in PATHS))


@dataclass(frozen=True)
class Settings:
    tokens: int = paced.DEFAULT_TOKENS  # content tokens per stream
    rate: float = paced.DEFAULT_RATE  # tokens/s per stream
    ks: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
    max_k: int = 1000  # the sweep's cap
    min_tok_s: float = 2900.0  # every stream of a K must be delivered at least this fast…
    max_lag_ms: float = 50.0  # …with the tail lag's p99 at most this
    timeout: float = 120.0  # seconds one K may take; streams still running then are cancelled (errors)
    coalesce_ms: float | None = None  # the window of the ``coalesce_ms`` rows (None: no such rows)
    profile: bool = False  # re-run each in-process path's first missed K under cProfile (where the time goes)
    gc_freeze: bool = False  # gc.freeze() in the client process after its imports and warm-ups
    paths: tuple[str, ...] = tuple(spec.key for spec in PATHS)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.paths) - set(_BY_KEY))
        if unknown:
            raise ValueError(f"unknown path {unknown[0]!r} (--streams-path): choose from {', '.join(_BY_KEY)}")
        if self.tokens < 2 or not self.rate > 0:
            raise ValueError("--streams-tokens must be at least 2 and --streams-rate greater than 0")
        if not self.ks or min(self.ks) < 1:
            raise ValueError(f"--streams-k must be positive stream counts, not {self.ks}")
        if self.coalesce_ms is not None and not self.coalesce_ms > 0:
            raise ValueError(f"--streams-coalesce-ms must be greater than 0, not {self.coalesce_ms:g}")
        windows = [key for key in self.paths if _BY_KEY[key].window]
        if self.coalesce_ms is None and windows and len(self.paths) < len(PATHS):
            raise ValueError(f"--streams-path {windows[0]} needs --streams-coalesce-ms MS (the window it measures)")

    def sweep(self) -> tuple[int, ...]:
        return tuple(k for k in self.ks if k <= self.max_k)

    def chosen(self, group: str | None = None) -> list[PathSpec]:
        """The paths this run measures (the ``coalesce_ms`` rows only with a window), of ``group`` if given."""
        return [
            spec
            for spec in PATHS
            if spec.key in self.paths
            and (self.coalesce_ms is not None or not spec.window)
            and (group is None or spec.group == group)
        ]

    def group_timeout(self, paths: int) -> float:
        """A whole child: imports, warm-ups (a slow path takes seconds per stream), every K of every path."""
        return 180.0 + paths * (3 * self.tokens / self.rate + 30.0) + paths * len(self.sweep()) * (self.timeout + 30)


# ------------------------------------------------------------------------------------------- one K, measured


def _pct(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0 < q ≤ 1): with fewer than 100 values, p99 is the largest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class KRun:
    """One path at one K: per-stream figures (streams that completed) and the process's CPU time."""

    path: str
    k: int
    tok_s: list[float] = field(default_factory=list)  # delivered tokens/s per stream
    lag_ms: list[float] = field(default_factory=list)  # client's last token − server's last token emitted
    tokens_per_chunk: list[float] = field(default_factory=list)
    server_tok_s: list[float] = field(default_factory=list)  # the rate the server itself emitted each stream at
    server_behind_ms: list[float] = field(default_factory=list)  # the most each stream's emission was late
    errors: int = 0
    first_error: str | None = None
    cpu_s: float = 0.0  # the pinned client process (the proxy's, on the proxy path), LiteLLM's logging drained
    cpu_streaming_s: float = 0.0  # the same, while the streams ran (the ``wall_s``)
    wall_s: float = 0.0  # first stream started → last stream done
    tokens: int = 0  # content tokens delivered
    not_at_once: int = 0  # streams the server started without their whole batch (the K requests never all came)
    core_busy_s: float | None = None  # the client CPU's busy time while the streams ran, whoever ran on it
    # Python's full garbage collections in the client process while the streams ran (None: not this process's, the
    # proxy path), and the longest of them: a full collection walks every tracked object of the process (a
    # LangChain or LiteLLM process holds hundreds of thousands) and stalls every stream while it runs.
    full_gcs: int | None = None
    longest_gc_ms: float = 0.0

    @property
    def others_s(self) -> float | None:
        """Time other processes kept the client CPU busy while the streams ran (the machine may be shared)."""
        return None if self.core_busy_s is None else max(0.0, self.core_busy_s - self.cpu_streaming_s)

    def verdict(self, min_tok_s: float, max_lag_ms: float) -> str:
        """``pass``, ``errors``, ``not at once`` (the client never had its K requests out together: the server
        started them after waiting ``BATCH_WAIT`` s), ``server limit`` (the server itself fell below ``min_tok_s``),
        ``slow`` or ``lag`` (the client missed a bound)."""
        if self.errors or not self.tok_s:
            return "errors"
        if self.not_at_once:
            return "not at once"
        if min(self.server_tok_s) < min_tok_s:
            return "server limit"
        if min(self.tok_s) < min_tok_s:
            return "slow"
        if _pct(self.lag_ms, 0.99) > max_lag_ms:
            return "lag"
        return "pass"

    @property
    def cpu_per_mtok(self) -> float | None:
        return self.cpu_s / self.tokens * 1e6 if self.tokens else None


class _Received:
    """What a client saw of one stream: the time of its first and last content chunk, characters, chunks."""

    __slots__ = ("chars", "chunks", "first", "first_chars", "last")

    def __init__(self) -> None:
        self.first = self.last = 0.0
        self.chars = self.chunks = self.first_chars = 0

    def add(self, text: str) -> None:
        now = time.monotonic()
        if not self.chunks:
            self.first = now
            self.first_chars = len(text)
        self.last = now
        self.chars += len(text)
        self.chunks += 1


StreamFn = Callable[[str], Awaitable[_Received]]


def _describe(exc: BaseException) -> str:
    message = str(exc).replace("\n", " ").strip()
    return f"{type(exc).__name__}: {message[:300]}" if message else type(exc).__name__


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _core_busy(cpu: int | None) -> float:
    """Seconds CPU ``cpu`` has been busy since boot, whoever ran on it (``/proc/stat``; 0 without a CPU)."""
    if cpu is None:
        return 0.0
    with open("/proc/stat", encoding="ascii") as stat:
        for line in stat:
            if line.startswith(f"cpu{cpu} "):
                ticks = [int(v) for v in line.split()[1:]]
                # user nice system idle iowait irq softirq steal …: all but idle and iowait
                return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime, all threads


async def _measure_k(
    key: str,
    stream: StreamFn,
    k: int,
    settings: Settings,
    origin: str,
    cpu_clock: Callable[[], float],
    settle: Callable[[], Awaitable[None]] | None,
    client_cpu: int | None,
) -> KRun:
    paced.reset(origin, batch=k, wait=BATCH_WAIT)
    run = KRun(key, k)
    ids = [f"stream-{key}-k{k}-{n}" for n in range(k)]
    core_before = _core_busy(client_cpu)
    cpu_before = cpu_clock()
    pauses = None if key.startswith("proxy") else _GC_PAUSES.start()  # the proxy's own process is not this one
    start = time.monotonic()
    tasks = [asyncio.ensure_future(stream(stream_id)) for stream_id in ids]
    _, pending = await asyncio.wait(tasks, timeout=settings.timeout)
    run.wall_s = time.monotonic() - start
    run.cpu_streaming_s = cpu_clock() - cpu_before
    if pauses is not None:
        run.full_gcs, run.longest_gc_ms = _GC_PAUSES.stop()
    if client_cpu is not None:
        run.core_busy_s = _core_busy(client_cpu) - core_before
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=10.0)
    if settle is not None:
        await settle()
    run.cpu_s = cpu_clock() - cpu_before
    server = await asyncio.to_thread(_records_when_done, origin, len(ids) - len(pending))
    records = {r["id"]: r for r in server["streams"]}
    for stream_id, task in zip(ids, tasks, strict=True):
        error = _stream_error(task, pending, records.get(stream_id), server, settings.timeout)
        if error is not None:
            run.errors += 1
            run.first_error = run.first_error or error
            continue
        got: _Received = task.result()
        record = records[stream_id]
        # What came after the first chunk, over the time it took; in tokens at the stream's mean characters per
        # token (a first chunk may carry several tokens when the client coalesces, or its window does).
        span = got.last - got.first
        after_first = (got.chars - got.first_chars) * settings.tokens / got.chars
        run.tok_s.append(after_first / span if span > 0 else math.inf)
        run.lag_ms.append((got.last - record["last_at"]) * 1000)
        run.tokens_per_chunk.append(settings.tokens / got.chunks)
        server_span = record["last_at"] - record["first_at"]
        run.server_tok_s.append((settings.tokens - 1) / server_span if server_span > 0 else math.inf)
        run.server_behind_ms.append(record["behind_max_ms"])
        run.not_at_once += record["batch"] != "all"
        run.tokens += settings.tokens
    return run


_GC_PAUSES = GCPauses()


def _records_when_done(origin: str, expected: int, wait: float = 5.0) -> dict[str, Any]:
    """The server's records once it has recorded every stream the client finished (a client can see its last
    bytes an instant before the server has noted the stream done)."""
    deadline = time.monotonic() + wait
    while True:
        server = paced.stream_records(origin)
        if len(server["streams"]) >= expected or time.monotonic() > deadline:
            return server
        time.sleep(0.01)


def _stream_error(
    task: asyncio.Future[_Received],
    pending: Container[asyncio.Future[_Received]],
    record: dict[str, Any] | None,
    server: dict[str, Any],
    timeout: float,
) -> str | None:
    if task in pending:
        return f"Timeout: still running after {timeout:g} s"
    exc = task.exception()
    if exc is not None:
        return _describe(exc)
    got = task.result()
    if record is None:
        return "NoRecord: the server has no stream with this id (the message text did not arrive unchanged)"
    if "coalesce" in record["body_keys"]:
        return "Leaked: `coalesce` reached the server in the request body instead of being used by the client"
    if got.chars != server["content_chars"]:
        return f"Incomplete: {got.chars} of {server['content_chars']} content characters"
    return None


# --------------------------------------------------------------------------------------- the paths' streams


def _messages(stream_id: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": stream_id}]


class _Unavailable(Exception):
    """The path's option does not exist in the code measured: its row is left out, with this reason."""


def _httpx_path(base_url: str) -> tuple[StreamFn, Callable[[], Awaitable[None]]]:
    import httpx

    http = httpx.AsyncClient(
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=None),
        timeout=httpx.Timeout(60.0),
        headers={"Authorization": f"Bearer {API_KEY}"},
        trust_env=False,
    )
    url = f"{base_url}/chat/completions"
    loads = json.loads

    async def stream(stream_id: str) -> _Received:
        got = _Received()
        body = {"model": MODEL, "messages": _messages(stream_id), "stream": True}
        async with http.stream("POST", url, json=body) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    choices = loads(line[6:]).get("choices")
                    if choices:
                        content = choices[0]["delta"].get("content")
                        if content:
                            got.add(content)
        return got

    return stream, http.aclose


def _coalescing(spec: PathSpec, settings: Settings, known: Container[str] | None, where: str) -> dict[str, Any]:
    """The row's coalescing arguments. ``known``: the option names ``where`` has (``None``: not known before a
    call; the warm-up stream tells). A ``coalesce=False`` row where the option does not exist runs without it
    (the path then never coalesces, which is what that row measures); any other row needs its option."""
    options: dict[str, Any] = {}
    if spec.window:
        options["coalesce_ms"] = settings.coalesce_ms
    elif spec.coalesce is not None:
        options["coalesce"] = spec.coalesce
    missing = [name for name in options if known is not None and name not in known]
    if missing and spec.coalesce is False:
        return {}
    if missing:
        raise _Unavailable(f"{where} has no `{missing[0]}`")
    return options


def _core_path(base_url: str, spec: PathSpec, settings: Settings) -> tuple[StreamFn, Callable[[], Awaitable[None]]]:
    from cerebras_adapters import AsyncCerebrasClient

    client = AsyncCerebrasClient(api_key=API_KEY, base_url=base_url, max_retries=0)
    known = inspect.signature(type(client.chat.completions).create).parameters
    options = _coalescing(spec, settings, known, "the core's `create`")

    async def stream(stream_id: str) -> _Received:
        got = _Received()
        chunks = await client.chat.completions.create(
            model=MODEL, messages=_messages(stream_id), stream=True, **options
        )
        async for chunk in chunks:
            if chunk.choices:
                content = chunk.choices[0].delta.content
                if content:
                    got.add(content)
        return got

    return stream, client.close


def _langchain_path(
    base_url: str, spec: PathSpec, settings: Settings
) -> tuple[StreamFn, Callable[[], Awaitable[None]]]:
    from cerebras_adapters.langchain import ChatCerebras

    options = _coalescing(spec, settings, ChatCerebras.model_fields, "`ChatCerebras`")
    chat = ChatCerebras(model=MODEL, api_key=API_KEY, base_url=base_url, max_retries=0, **options)

    async def stream(stream_id: str) -> _Received:
        got = _Received()
        async for chunk in chat.astream([("user", stream_id)]):
            content = chunk.content
            if content and isinstance(content, str):
                got.add(content)
        return got

    async def close() -> None:
        await chat.async_client.close()

    return stream, close


def _llama_index_path(
    base_url: str, spec: PathSpec, settings: Settings
) -> tuple[StreamFn, Callable[[], Awaitable[None]]]:
    from llama_index.core.llms import ChatMessage

    from cerebras_adapters.llama_index import Cerebras

    options = _coalescing(spec, settings, Cerebras.model_fields, "LlamaIndex's `Cerebras`")
    llm = Cerebras(model=MODEL, api_key=API_KEY, api_base=base_url, max_retries=0, **options)

    async def stream(stream_id: str) -> _Received:
        got = _Received()
        async for item in await llm.astream_chat([ChatMessage(role="user", content=stream_id)]):
            if item.delta:  # the last item repeats the whole answer with an empty delta
                got.add(item.delta)
        return got

    async def close() -> None:
        await llm.async_client.close()

    return stream, close


def _litellm_path(
    base_url: str, spec: PathSpec, settings: Settings, without_off: bool = False
) -> tuple[StreamFn, Callable[[], Awaitable[None]]]:
    """``without_off``: the provider refused ``coalesce=False`` (no such option): run that row without it."""
    import litellm

    from cerebras_adapters.litellm import register

    litellm.suppress_debug_info = True
    register()
    built_in = spec.key.startswith("built-in")
    options: dict[str, Any] = {
        "model": f"cerebras/{MODEL}" if built_in else f"cerebras-adapters/{MODEL}",
        "api_base": base_url,
        "api_key": API_KEY,
        "max_retries": 0,
    }
    if not built_in:  # a provider without the option refuses it on the warm-up stream
        options.update(_coalescing(spec, settings, () if without_off else None, "the provider"))

    async def stream(stream_id: str) -> _Received:
        litellm.disable_streaming_logging = not spec.logging
        got = _Received()
        response = await litellm.acompletion(messages=_messages(stream_id), stream=True, **options)
        async for chunk in response:
            if chunk.choices:
                content = chunk.choices[0].delta.content
                if content:
                    got.add(content)
        return got

    async def close() -> None:
        return None

    return stream, close


def _proxy_path(proxy_url: str, spec: PathSpec) -> tuple[StreamFn, Callable[[], Awaitable[None]]]:
    import openai
    from openai.types.chat import ChatCompletionUserMessageParam

    client = openai.AsyncOpenAI(base_url=f"{proxy_url}/v1", api_key=_master_key(), max_retries=0, timeout=60.0)
    model = spec.proxy_model()

    async def stream(stream_id: str) -> _Received:
        got = _Received()
        message: ChatCompletionUserMessageParam = {"role": "user", "content": stream_id}
        response = await client.chat.completions.create(model=model, messages=[message], stream=True)
        async for chunk in response:
            if chunk.choices:
                content = chunk.choices[0].delta.content
                if content:
                    got.add(content)
        return got

    return stream, client.close


def _master_key() -> str:
    return "-".join(("sk", "bench", "proxy", "master"))  # assembled: no secret-shaped literal


# ------------------------------------------------------------------------------------------- the child process


async def _settle_litellm() -> None:
    from .load import _settle_litellm as settle

    await settle()


def _build(
    group: str, spec: PathSpec, settings: Settings, payload: dict[str, Any], without_off: bool = False
) -> tuple[StreamFn, Callable[[], Awaitable[None]]]:
    base_url: str = payload["base_url"]
    if group == "httpx":
        return _httpx_path(base_url)
    if group == "core":
        return _core_path(base_url, spec, settings)
    if group == "langchain":
        return _langchain_path(base_url, spec, settings)
    if group == "llama_index":
        return _llama_index_path(base_url, spec, settings)
    if group == "litellm":
        return _litellm_path(base_url, spec, settings, without_off)
    return _proxy_path(payload["proxy_url"], spec)


async def _child_async(group: str, settings: Settings, payload: dict[str, Any]) -> None:
    origin = payload["base_url"].removesuffix("/v1")
    client_cpu: int | None = payload.get("client_cpu")
    cpu_clock: Callable[[], float] = _cpu_self
    settle: Callable[[], Awaitable[None]] | None = None
    if group == "proxy":
        proxy_pid: int = payload["proxy_pid"]

        def cpu_clock() -> float:
            return _cpu_of(proxy_pid)

        settle = _proxy_quiet(proxy_pid)
    elif group == "litellm":
        settle = _settle_litellm

    running: list[tuple[PathSpec, StreamFn]] = []
    closers: list[Callable[[], Awaitable[None]]] = []
    for spec in settings.chosen(group):
        try:
            try:
                stream, close = _build(group, spec, settings, payload)
                closers.append(close)
                await _warm_up(spec, stream, settings, origin)
            except Exception as exc:
                if not (group == "litellm" and spec.coalesce is False and "coalesce" in _describe(exc)):
                    raise
                stream, close = _build(group, spec, settings, payload, without_off=True)
                await _warm_up(spec, stream, settings, origin)
        except _Unavailable as exc:
            _say(_UNAVAILABLE, {"path": spec.key, "reason": str(exc)})
            continue
        except Exception as exc:
            traceback.print_exc()
            _say(_UNAVAILABLE, {"path": spec.key, "reason": f"its warm-up stream failed: {_describe(exc)}"})
            continue
        running.append((spec, stream))
        if settle is not None:
            await settle()

    if settings.gc_freeze:  # what a server that freezes its heap after start-up runs with (Python's gc docs)
        gc.collect()
        gc.freeze()
    for k in settings.sweep():
        still: list[tuple[PathSpec, StreamFn]] = []
        for spec, stream in running:
            run = await _measure_k(spec.key, stream, k, settings, origin, cpu_clock, settle, client_cpu)
            _say(_RESULT, asdict(run))
            verdict = run.verdict(settings.min_tok_s, settings.max_lag_ms)
            if verdict == "pass":
                still.append((spec, stream))
            elif settings.profile and verdict in ("slow", "lag") and group != "proxy":
                _say(_PROFILE, asdict(await _profile_k(spec, stream, k, settings, origin, group)))
                if settle is not None:
                    await settle()
        running = still
        if not running:
            break
    for close in closers:
        with contextlib.suppress(Exception):
            await close()


@dataclass
class Profile:
    """Where one path's time went at one K, under cProfile: own time per token, by package and by function."""

    path: str
    k: int
    tokens: int
    packages: dict[str, float]  # package → µs of own time per token delivered
    functions: list[tuple[str, float]]  # the costliest functions: (name, µs of own time per token)


def _package(filename: str, name: str) -> str:
    """The package a profiled function belongs to (C functions: by what their name says, else "builtins")."""
    if filename == "~":
        return "pydantic_core" if "pydantic_core" in name else "builtins (C)"
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/cerebras_adapters/" in filename:
        return "cerebras_adapters"
    if "/benchmarks/" in filename:
        return "the benchmark's own loop"
    return "stdlib " + Path(filename).stem if "/lib/python" in filename else filename


async def _profile_k(spec: PathSpec, stream: StreamFn, k: int, settings: Settings, origin: str, group: str) -> Profile:
    """``k`` streams once more under cProfile (LiteLLM's per-chunk logging run inline, so the profile sees it)."""
    import cProfile
    import pstats

    inline: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if group == "litellm":
        from .litellm_provider import _inline_logging

        inline = _inline_logging()
    paced.reset(origin, batch=k, wait=BATCH_WAIT)
    profiler = cProfile.Profile(time.thread_time)  # CPU time: waiting for the network is not the path's cost
    with inline:
        profiler.enable()
        done = await asyncio.gather(*(stream(f"profile-{spec.key}-{n}") for n in range(k)), return_exceptions=True)
        profiler.disable()
    tokens = settings.tokens * sum(1 for d in done if isinstance(d, _Received)) or 1
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    packages: dict[str, float] = {}
    functions: list[tuple[str, float]] = []
    for (filename, line, name), (_cc, _nc, tottime, _cum, _callers) in raw.items():
        package = _package(filename, name)
        packages[package] = packages.get(package, 0.0) + tottime * 1e6 / tokens
        where = name if filename == "~" else f"{package}: {name} ({Path(filename).name}:{line})"
        functions.append((where, tottime * 1e6 / tokens))
    functions.sort(key=lambda item: -item[1])
    return Profile(spec.key, k, tokens, packages, functions[:10])


async def _warm_up(spec: PathSpec, stream: StreamFn, settings: Settings, origin: str) -> None:
    """One untimed stream (imports, first-call setup), checked like a measured one."""
    paced.reset(origin)
    stream_id = f"warm-{spec.key}"
    task = asyncio.ensure_future(stream(stream_id))
    _, pending = await asyncio.wait([task], timeout=settings.timeout)
    if pending:
        task.cancel()
        raise RuntimeError(f"the warm-up stream took longer than {settings.timeout:g} s")
    server = await asyncio.to_thread(_records_when_done, origin, 1)
    record = next((r for r in server["streams"] if r["id"] == stream_id), None)
    error = _stream_error(task, set(), record, server, settings.timeout)
    if error is not None:
        raise RuntimeError(f"warm-up: {error}")


def _proxy_quiet(pid: int) -> Callable[[], Awaitable[None]]:
    """Wait (bounded) until the proxy's CPU time stops growing: its logging after a stream ends is its cost too."""

    async def settle() -> None:
        deadline = time.monotonic() + 10.0
        before = _cpu_of(pid)
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            now = _cpu_of(pid)
            if now - before < 0.005:
                return
            before = now

    return settle


def _say(mark: str, data: dict[str, Any]) -> None:
    print(mark + json.dumps(data), flush=True)


def _child_main(group: str, payload_json: str) -> int:
    payload = json.loads(payload_json)
    cpu = payload.get("cpu")
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})  # before anything starts a thread
    raw = payload["settings"]
    settings = Settings(**{**raw, "ks": tuple(raw["ks"]), "paths": tuple(raw["paths"])})
    asyncio.run(_child_async(group, settings, payload))
    return 0


# ------------------------------------------------------------------------------------------------- the parent


@dataclass
class Results:
    settings: Settings
    runs: dict[str, list[KRun]] = field(default_factory=dict)  # path key → its K runs, in order
    unavailable: dict[str, str] = field(default_factory=dict)  # path key → why it has no row
    profiles: dict[str, Profile] = field(default_factory=dict)  # path key → its first missed K, profiled
    failures: dict[str, str] = field(default_factory=dict)  # group → why its child failed
    cpus: tuple[int | None, int | None] = (None, None)  # (server's, client's)
    server_cpu_s: float = 0.0
    load_average: tuple[float, float] | None = None
    wall_s: float = 0.0

    def verdicts(self, key: str) -> list[str]:
        s = self.settings
        return [run.verdict(s.min_tok_s, s.max_lag_ms) for run in self.runs.get(key, [])]

    def max_k(self, key: str) -> int:
        """The largest K that passed (the sweep stops at the first that did not)."""
        return max(
            (run.k for run, v in zip(self.runs.get(key, []), self.verdicts(key), strict=True) if v == "pass"), default=0
        )

    def stopped(self, key: str) -> tuple[int, str] | None:
        """The K the sweep stopped at and why (``None``: every K up to the cap passed)."""
        for run, verdict in zip(self.runs.get(key, []), self.verdicts(key), strict=True):
            if verdict != "pass":
                return run.k, verdict
        return None


def _cpus() -> tuple[int | None, int | None]:
    """(server CPU, client CPU): the first two this process may run on, or no pinning with fewer than two."""
    allowed = sorted(os.sched_getaffinity(0))
    return (allowed[0], allowed[1]) if len(allowed) >= 2 else (None, None)


def _child_env() -> dict[str, str]:
    return {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
        "NO_PROXY": "127.0.0.1,localhost",
    }


def _run_group(group: str, settings: Settings, payload: dict[str, Any], results: Results) -> None:
    keys = [spec.key for spec in settings.chosen(group)]
    payload = {**payload, "settings": {**asdict(settings), "paths": keys}}
    command = [sys.executable, "-m", "benchmarks.streams", "child", group, json.dumps(payload)]
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            command, cwd=ROOT, env=_child_env(), stdout=subprocess.PIPE, stderr=stderr, text=True
        )
        assert process.stdout is not None
        timer = _Killer(process, settings.group_timeout(len(keys)))
        try:
            for line in process.stdout:
                if line.startswith(_RESULT):
                    run = KRun(**json.loads(line[len(_RESULT) :]))
                    results.runs.setdefault(run.path, []).append(run)
                    _progress(run, settings)
                elif line.startswith(_PROFILE):
                    data = json.loads(line[len(_PROFILE) :])
                    data["functions"] = [tuple(f) for f in data["functions"]]
                    results.profiles[data["path"]] = Profile(**data)
                elif line.startswith(_UNAVAILABLE):
                    note = json.loads(line[len(_UNAVAILABLE) :])
                    results.unavailable[note["path"]] = note["reason"]
                    print(f"streams: {note['path']}: no row ({note['reason']})", file=sys.stderr, flush=True)
            process.wait()
        finally:
            timer.cancel()
        if process.returncode != 0:
            stderr.seek(0)
            tail = (stderr.read().decode(errors="replace").strip().splitlines() or ["(no output)"])[-1]
            results.failures[group] = f"exit code {process.returncode}: {tail[:300]}"
            if timer.fired:
                results.failures[group] = f"killed after {timer.seconds:g} s"


class _Killer:
    def __init__(self, process: subprocess.Popen[str], seconds: float) -> None:
        import threading

        self.seconds = seconds
        self.fired = False

        def kill() -> None:
            self.fired = True
            process.kill()

        self._timer = threading.Timer(seconds, kill)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()


def _progress(run: KRun, settings: Settings) -> None:
    verdict = run.verdict(settings.min_tok_s, settings.max_lag_ms)
    detail = (
        f"tok/s min {min(run.tok_s):.0f}, lag p99 {_pct(run.lag_ms, 0.99):.1f} ms"
        if run.tok_s
        else (run.first_error or "no stream")
    )
    print(f"streams: {run.path} K={run.k}: {verdict} ({detail})", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _proxy(base_url: str, cpu: int | None, specs: Sequence[PathSpec], settings: Settings) -> Iterator[tuple[str, int]]:
    """The real LiteLLM proxy (one worker) from ``integrations/litellm/proxy.yaml``, its base URLs pointed at the
    paced server, pinned to ``cpu``. Each row but the recipe's own gets a model entry of its own
    (``PathSpec.proxy_model``): the recipe's ``gpt-oss-120b`` entry plus the row's option in ``litellm_params``."""
    import yaml  # type: ignore[import-untyped]

    config, entry = _recipe()
    for spec in specs:
        # The row's own coalescing instead of the recipe's (which may set coalesce_ms: a row measuring
        # ``coalesce: false`` must not inherit a window).
        params = {k: v for k, v in entry["litellm_params"].items() if k not in _COALESCING}
        if spec.window:
            params["coalesce_ms"] = settings.coalesce_ms
        elif spec.coalesce is not None:
            params["coalesce"] = spec.coalesce
        else:
            continue  # the recipe's entry as it is
        config["model_list"].append({"model_name": spec.proxy_model(), "litellm_params": params})
    port = _free_port()
    env = {
        **_child_env(),
        "LITELLM_MASTER_KEY": _master_key(),
        "CEREBRAS_API_KEY": API_KEY,
        "OPENROUTER_API_KEY": API_KEY,
        "CEREBRAS_BASE_URL": base_url,
        "OPENROUTER_BASE_URL": base_url,
    }
    litellm_cli = str(Path(sys.executable).with_name("litellm"))
    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "proxy.yaml"
        config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        log_path = Path(tmp) / "proxy.log"
        command = [litellm_cli, "--config", str(config_path), "--host", "127.0.0.1", "--port", str(port)]
        command += ["--num_workers", "1"]

        def pin() -> None:
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})

        with log_path.open("wb") as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=pin)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(process, url, log_path)
            yield url, process.pid
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path, seconds: float = 120.0) -> None:
    import http.client

    deadline = time.monotonic() + seconds
    port = int(url.rsplit(":", 1)[1])
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the proxy exited with {process.returncode}: {log.read_text()[-500:]}")
        with contextlib.suppress(OSError):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            try:
                connection.request("GET", "/health/liveliness")
                if connection.getresponse().status == 200:
                    return
            finally:
                connection.close()
        if time.monotonic() > deadline:
            raise RuntimeError(f"the proxy did not start in {seconds:g} s: {log.read_text()[-500:]}")
        time.sleep(0.25)


def run(settings: Settings) -> Results:
    """Start the paced server, run every group of chosen paths in its child process, collect the K runs."""
    server_cpu, client_cpu = _cpus()
    results = Results(settings, cpus=(server_cpu, client_cpu))
    before = os.getloadavg()[0]
    start = time.monotonic()
    with paced.PacedServer(settings.tokens, settings.rate, cpu=server_cpu) as server:
        for group in GROUPS:
            specs = settings.chosen(group)
            if not specs:
                continue
            print(f"streams: {group}…", file=sys.stderr, flush=True)
            payload: dict[str, Any] = {"base_url": server.base_url, "cpu": client_cpu, "client_cpu": client_cpu}
            if group != "proxy":
                _run_group(group, settings, payload, results)
                continue
            try:
                with _proxy(server.base_url, client_cpu, specs, settings) as (url, pid):
                    payload = {**payload, "cpu": server_cpu, "proxy_url": url, "proxy_pid": pid}
                    _run_group(group, settings, payload, results)
            except RuntimeError as exc:
                results.failures[group] = _describe(exc)
        results.server_cpu_s = paced.stream_records(server.origin)["cpu_s"]
    results.wall_s = time.monotonic() - start
    results.load_average = (before, os.getloadavg()[0])
    return results


# ------------------------------------------------------------------------------------------------- the report


def _cell(text: str) -> str:
    """Free text (an error message) made safe for a markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def _rate(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:,.0f}"


_VERDICT_TEXT = {
    "pass": "pass",
    "errors": "**errors**",
    "not at once": "**miss**: K requests never out at once",
    "server limit": "server limit",
    "slow": "**miss**: tok/s",
    "lag": "**miss**: lag",
}


def render_path(results: Results, key: str) -> str:
    s = results.settings
    rows = []
    for run in results.runs.get(key, []):
        verdict = run.verdict(s.min_tok_s, s.max_lag_ms)
        text = _VERDICT_TEXT[verdict]
        if run.errors:
            text += f" ({run.errors}: {_cell(run.first_error or '')})"
        gcs = "–" if run.full_gcs is None else f"{run.full_gcs} / {run.longest_gc_ms:.0f}"
        if not run.tok_s:
            rows.append([str(run.k), "–", "–", "–", _core_shares(run), "–", "–", gcs, text])
            continue
        cpu = run.cpu_per_mtok
        rows.append(
            [
                str(run.k),
                f"{_rate(_median(run.tok_s))} / {_rate(min(run.tok_s))}",
                f"{_pct(run.lag_ms, 0.5):.1f} / {_pct(run.lag_ms, 0.99):.1f}",
                "–" if cpu is None else f"{cpu:.1f}",
                _core_shares(run),
                f"{_median(run.tokens_per_chunk):.1f}",
                f"{_rate(min(run.server_tok_s))} / {max(run.server_behind_ms):.1f}",
                gcs,
                text,
            ]
        )
    return markdown_table(
        [
            "K",
            "tok/s per stream, median / min",
            "tail lag p50 / p99, ms",
            "CPU s per M tokens",
            "client core: ours / others",
            "tokens per chunk",
            "server: min tok/s / most behind, ms",
            "full GCs / longest, ms",
            "result",
        ],
        rows,
    )


def render_profile(profile: Profile) -> str:
    """One path's profile: own time per token by package, then its costliest functions."""
    total = sum(profile.packages.values()) or 1.0
    ranked = sorted(profile.packages.items(), key=lambda item: -item[1])
    shown = [(name, us) for name, us in ranked if us / total >= 0.01]
    rest = total - sum(us for _, us in shown)
    rows = [[f"`{name}`", f"{us:.1f}", f"{us / total:.0%}"] for name, us in shown]
    if rest > 0:
        rows.append(["the rest", f"{rest:.1f}", f"{rest / total:.0%}"])
    rows.append(["**total**", f"**{total:.1f}**", ""])
    table = markdown_table(["package (own time)", "µs per token", "share"], rows)
    functions = "\n".join(f"- `{name}`: {us:.1f} µs" for name, us in profile.functions[:6])
    return f"{table}\n\nCostliest functions (own time per token):\n\n{functions}\n"


def _core_shares(run: KRun) -> str:
    if not run.wall_s:
        return "–"
    others = run.others_s
    return f"{run.cpu_streaming_s / run.wall_s:.0%} / " + ("–" if others is None else f"{others / run.wall_s:.0%}")


_COALESCING = ("coalesce", "coalesce_ms")


def _recipe() -> tuple[dict[str, Any], dict[str, Any]]:
    """``integrations/litellm/proxy.yaml`` parsed, and its ``{MODEL}`` entry (in that config)."""
    import yaml  # LiteLLM's own dependency, as its proxy reads the same file

    config = yaml.safe_load(PROXY_YAML.read_text(encoding="utf-8"))
    return config, next(e for e in config["model_list"] if e["model_name"] == MODEL)


def recipe_coalescing() -> str:
    """The coalescing settings of the recipe's ``{MODEL}`` entry, as the report names them."""
    params = _recipe()[1]["litellm_params"]
    chosen = [f"`{name}: {str(params[name]).lower()}`" for name in _COALESCING if name in params]
    return ", ".join(chosen) or "no coalescing setting: the provider's default"


def label(spec: PathSpec, settings: Settings) -> str:
    """The row's name in the report (the ``coalesce_ms`` rows name their window, the recipe's row its setting)."""
    if spec.window and settings.coalesce_ms is not None:
        return spec.label.replace("`coalesce_ms`", f"`coalesce_ms={settings.coalesce_ms:g}`")
    if spec.key == "proxy-recipe":
        return f"{spec.label} ({recipe_coalescing()})"
    return spec.label


DISTURBED = 0.10  # other processes' share of the client core above which a K's figures are flagged


def findings(results: Results) -> list[str]:
    """Sentences computed from the figures: failures, and stops on a client core other processes shared."""
    out = [f"The `{group}` child failed: {why}." for group, why in results.failures.items()]
    for spec in results.settings.chosen():
        stopped = results.stopped(spec.key)
        runs = results.runs.get(spec.key, [])
        run = next((r for r in runs if stopped is not None and r.k == stopped[0]), None)
        if run is None or run.others_s is None or not run.wall_s:
            continue
        share = run.others_s / run.wall_s
        if share > DISTURBED:
            out.append(
                f"{label(spec, results.settings)}: at K = {run.k}, where it stopped, other processes kept the client "
                f"core {share:.0%} busy (this process {run.cpu_streaming_s / run.wall_s:.0%}): a busy machine, not "
                "only the path, may have stopped it."
            )
    return out


def _goal_result(results: Results, spec: PathSpec) -> str:
    stopped = results.stopped(spec.key)
    best = results.max_k(spec.key)
    if spec.goal.k is None:
        return "–"
    if best >= spec.goal.k:
        return "met"
    if stopped is not None and stopped[1] == "server limit":
        return "met (the server's limit)" if spec.key.startswith("core") else "not decided (the server's limit)"
    if stopped is None:
        return f"not decided (the sweep's cap, K ≤ {results.settings.max_k})"
    return "**missed**"


def render_summary(results: Results) -> str:
    rows = []
    for spec in results.settings.chosen():
        name = label(spec, results.settings)
        if spec.key in results.unavailable:
            rows.append([name, "–", f"no row: {_cell(results.unavailable[spec.key])}", spec.goal.text, "–"])
            continue
        if not results.runs.get(spec.key):
            failure = results.failures.get(spec.group, "no result")
            rows.append([name, "–", f"failed: {_cell(failure)}", spec.goal.text, "–"])
            continue
        stopped = results.stopped(spec.key)
        why = "every K up to the cap passed" if stopped is None else f"K = {stopped[0]}: {stopped[1]}"
        rows.append([name, str(results.max_k(spec.key)), why, spec.goal.text, _goal_result(results, spec)])
    return markdown_table(["path", "largest K", "the sweep stopped at", "goal (issue 11)", "goal"], rows)


# A colour per path, a hue per client (blues: core, greens: LangChain, oranges: our LiteLLM provider, reds: the
# built-in, purples: the proxy); coalescing rows are dashed, ``coalesce_ms`` rows dotted.
_COLOURS = {
    "httpx": "#555555",
    "core": "#08519c",
    "core-coalesce": "#3182bd",
    "core-coalesce-ms": "#6baed6",
    "langchain": "#006d2c",
    "langchain-coalesce": "#41ab5d",
    "langchain-coalesce-ms": "#a1d99b",
    "llama-index": "#01665e",
    "llama-index-coalesce": "#35978f",
    "litellm": "#a63603",
    "litellm-coalesce": "#e6550d",
    "litellm-coalesce-ms": "#fd8d3c",
    "litellm-nolog": "#8c6d31",
    "litellm-nolog-coalesce": "#e7ba52",
    "built-in": "#a50f15",
    "built-in-nolog": "#fb6a4a",
    "proxy-recipe": "#3f007d",
    "proxy": "#6a51a3",
    "proxy-coalesce": "#9e9ac8",
    "proxy-coalesce-ms": "#bcbddc",
}


def render_svg(results: Results) -> str:
    """Delivered tokens/s per stream (median) against K, a line per path, K on a log scale; hand-written SVG."""
    s = results.settings
    series = [(spec, results.runs[spec.key]) for spec in s.chosen() if results.runs.get(spec.key)]
    ks = sorted({run.k for _, runs in series for run in runs}) or [1]
    width, height, left, right, top, bottom = 1000, 480, 70, 400, 30, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    x_max = math.log10(max(ks[-1], 2))
    y_max = s.rate * 1.1

    def x(k: int) -> float:
        return left + plot_w * math.log10(k) / x_max

    def y(value: float) -> float:
        return top + plot_h * (1 - min(max(value, 0.0), y_max) / y_max)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="18" font-size="14">Delivered tokens/s per stream (median) against K concurrent '
        f"streams, one client core</text>",
    ]
    step = 500 if y_max <= 4000 else 10 ** math.floor(math.log10(y_max / 4))
    tick = 0.0
    while tick <= y_max:
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:,.0f}</text>')
        tick += step
    for k in ks:
        out.append(f'<line x1="{x(k):.1f}" x2="{x(k):.1f}" y1="{top}" y2="{top + plot_h}" stroke="#f0f0f0"/>')
        out.append(f'<text x="{x(k):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{k}</text>')
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 10}" text-anchor="middle">K (concurrent streams, log '
        "scale)</text>"
    )
    out.append(
        f'<text transform="translate(16 {top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">tokens/s per '
        "stream</text>"
    )
    goal = y(s.min_tok_s)
    out.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{goal:.1f}" y2="{goal:.1f}" stroke="#d00" stroke-dasharray="2 3"/>'
    )
    out.append(
        f'<text x="{left + plot_w - 4}" y="{goal - 4:.1f}" text-anchor="end" fill="#d00">{s.min_tok_s:,.0f}</text>'
    )
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>')
    for i, (spec, runs) in enumerate(series):
        colour = _COLOURS.get(spec.key, "#000")
        dash = ' stroke-dasharray="2 2"' if spec.window else (' stroke-dasharray="6 3"' if spec.coalesce else "")
        points = [(x(run.k), y(_median(run.tok_s))) for run in runs if run.tok_s]
        if points:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
            out += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>' for px, py in points]
        ly = top + 10 + i * 20
        lx = left + plot_w + 16
        out.append(f'<line x1="{lx}" x2="{lx + 24}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2"{dash}/>')
        name = label(spec, s).replace("`", "")
        out.append(f'<text x="{lx + 30}" y="{ly + 4}" font-size="11">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


_METHOD = """\
- Server: `benchmarks/paced.py` in its own process{server_cpu}: every streamed answer is {tokens:,} content
  tokens at {rate:,.0f} tokens/s, one token per SSE event and one HTTP chunk per event (Cerebras-shaped: a role
  delta first, the final chunk with `finish_reason`, `usage` and `time_info`, no `[DONE]`, the `x-ratelimit-*`
  headers), standard library only. One `selectors` loop, a schedule per stream; on each wake-up it sends every
  event of a stream that has come due in one `send` (one event per send while it keeps up, several when it
  wakes late, so a slow client finds several events buffered). The K streams of a K are held until the K-th
  request has arrived and then start their schedules together (at most {batch_wait:g} s after the first: a K whose
  requests never all came is a miss, "K requests never out at once"), so K streams really run at once however long
  a client takes to open K connections. It records per stream when it emitted the first and the last token and
  how far behind its own schedule it fell. "Server limit": some stream of that K left the server at less than
  {min_tok_s:,.0f} tokens/s (the server, one Python process too, could not pace it): that K says nothing about the
  client, and the sweep stops there.
- Clients: each group of paths in its own child process (`python -m benchmarks.streams child GROUP …`){client_cpu};
  K streams started at once as `asyncio` tasks on one event loop; after one warm-up stream per path, the paths of
  a process run interleaved (each of them at K, then each still passing at the next K). Each stream's user message
  is `stream-<path>-k<K>-<n>`, by which the server's record of it is found; a stream counts only if it delivered
  every content character (and, on the coalescing rows, if `coalesce` never reached the server in the request
  body). Python's default GC settings on every path. Raw httpx: `httpx.AsyncClient.stream` + `aiter_lines` +
  `json.loads`, no connection limit. LlamaIndex: `Cerebras(...).astream_chat([ChatMessage(...)])`, each item's
  `delta` counted (the last item, the whole answer with an empty delta, is not).
  LiteLLM {litellm}: `litellm.acompletion(stream=True, max_retries=0)` with
  `cerebras-adapters/{model}` after `register()`, or the built-in `cerebras/{model}` (`api_base` = the paced
  server); "logging off" is `litellm.disable_streaming_logging = True`. The proxy: `litellm --config` with
  `integrations/litellm/proxy.yaml` (its `{model}` entry as shipped, plus for each other proxy row a copy of that
  entry with the row's option in `litellm_params`), `--num_workers 1`, `CEREBRAS_BASE_URL` = the paced server,
  pinned to the client CPU; the `openai.AsyncOpenAI` client driving it runs in a child process on the **server's**
  CPU, so the proxy has the client core to itself (and the server shares its core with that client: a server
  limit on a proxy row may be the driver's).
- Rows: a `coalesce` / `coalesce_ms` value is passed explicitly (call argument, `ChatCerebras` or LlamaIndex field,
  LiteLLM kwarg, proxy `litellm_params`), so each row says what it measured whatever the defaults are; a `coalesce=True`
  row appears only when the option exists in the code measured, a `coalesce=False` row without the option runs
  without it. The `coalesce_ms` rows appear with `--streams-coalesce-ms`.
- Per stream: delivered tokens/s = the tokens after the client's first content chunk (its characters, at the
  stream's mean characters per token) / (time of the last content chunk − time of the first), at the client; tail
  lag = the client's last content chunk − the server's emission of the last token (`time.monotonic()`,
  system-wide on Linux). Per K: CPU seconds per million tokens = the CPU time (all threads) of the pinned client
  process (the proxy's on the proxy path) from the start of the K's streams until they ended and LiteLLM's
  logging backlog was drained (the proxy: until its CPU time stopped growing), per million content tokens
  delivered. "Client core: ours / others" = that process's CPU time while the streams ran, and every other
  process's time on the same CPU (`/proc/stat`), over the K's wall time: "others" above 10% at a stop is flagged
  under the summary. Tokens per chunk: what the client received per chunk (1 without coalescing). Full GCs /
  longest: Python's full (generation-2) garbage collections in the client process while the K's streams ran, and
  the longest (`gc.callbacks`; not measured for the proxy, whose process is not the client's). A full collection
  walks every GC-tracked object of the process, all streams wait while it runs, and frameworks that keep every
  chunk of a stream alive until it ends (LangChain, LiteLLM) make them frequent: the cause of most framework misses
  below. {gc_mode}
- A K passes when every stream completed, the **slowest** stream (the minimum, not the median) was delivered at
  ≥ {min_tok_s:,.0f} tokens/s and the tail lag's p99 (nearest rank: the largest below 100 streams) was
  ≤ {max_lag_ms:g} ms. K sweeps {ks} and stops, per path, at the first K that does not pass.
- Command: `python -m benchmarks streams{options}` (took {wall:.0f} s)."""


def section(results: Results) -> Section:
    s = results.settings
    defaults = Settings()
    options = ""
    for name, flag in _OPTIONS.items():
        value = getattr(s, name)
        if value != getattr(defaults, name):
            if isinstance(value, tuple):
                options += (
                    "".join(f" --streams-{flag} {v}" for v in value)
                    if name == "paths"
                    else (f" --streams-{flag} {','.join(map(str, value))}")
                )
            elif isinstance(value, bool):
                options += f" --streams-{flag}"
            else:
                options += f" --streams-{flag} {value:g}"
    server_cpu, client_cpu = results.cpus
    method = _METHOD.format(
        server_cpu=f", pinned to CPU {server_cpu}" if server_cpu is not None else " (not pinned: one CPU)",
        client_cpu=f", pinned to CPU {client_cpu}" if client_cpu is not None else " (not pinned: one CPU)",
        tokens=s.tokens,
        rate=s.rate,
        batch_wait=BATCH_WAIT,
        min_tok_s=s.min_tok_s,
        max_lag_ms=s.max_lag_ms,
        ks=", ".join(map(str, s.sweep())),
        model=MODEL,
        litellm=environment(("litellm",))["litellm"],
        options=options,
        wall=results.wall_s,
        gc_mode=(
            "This run froze the client's heap after its imports and warm-ups (`gc.freeze()`, `--streams-gc-freeze`)."
            if s.gc_freeze
            else "This run leaves Python's collector as a process has it by default (`--streams-gc-freeze` freezes "
            "the heap after the warm-ups, as a long-running server may)."
        ),
    )
    per_path = [
        f"#### {label(spec, s)}\n\n{render_path(results, spec.key)}\n"
        for spec in s.chosen()
        if results.runs.get(spec.key)
    ]
    notes = [f"- {note}\n" for note in findings(results)]
    profiles = [
        f"#### {label(spec, s)}, K = {results.profiles[spec.key].k}\n\n{render_profile(results.profiles[spec.key])}"
        for spec in s.chosen()
        if spec.key in results.profiles
    ]
    profiled = (
        "### Where the time goes at the first missed K\n\n"
        "Each in-process path's first missed K, run once more under cProfile timing the event loop thread's CPU "
        "time (time spent waiting for the network is not counted; LiteLLM's per-chunk logging is run inline so the "
        "profile sees it; the proxy runs in a process of its own and is not profiled). cProfile slows every call, "
        "the small ones most: read the shares, not the absolute times.\n\n" + "\n".join(profiles)
        if profiles
        else ""
    )
    machine = f"a {os.cpu_count()}-core machine"
    load = results.load_average
    if load is not None:
        machine += f" (1-minute load average {load[0]:.2f} before the run, {load[1]:.2f} after)"
    body = (
        f"Issue 11: Cerebras sends {s.rate:,.0f} tokens/s per stream, one token per event. How many such streams can "
        "one client core consume at full speed? Per path, the largest K whose every stream is delivered at "
        f"≥ {s.min_tok_s:,.0f} tokens/s with a tail lag p99 ≤ {s.max_lag_ms:g} ms, the client process pinned to one "
        f"core and the paced server to the other. One run on {machine}; the figures compare paths within it.\n\n"
        f"### Largest K per path\n\n{render_summary(results)}\n\n"
        + "".join(notes)
        + ("\n" if notes else "")
        + "![Delivered tokens/s per stream against K, per path](img/streams.svg)\n\n"
        "### Per path\n\n"
        + "\n".join(per_path)
        + ("\n" + profiled if profiled else "")
        + f"\n### How it was measured\n\n{method}\n\n"
        f"### Machine and versions\n\n{environment_markdown(environment(_PACKAGES))}\n"
        f"- the paced server's CPU time over the whole run: `{results.server_cpu_s:.1f} s`\n"
    )
    ok = not results.failures and all(_goal_result(results, spec) != "**missed**" for spec in s.chosen())
    return Section("streams", "Streams: K full-speed streams per client core", body, ok=ok)


_OPTIONS = {
    "tokens": "tokens",
    "rate": "rate",
    "ks": "k",
    "max_k": "max-k",
    "min_tok_s": "min-tok-s",
    "max_lag_ms": "max-lag-ms",
    "timeout": "timeout",
    "coalesce_ms": "coalesce-ms",
    "profile": "profile",
    "gc_freeze": "gc-freeze",
    "paths": "path",
}


def add_arguments(group: Any) -> None:
    d = Settings()
    group.add_argument("--streams-tokens", type=int, help=f"content tokens per stream (default {d.tokens})")
    group.add_argument("--streams-rate", type=float, help=f"tokens/s per stream (default {d.rate:g})")
    group.add_argument(
        "--streams-k", help=f"the K values to sweep, comma-separated (default {','.join(map(str, d.ks))})"
    )
    group.add_argument("--streams-max-k", type=int, help=f"the sweep's cap (default {d.max_k})")
    group.add_argument("--streams-min-tok-s", type=float, help=f"per-stream bound (default {d.min_tok_s:g})")
    group.add_argument("--streams-max-lag-ms", type=float, help=f"tail lag p99 bound (default {d.max_lag_ms:g})")
    group.add_argument("--streams-timeout", type=float, help=f"seconds one K may take (default {d.timeout:g})")
    group.add_argument(
        "--streams-coalesce-ms",
        type=float,
        help="add the `coalesce_ms` rows (core, LangChain, LiteLLM, proxy) with this window in ms (default: none)",
    )
    group.add_argument(
        "--streams-profile",
        action="store_true",
        help="re-run each in-process path's first missed K under cProfile and report where the time goes",
    )
    group.add_argument(
        "--streams-gc-freeze",
        action="store_true",
        help="gc.freeze() in the client process after its imports and warm-ups (default: Python's default GC)",
    )
    group.add_argument(
        "--streams-path", action="append", choices=list(_BY_KEY), help="run only this path (repeatable; default: all)"
    )


def settings_from(args: argparse.Namespace) -> Settings:
    chosen: dict[str, Any] = {}
    names = ("tokens", "rate", "max_k", "min_tok_s", "max_lag_ms", "timeout", "coalesce_ms", "profile", "gc_freeze")
    for name in names:
        value = getattr(args, f"streams_{name}", None)
        if value is not None and value is not False:
            chosen[name] = value
    ks = getattr(args, "streams_k", None)
    if ks:
        try:
            chosen["ks"] = tuple(sorted({int(k) for k in ks.split(",")}))
        except ValueError:
            raise ValueError(f"--streams-k takes comma-separated stream counts, e.g. 1,2,5, not {ks!r}") from None
    paths = getattr(args, "streams_path", None)
    if paths:
        chosen["paths"] = tuple(key for key in _BY_KEY if key in paths)
    return replace(Settings(), **chosen)


def _measure(args: argparse.Namespace) -> Section:
    try:
        settings = settings_from(args)
    except ValueError as exc:
        raise SystemExit(f"python -m benchmarks streams: {exc}") from None
    results = run(settings)
    if getattr(args, "write", False):
        SVG_PATH.parent.mkdir(parents=True, exist_ok=True)
        SVG_PATH.write_text(render_svg(results), encoding="utf-8")
        print(f"wrote {SVG_PATH}", file=sys.stderr)
    return section(results)


SUITE = Suite("streams", "Streams: K full-speed streams per client core", _measure, add_arguments)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["child"]:
        return _child_main(argv[1], argv[2])
    return run_cli(argv, [SUITE], prog="python -m benchmarks.streams")


if __name__ == "__main__":
    raise SystemExit(main())
