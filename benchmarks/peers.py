"""Peers: the same Cerebras calls through every Python client people use, side by side on the emulator.

Acceptance (issue "Contract emulator, cassettes, demo and benchmark harness"): run, side by side in one
process tree against the emulator on loopback (unlimited rate), raw httpx, the official
``cerebras-cloud-sdk``, the ``openai`` SDK, ``langchain-cerebras`` 0.8.2's ``ChatCerebras``, LiteLLM's
built-in ``cerebras/`` provider, and this project's core, LangChain and LiteLLM paths; workloads: a
non-streamed call, a 1000-chunk stream, the same async, 256 concurrent async streams, and ``import`` time;
print medians and each path's ratio to raw httpx as a markdown table.

This module owns the contenders (how each library is called), the workloads and the table. The server is
``emulator.EmulatorProcess`` (the project's contract emulator in its own process); every contender talks to
it with the same key, model and messages, and the ``x-emulator-reply-tokens`` header fixes the reply's
length, so every stream carries exactly ``chunks`` content chunks. Before timing, each contender's answer
is checked once per workload: the content-chunk count and the text must match raw httpx's, or its cell
reports why it has no figure.

Method: per workload, one client per contender, warmed up, then ``repeats`` rounds; in each round every
contender makes one call, in an order shuffled per round (seeded), so no contender always follows the same
neighbour. Figures are medians of ``time.perf_counter()`` per call (per batch for the concurrent workload);
ratios are median(contender) / median(raw httpx). Import time is the wall time of a fresh
``python -c "<import>"`` minus that of ``python -c "pass"``, interleaved the same way.

LiteLLM hands logging to background threads (and, async, to a logging task) that outlive the call. After
each LiteLLM call the harness waits, untimed, until that work is done, so it is not billed to whichever
contender runs next. Its two built-in rows differ only in ``litellm.disable_streaming_logging``.

``python -m benchmarks peers [--repeats N] [--stream-repeats N] [--chunks N] [--concurrent N] ...``
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import importlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import httpx

from .emulator import EmulatorProcess
from .report import Section, Suite, environment, environment_markdown, given, markdown_table, run_cli

# LiteLLM otherwise fetches its model cost map over the network at import (seconds, and not on loopback).
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

__all__ = [
    "CONTENDERS",
    "SUITE",
    "WORKLOADS",
    "Cell",
    "Contender",
    "Results",
    "Settings",
    "Target",
    "render",
    "run",
]

MODEL = "gpt-oss-120b"
API_KEY = "csk-bench"  # the emulator accepts any non-empty key without "invalid"/"wrong"
REPLY_TOKENS_HEADER = "x-emulator-reply-tokens"
MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "Why do micro-benchmarks run against a loopback server?"},
]

WORKLOADS = ("sync call", "sync stream", "async call", "async stream", "concurrent streams", "import")
PACKAGES = (
    "cerebras-adapters",
    "httpx",
    "httpcore",
    "pydantic",
    "cerebras-cloud-sdk",
    "openai",
    "langchain-core",
    "langchain-openai",
    "langchain-cerebras",
    "litellm",
)


@dataclass(frozen=True)
class Settings:
    """How much to measure. The defaults keep a run near four minutes on a 2-core machine."""

    repeats: int = 100  # rounds of non-streamed calls
    stream_repeats: int = 15  # rounds of single streams
    chunks: int = 1000  # content chunks per single stream
    concurrent: int = 256  # streams per concurrent batch
    concurrent_tokens: int = 16  # content chunks per stream in a batch (LiteLLM needs ~5 s per batch of 256)
    concurrent_repeats: int = 3  # rounds of concurrent batches
    import_runs: int = 5  # rounds of fresh-interpreter imports
    import_only: frozenset[str] | None = None  # contender keys whose import is timed (None: all)
    warmup: int = 3  # untimed calls per contender before a non-streamed workload (1 before streams, 0 if 0)
    seed: int = 20250101


@dataclass(frozen=True)
class Target:
    """Where a contender sends its calls and how long the replies are."""

    base_url: str  # http://127.0.0.1:PORT/v1
    tokens: int

    @property
    def origin(self) -> str:
        return self.base_url.removesuffix("/v1")

    @property
    def headers(self) -> dict[str, str]:
        return {REPLY_TOKENS_HEADER: str(self.tokens)}


Streamed = tuple[int, str]  # (content chunks received, their text joined)


class SyncPath(Protocol):
    def create(self) -> str: ...
    def stream(self) -> Streamed: ...
    def settle(self) -> None: ...
    def close(self) -> None: ...


class AsyncPath(Protocol):
    async def create(self) -> str: ...
    async def stream(self) -> Streamed: ...
    async def settle(self) -> None: ...
    async def close(self) -> None: ...


def _delta_text(event: dict[str, Any], pieces: list[str]) -> None:
    choices = event.get("choices")
    if choices:
        content = choices[0]["delta"].get("content")
        if content:
            pieces.append(content)


def _joined(pieces: list[str]) -> Streamed:
    return len(pieces), "".join(pieces)


# ------------------------------------------------------------------------------------------- raw httpx


class _RawHttpx:
    """What a hand-written caller does: post + ``.json()``; stream + ``iter_lines`` + ``json.loads``."""

    def __init__(self, target: Target) -> None:
        self._http = httpx.Client()
        self._url = f"{target.base_url}/chat/completions"
        self._headers = {"Authorization": f"Bearer {API_KEY}", **target.headers}
        self._body: dict[str, Any] = {"model": MODEL, "messages": MESSAGES}
        self._stream_body: dict[str, Any] = {**self._body, "stream": True}

    def create(self) -> str:
        data = self._http.post(self._url, json=self._body, headers=self._headers).json()
        return str(data["choices"][0]["message"]["content"])

    def stream(self) -> Streamed:
        pieces: list[str] = []
        with self._http.stream("POST", self._url, json=self._stream_body, headers=self._headers) as response:
            for line in response.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    _delta_text(json.loads(line[6:]), pieces)
        return _joined(pieces)

    def settle(self) -> None:
        pass

    def close(self) -> None:
        self._http.close()


class _AsyncRawHttpx:
    def __init__(self, target: Target) -> None:
        self._http = httpx.AsyncClient()
        self._url = f"{target.base_url}/chat/completions"
        self._headers = {"Authorization": f"Bearer {API_KEY}", **target.headers}
        self._body: dict[str, Any] = {"model": MODEL, "messages": MESSAGES}
        self._stream_body: dict[str, Any] = {**self._body, "stream": True}

    async def create(self) -> str:
        data = (await self._http.post(self._url, json=self._body, headers=self._headers)).json()
        return str(data["choices"][0]["message"]["content"])

    async def stream(self) -> Streamed:
        pieces: list[str] = []
        async with self._http.stream("POST", self._url, json=self._stream_body, headers=self._headers) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    _delta_text(json.loads(line[6:]), pieces)
        return _joined(pieces)

    async def settle(self) -> None:
        pass

    async def close(self) -> None:
        await self._http.aclose()


# ------------------------------------------------- SDK-shaped clients: cerebras-cloud-sdk, openai, our core


class _SdkShaped:
    """``client.chat.completions.create(...)``; with ``stream=True`` an iterator of chunks."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._create = client.chat.completions.create

    def create(self) -> str:
        return str(self._create(model=MODEL, messages=MESSAGES).choices[0].message.content)

    def stream(self) -> Streamed:
        pieces: list[str] = []
        for chunk in self._create(model=MODEL, messages=MESSAGES, stream=True):
            if chunk.choices:
                content = chunk.choices[0].delta.content
                if content:
                    pieces.append(content)
        return _joined(pieces)

    def settle(self) -> None:
        pass

    def close(self) -> None:
        self._client.close()


