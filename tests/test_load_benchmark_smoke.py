"""The load benchmark still runs: every client path at a tiny size, no errors, and its connection count is real.

Speed is never asserted here; ``python -m benchmarks load`` reports it (docs/benchmarks.md, "Load").
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

# Before anything imports LiteLLM: it would otherwise fetch its cost map from the network.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import httpx
import pytest

from benchmarks import load
from benchmarks.__main__ import SUITES
from benchmarks.emulator import EmulatorProcess

TINY = load.Settings(core_streams=8, framework_streams=8, batches=1, reply_tokens=8, tokens_per_second=0)
# One row per code path (``core-256`` runs the same code as ``core``): the fixed pool step everywhere but the
# stock-pool row, default limits everywhere but the httpx-limits row. ``core`` goes through a child process as in
# the real run, the others run in this process: a child pays its own imports (LiteLLM's alone takes seconds), this
# process pays them once per test session.
CHILD_PATH = "core"
IN_PROCESS_PATHS = ("core-256-stock-pool", "core-256-httpx-limits", "langchain", "litellm")


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess() as running:
        yield running


def test_load_suite_is_registered_with_the_benchmark_command() -> None:
    assert load.SUITE in SUITES
    assert load.SUITE.slug == "load"


def test_connection_counter_counts_each_new_connection_once_sync_and_async(emulator: EmulatorProcess) -> None:
    url = f"{emulator.base_url}/tcp_warming"
    counter = load.ConnectionCounter()
    counter.install()
    try:
        with httpx.Client() as http:
            http.get(url)
            http.get(url)  # kept alive: no new connection
            assert (counter.opened, counter.open_now()) == (1, 1)
        assert counter.open_now() == 0

        async def two_requests() -> int:
            counter.check_loop(asyncio.get_running_loop())
            async with httpx.AsyncClient() as http:
                await http.get(url)
                await http.get(url)
                return counter.open_now()

        assert asyncio.run(two_requests()) == 1
        assert counter.opened == 2 and counter.open_now() == 0
        assert counter.peers == {f"127.0.0.1:{emulator.port}": 2}
    finally:
        counter.uninstall()


def test_every_load_path_streams_without_errors_on_at_most_one_connection_per_stream(
    emulator: EmulatorProcess,
) -> None:
    with ThreadPoolExecutor(1) as pool:
        child = pool.submit(load.run_path, CHILD_PATH, TINY, emulator.base_url)
        results = [load.run_in_process(key, TINY, emulator.base_url) for key in IN_PROCESS_PATHS]
        results.insert(0, child.result(timeout=60))

    for result in results:
        assert result.failure is None, (result.spec.key, result.failure)
        assert result.errors == 0, (result.spec.key, result.first_error)
        assert len(result.batches) == 1
        batch = result.batches[0]
        assert len(batch.ttft_s) == batch.streams == 8
        assert all(chunks > 8 for chunks in batch.chunks)  # the reply, its reasoning and the final chunk
        assert 1 <= result.opened <= 8, (result.spec.key, result.opened)
        assert set(result.peers) == {f"127.0.0.1:{emulator.port}"}
        assert result.peak_rss_kib >= result.rss_before_kib > 0
        # The pool timer saw the assignment step the row is meant to run, and only that one.
        assert set(result.pool_steps) == {result.spec.pool}, (result.spec.key, result.pool_steps)
        assert result.pool_passes >= 2 * batch.streams
    assert [r.spec.key for r in results] == [CHILD_PATH, *IN_PROCESS_PATHS]
    table = load.render(results)
    for result in results:
        assert f"| {result.spec.label} | 8 × 1 | 0 |" in table
    assert {r.spec.pool for r in results} == {"fixed", "stock"}
    section = load.section(results, TINY)
    assert section.ok
    assert "meant to run" not in section.body  # no row ran a step other than its own
    assert "encode/httpcore#1035" in section.body
