"""The rate-limit governor: reserve requests and tokens against a key's limits before a request leaves.

Cerebras meters requests and tokens per key and model over a minute, an hour and a day, and its token limiter
reserves a request's *estimated* cost up front: prompt tokens plus ``max_completion_tokens`` (or the model's
maximum output when absent), returning the unused part when the answer is done (docs/api-facts.md#token-reservation).
Every answer carries the server's view in ``x-ratelimit-*`` headers (docs/api-facts.md#rate-limit-headers). A
client that only retries after a 429 burns its window on rejected requests; this module paces instead.

This module owns the pacing: the estimate of what a request reserves (``estimate_request``), the bucket arithmetic
(``_reserve_on`` / ``_reconcile_on``, mirrored line by line by the Redis backend's Lua script), the two backends
(``InProcessBackend``, ``RedisBackend``) and the front end callers use (``RateLimitGovernor``, ``Reservation``). It
must not import a framework, and must not import ``redis`` at import time (``RedisBackend`` imports it when built).
It never stores an API key: accounts are named by a short SHA-256 digest of the key, plus the model.

The rules:

* **Buckets.** Every limit the headers name (``{limit,remaining,reset}-{requests,tokens}-{minute,hour,day}``, read
  generically from ``RateLimits``) is a token bucket, as the docs describe ("token-bucket replenishment"): capacity
  = the limit, refill = limit / window. A request needs 1 from each requests bucket and its estimate from each
  tokens bucket; it is admitted when every bucket holds that much, and its cost is taken at once. Nothing is
  configured: the first answer teaches the limits. ``time_scale`` divides the windows, for an emulator whose
  "minute" is shortened (1 against the real service). The ``reset`` headers do not set the pace: on the real
  service they count down to a clock-aligned window end (docs/api-facts.md#rate-limit-windows), not to a full bucket.
* **First request.** Before any answer for a key and model, no limit is known: one request (the *probe*) goes
  alone; the others wait for its answer (or its release, or its expiry), then are paced. An answer with no
  rate-limit headers at all (e.g. a route that sends none) means "no limits": later requests are not paced.
* **The server's view against ours.** ``remaining`` is the server's level when it admitted request X, with X's own
  reservation taken. What it cannot show: requests reserved here after X (sent, but perhaps not yet seen by the
  server), and what was settled since. So the level the server should have *now* is projected as ``remaining −
  (our net charges since X's reservation) + (what the server reserved for X − what we reserved for X)``, where the
  net charges are a running counter of every reservation, refund and release on the account (so no per-request
  history is kept). No refill since the server's admission is added: its moment is unknown (a non-streamed answer
  arrives after the whole generation), and assuming it early let a burst through that the server refused. The
  projection errs low (by that refill, and by requests reserved after X that the server happened to see first, which
  it counts twice), so one low answer proves little; when ``CONFIRM_ANSWERS`` (4) answers in a row show the server
  below us, our level drops by the smallest of those gaps. So the server can only *lower* our view, and only for a
  gap that persists (another client on the same key, a prompt the server counts higher, a refund it does not
  make); our own accounting (refill, refunds with the real usage) raises it.
* **Settling.** The real usage replaces the estimate (``Reservation.reconcile``); a 429 refunds the refused
  request and blocks the key and model for the server's ``retry-after`` (or the named limit's reset), adopting its
  time instead of guessing (``on_rate_limited``); a request that never got an answer gives everything back
  (``release``). A reservation nobody settles (a crashed worker) expires after ``reservation_ttl``: it no longer
  counts as in flight (nor holds the first request's place), but its estimate stays charged, as for ``abandon``: the
  server may still serve and charge a request whose client died (whether Cerebras stops on a disconnect is not
  documented; the emulator serves it), and giving it back while the bucket is drained admits requests the server
  refuses (tests/governor/test_multiprocess.py). The buckets' refill returns it.
* **Waiting.** Callers for one key and model wait in one line, first come first served; only the head asks the
  backend, and sleeps for the time the blocking bucket needs (woken early by any settle in this process). A
  cancelled or interrupted wait leaves the line and has reserved nothing. Threads and asyncio tasks share one line
  per governor. With Redis, processes share the budget; the head of each process's line polls at most every
  ``poll_interval`` (a settle in another process cannot wake it).
* **Redis unavailable.** ``fail_open=True`` (default) logs one WARNING per outage and paces on a local in-process
  view until Redis answers again; ``fail_open=False`` raises ``GovernorUnavailableError`` from ``reserve``. Settling a
  request that already got its answer never raises: the answer is not thrown away for a bookkeeping failure.

Every wait is logged at INFO on the ``cerebras_adapters`` logger (seconds, model, which limit; never the key), and
counted in ``RateLimitGovernor.stats``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .errors import APITimeoutError, GovernorUnavailableError, RequestValidationError

if TYPE_CHECKING:
    from .catalog import ModelInfo
    from .types import RateLimits, Usage

__all__ = [
    "AccountView",
    "BucketReading",
    "Decision",
    "Estimate",
    "GovernorBackend",
    "GovernorStats",
    "GovernorUnavailableError",
    "InProcessBackend",
    "RateLimitGovernor",
    "RedisBackend",
    "Reservation",
    "Update",
    "adapter_rate_limiter",
    "completion_reservation",
    "estimate_request",
    "key_digest",
    "readings_from",
    "require_governor",
]

logger = logging.getLogger("cerebras_adapters")

DEFAULT_RESERVATION_TTL = 600.0  # the clients' default attempt_timeout: no live attempt outlasts it
DEFAULT_COMPLETION_RESERVATION = 16_384
IMAGE_TOKEN_ESTIMATE = 1_024
PROMPT_BYTES_PER_TOKEN = 3
MESSAGE_OVERHEAD_TOKENS = 4
REQUEST_OVERHEAD_TOKENS = 16
NO_HINT_BLOCK = 1.0  # seconds a 429 with neither retry-after nor a reset blocks the key and model
CONFIRM_ANSWERS = 4  # answers in a row that must show the server lower than us before our level follows (Lua: 4)
DEFAULT_TICKET_TTL = 1.0  # a ticket not renewed for this long (its process died, or stopped waiting) is dropped

WINDOW_SECONDS: dict[str, float] = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}


# -- What a request reserves ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """What one request reserves: 1 request and ``tokens`` = ``prompt_tokens`` + ``completion_tokens``."""

    prompt_tokens: int
    completion_tokens: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def completion_reservation(body: Mapping[str, Any], info: ModelInfo | None, prompt_tokens: int = 0) -> int:
    """The completion tokens the server's limiter reserves for a request (docs/api-facts.md#token-reservation,
    docs/api-facts.md#max-tokens): ``max_completion_tokens`` (or its deprecated alias ``max_tokens``) when set to
    0 or more; otherwise (absent, null or -1) the model's maximum output from the catalog; for a model the catalog
    does not size, its context window minus the prompt; failing both, 16 384 (the cap the server reportedly
    assumes, dcdpr/jp#1085, unverified). Applies to every API version."""
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    if info is not None and info.max_output_tokens:
        return int(info.max_output_tokens)
    if info is not None and info.context_window:
        return max(0, int(info.context_window) - prompt_tokens)
    return DEFAULT_COMPLETION_RESERVATION


def _text_bytes(value: Any, images: list[int]) -> int:
    """UTF-8 bytes of every string in a message tree; an image part counts once in ``images`` instead of its URL
    (a base64 data URL would otherwise read as hundreds of thousands of tokens)."""
    if isinstance(value, str):
        return len(value.encode("utf-8", "replace"))
    if isinstance(value, Mapping):
        if value.get("type") == "image_url" or "image_url" in value:
            images[0] += 1
            return 0
        return sum(_text_bytes(v, images) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_text_bytes(v, images) for v in value)
    return 0


def estimate_request(body: Mapping[str, Any], info: ModelInfo | None) -> Estimate:
    """The reservation estimate of a chat request body: prompt tokens (no tokenizer runs here: UTF-8 bytes / 3 of
    the messages, tools and response format, which errs high against the ~4 characters per token of English text,
    plus 16 per request and 4 per message for the chat template, and 1 024 per image, unverified: real prompts of a
    few words read 17 tokens on GLM and 145 with a schema on gpt-oss) and the completion reservation
    (``completion_reservation``)."""
    images = [0]
    size = sum(_text_bytes(body.get(name), images) for name in ("messages", "tools", "response_format", "prediction"))
    messages = body.get("messages")
    count = len(messages) if isinstance(messages, list) else 0
    prompt = (
        -(-size // PROMPT_BYTES_PER_TOKEN)
        + MESSAGE_OVERHEAD_TOKENS * count
        + REQUEST_OVERHEAD_TOKENS
        + IMAGE_TOKEN_ESTIMATE * images[0]
    )
    return Estimate(prompt, completion_reservation(body, info, prompt))


# -- What the headers say -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BucketReading:
    """One limit as a response's headers state it: ``name`` (e.g. ``tokens_minute``), ``kind`` (``"tokens"`` or
    ``"requests"``), the limit, what remains, and the window in seconds."""

    name: str
    kind: str
    limit: int
    remaining: float
    window: float


_READING = re.compile(r"^(limit|remaining)_(.+)_(second|minute|hour|day)$")


def readings_from(rate_limits: RateLimits | None, time_scale: float = 1.0) -> tuple[BucketReading, ...]:
    """Every limit named in a response's ``x-ratelimit-*`` headers with both its limit and its remaining count,
    sorted by name. Names other than the six documented ones (``extra``) are read by the same pattern, so
    ``requests-minute`` or an hourly limit are governed too; a kind that is neither requests nor tokens is ignored."""
    if rate_limits is None:
        return ()
    values: dict[str, dict[str, float]] = {}
    fields = {name: getattr(rate_limits, name) for name in rate_limits.__dataclass_fields__ if name != "extra"}
    fields.update(rate_limits.extra)
    for key, raw in fields.items():
        match = _READING.match(key)
        if match is None or raw is None:
            continue
        try:
            number = float(raw)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            values.setdefault(f"{match[2]}_{match[3]}", {})[match[1]] = number
    readings = []
    for name, parts in sorted(values.items()):
        kind = name.rsplit("_", 1)[0]
        kind = "tokens" if "token" in kind else "requests" if "request" in kind else ""
        if not kind or "limit" not in parts or "remaining" not in parts or parts["limit"] < 0:
            continue
        window = WINDOW_SECONDS[name.rsplit("_", 1)[1]] / time_scale
        readings.append(BucketReading(name, kind, int(parts["limit"]), max(0.0, parts["remaining"]), window))
    return tuple(readings)


# -- The bucket arithmetic (one rule; the Lua script below mirrors it line by line) ----------------------------------


@dataclass(frozen=True)
class Decision:
    """A backend's answer to a reservation: admitted, or the seconds to wait and the limit (or reason) that blocks.
    ``wait`` is infinite when the request can never fit (its cost exceeds a bucket's capacity)."""

    admitted: bool
    wait: float = 0.0
    limit: str | None = None


@dataclass(frozen=True)
class Update:
    """What a settled (or half-settled) request teaches the account.

    ``readings``: the response's limits; ``used_tokens``: the real usage (None: unknown); ``server_tokens``: what
    the server reserved for it (prompt + completion reservation; 0 when it refused it; None: unknown);
    ``counted``: whether the server counted the request at all; ``final``: the reservation is done (False for a
    stream's headers, before its usage); ``no_limits``: an answer came with no rate-limit headers; ``block_for``:
    seconds to block the account (a 429's hint)."""

    readings: tuple[BucketReading, ...] = ()
    used_tokens: int | None = None
    server_tokens: int | None = None
    counted: bool = True
    final: bool = True
    no_limits: bool = False
    block_for: float = 0.0


class _Bucket:
    """A token bucket; ``gap`` / ``n``: the smallest excess of our level over the server's projected view across the
    last ``n`` answers in a row that showed one (applied once ``CONFIRM_ANSWERS`` in a row agree)."""

    __slots__ = ("cap", "gap", "kind", "level", "n", "rate", "upd")

    def __init__(self, kind: str, cap: float, rate: float, level: float, upd: float) -> None:
        self.kind = kind
        self.cap = cap
        self.rate = rate
        self.level = level
        self.upd = upd
        self.gap = 0.0
        self.n = 0


class _Held:
    __slots__ = ("cr", "ct", "expires", "sent", "tokens")

    def __init__(self, tokens: float, ct: float, cr: float, sent: float, expires: float) -> None:
        self.tokens = tokens
        self.ct = ct
        self.cr = cr
        self.sent = sent
        self.expires = expires


class _Account:
    """One key and model: mode ``u`` (limits unknown), ``m`` (metered) or ``n`` (no limits), the probe, a 429 block,
    the running net charges (``ct`` tokens, ``cr`` requests), the buckets, the reservations held, and the line of
    waiting callers' tickets (one per process's head waiter; the oldest live ticket goes first)."""

    __slots__ = ("blocked", "buckets", "cr", "ct", "held", "line", "mode", "probe")

    def __init__(self) -> None:
        self.mode = "u"
        self.probe = ""
        self.blocked = 0.0
        self.ct = 0.0
        self.cr = 0.0
        self.buckets: dict[str, _Bucket] = {}
        self.held: dict[str, _Held] = {}
        self.line: dict[str, tuple[float, float, int]] = {}  # ticket -> (in line since, last seen, tokens)


def _refill(b: _Bucket, now: float) -> None:
    if now > b.upd:
        b.level = min(b.cap, b.level + (now - b.upd) * b.rate)
        b.upd = now


def _refund(s: _Account, tokens: float, requests: float, now: float) -> None:
    for name in sorted(s.buckets):
        b = s.buckets[name]
        _refill(b, now)
        b.level = min(b.cap, b.level + (tokens if b.kind == "t" else requests))
    s.ct = s.ct - tokens
    s.cr = s.cr - requests


def _expire(s: _Account, now: float) -> None:
    # Like an abandoned request, an expired one stays charged: the server may have served and charged it after its
    # client died, so only the buckets' refill gives its cost back (the module docstring, "Settling").
    for rid in [rid for rid, h in s.held.items() if h.expires <= now]:
        del s.held[rid]
        if s.probe == rid:
            s.probe = ""


def _refusal(s: _Account, tokens: int, now: float, ticket: str) -> Decision | None:
    if s.blocked > now:
        return Decision(False, s.blocked - now, "retry-after")
    if s.mode == "u" and s.probe != "" and s.probe in s.held:
        return Decision(False, s.held[s.probe].expires - now, "first-response")
    if s.mode == "m":
        # Callers ahead in the line keep their share: this one fits only if the bucket holds theirs and its own.
        ahead_tokens, ahead_requests = 0, 0
        for t, (_since, _seen, need) in sorted(s.line.items(), key=lambda item: (item[1][0], item[0])):
            if t == ticket:
                break
            ahead_tokens, ahead_requests = ahead_tokens + need, ahead_requests + 1
        wait, limit, never = 0.0, "", ""
        for name in sorted(s.buckets):
            b = s.buckets[name]
            _refill(b, now)
            own = tokens if b.kind == "t" else 1
            if own > b.cap:
                never = name
                break
            need = own + (ahead_tokens if b.kind == "t" else ahead_requests)
            if b.level < need:
                w = (need - b.level) / b.rate
                if w > wait:
                    wait, limit = w, name
        if never:
            return Decision(False, math.inf, never)
        if limit:
            return Decision(False, wait, limit)
    return None


def _reserve_on(
    s: _Account, rid: str, tokens: int, now: float, ttl: float, ticket: str = "", ticket_ttl: float = 1.0
) -> Decision:
    _expire(s, now)
    for stale in [t for t, (_since, seen, _need) in s.line.items() if seen + ticket_ttl <= now]:
        del s.line[stale]
    refused = _refusal(s, tokens, now, ticket)
    if refused is not None:
        if ticket:
            s.line[ticket] = (s.line[ticket][0] if ticket in s.line else now, now, tokens)
        return refused
    s.line.pop(ticket, None)
    if s.mode == "m":
        for name in sorted(s.buckets):
            b = s.buckets[name]
            b.level = b.level - (tokens if b.kind == "t" else 1)
    if s.mode == "u":
        s.probe = rid
    s.ct = s.ct + tokens
    s.cr = s.cr + 1
    s.held[rid] = _Held(tokens, s.ct, s.cr, now, now + ttl)
    return Decision(True)


def _leave_on(s: _Account, ticket: str, now: float) -> None:
    _expire(s, now)
    s.line.pop(ticket, None)


def _reconcile_on(s: _Account, rid: str, u: Update, now: float) -> None:
    _expire(s, now)
    h = s.held.get(rid)
    if h is not None and u.final:
        del s.held[rid]
    if u.final:
        if h is not None:  # an answer after the expiry changes nothing: its estimate stayed charged
            _refund(s, (h.tokens - u.used_tokens) if u.used_tokens is not None else 0, 0 if u.counted else 1, now)
    if s.probe == rid:
        s.probe = ""
    if u.readings:
        s.mode = "m"
        for r in u.readings:
            kind = "t" if r.kind == "tokens" else "r"
            rate = r.limit / r.window
            if h is not None:
                charged = (s.ct - h.ct) if kind == "t" else (s.cr - h.cr)
                if kind == "t":
                    own = (u.server_tokens - h.tokens) if u.server_tokens is not None else 0
                else:
                    own = (1 if u.counted else 0) - 1
                projected = r.remaining - charged + own
            else:
                projected = r.remaining
            b = s.buckets.get(r.name)
            if b is None:
                s.buckets[r.name] = _Bucket(kind, r.limit, rate, min(r.limit, projected), now)
            else:
                _refill(b, now)
                b.cap = r.limit
                b.rate = rate
                gap = b.level - projected
                if gap > 0:
                    b.gap = gap if b.n == 0 else min(b.gap, gap)
                    b.n = b.n + 1
                    if b.n >= CONFIRM_ANSWERS:
                        b.level = b.level - b.gap
                        b.gap, b.n = 0.0, 0
                else:
                    b.gap, b.n = 0.0, 0
                b.level = min(b.level, r.limit)
    elif u.no_limits and s.mode == "u":
        s.mode = "n"
    if u.block_for > 0:
        s.blocked = max(s.blocked, now + u.block_for)


# -- Backends ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountView:
    """What a backend knows of one key and model now: ``mode`` (``"unknown"`` before the first answer,
    ``"metered"``, or ``"unmetered"`` when answers carry no rate-limit headers), each bucket's limit and level
    (refilled to now), and the number of reservations not yet settled."""

    mode: str
    limits: dict[str, int]
    levels: dict[str, float]
    in_flight: int


_MODES = {"u": "unknown", "m": "metered", "n": "unmetered"}


def _view_of(mode: str, buckets: Mapping[str, tuple[float, float, float, float]], held: int, now: float) -> AccountView:
    """``buckets``: name → (capacity, rate, level, updated)."""
    levels = {n: min(c, lv + max(0.0, now - u) * r) for n, (c, r, lv, u) in buckets.items()}
    return AccountView(_MODES.get(mode, mode), {n: int(b[0]) for n, b in buckets.items()}, levels, held)


class GovernorBackend(Protocol):
    """Where the accounts live. ``reserve`` and ``reconcile`` are atomic per account; ``now`` is the governor's
    clock (wall-clock seconds, shared by every process of a Redis backend). ``ticket`` names a waiting caller: a
    refused caller keeps its place in the account's line under it (renewed by asking again), ``leave`` gives it up.
    Raise ``_BackendDown`` when the store cannot be reached."""

    reservation_ttl: float
    poll_interval: float

    def reserve(self, account: str, rid: str, tokens: int, now: float, ticket: str = "") -> Decision: ...

    def reconcile(self, account: str, rid: str, update: Update, now: float) -> None: ...

    def leave(self, account: str, ticket: str, now: float) -> None: ...

    def view(self, account: str, now: float) -> AccountView: ...


class _BackendDown(Exception):
    """A backend's store did not answer (raised by ``RedisBackend``; the governor fails open or closed on it)."""


class InProcessBackend:
    """Accounts in this process's memory (the default): threads and asyncio tasks of one process share them."""

    poll_interval = math.inf  # every settle happens in this process and wakes the waiting head

    def __init__(
        self, *, reservation_ttl: float = DEFAULT_RESERVATION_TTL, ticket_ttl: float = DEFAULT_TICKET_TTL
    ) -> None:
        self.reservation_ttl = _positive("reservation_ttl", reservation_ttl)
        self.ticket_ttl = _positive("ticket_ttl", ticket_ttl)
        self._accounts: dict[str, _Account] = {}
        self._lock = threading.Lock()

    def _state(self, account: str) -> _Account:
        state = self._accounts.get(account)
        if state is None:
            state = self._accounts[account] = _Account()
        return state

    def reserve(self, account: str, rid: str, tokens: int, now: float, ticket: str = "") -> Decision:
        with self._lock:
            return _reserve_on(self._state(account), rid, tokens, now, self.reservation_ttl, ticket, self.ticket_ttl)

    def leave(self, account: str, ticket: str, now: float) -> None:
        with self._lock:
            _leave_on(self._state(account), ticket, now)

    def reconcile(self, account: str, rid: str, update: Update, now: float) -> None:
        with self._lock:
            _reconcile_on(self._state(account), rid, update, now)

    def view(self, account: str, now: float) -> AccountView:
        with self._lock:
            state = self._accounts.get(account) or _Account()
            buckets = {n: (b.cap, b.rate, b.level, b.upd) for n, b in state.buckets.items()}
            return _view_of(state.mode, buckets, len(state.held), now)


# The Lua twin of _reserve_on / _reconcile_on. Numbers are stored with %.17g so that a double survives the round
# trip exactly and both backends take the same decisions (tests/governor/test_redis_backend.py checks it).
_LUA = r"""
local S, H, E, L, T = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local op, now = ARGV[1], tonumber(ARGV[2])
local function fmt(x) return string.format('%.17g', x) end
local names, B = {}, {}
local raw = redis.call('HGET', S, 'buckets')
if raw and raw ~= '' then for n in string.gmatch(raw, '[^,]+') do names[#names + 1] = n end end
for _, n in ipairs(names) do
  local v = redis.call('HMGET', S, n .. ':k', n .. ':c', n .. ':r', n .. ':l', n .. ':u', n .. ':g', n .. ':n')
  B[n] = {kind = v[1], cap = tonumber(v[2]), rate = tonumber(v[3]), level = tonumber(v[4]), upd = tonumber(v[5]),
          gap = tonumber(v[6] or '0'), n = tonumber(v[7] or '0')}
end
local mode = redis.call('HGET', S, 'mode') or 'u'
local probe = redis.call('HGET', S, 'probe') or ''
local blocked = tonumber(redis.call('HGET', S, 'blocked') or '0')
local ct = tonumber(redis.call('HGET', S, 'ct') or '0')
local cr = tonumber(redis.call('HGET', S, 'cr') or '0')

local function refill(b)
  if now > b.upd then
    b.level = math.min(b.cap, b.level + (now - b.upd) * b.rate)
    b.upd = now
  end
end
local function refund(tokens, requests)
  for _, n in ipairs(names) do
    local b = B[n]
    refill(b)
    local amount = requests
    if b.kind == 't' then amount = tokens end
    b.level = math.min(b.cap, b.level + amount)
  end
  ct = ct - tokens
  cr = cr - requests
end
local function held(rid)
  local v = redis.call('HGET', H, rid)
  if not v then return nil end
  local p = {}
  for x in string.gmatch(v, '[^|]+') do p[#p + 1] = tonumber(x) end
  return {tokens = p[1], ct = p[2], cr = p[3], sent = p[4], expires = p[5]}
end

-- expire
local expired = redis.call('ZRANGEBYSCORE', E, '-inf', fmt(now))
for _, rid in ipairs(expired) do
  redis.call('HDEL', H, rid)
  redis.call('ZREM', E, rid)
  if probe == rid then probe = '' end
end

local result = nil
if op == 'leave' then
  redis.call('ZREM', L, ARGV[3])
  redis.call('HDEL', T, ARGV[3])
  result = {'1', '0', ''}
elseif op == 'reserve' then
  local rid, tokens, ttl = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
  local ticket, ticket_ttl = ARGV[6], tonumber(ARGV[7])
  local seen = redis.call('HGETALL', T)
  for i = 1, #seen, 2 do
    local at = string.find(seen[i + 1], '|', 1, true)
    if tonumber(string.sub(seen[i + 1], 1, at - 1)) + ticket_ttl <= now then
      redis.call('HDEL', T, seen[i])
      redis.call('ZREM', L, seen[i])
    end
  end
  local probe_held = nil
  if mode == 'u' and probe ~= '' then probe_held = held(probe) end
  if blocked > now then
    result = {'0', fmt(blocked - now), 'retry-after'}
  elseif probe_held then
    result = {'0', fmt(probe_held.expires - now), 'first-response'}
  else
    if mode == 'm' then
      local ahead_tokens, ahead_requests = 0, 0
      for _, t in ipairs(redis.call('ZRANGE', L, 0, -1)) do
        if t == ticket then break end
        local v = redis.call('HGET', T, t)
        local at = string.find(v, '|', 1, true)
        ahead_tokens = ahead_tokens + tonumber(string.sub(v, at + 1))
        ahead_requests = ahead_requests + 1
      end
      local wait, limit, never = 0, '', ''
      for _, n in ipairs(names) do
        local b = B[n]
        refill(b)
        local own, need = 1, 1 + ahead_requests
        if b.kind == 't' then own, need = tokens, tokens + ahead_tokens end
        if own > b.cap then never = n break end
        if b.level < need then
          local w = (need - b.level) / b.rate
          if w > wait then wait, limit = w, n end
        end
      end
      if never ~= '' then
        result = {'0', 'inf', never}
      elseif limit ~= '' then
        result = {'0', fmt(wait), limit}
      end
    end
  end
  if result then
    if ticket ~= '' then
      if not redis.call('ZSCORE', L, ticket) then redis.call('ZADD', L, fmt(now), ticket) end
      redis.call('HSET', T, ticket, fmt(now) .. '|' .. fmt(tokens))
    end
  else
    redis.call('ZREM', L, ticket)
    redis.call('HDEL', T, ticket)
    if mode == 'm' then
      for _, n in ipairs(names) do
        local b = B[n]
        local own = 1
        if b.kind == 't' then own = tokens end
        b.level = b.level - own
      end
    end
    if mode == 'u' then probe = rid end
    ct = ct + tokens
    cr = cr + 1
    local record = fmt(tokens) .. '|' .. fmt(ct) .. '|' .. fmt(cr) .. '|' .. fmt(now) .. '|' .. fmt(now + ttl)
    redis.call('HSET', H, rid, record)
    redis.call('ZADD', E, fmt(now + ttl), rid)
    result = {'1', '0', ''}
  end
else
  local rid = ARGV[3]
  local used, server = nil, nil
  if ARGV[4] ~= '' then used = tonumber(ARGV[4]) end
  if ARGV[5] ~= '' then server = tonumber(ARGV[5]) end
  local counted, final, no_limits = ARGV[6] == '1', ARGV[7] == '1', ARGV[8] == '1'
  local block_for, n = tonumber(ARGV[9]), tonumber(ARGV[10])
  local h = held(rid)
  if h and final then
    redis.call('HDEL', H, rid)
    redis.call('ZREM', E, rid)
  end
  if final and h then
    local t, q = 0, 1
    if used then t = h.tokens - used end
    if counted then q = 0 end
    refund(t, q)
  end
  if probe == rid then probe = '' end
  if n > 0 then
    mode = 'm'
    for i = 0, n - 1 do
      local base = 11 + i * 5
      local name, kind = ARGV[base], ARGV[base + 1]
      local limit, remaining, window = tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4])
      local rate = limit / window
      local projected = remaining
      if h then
        local charged, own = cr - h.cr, 0
        if kind == 't' then
          charged = ct - h.ct
          if server then own = server - h.tokens end
        else
          if counted then own = 0 else own = -1 end
        end
        projected = remaining - charged + own
      end
      local b = B[name]
      if not b then
        B[name] = {kind = kind, cap = limit, rate = rate, level = math.min(limit, projected), upd = now, gap = 0, n = 0}
        names[#names + 1] = name
        table.sort(names)
      else
        refill(b)
        b.cap = limit
        b.rate = rate
        local gap = b.level - projected
        if gap > 0 then
          if b.n == 0 then b.gap = gap else b.gap = math.min(b.gap, gap) end
          b.n = b.n + 1
          if b.n >= CONFIRM_ANSWERS then
            b.level = b.level - b.gap
            b.gap, b.n = 0, 0
          end
        else
          b.gap, b.n = 0, 0
        end
        b.level = math.min(b.level, limit)
      end
    end
  elseif no_limits and mode == 'u' then
    mode = 'n'
  end
  if block_for > 0 then blocked = math.max(blocked, now + block_for) end
  result = {'1', '0', ''}
end

local fields = {'mode', mode, 'probe', probe, 'blocked', fmt(blocked), 'ct', fmt(ct), 'cr', fmt(cr),
                'buckets', table.concat(names, ',')}
for _, n in ipairs(names) do
  local b = B[n]
  for _, kv in ipairs({{':k', b.kind}, {':c', fmt(b.cap)}, {':r', fmt(b.rate)}, {':l', fmt(b.level)},
                       {':u', fmt(b.upd)}, {':g', fmt(b.gap)}, {':n', fmt(b.n)}}) do
    fields[#fields + 1] = n .. kv[1]
    fields[#fields + 1] = kv[2]
  end
end
redis.call('HSET', S, unpack(fields))
for _, k in ipairs(KEYS) do redis.call('EXPIRE', k, 172800) end
return result
""".replace("CONFIRM_ANSWERS", "4")


class RedisBackend:
    """Accounts in Redis, shared by every process, container or proxy replica that uses the same server and
    ``prefix``. Each reserve and reconcile is one Lua script run (``EVALSHA``, loading the script when the server
    does not know it), so it is atomic. Keys per account (``<prefix>:{<key digest>:<model>}:state|held|expiry``)
    expire two days after their last use; a reservation is a member of ``held`` with an expiry in ``expiry``,
    dropped inside the script (its estimate stays charged) once past ``reservation_ttl``.

    ``url_or_client`` is a ``redis://`` URL or a ``redis.Redis`` client. Calls are synchronous, also from async
    code: a loopback round trip is ~0.1 ms, and a call that cannot be interrupted halfway cannot leave a
    reservation nobody owns. ``socket_timeout`` (URL only) bounds how long an unreachable server can stall a caller.
    Needs the ``redis`` extra: ``pip install 'cerebras-adapters[redis]'``.
    """

    def __init__(
        self,
        url_or_client: Any,
        *,
        prefix: str = "cerebras_adapters:governor",
        reservation_ttl: float = DEFAULT_RESERVATION_TTL,
        poll_interval: float = 0.05,
        socket_timeout: float = 0.5,
        ticket_ttl: float = DEFAULT_TICKET_TTL,
    ) -> None:
        try:
            import redis
        except ImportError:  # pragma: no cover - the extra is installed in this project's environment
            raise RequestValidationError(
                "RedisBackend needs the redis package.",
                param="backend",
                fix="pip install 'cerebras-adapters[redis]'",
            ) from None
        self._errors: tuple[type[BaseException], ...] = (
            redis.exceptions.ConnectionError,
            redis.exceptions.TimeoutError,
        )
        self._no_script: type[BaseException] = redis.exceptions.NoScriptError
        if isinstance(url_or_client, str):
            self._redis = redis.Redis.from_url(
                url_or_client, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
            )
        elif isinstance(url_or_client, redis.Redis):
            self._redis = url_or_client
        else:
            raise RequestValidationError(
                f"RedisBackend takes a redis:// URL or a redis.Redis client, not {type(url_or_client).__name__}.",
                param="url_or_client",
                fix="pass RedisBackend('redis://localhost:6379/0')",
            )
        if not isinstance(prefix, str) or not prefix:
            raise RequestValidationError(
                f"prefix must be a non-empty string, not {prefix!r}.",
                param="prefix",
                fix="pass prefix='myapp:governor'",
            )
        self.prefix = prefix
        self.reservation_ttl = _positive("reservation_ttl", reservation_ttl)
        self.poll_interval = _positive("poll_interval", poll_interval)
        self.ticket_ttl = _positive("ticket_ttl", ticket_ttl)
        self._sha = hashlib.sha1(_LUA.encode()).hexdigest()

    def __repr__(self) -> str:
        return f"RedisBackend(prefix={self.prefix!r})"  # never the URL: it may hold a password

    def _keys(self, account: str) -> list[str]:
        base = f"{self.prefix}:{{{account}}}"
        return [f"{base}:state", f"{base}:held", f"{base}:expiry", f"{base}:line", f"{base}:seen"]

    def _run(self, account: str, args: list[str]) -> list[str]:
        keys = self._keys(account)
        try:
            try:
                reply = self._redis.evalsha(self._sha, len(keys), *keys, *args)
            except self._no_script:
                reply = self._redis.eval(_LUA, len(keys), *keys, *args)
        except self._errors as exc:
            raise _BackendDown(f"{type(exc).__name__}: {exc}") from None
        return [_text(v) if isinstance(v, (bytes, str)) else str(v) for v in reply]

    def reserve(self, account: str, rid: str, tokens: int, now: float, ticket: str = "") -> Decision:
        ttl, ticket_ttl = repr(self.reservation_ttl), repr(self.ticket_ttl)
        admitted, wait, limit = self._run(
            account, ["reserve", repr(float(now)), rid, str(int(tokens)), ttl, ticket, ticket_ttl]
        )
        return Decision(admitted == "1", float(wait), limit or None)

    def leave(self, account: str, ticket: str, now: float) -> None:
        self._run(account, ["leave", repr(float(now)), ticket])

    def reconcile(self, account: str, rid: str, update: Update, now: float) -> None:
        u = update
        args = [
            "reconcile",
            repr(float(now)),
            rid,
            "" if u.used_tokens is None else str(int(u.used_tokens)),
            "" if u.server_tokens is None else str(int(u.server_tokens)),
            "1" if u.counted else "0",
            "1" if u.final else "0",
            "1" if u.no_limits else "0",
            repr(float(u.block_for)),
            str(len(u.readings)),
        ]
        for r in u.readings:
            args += [r.name, "t" if r.kind == "tokens" else "r", str(r.limit), repr(float(r.remaining)), repr(r.window)]
        self._run(account, args)

    def view(self, account: str, now: float) -> AccountView:
        state_key, held_key = self._keys(account)[:2]
        try:
            raw = self._redis.hgetall(state_key)
            held = int(self._redis.hlen(held_key))
        except self._errors as exc:
            raise _BackendDown(f"{type(exc).__name__}: {exc}") from None
        state = {_text(k): _text(v) for k, v in raw.items()}
        names = [n for n in state.get("buckets", "").split(",") if n]
        buckets = {n: tuple(float(state[f"{n}:{f}"]) for f in "crlu") for n in names}
        return _view_of(state.get("mode", "u"), buckets, held, now)  # type: ignore[arg-type]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise RequestValidationError(
            f"{name} must be a finite number of seconds > 0, not {value!r}.", param=name, fix=f"pass {name}=60"
        )
    return float(value)


# -- The front end ------------------------------------------------------------------------------------------------


def key_digest(api_key: str) -> str:
    """The name an API key's accounts go by: the first 16 hex digits of its SHA-256 (the key itself is never kept)."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class GovernorStats:
    """Counters of one governor since it was built: ``reservations`` admitted, ``waits`` (reservations that had to
    wait) and ``waited_seconds`` in total, ``rate_limited`` (429s adopted), ``released`` (requests that got no
    answer), ``backend_errors`` (calls the shared backend failed; with ``fail_open`` they used the local view)."""

    reservations: int = 0
    waits: int = 0
    waited_seconds: float = 0.0
    rate_limited: int = 0
    released: int = 0
    backend_errors: int = 0


class _Waiter:
    """One caller in a line: woken (thread-safely) when it becomes the head or the account's budget changes."""

    __slots__ = ("_aevent", "_event", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self._loop = loop
        self._event = threading.Event() if loop is None else None
        self._aevent = asyncio.Event() if loop is not None else None

    def wake(self) -> None:
        if self._event is not None:
            self._event.set()
            return
        assert self._loop is not None and self._aevent is not None
        try:
            self._loop.call_soon_threadsafe(self._aevent.set)
        except RuntimeError:  # its loop is closed: its caller is gone
            pass

    def clear(self) -> None:
        if self._event is not None:
            self._event.clear()
        else:
            assert self._aevent is not None
            self._aevent.clear()

    def sleep(self, timeout: float | None) -> None:
        assert self._event is not None
        self._event.wait(timeout)

    async def asleep(self, timeout: float | None) -> None:
        assert self._aevent is not None
        try:
            await asyncio.wait_for(self._aevent.wait(), timeout)
        except TimeoutError:
            pass


class Reservation:
    """One admitted request's hold on its key and model. Settle it exactly once (later calls do nothing):
    ``reconcile`` after an answer (a stream may first pass ``final=False`` with its headers, then its usage),
    ``on_rate_limited`` after a 429, ``release`` when the server never got it, ``abandon`` when it failed after it
    may have. Never raises."""

    __slots__ = ("_backend", "_done", "_governor", "account", "estimate", "id", "model")

    def __init__(
        self, governor: RateLimitGovernor, backend: GovernorBackend, account: str, rid: str, model: str, est: Estimate
    ) -> None:
        self._governor = governor
        self._backend = backend
        self.account = account
        self.id = rid
        self.model = model
        self.estimate = est
        self._done = False

    def __repr__(self) -> str:
        return f"Reservation(model={self.model!r}, tokens={self.estimate.tokens}, settled={self._done})"

    @property
    def settled(self) -> bool:
        return self._done

    def reconcile(
        self, rate_limits: RateLimits | None = None, usage: Usage | None = None, *, final: bool = True
    ) -> None:
        """After an answer: its ``x-ratelimit-*`` headers teach the limits (an answer with none means the key and
        model are not metered); its usage replaces the estimate."""
        if self._done:
            return
        governor = self._governor
        readings = readings_from(rate_limits, governor.time_scale)
        used = server = None
        if usage is not None:
            used = int(usage.total_tokens or (usage.prompt_tokens + usage.completion_tokens))
            server = int(usage.prompt_tokens) + self.estimate.completion_tokens
        update = Update(readings, used, server, final=final, no_limits=rate_limits is None)
        self._done = final
        governor._settle(self, update)

    def on_rate_limited(self, retry_after: float | None = None, rate_limits: RateLimits | None = None) -> None:
        """After a 429: the refused request is refunded and the key and model wait for the server's hint
        (``retry_after``, e.g. ``RateLimitError.retry_after``) before the next reservation."""
        if self._done:
            return
        self._done = True
        block = retry_after if retry_after is not None and retry_after >= 0 else None
        if block is None:
            block = NO_HINT_BLOCK
        readings = readings_from(rate_limits, self._governor.time_scale)
        update = Update(readings, 0, 0, counted=False, block_for=block)
        self._governor._count("rate_limited")
        self._governor._settle(self, update)

    def abandon(self) -> None:
        """The request failed after it may have reached the server (a read timeout, a cut connection): its estimate
        stays charged, as the server may have charged it; the next answer's headers correct the difference."""
        if self._done:
            return
        self._done = True
        self._governor._settle(self, Update())

    def release(self) -> None:
        """The request got no answer (never sent, or refused by this side): give its reservation back."""
        if self._done:
            return
        self._done = True
        self._governor._count("released")
        self._governor._settle(self, Update(used_tokens=0, server_tokens=0, counted=False))


class RateLimitGovernor:
    """Paces requests per API key and model so they fit the server's limits instead of drawing 429s.

    ``RateLimitGovernor()`` keeps its accounts in this process (``InProcessBackend``); pass
    ``backend=RedisBackend("redis://…")`` to share one budget between processes. Give it to a client
    (``CerebrasClient(rate_limiter=governor)``), or drive it yourself: ``reservation = governor.reserve(api_key,
    model, estimate_request(body, info))`` (``await governor.areserve(...)`` in async code) before sending, then
    ``reservation.reconcile(response_rate_limits, usage)``, ``reservation.on_rate_limited(retry_after, rate_limits)``
    or ``reservation.release()``. See the module docstring for the rules; ``stats`` for the counters.

    ``fail_open``: when the backend cannot be reached, True (default) warns once per outage and paces on a local
    view; False raises ``GovernorUnavailableError``. ``time_scale`` shortens the windows the headers name (for an
    emulator whose minute lasts 60 / time_scale seconds; 1 against the real service). ``clock`` is wall-clock time
    (all processes sharing a Redis backend must agree on it).
    """

    def __init__(
        self,
        backend: GovernorBackend | None = None,
        *,
        fail_open: bool = True,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if backend is not None and not all(hasattr(backend, a) for a in ("reserve", "reconcile", "reservation_ttl")):
            raise RequestValidationError(
                f"backend must be an InProcessBackend or a RedisBackend, not {type(backend).__name__}.",
                param="backend",
                fix="pass backend=RedisBackend('redis://localhost:6379/0'), or leave it out for this process only",
            )
        if not isinstance(fail_open, bool):
            raise RequestValidationError(
                f"fail_open must be True or False, not {fail_open!r}.", param="fail_open", fix="pass fail_open=False"
            )
        self.backend: GovernorBackend = backend if backend is not None else InProcessBackend()
        self.fail_open = fail_open
        self.time_scale = _positive("time_scale", time_scale)
        self._clock = clock
        self._local: GovernorBackend = (
            self.backend
            if isinstance(self.backend, InProcessBackend)
            else InProcessBackend(reservation_ttl=self.backend.reservation_ttl)
        )
        self._lock = threading.Lock()
        self._lines: dict[str, list[_Waiter]] = {}
        self._counts: dict[str, float] = {name: 0 for name in GovernorStats.__dataclass_fields__}
        self._outage = False

    def __repr__(self) -> str:
        return f"RateLimitGovernor(backend={self.backend!r}, fail_open={self.fail_open})"

    # One governor is one budget: a copy (LiteLLM's Router deep-copies its model list, LangChain copies models) must
    # be the same governor, or each copy would pace alone.
    def __copy__(self) -> RateLimitGovernor:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> RateLimitGovernor:
        return self

    @property
    def stats(self) -> GovernorStats:
        """A snapshot of the counters (``GovernorStats``)."""
        with self._lock:
            c = dict(self._counts)
        return GovernorStats(
            reservations=int(c["reservations"]),
            waits=int(c["waits"]),
            waited_seconds=c["waited_seconds"],
            rate_limited=int(c["rate_limited"]),
            released=int(c["released"]),
            backend_errors=int(c["backend_errors"]),
        )

    def view(self, api_key: str, model: str) -> AccountView:
        """What the backend knows of ``api_key``'s limits for ``model`` now (limits, levels, reservations open)."""
        try:
            return self.backend.view(f"{key_digest(api_key)}:{model}", self._clock())
        except _BackendDown as exc:
            raise GovernorUnavailableError(f"the backend {self.backend!r} is unavailable ({exc}).") from None

    def _count(self, name: str, amount: float = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    # -- reserving

    def reserve(self, api_key: str, model: str, estimate: Estimate, *, timeout: float | None = None) -> Reservation:
        """Reserve one request and ``estimate.tokens`` for ``model`` on ``api_key``'s limits, sleeping until they fit.
        An interrupted wait (KeyboardInterrupt, an exception from another thread) leaves the line, reserving nothing.
        With ``timeout`` (seconds), a wait that would last longer raises ``APITimeoutError`` once that is known."""
        account = f"{key_digest(api_key)}:{model}"
        waiter = _Waiter(None)
        waited = _Wait(model, give_up_at=None if timeout is None else time.monotonic() + timeout)
        self._join(account, waiter)
        try:
            while True:
                step = self._step(account, waiter, model, estimate, waited)
                if isinstance(step, Reservation):
                    return step
                waiter.sleep(step)
        finally:
            self._leave(account, waiter, waited)

    async def areserve(
        self, api_key: str, model: str, estimate: Estimate, *, timeout: float | None = None
    ) -> Reservation:
        """Async ``reserve``: awaits instead of sleeping. A cancelled wait leaves the line, reserving nothing."""
        account = f"{key_digest(api_key)}:{model}"
        waiter = _Waiter(asyncio.get_running_loop())
        waited = _Wait(model, give_up_at=None if timeout is None else time.monotonic() + timeout)
        self._join(account, waiter)
        try:
            while True:
                step = self._step(account, waiter, model, estimate, waited)
                if isinstance(step, Reservation):
                    return step
                await waiter.asleep(step)
        finally:
            self._leave(account, waiter, waited)

    def _join(self, account: str, waiter: _Waiter) -> None:
        with self._lock:
            self._lines.setdefault(account, []).append(waiter)

    def _leave(self, account: str, waiter: _Waiter, waited: _Wait) -> None:
        if waited.queued is not None:  # it stopped waiting (cancelled, interrupted, refused): give up its ticket
            try:
                waited.queued.leave(account, waited.ticket, self._clock())
            except _BackendDown:
                pass  # the ticket lapses after ticket_ttl
        with self._lock:
            line = self._lines.get(account, [])
            was_head = bool(line) and line[0] is waiter
            if waiter in line:
                line.remove(waiter)
            if not line:
                self._lines.pop(account, None)
            elif was_head:
                line[0].wake()
            if waited.started is not None:
                self._counts["waits"] += 1
                self._counts["waited_seconds"] += time.monotonic() - waited.started

    def _wake_head(self, account: str) -> None:
        with self._lock:
            line = self._lines.get(account)
            if line:
                line[0].wake()

    def _step(
        self, account: str, waiter: _Waiter, model: str, estimate: Estimate, waited: _Wait
    ) -> Reservation | float | None:
        """One turn of a caller: its reservation, or how long to sleep (None: until woken, not being the head)."""
        with self._lock:
            line = self._lines[account]
            head = line[0] is waiter
            ahead = line.index(waiter)
        if not head:
            if waited.started is None:
                waited.started = time.monotonic()
                logger.info("rate-limit governor: waiting in line for %s (%d callers ahead)", model, ahead)
            if waited.give_up_at is None:
                return None
            left = waited.give_up_at - time.monotonic()
            if left <= 0:
                raise APITimeoutError(f"the time allowed ran out waiting in line for {model}'s rate limits")
            return left
        waiter.clear()  # a wake from here on (a settle) makes the coming sleep return at once
        rid = uuid.uuid4().hex
        backend = self.backend
        now = self._clock()
        try:
            decision = backend.reserve(account, rid, estimate.tokens, now, waited.ticket)
        except _BackendDown as exc:
            self._down(exc)
            backend = self._local
            decision = backend.reserve(account, rid, estimate.tokens, now, waited.ticket)
        else:
            self._up(backend)
        waited.queued = None if decision.admitted else backend
        if decision.admitted:
            self._count("reservations")
            return Reservation(self, backend, account, rid, model, estimate)
        if math.isinf(decision.wait):
            raise RequestValidationError(
                f"a request to {model} reserves ~{estimate.tokens} tokens ({estimate.prompt_tokens} of prompt, "
                f"estimated, + {estimate.completion_tokens} for the completion), more than its {decision.limit} limit "
                "allows at once; the server would refuse it every time.",
                param="max_completion_tokens",
                model=model,
                fix="lower max_completion_tokens (docs/rate-limits.md, sizing), or shorten the prompt",
            )
        # A first-response wait is bounded by the probe's expiry, not estimated: give up only once the deadline is
        # really past. Any other wait is the time its bucket needs, known now: give up at once if it is too long.
        expected = 0.0 if decision.limit == "first-response" else decision.wait
        if waited.give_up_at is not None and time.monotonic() + expected > waited.give_up_at:
            raise APITimeoutError(
                f"waiting {decision.wait:.2f} s for {model}'s {decision.limit} limit would outlast the time allowed "
                "(the call's deadline)"
            )
        if waited.started is None:
            waited.started = time.monotonic()
            logger.info("rate-limit governor: waiting %.2f s for %s (%s)", decision.wait, model, decision.limit)
        sleep = min(max(decision.wait, 0.0), backend.poll_interval)
        if waited.give_up_at is not None:  # wake by the deadline, to give up then
            sleep = min(sleep, max(waited.give_up_at - time.monotonic(), 0.0) + 0.001)
        return sleep

    def _down(self, exc: _BackendDown) -> None:
        self._count("backend_errors")
        if not self.fail_open:
            raise GovernorUnavailableError(
                f"the rate-limit governor's backend {self.backend!r} is unavailable ({exc}); the governor was built "
                "with fail_open=False, so no request is sent without a reservation. Fix: bring the backend back, or "
                "pass fail_open=True to pace on a local view meanwhile."
            ) from None
        if not self._outage:
            self._outage = True
            logger.warning(
                "rate-limit governor: backend %r unavailable (%s); pacing on this process's own view until it "
                "answers again (fail_open=True)",
                self.backend,
                exc,
            )

    def _up(self, backend: GovernorBackend) -> None:
        if self._outage and backend is self.backend:
            self._outage = False
            logger.info("rate-limit governor: backend %r answers again", self.backend)

    # -- settling

    def _settle(self, reservation: Reservation, update: Update) -> None:
        backend = reservation._backend
        try:
            backend.reconcile(reservation.account, reservation.id, update, self._clock())
        except _BackendDown as exc:
            self._count("backend_errors")
            if not self._outage:
                self._outage = True
                logger.warning(
                    "rate-limit governor: backend %r unavailable while settling a request (%s)", self.backend, exc
                )
        else:
            self._up(backend)
        self._wake_head(reservation.account)


@dataclass
class _Wait:
    """One ``reserve`` call's wait: its ticket in the backend's line, the backend holding it (None: not queued), and
    when it started waiting."""

    model: str
    give_up_at: float | None = None  # time.monotonic() past which the caller would rather fail than wait
    ticket: str = field(default_factory=lambda: uuid.uuid4().hex)
    queued: GovernorBackend | None = None
    started: float | None = None


def require_governor(value: object, fix: str) -> RateLimitGovernor:
    """``value`` if it is a ``RateLimitGovernor``, else the ``RequestValidationError`` naming ``rate_limiter`` with
    ``fix`` (the core clients' and the adapters' one check)."""
    if not isinstance(value, RateLimitGovernor):
        raise RequestValidationError(
            f"rate_limiter must be a RateLimitGovernor, not {type(value).__name__}.", param="rate_limiter", fix=fix
        )
    return value


def adapter_rate_limiter(value: object, wrapper: type, native: type | None, framework: str, example: str) -> Any:
    """What a framework adapter's ``rate_limiter`` field holds for ``value`` (not ``None``): a ``RateLimitGovernor``
    wrapped in the adapter's ``wrapper`` (its ``GovernorRateLimiter``, whose per-call ``acquire`` admits at once);
    the wrapper itself, or the framework's own limiter (an instance of ``native``), as it is; anything else refused
    naming ``rate_limiter``. ``native`` is ``None`` where the framework has no limiters of its own; ``framework`` and
    ``example`` (one of its limiters) name them in the error."""
    if isinstance(value, wrapper) or (native is not None and isinstance(value, native)):
        return value
    if isinstance(value, RateLimitGovernor):
        return wrapper(value)
    fix = "pass rate_limiter=RateLimitGovernor() (from cerebras_adapters.governor)"
    if native is None:
        return require_governor(value, fix)  # raises: value is no governor
    raise RequestValidationError(
        f"rate_limiter must be a RateLimitGovernor or a {framework} {native.__name__}, not {type(value).__name__}.",
        param="rate_limiter",
        fix=f"{fix} for token-aware pacing, or a {example}",
    )
