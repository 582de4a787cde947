"""Injected faults: per request (header), per run (option), for the next N requests (``fail_next``)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.emulator._helpers import data_lines, no_rate_headers, user

CHAT = {"model": "llama3.1-8b", "messages": user("Tell me about tea.")}
STREAM = {**CHAT, "stream": True, "min_completion_tokens": 40}


def faulted(client, fault: str, body=CHAT) -> httpx.Response:
    return client.post("/chat/completions", json=body, headers={"x-emulator-fault": fault})


def test_429_has_the_requests_body_and_retry_after_headers(client):
    response = faulted(client, "429=0.25")
    assert response.status_code == 429
    assert response.json() == {
        "message": "Requests per minute limit exceeded - too many requests sent.",
        "type": "too_many_requests_error",
        "param": "quota",
        "code": "request_quota_exceeded",
    }
    assert response.headers["retry-after"] == "0.25" and response.headers["retry-after-ms"] == "250"


def test_429_tokens_variant(client):
    response = faulted(client, "429-tokens")
    assert response.status_code == 429
    assert response.json()["code"] == "token_quota_exceeded"
    assert response.json()["message"] == "Tokens per minute limit exceeded - too many tokens processed."
    assert float(response.headers["retry-after"]) == pytest.approx(0.05)  # the retry_after option's default


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_flat_body(client, status):
    response = faulted(client, str(status))
    assert response.status_code == status
    assert response.json() == {"message": "Encountered a server error, please try again.", "type": "server_error"}
    assert no_rate_headers(response)


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_envelope_body(client, status):
    response = faulted(client, f"{status}-envelope")
    assert response.status_code == status
    assert response.json() == {
        "status_code": status,
        "error": {
            "message": "Encountered a server error, please try again.",
            "type": "server_error",
            "param": "",
            "code": "",
            "id": "",
        },
    }


def test_drop_mid_stream_cuts_the_connection(client):
    received: list[bytes] = []
    with pytest.raises(httpx.RemoteProtocolError):
        with client.stream(
            "POST", "/chat/completions", json=STREAM, headers={"x-emulator-fault": "drop-mid-stream=5"}
        ) as response:
            assert response.status_code == 200
            for piece in response.iter_bytes():
                received.append(piece)
    events = data_lines(b"".join(received).decode())
    assert len(events) == 5 and json.loads(events[0])["choices"][0]["delta"] == {"role": "assistant"}


def test_drop_on_a_non_streamed_request(client):
    with pytest.raises(httpx.RemoteProtocolError):
        faulted(client, "drop-mid-stream")


def test_the_next_request_after_a_drop_works(client):
    with pytest.raises(httpx.RemoteProtocolError):
        faulted(client, "drop-mid-stream")
    assert client.post("/chat/completions", json=CHAT).status_code == 200


def test_malformed_chunk_is_one_bad_event_in_a_good_stream(client):
    response = faulted(client, "malformed-chunk=3", STREAM)
    payloads = data_lines(response.text)
    bad = []
    for payload in payloads:
        try:
            json.loads(payload)
        except ValueError:
            bad.append(payload)
    assert len(bad) == 1 and payloads.index(bad[0]) == 3
    assert json.loads(payloads[-1])["choices"][0]["finish_reason"] == "stop"


def test_malformed_non_streamed_body_is_cut_json(client):
    response = faulted(client, "malformed-chunk")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_mid_stream_error_event_and_end(client):
    response = faulted(client, "mid-stream-error=4", STREAM)
    payloads = data_lines(response.text)
    assert len(payloads) == 5
    assert json.loads(payloads[-1]) == {
        "error": {
            "message": "Encountered a server error, please try again.",
            "type": "server_error",
            "param": "",
            "code": "",
            "id": "",
        },
        "status_code": 500,
    }


def test_mid_stream_error_on_a_non_streamed_request_is_an_error_body_with_200(client):
    response = faulted(client, "mid-stream-error")
    assert response.status_code == 200 and response.json()["status_code"] == 500


def test_slow_first_token_delays_the_first_token_not_the_headers(client):
    start = time.perf_counter()
    with client.stream(
        "POST", "/chat/completions", json=STREAM, headers={"x-emulator-fault": "slow-first-token=150ms"}
    ) as response:
        headers_at = time.perf_counter() - start
        body = response.read()
    total = time.perf_counter() - start
    assert headers_at < 0.1 <= 0.14 <= total
    assert data_lines(body.decode())[-1].startswith("{")


def test_token_rate_paces_the_stream(client, cerebras_emulator):
    cerebras_emulator.configure(tokens_per_second=1000)
    start = time.perf_counter()
    response = client.post("/chat/completions", json={**STREAM, "min_completion_tokens": 120})
    elapsed = time.perf_counter() - start
    assert response.status_code == 200 and 0.11 <= elapsed < 2


def test_fail_next_n_requests_then_recover(client, cerebras_emulator):
    cerebras_emulator.fail_next(2, "503")
    assert cerebras_emulator.app.pending_faults == 2
    statuses = [client.post("/chat/completions", json=CHAT).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_fail_next_leaves_model_listing_alone(client, cerebras_emulator):
    cerebras_emulator.fail_next(1, "500")
    assert client.get("/models").status_code == 200
    assert client.get("/tcp_warming").status_code == 200
    assert client.post("/chat/completions", json=CHAT).status_code == 500


def test_faults_option_applies_to_every_request(client, cerebras_emulator):
    cerebras_emulator.configure(faults=["500-envelope"])
    assert [client.post("/chat/completions", json=CHAT).status_code for _ in range(2)] == [500, 500]


def test_unknown_fault_header_is_a_400_naming_it(client):
    response = faulted(client, "explode")
    assert response.status_code == 400 and "explode" in response.json()["message"]


def test_bad_fault_spec_in_fail_next_raises(cerebras_emulator):
    with pytest.raises(ValueError, match="unknown fault"):
        cerebras_emulator.fail_next(1, "kaboom")
