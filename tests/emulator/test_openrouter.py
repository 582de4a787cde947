"""OpenRouter mode (``/api/v1``): pinning, require_parameters, reasoning, cost, SSE specifics (openrouter.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.emulator._helpers import data_lines, user

PIN = {"only": ["cerebras"], "allow_fallbacks": False, "require_parameters": True}
GPT = "openai/gpt-oss-120b"


def post(openrouter, **body: Any):
    body.setdefault("model", GPT)
    body.setdefault("messages", user("What is 2+2?"))
    return openrouter.post("/chat/completions", json=body)


def test_pinned_reply_names_the_provider_and_costs(openrouter):
    response = post(openrouter, provider=PIN, reasoning={"effort": "low"})
    body = response.json()
    assert response.status_code == 200
    assert body["provider"] == "Cerebras" and body["model"] == GPT and body["id"].startswith("gen-")
    assert response.headers["x-generation-id"] == body["id"]
    assert not any(h.startswith("x-ratelimit-") for h in response.headers)
    message = body["choices"][0]["message"]
    assert message["content"] == "4" and message["reasoning"]
    assert message["reasoning_details"][0]["type"] == "reasoning.text"
    assert body["choices"][0]["native_finish_reason"] == "stop"
    usage = body["usage"]
    expected = (usage["prompt_tokens"] * 0.35 + usage["completion_tokens"] * 0.75) / 1e6
    assert usage["cost"] == pytest.approx(expected)
    assert usage["completion_tokens_details"]["reasoning_tokens"] > 0


def test_stream_has_processing_comments_usage_chunk_and_done(openrouter):
    response = post(openrouter, provider=PIN, stream=True)
    assert response.text.startswith(": OPENROUTER PROCESSING\n\n")
    payloads = data_lines(response.text)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert all(c["provider"] == "Cerebras" for c in chunks)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["cost"] > 0
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1]) == "4"
    assert "".join(c["choices"][0]["delta"].get("reasoning") or "" for c in chunks[:-1])


@pytest.mark.parametrize(
    ("provider", "served_by"),
    [
        ({"only": ["cerebras"]}, "Cerebras"),
        ({"order": ["cerebras"], "allow_fallbacks": False}, "Cerebras"),
        ({"order": ["cerebras"]}, "DeepInfra"),
        (None, "DeepInfra"),
        ({"only": ["groq"]}, "DeepInfra"),
    ],
    ids=["only", "order-no-fallbacks", "order-with-fallbacks", "no-preferences", "only-another"],
)
def test_unpinned_requests_may_be_served_elsewhere(openrouter, cerebras_emulator, provider, served_by):
    cerebras_emulator.configure(openrouter_unpinned_provider="DeepInfra")
    body = {"provider": provider} if provider is not None else {}
    assert post(openrouter, **body).json()["provider"] == served_by


def test_unpinned_requests_stay_on_cerebras_by_default(openrouter):
    assert post(openrouter).json()["provider"] == "Cerebras"


@pytest.mark.parametrize(
    "param",
    [
        {"top_k": 5},
        {"min_p": 0.1},
        {"repetition_penalty": 1.1},
        {"logit_bias": {"1": 1}},
        {"verbosity": "low"},
        {"clear_thinking": False},
        {"web_search_options": {}},
    ],
)
def test_pinned_require_parameters_with_an_unsupported_parameter_is_404(openrouter, param):
    response = post(openrouter, provider=PIN, **param)
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": 404, "message": "No endpoints found that can handle the requested parameters."}
    }


def test_unpinned_require_parameters_falls_back_to_another_provider(openrouter):
    provider = {"order": ["cerebras"], "require_parameters": True}
    assert post(openrouter, provider=provider, top_k=5).json()["provider"] == "DeepInfra"


def test_without_require_parameters_unsupported_parameters_are_dropped(openrouter):
    response = post(openrouter, provider={"only": ["cerebras"]}, top_k=5, clear_thinking=True)
    assert response.status_code == 200 and response.json()["provider"] == "Cerebras"


def test_reasoning_exclude_hides_reasoning_but_bills_it(openrouter):
    body = post(openrouter, provider=PIN, reasoning={"effort": "high", "exclude": True}).json()
    assert body["choices"][0]["message"]["reasoning"] is None
    assert "reasoning_details" not in body["choices"][0]["message"]
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def test_reasoning_effort_maps_to_length(openrouter):
    def tokens(effort: str) -> int:
        body = post(openrouter, provider=PIN, messages=user("Why is the sky blue?"), reasoning={"effort": effort})
        return int(body.json()["usage"]["completion_tokens_details"]["reasoning_tokens"])

    assert tokens("minimal") < tokens("medium") < tokens("xhigh")


def test_gpt_oss_reasoning_cannot_be_disabled(openrouter):
    response = post(openrouter, provider=PIN, reasoning={"effort": "none"})
    assert response.status_code == 400 and "mandatory" in response.json()["error"]["message"]


def test_glm_reasoning_can_be_disabled(openrouter):
    body = post(openrouter, model="z-ai/glm-4.7", provider=PIN, reasoning={"enabled": False}).json()
    assert body["choices"][0]["message"]["reasoning"] is None


def test_upstream_validation_errors_come_back_wrapped(openrouter):
    tool = {"type": "function", "function": {"name": "t", "parameters": {"type": "object", "properties": {}}}}
    response = post(openrouter, provider=PIN, tools=[tool], response_format={"type": "json_object"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 400 and error["message"] == "Provider returned error"
    raw = json.loads(error["metadata"]["raw"])
    assert raw["code"] == "wrong_api_format" and error["metadata"]["provider_name"] == "Cerebras"


def test_reasoning_content_is_an_accepted_alias_on_openrouter(openrouter):
    messages = [*user("hi"), {"role": "assistant", "content": "hello", "reasoning_content": "greeting"}, *user("again")]
    assert post(openrouter, provider=PIN, messages=messages).status_code == 200


def test_bad_key_and_unknown_model(openrouter):
    bad = openrouter.post(
        "/chat/completions",
        json={"model": GPT, "messages": user("hi")},
        headers={"Authorization": "Bearer sk-or-invalid"},
    )
    assert bad.status_code == 401 and bad.json()["error"]["code"] == 401
    unknown = post(openrouter, model="acme/unknown-1b")
    assert unknown.status_code == 400 and "not a valid model ID" in unknown.json()["error"]["message"]


def test_openrouter_429_fault_shape(openrouter):
    response = openrouter.post(
        "/chat/completions", json={"model": GPT, "messages": user("hi")}, headers={"x-emulator-fault": "429=1"}
    )
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert response.json() == {
        "error": {"code": 429, "message": "Rate limit exceeded", "metadata": {"error_type": "rate_limit_exceeded"}}
    }


def test_openrouter_mid_stream_error_chunk(openrouter):
    response = openrouter.post(
        "/chat/completions",
        headers={"x-emulator-fault": "mid-stream-error"},
        json={"model": GPT, "messages": user("Tell me about tea."), "stream": True, "provider": PIN},
    )
    last = json.loads(data_lines(response.text)[-1])
    assert response.status_code == 200
    assert isinstance(last["error"]["code"], int) and last["choices"][0]["finish_reason"] == "error"


def test_openrouter_model_list_and_endpoints(openrouter):
    models = openrouter.get("/models").json()["data"]
    gpt = next(m for m in models if m["id"] == GPT)
    assert "reasoning" in gpt["supported_parameters"] and "top_k" not in gpt["supported_parameters"]
    endpoints = openrouter.get(f"/models/{GPT}/endpoints").json()["data"]["endpoints"]
    assert endpoints[0]["provider_name"] == "Cerebras" and endpoints[0]["supported_parameters"]
