"""LangChain: our ``ChatCerebras`` against langchain-cerebras 0.8.2, and against LangChain's own floor.

Acceptance (issue "LangChain: ChatCerebras"):

* a 1000-chunk ``stream`` at least 4× faster than langchain-cerebras 0.8.2, and within 2× of (LangChain's
  own ``BaseChatModel.stream`` floor for the same number of pre-built chunks + raw httpx for the same
  stream);
* ``invoke`` at least 1.8× faster than langchain-cerebras;
* both stream ratios hold at 4000 chunks too (LangChain's own floor grows faster than linearly; we must
  not add to that).

The floor is what LangChain costs with no network and no parsing at all: a minimal ``BaseChatModel`` whose
``_stream`` yields pre-built ``ChatGenerationChunk(message=AIMessageChunk(content="tok"))`` objects, as many
as the emulator's stream has events, timed through ``.stream()`` to the end. Raw httpx is the least a
client can do for the same stream (``iter_lines`` + ``json.loads``). Their sum is the bound's yardstick.

This module owns those contenders (ours, langchain-cerebras, the floor, raw httpx, and for information the
floor constructing its chunks as it yields them), the invoke comparison and the section; clients and the
emulator come from ``peers`` and ``emulator``. Method as in ``peers``: one emulator in its own process,
interleaved rounds in a seeded shuffled order, medians.

``python -m benchmarks langchain [--repeats N] [--stream-repeats N] [--chunks N]`` (streams are measured at
N and 4N chunks).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from .emulator import EmulatorProcess
from .peers import (
    API_KEY,
    MODEL,
    Target,
    _freeze_heap,
    _LangChain,
    _langchain_cerebras,
    _our_langchain,
    _our_langchain_model,
    _RawHttpx,
    _Round,
    import_walls,
    lc_messages,
)
from .report import GCPauses, Section, Suite, environment, environment_markdown, given, markdown_table, run_cli

__all__ = ["INVOKE_BOUND", "STREAM_BOUNDS", "SUITE", "InvokeRow", "Results", "StreamRow", "render", "run"]

STREAM_SPEEDUP = 4.0  # langchain-cerebras / ours, at least
FLOOR_FACTOR = 2.0  # ours / (floor + raw httpx), at most
DEFAULT_GC_FACTOR = 2.5  # the same with Python's default GC, at most (issue 11)
# The paths of a stream row, as ``_interleave`` keys, and their names in the report.
COLLECTED = {
    "ours": "ours",
    "theirs": "langchain-cerebras",
    "floor": "floor",
    "built floor": "floor building its chunks",
    "httpx": "raw httpx",
}
STREAM_BOUNDS = (STREAM_SPEEDUP, FLOOR_FACTOR)
INVOKE_BOUND = 1.8  # langchain-cerebras / ours, at least
IMPORT_BOUND = 1.3  # ours / (langchain_core.language_models + httpx), at most (issue 11)
IMPORTS = {
    "ours": "from cerebras_adapters.langchain import ChatCerebras",
    "reference": "import langchain_core.language_models, httpx",
    "base": "from langchain_core.language_models import BaseChatModel; import httpx",
    "peer": "from langchain_cerebras import ChatCerebras",
}
IMPORT_LABELS = {
    "ours": "cerebras-adapters `ChatCerebras`",
    "reference": "the issue's reference",
    "base": "what a chat model subclasses, and httpx",
    "peer": "langchain-cerebras `ChatCerebras`",
}
PACKAGES = (
    "cerebras-adapters",
    "httpx",
    "pydantic",
    "langchain-core",
    "langchain-openai",
    "langchain-cerebras",
    "openai",
)


@dataclass(frozen=True)
class StreamRow:
    """One stream length: medians in milliseconds over ``repeats`` interleaved rounds."""

    chunks: int  # content chunks in the stream
    events: int  # SSE events in it (role, reasoning, content, final): the floor yields this many
    repeats: int
    ours_ms: float
    theirs_ms: float  # langchain-cerebras
    floor_ms: float
    httpx_ms: float
    # Information, not the bound: the floor with its chunks constructed in ``_stream`` (as a real model must).
    floor_built_ms: float = 0.0
    # Timed with the heap as it stood frozen (gc.freeze) or with the collector as a process has it by default.
    frozen: bool = True
    # Ours with ChatCerebras's default stream coalescing (merges the events one read holds) instead of one chunk per
    # event; ``ours_chunks`` is how many chunks with content it yielded (the others yield ``chunks``).
    coalesce: bool = False
    ours_chunks: int = 0
    # Per path (``COLLECTED`` keys): full garbage collections that ran inside its timed rounds, their total ms, and
    # the median ms of its rounds with those collections' time taken out (measured on the default-GC rows only).
    full_gcs: dict[str, int] = field(default_factory=dict)
    full_gc_ms: dict[str, float] = field(default_factory=dict)
    net_ms: dict[str, float] = field(default_factory=dict)

    @property
    def speedup(self) -> float:
        return self.theirs_ms / self.ours_ms

    @property
    def bound(self) -> float:
        """The ``ours / (floor + httpx)`` bound of this row: 2× with the heap frozen, issue 11's 2.5× without."""
        return FLOOR_FACTOR if self.frozen else DEFAULT_GC_FACTOR

    @property
    def net_over_floor(self) -> float:
        """``over_floor`` with every path's full collections taken out of its rounds."""
        return self.net_ms["ours"] / (self.net_ms["floor"] + self.net_ms["httpx"])

    @property
    def over_floor(self) -> float:
        return self.ours_ms / (self.floor_ms + self.httpx_ms)

    @property
    def over_built_floor(self) -> float:
        return self.ours_ms / (self.floor_built_ms + self.httpx_ms)

    @property
    def passed(self) -> bool:
        # Issue 11's goal for the default-GC rows is the floor ratio alone.
        return self.over_floor <= self.bound and (not self.frozen or self.speedup >= STREAM_SPEEDUP)


