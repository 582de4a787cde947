"""Production hardening of the core client: retry hints, header checks, time limits, httpx errors kept inside
the library's tree, silent truncation, and logging.

Each test pins one fault a production user met (see docs/security.md and docs/errors.md). The same faults are
also driven over real sockets by the independent fault server in ``tests/test_fault_matrix.py``.
"""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import logging
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from cerebras_adapters import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncCerebrasClient,
    AuthenticationError,
    CerebrasClient,
    RateLimitError,
    RequestValidationError,
    RoutingError,
    StreamInterruptedError,
)
from cerebras_adapters.errors import parse_retry_after
from tests.conftest import ChunkedBody
from tests.wire import completion, sse, stream_chunks

USER = [{"role": "user", "content": "hi"}]
KEY = "csk-" + "abcdefghijklmnopqrstuvwxyz0123456789"  # assembled: no secret-shaped literal in tracked files
SSE_HEADERS = {"content-type": "text/event-stream"}


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=completion())


def sequence(*responses: httpx.Response | Exception):
    """A handler answering each request with the next response (the last one repeats)."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item

    return handler


# -- 2. one Retry-After parser --------------------------------------------------------------------------------


def test_unreadable_retry_after_is_ignored_and_backoff_applies(api, no_sleep):
    handler = sequence(
        httpx.Response(429, headers={"retry-after": "soon"}, json={"message": "slow down"}),
        httpx.Response(200, json=completion()),
    )
    result = api.create(handler, model="gpt-oss-120b", messages=USER)
    assert result.choices[0].message.content
    assert len(api.requests) == 2
    assert len(no_sleep) == 1 and 0.375 <= no_sleep[0] <= 0.5  # the first backoff step, with jitter


def test_http_date_retry_after_gives_the_retry_and_the_error_the_same_delay(api, no_sleep):
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    limited = httpx.Response(429, headers={"retry-after": when}, json={"message": "too many requests"})
    with pytest.raises(RateLimitError) as info:
        api.create(sequence(limited), client_kwargs={"max_retries": 1}, model="gpt-oss-120b", messages=USER)
    assert len(no_sleep) == 1 and 3.0 <= no_sleep[0] <= 5.0
    assert info.value.retry_after is not None and 3.0 <= info.value.retry_after <= 5.0


@pytest.mark.parametrize("value", ["soon", "", "nan", "inf", "-3", "Tue, 99 Foo 2026 99:99:99 GMT", "1e400"])
def test_garbage_retry_after_values_read_as_no_hint(value):
    assert parse_retry_after({"retry-after": value}) is None


def test_retry_after_ms_wins_and_a_past_date_reads_as_zero():
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "Tue, 01 Jan 2000 00:00:00 GMT"}) == 0.0


# -- 3. headers checked before sending; a key is never shown ------------------------------------------------


def test_a_key_with_a_trailing_newline_is_refused_without_showing_it():
    with pytest.raises(RequestValidationError) as info:
        CerebrasClient(api_key=KEY + "\n")
    assert info.value.param == "api_key"
    assert "line break" in str(info.value) and "strip" in (info.value.fix or "")
    assert KEY not in str(info.value) and KEY[4:12] not in repr(info.value)


def test_a_key_from_the_environment_with_a_newline_names_the_variable(monkeypatch):
    monkeypatch.setenv("CEREBRAS_API_KEY", KEY + "\r\n")
    with pytest.raises(RequestValidationError) as info:
        AsyncCerebrasClient()
    assert "CEREBRAS_API_KEY" in str(info.value)
    assert KEY not in str(info.value)


@pytest.mark.parametrize(
    ("headers", "param", "kind"),
    [
        ({"x-team": "a\r\nInjected: 1"}, "extra_headers.x-team", "line break"),
        ({"x-team": "équipe"}, "extra_headers.x-team", "non-ASCII"),
        ({"x-team": "trailing "}, "extra_headers.x-team", "whitespace"),
        ({"bad name": "v"}, "extra_headers", "header name"),
        ({"x-team": 5}, "extra_headers.x-team", "string"),
    ],
)
def test_an_illegal_extra_header_is_refused_before_sending(api, headers, param, kind):
    with pytest.raises(RequestValidationError) as info:
        api.create(ok, model="gpt-oss-120b", messages=USER, extra_headers=headers)
    assert api.requests == []
    assert info.value.param == param
    assert kind in str(info.value)


def test_an_illegal_default_header_is_refused_at_construction():
    with pytest.raises(RequestValidationError) as info:
        CerebrasClient(api_key=KEY, default_headers={"x-secret": "s3cr3t-value\n"})
    assert info.value.param == "default_headers.x-secret"
    assert "s3cr3t-value" not in str(info.value)


def test_the_client_repr_never_shows_the_key():
    client = CerebrasClient(api_key=KEY)
    assert KEY not in repr(client)


def _shown(exc: BaseException) -> str:
    """Everything an error shows: its text, repr, message, fix and body, and the same of its chain."""
    parts = []
    while exc is not None:
        parts += [str(exc), repr(exc), str(getattr(exc, "message", "")), str(getattr(exc, "fix", "")),
                  repr(getattr(exc, "body", None))]
        exc = exc.__cause__ or exc.__context__
    return "\n".join(parts)


@pytest.mark.parametrize("content", [
    pytest.param(None, id="json"),
    pytest.param(f"Invalid API key {KEY}".encode(), id="plain-text"),
])
def test_a_key_echoed_in_an_error_body_is_redacted(api, content):
    # Some servers and gateways quote the key they refused; the error must not print it (logs, tracebacks).
    body = {"message": f"Wrong API Key: {KEY}", "type": "invalid_request_error", "param": "api_key",
            "code": "wrong_api_key"}
    with pytest.raises(AuthenticationError) as info:
        api.create(lambda request: httpx.Response(401, json=body, content=content), {"api_key": KEY},
                   model="gpt-oss-120b", messages=USER)
    shown = _shown(info.value)
    assert KEY not in shown and KEY[4:] not in shown
    assert "csk-…(redacted)" in shown  # the rest of the message stays
    assert info.value.code == "wrong_api_key" or content is not None


def test_a_key_echoed_in_an_error_on_a_200_is_redacted(api):
    # OpenRouter's shape: the provider's error inside a 200 body (docs/api-facts.md#openrouter-errors).
    body = {"error": {"message": f"provider said: bad key {KEY}", "code": 401}}
    with pytest.raises(AuthenticationError) as info:
        api.create(lambda request: httpx.Response(200, json=body), {"api_key": KEY}, model="gpt-oss-120b",
                   messages=USER)
    shown = _shown(info.value)
    assert KEY not in shown and KEY[4:] not in shown
    assert info.value.message == "provider said: bad key csk-…(redacted)"


def test_a_key_echoed_in_a_stream_error_event_is_redacted(api):
    error = {"error": {"message": f"upstream refused {KEY}", "type": "server_error", "code": 500}}
    events = [*stream_chunks()[:2], error]
    with pytest.raises(APIStatusError) as info:
        api.stream(lambda request: httpx.Response(200, content=sse(events), headers=SSE_HEADERS),
                   {"api_key": KEY}, model="gpt-oss-120b", messages=USER)
    shown = _shown(info.value)
    assert KEY not in shown and KEY[4:] not in shown
    assert "upstream refused csk-…(redacted)" in info.value.message


# -- 4. time limits: per attempt and per call --------------------------------------------------------------


class TrickleBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that sends one byte every ``every`` seconds, forever (each read resets a read timeout)."""

    def __init__(self, data: bytes, every: float) -> None:
        self.data = data
        self.every = every

    def __iter__(self) -> Iterator[bytes]:
        while True:
            for byte in self.data:
                time.sleep(self.every)
                yield bytes([byte])

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            for byte in self.data:
                await asyncio.sleep(self.every)
                yield bytes([byte])


