import json

import httpx

from tests.wire import RATE_HEADERS, completion


def test_non_streamed_reply_is_typed_with_rate_limits_and_request_id(api):
    def handler(request):
        return httpx.Response(200, json=completion("4", reasoning="two plus two"), headers=RATE_HEADERS)

    result = api.create(handler, model="gpt-oss-120b", messages=[{"role": "user", "content": "2+2?"}])
    assert result.choices[0].message.content == "4"
    assert result.choices[0].message.reasoning == "two plus two"
    assert result.rate_limits.remaining_tokens_minute == 63900
    assert result.request_id == "9a0b1c2d3e4f5061-SJC"
    assert json.loads(api.requests[0].content)["model"] == "gpt-oss-120b"


def test_all_response_headers_are_kept_including_inference_id(api):
    def handler(request):
        return httpx.Response(200, json=completion("ok"), headers={**RATE_HEADERS, "cf-ray": "abc-SJC"})

    result = api.create(handler, model="gpt-oss-120b", messages=[{"role": "user", "content": "x"}])
    assert result.headers["inference-id"] == result.id
    assert result.headers["cf-ray"] == "abc-SJC"
    assert "headers" not in result.to_dict() and "rate_limits" not in result.model_dump()