@dataclass(frozen=True)
class InvokeRow:
    repeats: int
    ours_ms: float
    theirs_ms: float
    httpx_ms: float

    @property
    def speedup(self) -> float:
        return self.theirs_ms / self.ours_ms

    @property
    def passed(self) -> bool:
        return self.speedup >= INVOKE_BOUND


def _floor_model(events: int, *, build_in_stream: bool = False) -> Any:
    """The floor: a ``BaseChatModel`` that streams ``events`` pre-built chunks and does nothing else (with
    ``build_in_stream``, it constructs each chunk as it yields it, as any real model has to)."""
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessageChunk
    from langchain_core.outputs import ChatGenerationChunk, ChatResult
    from pydantic import PrivateAttr

    class FloorChatModel(BaseChatModel):
        # A private attribute, not a field: LangChain serialises fields into every run's invocation params.
        _prepared: list[Any] = PrivateAttr(default_factory=list)

        @property
        def _llm_type(self) -> str:
            return "floor"

        def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
            raise NotImplementedError

        def _stream(
            self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any
        ) -> Iterator[ChatGenerationChunk]:
            if build_in_stream:
                for _ in range(events):
                    yield ChatGenerationChunk(message=AIMessageChunk(content="tok"))
            else:
                yield from self._prepared

        def prepare(self) -> None:
            # Fresh chunks for every run (LangChain writes ids into them), built outside the timing.
            if not build_in_stream:
                self._prepared = [ChatGenerationChunk(message=AIMessageChunk(content="tok")) for _ in range(events)]

    return FloorChatModel()


def _count_events(target: Target) -> int:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "x"}], "stream": True}
    headers = {"Authorization": f"Bearer {API_KEY}", **target.headers}
    with (
        httpx.Client() as http,
        http.stream("POST", f"{target.base_url}/chat/completions", json=body, headers=headers) as r,
    ):
        return sum(1 for line in r.iter_lines() if line.startswith("data: ") and line != "data: [DONE]")


