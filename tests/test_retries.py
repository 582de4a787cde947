"""Retries: which failures are retried, how long the client waits, and when it stops."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

import cerebras_adapters as ca
from tests.conftest import ChunkedBody
from tests.wire import completion, sse, stream_chunks

USER = [{"role": "user", "content": "hi"}]
OK = completion("fine")
RATE = {"message": "Requests per minute limit exceeded", "code": "request_quota_exceeded"}


def sequence(*steps):
    """A handler answering each request with the next step: (status, headers) or an exception."""
    remaining = list(steps)

    def handler(request):
        step = remaining.pop(0)
        if isinstance(step, Exception):
            raise step
        status, headers = step
        return httpx.Response(status, json=OK if status == 200 else RATE, headers=headers)

    return handler


def test_429_then_success_is_retried_honouring_retry_after_ms(api, no_sleep):
    handler = sequence((429, {"retry-after-ms": "250"}), (429, {"retry-after-ms": "750"}), (200, {}))
    result = api.create(handler, model="gpt-oss-120b", messages=USER)
    assert result.choices[0].message.content == "fine"
    assert len(api.requests) == 3
    assert no_sleep == [0.25, 0.75]


def test_retry_after_seconds_and_http_date_are_honoured(api, no_sleep):
    date = email.utils.formatdate(time.time() + 3, usegmt=True)
    handler = sequence((503, {"retry-after": "2"}), (503, {"retry-after": date}), (200, {}))
    api.create(handler, model="gpt-oss-120b", messages=USER)
    assert no_sleep[0] == 2.0
    assert 1.0 < no_sleep[1] <= 3.0


def test_retry_after_beyond_60_seconds_falls_back_to_backoff(api, no_sleep):
    handler = sequence((429, {"retry-after": "3600"}), (200, {}))
    api.create(handler, model="gpt-oss-120b", messages=USER)
    assert 0.375 <= no_sleep[0] <= 0.5


def test_backoff_doubles_with_jitter_and_stops_after_max_retries(api, no_sleep):
    handler = sequence(*[(500, {})] * 4)
    with pytest.raises(ca.InternalServerError):
        api.create(handler, {"max_retries": 3}, model="gpt-oss-120b", messages=USER)
    assert len(api.requests) == 4
    assert len(no_sleep) == 3
    for delay, base in zip(no_sleep, [0.5, 1.0, 2.0], strict=True):
        assert 0.75 * base <= delay <= base


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503])
def test_retried_statuses(api, no_sleep, status):
    api.create(sequence((status, {}), (200, {})), model="gpt-oss-120b", messages=USER)
    assert len(api.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 422])
def test_client_errors_are_not_retried(api, no_sleep, status):
    with pytest.raises(ca.APIStatusError):
        api.create(sequence((status, {}), (200, {})), model="gpt-oss-120b", messages=USER)
    assert len(api.requests) == 1
    assert no_sleep == []


def test_x_should_retry_header_overrides_the_status(api, no_sleep):
    with pytest.raises(ca.RateLimitError):
        api.create(sequence((429, {"x-should-retry": "false"}), (200, {})), model="gpt-oss-120b", messages=USER)
    assert len(api.requests) == 1
    api.requests.clear()
    api.create(sequence((400, {"x-should-retry": "true"}), (200, {})), model="gpt-oss-120b", messages=USER)
    assert len(api.requests) == 2


def test_connection_errors_are_retried_then_raised(api, no_sleep):
    handler = sequence(*[httpx.ConnectError("refused")] * 3)
    with pytest.raises(ca.APIConnectionError) as info:
        api.create(handler, model="gpt-oss-120b", messages=USER)
    assert not isinstance(info.value, ca.APITimeoutError)
    assert len(no_sleep) == 2


def test_timeouts_are_retried_then_raised_as_timeout(api, no_sleep):
    handler = sequence(httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow"))
    with pytest.raises(ca.APITimeoutError):
        api.create(handler, {"max_retries": 1}, model="gpt-oss-120b", messages=USER)
    assert len(no_sleep) == 1


def test_connection_error_then_success(api, no_sleep):
    result = api.create(sequence(httpx.ConnectError("refused"), (200, {})), model="gpt-oss-120b", messages=USER)
    assert result.choices[0].message.content == "fine"


def test_max_retries_zero_means_one_attempt(api, no_sleep):
    with pytest.raises(ca.RateLimitError):
        api.create(sequence((429, {}), (200, {})), {"max_retries": 0}, model="gpt-oss-120b", messages=USER)
    assert len(api.requests) == 1


def test_stream_is_retried_before_its_first_byte(api, no_sleep):
    body = sse(stream_chunks())
    calls = []

    def handler(request):
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(503, json={"message": "busy", "type": "server_error"})
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=ChunkedBody([body]))

    _, final = api.stream(handler, model="gpt-oss-120b", messages=USER)
    assert final.choices[0].message.content == "Hello."
    assert len(calls) == 2


def test_stream_is_not_retried_once_it_has_yielded(api, no_sleep):
    partial = sse(stream_chunks(content=["so far"])[:2])

    def handler(request):
        return httpx.Response(200, headers={"content-type": "text/event-stream"},
                              stream=ChunkedBody([partial], httpx.ReadError("reset")))

    with pytest.raises(ca.StreamInterruptedError) as info:
        api.stream(handler, model="gpt-oss-120b", messages=USER)
    assert info.value.partial.choices[0].message.content == "so far"
    assert len(api.requests) == 1
    assert no_sleep == []
