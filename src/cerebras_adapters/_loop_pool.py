"""``PerLoopClients``: async clients kept per event loop, closed inside their loop when it shuts down.

An async client's connections belong to the event loop they were opened on, so a framework adapter needs one
client per running loop (``asyncio.run`` per call makes a new loop every time). This module owns that pool,
once, for every adapter: the LangChain and LiteLLM adapters hold one each instead of their own copies. It must
not build clients (the caller's ``build`` does) nor import any framework.

What the pool guarantees:

* one client per (running loop, settings key), built on first use and reused for as long as the loop lives
  (a long-lived server loop keeps its client: no churn);
* when a loop shuts down, its clients are closed *inside* it and its entry dropped. ``asyncio.run``,
  ``asyncio.Runner``, pytest-asyncio and uvloop call ``loop.shutdown_asyncgens()`` before ``loop.close()``;
  the pool holds, per loop, one started and suspended async generator, which the loop's asyncgen hooks
  registered on its first step, so that shutdown closes it, and its ``finally`` awaits every client's
  ``close()``. The same ``finally`` runs if the pool itself is dropped while the loop still runs (the loop's
  asyncgen finalizer schedules it);
* a loop closed without ``shutdown_asyncgens()`` (``loop.close()`` alone) cannot run a close any more: its
  entry is dropped on the pool's next access from any loop, and what is left (sockets) is reclaimed with the
  objects by the garbage collector;
* after either, the pool holds no reference to the loop. Only a loop abandoned while still open (never
  closed) stays referenced, as its clients' connections would keep it anyway; code running such a loop can
  ``await pool.aclose()`` in it before leaving it.

Entries are keyed by the loop object; a lock guards the table, since threads run loops of their own
concurrently (LiteLLM calls some entry points from worker threads). A loop's own entry is only written from
that loop's thread, so a hit needs no lock.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Hashable
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["AsyncClosable", "PerLoopClients"]

logger = logging.getLogger("cerebras_adapters")


class AsyncClosable(Protocol):
    """What the pool needs of a client: ``await client.close()`` releases its connections."""

    def close(self) -> Awaitable[None]: ...


C = TypeVar("C", bound=AsyncClosable)


class _LoopEntry(Generic[C]):
    """One loop's clients by settings key, and the suspended generator that closes them at loop shutdown."""

    __slots__ = ("clients", "guard")

    def __init__(self) -> None:
        self.clients: dict[Hashable, C] = {}
        self.guard: AsyncGenerator[None, None] | None = None


class PerLoopClients(Generic[C]):
    """Async clients per running event loop and settings key: ``pool.get(key, build)``.

    ``build()`` makes a client the first time a loop asks for ``key``; later calls in that loop get the same
    client. The loop's clients are closed (``await client.close()``) when the loop shuts down. ``len(pool)``
    is the number of loops with clients.
    """

    def __init__(self) -> None:
        self._entries: dict[asyncio.AbstractEventLoop, _LoopEntry[C]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], C]) -> C:
        """The running loop's client for ``key``, built by ``build()`` on first use.

        Raises ``RuntimeError`` outside a running event loop."""
        loop = asyncio.get_running_loop()
        entries = self._entries
        if len(entries) > 1:  # with one entry it is the running loop's: nothing can be stale
            self._purge_closed()
        entry = entries.get(loop)
        if entry is None:
            entry = self._add(loop)
        else:
            client = entry.clients.get(key)
            if client is not None:
                return client
        client = build()
        entry.clients[key] = client
        return client

    async def aclose(self) -> None:
        """Close the running loop's clients now (the next ``get`` in this loop builds new ones)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._entries.get(loop)
        if entry is not None and entry.guard is not None:
            await entry.guard.aclose()  # its ``finally`` closes the clients and drops the entry

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<PerLoopClients loops={len(self._entries)}>"

    # A copy of a model (``model_copy``, ``deepcopy``, pickling) starts with an empty pool: clients and
    # their connections belong to the original's loops, and a lock cannot be copied.
    def __copy__(self) -> PerLoopClients[C]:
        return type(self)()

    def __deepcopy__(self, memo: dict[int, Any]) -> PerLoopClients[C]:
        return type(self)()

    def __reduce__(self) -> tuple[type[PerLoopClients[C]], tuple[()]]:
        return (type(self), ())

    # -- internals ------------------------------------------------------------------------------------------

    def _add(self, loop: asyncio.AbstractEventLoop) -> _LoopEntry[C]:
        entry: _LoopEntry[C] = _LoopEntry()
        guard = _close_at_loop_shutdown(weakref.ref(self), loop, entry.clients)
        # Run it to its ``yield`` now: that first step hands it to the loop's asyncgen hooks (the loop then
        # closes it in ``shutdown_asyncgens``). Nothing before the ``yield`` awaits, so this cannot suspend.
        _step(guard.asend(None))
        entry.guard = guard
        self._purge_closed()
        with self._lock:
            self._entries[loop] = entry
        return entry

    def _purge_closed(self) -> None:
        with self._lock:
            closed = [loop for loop in self._entries if loop.is_closed()]
            dropped = [self._entries.pop(loop) for loop in closed]
        for entry in dropped:
            # Too late to close anything inside the loop: finish its guard here (it awaits nothing for a
            # closed loop) and drop the clients; the garbage collector reclaims them, their sockets and the
            # loop. Outside the lock: the guard's ``finally`` takes it.
            if entry.guard is not None:
                _step(entry.guard.aclose())
            logger.debug("dropped the async clients of an event loop closed without shutdown_asyncgens()")

    def _forget(self, loop: asyncio.AbstractEventLoop, clients: dict[Hashable, C]) -> None:
        with self._lock:
            entry = self._entries.get(loop)
            if entry is not None and entry.clients is clients:
                del self._entries[loop]


def _step(awaitable: Coroutine[Any, Any, Any]) -> None:
    """Run one step of an awaitable that completes without suspending."""
    try:
        awaitable.send(None)
    except StopIteration:
        return
    awaitable.close()
    raise RuntimeError("a loop guard step suspended")  # pragma: no cover - would be a bug here


async def _close_at_loop_shutdown(
    pool_ref: weakref.ref[PerLoopClients[C]], loop: asyncio.AbstractEventLoop, clients: dict[Hashable, C]
) -> AsyncGenerator[None, None]:
    # The pool only weakly: a pool dropped while its loops still run frees its guards at once, and each
    # guard's ``finally`` then runs in its loop (the loop's asyncgen finalizer schedules it).
    try:
        yield
    finally:
        pool = pool_ref()
        if pool is not None:
            pool._forget(loop, clients)
        del pool
        if not loop.is_closed():
            for client in list(clients.values()):
                try:
                    await client.close()
                except Exception:  # one client failing to close must not keep the others open
                    logger.debug("closing an async client at event loop shutdown failed", exc_info=True)
        clients.clear()
