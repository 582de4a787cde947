"""This project's LiteLLM provider vs LiteLLM's built-in ``cerebras/`` provider, side by side, on the emulator.

Acceptance (issue "LiteLLM: a Cerebras provider"): a 1000-chunk stream through ``cerebras-adapters/`` at least
1.3× faster than through the built-in ``cerebras/`` provider with ``litellm.disable_streaming_logging=True``,
the same goal under LiteLLM's default settings, and a non-streamed ``completion`` at least as fast. Both sides
run in one process with identical LiteLLM settings, against the same emulator
(``cerebras_adapters.testing``) started in **its own process** (``cerebras-adapters emulator --port 0``), so its
CPU does not compete for this process's GIL.

Method, per workload: one warm-up check that both sides received the same number of chunks, untimed warm-up
calls, then timed calls **interleaved** (A B, B A, …). Before each timed call LiteLLM's logging thread pool is
drained (``drain_logging``): with default settings LiteLLM submits a logging task per chunk to a pool of up to
100 threads, and a backlog left by one call would otherwise run during, and be billed to, the next one.
Figures are medians of ``time.perf_counter()`` from the ``completion`` call to the end of the stream.

``--profile`` runs both streaming paths under cProfile with LiteLLM's per-chunk logging run inline (so the
profile sees it) and prints where the time per chunk goes (docs/litellm.md, "Where the time goes").

``python -m benchmarks.litellm_provider [--stream-repeats N] [--repeats N] [--chunks N] [--profile] [--write]``
(``--write`` updates the results section of docs/litellm.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import os
import pstats
import statistics
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# LiteLLM fetches its cost map from GitHub at import unless told not to (litellm.md §1.5).
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import httpx

from .emulator import EmulatorProcess
from .report import Section, Suite, environment, environment_markdown, markdown_table

__all__ = ["SUITE", "WORKLOADS", "EmulatorProcess", "Row", "drain_logging", "profile_streams", "render", "run"]

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "litellm.md"
MODEL = "gpt-oss-120b"
MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "Tell me about wafer-scale chips."}]
OURS = f"cerebras-adapters/{MODEL}"
BUILT_IN = f"cerebras/{MODEL}"
STREAM_GOAL = 1.3
NON_STREAMED_GOAL = 1.0
WORKLOADS = (
    "stream, default settings",
    "stream, default settings, until logged",
    "stream, disable_streaming_logging",
    "non-streamed, default settings",
    "async stream, default settings",
)
GOALS: dict[str, float | None] = {
    "stream, default settings": STREAM_GOAL,
    # The same calls, timed until LiteLLM's per-chunk logging threads are done with them too (reported).
    "stream, default settings, until logged": None,
    "stream, disable_streaming_logging": STREAM_GOAL,
    "non-streamed, default settings": NON_STREAMED_GOAL,
    "async stream, default settings": None,  # reported, not part of the acceptance
}
_PACKAGES = ("cerebras-adapters", "litellm", "openai", "httpx", "pydantic")


def reply_tokens_for(base_url: str, chunks: int) -> int:
    """The ``x-emulator-reply-tokens`` value that makes a gpt-oss stream exactly ``chunks`` events long (the
    emulator adds the role delta, the reasoning deltas and the final chunk around the reply)."""
    probe = 100
    with httpx.Client() as http:
        response = http.post(
            f"{base_url}/chat/completions",
            json={"model": MODEL, "messages": MESSAGES, "stream": True},
            headers={"Authorization": "Bearer bench", "x-emulator-reply-tokens": str(probe)},
        )
    events = sum(1 for line in response.text.splitlines() if line.startswith("data: ") and line != "data: [DONE]")
    tokens = chunks - (events - probe)
    if tokens < 1:
        raise ValueError(f"a stream needs more than {events - probe} chunks")
    return tokens


def drain_logging() -> None:
    """Wait until LiteLLM's logging thread pool has run every task submitted so far.

    The pool is FIFO with ``LOGGING_EXECUTOR_MAX_THREADS`` workers: once that many barrier tasks run at once,
    every task queued before them has finished."""
    from litellm.constants import LOGGING_EXECUTOR_MAX_THREADS
    from litellm.litellm_core_utils.thread_pool_executor import executor

    barrier = threading.Barrier(LOGGING_EXECUTOR_MAX_THREADS + 1)
    for _ in range(LOGGING_EXECUTOR_MAX_THREADS):
        executor.submit(barrier.wait)
    barrier.wait()


@dataclass(frozen=True)
class Row:
    workload: str
    repeats: int
    chunks: int  # LiteLLM chunks per stream; 0 for non-streamed
    built_in_ms: float
    ours_ms: float
    goal: float | None  # required speed-up (built-in / ours); None: reported only
    paired: float  # median of the per-pair speed-ups

    @property
    def speedup(self) -> float:
        return self.built_in_ms / self.ours_ms

    @property
    def passed(self) -> bool:
        return self.goal is None or self.speedup >= self.goal


class _Calls:
    """The two contenders' calls, with the same model, messages, emulator and headers."""

    def __init__(self, base_url: str, chunks: int) -> None:
        import litellm

        from cerebras_adapters.litellm import register

        register()
        self.litellm = litellm
        self.base_url = base_url
        self.stream_headers = {"x-emulator-reply-tokens": str(reply_tokens_for(base_url, chunks))}

    def create(self, model: str) -> Callable[[], int]:
        def call() -> int:
            response = self.litellm.completion(model=model, messages=MESSAGES, api_base=self.base_url, api_key="bench")
            return len(response.choices[0].message.content or "")

        return call

    def stream(self, model: str) -> Callable[[], int]:
        def call() -> int:
            n = 0
            for _ in self.litellm.completion(
                model=model,
                messages=MESSAGES,
                api_base=self.base_url,
                api_key="bench",
                stream=True,
                extra_headers=self.stream_headers,
                **_per_event(model),
            ):
                n += 1
            return n

        return call

    def astream(self, model: str) -> Callable[[], Awaitable[int]]:
        async def call() -> int:
            n = 0
            response = await self.litellm.acompletion(
                model=model,
                messages=MESSAGES,
                api_base=self.base_url,
                api_key="bench",
                stream=True,
                extra_headers=self.stream_headers,
                **_per_event(model),
            )
            async for _ in response:
                n += 1
            return n

        return call


