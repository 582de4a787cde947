"""Shared harness of the LiteLLM provider tests: the provider registered once, calls against the emulator.

``LITELLM_LOCAL_MODEL_COST_MAP`` is set before anything imports litellm: otherwise its import fetches the
price map from GitHub (litellm.md §1.5), which is slow offline and blocked by pytest-socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

litellm = pytest.importorskip("litellm")

from cerebras_adapters.litellm import CerebrasLLM, register  # noqa: E402
from cerebras_adapters.litellm.router import router_from_yaml  # noqa: E402
from cerebras_adapters.testing import EmulatorServer  # noqa: E402

litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" banner on every mapped exception

KEY = "csk-test"
PROVIDER = "cerebras-adapters"
HELLO = [{"role": "user", "content": "hi"}]


_READ_ONLY = r"ignore:Items? .* `ReadOnly` qualifier:UserWarning"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # LiteLLM's TypedDicts use typing.ReadOnly and pydantic warns when it first builds them, sometimes in
    # LiteLLM's logging threads while a test runs: filter for the whole of every test of this directory.
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.filterwarnings(_READ_ONLY))


@pytest.fixture(scope="session", autouse=True)
def provider() -> CerebrasLLM:
    return register()


@pytest.fixture(autouse=True)
def _litellm_globals(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Tests that change LiteLLM's globals do it through monkeypatch; these guard the rest.
    monkeypatch.setattr(litellm, "drop_params", False)
    monkeypatch.setattr(litellm, "callbacks", list(litellm.callbacks))
    yield


class Caller:
    """One way of calling LiteLLM (sync or async); streams are drained to their list of chunks."""

    def __init__(self, mode: str, emulator: EmulatorServer) -> None:
        self.mode = mode
        self.emulator = emulator

    def kwargs(self, model: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        route = kwargs.get("route")
        base = self.emulator.openrouter_base_url if route == "openrouter" else self.emulator.base_url
        out = {"model": f"{PROVIDER}/{model}", "messages": HELLO, "api_base": base, "api_key": KEY}
        out.update(kwargs)
        return out

    def complete(self, model: str = "gpt-oss-120b", **kwargs: Any) -> Any:
        args = self.kwargs(model, kwargs)
        if self.mode == "sync":
            return litellm.completion(**args)
        return asyncio.run(litellm.acompletion(**args))

    def stream(self, model: str = "gpt-oss-120b", **kwargs: Any) -> list[Any]:
        args = self.kwargs(model, {**kwargs, "stream": True})
        if self.mode == "sync":
            return list(litellm.completion(**args))

        async def drain() -> list[Any]:
            return [chunk async for chunk in await litellm.acompletion(**args)]

        return asyncio.run(drain())


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest, cerebras_emulator: EmulatorServer) -> Caller:
    return Caller(request.param, cerebras_emulator)


@pytest.fixture
def sync_call(cerebras_emulator: EmulatorServer) -> Caller:
    return Caller("sync", cerebras_emulator)


def chat_bodies(emulator: EmulatorServer) -> list[dict[str, Any]]:
    """The JSON bodies of the chat requests the emulator received, oldest first."""
    return [r.json() for r in emulator.requests if r.path.endswith("/chat/completions")]


# -- the real LiteLLM proxy (integrations/litellm/proxy.yaml) ---------------------------------------------------

PROXY_YAML = Path(__file__).resolve().parents[2] / "integrations" / "litellm" / "proxy.yaml"
MASTER_KEY = "sk-proxy-test-5f0c2a9e7d3b41c8a6e2"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def proxy_url(cerebras_emulator_server: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real LiteLLM proxy on loopback, started once for the session (test_proxy and test_local_errors)."""
    with running_proxy(PROXY_YAML, cerebras_emulator_server, tmp_path_factory.mktemp("proxy")) as url:
        yield url


@contextlib.contextmanager
def running_proxy(config: Path, emulator: EmulatorServer, workdir: Path) -> Iterator[str]:
    """A real LiteLLM proxy process serving ``config`` on loopback, with the emulator as Cerebras and OpenRouter."""
    port = _free_port()
    log = workdir / "proxy.log"
    env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_MASTER_KEY": MASTER_KEY,
        "CEREBRAS_API_KEY": "csk-test",
        "OPENROUTER_API_KEY": "sk-or-test",
        "CEREBRAS_BASE_URL": emulator.base_url,
        "OPENROUTER_BASE_URL": emulator.openrouter_base_url,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    command = [str(Path(sys.executable).with_name("litellm")), "--config", str(config)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"the proxy exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/health/liveliness", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the proxy did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.25)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


# -- a Router from the recipe (integrations/litellm/router.yaml) -------------------------------------------------

ROUTER_YAML = Path(__file__).resolve().parents[2] / "integrations" / "litellm" / "router.yaml"


@pytest.fixture
def router(cerebras_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[litellm.Router]:
    """The recipe's Router; it reads keys and base URLs from the environment, pointed here at the emulator."""
    monkeypatch.setenv("CEREBRAS_API_KEY", "csk-test")
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test")
    monkeypatch.setenv("CEREBRAS_BASE_URL", cerebras_emulator.base_url)
    monkeypatch.setenv("OPENROUTER_BASE_URL", cerebras_emulator.openrouter_base_url)
    yield router_from_yaml(ROUTER_YAML)
