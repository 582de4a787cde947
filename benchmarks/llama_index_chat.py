"""LlamaIndex: our ``Cerebras`` LLM against llama-index-llms-cerebras 0.5.0, and against LlamaIndex's own floor.

Acceptance (issue 13, "LlamaIndex: a Cerebras LLM with every option"):

* a 1000-chunk ``stream_chat`` at least 3× faster than llama-index-llms-cerebras, and within 2× of (LlamaIndex's
  own floor for the same number of pre-built responses + raw httpx for the same stream);
* ``import cerebras_adapters.llama_index`` within 1.3× of ``import llama_index.core.llms, httpx``.

``chat`` is reported side by side too (no bound). The floor is what LlamaIndex costs with no network and no
parsing at all: a minimal ``CustomLLM`` whose ``stream_chat`` (decorated with ``llm_chat_callback``, as every
LlamaIndex LLM's is) yields pre-built ``ChatResponse`` objects, as many as the emulator's stream has events, and
whose ``chat`` returns a pre-built one. Raw httpx is the least a client can do for the same stream
(``iter_lines`` + ``json.loads``).

This module owns those contenders and the section; clients, rounds and the emulator come from ``peers``,
``langchain_chat`` and ``emulator``. ``python -m benchmarks llama-index [--repeats N] [--stream-repeats N]
[--chunks N]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .emulator import EmulatorProcess
from .langchain_chat import _count_events, _interleave, _median_ms
from .peers import API_KEY, MESSAGES, MODEL, Target, _RawHttpx, _Round, import_walls
from .report import Section, Suite, environment, environment_markdown, given, markdown_table, run_cli

__all__ = ["IMPORT_BOUND", "SUITE", "ChatRow", "ImportRow", "Results", "StreamRow", "render", "run"]

STREAM_SPEEDUP = 3.0  # llama-index-llms-cerebras / ours, at least
FLOOR_FACTOR = 2.0  # ours / (floor + raw httpx), at most
IMPORT_BOUND = 1.3  # ours / (llama_index.core.llms + httpx), at most
PEER = "llama-index-llms-cerebras"
PACKAGES = ("cerebras-adapters", "httpx", "pydantic", "llama-index-core", PEER, "llama-index-llms-openai", "openai")
IMPORTS = {
    "ours": "import cerebras_adapters.llama_index",
    "floor": "import llama_index.core.llms, httpx",
    "peer": "import llama_index.llms.cerebras",
}


@dataclass(frozen=True)
class StreamRow:
    """``stream_chat`` consumed to the end: medians in milliseconds over ``repeats`` interleaved rounds."""

    chunks: int
    events: int  # SSE events in the stream: the floor yields this many responses
    repeats: int
    ours_ms: float
    theirs_ms: float | None  # None: the peer is not installed
    floor_ms: float
    httpx_ms: float

    @property
    def speedup(self) -> float | None:
        return self.theirs_ms / self.ours_ms if self.theirs_ms is not None else None

    @property
    def over_floor(self) -> float:
        return self.ours_ms / (self.floor_ms + self.httpx_ms)

    @property
    def passed(self) -> bool:
        return (self.speedup is None or self.speedup >= STREAM_SPEEDUP) and self.over_floor <= FLOOR_FACTOR


@dataclass(frozen=True)
class ChatRow:
    repeats: int
    ours_ms: float
    theirs_ms: float | None
    floor_ms: float
    httpx_ms: float

    @property
    def speedup(self) -> float | None:
        return self.theirs_ms / self.ours_ms if self.theirs_ms is not None else None


@dataclass(frozen=True)
class ImportRow:
    """Seconds of ``python -c "<import>"`` minus ``python -c "pass"`` (medians), fresh interpreter each run."""

    runs: int
    seconds: dict[str, float]  # IMPORTS key -> seconds

    @property
    def ratio(self) -> float:
        return self.seconds["ours"] / self.seconds["floor"]

    @property
    def passed(self) -> bool:
        return self.ratio <= IMPORT_BOUND


@dataclass(frozen=True)
class Results:
    stream: StreamRow
    chat: ChatRow
    imports: ImportRow | None
    chat_tokens: int

    @property
    def passed(self) -> bool:
        return self.stream.passed and (self.imports is None or self.imports.passed)


# -- contenders -----------------------------------------------------------------------------------------------


def _messages() -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role=m["role"], content=m["content"]) for m in MESSAGES]


class _Path:
    """``llm.chat(messages)``; ``llm.stream_chat(messages)`` consumed to the end (the deltas collected)."""

    def __init__(self, llm: Any) -> None:
        self.llm = llm
        self.messages = _messages()

    def create(self) -> str:
        return str(self.llm.chat(self.messages).message.content)

    def stream(self) -> tuple[int, str]:
        pieces = [r.delta for r in self.llm.stream_chat(self.messages) if r.delta]
        return len(pieces), "".join(pieces)

    def close(self) -> None:
        client = getattr(self.llm, "_client", None)
        if client is not None and hasattr(client, "close"):
            client.close()


def _ours(target: Target) -> _Path:
    from cerebras_adapters.llama_index import Cerebras

    # One item per event, as the peer yields: the rows compare the cost per item (coalescing, on by default, merges
    # the events of one read: fewer items, which is a different measurement; the streams benchmark has it).
    llm = Cerebras(
        model=MODEL, api_key=API_KEY, api_base=target.base_url, default_headers=target.headers, coalesce=False
    )
    return _Path(llm)


def _peer(target: Target) -> _Path | None:
    try:
        from llama_index.llms.cerebras import Cerebras
    except ImportError:
        return None
    return _Path(Cerebras(model=MODEL, api_key=API_KEY, api_base=target.base_url, default_headers=target.headers))


def _floor(events: int) -> Any:
    """LlamaIndex's floor: a ``CustomLLM`` whose ``stream_chat`` yields ``events`` pre-built responses (through
    ``llm_chat_callback``, as every LLM's does) and whose ``chat`` returns one pre-built response."""
    from llama_index.core.base.llms.types import ChatResponse, CompletionResponse, LLMMetadata
    from llama_index.core.llms import ChatMessage, CustomLLM
    from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
    from pydantic import PrivateAttr

    class FloorLLM(CustomLLM):
        _prepared: list[Any] = PrivateAttr(default_factory=list)
        _answer: Any = PrivateAttr(default=None)

        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(is_chat_model=True)

        @llm_chat_callback()
        def chat(self, messages: Any, **kwargs: Any) -> Any:
            return self._answer

        @llm_chat_callback()
        def stream_chat(self, messages: Any, **kwargs: Any) -> Any:
            def gen() -> Any:
                yield from self._prepared

            return gen()

        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
            return CompletionResponse(text="tok")

        @llm_completion_callback()
        def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
            raise NotImplementedError

        def prepare(self) -> None:
            # Built outside the timing, afresh for every run.
            self._prepared = [
                ChatResponse(message=ChatMessage(role="assistant", content="tok"), delta="tok") for _ in range(events)
            ]
            self._answer = ChatResponse(message=ChatMessage(role="assistant", content="tok " * 64))

    return FloorLLM()


