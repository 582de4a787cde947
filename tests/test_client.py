"""Client construction, connection handling and the import boundary."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest

from cerebras_adapters import AsyncCerebrasClient, CerebrasClient, RequestValidationError
from tests.wire import completion

USER = [{"role": "user", "content": "hi"}]


def test_importing_the_core_imports_no_framework():
    code = (
        "import sys, cerebras_adapters\n"
        "print([m for m in ('langchain_core', 'litellm', 'llama_index', 'redis') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_base_url_keeps_the_version_path_and_trailing_slash_is_tolerated(api):
    api.create(lambda r: httpx.Response(200, json=completion()), {"base_url": "http://127.0.0.1:9/v1/"},
               model="gpt-oss-120b", messages=USER)
    assert str(api.requests[0].url) == "http://127.0.0.1:9/v1/chat/completions"


def test_base_url_from_environment(api, monkeypatch):
    monkeypatch.setenv("CEREBRAS_BASE_URL", "http://127.0.0.1:9/v1")
    api.create(lambda r: httpx.Response(200, json=completion()), model="gpt-oss-120b", messages=USER)
    assert api.requests[0].url.host == "127.0.0.1"


def test_default_headers_are_sent_and_can_override(api):
    api.create(lambda r: httpx.Response(200, json=completion()),
               {"default_headers": {"X-Team": "search", "X-Cerebras-3rd-Party-Integration": "my-app"}},
               model="gpt-oss-120b", messages=USER)
    headers = api.requests[0].headers
    assert headers["x-team"] == "search"
    assert headers["x-cerebras-3rd-party-integration"] == "my-app"


def test_per_call_timeout_reaches_the_request(api):
    api.create(lambda r: httpx.Response(200, json=completion()), model="gpt-oss-120b", messages=USER, timeout=7.5)
    assert api.requests[0].extensions["timeout"]["read"] == 7.5


def test_client_default_timeout_is_60s_read_5s_connect(api):
    api.create(lambda r: httpx.Response(200, json=completion()), model="gpt-oss-120b", messages=USER)
    timeout = api.requests[0].extensions["timeout"]
    assert (timeout["read"], timeout["connect"]) == (60.0, 5.0)


def test_negative_max_retries_is_refused():
    with pytest.raises(RequestValidationError) as info:
        CerebrasClient(api_key="k", max_retries=-1)
    assert info.value.param == "max_retries"


def test_unknown_route_is_refused():
    with pytest.raises(RequestValidationError) as info:
        CerebrasClient(api_key="k", route="groq")
    assert info.value.param == "route"


def test_warm_up_calls_tcp_warming_and_never_raises():
    seen = []

    def handler(request):
        seen.append(request.url.path)
        return httpx.Response(200, json={})

    with CerebrasClient(api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(handler))) as client:
        assert client.warm_up() is True
    assert seen == ["/v1/tcp_warming"]

    def refuse(request):
        raise httpx.ConnectError("refused")

    with CerebrasClient(api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(refuse))) as client:
        assert client.warm_up() is False


def test_async_warm_up_runs_as_a_task_without_blocking_the_loop():
    seen = []

    async def handler(request):
        seen.append(request.url.path)
        return httpx.Response(200, json={})

    async def main():
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        client = AsyncCerebrasClient(api_key="k", http_client=http, warm_up=True)
        assert client._warm_task is not None
        assert seen == []  # scheduled, not run inside the constructor
        assert await client._warm_task is True
        await client.close()

    asyncio.run(main())
    assert seen == ["/v1/tcp_warming"]


def test_an_owned_http_client_is_closed_and_a_given_one_is_not():
    given = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=completion())))
    with CerebrasClient(api_key="k", http_client=given):
        pass
    assert not given.is_closed
    owned = CerebrasClient(api_key="k")
    owned.close()
    assert owned._http.is_closed


def test_every_public_name_resolves_lazily_and_the_plugin_import_stays_light():
    code = (
        "import sys, cerebras_adapters as ca\n"
        "light = 'httpx' not in sys.modules and 'pydantic' not in sys.modules\n"
        "errors_first = ca.errors.RateLimitError is ca.RateLimitError\n"
        "missing = [n for n in ca.__all__ if getattr(ca, n, None) is None]\n"
        "print(light, errors_first, missing)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True True []"
