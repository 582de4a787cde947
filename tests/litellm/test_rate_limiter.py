"""The provider's ``rate_limiter``: a ``RateLimitGovernor`` per call, or a setting in a deployment's
``litellm_params`` (a proxy's ``config.yaml``) that names one governor per process, paces ``completion``,
``acompletion`` and the Router against the emulator's token quota so it sends no 429, where the same concurrent
workload without it draws 429s. Two real LiteLLM proxy processes naming one Redis share one budget.

The emulator enforces its quota on its own (cerebras_adapters.testing) and counts the 429s it sent
(``GET /_emulator/stats``); calls run with ``max_retries=0``, so a 429 would also reach the caller. Windows are
scaled: the emulator's and the governors' "minute" lasts one second.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import litellm
import openai
import pytest
import yaml

from cerebras_adapters.governor import RateLimitGovernor, RedisBackend, key_digest
from cerebras_adapters.litellm._rate_limiter import governor_for
from cerebras_adapters.testing import EmulatorServer

from .conftest import MASTER_KEY, PROVIDER, running_proxy

MODEL = "gpt-oss-120b"
SCALE = 60.0  # a "minute" lasts 1 s
TPM = 4000  # 4 000 tokens per real second
CALLS = 12
REPLY_TOKENS = 800  # reserved (max_completion_tokens) and used: 12 calls need ~2.5 windows of tokens
REPLY = {"x-emulator-reply-tokens": str(REPLY_TOKENS)}


def _key() -> str:
    """A key of its own per test: the emulator and the process's cached governors meter per key."""
    return "csk-" + uuid.uuid4().hex  # assembled: no secret-shaped literal in tracked files


@pytest.fixture
def quota(cerebras_emulator: EmulatorServer) -> EmulatorServer:
    cerebras_emulator.configure(tokens_per_minute=TPM, requests_per_day=None, time_scale=SCALE, tokens_per_second=40000)
    return cerebras_emulator


def _served(emulator: EmulatorServer, key: str) -> dict[str, Any]:
    quotas = httpx.get(f"{emulator.url}/_emulator/stats").json()["quotas"]
    return next(q for q in quotas if q["model"] == MODEL and q["key"] == key_digest(key))


def _args(emulator: EmulatorServer, key: str, i: int, **kwargs: Any) -> dict[str, Any]:
    return {
        "model": f"{PROVIDER}/{MODEL}",
        "messages": [{"role": "user", "content": f"question {i}"}],
        "api_base": emulator.base_url,
        "api_key": key,
        "max_retries": 0,
        "max_completion_tokens": REPLY_TOKENS,
        "extra_headers": REPLY,
        **kwargs,
    }


def _text(response: Any) -> str:
    if isinstance(response, litellm.ModelResponse):
        return str(response.choices[0].message.content)
    return "".join(chunk.choices[0].delta.content or "" for chunk in response if chunk.choices)


async def _atext(response: Any) -> str:
    if isinstance(response, litellm.ModelResponse):
        return str(response.choices[0].message.content)
    return "".join([chunk.choices[0].delta.content or "" async for chunk in response if chunk.choices])


def _threads(one: Any) -> list[Any]:
    def guarded(i: int) -> Any:
        try:
            return one(i)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(CALLS) as pool:
        return list(pool.map(guarded, range(CALLS)))


def _tasks(one: Any) -> list[Any]:
    async def guarded(i: int) -> Any:
        try:
            return await one(i)
        except Exception as exc:
            return exc

    async def run() -> list[Any]:
        return list(await asyncio.gather(*(guarded(i) for i in range(CALLS))))

    return asyncio.run(run())


def _assert_all_answered(results: list[Any]) -> None:
    assert [r for r in results if not isinstance(r, str)] == []
    assert all(results)


# -- per call ----------------------------------------------------------------------------------------------------


def test_without_a_governor_the_concurrent_workload_draws_429s(quota: EmulatorServer) -> None:
    key = _key()

    async def one(i: int) -> str:
        return await _atext(await litellm.acompletion(**_args(quota, key, i)))

    results = _tasks(one)

    assert _served(quota, key)["rate_limited"] > 0
    assert any(isinstance(r, litellm.RateLimitError) for r in results)


@pytest.mark.parametrize("stream", [False, True], ids=["completion", "stream"])
def test_completion_calls_sharing_a_governor_draw_no_429(quota: EmulatorServer, stream: bool) -> None:
    key, governor = _key(), RateLimitGovernor(time_scale=SCALE)

    results = _threads(
        lambda i: _text(litellm.completion(**_args(quota, key, i, stream=stream, rate_limiter=governor)))
    )

    _assert_all_answered(results)
    assert _served(quota, key)["rate_limited"] == 0
    assert governor.stats.reservations == CALLS and governor.stats.waits > 0