# -- measuring ------------------------------------------------------------------------------------------------


def _stream_row(base_url: str, chunks: int, rounds: int, order: _Round) -> StreamRow:
    target = Target(base_url, chunks)
    events = _count_events(target)
    raw, ours, theirs = _RawHttpx(target), _ours(target), _peer(target)
    floor = _floor(events)
    messages = _messages()
    try:
        expected = raw.stream()
        for name, path in (("ours", ours), (PEER, theirs)):
            if path is not None and (got := path.stream()) != expected:
                raise RuntimeError(f"{name} streamed {got[0]} content chunks / other text; raw httpx {expected[0]}")
        floor.prepare()
        if sum(1 for _ in floor.stream_chat(messages)) != events:
            raise RuntimeError("the floor did not stream every response")

        def floor_stream() -> None:
            for _ in floor.stream_chat(messages):
                pass

        calls = {"ours": ours.stream, "floor": floor_stream, "httpx": raw.stream}
        if theirs is not None:
            calls["theirs"] = theirs.stream
        samples = _interleave(calls, {"floor": floor.prepare}, rounds, 1, order)
    finally:
        for path in (raw, ours, theirs):
            if path is not None:
                path.close()
    return StreamRow(
        chunks=chunks,
        events=events,
        repeats=rounds,
        ours_ms=_median_ms(samples["ours"]),
        theirs_ms=_median_ms(samples["theirs"]) if "theirs" in samples else None,
        floor_ms=_median_ms(samples["floor"]),
        httpx_ms=_median_ms(samples["httpx"]),
    )