class _AsyncSdkShaped:
    def __init__(self, client: Any) -> None:
        self._client = client
        self._create = client.chat.completions.create

    async def create(self) -> str:
        return str((await self._create(model=MODEL, messages=MESSAGES)).choices[0].message.content)

    async def stream(self) -> Streamed:
        pieces: list[str] = []
        async for chunk in await self._create(model=MODEL, messages=MESSAGES, stream=True):
            if chunk.choices:
                content = chunk.choices[0].delta.content
                if content:
                    pieces.append(content)
        return _joined(pieces)

    async def settle(self) -> None:
        pass

    async def close(self) -> None:
        await self._client.close()


def _cerebras_sdk(target: Target) -> SyncPath:
    from cerebras.cloud.sdk import Cerebras

    # The SDK's base URL has no version path (it appends /v1/chat/completions itself).
    return _SdkShaped(
        Cerebras(api_key=API_KEY, base_url=target.origin, default_headers=target.headers, warm_tcp_connection=False)
    )


def _async_cerebras_sdk(target: Target) -> AsyncPath:
    from cerebras.cloud.sdk import AsyncCerebras

    return _AsyncSdkShaped(
        AsyncCerebras(
            api_key=API_KEY, base_url=target.origin, default_headers=target.headers, warm_tcp_connection=False
        )
    )


def _openai(target: Target) -> SyncPath:
    from openai import OpenAI

    return _SdkShaped(OpenAI(api_key=API_KEY, base_url=target.base_url, default_headers=target.headers))


def _async_openai(target: Target) -> AsyncPath:
    from openai import AsyncOpenAI

    return _AsyncSdkShaped(AsyncOpenAI(api_key=API_KEY, base_url=target.base_url, default_headers=target.headers))


def _core(target: Target) -> SyncPath:
    from cerebras_adapters import CerebrasClient

    return _SdkShaped(CerebrasClient(api_key=API_KEY, base_url=target.base_url, default_headers=target.headers))


def _async_core(target: Target) -> AsyncPath:
    from cerebras_adapters import AsyncCerebrasClient

    return _AsyncSdkShaped(
        AsyncCerebrasClient(api_key=API_KEY, base_url=target.base_url, default_headers=target.headers)
    )


# ----------------------------------------------------------- LangChain chat models: theirs and ours


