"""pytest plugin: a Cerebras API emulator for your tests, as the ``cerebras_emulator`` fixture.

Installed with ``cerebras-adapters`` (registered through the ``pytest11`` entry point), so any project that
installs the package can write::

    import httpx

    def test_my_app_answers(cerebras_emulator):
        # Point your code at the emulator instead of https://api.cerebras.ai/v1
        reply = my_app.ask("What is 2+2?", base_url=cerebras_emulator.base_url, api_key="csk-test")
        assert reply == "4"

    def test_my_app_retries_on_503(cerebras_emulator):
        cerebras_emulator.fail_next(2, "503")          # the next two chat requests fail
        assert my_app.ask("hi", base_url=cerebras_emulator.base_url, api_key="csk-test")

    @pytest.mark.cerebras_emulator(tokens_per_second=3000, send_done=True)
    def test_streaming_feels_real(cerebras_emulator): ...

The fixture yields an ``EmulatorServer`` (``cerebras_adapters.testing.server``):

* ``.base_url`` — ``http://127.0.0.1:PORT/v1`` (Cerebras routes); ``.openrouter_base_url`` —
  ``http://127.0.0.1:PORT/api/v1`` (OpenRouter mode); ``.url`` — the bare origin;
* ``.configure(**options)`` — change emulator options for this test (``EmulatorOptions`` fields, e.g.
  ``tokens_per_second``, ``scenarios``, ``api_keys``, ``faults``, ``send_done``, ``tokens_per_minute``,
  ``openrouter_unpinned_provider``); the ``@pytest.mark.cerebras_emulator(**options)`` marker does the same
  (the closest marker wins);
* ``.fail_next(n, fault)`` — fail the next ``n`` chat requests (fault specs: ``"429"``, ``"429-tokens=1"``,
  ``"500"``, ``"503-envelope"``, ``"drop-mid-stream"``, ``"malformed-chunk"``, ``"mid-stream-error"``,
  ``"slow-first-token=200ms"``; a single request can also send the ``x-emulator-fault`` header);
* ``.requests`` / ``.last_request`` — what the emulator received (method, path, headers, ``.json()``).
* quotas per API key and model: ``configure(rate_limits={"requests_per_minute": 5, "tokens_per_minute": 30000,
  "tokens_per_hour": 1000000, "time_scale": 20, "models": {"gpt-oss-120b": {...}}})`` or one field at a time
  (``tokens_per_hour=...``, ``time_scale=...``); ``GET {url}/_emulator/stats`` counts what each key and model was
  served and refused (``cerebras_adapters.testing._ratelimit``).

Any non-empty Bearer key is accepted unless it contains "invalid" or "wrong" (then: the real 401), unless
``api_keys`` is configured. One server runs per test session (started on first use, ~ms) and is reset —
options, faults, rate limits, prompt cache, request log — before and after every test.

This module imports only pytest at import time: it is loaded into every pytest run of anyone who installs
the package, so the emulator itself is imported when the fixture is first used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .server import EmulatorServer

__all__ = ["cerebras_emulator", "cerebras_emulator_server"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "cerebras_emulator(**options): emulator options for the cerebras_emulator fixture"
    )


@pytest.fixture(scope="session")
def cerebras_emulator_server() -> Iterator[EmulatorServer]:
    """The session's emulator server (prefer ``cerebras_emulator``, which resets it around each test)."""
    from .server import EmulatorServer

    server = EmulatorServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cerebras_emulator(
    cerebras_emulator_server: EmulatorServer, request: pytest.FixtureRequest
) -> Iterator[EmulatorServer]:
    """A running Cerebras API emulator, reset for this test and configured by its markers."""
    server = cerebras_emulator_server
    server.reset()
    for marker in reversed(list(request.node.iter_markers("cerebras_emulator"))):
        server.configure(**marker.kwargs)
    try:
        yield server
    finally:
        server.reset()
