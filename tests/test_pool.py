"""The connection pool: each waiting request gets its own idle connection, and only surplus idle connections close.

httpcore 1.0.x's assignment step gave every queued request the same idle connection (a thundering herd of
retries) and compared the *total* number of connections with ``max_keepalive_connections``, closing idle ones
that were within the limit. ``cerebras_adapters._pool`` replaces that step. The pool-level tests drive it on a
real httpcore pool whose connections are stand-ins with the five state methods the step reads. The same scenarios
against httpcore's own step show both faults, so each test would fail without the fix. The end-to-end test sends
real bursts through the client.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpcore
import httpx
import pytest

from cerebras_adapters import AsyncCerebrasClient, CerebrasClient
from cerebras_adapters._pool import _assign, _AsyncPool, _SyncPool
from cerebras_adapters.testing import EmulatorServer

ORIGIN = httpcore.URL("https://api.cerebras.ai/v1/chat/completions").origin
STOCK = httpcore.ConnectionPool._assign_requests_to_connections


class Connection:
    """An HTTP/1.1 connection's state as the pool sees it."""

    def __init__(self, *, idle: bool = True, expired: bool = False) -> None:
        self.idle = idle
        self.expired = expired
        self.expiry_checks = 0

    def is_closed(self) -> bool:
        return False

    def is_idle(self) -> bool:
        return self.idle

    def is_available(self) -> bool:
        return self.idle

    def has_expired(self) -> bool:
        self.expiry_checks += 1
        return self.expired

    def can_handle_request(self, origin: Any) -> bool:
        return origin == ORIGIN


def pool_with(connections: list[Connection], waiting: int, *, keepalive: int = 100) -> httpcore.ConnectionPool:
    # The sync pool: its step is the same function, and its requests need no event loop to be assigned.
    pool = httpcore.ConnectionPool(max_connections=100, max_keepalive_connections=keepalive)
    pool._connections = list(connections)  # type: ignore[arg-type]
    pool._requests = [httpcore._sync.connection_pool.PoolRequest(httpcore.Request("POST", str(ORIGIN)))
                      for _ in range(waiting)]
    for request in pool._requests:
        request.request.url = httpcore.URL("https://api.cerebras.ai/v1/chat/completions")
    return pool


@pytest.mark.parametrize("step", [_assign, STOCK], ids=["fixed", "httpcore-1.0"])
def test_each_waiting_request_gets_its_own_idle_connection(step):
    idle = [Connection() for _ in range(8)]
    pool = pool_with(idle, waiting=8)
    step(pool)
    given = [id(request.connection) for request in pool._requests]
    if step is STOCK:
        assert len(set(given)) == 1  # the herd: all eight on one connection, seven will fail and retry
        return
    assert sorted(given) == sorted(id(c) for c in idle)
    assert len(pool._connections) == 8  # none created


@pytest.mark.parametrize("step", [_assign, STOCK], ids=["fixed", "httpcore-1.0"])
def test_idle_connections_within_the_keep_alive_limit_stay_open(step):
    busy = [Connection(idle=False) for _ in range(7)]
    idle = [Connection() for _ in range(3)]
    pool = pool_with(busy + idle, waiting=0, keepalive=4)
    closing = step(pool)
    if step is STOCK:
        assert len(closing) == 3  # 10 connections > 4: every idle one closed although only 3 are idle
        return
    assert closing == []
    assert len(pool._connections) == 10


def test_only_the_surplus_of_idle_connections_is_closed():
    idle = [Connection() for _ in range(5)]
    pool = pool_with(idle, waiting=0, keepalive=2)
    closing = _assign(pool)
    assert len(closing) == 3 and len(pool._connections) == 2


def test_an_expired_connection_is_not_handed_out():
    stale, fresh = Connection(expired=True), Connection()
    pool = pool_with([stale, fresh], waiting=1)
    pool._cerebras_swept_at = float("inf")  # no sweep this pass: only the connection being handed out is checked
    closing = _assign(pool)
    assert pool._requests[0].connection is fresh
    assert closing == [stale]
    assert fresh.expiry_checks == 1


def test_idle_connections_are_polled_for_expiry_only_in_a_periodic_sweep():
    idle = [Connection() for _ in range(50)]
    pool = pool_with(idle, waiting=1)
    _assign(pool)  # the first pass sweeps every idle connection (and checks the one it hands out)
    swept = sum(c.expiry_checks for c in idle)
    pool._requests = []
    for _ in range(20):
        _assign(pool)  # within the sweep interval: no polling
    assert swept >= 50
    assert sum(c.expiry_checks for c in idle) == swept


def test_requests_beyond_max_connections_stay_queued():
    pool = pool_with([Connection(idle=False) for _ in range(2)], waiting=3)
    pool._max_connections = 3
    _assign(pool)
    assert sum(1 for request in pool._requests if request.is_queued()) == 2
    assert len(pool._connections) == 3


def test_the_clients_use_the_fixed_pool():
    with CerebrasClient(api_key="csk-test") as client:
        assert type(client._http._transport._pool) is _SyncPool  # type: ignore[attr-defined]

    async def main() -> None:
        async with AsyncCerebrasClient(api_key="csk-test") as client:
            assert type(client._http._transport._pool) is _AsyncPool  # type: ignore[attr-defined]

    asyncio.run(main())


def test_a_warm_pool_serves_a_burst_on_the_connections_it_kept():
    async def burst(client: AsyncCerebrasClient, n: int) -> None:
        async def one() -> None:
            stream = await client.chat.completions.create(
                model="gpt-oss-120b", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            async for _ in stream:
                pass

        await asyncio.gather(*(one() for _ in range(n)))

    async def main(base_url: str) -> tuple[set[int], set[int]]:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with AsyncCerebrasClient(api_key="csk-test", base_url=base_url, limits=limits) as client:
            pool = client._http._transport._pool  # type: ignore[attr-defined]
            await burst(client, 24)
            first = {id(c) for c in pool.connections}
            await burst(client, 24)
            return first, {id(c) for c in pool.connections}

    with EmulatorServer() as emulator:
        first, second = asyncio.run(main(emulator.base_url))
    assert len(first) == 24
    assert second == first  # no connection opened or closed by the second burst