def lc_messages() -> list[Any]:
    """``MESSAGES`` as LangChain messages (built once: a LangChain caller holds message objects)."""
    from langchain_core.messages import HumanMessage, SystemMessage

    return [SystemMessage(MESSAGES[0]["content"]), HumanMessage(MESSAGES[1]["content"])]


class _LangChain:
    """``model.invoke(messages)``; ``model.stream(messages)`` consumed to the end."""

    def __init__(self, model: Any, close: Callable[[], None]) -> None:
        self._model = model
        self._messages = lc_messages()
        self._close = close

    def create(self) -> str:
        return str(self._model.invoke(self._messages).content)

    def stream(self) -> Streamed:
        pieces: list[str] = []
        for chunk in self._model.stream(self._messages):
            if chunk.content:
                pieces.append(chunk.content)
        return _joined(pieces)

    def settle(self) -> None:
        pass

    def close(self) -> None:
        self._close()


class _AsyncLangChain:
    def __init__(self, model: Any, close: Callable[[], Awaitable[None]]) -> None:
        self._model = model
        self._messages = lc_messages()
        self._close = close

    async def create(self) -> str:
        return str((await self._model.ainvoke(self._messages)).content)

    async def stream(self) -> Streamed:
        pieces: list[str] = []
        async for chunk in self._model.astream(self._messages):
            if chunk.content:
                pieces.append(chunk.content)
        return _joined(pieces)

    async def settle(self) -> None:
        pass

    async def close(self) -> None:
        await self._close()


def _langchain_cerebras_model(target: Target) -> Any:
    from langchain_cerebras import ChatCerebras

    return ChatCerebras(model=MODEL, api_key=API_KEY, base_url=target.base_url, default_headers=target.headers)


def _langchain_cerebras(target: Target) -> SyncPath:
    model = _langchain_cerebras_model(target)
    return _LangChain(model, model.root_client.close)


def _async_langchain_cerebras(target: Target) -> AsyncPath:
    model = _langchain_cerebras_model(target)
    return _AsyncLangChain(model, model.root_async_client.close)


def _our_langchain_model(target: Target) -> Any:
    from cerebras_adapters.langchain import ChatCerebras

    # One chunk per event, as the peers stream: these rows compare the cost per chunk (coalescing, on by default,
    # has its own rows in the streams suite).
    return ChatCerebras(
        model=MODEL, api_key=API_KEY, base_url=target.base_url, default_headers=target.headers, coalesce=False
    )


def _our_langchain(target: Target) -> SyncPath:
    model = _our_langchain_model(target)
    return _LangChain(model, lambda: model.client.close())


def _async_our_langchain(target: Target) -> AsyncPath:
    model = _our_langchain_model(target)

    async def close() -> None:
        await model.async_client.close()

    return _AsyncLangChain(model, close)


# ------------------------------------------------------------------------------------------------ LiteLLM


def _litellm_backlog_done() -> bool:
    """Whether LiteLLM's logging thread pool has nothing queued or running (best effort: private fields)."""
    from litellm.litellm_core_utils.thread_pool_executor import executor

    slots = getattr(executor, "_pending_slots", None)
    cap = getattr(executor, "_max_pending_tasks", None)
    if slots is None or cap is None:
        return True
    return bool(slots._value >= cap)


_SETTLE_TIMEOUT = 30.0


class _LiteLLM:
    """``litellm.completion(model=..., api_base=..., api_key=..., extra_headers=..., stream=...)``."""

    def __init__(self, target: Target, model: str, quiet_streams: bool) -> None:
        import litellm

        litellm.suppress_debug_info = True
        self._litellm = litellm
        self._quiet_streams = quiet_streams
        self._kwargs: dict[str, Any] = {
            "model": model,
            "messages": MESSAGES,
            "api_base": target.base_url,
            "api_key": API_KEY,
            "extra_headers": target.headers,
        }

    def create(self) -> str:
        self._litellm.disable_streaming_logging = self._quiet_streams
        return str(self._litellm.completion(**self._kwargs).choices[0].message.content)

    def stream(self) -> Streamed:
        self._litellm.disable_streaming_logging = self._quiet_streams
        pieces: list[str] = []
        for chunk in self._litellm.completion(**self._kwargs, stream=True):
            if chunk.choices:
                content = chunk.choices[0].delta.content
                if content:
                    pieces.append(content)
        return _joined(pieces)

    def settle(self) -> None:
        deadline = time.monotonic() + _SETTLE_TIMEOUT
        while not _litellm_backlog_done() and time.monotonic() < deadline:
            time.sleep(0.0005)

    def close(self) -> None:
        self._litellm.disable_streaming_logging = False