def _interleave(
    calls: dict[str, Callable[[], object]],
    before: dict[str, Callable[[], None]],
    rounds: int,
    warmup: int,
    order: _Round,
    *,
    freeze: bool = True,
    collections: dict[str, list[tuple[int, float]]] | None = None,
) -> dict[str, list[float]]:
    """Per key, the seconds of each timed call. With ``collections``, also per key and timed call how many full
    (generation-2) garbage collections ran inside it and their seconds (``gc.callbacks``)."""
    samples: dict[str, list[float]] = {key: [] for key in calls}
    for _ in range(warmup):
        for key in order.order(calls):
            before.get(key, _nothing)()
            calls[key]()
    if freeze:
        _freeze_heap()
    else:
        gc.unfreeze()
        gc.collect()
    clock = time.perf_counter
    pauses = GCPauses() if collections is not None else None
    try:
        for _ in range(rounds):
            for key in order.order(calls):
                before.get(key, _nothing)()
                if pauses is not None:
                    pauses.start()
                start = clock()
                calls[key]()
                samples[key].append(clock() - start)
                if pauses is not None and collections is not None:
                    pauses.stop()
                    collections.setdefault(key, []).append((pauses.count, pauses.total))
    finally:
        if pauses is not None:
            pauses.close()
    return samples


def _nothing() -> None:
    pass


def _median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def _coalescing_langchain(target: Target) -> _LangChain:
    model = _our_langchain_model(target).model_copy(update={"coalesce": True})
    return _LangChain(model, lambda: model.client.close())


def _stream_row(
    base_url: str, chunks: int, rounds: int, order: _Round, *, frozen: bool = True, coalesce: bool = False
) -> StreamRow:
    target = Target(base_url, chunks)
    events = _count_events(target)
    ours = _coalescing_langchain(target) if coalesce else _our_langchain(target)
    raw, theirs = _RawHttpx(target), _langchain_cerebras(target)
    floor = _floor_model(events)
    built = _floor_model(events, build_in_stream=True)
    messages = lc_messages()
    try:
        expected = raw.stream()
        ours_chunks = chunks
        for name, path in (("ours", ours), ("langchain-cerebras", theirs)):
            got = path.stream()
            merged = coalesce and name == "ours"
            if got[1:] != expected[1:] or (got[0] > chunks if merged else got[0] != chunks):
                raise RuntimeError(f"{name} streamed {got[0]} content chunks / other text; raw httpx {expected[0]}")
            if merged:
                ours_chunks = got[0]
        floor.prepare()
        if sum(1 for _ in floor.stream(messages)) < events:
            raise RuntimeError("the floor model did not stream every chunk")

        def floor_stream() -> None:
            for _ in floor.stream(messages):
                pass

        def built_floor_stream() -> None:
            for _ in built.stream(messages):
                pass

        collections: dict[str, list[tuple[int, float]]] = {}
        samples = _interleave(
            {
                "ours": ours.stream,
                "theirs": theirs.stream,
                "floor": floor_stream,
                "built floor": built_floor_stream,
                "httpx": raw.stream,
            },
            {"floor": floor.prepare},
            rounds,
            1,
            order,
            freeze=frozen,
            collections=None if frozen else collections,
        )
    finally:
        for path in (raw, ours, theirs):
            path.close()
    return StreamRow(
        chunks=chunks,
        events=events,
        repeats=rounds,
        ours_ms=_median_ms(samples["ours"]),
        theirs_ms=_median_ms(samples["theirs"]),
        floor_ms=_median_ms(samples["floor"]),
        floor_built_ms=_median_ms(samples["built floor"]),
        httpx_ms=_median_ms(samples["httpx"]),
        frozen=frozen,
        coalesce=coalesce,
        ours_chunks=ours_chunks,
        full_gcs={key: sum(n for n, _ in runs) for key, runs in collections.items()},
        full_gc_ms={key: 1000 * sum(t for _, t in runs) for key, runs in collections.items()},
        net_ms={
            key: _median_ms([took - t for took, (_, t) in zip(samples[key], runs, strict=True)])
            for key, runs in collections.items()
        },
    )


