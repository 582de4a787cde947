"""A record of every name lookup or connection to a host that is not loopback.

pytest-socket blocks such connections, but a library that swallows the error (a telemetry sender, a tokenizer
download that falls back) would still pass a test; this records the attempt so the test can assert there was none.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest


def _is_loopback(host: object) -> bool:
    if host in ("localhost", None):
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


def record_outside(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Start recording (until ``monkeypatch`` undoes it); returns the list the attempts are appended to."""
    seen: list[str] = []
    lookup, connect = socket.getaddrinfo, socket.socket.connect

    def probing_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            seen.append(f"lookup {host}")
        return lookup(host, *args, **kwargs)

    def probing_connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            seen.append(f"connect {address[0]}")
        return connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", probing_lookup)
    monkeypatch.setattr(socket.socket, "connect", probing_connect)
    return seen