class _AsyncLiteLLM:
    def __init__(self, target: Target, model: str, quiet_streams: bool) -> None:
        self._sync = _LiteLLM(target, model, quiet_streams)
        self._litellm = self._sync._litellm
        self._quiet_streams = quiet_streams
        self._kwargs = self._sync._kwargs

    async def create(self) -> str:
        self._litellm.disable_streaming_logging = self._quiet_streams
        return str((await self._litellm.acompletion(**self._kwargs)).choices[0].message.content)

    async def stream(self) -> Streamed:
        self._litellm.disable_streaming_logging = self._quiet_streams
        pieces: list[str] = []
        async for chunk in await self._litellm.acompletion(**self._kwargs, stream=True):
            if chunk.choices:
                content = chunk.choices[0].delta.content
                if content:
                    pieces.append(content)
        return _joined(pieces)

    async def settle(self) -> None:
        try:
            from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER
        except ImportError:  # pragma: no cover - older LiteLLM
            pass
        else:
            await asyncio.wait_for(GLOBAL_LOGGING_WORKER.flush(), _SETTLE_TIMEOUT)
        deadline = time.monotonic() + _SETTLE_TIMEOUT
        while not _litellm_backlog_done() and time.monotonic() < deadline:
            await asyncio.sleep(0.0005)

    async def close(self) -> None:
        self._sync.close()


def _litellm_builtin(quiet_streams: bool) -> tuple[Callable[[Target], SyncPath], Callable[[Target], AsyncPath]]:
    model = f"cerebras/{MODEL}"
    return (
        lambda target: _LiteLLM(target, model, quiet_streams),
        lambda target: _AsyncLiteLLM(target, model, quiet_streams),
    )


# This project's LiteLLM provider, ``cerebras_adapters.litellm``: ``register()`` adds the ``cerebras-adapters/``
# prefix and the calls are the built-in rows' calls with that prefix. Its row says "not yet available" only if
# the module fails to import, which the smoke test treats as a failure.
OUR_LITELLM_PREFIX = "cerebras-adapters"


@functools.cache
def _register_our_litellm() -> str:
    provider = importlib.import_module("cerebras_adapters.litellm")
    provider.register()
    return f"{OUR_LITELLM_PREFIX}/{MODEL}"


def _our_litellm_paths() -> tuple[Callable[[Target], SyncPath], Callable[[Target], AsyncPath]]:
    def per_event(path: Any) -> Any:
        # One chunk per event, as the peers stream (coalescing, on by default, has its own rows in streams).
        path._kwargs["coalesce"] = False
        return path

    register = _register_our_litellm
    return (
        lambda target: per_event(_LiteLLM(target, register(), quiet_streams=False)),
        lambda target: per_event(_AsyncLiteLLM(target, register(), quiet_streams=False)),
    )


# ---------------------------------------------------------------------------------------------- contenders


@dataclass(frozen=True)
class Contender:
    """One way of calling Cerebras: how to build its sync and async paths, and what importing it means."""

    key: str
    label: str
    imports: str  # the statement the import-time workload runs in a fresh interpreter
    make_sync: Callable[[Target], SyncPath]
    make_async: Callable[[Target], AsyncPath]
    needs: tuple[str, ...] = ()  # modules that must import for the row to be measured
    missing: str = "not installed (`uv sync --group bench`)"

    def unavailable(self) -> str | None:
        """Why this contender cannot be measured here, or None."""
        for module in self.needs:
            try:
                importlib.import_module(module)
            except ImportError:
                return self.missing
        return None


_QUIET = "disable_streaming_logging"

CONTENDERS: tuple[Contender, ...] = (
    Contender("httpx", "raw httpx", "import httpx", _RawHttpx, _AsyncRawHttpx),
    Contender(
        "cerebras-sdk",
        "cerebras-cloud-sdk `Cerebras`",
        "from cerebras.cloud.sdk import Cerebras",
        _cerebras_sdk,
        _async_cerebras_sdk,
        needs=("cerebras.cloud.sdk",),
    ),
    Contender("openai", "openai `OpenAI`", "from openai import OpenAI", _openai, _async_openai, needs=("openai",)),
    Contender(
        "langchain-cerebras",
        "langchain-cerebras `ChatCerebras`",
        "from langchain_cerebras import ChatCerebras",
        _langchain_cerebras,
        _async_langchain_cerebras,
        needs=("langchain_cerebras",),
    ),
    Contender(
        "litellm",
        "LiteLLM `cerebras/`",
        "import litellm",
        *_litellm_builtin(quiet_streams=False),
        needs=("litellm",),
    ),
    Contender(
        "litellm-quiet",
        f"LiteLLM `cerebras/`, `{_QUIET}=True`",
        "import litellm",
        *_litellm_builtin(quiet_streams=True),
        needs=("litellm",),
    ),
    Contender(
        "core",
        "**cerebras-adapters** core",
        "from cerebras_adapters import CerebrasClient",
        _core,
        _async_core,
    ),
    Contender(
        "langchain",
        "**cerebras-adapters** LangChain `ChatCerebras`",
        "from cerebras_adapters.langchain import ChatCerebras",
        _our_langchain,
        _async_our_langchain,
        needs=("langchain_core", "cerebras_adapters.langchain"),
    ),
    Contender(  # SLOT(litellm-provider)
        "litellm-provider",
        f"**cerebras-adapters** LiteLLM `{OUR_LITELLM_PREFIX}/`",
        "import litellm, cerebras_adapters.litellm",
        *_our_litellm_paths(),
        needs=("litellm", "cerebras_adapters.litellm"),
        missing="not yet available (`cerebras_adapters.litellm` does not import)",
    ),
)
BASELINE = "httpx"


