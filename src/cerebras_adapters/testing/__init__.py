"""Testing support: a contract emulator of the Cerebras API (and OpenRouter pinned to Cerebras).

* ``create_app(**options)`` — the emulator as an ASGI app (``cerebras_adapters.testing.emulator``);
* ``EmulatorServer(**options)`` — the same over loopback HTTP on a background thread, a context manager
  (``cerebras_adapters.testing.server``);
* the ``cerebras_emulator`` pytest fixture (``cerebras_adapters.testing.pytest_plugin``, registered
  automatically);
* ``cerebras-adapters emulator --port 8089`` — the same from a shell.

The emulator is written from the API reference and is independent of the client: nothing here imports the
client's modules. Names are loaded lazily so that importing this package (as the pytest plugin does) stays
cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._ratelimit import RateLimitConfig
    from .emulator import EmulatorApp, EmulatorOptions, RecordedRequest, create_app
    from .scenarios import Scenario, load_scenarios
    from .server import EmulatorServer

__all__ = [
    "EmulatorApp",
    "EmulatorOptions",
    "EmulatorServer",
    "RateLimitConfig",
    "RecordedRequest",
    "Scenario",
    "create_app",
    "load_scenarios",
]

_WHERE = {
    "EmulatorApp": ".emulator",
    "EmulatorOptions": ".emulator",
    "RecordedRequest": ".emulator",
    "create_app": ".emulator",
    "RateLimitConfig": "._ratelimit",
    "Scenario": ".scenarios",
    "load_scenarios": ".scenarios",
    "EmulatorServer": ".server",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