def _chat_row(base_url: str, tokens: int, rounds: int, order: _Round) -> ChatRow:
    target = Target(base_url, tokens)
    raw, ours, theirs = _RawHttpx(target), _ours(target), _peer(target)
    floor = _floor(1)
    messages = _messages()
    floor.prepare()
    try:
        expected = raw.create()
        for name, path in (("ours", ours), (PEER, theirs)):
            if path is not None and path.create() != expected:
                raise RuntimeError(f"{name}'s chat text differs from raw httpx's")
        calls = {"ours": ours.create, "floor": lambda: floor.chat(messages), "httpx": raw.create}
        if theirs is not None:
            calls["theirs"] = theirs.create
        samples = _interleave(calls, {}, rounds, min(20, rounds), order)
    finally:
        for path in (raw, ours, theirs):
            if path is not None:
                path.close()
    return ChatRow(
        rounds,
        _median_ms(samples["ours"]),
        _median_ms(samples["theirs"]) if "theirs" in samples else None,
        _median_ms(samples["floor"]),
        _median_ms(samples["httpx"]),
    )


def _import_row(runs: int, seed: int) -> ImportRow:
    walls = import_walls(list(IMPORTS.values()), runs, seed + 2)
    return ImportRow(runs, {key: statistics.median(walls[code]) for key, code in IMPORTS.items()})


def run(
    repeats: int = 300,
    stream_repeats: int = 30,
    chunks: int = 1000,
    *,
    chat_tokens: int = 64,
    import_runs: int = 10,
    base_url: str | None = None,
    seed: int = 20250103,
) -> Results:
    """A ``chunks``-chunk ``stream_chat`` (``stream_repeats`` rounds), ``repeats`` rounds of ``chat`` with a
    ``chat_tokens``-token reply, and ``import_runs`` fresh-interpreter imports (0: not measured)."""
    if repeats < 1 or stream_repeats < 1 or chunks < 1:
        raise ValueError("need repeats >= 1, stream_repeats >= 1 and chunks >= 1")
    if base_url is None:
        with EmulatorProcess() as emulator:
            return run(repeats, stream_repeats, chunks, chat_tokens=chat_tokens, import_runs=import_runs,
                       base_url=emulator.base_url, seed=seed)
    order = _Round(seed)
    try:
        stream = _stream_row(base_url, chunks, stream_repeats, order)
        chat = _chat_row(base_url, chat_tokens, repeats, order)
    finally:
        gc.unfreeze()
    imports = _import_row(import_runs, seed) if import_runs > 0 else None
    return Results(stream, chat, imports, chat_tokens)


# -- the section ----------------------------------------------------------------------------------------------


def _ms(value: float | None, digits: int = 1) -> str:
    return "not installed" if value is None else f"{value:.{digits}f}"


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _verdict(passed: bool) -> str:
    return "pass" if passed else "**FAIL**"


def render(results: Results) -> str:
    s = results.stream
    stream_table = markdown_table(
        ["stream_chat", "rounds", "ours, ms", f"{PEER}, ms", "floor, ms", "raw httpx, ms", "floor + httpx, ms",
         f"{PEER} / ours (≥ {STREAM_SPEEDUP:g}×)", f"ours / (floor + httpx) (≤ {FLOOR_FACTOR:g}×)", "result"],
        [[f"{s.chunks} chunks ({s.events} events)", str(s.repeats), _ms(s.ours_ms), _ms(s.theirs_ms),
          _ms(s.floor_ms), _ms(s.httpx_ms), _ms(s.floor_ms + s.httpx_ms), _ratio(s.speedup), _ratio(s.over_floor),
          _verdict(s.passed)]],
    )
    c = results.chat
    chat_table = markdown_table(
        ["call", "rounds", "ours, ms", f"{PEER}, ms", "floor, ms", "raw httpx, ms", f"{PEER} / ours"],
        [[f"chat ({results.chat_tokens}-token reply)", str(c.repeats), _ms(c.ours_ms, 2), _ms(c.theirs_ms, 2),
          _ms(c.floor_ms, 3), _ms(c.httpx_ms, 2), _ratio(c.speedup)]],
    )
    out = f"{stream_table}\n\n{chat_table}"
    i = results.imports
    if i is not None:
        import_table = markdown_table(
            ["import", "runs", "seconds", "over `import llama_index.core.llms, httpx`"],
            [[f"`{IMPORTS[key]}`", str(i.runs), f"{i.seconds[key]:.3f}",
              _ratio(i.seconds[key] / i.seconds["floor"]) + (f" (≤ {IMPORT_BOUND:g}×: {_verdict(i.passed)})"
                                                             if key == "ours" else "")]
             for key in IMPORTS],
        )
        out += f"\n\n{import_table}"
    return out