@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
def test_a_trickling_body_is_cut_at_the_deadline(api, stream):
    body = sse(stream_chunks()) if stream else b'{"id": "x", "choices": []}' * 100

    def trickle(request: httpx.Request) -> httpx.Response:
        headers = SSE_HEADERS if stream else {"content-type": "application/json"}
        return httpx.Response(200, headers=headers, stream=TrickleBody(body, 0.02))

    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        call = api.stream if stream else api.create
        call(trickle, client_kwargs={"timeout": 5}, model="gpt-oss-120b", messages=USER, deadline=0.5)
    assert time.monotonic() - started < 0.5 + 0.4
    assert len(api.requests) == 1  # the deadline leaves no room for a retry


def test_attempt_timeout_cuts_each_attempt_and_retries(api, no_sleep):
    def trickle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=TrickleBody(b'{"id": "x"}' * 100, 0.02))

    started = time.monotonic()
    with pytest.raises(APITimeoutError) as info:
        api.create(trickle, client_kwargs={"attempt_timeout": 0.3, "max_retries": 1}, model="gpt-oss-120b",
                   messages=USER)
    assert len(api.requests) == 2
    assert time.monotonic() - started < 2 * 0.3 + 0.4
    assert "attempt_timeout" in str(info.value)


def test_a_retry_that_does_not_fit_in_the_deadline_is_not_made(api, no_sleep):
    busy = httpx.Response(503, headers={"retry-after": "30"}, json={"message": "busy"})
    with pytest.raises(Exception) as info:
        api.create(sequence(busy), client_kwargs={"deadline": 5}, model="gpt-oss-120b", messages=USER)
    assert len(api.requests) == 1 and no_sleep == []
    assert type(info.value).__name__ == "ServiceUnavailableError"