# ------------------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class Cell:
    """One contender's result on one workload: timings in seconds, or why there are none."""

    samples: tuple[float, ...] = ()
    note: str | None = None

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.samples) * 1000 if self.samples else None


@dataclass
class Results:
    settings: Settings
    contenders: tuple[Contender, ...]
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)
    # Connection attempts the kernel dropped because a listen queue was full, counted (system-wide) around each
    # path's concurrent batches: a dropped SYN costs that connection a ~1 s retransmission wait.
    listen_overflows: dict[str, int] = field(default_factory=dict)

    def cell(self, key: str, workload: str) -> Cell:
        return self.cells.get((key, workload), Cell(note="not measured"))

    def ratio(self, key: str, workload: str) -> float | None:
        ours, base = self.cell(key, workload).median_ms, self.cell(BASELINE, workload).median_ms
        return None if ours is None or not base else ours / base


# ------------------------------------------------------------------------------------------------ timing


class _Round:
    """The per-round order: every contender once, shuffled with a seeded generator."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def order(self, keys: Iterable[str]) -> list[str]:
        keys = list(keys)
        self._rng.shuffle(keys)
        return keys


def _check(got: str | Streamed, expected: str | Streamed, tokens: int) -> str | None:
    """Why a contender's answer does not count (wrong length or text), or None."""
    if isinstance(got, tuple) and isinstance(expected, tuple):
        if got[0] != tokens:
            return f"check failed: {got[0]} content chunks, expected {tokens}"
        got, expected = got[1], expected[1]
    if got != expected:
        return "check failed: the text differs from raw httpx's"
    return None


