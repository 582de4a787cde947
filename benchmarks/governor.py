"""Governor: one workload on one scaled quota, paced by the rate-limit governor or only retried after 429s.

Issue 12's benchmark. Every contender sends the same requests (``Settings.requests``, 2,000 by default: seeded
prompt lengths and ``max_completion_tokens`` of 256–4096, each reply a seeded share of its budget) from the same
number of concurrent workers to one contract emulator process, each contender with an API key of its own (quotas
are per key and model, so none inherits another's spent budget) on a developer-like quota: 500 RPM / 500K TPM /
1.44M RPD (the 2026 developer tier gives zai-glm-4.7 500 RPM / 500K TPM, gpt-oss-120b 1000 / 1M;
docs/api-facts.md#rate-limit-values), its windows run ``time_scale`` (6) times faster. The workload then spans ~7
of the token quota's 10-s windows, the first one a full bucket, at ~30 requests/s, well below what each
contender's processes can send on two cores. The contenders:

* ``core-retries``: ``AsyncCerebrasClient``, no governor: its retries honour the 429's ``retry-after``
  (``max_retries=2``, the default);
* ``sdk-retries``: cerebras-cloud-sdk's ``AsyncCerebras`` and its own retries (``max_retries=2``, the default);
* ``litellm-router``: a LiteLLM ``Router`` with the built-in ``cerebras/`` provider (what people use today), the
  quota as the deployment's ``rpm`` / ``tpm``, ``routing_strategy="usage-based-routing-v2"`` (the strategy that
  enforces them) and its counters in Redis (``redis_host`` / ``redis_port``), split over ``processes`` processes
  like proxy replicas; the Router's own retries (``num_retries=2``, the default);
* ``governor``: ``AsyncCerebrasClient(rate_limiter=RateLimitGovernor(time_scale=…))``, one process;
* ``governor-redis``: the same with ``RedisBackend`` over one Redis, split over ``processes`` processes.

Each contender runs in its own child process(es) (``python -m benchmarks.governor child CONFIG``): the child
builds its client, says ``ready``, and starts sending at a wall-clock time the parent gives all of them, so
imports and set-up are not measured. A process takes every ``processes``-th request and its share of the workers;
each worker takes the next request and records when it started, when its answer came (retries and governor waits
included) and its ``usage.total_tokens``. The 429s are the emulator's own count (``GET /_emulator/stats``), so a
429 a client retried is counted too. Redis is a real ``redis-server`` (``tests/redis_server.py``), emptied before
each contender. Nothing here asserts a figure: the smoke test checks the suite runs and produces rows.

``python -m benchmarks governor [--write]``; ``--governor-quick`` for a run of seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import importlib.util
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from .emulator import EmulatorProcess
from .report import Section, Suite, environment, environment_markdown, markdown_table, run_cli, write_sections

__all__ = [
    "CONTENDERS",
    "QUICK",
    "SUITE",
    "Contender",
    "Job",
    "Result",
    "Settings",
    "render",
    "run",
    "section",
    "svg",
    "workload",
]

MODEL = "gpt-oss-120b"
API_KEY = "bench-governor"
WARM_UP_KEY = "bench-warm-up"
REPLY_TOKENS_HEADER = "x-emulator-reply-tokens"  # the emulator's reply length, exactly (docs/testing.md)
ROOT = Path(__file__).resolve().parent.parent
SVG_PATH = ROOT / "docs" / "img" / "governor.svg"
RATE_LIMITS_DOC = ROOT / "docs" / "rate-limits.md"
_RESULT_MARK = "GOVERNOR-RESULT "
_PACKAGES = ("cerebras-adapters", "httpx", "redis", "cerebras-cloud-sdk", "litellm")
# Short words: ~4 bytes a word with its space, the bytes per token of English text, so the emulator's word count
# and the governor's byte-based estimate relate as a real tokenizer's count and the estimate do.
_WORDS = (
    "the and for you are not but can all any one our out new use how its may see way who did get"
    " set run key rate time cost slow fast data text mode plan test part tool list file call wait"
).split()


@dataclass(frozen=True)
class Settings:
    requests: int = 2000
    workers: int = 64  # concurrent callers in all (split between processes where a contender has several)
    processes: int = 4  # processes of the multi-process contenders (LiteLLM Router, governor on Redis)
    requests_per_minute: int = 500
    tokens_per_minute: int = 500_000
    requests_per_day: int = 1_440_000
    time_scale: float = 6.0  # a "minute" of the quota lasts 60 / time_scale s
    tokens_per_second: float = 3000.0  # the emulator's reply speed (a reply of N tokens takes N / this s)
    prompt_tokens: tuple[int, int] = (50, 4000)  # log-uniform
    max_completion_tokens: tuple[int, ...] = (256, 512, 1024, 2048, 4096)
    seed: int = 12
    timeout: float = 900.0  # seconds one contender may take
    contenders: tuple[str, ...] = ()  # () = all
    redis_url: str | None = None  # None: start a redis-server for the run

    @property
    def window_s(self) -> float:
        return 60.0 / self.time_scale

    @property
    def quota_tokens_per_s(self) -> float:
        return self.tokens_per_minute / self.window_s


QUICK = Settings(
    requests=60,
    workers=8,
    processes=2,
    requests_per_minute=600,
    tokens_per_minute=3_000,
    requests_per_day=1_000_000,
    time_scale=30.0,
    tokens_per_second=20_000.0,
    prompt_tokens=(10, 200),
    max_completion_tokens=(64, 128, 256),
    timeout=120.0,
)


@dataclass(frozen=True)
class Contender:
    key: str
    label: str
    client: str  # "core" | "sdk" | "router"
    governor: str = ""  # "" | "local" | "redis"
    multi: bool = False  # runs on Settings.processes processes sharing Redis
    needs: tuple[str, ...] = ()

    def missing(self) -> str | None:
        for module in self.needs:
            if importlib.util.find_spec(module.split(".")[0]) is None or importlib.util.find_spec(module) is None:
                return module
        return None


CONTENDERS = (
    Contender("core-retries", "core client, retries only", "core"),
    Contender("sdk-retries", "cerebras-cloud-sdk, its retries", "sdk", needs=("cerebras.cloud.sdk",)),
    Contender("litellm-router", "LiteLLM Router rpm/tpm on Redis", "router", multi=True, needs=("litellm", "redis")),
    Contender("governor", "core client + governor, in-process", "core", "local"),
    Contender("governor-redis", "core client + governor on Redis", "core", "redis", multi=True, needs=("redis",)),
)
_BY_KEY = {c.key: c for c in CONTENDERS}
GOAL_KEY = "governor-redis"
GOAL_UTILISATION = 0.90


# -- The workload -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    index: int
    prompt: str
    max_completion_tokens: int
    reply_tokens: int  # the answer's content tokens (the emulator adds its reasoning; the sum stays in budget)


def workload(settings: Settings) -> list[Job]:
    """The requests every contender sends, the same for a given seed."""
    rng = random.Random(settings.seed)
    low, high = settings.prompt_tokens
    jobs = []
    for index in range(settings.requests):
        words = round(math.exp(rng.uniform(math.log(low), math.log(high))))
        prompt = f"Request {index}: " + " ".join(rng.choices(_WORDS, k=words))
        budget = rng.choice(settings.max_completion_tokens)
        # Replies use an eighth to 85% of their budget: the rest of it is reserved, then given back.
        jobs.append(Job(index, prompt, budget, rng.randint(max(1, budget // 8), budget * 85 // 100)))
    return jobs


def emulator_args(settings: Settings) -> list[str]:
    limits = {
        "requests_per_minute": settings.requests_per_minute,
        "tokens_per_minute": settings.tokens_per_minute,
        "requests_per_day": settings.requests_per_day,
        "time_scale": settings.time_scale,
    }
    return ["--rate-limits", json.dumps(limits), "--tokens-per-second", f"{settings.tokens_per_second:g}"]


# -- One child process ----------------------------------------------------------------------------------------------

Call = Callable[[Job], Awaitable[int]]


@contextlib.asynccontextmanager
async def _client(contender: Contender, settings: Settings, config: dict[str, Any], warm_up: bool = False) -> Any:
    """``(call, governor)``: an async function sending one job and returning its total tokens, and the governor
    (or None) whose counters the child reports. ``warm_up``: on a key of its own (another quota), no governor."""
    base_url: str = config["base_url"]
    api_key: str = f"{WARM_UP_KEY}-{config['part']}-{config['api_key']}" if warm_up else config["api_key"]
    if contender.client == "core":
        from cerebras_adapters import AsyncCerebrasClient
        from cerebras_adapters.governor import RateLimitGovernor, RedisBackend

        governor = None
        if contender.governor == "local" and not warm_up:
            governor = RateLimitGovernor(time_scale=settings.time_scale)
        elif contender.governor == "redis" and not warm_up:
            backend = RedisBackend(config["redis_url"], prefix=config["prefix"])
            governor = RateLimitGovernor(backend, time_scale=settings.time_scale)
        async with AsyncCerebrasClient(api_key=api_key, base_url=base_url, rate_limiter=governor) as core:

            async def call_core(job: Job) -> int:
                completion = await core.chat.completions.create(
                    model=MODEL, max_completion_tokens=job.max_completion_tokens, **_request(job)
                )
                return completion.usage.total_tokens if completion.usage else 0

            yield call_core, governor
    elif contender.client == "sdk":
        from cerebras.cloud.sdk import AsyncCerebras

        sdk = AsyncCerebras(api_key=api_key, base_url=base_url.removesuffix("/v1"), warm_tcp_connection=False)
        try:

            async def call_sdk(job: Job) -> int:
                completion: Any = await sdk.chat.completions.create(
                    model=MODEL, max_completion_tokens=job.max_completion_tokens, **_request(job)
                )
                return int(completion.usage.total_tokens)

            yield call_sdk, None
        finally:
            await sdk.close()
    else:
        import litellm
        from litellm.router import Router

        litellm.suppress_debug_info = True
        redis = urlsplit(config["redis_url"])
        router = Router(
            model_list=[
                {
                    "model_name": MODEL,
                    "litellm_params": {
                        "model": f"cerebras/{MODEL}",
                        "api_base": base_url,
                        "api_key": api_key,
                        # LiteLLM's windows are real minutes: the quota's rate per real minute.
                        "rpm": round(settings.requests_per_minute * settings.time_scale),
                        "tpm": round(settings.tokens_per_minute * settings.time_scale),
                    },
                }
            ],
            routing_strategy="usage-based-routing-v2",
            redis_host=redis.hostname,
            redis_port=redis.port,
        )

        async def call_router(job: Job) -> int:
            response: Any = await router.acompletion(
                model=MODEL, max_completion_tokens=job.max_completion_tokens, **_request(job)
            )
            return int(response.usage.total_tokens)

        yield call_router, None


def _request(job: Job) -> dict[str, Any]:
    return {
        "messages": [{"role": "user", "content": job.prompt}],
        "extra_headers": {REPLY_TOKENS_HEADER: str(job.reply_tokens)},
    }


def _share(total: int, part: int, parts: int) -> int:
    return total * (part + 1) // parts - total * part // parts


async def _child_run(config: dict[str, Any]) -> dict[str, Any]:
    settings = _settings_from_json(config["settings"])
    contender = _BY_KEY[config["contender"]]
    part, parts = config["part"], config["parts"]
    jobs = deque(workload(settings)[part::parts])
    records: list[tuple[float, float, int, int]] = []  # start, end (wall clock), total tokens, 1 = answered
    errors: Counter[str] = Counter()
    first_error = ""
    # One untimed call on another key (so on another quota) first: lazy imports and first-call set-up (LiteLLM's
    # first call takes seconds) are not measured, and the measured key's quota is untouched.
    async with _client(contender, settings, config, warm_up=True) as (warm_up, _):
        await warm_up(Job(-1, "warm up", 16, 4))
    async with _client(contender, settings, config) as (call, governor):
        print("ready", flush=True)
        start = float(await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline))
        await asyncio.sleep(max(0.0, start - time.time()))

        async def worker() -> None:
            nonlocal first_error
            while jobs:
                job = jobs.popleft()
                began = time.time()
                try:
                    tokens = await call(job)
                except Exception as exc:  # counted and reported: a failed request is a result here
                    errors[type(exc).__name__] += 1
                    first_error = first_error or " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
                    records.append((began, time.time(), 0, 0))
                else:
                    records.append((began, time.time(), tokens, 1))

        await asyncio.gather(*(worker() for _ in range(_share(settings.workers, part, parts))))
        stats = asdict(governor.stats) if governor is not None else None
    return {"records": records, "errors": dict(errors), "first_error": first_error, "governor": stats}


def _settings_from_json(data: dict[str, Any]) -> Settings:
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return Settings(**values)


def _child_main(config_json: str) -> int:
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)  # LiteLLM and the governor log every retry and wait: figures, not logs
    result = asyncio.run(_child_run(json.loads(config_json)))
    print(_RESULT_MARK + json.dumps(result), flush=True)
    return 0


# -- The parent -----------------------------------------------------------------------------------------------------


@dataclass
class Result:
    contender: Contender
    processes: int = 1
    workers: int = 0
    requests: int = 0
    records: list[tuple[float, float, int, int]] = field(default_factory=list)  # times from the common start
    errors: dict[str, int] = field(default_factory=dict)
    first_error: str = ""
    server: dict[str, Any] = field(default_factory=dict)  # the emulator's counters for the key and model
    governor: dict[str, float] | None = None  # summed over processes
    failure: str = ""  # the contender did not run (not installed, a child failed)
    per_process: list[tuple[int, float, float]] = field(default_factory=list)  # answered, last answer, p99 latency

    @property
    def completed(self) -> int:
        return sum(r[3] for r in self.records)

    @property
    def failed(self) -> int:
        return len(self.records) - self.completed

    @property
    def duration_s(self) -> float:
        """From the common start to the last answer (or failure)."""
        return max((r[1] for r in self.records), default=0.0)

    @property
    def rate_limited(self) -> int:
        return int(self.server.get("rate_limited", 0))

    @property
    def served_tokens(self) -> int:
        return int(self.server.get("tokens", 0))

    def latencies(self) -> list[float]:
        return sorted(end - start for start, end, _, ok in self.records if ok)

    def utilisation(self, settings: Settings) -> float:
        """Tokens served / what the quota allowed over the run: a full bucket at the start plus its refill."""
        allowed = settings.tokens_per_minute + settings.quota_tokens_per_s * self.duration_s
        return self.served_tokens / allowed if allowed else 0.0

    def per_window(self, settings: Settings) -> list[int]:
        """Requests answered in each window of the quota (``60 / time_scale`` s), from the start."""
        windows = [0] * max(1, math.ceil(self.duration_s / settings.window_s))
        for _, end, _, ok in self.records:
            if ok:
                windows[min(len(windows) - 1, int(end / settings.window_s))] += 1
        return windows

    def series(self, step: float = 1.0) -> list[float]:
        """Tokens answered per second, in bins of ``step`` seconds from the start."""
        bins = [0.0] * max(1, math.ceil(self.duration_s / step))
        for _, end, tokens, ok in self.records:
            if ok:
                bins[min(len(bins) - 1, int(end / step))] += tokens / step
        return bins


def _percentile(values: Sequence[float], q: int) -> float:
    """The ``q``-th percentile (1–99) of ``values``."""
    if len(values) < 2:
        return values[0] if values else math.nan
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@contextlib.contextmanager
def _redis(settings: Settings) -> Iterator[str]:
    if settings.redis_url is not None:
        yield settings.redis_url
        return
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # tests/ is a package of the repository, not of the installed project
    from tests.redis_server import RedisServer

    with RedisServer() as server:
        yield server.url


def run_contender(contender: Contender, settings: Settings, redis_url: str, emulator: EmulatorProcess) -> Result:
    """One contender on a fresh quota (a key of its own on ``emulator``): its child process(es) from one start, then
    the emulator's counters for its key."""
    parts = settings.processes if contender.multi else 1
    result = Result(contender, parts, settings.workers, settings.requests)
    missing = contender.missing()
    if missing is not None:
        result.failure = f"not installed: {missing} (uv sync --group bench)"
        return result
    import redis

    with redis.Redis.from_url(redis_url) as shared:
        shared.flushdb()
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONPATH": str(ROOT)}
    api_key = f"{API_KEY}-{contender.key}"
    with contextlib.ExitStack() as stack:
        children = []
        for part in range(parts):
            config = {
                "contender": contender.key,
                "settings": asdict(settings),
                "part": part,
                "parts": parts,
                "base_url": emulator.base_url,
                "api_key": api_key,
                "redis_url": redis_url,
                "prefix": f"bench:{contender.key}",
            }
            err = stack.enter_context(tempfile.TemporaryFile("w+"))
            command = [sys.executable, "-m", "benchmarks.governor", "child", json.dumps(config)]
            child = subprocess.Popen(
                command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True
            )
            stack.callback(_end, child)
            children.append((child, err))
        for child, err in children:
            assert child.stdout is not None
            line = "?"
            while line and line.strip() != "ready":  # anything a library prints first is skipped
                line = child.stdout.readline()
            if not line:
                result.failure = f"a child did not start: {_tail(child, err)}"
                return result
        start = time.time() + 0.3
        for child, _ in children:
            assert child.stdin is not None
            child.stdin.write(f"{start!r}\n")
            child.stdin.flush()
        outputs = []
        for child, err in children:
            try:
                out, _ = child.communicate(timeout=max(1.0, start + settings.timeout - time.time()))
            except subprocess.TimeoutExpired:
                result.failure = f"no result after {settings.timeout:g} s"
                return result
            found = next((ln for ln in reversed(out.splitlines()) if ln.startswith(_RESULT_MARK)), None)
            if found is None:
                result.failure = f"a child failed (exit code {child.returncode}): {_tail(child, err)}"
                return result
            outputs.append(json.loads(found[len(_RESULT_MARK) :]))
        quotas = httpx.get(f"{emulator.origin}/_emulator/stats", timeout=10).json()["quotas"]
    digest = hashlib.sha256(api_key.encode()).hexdigest()[:16]  # how the emulator names a key in its counters
    result.server = next((q for q in quotas if q["model"] == MODEL and q["key"] == digest), {})
    errors: Counter[str] = Counter()
    for data in outputs:
        records = [(b - start, e - start, tokens, ok) for b, e, tokens, ok in data["records"]]
        answered = sorted(e - b for b, e, _, ok in records if ok)
        result.per_process.append((len(answered), max((r[1] for r in records), default=0.0), _percentile(answered, 99)))
        result.records += records
        errors.update(data["errors"])
        result.first_error = result.first_error or data["first_error"]
        if data["governor"] is not None:
            summed = result.governor or {}
            result.governor = {k: summed.get(k, 0) + v for k, v in data["governor"].items()}
    result.errors = dict(errors)
    return result


