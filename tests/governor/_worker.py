"""One worker process of tests/governor/test_multiprocess.py: ``callers`` async callers sending requests through one
``AsyncCerebrasClient`` governed over Redis. It prints ``ready`` once set up, reads ``START STOP`` (wall-clock
seconds) from stdin, sends from START until STOP, then prints one JSON line: requests completed, tokens used, and
the time of its last answer, the first errors (class and message) and its governor's counters.

    python -m tests.governor._worker REDIS_URL PREFIX BASE_URL API_KEY MODEL TIME_SCALE CALLERS TTL MAX_TOKENS
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import warnings

from cerebras_adapters import AsyncCerebrasClient
from cerebras_adapters.governor import RateLimitGovernor, RedisBackend


async def main(argv: list[str]) -> dict[str, object]:
    redis_url, prefix, base_url, api_key, model = argv[:5]
    time_scale, callers, ttl, max_tokens = float(argv[5]), int(argv[6]), float(argv[7]), int(argv[8])
    governor = RateLimitGovernor(RedisBackend(redis_url, prefix=prefix, reservation_ttl=ttl), time_scale=time_scale)
    done, tokens, last, errors = 0, 0, 0.0, []
    async with AsyncCerebrasClient(api_key=api_key, base_url=base_url, rate_limiter=governor, max_retries=0) as client:
        print("ready", flush=True)
        start, stop = map(float, sys.stdin.readline().split())
        await asyncio.sleep(max(0.0, start - time.time()))

        async def caller(i: int) -> None:
            nonlocal done, tokens, last
            n = 0
            while time.time() < stop:
                n += 1
                try:
                    completion = await client.chat.completions.create(
                        model=model,
                        messages=[{"role": "user", "content": f"caller {i} request {n}"}],
                        max_completion_tokens=max_tokens,
                        extra_headers={"x-emulator-reply-tokens": str(max_tokens)},
                    )
                except Exception as exc:  # reported to the test, which asserts there are none
                    errors.append(f"{time.time() - start:.2f} s in: {type(exc).__name__}: {exc}")
                    continue
                done += 1
                tokens += completion.usage.total_tokens if completion.usage else 0
                last = time.time()

        await asyncio.gather(*(caller(i) for i in range(callers)))
    stats = governor.stats
    return {
        "done": done,
        "tokens": tokens,
        "last": last,
        "errors": errors[:5],
        "error_count": len(errors),
        "waits": stats.waits,
        "backend_errors": stats.backend_errors,
    }


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    print(json.dumps(asyncio.run(main(sys.argv[1:]))), flush=True)
