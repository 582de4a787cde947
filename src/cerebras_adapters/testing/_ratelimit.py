"""Quotas per API key and model: token buckets over minute, hour and day windows, the ``x-ratelimit-*`` headers,
the 429 bodies and the counters ``GET /_emulator/stats`` reports.

Facts (docs/api-facts.md#token-reservation, docs/api-facts.md#rate-limit-errors, docs/api-facts.md#rate-limit-headers,
docs/api-facts.md#rate-limit-values):

* Limits apply per organisation (here: per API key) **and model**, to requests and to tokens, over a minute, an
  hour and a day (any subset may be set; the 2026 free tier is 5 RPM / 30K TPM / 1M TPH / 1M TPD). Buckets
  replenish continuously ("token-bucket replenishment").
* A request is admitted only if every bucket holds its share: one request, and its *estimated* tokens: prompt
  tokens plus ``max_completion_tokens`` (or, when absent, the model's maximum output) — the reservation that
  makes TPM 429s fire earlier than users expect. Once the reply is known the unused part of the reservation is
  returned to every token bucket (``refund_unused``).
* Headers on successes: the six the docs list and RT-11…RT-16 show, ``x-ratelimit-{limit,remaining,reset}-`` +
  ``requests-day`` / ``tokens-minute``, come first, in that order, whenever those two windows are configured
  (they are by default). Every other configured window adds ``x-ratelimit-{limit,remaining,reset}-{requests,
  tokens}-{minute,hour,day}`` after them: **our extension** of the documented pattern (one free-tier key was
  reported sending ``x-ratelimit-limit-requests-minute``, docs/api-facts.md#rate-limit-headers; the hour and day
  names are not documented). "reset" is the time until the bucket is full again, in float seconds.
* 429 bodies (issue reports, docs/api-facts.md#rate-limit-errors): ``request_quota_exceeded`` with "Requests per
  minute limit exceeded - too many requests sent." and ``token_quota_exceeded`` with "Tokens per minute limit
  exceeded - too many tokens processed." (the TPM code is unverified); the hour and day limits use the same
  sentence with their window. When several limits refuse a request, the body names the one that frees up last.
  No real 429 was ever captured with its headers; the emulator adds ``retry-after`` / ``retry-after-ms`` (the
  wait until the request would fit) and the rate-limit headers, which the SDK honours.
* ``time_scale``: a scaled emulator's minute lasts ``60 / time_scale`` real seconds (an hour and a day alike), so a
  test of "a minute" takes seconds. Limits are unchanged; every reset and retry-after is in real seconds (what a
  client must wait).

This module owns the quotas and the 429 bodies; it must not decide when an injected 429 fires (``_faults``
does, with ``rate_limit_error`` for the body).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field, fields
from typing import Any

from ._asgi import Request, Send, send_json
from ._errors import ApiError

__all__ = ["LIMIT_FIELDS", "Admission", "RateLimitConfig", "RateLimiter", "key_digest", "rate_limit_error"]

#: window name → its length in (emulator) seconds.
WINDOWS: dict[str, float] = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}
KINDS = ("requests", "tokens")
#: the limit fields of ``RateLimitConfig``, in the order admission checks them.
LIMIT_FIELDS = tuple(f"{kind}_per_{window}" for kind in KINDS for window in WINDOWS)
#: the two windows whose headers the docs list (docs/api-facts.md#rate-limit-headers).
DOCUMENTED = ("requests_per_day", "tokens_per_minute")


def rate_limit_error(
    tokens: bool, retry_after: float, headers: list[tuple[str, str]] | None = None, message: str | None = None
) -> ApiError:
    """A 429 for the token or the request quota (by default the per-minute one's body)."""
    body_message = message or _message("tokens_per_minute" if tokens else "requests_per_minute")
    code = "token_quota_exceeded" if tokens else "request_quota_exceeded"
    retry = max(retry_after, 0.0)
    all_headers = [("retry-after", _seconds(retry)), ("retry-after-ms", str(math.ceil(retry * 1000))), *(headers or [])]
    return ApiError.flat(429, body_message, "too_many_requests_error", "quota", code, all_headers)


def _kind(name: str) -> str:
    """``"tokens"`` for ``"tokens_per_hour"``."""
    return name.partition("_per_")[0]


def _window(name: str) -> str:
    """``"hour"`` for ``"tokens_per_hour"``."""
    return name.partition("_per_")[2]


def _message(name: str) -> str:
    kind, window = _kind(name), _window(name)
    what = "requests sent" if kind == "requests" else "tokens processed"
    return f"{kind.capitalize()} per {window} limit exceeded - too many {what}."


def _seconds(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def key_digest(key: str) -> str:
    """How the stats name an API key: the first 16 hex digits of its SHA-256 (never the key itself)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _check_limit(where: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{where} must be a positive whole number, or None for no limit; got {value!r}")
    return value


@dataclass
class RateLimitConfig:
    """Limits per API key and model (``None``: no limit on that window). The defaults are generous so ordinary
    tests and benchmarks never hit them.

    ``models`` overrides limits for one model id, e.g. the 2026 developer tier::

        RateLimitConfig(requests_per_minute=1000, tokens_per_minute=1_000_000,
                        models={"gemma-4-31b": {"requests_per_minute": 300, "tokens_per_minute": 500_000}})

    ``time_scale`` shrinks every window: at 20 a "minute" lasts 3 real seconds.
    """

    requests_per_day: int | None = 14_400_000
    tokens_per_minute: int | None = 100_000_000
    requests_per_minute: int | None = None
    refund_unused: bool = True
    _: KW_ONLY
    requests_per_hour: int | None = None
    tokens_per_hour: int | None = None
    tokens_per_day: int | None = None
    time_scale: float = 1.0
    models: Mapping[str, Mapping[str, int | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in LIMIT_FIELDS:
            _check_limit(f"rate_limits.{name}", getattr(self, name))
        scale = self.time_scale
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not math.isfinite(scale) or scale <= 0:
            raise ValueError(
                f"rate_limits.time_scale must be a positive finite number (1.0: real time; 20: a minute lasts 3 s); "
                f"got {scale!r}"
            )
        self.time_scale = float(scale)
        if not isinstance(self.refund_unused, bool):
            raise ValueError(f"rate_limits.refund_unused must be true or false; got {self.refund_unused!r}")
        if not isinstance(self.models, Mapping):
            raise ValueError(
                f"rate_limits.models must map a model id to its limits, e.g. "
                f'{{"gpt-oss-120b": {{"tokens_per_minute": 1000000}}}}; got {self.models!r}'
            )
        checked: dict[str, dict[str, int | None]] = {}
        for model, limits in self.models.items():
            where = f"rate_limits.models[{model!r}]"
            if not isinstance(limits, Mapping):
                raise ValueError(f"{where} must map limit names to values; got {limits!r}")
            unknown = set(limits) - set(LIMIT_FIELDS)
            if unknown:
                raise ValueError(
                    f"{where}: unknown limit(s) {', '.join(sorted(map(str, unknown)))}; a model overrides only "
                    f"{', '.join(LIMIT_FIELDS)}"
                )
            checked[str(model)] = {name: _check_limit(f"{where}.{name}", v) for name, v in limits.items()}
        self.models = checked

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RateLimitConfig:
        """A config from JSON-like data (the command line's ``--rate-limits``, ``configure(rate_limits={...})``)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"rate_limits must be an object of limit names to values; got {data!r}")
        known = [f.name for f in fields(cls) if f.name != "_"]
        unknown = set(data) - set(known)
        if unknown:
            raise TypeError(f"unknown rate-limit field(s): {', '.join(sorted(unknown))}; known: {', '.join(known)}")
        return cls(**data)

    def limits_for(self, model: str) -> dict[str, int]:
        """The configured limits of one model: the defaults with its override applied."""
        merged: dict[str, int | None] = {name: getattr(self, name) for name in LIMIT_FIELDS}
        merged.update(self.models.get(model, {}))
        return {name: value for name, value in merged.items() if value is not None}


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


class _Quota:
    """One API key's buckets for one model, and what it served and refused."""

    __slots__ = ("buckets", "model", "refused", "requests", "tokens")

    def __init__(self, model: str, limits: dict[str, int], time_scale: float, now: float) -> None:
        self.model = model
        self.buckets = {name: _Bucket(cap, WINDOWS[_window(name)] / time_scale, now) for name, cap in limits.items()}
        self.requests = 0
        self.tokens = 0
        self.refused: Counter[str] = Counter()

    def refill(self, now: float) -> None:
        for bucket in self.buckets.values():
            bucket.refill(now)

    def headers(self) -> list[tuple[str, str]]:
        documented = [name for name in DOCUMENTED if name in self.buckets]
        headers = _header_block(self.buckets, documented)
        headers += _header_block(self.buckets, [name for name in self.buckets if name not in DOCUMENTED])
        return headers


def _header_block(buckets: dict[str, _Bucket], names: list[str]) -> list[tuple[str, str]]:
    """``limit-*`` for each window, then ``remaining-*``, then ``reset-*`` (the documented order, RT-11)."""
    pairs = [(name.replace("_per_", "-"), buckets[name]) for name in names]
    return [
        *((f"x-ratelimit-limit-{suffix}", str(int(b.capacity))) for suffix, b in pairs),
        *((f"x-ratelimit-remaining-{suffix}", str(max(0, math.floor(b.level)))) for suffix, b in pairs),
        *((f"x-ratelimit-reset-{suffix}", repr(b.reset())) for suffix, b in pairs),
    ]


@dataclass
class Admission:
    quota: _Quota
    reserved: int
    headers: list[tuple[str, str]]


class RateLimiter:
    def __init__(self, config: RateLimitConfig) -> None:
        self.config = config
        self._clock = time.monotonic
        self._quotas: dict[tuple[str, str], _Quota] = {}

    def clear(self) -> None:
        self._quotas.clear()

    def _for(self, key: str, model: str, now: float) -> _Quota:
        quota = self._quotas.get((key, model))
        if quota is None:
            quota = _Quota(model, self.config.limits_for(model), self.config.time_scale, now)
            self._quotas[key, model] = quota
        quota.refill(now)
        return quota

    def admit(self, key: str, model: str, estimated_tokens: int) -> Admission:
        """Take one request and reserve ``estimated_tokens`` from ``key``'s quota for ``model``, or raise the 429
        of the limit that refuses it."""
        quota = self._for(key, model, self._clock())
        amounts = {"requests": 1, "tokens": estimated_tokens}
        waits = {
            name: bucket.wait_for(amounts[_kind(name)])
            for name, bucket in quota.buckets.items()
            if bucket.level < amounts[_kind(name)]
        }
        if waits:
            # The limit that frees up last is the one the client really waits for.
            name = max(waits, key=lambda n: waits[n])
            quota.refused[name] += 1
            raise rate_limit_error(_kind(name) == "tokens", waits[name], quota.headers(), _message(name))
        for name, bucket in quota.buckets.items():
            bucket.level -= amounts[_kind(name)]
        quota.requests += 1
        return Admission(quota, estimated_tokens, quota.headers())

    def settle(self, admission: Admission, used_tokens: int) -> None:
        """Count what the reply really used and return the unused part of its reservation to the token buckets."""
        quota = admission.quota
        quota.tokens += used_tokens
        unused = admission.reserved - used_tokens
        if not self.config.refund_unused or unused <= 0:
            return
        now = self._clock()
        for name, bucket in quota.buckets.items():
            if _kind(name) == "tokens":
                bucket.refill(now)
                bucket.level = min(bucket.capacity, bucket.level + unused)

    def stats(self) -> dict[str, Any]:
        """What each key and model was served and refused, and its buckets now (``GET /_emulator/stats``)."""
        now = self._clock()
        entries = []
        for (key, model), quota in self._quotas.items():
            quota.refill(now)
            entries.append(
                {
                    "key": key_digest(key),
                    "model": model,
                    "requests": quota.requests,
                    "tokens": quota.tokens,
                    "rate_limited": sum(quota.refused.values()),
                    "rate_limited_by": dict(quota.refused),
                    "limits": {name: int(b.capacity) for name, b in quota.buckets.items()},
                    "remaining": {name: max(0, math.floor(b.level)) for name, b in quota.buckets.items()},
                }
            )
        return {"time_scale": self.config.time_scale, "quotas": entries}

    async def stats_route(self, request: Request, send: Send) -> None:
        await send_json(send, 200, self.stats())