@pytest.mark.parametrize("stream", [False, True], ids=["acompletion", "astream"])
def test_acompletion_calls_sharing_a_governor_draw_no_429(quota: EmulatorServer, stream: bool) -> None:
    key, governor = _key(), RateLimitGovernor(time_scale=SCALE)

    async def one(i: int) -> str:
        return await _atext(await litellm.acompletion(**_args(quota, key, i, stream=stream, rate_limiter=governor)))

    results = _tasks(one)

    _assert_all_answered(results)
    assert _served(quota, key)["rate_limited"] == 0
    assert governor.stats.reservations == CALLS and governor.stats.waits > 0


# -- a deployment's setting --------------------------------------------------------------------------------------


def _router(emulator: EmulatorServer, key: str, setting: Any, names: tuple[str, ...] = ("fast",)) -> litellm.Router:
    params = {
        "model": f"{PROVIDER}/{MODEL}",
        "api_base": emulator.base_url,
        "api_key": key,
        "max_completion_tokens": REPLY_TOKENS,
        "extra_headers": REPLY,
        "rate_limiter": setting,
    }
    return litellm.Router(model_list=[{"model_name": n, "litellm_params": dict(params)} for n in names], num_retries=0)


def test_router_deployments_naming_one_setting_share_one_governor_and_draw_no_429(quota: EmulatorServer) -> None:
    key = _key()
    setting = {"time_scale": SCALE, "fail_open": True}  # in-process, as a config.yaml would say it
    router = _router(quota, key, setting, names=("fast", "also-fast"))
    governor = governor_for(setting)  # the process's governor for this setting (other tests may have used it)
    before = governor.stats.reservations

    async def one(i: int) -> str:
        name = ("fast", "also-fast")[i % 2]
        stream = i % 3 == 0
        response = await router.acompletion(model=name, messages=[{"role": "user", "content": f"q {i}"}], stream=stream)
        return await _atext(response)

    results = _tasks(one)

    _assert_all_answered(results)
    assert _served(quota, key)["rate_limited"] == 0
    assert governor.stats.reservations - before == CALLS  # both deployments' calls went through it
    assert governor.view(key, MODEL).limits  # it learned the quota from the emulator's headers
    assert governor is governor_for({"fail_open": True, "time_scale": SCALE})


def test_a_router_without_the_setting_draws_429s_on_the_same_workload(quota: EmulatorServer) -> None:
    key = _key()
    router = _router(quota, key, None)

    async def one(i: int) -> str:
        return await _atext(await router.acompletion(model="fast", messages=[{"role": "user", "content": f"q {i}"}]))

    results = _tasks(one)

    assert _served(quota, key)["rate_limited"] > 0
    assert any(isinstance(r, litellm.RateLimitError) for r in results)


def test_the_setting_forms_name_one_governor_per_distinct_setting() -> None:
    url = "redis://127.0.0.1:6399/0"  # not connected to until a request is reserved
    in_process = governor_for("in-process")

    assert in_process is governor_for({}) is governor_for({"fail_open": True})
    assert governor_for(url) is governor_for({"redis_url": url, "fail_open": "true"})
    assert governor_for(url) is not governor_for({"redis_url": url, "fail_open": False})
    assert governor_for(url) is not in_process
    assert governor_for(None) is None
    governor = RateLimitGovernor()
    assert governor_for(governor) is governor


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("memcached://127.0.0.1:11211", "rate_limiter.redis_url"),
        ({"redis_url": "redis://127.0.0.1:6399/0", "failopen": True}, "failopen"),
        ({"fail_open": "sometimes"}, "rate_limiter.fail_open"),
        ({"time_scale": 0}, "rate_limiter.time_scale"),
        ({"prefix": "myapp"}, "rate_limiter.prefix"),
        ({"redis_url": None}, "rate_limiter.redis_url is empty"),  # an os.environ/ variable not set
        ({"redis_url": "os.environ/REDIS_URL"}, "rate_limiter.redis_url"),  # not resolved by a Python Router
        (5, "rate_limiter must be"),
    ],
)
def test_a_bad_setting_is_refused_naming_rate_limiter(quota: EmulatorServer, setting: Any, named: str) -> None:
    with pytest.raises(litellm.BadRequestError) as caught:
        litellm.completion(**_args(quota, _key(), 0, rate_limiter=setting))

    assert named in str(caught.value)
    assert getattr(caught.value, "param", None) == "rate_limiter"
    assert list(quota.requests) == []  # refused before anything was sent


# -- two real proxy replicas on one Redis -------------------------------------------------------------------------

PROXY_KEY = "csk-" + "replica0fleet0key"  # assembled: no secret-shaped literal in tracked files
UNGOVERNED_KEY = "csk-" + "replica0ungoverned0key"
PROXY_CALLS = 24
PREFIX = f"replicas:{uuid.uuid4().hex[:8]}"  # the replicas' keys in the session's Redis


