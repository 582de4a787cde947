"""Wire helpers for the emulator tests: plain JSON/SSE reading, no client code (the emulator is tested
over real loopback HTTP with httpx only)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

KEY = "csk-" + "emulator-test"  # assembled: no secret-shaped literal in tracked files
UUID_ID = re.compile(r"^chatcmpl-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
FINGERPRINT = re.compile(r"^fp_[0-9a-f]{20}$")
TOOL_CALL_ID = re.compile(r"^[0-9a-f]{9}$")
RATE_HEADERS = (
    "x-ratelimit-limit-requests-day",
    "x-ratelimit-limit-tokens-minute",
    "x-ratelimit-remaining-requests-day",
    "x-ratelimit-remaining-tokens-minute",
    "x-ratelimit-reset-requests-day",
    "x-ratelimit-reset-tokens-minute",
)

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def data_lines(text: str) -> list[str]:
    """The ``data:`` payloads of an SSE body, in order (events split on blank lines)."""
    payloads = []
    for event in text.split("\n\n"):
        for line in event.split("\n"):
            if line.startswith("data: "):
                payloads.append(line[len("data: ") :])
    return payloads


def chunks(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(p) for p in data_lines(response.text) if p != "[DONE]"]


def deltas(response: httpx.Response) -> list[dict[str, Any]]:
    return [c["choices"][0]["delta"] for c in chunks(response) if c.get("choices")]


def joined(response: httpx.Response, field: str) -> str:
    return "".join(d.get(field) or "" for d in deltas(response))


def no_rate_headers(response: httpx.Response) -> bool:
    return not any(h.startswith("x-ratelimit-") for h in response.headers)
