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
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Fault", "parse_faults"]

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