@pytest.mark.parametrize(
    ("name", "value"),
    [("timeout", float("nan")), ("timeout", -1), ("timeout", float("inf")), ("deadline", 0), ("attempt_timeout", "1")],
)
def test_an_unusable_time_limit_is_refused_naming_it(api, name, value):
    with pytest.raises(RequestValidationError) as info:
        api.create(ok, model="gpt-oss-120b", messages=USER, **{name: value})
    assert info.value.param == name
    assert api.requests == []
    with pytest.raises(RequestValidationError):
        CerebrasClient(api_key=KEY, **{name: value})


# -- 5. nothing from httpx escapes --------------------------------------------------------------------------


def test_a_retryable_error_response_cut_while_its_body_is_read_is_retried(api, no_sleep):
    # A stream request reads an error body itself (outside httpx's send), so the cut used to escape as
    # a raw httpx.ReadError and was never retried.
    cut = httpx.Response(503, headers={"content-type": "application/json"},
                         stream=ChunkedBody([b'{"message": "bu'], httpx.ReadError("connection reset")))
    good = httpx.Response(200, headers=SSE_HEADERS, stream=ChunkedBody([sse(stream_chunks())]))
    _, final = api.stream(sequence(cut, good), model="gpt-oss-120b", messages=USER)
    assert final.choices[0].message.content == "Hello."
    assert len(api.requests) == 2


def test_a_stream_error_response_cut_every_time_ends_as_a_connection_error(api, no_sleep):
    def cut(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, stream=ChunkedBody([b'{"mess'], httpx.ReadError("connection reset")))

    with pytest.raises(APIConnectionError) as info:
        api.stream(cut, model="gpt-oss-120b", messages=USER)
    assert not isinstance(info.value.__cause__, RequestValidationError)
    assert len(api.requests) == 3


@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
def test_a_body_that_claims_gzip_and_is_not_is_a_response_validation_error(api, stream):
    def bad_gzip(request: httpx.Request) -> httpx.Response:
        headers = {"content-encoding": "gzip", **(SSE_HEADERS if stream else {})}
        return httpx.Response(200, headers=headers, stream=ChunkedBody([b"this is not gzip at all"]))

    with pytest.raises(APIResponseValidationError):
        (api.stream if stream else api.create)(bad_gzip, model="gpt-oss-120b", messages=USER)
    assert len(api.requests) == 1


def test_a_real_gzip_body_still_decodes(api):
    def zipped(request: httpx.Request) -> httpx.Response:
        data = gzip.compress(httpx.Response(200, json=completion()).content)
        return httpx.Response(200, headers={"content-encoding": "gzip", "content-type": "application/json"},
                              content=data)

    assert api.create(zipped, model="gpt-oss-120b", messages=USER).choices[0].message.content


def test_an_unsupported_url_scheme_is_not_retried(api, no_sleep):
    with pytest.raises(APIConnectionError):
        api.create(None, client_kwargs={"base_url": "ftp://example.invalid/v1"}, model="gpt-oss-120b",
                   messages=USER)
    assert no_sleep == []


# -- 6. no silent truncation --------------------------------------------------------------------------------


def test_done_before_any_finish_reason_is_an_interrupted_stream(api):
    body = sse(stream_chunks(content=["half ", "an answer"])[:-1], done=True)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE_HEADERS, stream=ChunkedBody([body]))

    with pytest.raises(StreamInterruptedError) as info:
        api.stream(handler, model="gpt-oss-120b", messages=USER)
    assert "[DONE]" in str(info.value)
    assert info.value.partial.choices[0].message.content == "half an answer"


def test_a_routing_error_on_a_late_chunk_carries_the_partial_output(api):
    events = stream_chunks(content=["served ", "elsewhere"])
    for event in events:
        event["provider"] = "Cerebras"
    events[-1]["provider"] = "Groq"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE_HEADERS, stream=ChunkedBody([sse(events, done=True)]))

    with pytest.raises(RoutingError) as info:
        api.stream(handler, client_kwargs={"route": "openrouter"}, model="gpt-oss-120b", messages=USER)
    assert info.value.provider == "Groq"
    assert info.value.partial.choices[0].message.content == "served elsewhere"


# -- 9. logging ---------------------------------------------------------------------------------------------


def test_requests_are_logged_at_debug_and_retries_at_info_without_the_key(api, no_sleep, caplog):
    handler = sequence(httpx.Response(503, json={"message": "busy"}), httpx.Response(200, json=completion()))
    with caplog.at_level(logging.DEBUG, logger="cerebras_adapters"):
        api.create(handler, client_kwargs={"api_key": KEY}, model="gpt-oss-120b", messages=USER)
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any("POST https://api.cerebras.ai/v1/chat/completions -> 503" in m for m in debug)
    assert any("-> 200" in m and " ms" in m for m in debug)
    assert len(info) == 1 and "retrying POST" in info[0] and "HTTP 503" in info[0] and "retry 1 of 2" in info[0]
    assert all(r.name == "cerebras_adapters" for r in caplog.records if r.name.startswith("cerebras"))
    assert not any(KEY in r.getMessage() or KEY[4:] in r.getMessage() for r in caplog.records)
