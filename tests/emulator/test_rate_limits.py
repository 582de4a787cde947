"""Token buckets per key: the six x-ratelimit headers, the reservation, and both 429 bodies (§1.6, §4.3)."""

from __future__ import annotations

from tests.emulator._helpers import RATE_HEADERS, user

CHAT = {"model": "llama3.1-8b", "messages": user("hi")}


def test_successes_carry_the_six_rate_limit_headers(client, cerebras_emulator):
    # A daily bucket small enough that a request is not refilled between two calls (at the default 14.4M a day one
    # request refills in 6 ms, and the floored remaining count could read the same twice).
    cerebras_emulator.configure(requests_per_day=14_400)
    first = client.post("/chat/completions", json=CHAT)
    second = client.post("/chat/completions", json=CHAT)
    assert [h for h in first.headers if h.startswith("x-ratelimit-")] == list(RATE_HEADERS)
    assert int(first.headers["x-ratelimit-limit-requests-day"]) > 0
    assert int(second.headers["x-ratelimit-remaining-requests-day"]) < int(
        first.headers["x-ratelimit-remaining-requests-day"]
    )
    for name in ("x-ratelimit-reset-requests-day", "x-ratelimit-reset-tokens-minute"):
        assert "." in first.headers[name] and float(first.headers[name]) >= 0  # float seconds (RT-11)


def test_streamed_replies_carry_them_too(client):
    response = client.post("/chat/completions", json={**CHAT, "stream": True})
    assert all(h in response.headers for h in RATE_HEADERS)


def test_max_completion_tokens_is_reserved_up_front(client, cerebras_emulator):
    cerebras_emulator.configure(tokens_per_minute=1000)
    response = client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 950})
    assert response.status_code == 200
    # The reservation was held while the request ran; the unused part came back afterwards.
    assert int(response.headers["x-ratelimit-remaining-tokens-minute"]) < 50
    assert client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 900}).status_code == 200


def test_tokens_per_minute_429(client, cerebras_emulator):
    cerebras_emulator.configure(tokens_per_minute=1000)
    response = client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 2000})
    assert response.status_code == 429
    assert response.json() == {
        "message": "Tokens per minute limit exceeded - too many tokens processed.",
        "type": "too_many_requests_error",
        "param": "quota",
        "code": "token_quota_exceeded",
    }
    assert float(response.headers["retry-after"]) > 0


def test_absent_max_completion_tokens_reserves_the_model_maximum(client, cerebras_emulator):
    cerebras_emulator.configure(tokens_per_minute=8000)  # llama3.1-8b's max output is 8192
    assert client.post("/chat/completions", json=CHAT).status_code == 429
    assert client.post("/chat/completions", json={**CHAT, "max_completion_tokens": 100}).status_code == 200


def test_requests_per_minute_429(client, cerebras_emulator):
    cerebras_emulator.configure(requests_per_minute=2)
    statuses = [client.post("/chat/completions", json=CHAT).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = client.post("/chat/completions", json=CHAT)
    assert response.json() == {
        "message": "Requests per minute limit exceeded - too many requests sent.",
        "type": "too_many_requests_error",
        "param": "quota",
        "code": "request_quota_exceeded",
    }
    assert 0 < float(response.headers["retry-after"]) <= 30


def test_limits_are_per_key(client, cerebras_emulator):
    cerebras_emulator.configure(requests_per_minute=1)
    assert client.post("/chat/completions", json=CHAT).status_code == 200
    assert client.post("/chat/completions", json=CHAT).status_code == 429
    other = client.post("/chat/completions", json=CHAT, headers={"Authorization": "Bearer csk-second-key"})
    assert other.status_code == 200


def test_requests_per_day_shows_in_the_headers(client, cerebras_emulator):
    cerebras_emulator.configure(requests_per_day=10)
    response = client.post("/chat/completions", json=CHAT)
    assert response.headers["x-ratelimit-limit-requests-day"] == "10"
    assert response.headers["x-ratelimit-remaining-requests-day"] == "9"
