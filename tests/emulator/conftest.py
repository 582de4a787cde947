"""Fixtures for the emulator tests: plain httpx clients (never the project's client) over loopback.

The httpx clients are created once per session (building one costs ~20 ms of TLS set-up even for plain HTTP);
the ``cerebras_emulator`` fixture they depend on resets the emulator before every test.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.emulator._helpers import KEY


@pytest.fixture(scope="session")
def _http(cerebras_emulator_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cerebras_emulator_server.url, timeout=10) as http:
        yield http


@pytest.fixture
def bare(cerebras_emulator, _http) -> httpx.Client:
    """httpx against the emulator's origin, without an API key."""
    return _http


class _Routed:
    """A thin wrapper that prefixes a route and adds the Bearer key to every call."""

    def __init__(self, http: httpx.Client, prefix: str) -> None:
        self.http = http
        self.prefix = prefix

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {KEY}", **kwargs.pop("headers", {})}
        return self.http.request(method, self.prefix + path, headers=headers, **kwargs)

    def post(self, path: str, **kwargs) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def stream(self, method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {KEY}", **kwargs.pop("headers", {})}
        return self.http.stream(method, self.prefix + path, headers=headers, **kwargs)


@pytest.fixture
def client(cerebras_emulator, _http) -> _Routed:
    """Plain httpx against the emulator's Cerebras routes (``/v1``)."""
    return _Routed(_http, "/v1")


@pytest.fixture
def openrouter(cerebras_emulator, _http) -> _Routed:
    """Plain httpx against the emulator's OpenRouter routes (``/api/v1``)."""
    return _Routed(_http, "/api/v1")
