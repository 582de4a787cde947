"""Fault specifications: what can go wrong on purpose, per request or per run.

A fault spec is a comma-separated list of items (the ``x-emulator-fault`` request header, the ``faults``
option, ``fail_next(n, spec)``, the CLI's ``--fault``):

=============================  =====================================================================
``429`` / ``429=0.5``          429 ``request_quota_exceeded`` with ``retry-after`` (seconds, default
                               the ``retry_after`` option) and ``retry-after-ms``
``429-tokens`` / ``=S``        429 ``token_quota_exceeded``
``500``, ``502``, ``503``, …   that status with a flat body (``{"message", "type"}``, RT-10 style); any
                               400–599 code works
``500-envelope``, ``503-…``    the 2026 5xx envelope ``{"status_code": N, "error": {…, "param": "",
                               "code": "", "id": ""}}``
``drop-mid-stream[=N]``        close the connection after N events (default: half the stream); on a
                               non-streamed request, after half the body
``malformed-chunk[=N]``        insert one event whose JSON is cut short after N events (default: half);
                               non-streamed: a 200 whose JSON body is cut short
``mid-stream-error[=N]``       after N events send an error event and end the stream (Cerebras: the SDK's
                               ``{"error": {…}, "status_code": 500}``; OpenRouter: a chunk with a top-level
                               ``error`` and ``finish_reason: "error"``); non-streamed: a 200 error body
``slow-first-token=200ms``     wait before the first token (``ms`` or ``s``; a bare number is ms)
=============================  =====================================================================

This module owns faults from spec to effect: the grammar above, which faults apply to one request
(``FaultSource``: its header, then the next ``fail_next`` batch, then the ``faults`` option), the error a status
fault becomes (``status_fault``, in Cerebras or OpenRouter shape), and where a 200 goes wrong
(``StreamPlan``, carried out by ``_replies``). It must not decide anything a fault-free request would see.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ._errors import SERVER_ERROR_MESSAGE, ApiError, openrouter_error
from ._ratelimit import rate_limit_error

__all__ = [
    "FAULT_HEADER",
    "Fault",
    "FaultSource",
    "StreamPlan",
    "parse_fault_option",
    "parse_faults",
    "status_fault",
    "stream_plan",
]

FAULT_HEADER = "x-emulator-fault"

_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s)?$")


@dataclass(frozen=True)
class Fault:
    kind: str  # "status" | "drop" | "malformed" | "midstream" | "slow"
    status: int = 0
    variant: str = ""  # status: "flat" | "envelope" | "requests" | "tokens"
    value: float | None = None  # retry-after seconds, event index, or delay seconds

    @property
    def is_status(self) -> bool:
        return self.kind == "status"


def _duration(text: str, item: str) -> float:
    match = _DURATION_RE.match(text.strip())
    if not match:
        raise ValueError(f"fault {item!r}: expected a duration like 200ms or 0.5s")
    number = float(match.group(1))
    return number if match.group(2) == "s" else number / 1000.0


def _count(text: str | None, item: str) -> float | None:
    if text is None:
        return None
    if not text.strip().isdigit():
        raise ValueError(f"fault {item!r}: expected a whole number of events")
    return float(text.strip())


def parse_faults(spec: str | None) -> list[Fault]:
    """Parse a fault spec; raise ValueError naming the bad item."""
    faults: list[Fault] = []
    if not spec:
        return faults
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        name, _, arg = item.partition("=")
        name = name.strip().lower()
        value = arg if "=" in item else None
        if name in ("429", "429-requests", "429-tokens"):
            retry = float(value) if value is not None else None
            faults.append(Fault("status", 429, "tokens" if name == "429-tokens" else "requests", retry))
        elif re.fullmatch(r"[45]\d\d(-envelope)?", name):
            status = int(name[:3])
            faults.append(Fault("status", status, "envelope" if name.endswith("-envelope") else "flat"))
        elif name == "drop-mid-stream":
            faults.append(Fault("drop", value=_count(value, item)))
        elif name == "malformed-chunk":
            faults.append(Fault("malformed", value=_count(value, item)))
        elif name == "mid-stream-error":
            faults.append(Fault("midstream", value=_count(value, item)))
        elif name == "slow-first-token":
            if value is None:
                raise ValueError(f"fault {item!r}: give a delay, e.g. slow-first-token=200ms")
            faults.append(Fault("slow", value=_duration(value, item)))
        else:
            raise ValueError(
                f"unknown fault {item!r}; known: 429[=S], 429-tokens[=S], NNN, NNN-envelope, drop-mid-stream[=N], "
                "malformed-chunk[=N], mid-stream-error[=N], slow-first-token=DURATION"
            )
    return faults


def parse_fault_option(faults: str | Sequence[str]) -> list[Fault]:
    """The ``faults`` option (one spec or several) as one list; raise ValueError on a bad item."""
    specs = [faults] if isinstance(faults, str) else list(faults)
    return [f for spec in specs for f in parse_faults(spec)]


class FaultSource:
    """The faults queued with ``fail_next``, and which faults apply to one request. Thread-safe: tests queue
    faults from their own thread while the server's loop answers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[tuple[int, list[Fault]]] = deque()

    def fail_next(self, n: int, spec: str) -> None:
        parsed = parse_faults(spec)
        if n > 0 and parsed:
            with self._lock:
                self._queue.append((n, parsed))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(n for n, _ in self._queue)

    def for_request(self, headers: Mapping[str, str], always: Sequence[Fault]) -> list[Fault]:
        """The request's ``x-emulator-fault`` header, then one use of the next queued batch, then ``always``."""
        faults: list[Fault] = []
        header = headers.get(FAULT_HEADER)
        if header:
            try:
                faults.extend(parse_faults(header))
            except ValueError as exc:
                raise ApiError.flat(
                    400, f"{FAULT_HEADER}: {exc}", "invalid_request_error", FAULT_HEADER, "bad_emulator_fault"
                ) from None
        with self._lock:
            if self._queue:
                remaining, queued = self._queue[0]
                faults.extend(queued)
                if remaining <= 1:
                    self._queue.popleft()
                else:
                    self._queue[0] = (remaining - 1, queued)
        faults.extend(always)
        return faults