def retained_per_chunk(base_url: str, chunks: int) -> dict[str, float]:
    """GC-tracked objects each streamed chunk keeps alive until the stream ends, ours and langchain-cerebras's.

    The more objects a stream keeps, the more often CPython runs a full collection (one each time the
    survivors grow by a quarter of the heap), and a full collection walks the whole heap: that is how a
    long stream can cost more than linearly in a process with a large heap."""
    target = Target(base_url, chunks)
    skip, span = max(1, chunks // 10), max(1, chunks // 2)
    counts: dict[str, float] = {}
    for name, make in (("ours", _our_langchain), ("langchain-cerebras", _langchain_cerebras)):
        path = make(target)
        try:
            stream = iter(path._model.stream(lc_messages()))  # type: ignore[attr-defined]
            for _ in range(skip):
                next(stream)
            gc.collect()
            before = len(gc.get_objects())
            for _ in range(span):
                next(stream)
            gc.collect()
            counts[name] = (len(gc.get_objects()) - before) / span
            for _ in stream:
                pass
        finally:
            path.close()
    return counts


def _invoke_row(base_url: str, tokens: int, rounds: int, order: _Round) -> InvokeRow:
    target = Target(base_url, tokens)
    raw, ours, theirs = _RawHttpx(target), _our_langchain(target), _langchain_cerebras(target)
    try:
        expected = raw.create()
        for name, path in (("ours", ours), ("langchain-cerebras", theirs)):
            if path.create() != expected:
                raise RuntimeError(f"{name}'s invoke text differs from raw httpx's")
        samples = _interleave(
            {"ours": ours.create, "theirs": theirs.create, "httpx": raw.create}, {}, rounds, min(20, rounds), order
        )
    finally:
        for path in (raw, ours, theirs):
            path.close()
    return InvokeRow(rounds, _median_ms(samples["ours"]), _median_ms(samples["theirs"]), _median_ms(samples["httpx"]))


@dataclass(frozen=True)
class ImportRow:
    """Seconds of ``python -c "<import>"`` minus ``python -c "pass"`` (medians), fresh interpreter each run."""

    runs: int
    seconds: dict[str, float]  # IMPORTS key -> seconds
    # Where ours goes beyond the reference: package -> share of the extra modules' own import time (import_profile).
    extra: dict[str, float] = field(default_factory=dict)

    def over(self, key: str) -> float:
        return self.seconds["ours"] / self.seconds[key]

    @property
    def passed(self) -> bool:
        return self.over("reference") <= IMPORT_BOUND


def _import_row(runs: int, seed: int) -> ImportRow:
    walls = import_walls(list(IMPORTS.values()), runs, seed + 2)
    extra = import_profile(IMPORTS["ours"], IMPORTS["reference"], max(1, min(runs, 5)))
    return ImportRow(runs, {key: statistics.median(walls[code]) for key, code in IMPORTS.items()}, extra)


def _self_times(code: str) -> dict[str, int]:
    """Module → its own import time in µs, from one ``python -X importtime -c "<code>"``."""
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], env=env, check=True, capture_output=True, text=True
    ).stderr
    times: dict[str, int] = {}
    for line in err.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if line.startswith("import time:") and len(fields) == 3 and fields[0].strip().isdigit():
            times[fields[2].strip()] = int(fields[0])
    return times