def _end(child: subprocess.Popen[str]) -> None:
    if child.poll() is None:
        child.kill()
        child.wait()


def _tail(child: subprocess.Popen[str], err: Any) -> str:
    _end(child)
    err.seek(0)
    lines = err.read().strip().splitlines()
    return lines[-1][:300] if lines else "(no output)"


def run(settings: Settings = Settings()) -> list[Result]:
    """Every contender of ``settings.contenders`` (all when empty), one after the other, in ``CONTENDERS`` order."""
    unknown = set(settings.contenders) - set(_BY_KEY)
    if unknown:
        raise ValueError(f"unknown governor contenders {sorted(unknown)} (choose from {', '.join(_BY_KEY)})")
    if settings.requests < 1 or settings.workers < 1 or settings.processes < 1:
        raise ValueError("requests, workers and processes must be at least 1")
    chosen = [c for c in CONTENDERS if not settings.contenders or c.key in settings.contenders]
    with _redis(settings) as redis_url, EmulatorProcess(*emulator_args(settings)) as emulator:
        results = []
        for contender in chosen:
            began = time.monotonic()
            results.append(run_contender(contender, settings, redis_url, emulator))
            print(f"  governor: {contender.key} took {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
    return results


# -- The report ------------------------------------------------------------------------------------------------------


def _k(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:,.1f}M"
    return f"{value / 1000:,.1f}K" if value >= 1000 else f"{value:,.0f}"


def _limits(by: dict[str, int]) -> str:
    """``{"tokens_per_minute": 3}`` → ``TPM``; several limits → ``TPM 2, RPM 1``."""
    short = {name: f"{name[0]}P{name.partition('_per_')[2][0]}".upper() for name in by}
    if len(by) == 1:
        return next(iter(short.values()))
    return ", ".join(f"{short[name]} {n}" for name, n in sorted(by.items(), key=lambda kv: -kv[1]))


def rows(results: Sequence[Result], settings: Settings) -> list[list[str]]:
    out = []
    for r in results:
        shape = f"{r.processes} × {settings.workers // r.processes}" if r.processes > 1 else f"1 × {settings.workers}"
        if r.failure:
            out.append([r.contender.label, shape, "–", "–", "–", "–", "–", "–", "–", f"not run: {r.failure}"])
            continue
        lat = r.latencies()
        by = r.server.get("rate_limited_by", {})
        waits = ""
        if r.governor is not None:
            waits = f"{int(r.governor['waits'])} waits, {r.governor['waited_seconds']:.0f} s"
        out.append(
            [
                r.contender.label,
                shape,
                f"{r.rate_limited}" + (f" ({_limits(by)})" if by else ""),
                f"{r.completed} / {r.requests}" + (f" ({r.failed} failed)" if r.failed else ""),
                f"{r.duration_s:.1f}",
                f"{_k(r.served_tokens / r.duration_s if r.duration_s else 0)}",
                f"{r.utilisation(settings):.0%}",
                " · ".join(str(n) for n in r.per_window(settings)),
                f"{_percentile(lat, 50):.2f} / {_percentile(lat, 99):.2f}",
                waits or "–",
            ]
        )
    return out


HEADERS = [
    "contender",
    "processes × workers",
    "429s received",
    "answered",
    "run, s",
    "tokens/s",
    "utilisation",
    "answered per window",
    "latency p50 / p99, s",
    "governor waits",
]


def render(results: Sequence[Result], settings: Settings) -> str:
    headers = [f"tokens/s (quota {_k(settings.quota_tokens_per_s)})" if h == "tokens/s" else h for h in HEADERS]
    return markdown_table(headers, rows(results, settings))


def goal(results: Sequence[Result], settings: Settings) -> tuple[bool | None, str]:
    """Issue 12's goal, from the figures: 0 × 429 at ≥ 90% utilisation with the processes sharing Redis."""
    target = next((r for r in results if r.contender.key == GOAL_KEY and not r.failure), None)
    if target is None:
        return None, "Goal (0 × 429 at ≥ 90% of the token quota, processes sharing Redis): not measured in this run."
    used = target.utilisation(settings)
    met = target.rate_limited == 0 and used >= GOAL_UTILISATION and target.failed == 0
    return met, (
        f"Goal (issue 12: 0 × 429 at ≥ {GOAL_UTILISATION:.0%} of the token quota with {target.processes} processes "
        f"sharing Redis): **{'met' if met else 'not met'}**: {target.rate_limited} × 429, "
        f"{used:.1%} utilisation, {target.completed} of {target.requests} answered."
    )


def comparison(results: Sequence[Result], settings: Settings) -> str:
    """One sentence from the figures: what the retry-only contenders and the governed ones got on the same quota."""
    done = [r for r in results if not r.failure]
    if not done:
        return ""
    parts = [
        f"{r.contender.label}: {r.rate_limited} × 429, {r.completed} of {r.requests} answered, "
        f"{r.utilisation(settings):.0%} utilisation, p99 {_percentile(r.latencies(), 99):.1f} s"
        for r in done
    ]
    return "Same workload, same quota: " + "; ".join(parts) + "."


def findings(results: Sequence[Result], settings: Settings) -> list[str]:
    out = []
    for r in results:
        if not r.failure and r.governor is not None and r.duration_s and r.completed:
            rate = r.completed / r.duration_s
            out.append(
                f"{r.contender.label}: its latency is mostly the wait in line: {settings.workers} workers share the "
                f"~{rate:.0f} requests/s the quota admits, so a request waits ~{settings.workers / rate:.1f} s "
                "(Little's law) where a retry-only client fails it instead."
            )
        if r.failure:
            continue
        if len(r.per_process) > 1:
            each = "; ".join(f"{n} answered, the last at {end:.1f} s, p99 {p99:.2f} s" for n, end, p99 in r.per_process)
            out.append(f"{r.contender.label}, per process: {each}.")
        if r.failed:
            kinds = ", ".join(f"{n} {name}" for name, n in sorted(r.errors.items()))
            out.append(f"{r.contender.label}: {r.failed} requests failed ({kinds}); the first: `{r.first_error}`.")
    return out


def svg(results: Sequence[Result], settings: Settings, step: float = 1.0) -> str:
    """A line per contender of tokens answered per second over the run, and the quota's rate as a dashed line."""
    width, height, left, right, top, bottom = 860, 440, 70, 220, 50, 50
    shown = [r for r in results if not r.failure and r.records]
    series = {r.contender.key: r.series(step) for r in shown}
    quota = settings.quota_tokens_per_s
    x_max = max((len(s) * step for s in series.values()), default=1.0)
    # The first seconds spend each contender's full bucket at many times the quota's rate: the axis stops at
    # CLIP × the quota so the paced part stays readable, and the title says how high the peak went.
    peak = max((max(s) for s in series.values()), default=0.0)
    y_top = min(max(quota * 1.25, peak), quota * CLIP)
    y_max = _ticks(y_top, 5)[-1]
    y_max = y_max if y_max >= y_top else y_max + _ticks(y_top, 5)[1]  # the grid's next line above the top
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(t: float) -> float:
        return left + plot_w * t / x_max

    def y(v: float) -> float:
        return top + plot_h * (1 - min(v, y_max) / y_max)

    colours = ["#d62728", "#ff7f0e", "#9467bd", "#1f77b4", "#2ca02c", "#8c564b", "#17becf"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="18" font-size="14">Tokens answered per second ({settings.requests} requests, '
        f"{settings.workers} workers, quota {_k(settings.tokens_per_minute)} TPM × time scale "
        f"{settings.time_scale:g})</text>",
    ]
    if peak > y_max:
        parts.append(
            f'<text x="{left}" y="36" fill="#555">clipped at {_k(y_max)}: the first seconds spend the '
            f"full bucket, up to {_k(peak)} tokens/s</text>"
        )
    for v in _ticks(y_max, 5):  # y grid and labels
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{_k(v)}</text>')
    for t in _ticks(x_max, 10):
        parts.append(f'<text x="{x(t):.1f}" y="{top + plot_h + 18}" text-anchor="middle">{t:g}</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 10}" text-anchor="middle">seconds since the start</text>')
    parts.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#333"/>'
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#333"/>'
    )
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{y(quota):.1f}" y2="{y(quota):.1f}" stroke="#000" '
        'stroke-dasharray="6 4"/>'
    )
    legend_x = left + plot_w + 15
    parts.append(
        f'<line x1="{legend_x}" x2="{legend_x + 24}" y1="{top + 6}" y2="{top + 6}" stroke="#000" '
        f'stroke-dasharray="6 4"/><text x="{legend_x + 30}" y="{top + 10}">quota: {_k(quota)} tokens/s</text>'
    )
    for n, r in enumerate(shown):
        colour = colours[n % len(colours)]
        points = " ".join(f"{x(i * step + step / 2):.1f},{y(v):.1f}" for i, v in enumerate(series[r.contender.key]))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.8" points="{points}"/>')
        ly = top + 28 + 20 * n
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 24}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2"/>'
            f'<text x="{legend_x + 30}" y="{ly + 4}">{_escape(r.contender.key)} ({r.rate_limited} × 429)</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


