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
(encode/httpcore#1035). Pools that reach the service through an HTTP(S) proxy get the same step.

It also builds the proxy transports. httpx reads ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` only
when it builds its own transport, and the clients pass theirs, so ``sync_transports`` / ``async_transports`` read
them here, once per client, by httpx's rules (docs/api-facts.md#proxy-environment-variables), and return a proxied
transport per pattern for the client's ``mounts``, as httpx would. An explicit ``proxy`` wins over the environment;
with neither, the client gets the plain transport alone.

This module must not send, retry or time anything.
"""

from __future__ import annotations

import ipaddress
import ssl
from time import monotonic
from typing import Any, TypeVar
from urllib.request import getproxies

import httpcore
import httpx

from .errors import RequestValidationError

__all__ = ["async_transports", "environment_proxies", "sync_transports"]

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


class _AsyncProxyPool(httpcore.AsyncHTTPProxy):
    _assign_requests_to_connections = _assign


class _SyncProxyPool(httpcore.HTTPProxy):
    _assign_requests_to_connections = _assign


# httpcore's own pool classes and their fixed twins (a SOCKS pool, or anything else, is left as it is).
_FIXED: dict[type, type] = {
    httpcore.AsyncConnectionPool: _AsyncPool,
    httpcore.ConnectionPool: _SyncPool,
    httpcore.AsyncHTTPProxy: _AsyncProxyPool,
    httpcore.HTTPProxy: _SyncProxyPool,
}


def _fix(transport: Any) -> None:
    pool: Any = getattr(transport, "_pool", None)
    fixed = _FIXED.get(type(pool))
    if fixed is not None and all(hasattr(pool, name) for name in _NEEDS) and not getattr(pool, "_http2", True):
        pool.__class__ = fixed


def _is_ip(host: str, kind: type[ipaddress.IPv4Address] | type[ipaddress.IPv6Address]) -> bool:
    try:
        kind(host.split("/")[0])
    except ValueError:
        return False
    return True


def environment_proxies() -> dict[str, str | None]:
    """The proxies an httpx client with ``trust_env=True`` takes from the environment, as ``mounts`` patterns: a
    proxy URL per scheme (``http://``, ``https://``, ``all://``), and ``None`` (go direct) for each ``NO_PROXY``
    entry. Empty when no proxy is set or ``NO_PROXY`` is ``*``. The rules are httpx 0.28's
    (``get_environment_proxies``): a bare ``host:port`` proxy means ``http://host:port``; a ``NO_PROXY`` entry is a
    URL as written, an IP address or ``localhost`` as is, and otherwise a domain that also covers its subdomains
    (``example.com`` → ``all://*example.com``). Loopback is proxied like any host unless ``NO_PROXY`` names it."""
    found = getproxies()  # the *_proxy variables (lower case first) and, on macOS and Windows, the system settings
    proxies: dict[str, str | None] = {}
    for scheme in ("http", "https", "all"):
        url = found.get(scheme)
        if url:
            proxies[f"{scheme}://"] = url if "://" in url else f"http://{url}"
    if not proxies:
        return {}
    for host in (entry.strip() for entry in found.get("no", "").split(",")):
        if host == "*":
            return {}
        if not host:
            continue
        if "://" in host:
            pattern = host
        elif _is_ip(host, ipaddress.IPv4Address) or host.lower() == "localhost":
            pattern = f"all://{host}"
        elif _is_ip(host, ipaddress.IPv6Address):
            pattern = f"all://[{host}]"
        else:
            pattern = f"all://*{host}"
        try:
            httpx.URL(pattern)  # what httpx's mount matcher parses, refused here rather than by httpx.Client
        except httpx.InvalidURL as exc:
            raise RequestValidationError(
                f"The NO_PROXY environment variable has an entry httpx cannot read ({exc}).",
                param="NO_PROXY",
                fix="write each entry as a host, a domain, an IP address or a URL such as http://host:8080",
            ) from None
        proxies[pattern] = None
    return proxies


_Transport = TypeVar("_Transport", httpx.HTTPTransport, httpx.AsyncHTTPTransport)


def _transport(
    kind: type[_Transport], limits: httpx.Limits, verify: ssl.SSLContext, proxy: str | httpx.Proxy | None, name: str
) -> _Transport:
    try:
        transport = kind(verify=verify, limits=limits, proxy=proxy)
    except (ValueError, ImportError, httpx.InvalidURL) as exc:  # e.g. an unknown scheme, or SOCKS without socksio
        # Only the scheme is quoted: a proxy URL can carry a user name and password.
        url = str(proxy.url) if isinstance(proxy, httpx.Proxy) else str(proxy)
        scheme = url.partition("://")[0] if "://" in url else "no"
        why = "the socksio package is not installed" if isinstance(exc, ImportError) else "httpx cannot use it"
        where = "The proxy argument" if name == "proxy" else f"The {name} environment variable"
        raise RequestValidationError(
            f"{where} gives a proxy URL with {scheme} scheme, and {why}.",
            param=name,
            fix="use an http://, https:// or (with httpx[socks] installed) socks5:// proxy URL",
        ) from None
    _fix(transport)
    return transport


def _transports(
    kind: type[_Transport], limits: httpx.Limits, verify: ssl.SSLContext, proxy: str | httpx.Proxy | None
) -> tuple[_Transport, dict[str, _Transport | None]]:
    """The client's transport and its ``mounts``: through ``proxy`` when given, else the plain transport plus a
    proxied one for each proxy the environment sets (``None`` where ``NO_PROXY`` sends a host direct)."""
    transport = _transport(kind, limits, verify, proxy, "proxy")
    if proxy is not None:
        return transport, {}
    mounts: dict[str, _Transport | None] = {}
    for pattern, url in environment_proxies().items():
        if url is None:
            mounts[pattern] = None
        else:  # pattern is "http://", "https://" or "all://"
            mounts[pattern] = _transport(kind, limits, verify, url, f"{pattern[:-3].upper()}_PROXY")
    return transport, mounts


def async_transports(
    limits: httpx.Limits, verify: ssl.SSLContext, proxy: str | httpx.Proxy | None = None
) -> tuple[httpx.AsyncHTTPTransport, dict[str, httpx.AsyncHTTPTransport | None]]:
    return _transports(httpx.AsyncHTTPTransport, limits, verify, proxy)


def sync_transports(
    limits: httpx.Limits, verify: ssl.SSLContext, proxy: str | httpx.Proxy | None = None
) -> tuple[httpx.HTTPTransport, dict[str, httpx.HTTPTransport | None]]:
    return _transports(httpx.HTTPTransport, limits, verify, proxy)