_METHOD = """\
- Server: the contract emulator in its own process on 127.0.0.1 (as in the peers section);
  `x-emulator-reply-tokens` fixes the reply: {chunks} content chunks per stream (plus the role, reasoning and
  final events: the "events" column), {chat_tokens} tokens for `chat`.
- Ours: `cerebras_adapters.llama_index.Cerebras(model="{model}", api_key=..., api_base=..., default_headers=...,
  coalesce=False)` (one item per event, as the peer yields; coalescing is on by default and merges the events of one
  read);
  {peer}: `llama_index.llms.cerebras.Cerebras` with the same arguments. `stream_chat(messages)` consumed to the
  end (deltas collected) and `chat(messages)`, with the same two `ChatMessage`s.
- Floor: a minimal `CustomLLM` whose `stream_chat` (decorated with `llm_chat_callback`) yields as many pre-built
  `ChatResponse(message=ChatMessage(content="tok"), delta="tok")` as the stream has events (built before each
  run, outside the timing), and whose `chat` returns a pre-built response. Raw httpx: `client.stream` +
  `iter_lines` + `json.loads` of every event of the same stream (`post` + `.json()` for `chat`).
- Each answer checked once (same content-chunk count and text as raw httpx). Then one untimed round and
  {stream_repeats} timed rounds of the four streams in a seeded shuffled order; `chat`: 20 untimed and {repeats}
  timed rounds. Medians of `time.perf_counter()`, heap frozen (`gc.freeze()`) before timing.
- Import: wall time of `python -c "<import>"` minus `python -c "pass"`, fresh interpreter each run, bytecode
  caches warm, {import_runs} interleaved runs, medians.
- Command: `python -m benchmarks llama-index --repeats {repeats} --stream-repeats {stream_repeats}
  --chunks {chunks}`."""


def section(results: Results) -> Section:
    method = _METHOD.format(
        chunks=results.stream.chunks,
        chat_tokens=results.chat_tokens,
        model=MODEL,
        peer=PEER,
        stream_repeats=results.stream.repeats,
        repeats=results.chat.repeats,
        import_runs=results.imports.runs if results.imports is not None else 0,
    )
    body = (
        "Acceptance (issue 13): a 1000-chunk `stream_chat` at least 3× faster than llama-index-llms-cerebras "
        "and within 2× of (LlamaIndex's own floor for the same number of pre-built responses + raw httpx for "
        "the same stream); `import cerebras_adapters.llama_index` within 1.3× of "
        "`import llama_index.core.llms, httpx`.\n\n"
        f"### Results\n\n{render(results)}\n\n"
        f"### How it was measured\n\n{method}\n\n"
        f"### Machine and versions\n\n{environment_markdown(environment(PACKAGES))}\n"
    )
    return Section("llama-index", TITLE, body, ok=results.passed)


TITLE = "LlamaIndex: Cerebras vs llama-index-llms-cerebras and the LlamaIndex floor"


def _measure(args: argparse.Namespace) -> Section:
    return section(run(given(args, "repeats", 300), given(args, "stream_repeats", 30), given(args, "chunks", 1000)))


SUITE = Suite("llama-index", TITLE, _measure)


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(argv, [SUITE], prog="python -m benchmarks.llama_index_chat")


if __name__ == "__main__":
    raise SystemExit(main())
