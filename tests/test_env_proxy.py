"""The core's clients honour the standard proxy environment variables, the way httpx's own clients do.

httpx reads ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` only when it builds its own transport. The
core's clients pass theirs (for the pool fix), so they used to go around a proxy set in the environment, and so did
ChatCerebras and the LiteLLM provider built on them. A real forwarding proxy on loopback (``tests/http_proxy.py``)
records what goes through it; the emulator records what arrives. The rules for ``NO_PROXY`` are checked against
httpx's own reading of the same environment.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cerebras_adapters import AsyncCerebrasClient, CerebrasClient, RequestValidationError
from cerebras_adapters._pool import _AsyncPool, _AsyncProxyPool, _SyncPool, _SyncProxyPool, environment_proxies
from cerebras_adapters.testing import EmulatorServer
from tests.http_proxy import ForwardingProxy

KEY = "test-" + "key"
MODEL = "gpt-oss-120b"
USER = [{"role": "user", "content": "hi"}]
LITELLM_WARNINGS = pytest.mark.filterwarnings(r"ignore:Items? .* `ReadOnly` qualifier:UserWarning")
# urllib reads each *_proxy variable in either case (REQUEST_METHOD makes it ignore HTTP_PROXY, as in CGI).
_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "CEREBRAS_PROXY", "REQUEST_METHOD")


@pytest.fixture(autouse=True)
def _no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def proxy() -> Iterator[ForwardingProxy]:
    with ForwardingProxy() as server:
        yield server


@pytest.fixture
def other_proxy() -> Iterator[ForwardingProxy]:
    with ForwardingProxy() as server:
        yield server


def chat_target(emulator: EmulatorServer) -> str:
    return f"{emulator.base_url}/chat/completions"


def chats(emulator: EmulatorServer) -> int:
    return sum(r.path.endswith("/chat/completions") for r in emulator.requests)


def through(proxy: ForwardingProxy, emulator: EmulatorServer, calls: int = 1) -> bool:
    """Every chat call went through ``proxy`` and reached the emulator."""
    return proxy.forwarded == [("POST", chat_target(emulator))] * calls and chats(emulator) == calls


def sync_call(emulator: EmulatorServer, **kwargs: Any) -> str:
    with CerebrasClient(api_key=KEY, base_url=emulator.base_url, **kwargs) as client:
        return client.chat.completions.create(model=MODEL, messages=USER).choices[0].message.content or ""


# -- the core -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_a_proxy_variable_sends_a_sync_call_through_the_proxy(cerebras_emulator, proxy, monkeypatch, variable):
    monkeypatch.setenv(variable, proxy.url)
    assert sync_call(cerebras_emulator)
    assert through(proxy, cerebras_emulator)


def test_http_proxy_sends_an_async_call_through_the_proxy(cerebras_emulator, proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)

    async def main() -> str:
        async with AsyncCerebrasClient(api_key=KEY, base_url=cerebras_emulator.base_url) as client:
            response = await client.chat.completions.create(model=MODEL, messages=USER)
            return response.choices[0].message.content or ""

    assert asyncio.run(main())
    assert through(proxy, cerebras_emulator)


def test_http_proxy_sends_a_sync_stream_through_the_proxy(cerebras_emulator, proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    with CerebrasClient(api_key=KEY, base_url=cerebras_emulator.base_url) as client:
        chunks = list(client.chat.completions.create(model=MODEL, messages=USER, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert through(proxy, cerebras_emulator)


def test_http_proxy_sends_an_async_stream_through_the_proxy(cerebras_emulator, proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)

    async def main() -> list[Any]:
        async with AsyncCerebrasClient(api_key=KEY, base_url=cerebras_emulator.base_url) as client:
            stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True)
            return [chunk async for chunk in stream]

    chunks = asyncio.run(main())
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert through(proxy, cerebras_emulator)


def test_a_proxy_given_as_host_and_port_is_an_http_proxy(cerebras_emulator, proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy.url.removeprefix("http://"))
    assert sync_call(cerebras_emulator)
    assert through(proxy, cerebras_emulator)


def test_https_proxy_does_not_apply_to_an_http_base_url(cerebras_emulator, proxy, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    assert sync_call(cerebras_emulator)
    assert proxy.forwarded == [] and chats(cerebras_emulator) == 1


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "example.com, 127.0.0.1", "*", "http://127.0.0.1:{port}"])
def test_no_proxy_naming_the_host_sends_the_call_direct(cerebras_emulator, proxy, monkeypatch, no_proxy):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", no_proxy.format(port=httpx.URL(cerebras_emulator.base_url).port))
    assert sync_call(cerebras_emulator)
    assert proxy.forwarded == [] and chats(cerebras_emulator) == 1


@pytest.mark.parametrize("no_proxy", ["localhost", "example.com", "127.0.0.2", "http://127.0.0.1:1"])
def test_no_proxy_naming_other_hosts_keeps_the_proxy(cerebras_emulator, proxy, monkeypatch, no_proxy):
    # As in httpx, "localhost" does not cover 127.0.0.1: loopback addresses are proxied unless NO_PROXY names them.
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    assert sync_call(cerebras_emulator)
    assert through(proxy, cerebras_emulator)


def test_an_explicit_proxy_wins_over_the_environment(cerebras_emulator, proxy, other_proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", other_proxy.url)
    assert sync_call(cerebras_emulator, proxy=proxy.url)
    assert through(proxy, cerebras_emulator)
    assert other_proxy.forwarded == []


ENVIRONMENTS = [
    {"HTTP_PROXY": "http://proxy.corp:3128"},
    {"HTTPS_PROXY": "proxy.corp:3128", "http_proxy": "http://other:8080"},
    {"ALL_PROXY": "socks5://proxy.corp:1080", "HTTPS_PROXY": "https://secure.corp"},
    {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "example.com,.internal.net, 10.0.0.1,::1,LocalHost,http://a.b:8080"},
    {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "192.168.0.0/16,*.corp.example,,"},
    {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "example.com,*"},
    {"NO_PROXY": "example.com"},
    {},
]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_environment_is_read_as_httpx_reads_it(monkeypatch, environment):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    theirs = httpx._utils.get_environment_proxies()
    if not any(theirs.values()):
        theirs = {}  # NO_PROXY alone: httpx mounts only "go direct" patterns, which change nothing
    assert environment_proxies() == theirs


# -- what is built ----------------------------------------------------------------------------------------------


def test_without_proxy_variables_the_client_has_only_its_pooled_transport():
    with CerebrasClient(api_key=KEY) as client:
        assert client._http._mounts == {}
        assert type(client._http._transport._pool) is _SyncPool  # type: ignore[attr-defined]


def test_proxied_transports_get_the_pool_fix(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    with CerebrasClient(api_key=KEY) as client:
        (proxied,) = client._http._mounts.values()
        assert type(proxied._pool) is _SyncProxyPool  # type: ignore[union-attr]
        assert type(client._http._transport._pool) is _SyncPool  # type: ignore[attr-defined]

    async def pools() -> tuple[type, type]:
        async with AsyncCerebrasClient(api_key=KEY) as client:
            (mounted,) = client._http._mounts.values()
            return type(mounted._pool), type(client._http._transport._pool)  # type: ignore[union-attr]

    assert asyncio.run(pools()) == (_AsyncProxyPool, _AsyncPool)


def test_a_burst_of_async_calls_all_go_through_the_proxy(cerebras_emulator, proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)

    async def burst() -> list[Any]:
        async with AsyncCerebrasClient(api_key=KEY, base_url=cerebras_emulator.base_url) as client:
            calls = [client.chat.completions.create(model=MODEL, messages=USER) for _ in range(8)]
            return await asyncio.gather(*calls)

    assert all(r.choices[0].message.content for r in asyncio.run(burst()))
    assert through(proxy, cerebras_emulator, calls=8)


# -- bad values ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("HTTPS_PROXY", "ftp://user:{secret}@proxy.corp:21", "ftp scheme"),
    ("ALL_PROXY", "socks5://user:{secret}@proxy.corp:1080", "socksio"),
])
def test_an_unusable_proxy_variable_is_refused_naming_it(monkeypatch, variable, value, says):
    if says == "socksio" and importlib.util.find_spec("socksio") is not None:
        pytest.skip("socksio is installed: a SOCKS proxy is usable")
    secret = "pass" + "word42"
    monkeypatch.setenv(variable, value.format(secret=secret))
    with pytest.raises(RequestValidationError) as info:
        CerebrasClient(api_key=KEY)
    assert info.value.param == variable
    assert says in str(info.value) and info.value.fix
    assert secret not in str(info.value) and info.value.__cause__ is None


def test_an_unreadable_no_proxy_entry_is_refused_naming_no_proxy(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", "[::1]")
    with pytest.raises(RequestValidationError) as info:
        CerebrasClient(api_key=KEY)
    assert info.value.param == "NO_PROXY" and info.value.fix


def test_an_unusable_proxy_argument_is_refused_naming_proxy():
    with pytest.raises(RequestValidationError) as info:
        CerebrasClient(api_key=KEY, proxy="127.0.0.1:3128")
    assert info.value.param == "proxy"
    assert "no scheme" in str(info.value)


# -- through the frameworks ---------------------------------------------------------------------------------------


@LITELLM_WARNINGS
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_litellm_completion_goes_through_http_proxy(cerebras_emulator, proxy, monkeypatch, mode):
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before LiteLLM is imported
    litellm = pytest.importorskip("litellm")
    from cerebras_adapters.litellm import register

    register()
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    # The provider keeps a client per key and endpoint: a key of its own gets a client built now, with the proxy.
    args = {"model": f"cerebras-adapters/{MODEL}", "messages": USER, "api_base": cerebras_emulator.base_url,
            "api_key": f"{KEY}-{uuid.uuid4().hex}"}
    response = litellm.completion(**args) if mode == "sync" else asyncio.run(litellm.acompletion(**args))
    assert response.choices[0].message.content
    assert through(proxy, cerebras_emulator)


def test_chat_cerebras_invoke_goes_through_http_proxy(cerebras_emulator, proxy, monkeypatch):
    from cerebras_adapters.langchain import ChatCerebras

    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    model = ChatCerebras(model=MODEL, api_key=KEY, base_url=cerebras_emulator.base_url)
    assert model.invoke("hi").content
    assert through(proxy, cerebras_emulator)


def test_chat_cerebras_proxy_wins_over_http_proxy(cerebras_emulator, proxy, other_proxy, monkeypatch):
    from cerebras_adapters.langchain import ChatCerebras

    monkeypatch.setenv("HTTP_PROXY", other_proxy.url)
    monkeypatch.setenv("CEREBRAS_PROXY", proxy.url)
    model = ChatCerebras(model=MODEL, api_key=KEY, base_url=cerebras_emulator.base_url)
    assert model.invoke("hi").content
    assert through(proxy, cerebras_emulator)
    assert other_proxy.forwarded == []