def _per_event(model: str) -> dict[str, Any]:
    """These rows compare the cost per chunk with one chunk per event on both paths: our provider's stream
    coalescing (on by default, docs/litellm.md#stream-coalescing) is turned off for them."""
    return {"coalesce": False} if model == OURS else {}


@dataclass
class _Timings:
    units: int
    built_in: list[float]  # seconds from the call to the end of the stream (or the response)
    ours: list[float]
    built_in_logged: list[float]  # … until LiteLLM's logging thread pool has also finished with it
    ours_logged: list[float]


def _side_by_side(
    workload: str, built_in: Callable[[], int], ours: Callable[[], int], warmup: int, repeats: int
) -> _Timings:
    units_b, units_o = built_in(), ours()
    # Our stream ends with one item more than the built-in's: the final usage/time_info chunk LiteLLM turns
    # into the last ("finish_reason") chunk; the deltas are the same.
    if abs(units_b - units_o) > 1 or units_b <= 0:
        raise RuntimeError(f"{workload}: built-in returned {units_b} units, ours {units_o}")
    for _ in range(warmup):
        built_in()
        ours()
    drain_logging()
    _freeze_heap()
    timings = _Timings(units_b, [], [], [], [])
    clock = time.perf_counter
    try:
        for i in range(repeats):
            sides = ((built_in, timings.built_in, timings.built_in_logged), (ours, timings.ours, timings.ours_logged))
            for call, consumed, logged in sides if i % 2 == 0 else sides[::-1]:
                drain_logging()
                start = clock()
                call()
                consumed.append(clock() - start)
                drain_logging()
                logged.append(clock() - start)
    finally:
        gc.unfreeze()
    return timings


