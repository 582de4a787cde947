"""Every status and both error body shapes map to the right exception, with what the body said."""

from __future__ import annotations

import httpx
import pytest

import cerebras_adapters as ca
from tests.wire import RATE_HEADERS, completion

USER = [{"role": "user", "content": "hi"}]
NO_RETRY = {"max_retries": 0}


def reply(status, body=None, headers=None, content=None):
    def handler(request):
        if content is not None:
            return httpx.Response(status, content=content, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return handler


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ca.BadRequestError), (401, ca.AuthenticationError), (402, ca.PaymentRequiredError),
        (403, ca.PermissionDeniedError), (404, ca.NotFoundError), (408, ca.RequestTimeoutError),
        (409, ca.ConflictError), (413, ca.PayloadTooLargeError), (422, ca.UnprocessableEntityError),
        (429, ca.RateLimitError), (500, ca.InternalServerError), (502, ca.InternalServerError),
        (503, ca.ServiceUnavailableError), (504, ca.InternalServerError), (418, ca.APIStatusError),
    ],
)
@pytest.mark.parametrize("shape", ["flat", "envelope"])
def test_each_status_maps_to_its_exception_in_both_body_shapes(api, status, cls, shape):
    err = {"message": f"problem {status}", "type": "some_error", "param": "model", "code": "some_code"}
    body = err if shape == "flat" else {"status_code": status, "error": err}
    with pytest.raises(cls) as info:
        api.create(reply(status, body), NO_RETRY, model="gpt-oss-120b", messages=USER)
    exc = info.value
    assert type(exc) is cls
    assert exc.status_code == status
    assert exc.message == f"problem {status}"
    assert (exc.type, exc.param, exc.code) == ("some_error", "model", "some_code")


def test_wrong_key_401_flat_body(api):
    # Shape of RT-08: flat body, no error wrapper, no rate-limit headers.
    body = {"message": "Wrong API Key", "type": "invalid_request_error", "param": "api_key",
            "code": "wrong_api_key"}
    with pytest.raises(ca.AuthenticationError) as info:
        api.create(reply(401, body), model="gpt-oss-120b", messages=USER)
    assert info.value.code == "wrong_api_key"
    assert info.value.rate_limits is None
    assert len(api.requests) == 1  # 401 is not retried


def test_unknown_model_404_is_not_found_naming_the_model_param(api):
    # Shape of RT-09.
    body = {"message": "Model nope does not exist or you do not have access to it.", "type": "not_found_error",
            "param": "model", "code": "model_not_found"}
    with pytest.raises(ca.NotFoundError) as info:
        api.create(reply(404, body), model="nope", messages=USER)
    assert (info.value.param, info.value.code) == ("model", "model_not_found")


def test_envelope_status_code_wins_over_the_http_status(api):
    body = {"status_code": 503, "error": {"message": "overloaded", "type": "server_error"}}
    with pytest.raises(ca.ServiceUnavailableError):
        api.create(reply(500, body), NO_RETRY, model="gpt-oss-120b", messages=USER)


def test_empty_strings_are_normalised_and_numeric_codes_kept(api):
    body = {"status_code": 500, "error": {"message": "Encountered a server error, please try again.",
                                          "type": "server_error", "param": "", "code": 42, "id": ""}}
    with pytest.raises(ca.InternalServerError) as info:
        api.create(reply(500, body), NO_RETRY, model="gpt-oss-120b", messages=USER)
    assert info.value.param is None
    assert info.value.code == 42


def test_500_without_param_or_code(api):
    # Shape of RT-10: a flat 500 body with only message and type.
    body = {"message": "Encountered non requests specific error, please try again.", "type": "server_error"}
    with pytest.raises(ca.InternalServerError) as info:
        api.create(reply(500, body), NO_RETRY, model="gpt-oss-120b", messages=USER)
    assert info.value.param is None and info.value.code is None
    assert "non requests specific" in str(info.value)


@pytest.mark.parametrize("content", [b"", b"<html>bad gateway</html>"], ids=["empty", "not-json"])
def test_empty_or_non_json_error_bodies(api, content):
    with pytest.raises(ca.UnprocessableEntityError) as info:
        api.create(reply(422, content=content), model="gpt-oss-120b", messages=USER)
    assert info.value.status_code == 422
    assert info.value.message


