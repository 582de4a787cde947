"""Core client vs raw httpx, on loopback: what ``cerebras-adapters`` costs over the HTTP library it sits on.

Acceptance (issue "Core client"): a non-streamed call at most 1.2× raw ``httpx`` (post + ``.json()``), a
1000-chunk stream at most 2× raw ``httpx`` (``iter_lines`` + ``json.loads``), medians of runs taken side by
side. The raw side does the least a hand-written caller would: no validation, no typed results, no
rate-limit headers. Our side does all of it (option validation, typed pydantic results, rate limits and
request id, SSE decoding), so the ratio is the whole price of the library.

Method: the server (``loopback.py``) runs in its own process and answers from precomputed bytes. Each
workload keeps one pooled client per contender for all its calls, warms both up, checks once that both
parsed the same response, then alternates them call by call (A B, B A, A B… so neither always goes
first) and takes the median of each. Async workloads run in one event loop.

``python -m benchmarks.core_vs_httpx [--repeats N] [--stream-repeats N] [--chunks N] [--write]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from cerebras_adapters import AsyncCerebrasClient, CerebrasClient

from .loopback import LoopbackServer
from .report import Section, Suite, environment, environment_markdown, markdown_table, run_cli

__all__ = ["BOUNDS", "SUITE", "WORKLOADS", "Row", "render", "run"]

MODEL = "gpt-oss-120b"
MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "Why do micro-benchmarks run against a loopback server?"},
]
NON_STREAMED_BOUND = 1.2
STREAM_BOUND = 2.0
WORKLOADS = ("sync non-streamed", "sync stream", "async non-streamed", "async stream")
BOUNDS = {
    "sync non-streamed": NON_STREAMED_BOUND,
    "sync stream": STREAM_BOUND,
    "async non-streamed": NON_STREAMED_BOUND,
    "async stream": STREAM_BOUND,
}


@dataclass(frozen=True)
class Row:
    """One workload's result: medians in milliseconds over ``repeats`` interleaved calls of each side."""

    workload: str
    repeats: int
    chunks: int  # events per stream; 0 for non-streamed workloads
    raw_ms: float
    ours_ms: float
    bound: float
    # Median of ours/raw over the adjacent pairs of calls: less sensitive to the machine's speed drifting
    # during the run than the ratio of medians, which is what the bound is checked against.
    paired_ratio: float | None = None

    @property
    def ratio(self) -> float:
        return self.ours_ms / self.raw_ms

    @property
    def passed(self) -> bool:
        return self.ratio <= self.bound


Call = Callable[[], int]
AsyncCall = Callable[[], Awaitable[int]]


def _check(workload: str, raw: int, ours: int) -> None:
    # Both sides must have done the same work, or the ratio means nothing.
    if raw != ours or raw <= 0:
        raise RuntimeError(f"{workload}: raw httpx parsed {raw} units, the client {ours}; they must match")


def _side_by_side(workload: str, raw: Call, ours: Call, warmup: int, repeats: int) -> tuple[list[float], list[float]]:
    _check(workload, raw(), ours())
    gc.collect()  # start each workload from the same heap state, whatever ran before
    for _ in range(warmup):
        raw()
        ours()
    raw_s: list[float] = []
    ours_s: list[float] = []
    clock = time.perf_counter
    for i in range(repeats):
        order = ((raw, raw_s), (ours, ours_s)) if i % 2 == 0 else ((ours, ours_s), (raw, raw_s))
        for call, out in order:
            start = clock()
            call()
            out.append(clock() - start)
    return raw_s, ours_s


async def _side_by_side_async(
    workload: str, raw: AsyncCall, ours: AsyncCall, warmup: int, repeats: int
) -> tuple[list[float], list[float]]:
    _check(workload, await raw(), await ours())
    gc.collect()
    for _ in range(warmup):
        await raw()
        await ours()
    raw_s: list[float] = []
    ours_s: list[float] = []
    clock = time.perf_counter
    for i in range(repeats):
        order = ((raw, raw_s), (ours, ours_s)) if i % 2 == 0 else ((ours, ours_s), (raw, raw_s))
        for call, out in order:
            start = clock()
            await call()
            out.append(clock() - start)
    return raw_s, ours_s


def _row(workload: str, chunks: int, timings: tuple[list[float], list[float]]) -> Row:
    raw_s, ours_s = timings
    return Row(
        workload=workload,
        repeats=len(raw_s),
        chunks=chunks,
        raw_ms=statistics.median(raw_s) * 1000,
        ours_ms=statistics.median(ours_s) * 1000,
        bound=BOUNDS[workload],
        paired_ratio=statistics.median(o / r for o, r in zip(ours_s, raw_s, strict=True)),
    )


