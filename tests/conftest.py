"""Shared test harness: the same test drives the sync and the async client (``api`` fixture).

``Api`` runs the client under test against an ``httpx.MockTransport`` handler (or a loopback server's base
URL). For the async flavour each call runs in its own event loop via ``asyncio.run``, so a plain test
function covers both clients with identical assertions.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest

from cerebras_adapters import AsyncCerebrasClient, CerebrasClient, ChatCompletion, accumulate

# Tests never read real keys from the environment.
for _var in (
    "CEREBRAS_API_KEY",
    "OPENROUTER_API_KEY",
    "CEREBRAS_BASE_URL",
    "OPENROUTER_BASE_URL",
    "CEREBRAS_API_BASE",
    "OPENROUTER_API_BASE",
    "CEREBRAS_PROXY",
):
    os.environ.pop(_var, None)
# The clients honour HTTP(S)_PROXY as httpx does (docs/security.md#proxies); a machine with a proxy set must still
# reach the emulator and the loopback test servers directly (the lower-case name wins where both are set).
for _var in ("NO_PROXY", "no_proxy"):
    os.environ[_var] = ",".join(filter(None, [os.environ.get(_var, ""), "127.0.0.1,localhost,::1"]))

Handler = Callable[[httpx.Request], httpx.Response]


class ChunkedBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body delivered in the given pieces, optionally failing after them (a dropped
    connection)."""

    def __init__(self, pieces: Iterable[bytes], fail_with: Exception | None = None) -> None:
        self.pieces = list(pieces)
        self.fail_with = fail_with

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces
        if self.fail_with is not None:
            raise self.fail_with

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece
        if self.fail_with is not None:
            raise self.fail_with


class Api:
    """Drives the sync or the async client with one interface."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.requests: list[httpx.Request] = []

    def _transport(self, handler: Handler) -> httpx.MockTransport:
        def record(request: httpx.Request) -> httpx.Response:
            request.read()
            self.requests.append(request)
            return handler(request)

        return httpx.MockTransport(record)

    def client_kwargs(self, handler: Handler | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs.setdefault("api_key", "test-key")
        if handler is not None:
            http_cls = httpx.Client if self.mode == "sync" else httpx.AsyncClient
            kwargs["http_client"] = http_cls(transport=self._transport(handler))
        return kwargs

    def run(self, handler: Handler | None, call: str, client_kwargs: dict[str, Any] | None = None,
            **kwargs: Any) -> Any:
        """Run ``call`` ("create", "stream", "models") and return its result (a stream is drained to
        ``(chunks, final_completion)``)."""
        ck = self.client_kwargs(handler, dict(client_kwargs or {}))
        if self.mode == "sync":
            with CerebrasClient(**ck) as client:
                if call == "create":
                    return client.chat.completions.create(**kwargs)
                if call == "stream":
                    stream = client.chat.completions.create(stream=True, **kwargs)
                    chunks = list(stream)
                    return chunks, stream.get_final_completion()
                if call == "models":
                    return client.models.list(**kwargs)
                raise AssertionError(call)

        async def main() -> Any:
            async with AsyncCerebrasClient(**ck) as client:
                if call == "create":
                    return await client.chat.completions.create(**kwargs)
                if call == "stream":
                    stream = await client.chat.completions.create(stream=True, **kwargs)
                    chunks = [c async for c in stream]
                    return chunks, await stream.get_final_completion()
                if call == "models":
                    return await client.models.list(**kwargs)
                raise AssertionError(call)

        return asyncio.run(main())

    def create(self, handler: Handler | None, client_kwargs: dict[str, Any] | None = None,
               **kwargs: Any) -> ChatCompletion:
        result: ChatCompletion = self.run(handler, "create", client_kwargs, **kwargs)
        return result

    def stream(self, handler: Handler | None, client_kwargs: dict[str, Any] | None = None,
               **kwargs: Any) -> tuple[list[Any], ChatCompletion]:
        chunks, final = self.run(handler, "stream", client_kwargs, **kwargs)
        assert accumulate(chunks).model_dump() == final.model_dump()
        return chunks, final


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> Api:
    return Api(request.param)


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record retry delays instead of sleeping them (the delays are what the retry tests assert)."""
    slept: list[float] = []

    def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    async def fake_async_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr("cerebras_adapters._client.time.sleep", fake_sleep)
    monkeypatch.setattr("cerebras_adapters._client.asyncio.sleep", fake_async_sleep)
    return slept