def _owner(module: str) -> str:
    """The package a module is reported under: its top-level package (``langchain_core``: one level deeper)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "langchain_core" and len(parts) > 1 else parts[0]


def import_profile(code: str, reference: str, runs: int) -> dict[str, float]:
    """Where ``code``'s import time goes beyond ``reference``'s: the own time (``-X importtime``, median of
    ``runs``) of the modules ``code`` imports and ``reference`` does not, per package, as shares of their sum."""
    theirs: set[str] = set()
    ours: dict[str, list[int]] = {}
    for _ in range(runs):
        theirs.update(_self_times(reference))
        for module, took in _self_times(code).items():
            ours.setdefault(module, []).append(took)
    per_package: dict[str, float] = {}
    for module, runs_took in ours.items():
        if module not in theirs:
            per_package[_owner(module)] = per_package.get(_owner(module), 0.0) + statistics.median(runs_took)
    total = sum(per_package.values()) or 1.0
    return {package: part / total for package, part in sorted(per_package.items(), key=lambda item: -item[1])}


def run(
    repeats: int = 300,
    stream_repeats: int = 30,
    chunks: int = 1000,
    *,
    invoke_tokens: int = 64,
    base_url: str | None = None,
    seed: int = 20250102,
    import_runs: int = 10,
) -> Results:
    """Streams of ``chunks`` and ``4 * chunks`` content chunks (``stream_repeats`` rounds each, heap frozen),
    ``4 * chunks`` again with the default collector (a third of the rounds, at least 3), then ``repeats``
    rounds of ``invoke`` with an ``invoke_tokens``-token reply."""
    if repeats < 1 or stream_repeats < 1 or chunks < 1:
        raise ValueError("need repeats >= 1, stream_repeats >= 1 and chunks >= 1")
    if base_url is None:
        with EmulatorProcess() as emulator:
            return run(
                repeats,
                stream_repeats,
                chunks,
                invoke_tokens=invoke_tokens,
                base_url=emulator.base_url,
                seed=seed,
                import_runs=import_runs,
            )
    order = _Round(seed)
    retained = retained_per_chunk(base_url, chunks)
    try:
        streams = [_stream_row(base_url, n, stream_repeats, order) for n in (chunks, 4 * chunks)]
        streams.append(_stream_row(base_url, 4 * chunks, max(3, stream_repeats // 3), order, frozen=False))
        streams.append(
            _stream_row(base_url, 4 * chunks, max(3, stream_repeats // 3), order, frozen=False, coalesce=True)
        )
        invoke = _invoke_row(base_url, invoke_tokens, repeats, order)
    finally:
        gc.unfreeze()
    imports = _import_row(import_runs, seed) if import_runs > 0 else None
    return Results(streams, invoke, retained, invoke_tokens, imports)


@dataclass(frozen=True)
class Results:
    streams: list[StreamRow]
    invoke: InvokeRow
    retained: dict[str, float]  # GC-tracked objects kept alive per streamed chunk
    invoke_tokens: int
    imports: ImportRow | None = None

    @property
    def passed(self) -> bool:
        return (
            all(row.passed for row in self.streams)
            and self.invoke.passed
            and (self.imports is None or self.imports.passed)
        )


def _verdict(passed: bool) -> str:
    return "pass" if passed else "**FAIL**"


def _stream_label(row: StreamRow) -> str:
    label = f"{row.chunks} chunks ({row.events} events)"
    label = label if row.frozen else f"{label}, default GC"
    return f"{label}, ours coalescing ({row.ours_chunks} chunks)" if row.coalesce else label


def _collections_table(rows: list[StreamRow]) -> str:
    """Where the default-GC rows' time went: each path's full collections, and the ratio without them."""
    measured = [row for row in rows if row.full_gcs]
    if not measured:
        return ""
    table = markdown_table(
        [
            "stream",
            *(f"{name}: full GCs / ms per round" for name in COLLECTED.values()),
            "ours without its full GCs, ms",
            "ours / (floor + httpx), full GCs taken out",
        ],
        [
            [
                _stream_label(row),
                *(
                    f"{row.full_gcs.get(key, 0)} / {row.full_gc_ms.get(key, 0.0) / row.repeats:.1f}"
                    for key in COLLECTED
                ),
                f"{row.net_ms['ours']:.1f}",
                f"{row.net_over_floor:.2f}×",
            ]
            for row in measured
        ],
    )
    return (
        "Full (generation-2) garbage collections inside each path's timed rounds on the default-GC rows, and "
        "the ratio again with every path's collection time taken out of its rounds (medians):\n\n"
        f"{table}\n\n"
    )


def render(results: Results) -> str:
    stream_table = markdown_table(
        [
            "stream",
            "rounds",
            "ours, ms",
            "langchain-cerebras, ms",
            "floor, ms",
            "raw httpx, ms",
            "floor + httpx, ms",
            f"langchain-cerebras / ours (≥ {STREAM_SPEEDUP:g}×)",
            f"ours / (floor + httpx) (≤ {FLOOR_FACTOR:g}×; default GC ≤ {DEFAULT_GC_FACTOR:g}×)",
            "result",
            "floor building its chunks, ms",
            "ours / (that + httpx)",
        ],
        [
            [
                _stream_label(row),
                str(row.repeats),
                f"{row.ours_ms:.1f}",
                f"{row.theirs_ms:.1f}",
                f"{row.floor_ms:.1f}",
                f"{row.httpx_ms:.1f}",
                f"{row.floor_ms + row.httpx_ms:.1f}",
                f"{row.speedup:.2f}×",
                f"{row.over_floor:.2f}×",
                _verdict(row.passed),
                f"{row.floor_built_ms:.1f}",
                f"{row.over_built_floor:.2f}×",
            ]
            for row in results.streams
        ],
    )
    invoke = results.invoke
    invoke_table = markdown_table(
        [
            "call",
            "rounds",
            "ours, ms",
            "langchain-cerebras, ms",
            "raw httpx, ms",
            f"langchain-cerebras / ours (≥ {INVOKE_BOUND:g}×)",
            "result",
        ],
        [
            [
                f"invoke ({results.invoke_tokens}-token reply)",
                str(invoke.repeats),
                f"{invoke.ours_ms:.2f}",
                f"{invoke.theirs_ms:.2f}",
                f"{invoke.httpx_ms:.2f}",
                f"{invoke.speedup:.2f}×",
                _verdict(invoke.passed),
            ]
        ],
    )
    kept = ", ".join(f"{name} {count:.1f}" for name, count in results.retained.items())
    out = f"{stream_table}\n\n{_collections_table(results.streams)}{invoke_table}\n\n"
    out += f"Objects a stream keeps alive per chunk until it ends (GC-tracked, counted mid-stream): {kept}."
    imports = results.imports
    if imports is not None:
        import_table = markdown_table(
            ["import", "", "runs", "seconds", "ours over it", f"goal (issue 11: ≤ {IMPORT_BOUND:g}× the reference)"],
            [
                [
                    f"`{IMPORTS[key]}`",
                    IMPORT_LABELS[key],
                    str(imports.runs),
                    f"{imports.seconds[key]:.3f}",
                    f"{imports.over(key):.2f}×",
                    _verdict(imports.passed) if key == "reference" else "",
                ]
                for key in IMPORTS
            ],
        )
        out += f"\n\n{import_table}"
        if imports.extra:
            shown = list(imports.extra.items())[:6]
            rest = 1.0 - sum(share for _, share in shown)
            parts = ", ".join(f"`{package}` {share:.0%}" for package, share in shown)
            ours_part = imports.extra.get("cerebras_adapters", 0.0)
            out += (
                "\n\nWhat ours imports beyond the reference, by package (own import time of the modules the reference "
                f"does not load, `python -X importtime`, shares): {parts}, the rest {rest:.0%}. "
                f"Our own modules are {ours_part:.0%} of it; the rest is what `BaseChatModel` brings."
            )
    return out


_METHOD = """\
- Server: the contract emulator (`cerebras-adapters emulator`, unlimited rate) in its own process on
  127.0.0.1, as in the peers section; `x-emulator-reply-tokens` fixes the reply: {chunks} and {chunks4}
  content chunks per stream (plus the role chunk, the gpt-oss reasoning chunks and the final chunk: the
  "events" column), {invoke_tokens} tokens for `invoke`.