def _failure(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return f"failed: {text[:120]}"


def _freeze_heap() -> None:
    """Move everything alive now (imported modules, built and warmed-up clients) out of the collector's
    reach, so that a full collection costs what a path's own objects cost, not what the process happens to
    have imported (LiteLLM alone brings hundreds of thousands of objects). ``run`` unfreezes at the end."""
    gc.collect()
    gc.freeze()


def _time_sync(
    workload: str,
    paths: dict[str, SyncPath],
    call: Callable[[SyncPath], object],
    rounds: int,
    warmup: int,
    order: _Round,
    results: Results,
) -> None:
    live = dict(paths)

    def once(key: str) -> float | None:
        path = live[key]
        start = time.perf_counter()
        try:
            call(path)
        except Exception as exc:  # one broken contender must not sink the others' figures
            results.cells[key, workload] = Cell(note=_failure(exc))
            del live[key]
            return None
        elapsed = time.perf_counter() - start
        path.settle()
        return elapsed

    for _ in range(warmup):
        for key in order.order(live):
            once(key)
    samples: dict[str, list[float]] = {key: [] for key in live}
    _freeze_heap()
    for _ in range(rounds):
        for key in order.order(live):
            elapsed = once(key)
            if elapsed is not None:
                samples[key].append(elapsed)
    for key in live:
        results.cells[key, workload] = Cell(tuple(samples[key]))


async def _time_async(
    workload: str,
    paths: dict[str, AsyncPath],
    call: Callable[[AsyncPath], Awaitable[object]],
    rounds: int,
    warmup: int,
    order: _Round,
    results: Results,
) -> None:
    live = dict(paths)

    async def once(key: str) -> float | None:
        path = live[key]
        start = time.perf_counter()
        try:
            await call(path)
        except Exception as exc:
            results.cells[key, workload] = Cell(note=_failure(exc))
            del live[key]
            return None
        elapsed = time.perf_counter() - start
        await path.settle()
        return elapsed

    for _ in range(warmup):
        for key in order.order(live):
            await once(key)
    samples: dict[str, list[float]] = {key: [] for key in live}
    _freeze_heap()
    for _ in range(rounds):
        for key in order.order(live):
            elapsed = await once(key)
            if elapsed is not None:
                samples[key].append(elapsed)
    for key in live:
        results.cells[key, workload] = Cell(tuple(samples[key]))


def _build(
    contenders: Sequence[Contender], make: Callable[[Contender], Any], workloads: Sequence[str], results: Results
) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for contender in contenders:
        try:
            paths[contender.key] = make(contender)
        except Exception as exc:
            for workload in workloads:
                results.cells[contender.key, workload] = Cell(note=_failure(exc))
    return paths


def _require_baseline(paths: dict[str, Any], results: Results, workload: str) -> None:
    if BASELINE not in paths:
        raise RuntimeError(f"raw httpx could not run {workload}: {results.cell(BASELINE, workload).note}")


def _run_sync(contenders: Sequence[Contender], settings: Settings, base_url: str, results: Results) -> None:
    target = Target(base_url, settings.chunks)
    workloads = ("sync call", "sync stream")
    paths: dict[str, SyncPath] = _build(contenders, lambda c: c.make_sync(target), workloads, results)
    _require_baseline(paths, results, "sync call")
    try:
        order = _Round(settings.seed)
        for workload, call, rounds, warmup in (
            ("sync call", lambda p: p.create(), settings.repeats, settings.warmup),
            ("sync stream", lambda p: p.stream(), settings.stream_repeats, min(1, settings.warmup)),
        ):
            expected = call(paths[BASELINE])
            ok = _checked_sync(paths, call, expected, settings.chunks, workload, results)
            _time_sync(workload, ok, call, rounds, warmup, order, results)
    finally:
        for path in paths.values():
            path.close()


def _checked_sync(
    paths: dict[str, SyncPath],
    call: Callable[[SyncPath], Any],
    expected: Any,
    tokens: int,
    workload: str,
    results: Results,
) -> dict[str, SyncPath]:
    ok: dict[str, SyncPath] = {}
    for key, path in paths.items():
        try:
            problem = _check(call(path), expected, tokens)
            path.settle()
        except Exception as exc:
            problem = _failure(exc)
        if problem is None:
            ok[key] = path
        else:
            results.cells[key, workload] = Cell(note=problem)
    if BASELINE not in ok:
        raise RuntimeError(f"raw httpx failed its own check on {workload}: {results.cell(BASELINE, workload).note}")
    return ok


async def _checked_async(
    paths: dict[str, AsyncPath],
    call: Callable[[AsyncPath], Awaitable[Any]],
    tokens: int,
    workload: str,
    results: Results,
) -> dict[str, AsyncPath]:
    expected = await call(paths[BASELINE])
    ok: dict[str, AsyncPath] = {}
    for key, path in paths.items():
        try:
            problem = _check(await call(path), expected, tokens)
            await path.settle()
        except Exception as exc:
            problem = _failure(exc)
        if problem is None:
            ok[key] = path
        else:
            results.cells[key, workload] = Cell(note=problem)
    if BASELINE not in ok:
        raise RuntimeError(f"raw httpx failed its own check on {workload}: {results.cell(BASELINE, workload).note}")
    return ok


async def _run_async(contenders: Sequence[Contender], settings: Settings, base_url: str, results: Results) -> None:
    order = _Round(settings.seed + 1)
    single = Target(base_url, settings.chunks)
    workloads = ("async call", "async stream")
    paths: dict[str, AsyncPath] = _build(contenders, lambda c: c.make_async(single), workloads, results)
    _require_baseline(paths, results, "async call")
    try:
        for workload, call, rounds, warmup in (
            ("async call", lambda p: p.create(), settings.repeats, settings.warmup),
            ("async stream", lambda p: p.stream(), settings.stream_repeats, min(1, settings.warmup)),
        ):
            ok = await _checked_async(paths, call, settings.chunks, workload, results)
            await _time_async(workload, ok, call, rounds, warmup, order, results)
    finally:
        for path in paths.values():
            await path.close()

    # A separate client per contender for the batches: short replies, many connections.
    batch = Target(base_url, settings.concurrent_tokens)
    workload = "concurrent streams"
    paths = _build(contenders, lambda c: c.make_async(batch), (workload,), results)
    _require_baseline(paths, results, workload)

    key_of = {id(path): key for key, path in paths.items()}

    async def streams(path: AsyncPath) -> Streamed:
        before = listen_overflows()
        got = await asyncio.gather(*(path.stream() for _ in range(settings.concurrent)))
        after = listen_overflows()
        if before is not None and after is not None:
            key = key_of[id(path)]
            results.listen_overflows[key] = results.listen_overflows.get(key, 0) + after - before
        if any(g != got[0] for g in got):
            raise RuntimeError("the streams of one batch differ")
        return got[0]

    try:
        ok = await _checked_async(paths, lambda p: p.stream(), settings.concurrent_tokens, workload, results)
        await _time_async(workload, ok, streams, settings.concurrent_repeats, min(1, settings.warmup), order, results)
    finally:
        for path in paths.values():
            await path.close()


def listen_overflows() -> int | None:
    """The kernel's count of connections dropped because a listen queue was full (Linux; None elsewhere)."""
    try:
        with open("/proc/net/netstat", encoding="ascii") as stats:
            lines = stats.read().splitlines()
    except OSError:
        return None
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:") and "ListenOverflows" in names.split():
            return int(values.split()[names.split().index("ListenOverflows")])
    return None


def _wall(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def import_walls(codes: Sequence[str], runs: int, seed: int) -> dict[str, list[float]]:
    """Per import statement, the wall times of ``python -c "<import>"`` minus the median of ``python -c "pass"``,
    ``runs`` interleaved runs in a seeded shuffled order, fresh interpreter each time, with bytecode caches warm
    (written by an untimed first run into a temporary ``PYTHONPYCACHEPREFIX``, so the environment's own
    ``__pycache__`` folders are left alone and ``PYTHONDONTWRITEBYTECODE`` cannot force every run to compile from
    source)."""
    every = sorted(set(codes) | {"pass"})
    walls: dict[str, list[float]] = {code: [] for code in every}
    order = _Round(seed)
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
        env.update(LITELLM_LOCAL_MODEL_COST_MAP="True", PYTHONPYCACHEPREFIX=cache)
        for code in every:  # untimed: bytecode written, files in the page cache
            _wall(code, env)
        for _ in range(runs):
            for code in order.order(every):
                walls[code].append(_wall(code, env))
    empty = statistics.median(walls["pass"])
    return {code: [max(w - empty, 1e-6) for w in walls[code]] for code in codes}


def _run_imports(contenders: Sequence[Contender], settings: Settings, results: Results) -> None:
    """Each contender's import (``import_walls``)."""
    chosen = [c for c in contenders if settings.import_only is None or c.key in settings.import_only]
    if settings.import_runs < 1:
        chosen = []
    for contender in contenders:
        if contender not in chosen:
            results.cells[contender.key, "import"] = Cell(note="not measured in this run")
    if not chosen:
        return
    walls = import_walls(sorted({c.imports for c in chosen}), settings.import_runs, settings.seed + 2)
    for contender in chosen:
        results.cells[contender.key, "import"] = Cell(tuple(walls[contender.imports]))


def run(
    settings: Settings | None = None,
    *,
    base_url: str | None = None,
    contenders: Sequence[Contender] = CONTENDERS,
) -> Results:
    """Measure every contender on every workload in ``WORKLOADS``.

    ``base_url`` points at a running emulator (``http://127.0.0.1:PORT/v1``); by default one is started in
    its own process for the run. A contender that is not installed, or whose answer fails the check, gets a
    note instead of figures; raw httpx (the baseline) must always run.
    """
    settings = settings or Settings()
    if min(settings.repeats, settings.stream_repeats, settings.concurrent_repeats, settings.concurrent) < 1:
        raise ValueError("repeats, stream repeats, concurrent repeats and concurrency must be >= 1")
    if base_url is None:
        with EmulatorProcess() as emulator:
            return run(settings, base_url=emulator.base_url, contenders=contenders)
    results = Results(settings, tuple(contenders))
    present = []
    for contender in contenders:
        reason = contender.unavailable()
        if reason is None:
            present.append(contender)
        else:
            for workload in WORKLOADS:
                results.cells[contender.key, workload] = Cell(note=reason)
    try:
        _run_sync(present, settings, base_url, results)
        asyncio.run(_run_async(present, settings, base_url, results))
    finally:
        gc.unfreeze()
    _run_imports(present, settings, results)
    return results


# ---------------------------------------------------------------------------------------------- rendering


def _ms(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def workload_titles(settings: Settings) -> dict[str, str]:
    return {
        "sync call": "sync call",
        "sync stream": f"sync stream ({settings.chunks} chunks)",
        "async call": "async call",
        "async stream": f"async stream ({settings.chunks} chunks)",
        "concurrent streams": f"{settings.concurrent} concurrent async streams ({settings.concurrent_tokens} chunks)",
        "import": "import",
    }


def render(results: Results) -> str:
    """One row per contender, one column per workload: ``median ms (ratio to raw httpx)``."""
    titles = workload_titles(results.settings)
    rows = []
    notes: dict[str, int] = {}
    for contender in results.contenders:
        row = [contender.label]
        for workload in WORKLOADS:
            cell = results.cell(contender.key, workload)
            median = cell.median_ms
            if median is None:
                mark = notes.setdefault(cell.note or "not measured", len(notes) + 1)
                row.append(f"– [{mark}]")
                continue
            ratio = results.ratio(contender.key, workload)
            row.append(f"{_ms(median)} ({ratio:.2f}×)" if ratio is not None else _ms(median))
        rows.append(row)
    table = markdown_table(["path", *(f"{titles[w]}, ms" for w in WORKLOADS)], rows)
    if notes:
        table += "\n\n" + "\n".join(f"[{n}] {note}" for note, n in notes.items())
    dropped = {key: n for key, n in results.listen_overflows.items() if n}
    if dropped:
        labels = {c.key: c.label for c in results.contenders}
        counts = ", ".join(f"{labels[key]} {n}" for key, n in dropped.items())
        table += (
            "\n\nConnections dropped by a full listen queue during the concurrent batches (the kernel's "
            "`ListenOverflows`, counted around each path's batches, warm-up included; each costs that connection a "
            f"~1 s SYN retransmission, so these paths' concurrent figures are inflated): {counts}."
        )
    return table


_METHOD = """\
- Server: the project's contract emulator, `cerebras-adapters emulator --host 127.0.0.1 --port 0` (unlimited
  rate, `benchmarks/emulator.py`), in a **separate process** so its CPU does not share the clients' GIL; it
  is a full model of the API (validation, generation, rate-limit headers), so every figure includes its
  per-request work, the same for every path. Every path uses model `{model}`, the same two messages, key
  `{key}` and the header `x-emulator-reply-tokens` (set through each client's default/extra headers) that
  fixes the reply's length: single streams carry {chunks} content chunks (plus the role chunk, the gpt-oss
  reasoning chunks and the final chunk), non-streamed replies the same {chunks}-token text. Before timing,
  each path's answer was checked once per workload: content-chunk count and text equal to raw httpx's.
- Paths: raw httpx (`post` + `.json()`; `stream` + `iter_lines` + `json.loads`), `Cerebras`/`AsyncCerebras`
  (`warm_tcp_connection=False`, base URL without `/v1`), `OpenAI`/`AsyncOpenAI`, langchain-cerebras
  `ChatCerebras` and ours (`invoke`/`stream`/`ainvoke`/`astream`, LangChain message objects built once),
  `litellm.completion`/`acompletion(model="cerebras/{model}", api_base=..., api_key=..., extra_headers=...)`
  with `litellm.disable_streaming_logging` at its default (False) and set to True, our core
  (`CerebrasClient`/`AsyncCerebrasClient`), and this project's LiteLLM provider once it imports. Every
  stream is consumed to the end, collecting the content text. Each library keeps its own defaults
  (connection pool limits included: httpx and our core allow 100 connections, the openai and Cerebras SDKs
  1000).
- Timing: per workload, one client per path; {warmup} untimed warm-up calls per path (1 before streams),
  then rounds in which every path makes one call, in a freshly shuffled (seeded) order each round:
  {repeats} rounds of non-streamed calls, {stream_repeats} of streams, {concurrent_repeats} of concurrent
  batches (`asyncio.gather` of {concurrent} streams of {concurrent_tokens} chunks each, timed as a whole).
  Medians of `time.perf_counter()`; the ratio is median(path) / median(raw httpx). Async workloads share one
  event loop. Before each workload's timed rounds (after its warm-up) the heap is frozen (`gc.freeze()`), so
  the modules one library imports (LiteLLM's are many) do not make every path's full garbage collections
  slower. After each LiteLLM call the harness waits, untimed, for LiteLLM's background logging (thread pool
  and logging task) to finish, so it is not billed to the next path.
- Import: wall time of a fresh `python -c "<import statement>"` minus that of `python -c "pass"`, with
  bytecode caches warm (one untimed run each writes them to a temporary `PYTHONPYCACHEPREFIX`), then
  {import_runs} interleaved runs, median, with `LITELLM_LOCAL_MODEL_COST_MAP=True`. The statements:
  {imports}.
- Command: `python -m benchmarks peers --repeats {repeats} --stream-repeats {stream_repeats} --chunks {chunks}
  --concurrent {concurrent} --concurrent-tokens {concurrent_tokens} --concurrent-repeats {concurrent_repeats}
  --import-runs {import_runs}`."""


def section(results: Results) -> Section:
    settings = results.settings
    imports = "; ".join(
        f"{c.label.replace('**', '')}: `{c.imports}`" for c in results.contenders if c.key != "litellm-quiet"
    )
    method = _METHOD.format(
        model=MODEL,
        key=API_KEY,
        chunks=settings.chunks,
        warmup=settings.warmup,
        repeats=settings.repeats,
        stream_repeats=settings.stream_repeats,
        concurrent=settings.concurrent,
        concurrent_tokens=settings.concurrent_tokens,
        concurrent_repeats=settings.concurrent_repeats,
        import_runs=settings.import_runs,
        imports=imports,
    )
    body = (
        "Every Python path to Cerebras, side by side in one process against the contract emulator on "
        "loopback (issue “Contract emulator, cassettes, demo and benchmark harness”). Each cell is the median "
        "in milliseconds and, in brackets, its ratio to raw httpx on the same workload (lower is faster).\n\n"
        f"### Results\n\n{render(results)}\n\n"
        f"### How it was measured\n\n{method}\n\n"
        f"### Machine and versions\n\n{environment_markdown(environment(PACKAGES))}\n"
    )
    return Section("peers", "Peers: every Python path to Cerebras", body)


def add_arguments(group: Any) -> None:
    defaults = Settings()
    group.add_argument("--concurrent", type=int, help=f"streams per concurrent batch (default {defaults.concurrent})")
    group.add_argument(
        "--concurrent-tokens", type=int, help=f"chunks per concurrent stream (default {defaults.concurrent_tokens})"
    )
    group.add_argument(
        "--concurrent-repeats", type=int, help=f"concurrent batches per path (default {defaults.concurrent_repeats})"
    )
    group.add_argument(
        "--import-runs", type=int, help=f"fresh-interpreter imports per path (default {defaults.import_runs})"
    )


def settings_from(args: argparse.Namespace) -> Settings:
    defaults = Settings()
    chosen = {
        "repeats": given(args, "repeats", defaults.repeats),
        "stream_repeats": given(args, "stream_repeats", defaults.stream_repeats),
        "chunks": given(args, "chunks", defaults.chunks),
        "concurrent": getattr(args, "concurrent", None),
        "concurrent_tokens": getattr(args, "concurrent_tokens", None),
        "concurrent_repeats": getattr(args, "concurrent_repeats", None),
        "import_runs": getattr(args, "import_runs", None),
    }
    return replace(defaults, **{name: value for name, value in chosen.items() if value is not None})


def _measure(args: argparse.Namespace) -> Section:
    return section(run(settings_from(args)))


SUITE = Suite("peers", "Peers: every Python path to Cerebras", _measure, add_arguments)


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(argv, [SUITE], prog="python -m benchmarks.peers")


if __name__ == "__main__":
    raise SystemExit(main())