def test_context_length_400_is_its_own_subclass(api):
    body = {"message": "Please reduce the length of the messages or completion. Current length is 42328 while "
            "limit is 40000", "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}
    with pytest.raises(ca.ContextLengthExceededError):
        api.create(reply(400, body), model="gpt-oss-120b", messages=USER)


def test_validation_400_keeps_param_and_code(api):
    body = {"message": "messages.1.assistant.foo: property 'messages.1.assistant.foo' is unsupported",
            "type": "invalid_request_error", "param": "validation_error", "code": "wrong_api_format"}
    with pytest.raises(ca.BadRequestError) as info:
        api.create(reply(400, body), model="gpt-oss-120b", messages=USER)
    assert type(info.value) is ca.BadRequestError
    assert info.value.code == "wrong_api_format"


@pytest.mark.parametrize(
    ("message", "code", "limit", "reset"),
    [
        ("Requests per minute limit exceeded - too many requests sent.", "request_quota_exceeded", "requests",
         4021.5593),
        ("Tokens per minute limit exceeded - too many tokens processed.", "token_quota_exceeded", "tokens", 21.25),
    ],
)
def test_rate_limit_error_says_which_limit_and_when_it_resets(api, message, code, limit, reset):
    body = {"message": message, "type": "too_many_requests_error", "param": "quota", "code": code}
    with pytest.raises(ca.RateLimitError) as info:
        api.create(reply(429, body, RATE_HEADERS), NO_RETRY, model="gpt-oss-120b", messages=USER)
    assert info.value.limit == limit
    assert info.value.retry_after == pytest.approx(reset)
    assert info.value.rate_limits.remaining_requests_day == 14390
    assert info.value.request_id == "9a0b1c2d3e4f5061-SJC"


def test_rate_limit_retry_after_header_is_preferred(api):
    body = {"message": "Tokens per minute limit exceeded", "code": "token_quota_exceeded"}
    with pytest.raises(ca.RateLimitError) as info:
        api.create(reply(429, body, {**RATE_HEADERS, "retry-after-ms": "1500"}), NO_RETRY, model="gpt-oss-120b",
                   messages=USER)
    assert info.value.retry_after == pytest.approx(1.5)


OPENROUTER = {"route": "openrouter", "api_key": "or-test", "max_retries": 0}


def test_openrouter_no_endpoints_404_names_the_unsupported_parameters(api):
    body = {"error": {"code": 404, "message": "No endpoints found that can handle the requested parameters.",
                      "metadata": {"error_type": "constraint_filtered"}}}
    with pytest.raises(ca.NoEndpointsError) as info:
        api.create(reply(404, body), OPENROUTER, model="gpt-oss-120b", messages=USER, logit_bias={"1": 2.0},
                   temperature=0.2)
    assert info.value.unsupported == ["logit_bias"]
    assert "logit_bias" in str(info.value)


def test_openrouter_error_body_shape(api):
    body = {"error": {"code": 402, "message": "Insufficient credits"}}
    with pytest.raises(ca.PaymentRequiredError, match="Insufficient credits"):
        api.create(reply(402, body), OPENROUTER, model="gpt-oss-120b", messages=USER)


def test_openrouter_response_served_elsewhere_raises_routing_error(api):
    body = completion("hi", model="openai/gpt-oss-120b", provider="OtherCloud")
    with pytest.raises(ca.RoutingError) as info:
        api.create(reply(200, body), OPENROUTER, model="gpt-oss-120b", messages=USER)
    assert info.value.provider == "OtherCloud"


def test_openrouter_response_served_by_cerebras_passes_with_cost(api):
    body = completion("hi", model="openai/gpt-oss-120b", provider="Cerebras")
    body["usage"]["cost"] = 0.00042
    result = api.create(reply(200, body), OPENROUTER, model="gpt-oss-120b", messages=USER)
    assert result.provider == "Cerebras"
    assert result.usage.cost == pytest.approx(0.00042)


def test_provider_check_can_be_switched_off(api):
    body = completion("hi", model="openai/gpt-oss-120b", provider="OtherCloud")
    route = ca.OpenRouterRoute(verify_provider=False)
    result = api.create(reply(200, body), {"route": route, "api_key": "k"}, model="gpt-oss-120b", messages=USER)
    assert result.provider == "OtherCloud"


def test_error_embedded_in_a_200_completion_raises_with_partial(api):
    # openrouter.md §1.4: non-streaming 200 with the provider error inside the choice.
    body = completion("partial answ", model="openai/gpt-oss-120b", provider="Cerebras", finish_reason="error")
    body["choices"][0]["error"] = {"code": 502, "message": "Provider disconnected"}
    with pytest.raises(ca.InternalServerError) as info:
        api.create(reply(200, body), OPENROUTER, model="gpt-oss-120b", messages=USER)
    assert info.value.partial.choices[0].message.content == "partial answ"


def test_error_json_with_a_200_status_raises(api):
    body = {"status_code": 429, "error": {"message": "slow down", "type": "too_many_requests_error"}}
    with pytest.raises(ca.RateLimitError):
        api.create(reply(200, body), model="gpt-oss-120b", messages=USER)


def test_response_that_is_not_a_completion_raises_response_validation_error(api):
    with pytest.raises(ca.APIResponseValidationError):
        api.create(reply(200, content=b"<html>captive portal</html>"), model="gpt-oss-120b", messages=USER)


def test_every_api_error_is_a_cerebras_adapter_error():
    for name in ca.errors.__all__:
        obj = getattr(ca.errors, name)
        if isinstance(obj, type):
            assert issubclass(obj, ca.CerebrasAdapterError), name