- Ours: `cerebras_adapters.langchain.ChatCerebras(model="{model}", api_key=..., base_url=...,
  default_headers=...)`; langchain-cerebras: `langchain_cerebras.ChatCerebras` with the same arguments.
  Both `.stream(messages)` consumed to the end (content collected), and `.invoke(messages)`, with the same
  two LangChain message objects.
- Floor: a minimal `BaseChatModel` subclass whose `_stream` yields as many pre-built
  `ChatGenerationChunk(message=AIMessageChunk(content="tok"))` as the stream has events (built afresh
  before each run, outside the timing; it calls no callbacks), timed through `.stream()` to the end. Raw
  httpx: `client.stream` + `iter_lines` + `json.loads` of every event of the same emulator stream. The
  last two columns are information, not the bound: the same floor constructing each chunk in `_stream` as
  it yields it (what any real model pays per chunk on top of the pre-built floor), and ours against it.
- Each answer checked once (same content-chunk count and text as raw httpx). Then, per stream length, one
  untimed round and {stream_repeats} timed rounds in which the five run once each in a seeded shuffled
  order; `invoke`: 20 untimed and {repeats} timed rounds of ours, langchain-cerebras and raw httpx (`post`
  + `.json()`). Medians of `time.perf_counter()`.
- Garbage collection: before timing, the heap (imported modules, built clients) is frozen (`gc.freeze()`),
  so a full collection costs what the streams' own objects cost rather than what the process happens to
  have imported. The "default GC" row repeats the long stream with the heap unfrozen, as an application
  without `gc.freeze()` runs it (this process held {heap} GC-tracked objects when the section was written;
  full collections walk all of them and fall on whichever path's allocations trigger them, most often the
  one that keeps the most objects alive: last line under the tables). Its verdict is issue 11's bound alone
  (≤ {default_gc_factor:g}×). On these rows `gc.callbacks` times every full collection that runs inside a path's
  timed round; the table under the results gives them per path, and the ratio with each round's collection time
  taken out (the pre-built floor builds its chunks outside its timing, so the collections they cause do not
  fall in it).