CLIP = 2.0


def _ticks(top: float, about: int) -> list[float]:
    """Round tick values from 0 to ``top``, about ``about`` of them (steps of 1, 2 or 5 × a power of ten)."""
    raw = top / about
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(int(top / step) + 1)]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_METHOD = """\
- Quota: one emulator process, `cerebras-adapters emulator --port 0 {emulator}`, and a fresh API key per
  contender (quotas are per key and model): {rpm} requests and {tpm} tokens per "minute" and {rpd} requests per
  "day" (developer-like: the 2026 developer tier gives zai-glm-4.7 500 RPM / 500K TPM,
  docs/api-facts.md#rate-limit-values), every window
  {scale:g}× shorter, so a "minute" lasts {window:g} s and the token quota's rate is {quota} tokens/s. Buckets start
  full and refill continuously; a request reserves its prompt plus `max_completion_tokens` and gets the unused part
  back when it ends. Replies come at {tps:g} tokens/s.
- Workload (seed {seed}): {requests} chat requests to `{model}`, prompts of {plo}–{phi} tokens (log-uniform, each
  starting with its own number, so no prompt cache), `max_completion_tokens` drawn from {budgets}, each answer an
  eighth to 85% of its budget (`x-emulator-reply-tokens`; the emulator's reasoning tokens come on top, within the
  budget): {reserved} tokens reserved and {used} used in all. {workers} workers take the requests in order; a
  contender on several processes gives each every N-th request and its share of the workers.
- Contenders, each with its defaults otherwise: `AsyncCerebrasClient` with no governor (its retries honour
  `retry-after`, `max_retries=2`); cerebras-cloud-sdk `AsyncCerebras` (its retries, `max_retries=2`); LiteLLM
  `Router` with the built-in `cerebras/` provider, the quota as the deployment's `rpm` / `tpm` per real minute
  ({rrpm} / {rtpm}: the same rate), `routing_strategy="usage-based-routing-v2"` (the strategy that enforces them)
  and `redis_host` / `redis_port`, on {procs} processes (its retries, `num_retries=2`); `AsyncCerebrasClient(
  rate_limiter=RateLimitGovernor(time_scale={scale:g}))` in one process; the same with `RedisBackend` on
  {procs} processes. Redis is a real `redis-server` on loopback, emptied before each contender.
- Each contender's processes start together (after their imports and set-up). Latency: from a request's start to
  its answer, retries and governor waits included, answered requests only. 429s received: the emulator's count
  (`GET /_emulator/stats`), including those a client retried. Tokens/s and utilisation: the tokens the emulator
  served (prompt + completion of answered requests) over the run (start to the last answer), and as a share of what
  the quota allowed in that time (a full bucket plus its refill). Answered per window: per {window:g}-s window of
  the quota, from the start. A LiteLLM caveat: its rpm/tpm windows are fixed real minutes, counted after the
  answer (tokens are not reserved), so on this scaled quota one of its windows spans {scale:g} of the server's.
- One run, contenders one after the other, on a {cpus}-core machine shared with whatever else ran (1-minute load
  average {load}): figures are noisy; compare them within the run.
- Command: `python -m benchmarks governor{options}`."""


