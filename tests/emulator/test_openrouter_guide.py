"""The OpenRouter guide's requests against the emulator's OpenRouter mode, over plain httpx (issue 14).

Web search (the ``web`` plugin and the ``:online`` suffix, with ``url_citation`` annotations whose indexes point at
the cited text), the monitoring endpoints (``/api/v1/key``, the legacy ``/api/v1/auth/key``, ``/api/v1/generation``)
and prompt-caching markers (``cache_control``: accepted on OpenRouter, an unknown field on Cerebras direct).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.emulator._helpers import KEY, chunks, user

GPT = "openai/gpt-oss-120b"
PIN = {"only": ["cerebras"], "allow_fallbacks": False, "require_parameters": True}
# The guide's provider block and web plugin, as written there.
GUIDE_PROVIDER = {"order": ["Cerebras"], "require_parameters": True}
GUIDE_PLUGIN = {
    "id": "web",
    "max_results": 5,
    "search_prompt": "Use the following current web search results to answer the user:",
}
QUESTION = "What are the latest developments in quantum computing in 2024?"
PRICE_PER_RESULT = 0.004  # OpenRouter's web plugin: $4 per 1000 results


def post(openrouter, **body: Any):
    body.setdefault("model", GPT)
    body.setdefault("messages", user(QUESTION))
    return openrouter.post("/chat/completions", json=body)


def assert_openrouter_error(response, status: int, contains: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == status
    assert contains in error["message"], error["message"]


def citations(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [a["url_citation"] for a in message["annotations"] if a["type"] == "url_citation"]


def assert_citations_point_at_their_links(content: str, cited: list[dict[str, Any]]) -> None:
    for c in cited:
        span = content[c["start_index"] : c["end_index"]]
        domain = c["url"].split("/")[2]
        assert span == f"[{domain}]({c['url']})"
        assert c["title"] and c["content"]


# ------------------------------------------------------------------------------------------------- web search


def test_guide_web_search_request_answers_with_citations(openrouter):
    response = post(openrouter, provider=GUIDE_PROVIDER, plugins=[GUIDE_PLUGIN])
    assert response.status_code == 200, response.text
    message = response.json()["choices"][0]["message"]
    cited = citations(message)
    assert len(cited) == 5
    assert len({c["url"] for c in cited}) == 5
    assert_citations_point_at_their_links(message["content"], cited)
    assert all("quantum" in c["url"] for c in cited)


def test_web_search_is_deterministic(openrouter):
    first = post(openrouter, plugins=[GUIDE_PLUGIN]).json()["choices"][0]["message"]
    second = post(openrouter, plugins=[GUIDE_PLUGIN]).json()["choices"][0]["message"]
    assert first["content"] == second["content"] and first["annotations"] == second["annotations"]


def test_online_suffix_is_the_web_plugin(openrouter):
    online = post(openrouter, model=GPT + ":online", provider=PIN).json()
    plugin = post(openrouter, provider=PIN, plugins=[{"id": "web"}]).json()
    assert online["model"] == GPT
    assert online["choices"][0]["message"]["annotations"] == plugin["choices"][0]["message"]["annotations"]
    assert len(online["choices"][0]["message"]["annotations"]) == 5  # OpenRouter's default max_results


def test_max_results_limits_the_citations(openrouter):
    message = post(openrouter, plugins=[{"id": "web", "max_results": 2}]).json()["choices"][0]["message"]
    assert len(citations(message)) == 2


def test_search_results_honour_domain_filters(openrouter):
    plugin = {
        "id": "web",
        "max_results": 6,
        "include_domains": ["arxiv.org", "*.substack.com", "openai.com/blog"],
        "exclude_domains": ["arxiv.org"],
    }
    message = post(openrouter, plugins=[plugin]).json()["choices"][0]["message"]
    urls = [c["url"] for c in citations(message)]
    assert urls
    assert all(u.startswith(("https://openai.com/blog/", "https://www.substack.com/")) for u in urls), urls
    assert not any("arxiv.org" in u for u in urls)
    assert_citations_point_at_their_links(message["content"], citations(message))


def test_web_search_is_charged_per_result_and_adds_prompt_tokens(openrouter):
    plain = post(openrouter, provider=PIN).json()["usage"]
    searched = post(openrouter, provider=PIN, plugins=[{"id": "web", "max_results": 3}]).json()["usage"]
    assert searched["prompt_tokens"] > plain["prompt_tokens"]  # the results are in the prompt
    tokens = searched["cost_details"]
    token_cost = tokens["upstream_inference_prompt_cost"] + tokens["upstream_inference_completions_cost"]
    assert searched["cost"] == pytest.approx(token_cost + 3 * PRICE_PER_RESULT)


def test_streamed_annotations_come_in_one_delta_near_the_end(openrouter):
    body = {"provider": PIN, "plugins": [GUIDE_PLUGIN]}
    whole = post(openrouter, **body).json()["choices"][0]["message"]
    stream = chunks(post(openrouter, stream=True, **body))
    with_choices = [c for c in stream if c["choices"]]
    carrying = [i for i, c in enumerate(with_choices) if "annotations" in c["choices"][0]["delta"]]
    assert len(carrying) == 1
    at = carrying[0]
    assert with_choices[at + 1]["choices"][0]["finish_reason"] == "stop"  # right before the finish chunk
    assert all(c["choices"][0]["finish_reason"] is None for c in with_choices[: at + 1])
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in with_choices)
    annotations = with_choices[at]["choices"][0]["delta"]["annotations"]
    assert content == whole["content"] and annotations == whole["annotations"]
    assert_citations_point_at_their_links(content, citations({"annotations": annotations}))


def test_json_answers_carry_no_citation_text(openrouter):
    response_format = {"type": "json_object"}
    message = post(openrouter, plugins=[{"id": "web"}], response_format=response_format).json()["choices"][0]
    assert json.loads(message["message"]["content"]) and "annotations" not in message["message"]


def test_disabled_web_plugin_does_not_search(openrouter):
    plain = post(openrouter).json()
    disabled = post(openrouter, plugins=[{"id": "web", "enabled": False}]).json()
    assert "annotations" not in disabled["choices"][0]["message"]
    assert disabled["usage"]["cost"] == pytest.approx(plain["usage"]["cost"])


def test_other_plugins_pass_with_their_own_fields(openrouter):
    plugins = [{"id": "response-healing"}, {"id": "moderation"}, {"id": "context-compression", "engine": "middle-out"}]
    response = post(openrouter, provider=PIN, plugins=plugins)
    assert response.status_code == 200, response.text
    assert "annotations" not in response.json()["choices"][0]["message"]


@pytest.mark.parametrize(
    ("plugins", "contains"),
    [
        ({"id": "web"}, "plugins: Expected array"),
        (["web"], "plugins.0: Expected object"),
        ([{"id": "search"}], "plugins.0.id: Invalid discriminator value"),
        ([{"max_results": 3}], "plugins.0.id: Invalid discriminator value"),
        ([{"id": "web", "engine": "google"}], "plugins.0.engine: Invalid enum value"),
        ([{"id": "web", "max_results": 0}], "plugins.0.max_results"),
        ([{"id": "web", "max_results": "5"}], "plugins.0.max_results"),
        ([{"id": "web", "search_prompt": 5}], "plugins.0.search_prompt: Expected string"),
        ([{"id": "web", "include_domains": "example.com"}], "plugins.0.include_domains"),
        ([{"id": "moderation"}, {"id": "web", "exclude_domains": [1]}], "plugins.1.exclude_domains"),
    ],
    ids=[
        "not-a-list",
        "not-an-object",
        "unknown-id",
        "no-id",
        "bad-engine",
        "zero-results",
        "results-as-string",
        "prompt-not-string",
        "domains-not-list",
        "domain-not-string",
    ],
)
def test_bad_plugins_are_400_in_openrouter_shape(openrouter, plugins, contains):
    assert_openrouter_error(post(openrouter, provider=PIN, plugins=plugins), 400, contains)
    assert openrouter.get("/key").json()["data"]["usage"] == 0  # nothing was served


def test_direct_route_rejects_plugins_as_an_unknown_field(client):
    response = client.post("/chat/completions", json={"model": "gpt-oss-120b", "messages": user("hi"), "plugins": []})
    assert response.status_code == 400
    assert response.json()["message"] == "plugins: property 'plugins' is unsupported"


def test_direct_route_does_not_know_the_online_suffix(client):
    response = client.post("/chat/completions", json={"model": "gpt-oss-120b:online", "messages": user("hi")})
    assert response.status_code == 404
    assert response.json()["code"] == "model_not_found"


# ------------------------------------------------------------------------------------------------- monitoring


@pytest.mark.parametrize("path", ["/api/v1/key", "/api/v1/auth/key", "/api/v1/generation?id=gen-1"])
def test_monitoring_endpoints_need_the_bearer_key(bare, path):
    response = bare.get(path)
    assert_openrouter_error(response, 401, "No auth credentials found")


def test_key_usage_grows_with_served_cost(openrouter):
    before = openrouter.get("/key").json()["data"]
    assert before["usage"] == 0 and before["limit"] is None and before["is_free_tier"] is False
    costs = [post(openrouter, provider=PIN).json()["usage"]["cost"]]
    costs.append(post(openrouter, provider=PIN, plugins=[{"id": "web"}]).json()["usage"]["cost"])
    after = openrouter.get("/key").json()["data"]
    assert after["usage"] == pytest.approx(sum(costs))
    assert after["usage_daily"] == after["usage_weekly"] == after["usage_monthly"] == after["usage"]
    assert openrouter.get("/auth/key").json() == openrouter.get("/key").json()  # the guide's legacy path


@pytest.mark.cerebras_emulator(openrouter_key_limit=1.0)
def test_key_limit_remaining_falls_as_usage_grows(openrouter):
    cost = post(openrouter, plugins=[{"id": "web"}]).json()["usage"]["cost"]
    data = openrouter.get("/key").json()["data"]
    assert data["limit"] == 1.0 and data["limit_remaining"] == pytest.approx(1.0 - cost)


def test_key_label_does_not_show_the_whole_key(openrouter):
    label = openrouter.get("/key").json()["data"]["label"]
    assert "..." in label and KEY not in label and label.startswith(KEY[:3])


def test_generation_record_describes_the_completion(openrouter):
    reply = post(openrouter, provider=GUIDE_PROVIDER, plugins=[GUIDE_PLUGIN]).json()
    response = openrouter.get("/generation", params={"id": reply["id"]})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    usage = reply["usage"]
    assert data["id"] == reply["id"] and data["model"] == GPT and data["provider_name"] == "Cerebras"
    assert data["tokens_prompt"] == data["native_tokens_prompt"] == usage["prompt_tokens"]
    assert data["tokens_completion"] == data["native_tokens_completion"] == usage["completion_tokens"]
    assert data["native_tokens_reasoning"] == usage["completion_tokens_details"]["reasoning_tokens"] > 0
    assert data["native_tokens_cached"] == usage["prompt_tokens_details"]["cached_tokens"]
    assert data["total_cost"] == data["usage"] == usage["cost"]
    assert data["num_search_results"] == 5 and data["web_search_engine"] == "exa"
    assert data["streamed"] is False and data["cancelled"] is False
    assert data["finish_reason"] == data["native_finish_reason"] == "stop"
    assert data["latency"] > 0 and data["generation_time"] > 0


def test_generation_record_of_a_stream(openrouter):
    stream = chunks(post(openrouter, provider=PIN, stream=True))
    data = openrouter.get("/generation", params={"id": stream[0]["id"]}).json()["data"]
    assert data["streamed"] is True and data["num_search_results"] == 0 and data["web_search_engine"] is None
    assert data["total_cost"] == stream[-1]["usage"]["cost"]


def test_generation_records_who_served_an_unpinned_request(openrouter, cerebras_emulator):
    cerebras_emulator.configure(openrouter_unpinned_provider="DeepInfra")
    reply = post(openrouter, provider=GUIDE_PROVIDER).json()
    data = openrouter.get("/generation", params={"id": reply["id"]}).json()["data"]
    assert reply["provider"] == data["provider_name"] == "DeepInfra"


def test_unknown_generation_is_404(openrouter):
    assert_openrouter_error(openrouter.get("/generation", params={"id": "gen-0-unknown"}), 404, "not found")


def test_generation_without_an_id_is_400(openrouter):
    assert_openrouter_error(openrouter.get("/generation"), 400, "id")


def test_cerebras_direct_completions_have_no_generation_record(openrouter, client):
    reply = client.post("/chat/completions", json={"model": "gpt-oss-120b", "messages": user("hi")}).json()
    assert openrouter.get("/generation", params={"id": reply["id"]}).status_code == 404


@pytest.mark.cerebras_emulator(generation_delay_s=0.3)
def test_generation_is_404_until_the_record_is_ready(openrouter):
    reply = post(openrouter, provider=PIN).json()
    started = time.monotonic()
    first = openrouter.get("/generation", params={"id": reply["id"]})
    assert first.status_code == 404
    while (response := openrouter.get("/generation", params={"id": reply["id"]})).status_code == 404:
        assert time.monotonic() - started < 3
        time.sleep(0.05)
    assert response.status_code == 200 and response.json()["data"]["id"] == reply["id"]
    assert time.monotonic() - started >= 0.25


# ------------------------------------------------------------------------------------------------ prompt caching

CODEBASE = "".join(f"def function_{i}(value):\n    return value * {i}\n\n" for i in range(60))


def guide_cached_system() -> dict[str, Any]:
    return {
        "role": "system",
        "content": [
            {"type": "text", "text": "You are a helpful coding assistant. Here is a large codebase to analyze:"},
            {"type": "text", "text": CODEBASE, "cache_control": {"type": "ephemeral"}},
        ],
    }


def test_guide_prompt_caching_requests_are_accepted_and_hit_the_cache(openrouter):
    first_turn = [guide_cached_system(), *user("What are the main functions in this codebase?")]
    first = post(openrouter, provider=GUIDE_PROVIDER, messages=first_turn)
    assert first.status_code == 200, first.text
    assert first.json()["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    later = [
        *first_turn,
        {"role": "assistant", "content": "Previous response..."},
        *user("Now find potential bugs in the authentication module."),
    ]
    second = post(openrouter, provider=GUIDE_PROVIDER, messages=later).json()["usage"]
    assert 0 < second["prompt_tokens_details"]["cached_tokens"] <= second["prompt_tokens"]


@pytest.mark.parametrize("ttl", ["5m", "1h"])
def test_cache_control_ttls_and_top_level_marker_are_accepted_on_a_pinned_request(openrouter, ttl):
    marker = {"type": "ephemeral", "ttl": ttl}
    messages = [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": marker}]}]
    response = post(openrouter, provider=PIN, messages=messages, cache_control=marker)
    assert response.status_code == 200, response.text
    assert response.json()["provider"] == "Cerebras"


@pytest.mark.parametrize(
    ("where", "marker", "contains"),
    [
        ("part", {"type": "persistent"}, "messages.0.content.0.cache_control.type"),
        ("part", "ephemeral", "messages.0.content.0.cache_control.type"),
        ("part", {"type": "ephemeral", "ttl": "2h"}, "messages.0.content.0.cache_control.ttl"),
        ("top", {"type": "x"}, "cache_control.type"),
    ],
    ids=["part-bad-type", "part-not-object", "part-bad-ttl", "top-bad-type"],
)
def test_bad_cache_control_is_400_on_openrouter(openrouter, where, marker, contains):
    part: dict[str, Any] = {"type": "text", "text": "hi"}
    body: dict[str, Any] = {"messages": [{"role": "user", "content": [part]}]}
    if where == "part":
        part["cache_control"] = marker
    else:
        body["cache_control"] = marker
    assert_openrouter_error(post(openrouter, **body), 400, contains)


def test_direct_route_rejects_the_guide_cache_control_marker(client):
    messages = [guide_cached_system(), *user("What are the main functions in this codebase?")]
    response = client.post("/chat/completions", json={"model": "gpt-oss-120b", "messages": messages})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "wrong_api_format"
    assert body["message"].startswith("messages.0.system.content.1.cache_control: property")


def test_direct_route_rejects_a_top_level_cache_control(client):
    body = {"model": "gpt-oss-120b", "messages": user("hi"), "cache_control": {"type": "ephemeral"}}
    response = client.post("/chat/completions", json=body)
    assert response.status_code == 400
    assert response.json()["message"] == "cache_control: property 'cache_control' is unsupported"
