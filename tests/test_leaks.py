"""Async clients never outlive their event loop: no connection, file descriptor or memory left per loop.

The leak tests run ``tests/leak_probe.py`` in child processes, all started by the first test so they share the
cores, against an emulator served from this process:

* 1,000 × ``asyncio.run(model.ainvoke("hi"))`` under ``RLIMIT_NOFILE=128`` (``ulimit -n 128``);
* 1,000 × ``asyncio.run`` of draining ``model.astream("hi")``;
* 1,000 × ``asyncio.run(litellm.acompletion(...))`` on the registered provider.

Before ``PerLoopClients`` every one of those loops left its client and a socket behind, and with them ~0.8 MB,
nearly all of it the CA bundle httpx loaded into each client's SSL context; the ``ainvoke`` run died at call
122 with ``OSError: Too many open files``. The core now shares one SSL context between its clients, so a new
loop's client costs ~0.15 ms and no bundle. The pool's own behaviours are checked in-process below.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cerebras_adapters._loop_pool import PerLoopClients
from cerebras_adapters.langchain import ChatCerebras
from cerebras_adapters.testing import EmulatorServer

PROBE = Path(__file__).with_name("leak_probe.py")
WARM_UP = 50  # calls before the first measurement: imports, caches and allocator pools settle
FD_GROWTH = 5


class Run:
    """One probe run, and the memory growth it may show from the warm-up to the end."""

    def __init__(self, mode: str, calls: int, rss_growth_mb: float, *flags: str) -> None:
        self.mode, self.calls, self.rss_growth_mb, self.flags = mode, calls, rss_growth_mb, flags


# Growth bounds against the leak, which grew ~0.8 MB per loop (~760 MB over the 950 measured calls).
RUNS = {
    "ainvoke": Run("ainvoke", 1000, 40.0, "--nofile", "128"),
    "astream": Run("astream", 1000, 40.0),
    "litellm": Run("litellm", 1000, 40.0),
}


# -- leak probes (child processes) ------------------------------------------------------------------------


class _Probe:
    def __init__(self, run: Run, base_url: str) -> None:
        self.report: dict[str, Any] | None = None
        args = [run.mode, str(run.calls), base_url, "--warm-up", str(WARM_UP), *run.flags]
        self.process = subprocess.Popen(
            [sys.executable, "-P", str(PROBE), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def result(self) -> dict[str, Any]:
        if self.report is None:
            out, err = self.process.communicate(timeout=600)
            assert self.process.returncode == 0, err[-3000:]
            self.report = json.loads(out.strip().splitlines()[-1])
        return self.report

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


@pytest.fixture(scope="module")
def probes() -> Iterator[dict[str, _Probe]]:
    with EmulatorServer() as emulator:
        started = {name: _Probe(run, emulator.base_url) for name, run in RUNS.items()}
        try:
            yield started
        finally:
            for probe in started.values():
                probe.kill()


def _assert_flat(report: dict[str, Any], run: Run) -> None:
    numbers = json.dumps(report)
    assert report["error"] is None, numbers
    assert report["calls"] == run.calls, numbers
    assert report["fds_end"] - report["fds_warm"] <= FD_GROWTH, numbers
    assert report["rss_end_mb"] - report["rss_warm_mb"] <= run.rss_growth_mb, numbers
    assert report["pool_loops"] <= 1, numbers


def test_ainvoke_in_a_new_loop_each_call_keeps_fds_and_memory_flat(probes: dict[str, _Probe]) -> None:
    _assert_flat(probes["ainvoke"].result(), RUNS["ainvoke"])


def test_astream_in_a_new_loop_each_call_keeps_fds_and_memory_flat(probes: dict[str, _Probe]) -> None:
    _assert_flat(probes["astream"].result(), RUNS["astream"])


def test_litellm_acompletion_in_a_new_loop_each_call_keeps_fds_and_memory_flat(probes: dict[str, _Probe]) -> None:
    _assert_flat(probes["litellm"].result(), RUNS["litellm"])


def test_a_thousand_loops_run_under_a_128_file_descriptor_limit(probes: dict[str, _Probe]) -> None:
    report = probes["ainvoke"].result()

    assert report["nofile"] == 128
    assert report["error"] is None, json.dumps(report)
    assert report["calls"] == 1000, json.dumps(report)


# -- the pool ---------------------------------------------------------------------------------------------


class FakeClient:
    def __init__(self, name: str = "client", fail_on_close: bool = False) -> None:
        self.name = name
        self.fail_on_close = fail_on_close
        self.closed_in: asyncio.AbstractEventLoop | None = None
        self.close_calls = 0

    async def close(self) -> None:
        await asyncio.sleep(0)  # a real close awaits I/O: the loop must still run it
        self.close_calls += 1
        self.closed_in = asyncio.get_running_loop()
        if self.fail_on_close:
            raise OSError("close failed")


def test_a_loop_gets_the_same_client_for_the_same_key() -> None:
    pool: PerLoopClients[FakeClient] = PerLoopClients()
    built: list[str] = []

    def build(name: str) -> FakeClient:
        built.append(name)
        return FakeClient(name)

    async def fetch(key: str) -> FakeClient:
        await asyncio.sleep(0)
        return pool.get(key, lambda: build(key))

    async def main() -> tuple[FakeClient, ...]:
        first = await fetch("a")
        again = await asyncio.create_task(fetch("a"))  # another task of the same loop
        other = await fetch("b")
        return first, again, other

    first, again, other = asyncio.run(main())

    assert again is first
    assert other is not first
    assert built == ["a", "b"]


def test_a_loop_shut_down_by_asyncio_run_closes_its_clients_inside_it() -> None:
    pool: PerLoopClients[FakeClient] = PerLoopClients()
    seen: dict[str, Any] = {}

    async def main() -> None:
        seen["loop"] = asyncio.get_running_loop()
        seen["a"] = pool.get("a", FakeClient)
        seen["b"] = pool.get("b", FakeClient)

    asyncio.run(main())

    assert (seen["a"].close_calls, seen["b"].close_calls) == (1, 1)
    assert seen["a"].closed_in is seen["loop"]
    assert len(pool) == 0


def test_the_chat_models_client_and_its_connections_are_closed_with_the_loop(
    cerebras_emulator: EmulatorServer,
) -> None:
    model = ChatCerebras(model="gpt-oss-120b", base_url=cerebras_emulator.base_url, api_key="csk-test")
    clients: list[Any] = []

    async def main() -> None:
        await model.ainvoke("hi")
        clients.append(model.async_client)

    asyncio.run(main())

    assert clients[0]._http.is_closed
    assert len(model._async_clients) == 0


def test_a_client_failing_to_close_does_not_keep_the_others_open() -> None:
    pool: PerLoopClients[FakeClient] = PerLoopClients()
    seen: list[FakeClient] = []

    async def main() -> None:
        seen.append(pool.get("bad", lambda: FakeClient("bad", fail_on_close=True)))
        seen.append(pool.get("good", FakeClient))

    asyncio.run(main())

    assert [client.close_calls for client in seen] == [1, 1]
    assert len(pool) == 0


def test_threads_running_their_own_loops_get_their_own_clients() -> None:
    pool: PerLoopClients[FakeClient] = PerLoopClients()
    both_running = threading.Barrier(2, timeout=10)
    seen: dict[int, FakeClient] = {}
    reused: dict[int, bool] = {}

    def worker(n: int) -> None:
        async def main() -> None:
            seen[n] = pool.get("same-settings", FakeClient)
            both_running.wait()  # both loops hold a client at the same time
            reused[n] = pool.get("same-settings", FakeClient) is seen[n]

        asyncio.run(main())

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert reused == {0: True, 1: True}
    assert seen[0] is not seen[1]
    assert seen[0].closed_in is not seen[1].closed_in
    assert [client.close_calls for client in seen.values()] == [1, 1]
    assert len(pool) == 0


def test_a_loop_closed_without_shutdown_asyncgens_is_dropped_on_the_next_access() -> None:
    pool: PerLoopClients[FakeClient] = PerLoopClients()
    loop = asyncio.new_event_loop()
    old = loop.run_until_complete(_get(pool, "a"))
    loop.close()  # no shutdown_asyncgens(): nothing can run in it any more
    closed_loop = weakref.ref(loop)
    del loop

    async def main() -> int:
        pool.get("a", FakeClient)
        return len(pool)

    assert asyncio.run(main()) == 1  # only the running loop's entry is left
    gc.collect()
    assert closed_loop() is None, "the pool must not keep a closed loop alive"
    assert old.close_calls == 0


async def _get(pool: PerLoopClients[FakeClient], key: str) -> FakeClient:
    return pool.get(key, FakeClient)


def test_a_long_lived_loop_keeps_its_client_across_many_calls() -> None:
    pool: PerLoopClients[FakeClient] = PerLoopClients()
    built: list[FakeClient] = []

    def build() -> FakeClient:
        built.append(FakeClient())
        return built[-1]

    async def call() -> FakeClient:
        await asyncio.sleep(0)
        return pool.get("settings", build)

    async def main() -> set[int]:
        clients = await asyncio.gather(*(call() for _ in range(200)))
        return {id(client) for client in clients}

    assert len(asyncio.run(main())) == 1
    assert len(built) == 1


def test_aclose_closes_the_running_loops_clients_now() -> None:
    pool: PerLoopClients[FakeClient] = PerLoopClients()

    async def main() -> tuple[FakeClient, FakeClient, int]:
        first = pool.get("a", FakeClient)
        await pool.aclose()
        closed_entries = len(pool)
        return first, pool.get("a", FakeClient), closed_entries

    first, second, entries_after_aclose = asyncio.run(main())

    assert first.close_calls == 1
    assert entries_after_aclose == 0
    assert second is not first
    assert second.close_calls == 1  # the new one closed with the loop


def test_a_pool_dropped_while_its_loop_runs_closes_its_clients_in_that_loop() -> None:
    async def main() -> FakeClient:
        pool: PerLoopClients[FakeClient] = PerLoopClients()
        client = pool.get("a", FakeClient)
        del pool
        gc.collect()
        for _ in range(5):  # the loop's asyncgen finalizer schedules the close as a task
            await asyncio.sleep(0)
        assert client.close_calls == 1
        return client

    client = asyncio.run(main())

    assert client.close_calls == 1


def test_copies_of_a_model_start_with_an_empty_pool() -> None:
    import copy
    import pickle

    pool: PerLoopClients[FakeClient] = PerLoopClients()

    async def main() -> None:
        pool.get("a", FakeClient)
        assert len(copy.deepcopy(pool)) == 0
        assert len(copy.copy(pool)) == 0
        assert len(pickle.loads(pickle.dumps(pool))) == 0

    asyncio.run(main())


def test_the_pool_imports_no_framework() -> None:
    code = (
        "import sys, cerebras_adapters._loop_pool\n"
        "print([m for m in ('langchain_core', 'litellm', 'httpx') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert out.strip() == "[]"