def section(results: Sequence[Result], settings: Settings, load: tuple[float, float] | None = None) -> Section:
    jobs = workload(settings)
    defaults = Settings()
    options = "".join(
        f" --governor-{name.replace('_', '-')} {getattr(settings, name):g}"
        for name in _OPTIONS
        if getattr(settings, name) != getattr(defaults, name)
    )
    method = _METHOD.format(
        emulator=" ".join(f"'{a}'" if a.startswith("{") else a for a in emulator_args(settings)),
        rpm=f"{settings.requests_per_minute:,}",
        tpm=f"{settings.tokens_per_minute:,}",
        rpd=f"{settings.requests_per_day:,}",
        scale=settings.time_scale,
        window=settings.window_s,
        quota=f"{settings.quota_tokens_per_s:,.0f}",
        tps=settings.tokens_per_second,
        seed=settings.seed,
        requests=settings.requests,
        model=MODEL,
        plo=settings.prompt_tokens[0],
        phi=settings.prompt_tokens[1],
        budgets=", ".join(str(b) for b in settings.max_completion_tokens),
        reserved=f"~{_k(sum(len(j.prompt) / 4 + j.max_completion_tokens for j in jobs))}",
        used=f"~{_k(sum(len(j.prompt) / 4 + j.reply_tokens for j in jobs))}",
        workers=settings.workers,
        rrpm=f"{round(settings.requests_per_minute * settings.time_scale):,}",
        rtpm=f"{round(settings.tokens_per_minute * settings.time_scale):,}",
        procs=settings.processes,
        cpus=os.cpu_count(),
        load="unknown" if load is None else f"{load[0]:.2f} before, {load[1]:.2f} after",
        options=options,
    )
    met, goal_line = goal(results, settings)
    notes = findings(results, settings)
    body = (
        "Issue 12: the same workload on the same scaled quota, paced by the rate-limit governor or only retried "
        "after 429s. The plot (docs/img/governor.svg) shows tokens answered per second per contender against the "
        "quota's rate.\n\n"
        f"### Results\n\n{render(results, settings)}\n\n{goal_line}\n\n{comparison(results, settings)}\n\n"
        + ("".join(f"- {note}\n" for note in notes) + "\n" if notes else "")
        + "![tokens per second per contender against the quota](img/governor.svg)\n\n"
        f"### How it was measured\n\n{method}\n\n"
        f"### Machine and versions\n\n{environment_markdown(environment(_PACKAGES))}\n"
    )
    return Section("governor", "Governor: pacing vs retries on one quota", body, ok=met is not False)