- "ours coalescing": the default-GC row again with `ChatCerebras(coalesce=True)`, the adapter's default
  (docs/langchain.md, stream coalescing): each chunk merges the events one network read delivered, so it yields
  fewer, bigger chunks (how many: in the label) for the same text. The other rows pass `coalesce=False`, one
  chunk per event, so that they compare the cost per chunk with the floor's.
- Import: wall time of `python -c "<import>"` minus `python -c "pass"`, fresh interpreter each run, bytecode
  caches warm, {import_runs} interleaved runs, medians. `import langchain_core.language_models` loads that
  package's `__init__` only (its classes are imported lazily, on first access), so the reference does not
  include `BaseChatModel`, which any LangChain chat model has to subclass at import: the "what a chat model
  subclasses" row is that floor. The shares under the import table: `python -X importtime` (median of up to
  5 runs) of what ours imports beyond the reference, each module's own time, summed per package (its
  instrumentation slows every import, so read the shares, not the times).
- Command: `python -m benchmarks langchain --repeats {repeats} --stream-repeats {stream_repeats}
  --chunks {chunks}`."""


def section(results: Results) -> Section:
    streams = results.streams
    method = _METHOD.format(
        chunks=streams[0].chunks,
        chunks4=streams[1].chunks,
        invoke_tokens=results.invoke_tokens,
        model=MODEL,
        stream_repeats=streams[0].repeats,
        repeats=results.invoke.repeats,
        heap=f"{len(gc.get_objects()):,}",
        default_gc_factor=DEFAULT_GC_FACTOR,
        import_runs=results.imports.runs if results.imports is not None else 0,
    )
    body = (
        "Acceptance (issue “LangChain: ChatCerebras”): a 1000-chunk `stream` at least 4× faster than "
        "langchain-cerebras 0.8.2 and within 2× of (LangChain's own `BaseChatModel.stream` floor for the same "
        "number of pre-built chunks + raw httpx for the same stream); `invoke` at least 1.8× faster than "
        "langchain-cerebras; both stream ratios hold at 4000 chunks too. Issue 11: the 4000-chunk stream with "
        "Python's default GC within 2.5× of (floor + raw httpx), and the same row with coalescing on; "
        "`from cerebras_adapters.langchain import ChatCerebras` within 1.3× of "
        "`import langchain_core.language_models, httpx`.\n\n"
        f"### Results\n\n{render(results)}\n\n"
        f"### How it was measured\n\n{method}\n\n"
        f"### Machine and versions\n\n{environment_markdown(environment(PACKAGES))}\n"
    )
    return Section("langchain", TITLE, body, ok=results.passed)


TITLE = "LangChain: ChatCerebras vs langchain-cerebras and the LangChain floor"


def _measure(args: argparse.Namespace) -> Section:
    return section(run(given(args, "repeats", 300), given(args, "stream_repeats", 30), given(args, "chunks", 1000)))


SUITE = Suite("langchain", TITLE, _measure)


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(argv, [SUITE], prog="python -m benchmarks.langchain_chat")


if __name__ == "__main__":
    raise SystemExit(main())
