"""Quotas per API key and model over minute, hour and day windows, as real clients (httpx, the openai SDK, separate
processes) see them: the reservation and its refund, each window's 429, the headers, the time scale, the stats
endpoint and the command line (docs/api-facts.md#token-reservation, #rate-limit-headers, #rate-limit-errors)."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import openai
import pytest

from cerebras_adapters.cli import main
from tests.emulator._helpers import KEY, RATE_HEADERS, user

CHAT = {"model": "llama3.1-8b", "messages": user("hi")}
OTHER_MODEL = "gpt-oss-120b"
PERIODS = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}
#: the documented six are on by default; "only" a window means switching those two off.
ONLY = {"requests_per_day": None, "tokens_per_minute": None}


def _short(n: int) -> dict[str, str]:
    """A reply exactly ``n`` tokens long, so the tokens really used are known."""
    return {"x-emulator-reply-tokens": str(n)}


def _rate_headers(response: httpx.Response) -> list[str]:
    return [name for name in response.headers if name.startswith("x-ratelimit-")]


def _used(response: httpx.Response) -> int:
    usage = response.json()["usage"]
    return int(usage["prompt_tokens"]) + int(usage["completion_tokens"])


def _stats(http: httpx.Client | _Remote) -> list[dict]:
    response = http.get("/_emulator/stats")
    assert response.status_code == 200
    return response.json()["quotas"]


# -- per key and model --------------------------------------------------------------------------------------------


def test_a_quota_belongs_to_one_key_and_one_model(client, cerebras_emulator):
    cerebras_emulator.configure(requests_per_minute=1)
    assert client.post("/chat/completions", json=CHAT).status_code == 200
    assert client.post("/chat/completions", json=CHAT).status_code == 429
    # Same key, another model: its own quota.
    assert client.post("/chat/completions", json={**CHAT, "model": OTHER_MODEL}).status_code == 200
    # Another key, same model: its own quota too.
    other_key = {"Authorization": "Bearer csk-" + "second-key"}
    assert client.post("/chat/completions", json=CHAT, headers=other_key).status_code == 200


def test_a_model_can_have_its_own_limits(client, cerebras_emulator):
    # The 2026 developer tier: gpt-oss-120b 1000 RPM / 1M TPM, gemma-4-31b 300 RPM (here 1, to see it fire).
    cerebras_emulator.configure(
        rate_limits={
            "requests_per_minute": 1000,
            "tokens_per_minute": 1_000_000,
            "models": {"llama3.1-8b": {"requests_per_minute": 1, "tokens_per_minute": 500_000}},
        }
    )
    first = client.post("/chat/completions", json=CHAT)
    assert first.headers["x-ratelimit-limit-tokens-minute"] == "500000"
    assert first.headers["x-ratelimit-limit-requests-minute"] == "1"
    assert client.post("/chat/completions", json=CHAT).status_code == 429
    others = [client.post("/chat/completions", json={**CHAT, "model": OTHER_MODEL}) for _ in range(3)]
    assert [r.status_code for r in others] == [200, 200, 200]
    assert others[0].headers["x-ratelimit-limit-requests-minute"] == "1000"


def test_an_alias_in_the_quota_is_refused_with_the_model_id(cerebras_emulator):
    with pytest.raises(ValueError, match=r"rate_limits\.models: 'llama3\.3-70b' .*its id is 'llama-3\.3-70b'"):
        cerebras_emulator.configure(rate_limits={"models": {"llama3.3-70b": {"requests_per_minute": 1}}})


# -- each window's 429 --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("window", ["minute", "hour", "day"])
def test_each_request_window_answers_its_own_429(client, cerebras_emulator, window):
    name = f"requests_per_{window}"
    cerebras_emulator.configure(rate_limits={**ONLY, name: 2})
    assert [client.post("/chat/completions", json=CHAT).status_code for _ in range(2)] == [200, 200]
    refused = client.post("/chat/completions", json=CHAT)
    assert refused.status_code == 429
    assert refused.json() == {
        "message": f"Requests per {window} limit exceeded - too many requests sent.",
        "type": "too_many_requests_error",
        "param": "quota",
        "code": "request_quota_exceeded",
    }
    # One request comes back after period / limit, less the little that refilled meanwhile.
    assert PERIODS[window] / 2 - 5 < float(refused.headers["retry-after"]) <= PERIODS[window] / 2
    assert refused.headers[f"x-ratelimit-limit-requests-{window}"] == "2"
    assert refused.headers[f"x-ratelimit-remaining-requests-{window}"] == "0"


@pytest.mark.parametrize("window", ["minute", "hour", "day"])
def test_each_token_window_answers_its_own_429(client, cerebras_emulator, window):
    cerebras_emulator.configure(rate_limits={**ONLY, f"tokens_per_{window}": 1000})
    refused = client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 1000})
    assert refused.status_code == 429
    assert refused.json() == {
        "message": f"Tokens per {window} limit exceeded - too many tokens processed.",
        "type": "too_many_requests_error",
        "param": "quota",
        "code": "token_quota_exceeded",
    }
    assert refused.headers[f"x-ratelimit-limit-tokens-{window}"] == "1000"
    assert float(refused.headers["retry-after-ms"]) == math.ceil(float(refused.headers["retry-after"]) * 1000)
    assert client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 900}).status_code == 200


def test_when_several_limits_refuse_the_body_names_the_one_that_frees_up_last(client, cerebras_emulator):
    cerebras_emulator.configure(rate_limits={**ONLY, "requests_per_minute": 1, "requests_per_hour": 1})
    client.post("/chat/completions", json=CHAT)
    refused = client.post("/chat/completions", json=CHAT)
    assert refused.json()["message"] == "Requests per hour limit exceeded - too many requests sent."
    assert float(refused.headers["retry-after"]) > 3500


# -- headers -------------------------------------------------------------------------------------------------------


def test_the_documented_six_come_first_then_every_other_configured_window(client, cerebras_emulator):
    # The 2026 free tier: 5 RPM / 30K TPM / 1M TPH / 1M TPD (the daily request limit stays at its default).
    cerebras_emulator.configure(
        requests_per_minute=5, tokens_per_minute=30_000, tokens_per_hour=1_000_000, tokens_per_day=1_000_000
    )
    response = client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 100})
    assert _rate_headers(response) == [
        *RATE_HEADERS,
        "x-ratelimit-limit-requests-minute",
        "x-ratelimit-limit-tokens-hour",
        "x-ratelimit-limit-tokens-day",
        "x-ratelimit-remaining-requests-minute",
        "x-ratelimit-remaining-tokens-hour",
        "x-ratelimit-remaining-tokens-day",
        "x-ratelimit-reset-requests-minute",
        "x-ratelimit-reset-tokens-hour",
        "x-ratelimit-reset-tokens-day",
    ]
    assert response.headers["x-ratelimit-remaining-requests-minute"] == "4"


def test_only_configured_windows_have_headers(client, cerebras_emulator):
    cerebras_emulator.configure(rate_limits={**ONLY, "tokens_per_hour": 50_000})
    response = client.post("/chat/completions", json=CHAT)
    assert _rate_headers(response) == [
        "x-ratelimit-limit-tokens-hour",
        "x-ratelimit-remaining-tokens-hour",
        "x-ratelimit-reset-tokens-hour",
    ]


def test_remaining_and_reset_agree_with_the_reservation(client, cerebras_emulator):
    limit = 100_000  # per day: ~1.2 tokens refill per second, so the figures below hold to a few tokens
    cerebras_emulator.configure(tokens_per_day=limit)
    first = client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 2000}, headers=_short(10))
    prompt = first.json()["usage"]["prompt_tokens"]
    remaining = int(first.headers["x-ratelimit-remaining-tokens-day"])
    # The headers show the bucket with the whole reservation taken out.
    assert limit - prompt - 2000 <= remaining <= limit - prompt - 2000 + 5
    # Reset: the time until the bucket is full again, at limit / day per second.
    reset = float(first.headers["x-ratelimit-reset-tokens-day"])
    assert reset == pytest.approx((limit - remaining) * 86400 / limit, abs=86400 / limit)
    # The next request sees the refund: only the tokens the first one used are gone, then its own reservation.
    second = client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 3000}, headers=_short(10))
    expected = limit - _used(first) - prompt - 3000
    assert expected <= int(second.headers["x-ratelimit-remaining-tokens-day"]) <= expected + 5


def test_a_429_carries_the_headers_and_a_retry_after_that_really_is_enough(client, cerebras_emulator):
    cerebras_emulator.configure(rate_limits={**ONLY, "requests_per_minute": 2, "time_scale": 30})
    client.post("/chat/completions", json=CHAT)
    client.post("/chat/completions", json=CHAT)
    refused = client.post("/chat/completions", json=CHAT)
    assert refused.status_code == 429
    assert _rate_headers(refused) == [
        "x-ratelimit-limit-requests-minute",
        "x-ratelimit-remaining-requests-minute",
        "x-ratelimit-reset-requests-minute",
    ]
    wait = float(refused.headers["retry-after"])
    assert 0 < wait <= float(refused.headers["x-ratelimit-reset-requests-minute"])
    time.sleep(wait + 0.02)
    assert client.post("/chat/completions", json=CHAT).status_code == 200


# -- reservation and refund ----------------------------------------------------------------------------------------


def test_max_completion_tokens_is_reserved_even_when_the_reply_is_short(client, cerebras_emulator):
    cerebras_emulator.configure(tokens_per_minute=2000)
    refused = client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 1990}, headers=_short(1))
    assert refused.status_code == 429 and refused.json()["code"] == "token_quota_exceeded"
    assert client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 1500}).status_code == 200


def test_the_unused_reservation_comes_back_after_the_reply(client, cerebras_emulator):
    cerebras_emulator.configure(tokens_per_minute=2000)
    statuses = [
        client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 1500}, headers=_short(5)).status_code
        for _ in range(5)
    ]
    assert statuses == [200] * 5


def test_without_refunds_the_whole_reservation_stays_spent(client, cerebras_emulator):
    cerebras_emulator.configure(rate_limits={"tokens_per_minute": 2000, "refund_unused": False})
    first = client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 1500}, headers=_short(5))
    second = client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 1500}, headers=_short(5))
    assert (first.status_code, second.status_code) == (200, 429)


def test_a_stream_holds_its_reservation_until_it_ends(client, cerebras_emulator):
    cerebras_emulator.configure(tokens_per_minute=2000, tokens_per_second=20)  # a 10-token reply streams for ~0.5 s
    body = {**CHAT, "max_completion_tokens": 1500, "stream": True}
    with client.stream("POST", "/chat/completions", json=body, headers=_short(10)) as streaming:
        assert streaming.status_code == 200
        # Still streaming: a second reservation does not fit.
        assert client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 1500}).status_code == 429
        streaming.read()
    assert client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 1500}).status_code == 200


def test_absent_max_completion_tokens_reserves_each_models_own_maximum(client, cerebras_emulator):
    # llama3.1-8b's maximum output is 8192 tokens, gpt-oss-120b's 32768.
    cerebras_emulator.configure(tokens_per_minute=10_000)
    assert client.post("/chat/completions", json=CHAT).status_code == 200
    assert client.post("/chat/completions", json={**CHAT, "model": OTHER_MODEL}).status_code == 429


# -- time scale ----------------------------------------------------------------------------------------------------


def test_a_scaled_minute_passes_in_scaled_time(client, cerebras_emulator):
    cerebras_emulator.configure(rate_limits={"tokens_per_minute": 2000, "time_scale": 30, "refund_unused": False})
    first = client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 1800})
    assert first.status_code == 200
    # A full bucket is 2 real seconds away, and the headers say so in real seconds; the limit itself is unchanged.
    assert first.headers["x-ratelimit-limit-tokens-minute"] == "2000"
    assert 1.5 < float(first.headers["x-ratelimit-reset-tokens-minute"]) <= 2.0
    refused = client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 1800})
    assert refused.status_code == 429
    assert 1.0 < float(refused.headers["retry-after"]) <= 2.0
    time.sleep(float(refused.headers["retry-after"]) + 0.05)
    assert client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 1800}).status_code == 200


def test_a_scaled_day_is_a_day_over_the_scale(client, cerebras_emulator):
    cerebras_emulator.configure(rate_limits={**ONLY, "requests_per_day": 1, "time_scale": 86400})
    client.post("/chat/completions", json=CHAT)
    assert 0 < float(client.post("/chat/completions", json=CHAT).headers["retry-after"]) <= 1.0


# -- the openai SDK as the client ----------------------------------------------------------------------------------


def test_the_openai_sdk_reads_the_headers_and_gets_a_rate_limit_error(cerebras_emulator):
    cerebras_emulator.configure(requests_per_minute=1, tokens_per_hour=40_000)
    with openai.OpenAI(base_url=cerebras_emulator.base_url, api_key=KEY, max_retries=0) as sdk:
        raw = sdk.chat.completions.with_raw_response.create(
            model="llama3.1-8b", messages=user("hi"), max_completion_tokens=100
        )
        assert raw.headers["x-ratelimit-limit-tokens-hour"] == "40000"
        assert int(raw.headers["x-ratelimit-remaining-tokens-hour"]) < 40_000 - 100
        with pytest.raises(openai.RateLimitError) as refused:
            sdk.chat.completions.create(model="llama3.1-8b", messages=user("hi"), max_completion_tokens=100)
    assert refused.value.response.json()["code"] == "request_quota_exceeded"
    assert float(refused.value.response.headers["retry-after"]) > 0


# -- stats ---------------------------------------------------------------------------------------------------------


def test_stats_count_what_each_key_and_model_was_served_and_refused(client, bare, cerebras_emulator):
    cerebras_emulator.configure(requests_per_minute=2)
    served = [client.post("/chat/completions", json=CHAT, headers=_short(7)) for _ in range(3)]
    client.post("/chat/completions", json={**CHAT, "model": OTHER_MODEL}, headers=_short(7))
    quotas = {q["model"]: q for q in _stats(bare)}
    assert set(quotas) == {"llama3.1-8b", OTHER_MODEL}
    llama = quotas["llama3.1-8b"]
    assert llama["key"] == hashlib.sha256(KEY.encode()).hexdigest()[:16]  # never the key itself
    assert KEY not in bare.get("/_emulator/stats").text
    assert (llama["requests"], llama["rate_limited"], llama["rate_limited_by"]) == (2, 1, {"requests_per_minute": 1})
    assert llama["tokens"] == _used(served[0]) + _used(served[1])
    assert llama["limits"]["requests_per_minute"] == 2 and llama["remaining"]["requests_per_minute"] == 0
    assert (quotas[OTHER_MODEL]["requests"], quotas[OTHER_MODEL]["rate_limited"]) == (1, 0)


def test_stats_start_afresh_when_the_quotas_change(client, bare, cerebras_emulator):
    client.post("/chat/completions", json=CHAT)
    assert len(_stats(bare)) == 1
    cerebras_emulator.configure(tokens_per_minute=5000)
    assert _stats(bare) == []


# -- configuration errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "error", "names"),
    [
        ({"tokens_per_minute": 0}, ValueError, r"rate_limits\.tokens_per_minute must be a positive whole number"),
        ({"requests_per_hour": 2.5}, ValueError, r"rate_limits\.requests_per_hour"),
        ({"tokens_per_day": True}, ValueError, r"rate_limits\.tokens_per_day"),
        ({"time_scale": 0}, ValueError, r"rate_limits\.time_scale must be a positive finite number"),
        ({"time_scale": float("inf")}, ValueError, r"rate_limits\.time_scale"),
        ({"rate_limits": {"tokens_per_minit": 5}}, TypeError, r"unknown rate-limit field\(s\): tokens_per_minit"),
        ({"rate_limits": {"models": {"gpt-oss-120b": {"rpm": 5}}}}, ValueError, r"\['gpt-oss-120b'\]: unknown.*rpm"),
        ({"rate_limits": {"models": {"gpt-oss-120b": {"tokens_per_minute": -1}}}}, ValueError, r"tokens_per_minute"),
        ({"rate_limits": {"models": {"no-such-model": {}}}}, ValueError, r"'no-such-model' is not a model id"),
        ({"rate_limits": {"refund_unused": "yes"}}, ValueError, r"rate_limits\.refund_unused must be true or false"),
    ],
    ids=[
        "zero",
        "fraction",
        "bool",
        "zero-scale",
        "infinite-scale",
        "unknown-field",
        "unknown-model-field",
        "negative-model-limit",
        "unknown-model",
        "refund-not-bool",
    ],
)
def test_bad_quota_settings_are_refused_naming_the_field(cerebras_emulator, changes, error, names):
    with pytest.raises(error, match=names):
        cerebras_emulator.configure(**changes)


def test_the_command_line_reports_a_bad_quota(capsys):
    assert main(["emulator", "--rate-limits", '{"tokens_per_minute": -5}']) == 2
    assert "rate_limits.tokens_per_minute must be a positive whole number" in capsys.readouterr().err
    assert main(["emulator", "--rate-limits", "{tokens_per_minute: 5}"]) == 2
    assert "--rate-limits is not valid JSON" in capsys.readouterr().err


# -- one emulator process, several client processes ----------------------------------------------------------------


class _Remote:
    """httpx against an emulator in another process."""

    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10)


@contextmanager
def _emulator_process(*args: str) -> Iterator[_Remote]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cerebras_adapters.cli", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert " on http://" in banner, proc.stderr.read() if proc.stderr else banner
        yield _Remote(banner.split(" on ", 1)[1].split(" ", 1)[0].removesuffix("/v1"))
    finally:
        proc.terminate()
        proc.wait(10)


_CLIENT_SCRIPT = """
import json, sys, httpx
url, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
body = {"model": "llama3.1-8b", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 100}
with httpx.Client(timeout=10) as http:
    print(json.dumps([http.post(url + "/v1/chat/completions", json=body,
                                headers={"Authorization": "Bearer " + key}).status_code for _ in range(n)]))