def rate_limits_section(results: Sequence[Result], settings: Settings) -> Section:
    """The summary for docs/rate-limits.md: the table, the goal and the plot, and where the method is."""
    _, goal_line = goal(results, settings)
    body = (
        f"{settings.requests} requests of mixed sizes, {settings.workers} concurrent workers, one emulator quota of "
        f"{settings.requests_per_minute:,} RPM / {settings.tokens_per_minute:,} TPM with its windows "
        f"{settings.time_scale:g}× shorter, per contender (`python -m benchmarks governor`; the method, the machine "
        "and the versions are in [benchmarks.md](benchmarks.md#governor-pacing-vs-retries-on-one-quota)).\n\n"
        f"{render(results, settings)}\n\n{goal_line}\n\n{comparison(results, settings)}\n\n"
        "![tokens per second per contender against the quota](img/governor.svg)\n"
    )
    return Section("governor", "Benchmark", body)


_OPTIONS = ("requests", "workers", "processes", "requests_per_minute", "tokens_per_minute", "time_scale", "seed")


def add_arguments(group: Any) -> None:
    d = Settings()
    group.add_argument("--governor-requests", type=int, help=f"requests per contender (default {d.requests})")
    group.add_argument("--governor-workers", type=int, help=f"concurrent workers in all (default {d.workers})")
    group.add_argument(
        "--governor-processes", type=int, help=f"processes of the Redis contenders (default {d.processes})"
    )
    group.add_argument(
        "--governor-requests-per-minute", type=int, help=f"the quota's RPM (default {d.requests_per_minute})"
    )
    group.add_argument(
        "--governor-tokens-per-minute", type=int, help=f"the quota's TPM (default {d.tokens_per_minute})"
    )
    group.add_argument(
        "--governor-time-scale", type=float, help=f"quota windows run X× faster (default {d.time_scale:g})"
    )
    group.add_argument("--governor-seed", type=int, help=f"the workload's seed (default {d.seed})")
    group.add_argument(
        "--governor-contender", action="append", choices=list(_BY_KEY), help="run only this one (repeatable)"
    )
    group.add_argument("--governor-quick", action="store_true", help="a tiny workload on a tiny quota (seconds)")