def _replica_config(path: Path, prefix: str) -> Path:
    """The sample integrations/litellm/proxy_replicas.yaml, pointed at the test's Redis and the scaled emulator,
    plus an ungoverned deployment of the same workload."""
    sample = Path(__file__).resolve().parents[2] / "integrations" / "litellm" / "proxy_replicas.yaml"
    config = yaml.safe_load(sample.read_text())
    (governed,) = [m for m in config["model_list"] if m["model_name"] == MODEL]
    params = governed["litellm_params"]
    params["api_key"] = PROXY_KEY
    # The sample's redis_url stays os.environ/REDIS_URL (the proxy resolves it); the emulator's minute is scaled.
    params["rate_limiter"] = {**params["rate_limiter"], "prefix": prefix, "time_scale": SCALE}
    params["extra_headers"] = REPLY
    ungoverned = {k: v for k, v in params.items() if k != "rate_limiter"}
    config["model_list"].append(
        {"model_name": "ungoverned", "litellm_params": {**ungoverned, "api_key": UNGOVERNED_KEY}}
    )
    config.setdefault("router_settings", {})["num_retries"] = 0  # a 429 would reach the client
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def replicas(
    cerebras_emulator_server: EmulatorServer, redis_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    """Two LiteLLM proxy processes on one config.yaml whose deployment names one Redis."""
    workdir = tmp_path_factory.mktemp("replicas")
    config = _replica_config(workdir / "config.yaml", PREFIX)
    with pytest.MonkeyPatch.context() as env, contextlib.ExitStack() as stack:
        env.setenv("REDIS_URL", redis_server)  # the proxies' environment is this one's
        urls = []
        for name in ("a", "b"):
            (workdir / name).mkdir()
            urls.append(stack.enter_context(running_proxy(config, cerebras_emulator_server, workdir / name)))
        yield urls


def _drive(urls: list[str], model: str) -> list[Any]:
    """``PROXY_CALLS`` concurrent requests with the openai client, alternating between the replicas."""
    clients = [openai.OpenAI(base_url=f"{url}/v1", api_key=MASTER_KEY, max_retries=0) for url in urls]

    def one(i: int) -> Any:
        try:
            answer = clients[i % len(clients)].chat.completions.create(
                model=model,
                messages=[{"role": "user", "content": f"question {i}"}],
                max_completion_tokens=REPLY_TOKENS,
            )
            return answer.choices[0].message.content
        except openai.APIError as exc:
            return exc

    with ThreadPoolExecutor(PROXY_CALLS) as pool:
        results = list(pool.map(one, range(PROXY_CALLS)))
    for client in clients:
        client.close()
    return results


def test_two_proxy_replicas_on_one_redis_share_the_quota_with_no_429(
    replicas: list[str], quota: EmulatorServer, redis_server: str
) -> None:
    results = _drive(replicas, MODEL)

    answered = [r for r in results if isinstance(r, str) and r]
    assert len(answered) == PROXY_CALLS, [r for r in results if not isinstance(r, str)]
    served = _served(quota, PROXY_KEY)
    assert served["rate_limited"] == 0
    assert served["requests"] == PROXY_CALLS
    # Each replica served its half: the calls alternate between them.
    assert [sum(isinstance(r, str) for r in results[k :: len(replicas)]) for k in range(2)] == [PROXY_CALLS // 2] * 2
    assert served["tokens"] > 2 * TPM  # more than two windows' worth: the replicas were paced, not lucky
    # The budget they shared is the one in Redis: it learned the emulator's limit, and nothing is left reserved.
    shared = RateLimitGovernor(RedisBackend(redis_server, prefix=PREFIX), time_scale=SCALE).view(PROXY_KEY, MODEL)
    assert shared.limits.get("tokens_minute") == TPM and shared.in_flight == 0, shared


def test_the_same_workload_through_the_replicas_without_the_setting_draws_429s(
    replicas: list[str], quota: EmulatorServer
) -> None:
    results = _drive(replicas, "ungoverned")

    assert _served(quota, UNGOVERNED_KEY)["rate_limited"] > 0
    assert any(isinstance(r, openai.RateLimitError) for r in results)


def test_a_proxy_client_cannot_set_the_rate_limiter(replicas: list[str], quota: EmulatorServer) -> None:
    with openai.OpenAI(base_url=f"{replicas[0]}/v1", api_key=MASTER_KEY, max_retries=0) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": "hi"}],
                extra_body={"rate_limiter": "redis://attacker.example:6379/0"},
            )

    assert "rate_limiter" in str(caught.value) and "config.yaml" in str(caught.value)
    assert [r for r in quota.requests if r.path.endswith("/chat/completions")] == []  # refused before sending