def _freeze_heap() -> None:
    """Move what is alive now (LiteLLM's hundreds of thousands of imported objects, warmed-up clients) out of
    the collector's reach, so a collection during a timed call costs what that call allocated."""
    gc.collect()
    gc.freeze()


def _row(workload: str, chunks: int, b_s: list[float], o_s: list[float]) -> Row:
    return Row(
        workload=workload,
        repeats=len(b_s),
        chunks=chunks,
        built_in_ms=statistics.median(b_s) * 1000,
        ours_ms=statistics.median(o_s) * 1000,
        goal=GOALS[workload],
        paired=statistics.median(b / o for b, o in zip(b_s, o_s, strict=True)),
    )


def run(*, repeats: int = 200, stream_repeats: int = 30, chunks: int = 1000, base_url: str | None = None) -> list[Row]:
    """Measure every workload in ``WORKLOADS`` (in order). ``base_url``: a running emulator; by default one is
    started in a child process for the run."""
    if base_url is None:
        with EmulatorProcess() as emulator:
            return run(repeats=repeats, stream_repeats=stream_repeats, chunks=chunks, base_url=emulator.base_url)
    calls = _Calls(base_url, chunks)
    litellm = calls.litellm
    rows: list[Row] = []
    stream_warmup = max(1, min(5, stream_repeats // 5))
    saved = litellm.disable_streaming_logging
    try:
        litellm.disable_streaming_logging = False
        t = _side_by_side("stream", calls.stream(BUILT_IN), calls.stream(OURS), stream_warmup, stream_repeats)
        rows.append(_row("stream, default settings", t.units, t.built_in, t.ours))
        rows.append(_row("stream, default settings, until logged", t.units, t.built_in_logged, t.ours_logged))
        litellm.disable_streaming_logging = True
        t = _side_by_side("stream", calls.stream(BUILT_IN), calls.stream(OURS), stream_warmup, stream_repeats)
        rows.append(_row("stream, disable_streaming_logging", t.units, t.built_in, t.ours))
        litellm.disable_streaming_logging = saved
        t = _side_by_side(
            "non-streamed", calls.create(BUILT_IN), calls.create(OURS), max(1, min(20, repeats // 10)), repeats
        )
        rows.append(_row("non-streamed, default settings", 0, t.built_in, t.ours))
        n, b_s, o_s = asyncio.run(_async_streams(calls, stream_warmup, stream_repeats))
        rows.append(_row("async stream, default settings", n, b_s, o_s))
    finally:
        litellm.disable_streaming_logging = saved
    return rows


async def _async_streams(calls: _Calls, warmup: int, repeats: int) -> tuple[int, list[float], list[float]]:
    built_in, ours = calls.astream(BUILT_IN), calls.astream(OURS)
    units_b, units_o = await built_in(), await ours()
    if abs(units_b - units_o) > 1 or units_b <= 0:
        raise RuntimeError(f"async stream: built-in returned {units_b} chunks, ours {units_o}")
    for _ in range(warmup):
        await built_in()
        await ours()
    b_s: list[float] = []
    o_s: list[float] = []
    clock = time.perf_counter
    await asyncio.to_thread(drain_logging)
    _freeze_heap()
    try:
        for i in range(repeats):
            order = ((built_in, b_s), (ours, o_s)) if i % 2 == 0 else ((ours, o_s), (built_in, b_s))
            for call, out in order:
                await asyncio.to_thread(drain_logging)
                start = clock()
                await call()
                out.append(clock() - start)
    finally:
        gc.unfreeze()
    return units_b, b_s, o_s


# -- profile ------------------------------------------------------------------------------------------------

# (label, function filename suffix, function name): cumulative time of these, per chunk.
_CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("provider: HTTP read, SSE parse, chunk objects", "_handler.py", "_iterate"),
    ("provider: HTTP read, SSE parse, chunk objects", "openai/_streaming.py", "__stream__"),
    ("LiteLLM `chunk_creator` (per-chunk normalisation)", "streaming_handler.py", "chunk_creator"),
    (
        "LiteLLM per-chunk success logging (thread pool task)",
        "streaming_handler.py",
        "run_success_logging_and_cache_storage",
    ),
    ("`print_verbose` f-strings formatting each chunk (`BaseModel.__str__`)", "openai/_models.py", "__str__"),
    ("end of stream: `stream_chunk_builder`", "litellm/main.py", "stream_chunk_builder"),
)


@dataclass(frozen=True)
class ProfileRow:
    path: str
    settings: str
    chunks: int
    total_us: float  # per chunk, under cProfile
    parts: dict[str, float]  # label -> µs per chunk, under cProfile


class _InlineExecutor:
    """Runs LiteLLM's per-chunk logging tasks in the calling thread, so cProfile sees them."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        fn(*args, **kwargs)


@contextlib.contextmanager
def _inline_logging() -> Iterator[None]:
    from litellm.litellm_core_utils import streaming_handler

    saved = streaming_handler.executor
    streaming_handler.executor = _InlineExecutor()  # type: ignore[assignment]
    try:
        yield
    finally:
        streaming_handler.executor = saved


def _profile(call: Callable[[], int], runs: int) -> tuple[int, pstats.Stats]:
    call()
    call()
    _freeze_heap()
    profiler = cProfile.Profile()
    chunks = 0
    try:
        profiler.enable()
        for _ in range(runs):
            chunks += call()
        profiler.disable()
    finally:
        gc.unfreeze()
    return chunks, pstats.Stats(profiler)


def _parts(stats: pstats.Stats, chunks: int) -> tuple[float, dict[str, float]]:
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    parts: dict[str, float] = {}
    total = 0.0
    for (filename, _line, name), (_cc, _nc, _tt, cumtime, _callers) in raw.items():
        if name == "call" and filename.endswith("litellm_provider.py"):
            total += cumtime
        for label, suffix, func in _CATEGORIES:
            if name == func and filename.endswith(suffix):
                parts[label] = parts.get(label, 0.0) + cumtime
    scale = 1e6 / chunks
    return total * scale, {label: seconds * scale for label, seconds in parts.items()}


def profile_streams(*, chunks: int = 1000, runs: int = 5, base_url: str | None = None) -> list[ProfileRow]:
    """Both streaming paths under cProfile, default settings (logging inline) and logging disabled."""
    if base_url is None:
        with EmulatorProcess() as emulator:
            return profile_streams(chunks=chunks, runs=runs, base_url=emulator.base_url)
    calls = _Calls(base_url, chunks)
    litellm = calls.litellm
    rows = []
    for settings, disable in (("default", False), ("disable_streaming_logging", True)):
        litellm.disable_streaming_logging = disable
        try:
            with _inline_logging():
                for path, model in (("built-in cerebras/", BUILT_IN), ("cerebras-adapters/", OURS)):
                    n, stats = _profile(calls.stream(model), runs)
                    total, parts = _parts(stats, n)
                    rows.append(ProfileRow(path, settings, n // runs, total, parts))
        finally:
            litellm.disable_streaming_logging = False
    return rows


def render_profile(rows: Sequence[ProfileRow]) -> str:
    labels = list(dict.fromkeys(label for label, _s, _f in _CATEGORIES))
    headers = ["µs per chunk (under cProfile)", *[f"{r.path}, {r.settings}" for r in rows]]
    body = []
    for label in labels:
        body.append([label, *[f"{r.parts.get(label, 0.0):.0f}" for r in rows]])
    rest = [r.total_us - sum(r.parts.get(label, 0.0) for label in labels) for r in rows]
    body.append(["the rest of `CustomStreamWrapper.__next__` (rules, bookkeeping)", *[f"{x:.0f}" for x in rest]])
    body.append(["**total**", *[f"**{r.total_us:.0f}**" for r in rows]])
    return markdown_table(headers, body)


# -- settings ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingRow:
    setting: str
    built_in_us: float  # per chunk, median over the repeats
    ours_us: float


def _noop_callback(kwargs: Any, response: Any, start: Any, end: Any) -> None:
    return None


def measure_settings(*, chunks: int = 1000, repeats: int = 10, base_url: str | None = None) -> list[SettingRow]:
    """Per-chunk cost of a stream under the LiteLLM settings that change it (both paths, interleaved)."""
    if base_url is None:
        with EmulatorProcess() as emulator:
            return measure_settings(chunks=chunks, repeats=repeats, base_url=emulator.base_url)
    calls = _Calls(base_url, chunks)
    litellm = calls.litellm
    rows: list[SettingRow] = []

    settings: list[tuple[str, bool, list[Any], bool]] = [
        ("sync `completion(stream=True)`, defaults", False, [], False),
        ("sync, `litellm.disable_streaming_logging = True`", True, [], False),
        ("sync, defaults + one success callback", False, [_noop_callback], False),
        ("async `acompletion(stream=True)` (one event loop), defaults", False, [], True),
        ("async, `litellm.disable_streaming_logging = True`", True, [], True),
    ]
    saved = (litellm.disable_streaming_logging, list(litellm.success_callback))
    try:
        # LiteLLM's logging builds pydantic schemas on first use, in its threads: warm every path first.
        litellm.disable_streaming_logging = False
        _side_by_side("warm-up", calls.stream(BUILT_IN), calls.stream(OURS), 5, 1)
        asyncio.run(_async_streams(calls, 5, 1))
        for label, disable, callbacks, is_async in settings:
            litellm.disable_streaming_logging = disable
            litellm.success_callback = list(callbacks)
            if is_async:
                units, b_s, o_s = asyncio.run(_async_streams(calls, 2, repeats))
            else:
                # Until LiteLLM's logging is done with the call: under default settings part of it runs after
                # the stream has been consumed, the more so the faster the consumer.
                t = _side_by_side(label, calls.stream(BUILT_IN), calls.stream(OURS), 2, repeats)
                units, b_s, o_s = t.units, t.built_in_logged, t.ours_logged
            rows.append(SettingRow(label, statistics.median(b_s) * 1e6 / units, statistics.median(o_s) * 1e6 / units))
    finally:
        litellm.disable_streaming_logging, litellm.success_callback = saved[0], saved[1]
    return rows


def render_settings(rows: Sequence[SettingRow]) -> str:
    base = rows[0]
    return markdown_table(
        ["setting", "built-in `cerebras/`, µs per chunk", "`cerebras-adapters/`, µs per chunk", "ours vs first row"],
        [[r.setting, f"{r.built_in_us:.0f}", f"{r.ours_us:.0f}", f"{r.ours_us - base.ours_us:+.0f} µs"] for r in rows],
    )


def write_block(slug: str, body: str, path: Path = DOC_PATH) -> Path:
    """Put ``body`` between ``<!-- bench:SLUG:start -->`` and ``<!-- bench:SLUG:end -->`` in ``path``
    (docs/litellm.md), under that document's own headings (``report.write_sections`` adds a ``##`` heading,
    which suits docs/benchmarks.md)."""
    start, end = f"<!-- bench:{slug}:start -->", f"<!-- bench:{slug}:end -->"
    text = path.read_text(encoding="utf-8")
    if start not in text or end not in text:
        raise ValueError(f"{path} has no {start} … {end} block")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{body.strip()}\n{end}{tail}", encoding="utf-8")
    return path


# -- report -------------------------------------------------------------------------------------------------


def render(rows: Sequence[Row]) -> str:
    def label(row: Row) -> str:
        return f"{row.workload} ({row.chunks} chunks)" if row.chunks else row.workload

    return markdown_table(
        [
            "workload",
            "repeats",
            "built-in `cerebras/`, median ms",
            "`cerebras-adapters/`, median ms",
            "speed-up",
            "goal",
            "result",
            "paired speed-up",
        ],
        [
            [
                label(row),
                str(row.repeats),
                f"{row.built_in_ms:.1f}",
                f"{row.ours_ms:.1f}",
                f"{row.speedup:.2f}×",
                "–" if row.goal is None else f"≥ {row.goal:g}×",
                "reported" if row.goal is None else ("pass" if row.passed else "**miss**"),
                f"{row.paired:.2f}×",
            ]
            for row in rows
        ],
    )


def section(rows: Sequence[Row], *, command: str) -> Section:
    body = (
        'Speed-up = median(built-in) / median(ours); "paired" is the median of the per-pair ratios (each call '
        "over its neighbour of the other side). Goals from the issue: 1000-chunk stream ≥ 1.3× with default "
        "settings and with `litellm.disable_streaming_logging = True`; non-streamed ≥ 1×.\n\n"
        f"{render(rows)}\n\n"
        f"Command: `{command}`. Method: see `benchmarks/litellm_provider.py` (emulator in its own process, "
        "interleaved calls, LiteLLM's logging pool drained before each call).\n\n"
        f"{environment_markdown(environment(_PACKAGES))}\n"
    )
    return Section("litellm-provider", "LiteLLM provider vs built-in `cerebras/`", body, ok=all(r.passed for r in rows))


def _given(args: argparse.Namespace, name: str, default: int) -> int:
    """A common option of ``python -m benchmarks`` if the user gave it, else this suite's default (a LiteLLM
    stream costs ~0.5 s, so the core suite's 200 stream repeats would take minutes)."""
    value = getattr(args, name, None)
    explicit = getattr(args, "explicit", None)
    if explicit is not None:
        return int(value) if name in explicit and value is not None else default
    return int(value) if value is not None else default


def _measure(args: argparse.Namespace) -> Section:
    repeats = _given(args, "repeats", 200)
    stream_repeats = _given(args, "stream_repeats", 30)
    chunks = _given(args, "chunks", 1000)
    rows = run(repeats=repeats, stream_repeats=stream_repeats, chunks=chunks)
    return section(
        rows,
        command=f"python -m benchmarks.litellm_provider --repeats {repeats} --stream-repeats {stream_repeats} "
        f"--chunks {chunks}",
    )


SUITE = Suite("litellm-provider", "LiteLLM provider vs built-in cerebras/", _measure)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.litellm_provider", description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=200, help="timed non-streamed calls per side")
    parser.add_argument("--stream-repeats", type=int, default=30, help="timed streams per side and setting")
    parser.add_argument("--chunks", type=int, default=1000, help="chunks per stream")
    parser.add_argument("--profile", action="store_true", help="print the per-chunk profile instead")
    parser.add_argument("--settings", action="store_true", help="print the per-chunk cost per LiteLLM setting")
    parser.add_argument("--write", action="store_true", help=f"update {DOC_PATH.name}")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    if args.profile:
        table = render_profile(profile_streams(chunks=args.chunks))
        print(table)
        if args.write:
            write_block("litellm-profile", table)
        return 0
    if args.settings:
        table = render_settings(measure_settings(chunks=args.chunks, repeats=args.stream_repeats))
        print(table)
        if args.write:
            write_block("litellm-settings", table)
        return 0
    rows = run(repeats=args.repeats, stream_repeats=args.stream_repeats, chunks=args.chunks)
    command = "python -m benchmarks.litellm_provider " + " ".join(
        f"--{k.replace('_', '-')} {v}"
        for k, v in (("repeats", args.repeats), ("stream_repeats", args.stream_repeats), ("chunks", args.chunks))
    )
    result = section(rows, command=command)
    print(result.markdown())
    if args.write:
        write_block("litellm-provider", result.body)
    return 1 if args.check and not result.ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