def settings_from(args: argparse.Namespace) -> Settings:
    base = QUICK if getattr(args, "governor_quick", False) else Settings()
    chosen: dict[str, Any] = {name: getattr(args, f"governor_{name}", None) for name in _OPTIONS}
    if getattr(args, "governor_contender", None):
        chosen["contenders"] = tuple(args.governor_contender)
    return replace(base, **{name: value for name, value in chosen.items() if value is not None})


def _measure(args: argparse.Namespace) -> Section:
    settings = settings_from(args)
    before = os.getloadavg()[0]
    results = run(settings)
    result = section(results, settings, (before, os.getloadavg()[0]))
    if getattr(args, "write", False):
        SVG_PATH.parent.mkdir(parents=True, exist_ok=True)
        SVG_PATH.write_text(svg(results, settings), encoding="utf-8")
        print(f"wrote {SVG_PATH}", file=sys.stderr)
        if RATE_LIMITS_DOC.exists():
            write_sections([rate_limits_section(results, settings)], RATE_LIMITS_DOC)
            print(f"wrote {RATE_LIMITS_DOC}", file=sys.stderr)
    return result


SUITE = Suite("governor", "Governor: pacing vs retries on one quota", _measure, add_arguments)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["child"]:
        return _child_main(argv[1])
    return run_cli(argv, [SUITE], prog="python -m benchmarks.governor")


if __name__ == "__main__":
    raise SystemExit(main())
