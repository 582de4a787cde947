"""The rate-limit governor in one process: it learns the limits from the emulator's headers, paces concurrent callers
so the emulator's quota draws no 429 where retries alone draw many, serves waiters first come first served, and
lets threads and asyncio tasks share one budget. A cancelled wait frees its place and reserves nothing.

The emulator (cerebras_adapters.testing) enforces its quota independently of the client's code; its own counters
(``GET /_emulator/stats``) say how many 429s it sent. Windows are scaled (``time_scale``) so "a minute" lasts 3 s.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from typing import Any

import httpx
import pytest

from cerebras_adapters import (
    APITimeoutError,
    AsyncCerebrasClient,
    CerebrasClient,
    RateLimitError,
    RequestValidationError,
)
from cerebras_adapters.governor import (
    Estimate,
    InProcessBackend,
    RateLimitGovernor,
    Reservation,
    Update,
    estimate_request,
    readings_from,
)
from cerebras_adapters.types import RateLimits, Usage

KEY = "csk-" + "governor0test0key"  # assembled: no secret-shaped literal in tracked files
MODEL = "gpt-oss-120b"
SCALE = 20.0  # the emulator's minute lasts 3 s
TPM = 6000  # 2000 tokens per real second at this scale
REPLY = {"x-emulator-reply-tokens": "100"}


def emulator_stats(emulator: Any) -> dict[str, Any]:
    quotas = httpx.get(f"{emulator.url}/_emulator/stats").json()["quotas"]
    return next(q for q in quotas if q["model"] == MODEL)


@pytest.fixture
def quota(cerebras_emulator: Any) -> Any:
    """The emulator with a small token quota per minute (scaled), and replies that take ~0.1 s."""
    cerebras_emulator.configure(tokens_per_minute=TPM, requests_per_day=None, time_scale=SCALE, tokens_per_second=1000)
    return cerebras_emulator


async def _burst(client: AsyncCerebrasClient, n: int) -> list[Any]:
    async def one(i: int) -> Any:
        return await client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": f"question {i}"}],
            max_completion_tokens=300,
            extra_headers=REPLY,
        )

    return await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)


def test_concurrent_async_callers_draw_no_429_where_retries_alone_draw_many(quota: Any) -> None:
    # 64 callers reserve ~20K tokens against a 6K bucket refilling 2K/s: the retry-only client hits the quota.
    async def run(governor: RateLimitGovernor | None) -> list[Any]:
        async with AsyncCerebrasClient(
            api_key=KEY, base_url=quota.base_url, rate_limiter=governor, max_retries=5
        ) as client:
            return await _burst(client, 64)

    asyncio.run(run(None))
    refused_without = emulator_stats(quota)["rate_limited"]
    quota.reset()
    quota.configure(tokens_per_minute=TPM, requests_per_day=None, time_scale=SCALE, tokens_per_second=1000)

    governor = RateLimitGovernor(time_scale=SCALE)
    results = asyncio.run(run(governor))
    served = emulator_stats(quota)
    assert refused_without > 10
    assert served["rate_limited"] == 0
    assert [r for r in results if isinstance(r, Exception)] == []
    assert served["requests"] == 64
    stats = governor.stats
    assert stats.reservations == 64 and stats.rate_limited == 0 and stats.waits > 0


def test_the_first_answer_teaches_the_limits(quota: Any) -> None:
    governor = RateLimitGovernor(time_scale=SCALE)
    assert governor.view(KEY, MODEL).mode == "unknown"
    with CerebrasClient(api_key=KEY, base_url=quota.base_url, rate_limiter=governor) as client:
        completion = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], max_completion_tokens=300
        )
    view = governor.view(KEY, MODEL)
    assert view.mode == "metered"
    assert view.limits == {"tokens_minute": TPM}
    assert view.in_flight == 0
    # The real usage replaced the estimate: the level is the server's (within the refill since the answer).
    assert completion.rate_limits is not None and completion.usage is not None
    assert TPM - completion.usage.total_tokens - 50 <= view.levels["tokens_minute"] <= TPM


def test_the_first_request_goes_alone_until_its_answer() -> None:
    governor = RateLimitGovernor()
    probe = governor.reserve(KEY, MODEL, Estimate(10, 100))

    async def second() -> Reservation:
        return await governor.areserve(KEY, MODEL, Estimate(10, 100))

    async def main() -> None:
        task = asyncio.create_task(second())
        await asyncio.sleep(0.1)
        assert not task.done()  # limits unknown: it waits for the probe's answer
        headers = {"x-ratelimit-limit-tokens-minute": "1000", "x-ratelimit-remaining-tokens-minute": "890"}
        probe.reconcile(RateLimits.from_headers(headers), Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15))
        reservation = await asyncio.wait_for(task, 1)
        assert reservation.estimate.tokens == 110

    asyncio.run(main())


def test_a_caller_with_a_deadline_waits_for_the_first_answer_instead_of_giving_up() -> None:
    """While the first request is out, the only bound on the wait is its reservation's expiry (minutes), not an
    estimate: a caller whose deadline is shorter still waits for that answer (LiteLLM passes its timeout as the
    deadline of every call, so calls made during the first one failed at once with a made-up 600 s wait)."""
    governor = RateLimitGovernor()
    probe = governor.reserve(KEY, MODEL, Estimate(10, 100))
    headers = {"x-ratelimit-limit-tokens-minute": "1000", "x-ratelimit-remaining-tokens-minute": "890"}
    answer = threading.Timer(0.2, probe.reconcile, (RateLimits.from_headers(headers), Usage(total_tokens=15)))
    answer.start()
    try:
        reservation = governor.reserve(KEY, MODEL, Estimate(10, 100), timeout=5)
    finally:
        answer.cancel()
    assert reservation.estimate.tokens == 110


def test_a_deadline_that_passes_while_waiting_for_the_first_answer_ends_the_wait() -> None:
    governor = RateLimitGovernor()
    governor.reserve(KEY, MODEL, Estimate(10, 100))  # never answered
    started = time.monotonic()
    with pytest.raises(APITimeoutError, match="first-response"):
        governor.reserve(KEY, MODEL, Estimate(10, 100), timeout=0.3)
    assert 0.3 <= time.monotonic() - started < 2


def test_an_answer_without_rate_limit_headers_means_no_pacing() -> None:
    governor = RateLimitGovernor()
    governor.reserve(KEY, MODEL, Estimate(10, 100)).reconcile(None, Usage(prompt_tokens=10, total_tokens=10))
    started = time.monotonic()
    for _ in range(50):
        governor.reserve(KEY, MODEL, Estimate(10, 10_000_000))
    assert time.monotonic() - started < 1
    assert governor.view(KEY, MODEL).mode == "unmetered"


def _metered(governor: RateLimitGovernor, limit: int, remaining: int) -> None:
    """Teach ``governor`` one tokens-per-minute limit with ``remaining`` left (a first answer, settled)."""
    probe = governor.reserve(KEY, MODEL, Estimate(0, 0))
    headers = {"x-ratelimit-limit-tokens-minute": str(limit), "x-ratelimit-remaining-tokens-minute": str(remaining)}
    probe.reconcile(RateLimits.from_headers(headers), Usage())


def test_waiters_are_served_first_come_first_served() -> None:
    governor = RateLimitGovernor(time_scale=60)  # a "minute" of 1 s: 600 tokens per second
    _metered(governor, 600, 0)
    order: list[int] = []

    async def caller(i: int, tokens: int) -> None:
        await governor.areserve(KEY, MODEL, Estimate(0, tokens))
        order.append(i)

    async def main() -> None:
        tasks = []
        for i, tokens in enumerate([200, 300, 20, 100]):
            tasks.append(asyncio.create_task(caller(i, tokens)))
            await asyncio.sleep(0.01)  # join the line in this order
        await asyncio.wait_for(asyncio.gather(*tasks), 5)

    asyncio.run(main())
    # The 20-token caller fits long before the 300-token one ahead of it, and still waits its turn.
    assert order == [0, 1, 2, 3]


def test_a_cancelled_waiting_task_frees_its_place_and_reserves_nothing() -> None:
    governor = RateLimitGovernor(time_scale=1)  # 600 tokens per minute: 10 per second
    _metered(governor, 600, 50)

    async def main() -> None:
        big = asyncio.create_task(governor.areserve(KEY, MODEL, Estimate(0, 500)))  # needs ~45 s
        await asyncio.sleep(0.05)
        small = asyncio.create_task(governor.areserve(KEY, MODEL, Estimate(0, 20)))  # fits, but is behind it
        await asyncio.sleep(0.1)
        assert not small.done()
        big.cancel()
        reservation = await asyncio.wait_for(small, 1)  # the next waiter proceeds at once
        assert reservation.estimate.tokens == 20
        with pytest.raises(asyncio.CancelledError):
            await big

    asyncio.run(main())
    stats = governor.stats
    assert stats.reservations == 2  # the probe and the small one: the cancelled wait reserved nothing
    assert stats.waits == 2
    view = governor.view(KEY, MODEL)
    assert view.in_flight == 1 and view.levels["tokens_minute"] < 50


class _Interrupted(Exception):
    pass


def test_an_interrupted_sync_wait_frees_its_place() -> None:
    governor = RateLimitGovernor(time_scale=1)  # 10 tokens per second
    _metered(governor, 600, 50)

    def interrupt(signum: int, frame: Any) -> None:
        raise _Interrupted  # what a Ctrl-C (KeyboardInterrupt) does to a blocked caller

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        started = time.monotonic()
        with pytest.raises(_Interrupted):
            governor.reserve(KEY, MODEL, Estimate(0, 500))  # needs ~50 s
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 2
    assert governor.view(KEY, MODEL).in_flight == 0
    # Its place is free and nothing was taken: the next caller fits in the 50 tokens left, at once.
    started = time.monotonic()
    governor.reserve(KEY, MODEL, Estimate(0, 45))
    assert time.monotonic() - started < 0.1
    assert governor.stats.reservations == 2  # the probe and the last one


def test_sync_threads_and_async_tasks_share_one_governor(quota: Any) -> None:
    governor = RateLimitGovernor(time_scale=SCALE)
    errors: list[BaseException] = []

    def sync_worker() -> None:
        with CerebrasClient(api_key=KEY, base_url=quota.base_url, rate_limiter=governor, max_retries=0) as client:
            for i in range(6):
                try:
                    client.chat.completions.create(
                        model=MODEL,
                        messages=[{"role": "user", "content": f"sync {i}"}],
                        max_completion_tokens=300,
                        extra_headers=REPLY,
                    )
                except Exception as exc:
                    errors.append(exc)

    async def async_side() -> list[Any]:
        async with AsyncCerebrasClient(
            api_key=KEY, base_url=quota.base_url, rate_limiter=governor, max_retries=0
        ) as client:
            return await _burst(client, 24)

    threads = [threading.Thread(target=sync_worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    results = asyncio.run(async_side())
    for thread in threads:
        thread.join(30)
    errors += [r for r in results if isinstance(r, BaseException)]
    # max_retries=0: any 429 would surface as an error. Both kinds of caller waited in the same line.
    assert errors == []
    served = emulator_stats(quota)
    assert served["requests"] == 48 and served["rate_limited"] == 0
    assert governor.stats.reservations == 48 and governor.stats.waits > 0


def test_a_429_is_adopted_and_the_retry_waits_for_the_servers_hint(cerebras_emulator: Any) -> None:
    governor = RateLimitGovernor()
    with CerebrasClient(api_key=KEY, base_url=cerebras_emulator.base_url, rate_limiter=governor) as client:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
        cerebras_emulator.fail_next(1, "429-tokens=0.4")
        started = time.monotonic()
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
        took = time.monotonic() - started
    stats = governor.stats
    assert stats.rate_limited == 1
    assert 0.35 <= took < 2  # the governor waited for retry-after (0.4 s); the retry loop did not sleep again
    assert stats.waits == 1
    assert governor.view(KEY, MODEL).in_flight == 0


def test_a_request_that_never_reached_the_server_gives_its_reservation_back() -> None:
    governor = RateLimitGovernor()
    with CerebrasClient(api_key=KEY, base_url="http://127.0.0.1:9/v1", rate_limiter=governor, max_retries=0) as client:
        with pytest.raises(Exception, match="connection"):
            client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert governor.stats.released == 1
    view = governor.view(KEY, MODEL)
    assert view.in_flight == 0 and view.mode == "unknown"  # the probe's place is free for the next caller


def test_a_stream_settles_with_its_usage_at_the_end(quota: Any) -> None:
    governor = RateLimitGovernor(time_scale=SCALE)
    with CerebrasClient(api_key=KEY, base_url=quota.base_url, rate_limiter=governor) as client:
        stream = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True, max_completion_tokens=2000
        )
        during = governor.view(KEY, MODEL)
        final = stream.get_final_completion()
    after = governor.view(KEY, MODEL)
    assert during.mode == "metered" and during.in_flight == 1  # headers learned at the start
    assert after.in_flight == 0
    assert final.usage is not None
    # The unused part of the 2000-token reservation came back when the usage arrived.
    assert after.levels["tokens_minute"] > during.levels["tokens_minute"] + 1500


def test_a_request_too_big_for_the_limit_gets_a_clear_error() -> None:
    governor = RateLimitGovernor()
    _metered(governor, 1000, 1000)
    with pytest.raises(RequestValidationError, match="max_completion_tokens") as caught:
        governor.reserve(KEY, MODEL, Estimate(30, 4000))
    assert caught.value.param == "max_completion_tokens"


def test_each_wait_is_logged_at_info_without_the_key(caplog: pytest.LogCaptureFixture) -> None:
    governor = RateLimitGovernor(time_scale=60)
    _metered(governor, 600, 0)
    with caplog.at_level(logging.INFO, logger="cerebras_adapters"):
        governor.reserve(KEY, MODEL, Estimate(0, 60))
    lines = [r.getMessage() for r in caplog.records if "governor" in r.getMessage()]
    assert len(lines) == 1
    assert "waiting 0.1" in lines[0] and MODEL in lines[0] and "tokens_minute" in lines[0]
    assert KEY not in caplog.text
    assert governor.stats.waits == 1 and governor.stats.waited_seconds >= 0.08


def test_rate_limiter_must_be_a_governor() -> None:
    with pytest.raises(RequestValidationError, match="rate_limiter") as caught:
        CerebrasClient(api_key=KEY, rate_limiter=object())  # type: ignore[arg-type]
    assert caught.value.param == "rate_limiter"


def test_the_estimate_reserves_max_completion_tokens_or_the_models_maximum() -> None:
    from cerebras_adapters import default_catalog

    info = default_catalog().get(MODEL)
    assert info is not None and info.max_output_tokens
    body = {"model": MODEL, "messages": [{"role": "user", "content": "x" * 300}]}
    assert estimate_request({**body, "max_completion_tokens": 500}, info).completion_tokens == 500
    assert estimate_request({**body, "max_tokens": 700}, info).completion_tokens == 700
    assert estimate_request(body, info).completion_tokens == info.max_output_tokens
    assert estimate_request({**body, "max_completion_tokens": -1}, info).completion_tokens == info.max_output_tokens
    assert estimate_request(body, info).prompt_tokens >= 100  # 300 characters: at least 100 tokens
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "A" * 100_000}}
    with_image = {**body, "messages": [{"role": "user", "content": [image]}], "max_completion_tokens": 1}
    assert estimate_request(with_image, info).prompt_tokens < 2000  # an image is not read as its base64 text


def test_every_x_ratelimit_header_is_a_bucket() -> None:
    limits = RateLimits.from_headers(
        {
            "x-ratelimit-limit-requests-day": "14400",
            "x-ratelimit-remaining-requests-day": "14000",
            "x-ratelimit-limit-tokens-minute": "60000",
            "x-ratelimit-remaining-tokens-minute": "59000",
            "x-ratelimit-limit-requests-minute": "5",
            "x-ratelimit-remaining-requests-minute": "4",
            "x-ratelimit-limit-tokens-hour": "1000000",
            "x-ratelimit-remaining-tokens-hour": "990000",
            "x-ratelimit-reset-tokens-hour": "12.5",
        }
    )
    readings = {r.name: (r.kind, r.limit, r.remaining, r.window) for r in readings_from(limits)}
    assert readings == {
        "requests_day": ("requests", 14400, 14000, 86400),
        "requests_minute": ("requests", 5, 4, 60),
        "tokens_hour": ("tokens", 1_000_000, 990_000, 3600),
        "tokens_minute": ("tokens", 60000, 59000, 60),
    }


def _day_limit(remaining: float) -> Update:
    """An answer to a 100-token request (used in full) whose headers show ``remaining`` of a 1000-token daily limit
    (a day window: no refill to speak of during the test)."""
    headers = {"x-ratelimit-limit-tokens-day": "1000", "x-ratelimit-remaining-tokens-day": str(int(remaining))}
    return Update(readings_from(RateLimits.from_headers(headers)), 100, 100)


def test_the_servers_lower_view_wins_once_answers_in_a_row_confirm_it() -> None:
    # Another client on the same key took 300 tokens we never saw: every answer shows the server 300 below us.
    backend = InProcessBackend()
    now = 1000.0
    assert backend.reserve("a", "probe", 0, now).admitted
    backend.reconcile("a", "probe", Update(_day_limit(1000).readings, 0, 0), now)
    levels = []
    for i in range(4):
        ours = backend.view("a", now).levels["tokens_day"]
        assert backend.reserve("a", f"x{i}", 100, now).admitted
        backend.reconcile("a", f"x{i}", _day_limit(ours - 300 - 100), now)
        levels.append(backend.view("a", now).levels["tokens_day"])
    # One low answer could be a request the server admitted out of order; four in a row are a fact.
    assert levels == [900, 800, 700, 300]


def test_an_in_flight_request_reserved_later_is_not_counted_twice() -> None:
    # x's answer shows 700 left of 1000 (x and y taken: the server saw y, reserved after x, first). Its projection
    # (700 - 200 for y, which it cannot tell it saw) reads 500 while we hold 700: one answer like that is not
    # believed, and the next ones, in agreement, clear it.
    backend = InProcessBackend()
    now = 1000.0
    assert backend.reserve("a", "probe", 0, now).admitted
    backend.reconcile("a", "probe", Update(_day_limit(1000).readings, 0, 0), now)
    assert backend.reserve("a", "x", 100, now).admitted
    assert backend.reserve("a", "y", 200, now).admitted
    backend.reconcile("a", "x", Update(_day_limit(700).readings, 100, 100), now)
    assert backend.view("a", now).levels["tokens_day"] == 700
    backend.reconcile("a", "y", Update(_day_limit(800).readings, 200, 200), now)  # admitted before x
    for i in range(3):
        assert backend.reserve("a", f"z{i}", 100, now).admitted
        backend.reconcile("a", f"z{i}", _day_limit(600 - 100 * i), now)
    assert backend.view("a", now).levels["tokens_day"] == 400  # never lowered below the truth


def test_a_rate_limit_error_still_reaches_the_caller_when_retries_run_out(cerebras_emulator: Any) -> None:
    governor = RateLimitGovernor()
    with CerebrasClient(
        api_key=KEY, base_url=cerebras_emulator.base_url, rate_limiter=governor, max_retries=0
    ) as client:
        cerebras_emulator.fail_next(1, "429-tokens=0.2")
        with pytest.raises(RateLimitError):
            client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert governor.stats.rate_limited == 1
    assert governor.view(KEY, MODEL).in_flight == 0


def test_a_wait_that_would_outlast_the_calls_deadline_fails_at_once(cerebras_emulator: Any) -> None:
    governor = RateLimitGovernor(time_scale=1)  # 600 tokens a minute: 10 per second
    _metered(governor, 600, 0)
    started = time.monotonic()
    with pytest.raises(APITimeoutError, match="deadline"):
        governor.reserve(KEY, MODEL, Estimate(0, 500), timeout=0.5)  # needs ~50 s
    with CerebrasClient(api_key=KEY, base_url=cerebras_emulator.base_url, rate_limiter=governor) as client:
        with pytest.raises(APITimeoutError):
            client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "hi"}], max_completion_tokens=400, deadline=0.5
            )
    assert time.monotonic() - started < 0.5  # neither waited for budget that could not come in time
    assert governor.stats.reservations == 1 and governor.view(KEY, MODEL).in_flight == 0
    assert not [r for r in cerebras_emulator.requests if r.path.endswith("/chat/completions")]  # nothing was sent