# -- cassettes (see tests/recording.py) ----------------------------------------------------------------------

from tests import recording  # noqa: E402


@pytest.fixture(scope="session")
def recording_emulator(record_mode: str) -> Iterator[str | None]:
    """The emulator cassettes are recorded against when no key is set (only started while recording)."""
    if not recording.is_recording(record_mode) or all(recording.LIVE_KEYS.values()):
        yield None
        return
    from cerebras_adapters.testing import EmulatorServer

    with EmulatorServer() as server:
        yield server.url


# optionalhook: the CrewAI environment (.venv-crewai) runs tests/realclients without pytest-recording.
@pytest.hookimpl(optionalhook=True)
def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_matcher("json_body", recording.json_body_matcher)


@pytest.fixture
def vcr_config(recording_emulator: str | None) -> dict[str, Any]:
    return recording.make_vcr_config(recording_emulator)


def _route_of(request: pytest.FixtureRequest) -> str:
    callspec = getattr(request.node, "callspec", None)
    route = callspec.params.get("target") if callspec is not None else None
    return route if route in recording.CANONICAL else "cerebras"


@pytest.fixture
def vcr_cassette_dir(request: pytest.FixtureRequest, record_mode: str, default_cassette_name: str) -> str:
    module = request.node.module.__name__.removeprefix("tests.")  # e.g. langchain.integration_tests.test_standard
    where = recording.provenance(_route_of(request), record_mode, module, default_cassette_name)
    return str(recording.CASSETTES / where / module)


@pytest.fixture
def target(request: pytest.FixtureRequest, record_mode: str, recording_emulator: str | None) -> recording.Target:
    """Where a cassette-backed test sends requests: parametrize indirectly with "cerebras" / "openrouter"."""
    route = getattr(request, "param", "cerebras")
    if recording.is_recording(record_mode):
        key = recording.LIVE_KEYS[route]
        if key:
            return recording.Target(route, recording.CANONICAL[route], key, "live")
        assert recording_emulator is not None
        base = f"{recording_emulator}/api/v1" if route == "openrouter" else f"{recording_emulator}/v1"
        return recording.Target(route, base, "csk-test", "emulator")
    return recording.Target(route, recording.CANONICAL[route], recording.DUMMY_KEY, "replay")


# -- a real redis-server (see tests/redis_server.py) ----------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_process() -> Iterator[Any]:
    """The session's redis-server on a loopback port (``tests.redis_server.RedisServer``): ``.url``,
    ``.stopped(kill=False)``, ``.restart()``. Fails, never skips, where redis-server is not installed."""
    from tests.redis_server import RedisServer, RedisUnavailable

    server = RedisServer()
    try:
        server.start()
    except RedisUnavailable as exc:
        server.close()
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def redis_server(redis_process: Any) -> str:
    """``redis://127.0.0.1:PORT/0`` of the session's redis-server."""
    url: str = redis_process.url
    return url


# -- timing diagnostics for the quota tests -------------------------------------------------------------------------


class ClockWatch:
    """What the machine's clocks did during a test, for the failure message of a test whose margins are a few ms of
    refill (the governor's quota tests): how far the wall clock (the governor's) moved against the monotonic clock
    (the emulator's), and the longest stall a thread sampling every 10 ms saw. Neither is asserted; a flaky 429 in
    those tests is undiagnosable without them (the shared CI machine's clock and scheduling are not ours)."""

    def __init__(self) -> None:
        import threading
        import time

        self._time = time
        self._offset = time.time() - time.monotonic()
        self._longest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="clock-watch", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        last = self._time.monotonic()
        while not self._stop.wait(0.01):
            now = self._time.monotonic()
            self._longest = max(self._longest, now - last - 0.01)
            last = now

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def __str__(self) -> str:
        shift = (self._time.time() - self._time.monotonic() - self._offset) * 1000
        stall = self._longest * 1000
        return f"wall clock moved {shift:+.2f} ms against the monotonic clock; longest stall {stall:.0f} ms"


@pytest.fixture
def clock_watch() -> Iterator[ClockWatch]:
    watch = ClockWatch()
    yield watch
    watch.close()
