"""Rate limits per API key: token buckets, the six ``x-ratelimit-*`` headers and the two 429 bodies.

Facts (docs/api-facts.md#token-reservation, docs/api-facts.md#rate-limit-errors, docs/api-facts.md#rate-limit-headers,
docs/api-facts.md#rate-limit-values):

* Buckets replenish continuously ("token-bucket replenishment"). The emulator keeps a requests-per-day and
  a tokens-per-minute bucket per key (plus an optional requests-per-minute bucket).
* A request is admitted only if the bucket holds its *estimated* tokens: prompt tokens plus
  ``max_completion_tokens`` (or, when absent, the model's maximum output) — the reservation that makes TPM
  429s fire earlier than users expect. Once the reply is known the unused part of the reservation is
  returned (``refund_unused``).
* Headers on successes (RT-11…RT-16): ``x-ratelimit-limit-requests-day``, ``-limit-tokens-minute``,
  ``-remaining-requests-day``, ``-remaining-tokens-minute``, ``-reset-requests-day``,
  ``-reset-tokens-minute`` (float seconds). Here "reset" is the time until the bucket is full again.
* 429 bodies (issue reports, docs/api-facts.md#rate-limit-errors): ``request_quota_exceeded`` with "Requests per minute
  limit exceeded - too many requests sent." and ``token_quota_exceeded`` with "Tokens per minute limit exceeded - too
  many tokens processed." (the TPM code is unverified). No real 429 was ever captured with its headers; the
  emulator adds ``retry-after`` / ``retry-after-ms`` and the rate-limit headers, which the SDK honours.

This module owns the buckets and the 429 bodies; it must not decide when an injected 429 fires (``_faults``
does, with ``rate_limit_error`` for the body).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ._errors import ApiError

__all__ = ["Admission", "RateLimitConfig", "RateLimiter"]

REQUESTS_MESSAGE = "Requests per minute limit exceeded - too many requests sent."
REQUESTS_DAY_MESSAGE = "Requests per day limit exceeded - too many requests sent."
TOKENS_MESSAGE = "Tokens per minute limit exceeded - too many tokens processed."


def rate_limit_error(
    tokens: bool, retry_after: float, headers: list[tuple[str, str]] | None = None, message: str | None = None
) -> ApiError:
    body_message = message or (TOKENS_MESSAGE if tokens else REQUESTS_MESSAGE)
    code = "token_quota_exceeded" if tokens else "request_quota_exceeded"
    retry = max(retry_after, 0.0)
    all_headers = [("retry-after", _seconds(retry)), ("retry-after-ms", str(math.ceil(retry * 1000))), *(headers or [])]
    return ApiError.flat(429, body_message, "too_many_requests_error", "quota", code, all_headers)


def _seconds(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


@dataclass
class RateLimitConfig:
    """Limits per API key. The defaults are generous so ordinary tests and benchmarks never hit them."""

    requests_per_day: int = 14_400_000
    tokens_per_minute: int = 100_000_000
    requests_per_minute: int | None = None
    refund_unused: bool = True


class _Bucket:
    __slots__ = ("capacity", "level", "rate", "updated")

    def __init__(self, capacity: float, period: float, now: float) -> None:
        self.capacity = capacity
        self.rate = capacity / period
        self.level = capacity
        self.updated = now

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now

    def wait_for(self, amount: float) -> float:
        return max(0.0, (amount - self.level) / self.rate) if self.rate > 0 else math.inf

    def reset(self) -> float:
        return max(0.0, (self.capacity - self.level) / self.rate) if self.rate > 0 else 0.0


@dataclass
class Admission:
    key: str
    reserved: int
    headers: list[tuple[str, str]]


class RateLimiter:
    def __init__(self, config: RateLimitConfig) -> None:
        self.config = config
        self._clock = time.monotonic
        self._buckets: dict[str, tuple[_Bucket, _Bucket, _Bucket | None]] = {}

    def clear(self) -> None:
        self._buckets.clear()

    def _for(self, key: str, now: float) -> tuple[_Bucket, _Bucket, _Bucket | None]:
        buckets = self._buckets.get(key)
        if buckets is None:
            cfg = self.config
            rpm = _Bucket(cfg.requests_per_minute, 60.0, now) if cfg.requests_per_minute else None
            buckets = (_Bucket(cfg.requests_per_day, 86400.0, now), _Bucket(cfg.tokens_per_minute, 60.0, now), rpm)
            self._buckets[key] = buckets
        for bucket in buckets:
            if bucket is not None:
                bucket.refill(now)
        return buckets

    def _headers(self, day: _Bucket, tokens: _Bucket) -> list[tuple[str, str]]:
        return [
            ("x-ratelimit-limit-requests-day", str(int(day.capacity))),
            ("x-ratelimit-limit-tokens-minute", str(int(tokens.capacity))),
            ("x-ratelimit-remaining-requests-day", str(max(0, math.floor(day.level)))),
            ("x-ratelimit-remaining-tokens-minute", str(max(0, math.floor(tokens.level)))),
            ("x-ratelimit-reset-requests-day", repr(day.reset())),
            ("x-ratelimit-reset-tokens-minute", repr(tokens.reset())),
        ]

    def admit(self, key: str, estimated_tokens: int) -> Admission:
        """Take one request and reserve ``estimated_tokens``, or raise the matching 429."""
        now = self._clock()
        day, tokens, minute = self._for(key, now)
        if minute is not None and minute.level < 1:
            raise rate_limit_error(False, minute.wait_for(1), self._headers(day, tokens))
        if day.level < 1:
            raise rate_limit_error(False, day.wait_for(1), self._headers(day, tokens), REQUESTS_DAY_MESSAGE)
        if tokens.level < estimated_tokens:
            raise rate_limit_error(True, tokens.wait_for(estimated_tokens), self._headers(day, tokens))
        day.level -= 1
        if minute is not None:
            minute.level -= 1
        tokens.level -= estimated_tokens
        return Admission(key, estimated_tokens, self._headers(day, tokens))

    def settle(self, admission: Admission, used_tokens: int) -> None:
        """Return the unused part of a reservation once the reply's real size is known."""
        if not self.config.refund_unused:
            return
        buckets = self._buckets.get(admission.key)
        if buckets is None:
            return
        unused = admission.reserved - used_tokens
        if unused > 0:
            bucket = buckets[1]
            bucket.refill(self._clock())
            bucket.level = min(bucket.capacity, bucket.level + unused)