class _Setup:
    """What both contenders send: the same URL, model, messages and chunk count."""

    def __init__(self, base_url: str, chunks: int) -> None:
        self.base_url = base_url
        self.chunks = chunks
        self.url = f"{base_url}/chat/completions"
        self.headers = {"Authorization": "Bearer bench", "x-bench-chunks": str(chunks)}
        self.body: dict[str, Any] = {"model": MODEL, "messages": MESSAGES}
        self.stream_body: dict[str, Any] = {**self.body, "stream": True}

    def client_kwargs(self) -> dict[str, Any]:
        return {"api_key": "bench", "base_url": self.base_url, "default_headers": {"x-bench-chunks": str(self.chunks)}}


def _run_sync(setup: _Setup, warmup: int, repeats: int, stream_repeats: int) -> list[Row]:
    with httpx.Client() as http, CerebrasClient(**setup.client_kwargs()) as client:

        def raw_create() -> int:
            data = http.post(setup.url, json=setup.body, headers=setup.headers).json()
            return len(data["choices"][0]["message"]["content"])

        def ours_create() -> int:
            result = client.chat.completions.create(model=MODEL, messages=MESSAGES)
            return len(result.choices[0].message.content or "")

        def raw_stream() -> int:
            n = 0
            with http.stream("POST", setup.url, json=setup.stream_body, headers=setup.headers) as response:
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        json.loads(line[6:])
                        n += 1
            return n

        def ours_stream() -> int:
            n = 0
            for _ in client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True):
                n += 1
            return n

        return [
            _row("sync non-streamed", 0, _side_by_side("sync non-streamed", raw_create, ours_create, warmup, repeats)),
            _row(
                "sync stream",
                setup.chunks,
                _side_by_side("sync stream", raw_stream, ours_stream, max(1, warmup // 4), stream_repeats),
            ),
        ]


async def _run_async(setup: _Setup, warmup: int, repeats: int, stream_repeats: int) -> list[Row]:
    async with httpx.AsyncClient() as http, AsyncCerebrasClient(**setup.client_kwargs()) as client:

        async def raw_create() -> int:
            data = (await http.post(setup.url, json=setup.body, headers=setup.headers)).json()
            return len(data["choices"][0]["message"]["content"])

        async def ours_create() -> int:
            result = await client.chat.completions.create(model=MODEL, messages=MESSAGES)
            return len(result.choices[0].message.content or "")

        async def raw_stream() -> int:
            n = 0
            async with http.stream("POST", setup.url, json=setup.stream_body, headers=setup.headers) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        json.loads(line[6:])
                        n += 1
            return n

        async def ours_stream() -> int:
            n = 0
            async for _ in await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True):
                n += 1
            return n

        create = await _side_by_side_async("async non-streamed", raw_create, ours_create, warmup, repeats)
        stream = await _side_by_side_async("async stream", raw_stream, ours_stream, max(1, warmup // 4), stream_repeats)
        return [_row("async non-streamed", 0, create), _row("async stream", setup.chunks, stream)]


def default_warmup(repeats: int) -> int:
    """Untimed calls per side before a non-streamed workload (a quarter of it before a stream)."""
    return min(50, max(1, repeats // 10))


def run(
    repeats: int = 1000,
    chunks: int = 1000,
    *,
    stream_repeats: int = 200,
    warmup: int | None = None,
    base_url: str | None = None,
) -> list[Row]:
    """Measure every workload in ``WORKLOADS`` (in that order) and return one ``Row`` each.

    ``repeats`` timed calls per side for non-streamed workloads, ``stream_repeats`` for streams of
    ``chunks`` events. ``warmup`` untimed calls per side come first (default ``default_warmup(repeats)``; a
    quarter of it, at least 1, for streams). ``base_url`` points at a running loopback server; by default
    one is started for the run.
    """
    if repeats < 1 or stream_repeats < 1 or chunks < 2:
        raise ValueError("need repeats >= 1, stream_repeats >= 1 and chunks >= 2")
    warm = default_warmup(repeats) if warmup is None else warmup
    if base_url is None:
        with LoopbackServer() as server:
            return run(repeats, chunks, stream_repeats=stream_repeats, warmup=warm, base_url=server.base_url)
    setup = _Setup(base_url, chunks)
    rows = _run_sync(setup, warm, repeats, stream_repeats)
    rows += asyncio.run(_run_async(setup, warm, repeats, stream_repeats))
    return rows


def _label(row: Row) -> str:
    return f"{row.workload} ({row.chunks} chunks)" if row.chunks else row.workload


def render(rows: Sequence[Row]) -> str:
    """The results as a markdown table."""
    return markdown_table(
        [
            "workload",
            "repeats",
            "raw httpx, median ms",
            "cerebras-adapters, median ms",
            "ratio",
            "bound",
            "result",
            "paired ratio",
        ],
        [
            [
                _label(row),
                str(row.repeats),
                f"{row.raw_ms:.3f}",
                f"{row.ours_ms:.3f}",
                f"{row.ratio:.2f}×",
                f"≤ {row.bound:g}×",
                "pass" if row.passed else "**FAIL**",
                "–" if row.paired_ratio is None else f"{row.paired_ratio:.2f}×",
            ]
            for row in rows
        ],
    )


_METHOD = """\
- Server: `benchmarks/loopback.py`, an asyncio HTTP/1.1 keep-alive server in a **separate process** (its CPU
  does not share the client's GIL), bound to 127.0.0.1 on an ephemeral port, answering from response bytes
  encoded once. Non-streamed: a ~1 KB gpt-oss `chat.completion` with `Content-Length`. Streamed:
  `text/event-stream` with `Transfer-Encoding: chunked`, one HTTP chunk per event, {chunks} `data:` events
  shaped like real Cerebras chunks (role delta, one content token per chunk, final chunk with
  `finish_reason`, `usage` and `time_info`, no `data: [DONE]`). Both carry the six `x-ratelimit-*` headers.
- Raw httpx: non-streamed `httpx.Client.post(url, json=body, headers=...)` + `.json()`; streamed
  `client.stream("POST", ...)` + `iter_lines()` + `json.loads` of every `data: ` line. Async: the same with
  `httpx.AsyncClient` (`aiter_lines`).
- cerebras-adapters: `CerebrasClient(...).chat.completions.create(model="gpt-oss-120b", messages=[...])`,
  and with `stream=True` iterated to the end (`AsyncCerebrasClient` for async): validation, typed results,
  rate limits and request id included.
- Each side keeps one pooled client for all its calls. Per workload: {warmup} untimed warm-up calls per side
  ({stream_warmup} for streams), a check that both parsed the same response, then {repeats} timed calls per
  side ({stream_repeats} for streams) **interleaved** call by call, alternating which side goes first. Async
  workloads run in one event loop. Figures are medians of `time.perf_counter()` per call; the ratio is
  median(cerebras-adapters) / median(raw httpx), checked against the bound. "Paired ratio" is the median
  of the per-pair ratios (each call over its neighbour of the other side): a cross-check that is less
  sensitive to the machine's speed drifting during the run.
- Command: `python -m benchmarks core-vs-httpx --repeats {repeats} --stream-repeats {stream_repeats}
  --chunks {chunks}`."""


def section(rows: Sequence[Row], *, warmup: int, stream_warmup: int) -> Section:
    """The ``docs/benchmarks.md`` section for ``rows`` measured on this machine."""
    repeats = next(r.repeats for r in rows if not r.chunks)
    streams = [r for r in rows if r.chunks]
    method = _METHOD.format(
        chunks=streams[0].chunks,
        repeats=repeats,
        stream_repeats=streams[0].repeats,
        warmup=warmup,
        stream_warmup=stream_warmup,
    )
    body = (
        "Acceptance (issue “Core client”): a non-streamed call at most 1.2× raw `httpx` (post + json), a "
        "1000-chunk stream at most 2× raw `httpx` (iter_lines + json.loads).\n\n"
        f"### Results\n\n{render(rows)}\n\n"
        f"### How it was measured\n\n{method}\n\n"
        f"### Machine and versions\n\n{environment_markdown(environment())}\n"
    )
    return Section("core-vs-httpx", "Core client vs raw httpx", body, ok=all(r.passed for r in rows))


def _measure(args: argparse.Namespace) -> Section:
    warmup = default_warmup(args.repeats)
    rows = run(args.repeats, args.chunks, stream_repeats=args.stream_repeats, warmup=warmup)
    return section(rows, warmup=warmup, stream_warmup=max(1, warmup // 4))


SUITE = Suite("core-vs-httpx", "Core client vs raw httpx", _measure)


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(argv, [SUITE], prog="python -m benchmarks.core_vs_httpx")


if __name__ == "__main__":
    raise SystemExit(main())