"""


def test_the_command_line_emulator_enforces_its_quota_across_client_processes():
    quota = {"requests_per_minute": 3, "tokens_per_minute": 30_000, "time_scale": 1}
    with _emulator_process("--rate-limits", json.dumps(quota)) as emulator:
        clients = [
            subprocess.Popen(
                [sys.executable, "-c", _CLIENT_SCRIPT, emulator.url, KEY, "3"], stdout=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        statuses = [status for c in clients for status in json.loads(c.communicate(timeout=60)[0])]
        [entry] = _stats(emulator)
    assert sorted(statuses) == [200, 200, 200, 429, 429, 429]
    assert (entry["requests"], entry["rate_limited_by"]) == (3, {"requests_per_minute": 3})
    assert entry["limits"] == {"requests_per_minute": 3, "requests_per_day": 14_400_000, "tokens_per_minute": 30_000}


def test_the_command_line_flags_override_the_json():
    quota = '{"requests_per_minute": 1, "time_scale": 2}'
    with _emulator_process("--rate-limits", quota, "--requests-per-minute", "2", "--time-scale", "60") as emulator:
        reply = httpx.post(
            emulator.url + "/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"}, json=CHAT, timeout=10
        )
        stats = emulator.get("/_emulator/stats").json()
    assert reply.headers["x-ratelimit-limit-requests-minute"] == "2"
    assert stats["time_scale"] == 60.0