def status_fault(faults: Sequence[Fault], openrouter: bool, retry_after: float) -> ApiError | None:
    """The error the first status fault answers with, in the route's shape; None without a status fault.
    ``retry_after`` is the option used when a 429 fault gives no delay."""
    fault = next((f for f in faults if f.is_status), None)
    if fault is None:
        return None
    status = fault.status
    if status == 429:
        retry = fault.value if fault.value is not None else retry_after
        if openrouter:
            return openrouter_error(
                429, "Rate limit exceeded", {"error_type": "rate_limit_exceeded"}, [("retry-after", f"{retry:g}")]
            )
        return rate_limit_error(fault.variant == "tokens", retry)
    if openrouter:
        kinds = {
            502: "provider_unavailable",
            503: "provider_overloaded",
            504: "timeout",
            500: "server",
            408: "timeout",
        }
        message = {
            503: "No available provider meets your routing requirements",
            502: "Provider returned error",
        }.get(status, "Internal Server Error" if status >= 500 else "Request failed")
        return openrouter_error(status, message, {"error_type": kinds.get(status, "unmapped")})
    message = SERVER_ERROR_MESSAGE if status >= 500 else "The request could not be processed."
    type_ = "server_error" if status >= 500 else "invalid_request_error"
    if fault.variant == "envelope":
        # 2026 5xx envelope (vercel/ai#11783, anomalyco/opencode#18150): empty strings, not nulls.
        return ApiError(
            status,
            {
                "status_code": status,
                "error": {"message": message, "type": type_, "param": "", "code": "", "id": ""},
            },
        )
    return ApiError.flat(status, message, type_)  # RT-10: no param / code


@dataclass
class StreamPlan:
    """Where a 200 reply goes wrong: event indexes (-1: half-way) and a delay before the first token."""

    drop_at: int | None = None
    malformed_at: int | None = None
    error_at: int | None = None
    slow: float = 0.0


def stream_plan(faults: Sequence[Fault]) -> StreamPlan:
    plan = StreamPlan()
    for fault in faults:
        index = int(fault.value) if fault.value is not None else -1
        if fault.kind == "drop" and plan.drop_at is None:
            plan.drop_at = index
        elif fault.kind == "malformed" and plan.malformed_at is None:
            plan.malformed_at = index
        elif fault.kind == "midstream" and plan.error_at is None:
            plan.error_at = index
        elif fault.kind == "slow":
            plan.slow = max(plan.slow, fault.value or 0.0)
    return plan
