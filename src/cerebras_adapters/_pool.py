"""The connection pool under the core's clients: httpcore's, with a linear, herd-free assignment step.

httpcore 1.0.x re-runs ``_assign_requests_to_connections`` whenever a request starts, retries or ends. Two things in
it make a warm pool slower than no pool under a burst of concurrent calls (measured in docs/benchmarks.md, Load):

* it hands every queued request the first available connection. An HTTP/1.1 connection stays "available" until
  its request actually starts, so of N requests queued together one wins and N-1 fail with
  ``ConnectionNotAvailable``, each retrying with a whole new pass (a thundering herd);
* for each idle connection it builds a list of every connection and compares that total, not the idle count,
  with ``max_keepalive_connections``: quadratic in the pool size, and it closes idle connections whenever the
  pool is larger than the keep-alive limit (the "churn" of httpx's default 20).

``_assign`` does the same job in one pass. It closes expired connections and only the *surplus* idle ones, and
gives each idle connection to at most one waiting request. httpcore's ``has_expired()`` polls an idle
connection's socket, so it runs on the connection being handed out and, for the others, in a sweep at most every
half second. It changes no other behaviour and keeps no state of
its own, so the fix is applied by swapping the class of the pool the httpx transport built. That happens only
when the pool is exactly httpcore's, has the attributes the step reads, and has HTTP/2 off (an HTTP/2 connection
takes many requests at once). Any other pool is left as it is. The same fix is proposed upstream
(encode/httpcore#1035).

This module must not send, retry or time anything.
"""

from __future__ import annotations

import ssl
from time import monotonic
from typing import Any

import httpcore
import httpx

__all__ = ["async_transport", "sync_transport"]

_SWEEP_EVERY = 0.5  # seconds between full sweeps for idle connections the server closed or that expired
_NEEDS = ("_connections", "_requests", "_max_connections", "_max_keepalive_connections", "_http2", "create_connection")


def _assign(self: Any) -> list[Any]:
    """httpcore's ``_assign_requests_to_connections``, linear in the pool size and without a herd."""
    closing: list[Any] = []
    kept: list[Any] = []
    idle: list[Any] = []
    now = monotonic()
    # has_expired() asks an idle connection's socket whether it is readable (~17 µs through anyio): check the
    # connection about to be handed out every time, and sweep all idle ones only every _SWEEP_EVERY seconds.
    sweep = now - getattr(self, "_cerebras_swept_at", 0.0) >= _SWEEP_EVERY
    if sweep:
        self._cerebras_swept_at = now
    for connection in self._connections:
        if connection.is_closed():
            continue
        if connection.is_idle():
            if sweep and connection.has_expired():
                closing.append(connection)
                continue
            idle.append(connection)
        kept.append(connection)
    surplus = len(idle) - self._max_keepalive_connections
    if surplus > 0:
        dropped = {id(connection) for connection in idle[:surplus]}
        closing.extend(idle[:surplus])
        idle = idle[surplus:]
        kept = [connection for connection in kept if id(connection) not in dropped]
    self._connections = kept

    queued = [request for request in self._requests if request.is_queued()]
    if not queued:
        return closing
    # A connection given to a request that has not started on it yet is still "available": skip those.
    promised = {id(request.connection) for request in self._requests if not request.is_queued()}
    available = [c for c in kept if id(c) not in promised and c.is_available()]
    spare = [c for c in idle if id(c) not in promised]
    for request in queued:
        origin = request.request.url.origin
        chosen = _take(self, available, origin, closing)
        if chosen is None:
            if len(self._connections) >= self._max_connections:
                victim = next((c for c in spare if c in self._connections), None)
                if victim is None:
                    continue  # stays queued until a connection frees up
                spare.remove(victim)
                self._connections.remove(victim)
                closing.append(victim)
                if victim in available:
                    available.remove(victim)
            chosen = self.create_connection(origin)
            self._connections.append(chosen)
        request.assign_to_connection(chosen)
    return closing


def _take(pool: Any, available: list[Any], origin: Any, closing: list[Any]) -> Any:
    """The first available connection for ``origin`` that has not expired (expired ones are closed)."""
    position = 0
    while position < len(available):
        connection = available[position]
        if not connection.can_handle_request(origin):
            position += 1
            continue
        del available[position]
        if connection.is_idle() and connection.has_expired():
            pool._connections.remove(connection)
            closing.append(connection)
            continue
        return connection
    return None


class _AsyncPool(httpcore.AsyncConnectionPool):
    _assign_requests_to_connections = _assign


class _SyncPool(httpcore.ConnectionPool):
    _assign_requests_to_connections = _assign


def _fix(transport: Any, stock: type, fixed: type) -> None:
    pool: Any = getattr(transport, "_pool", None)
    if type(pool) is stock and all(hasattr(pool, name) for name in _NEEDS) and not getattr(pool, "_http2", True):
        pool.__class__ = fixed


def async_transport(limits: httpx.Limits, verify: ssl.SSLContext) -> httpx.AsyncHTTPTransport:
    transport = httpx.AsyncHTTPTransport(verify=verify, limits=limits)
    _fix(transport, httpcore.AsyncConnectionPool, _AsyncPool)
    return transport


def sync_transport(limits: httpx.Limits, verify: ssl.SSLContext) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(verify=verify, limits=limits)
    _fix(transport, httpcore.ConnectionPool, _SyncPool)
    return transport
