"""Acceptance: 4 processes × 32 concurrent async callers share one emulator quota through one Redis.

No 429 reaches anyone (the workers run with ``max_retries=0``, and the emulator's own counters are read), the
tokens served over the run are at least 90% of what the quota allowed (its capacity plus its refill over the
run), and every process gets at least 15% of the work. A process killed mid-run lets no 429 through, and holds no
budget once its reservations expired and the bucket refilled. The emulator runs in this process on its own thread;
each worker is a separate Python process (tests/governor/_worker.py). Windows are scaled: a "minute" lasts 2 s.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from cerebras_adapters.governor import RateLimitGovernor, RedisBackend

KEY = "csk-" + "governor0fleet0key"  # assembled: no secret-shaped literal in tracked files
MODEL = "gpt-oss-120b"
SCALE = 30.0  # a "minute" lasts 2 s
TPM = 12_000  # 6 000 tokens per real second
PROCESSES, CALLERS = 4, 32
MAX_TOKENS = 200  # reserved and used by every request (the emulator replies with exactly that many tokens)
ROOT = Path(__file__).resolve().parents[2]


def _run_fleet(
    emulator: Any, redis_url: str, seconds: float, kill_one_at: float | None = None, ttl: float = 5.0
) -> tuple[str, list[dict[str, Any] | None], float, float]:
    """Run the workers from a common start (once every one is ready) for ``seconds``; optionally SIGKILL the first
    one ``kill_one_at`` seconds in. Returns the Redis prefix, each worker's report (None: killed), and the start and
    the end (the last answer) of the run."""
    prefix = f"fleet:{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    args = [redis_url, prefix, emulator.base_url, KEY, MODEL, str(SCALE), str(CALLERS), repr(ttl), str(MAX_TOKENS)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.governor._worker", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=env,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    start = time.time() + 0.2
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write(f"{start!r} {start + seconds!r}\n")
        worker.stdin.flush()
    if kill_one_at is not None:
        time.sleep(max(0.0, start + kill_one_at - time.time()))
        workers[0].send_signal(signal.SIGKILL)
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=seconds + 120)
        lines = out.strip().splitlines()
        assert worker.returncode != 0 or lines, f"worker {worker.pid} printed nothing: {err[-2000:]}"
        results.append(json.loads(lines[-1]) if worker.returncode == 0 else None)
    last = max((r["last"] for r in results if r is not None), default=time.time())
    return prefix, results, start, last


def _stats(emulator: Any) -> dict[str, Any]:
    quotas = httpx.get(f"{emulator.url}/_emulator/stats").json()["quotas"]
    return next(q for q in quotas if q["model"] == MODEL)


@pytest.fixture
def fleet_quota(cerebras_emulator: Any) -> Any:
    cerebras_emulator.configure(tokens_per_minute=TPM, requests_per_day=None, time_scale=SCALE, tokens_per_second=20000)
    return cerebras_emulator


def test_four_processes_share_one_quota_with_no_429_at_over_90_percent(
    fleet_quota: Any, redis_server: str, clock_watch: Any
) -> None:
    _, results, began, ended = _run_fleet(fleet_quota, redis_server, seconds=6.0)
    served = _stats(fleet_quota)
    assert served["rate_limited"] == 0, (served, str(clock_watch))
    assert all(r is not None and r["error_count"] == 0 for r in results), (results, str(clock_watch))
    done = [r["done"] for r in results]
    assert sum(done) == served["requests"]
    # What the quota allowed over the run: a full bucket at the start, then its refill.
    allowed = TPM + TPM * SCALE / 60 * (ended - began)
    utilisation = served["tokens"] / allowed
    assert utilisation >= 0.90, (utilisation, served, ended - began)
    assert min(done) >= 0.15 * sum(done), done


def test_a_process_killed_mid_run_holds_no_budget_past_the_expiry(
    fleet_quota: Any, redis_server: str, clock_watch: Any
) -> None:
    # The killed process's reservations expire at 2 s + 3 s, while the survivors' queued callers are still admitted
    # (they start no request after 4 s, but ~100 callers wait in line): the emulator served and charged the killed
    # process's last requests, so an expiry that gave their estimate back let a 429 through at 5.0 s in about every
    # other run. It stays charged until the refill returns it (the governor's "Settling" rule).
    ttl = 3.0
    prefix, results, _, _ = _run_fleet(fleet_quota, redis_server, seconds=4.0, kill_one_at=2.0, ttl=ttl)
    assert results[0] is None  # killed
    assert all(r is not None and r["error_count"] == 0 for r in results[1:]), (results, str(clock_watch))
    assert _stats(fleet_quota)["rate_limited"] == 0, str(clock_watch)
    time.sleep(ttl + 60 / SCALE)  # past the expiry, and long enough for the survivors' own use to refill
    view = RateLimitGovernor(RedisBackend(redis_server, prefix=prefix), time_scale=SCALE).view(KEY, MODEL)
    # Every reservation of the killed process expired: nothing is held, and the refill has returned their estimate
    # (the survivors stopped; an empty bucket refills in one scaled minute, 60 / SCALE seconds).
    assert view.in_flight == 0
    assert view.levels["tokens_minute"] >= TPM - 1, view
