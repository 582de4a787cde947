"""What OpenRouter's Cerebras guide does, on this library's core: web search, prompt caching and monitoring.

The guide (web search with ``plugins``, the ``:online`` suffix, citations in ``message.annotations``; prompt caching
with ``cache_control`` on content parts; ``GET /api/v1/key`` and ``GET /api/v1/generation``) is followed on the
OpenRouter route, and the direct route neither sends ``plugins`` (refused, nothing leaves) nor ``cache_control``
(removed: Cerebras caches automatically). Wire facts: docs/api-facts.md#openrouter-web-search,
#prompt-caching, #openrouter-monitoring.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cerebras_adapters import (
    Annotation,
    AsyncCerebrasClient,
    AuthenticationError,
    CerebrasClient,
    ChatCompletionChunk,
    NotFoundError,
    OpenRouterGeneration,
    OpenRouterKey,
    RequestValidationError,
    RoutingError,
    UnsupportedParameterError,
    URLCitation,
    accumulate,
)
from cerebras_adapters import routes as routes_module
from tests.conftest import Api
from tests.wire import chunk, completion, sse

OPENROUTER = {"route": "openrouter"}
GEN_ID = "gen-1790000000-AbCdEfGhIjKlMnOpQrSt"

# The guide's requests, ported to this library's call shape.
GUIDE_WEB_PLUGIN = [
    {
        "id": "web",
        "max_results": 5,
        "search_prompt": "Use the following current web search results to answer the user:",
    }
]
GUIDE_WEB_QUESTION = [{"role": "user", "content": "What are the latest developments in quantum computing in 2024?"}]
GUIDE_CACHED_MESSAGES: list[dict[str, Any]] = [
    {
        "role": "system",
        "content": [
            {"type": "text", "text": "You are a helpful coding assistant. Here is a large codebase to analyze:"},
            {
                "type": "text",
                "text": "# Very large codebase content here (multiple files, docs, etc.)",
                "cache_control": {"type": "ephemeral"},
            },
        ],
    },
    {"role": "user", "content": "What are the main functions in this codebase?"},
]
CITATIONS = [
    {
        "type": "url_citation",
        "url_citation": {
            "url": "https://example.com/quantum-2024",
            "title": "Quantum computing in 2024",
            "content": "Error-corrected logical qubits [...]",
            "start_index": 10,
            "end_index": 42,
        },
    },
    {
        "type": "url_citation",
        "url_citation": {"url": "https://example.org/qec", "title": "QEC", "start_index": 50, "end_index": 60},
    },
]


def body_of(request: httpx.Request) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(request.content)
    return parsed


def on_cerebras(request: httpx.Request) -> httpx.Response:
    """An OpenRouter answer served by Cerebras, with the citations of a web search."""
    model = body_of(request)["model"]
    answer = completion("Recent work [example.com](https://example.com/quantum-2024).", model=model)
    answer["choices"][0]["message"]["annotations"] = CITATIONS
    answer.update(id=GEN_ID, provider="Cerebras")
    return httpx.Response(200, json=answer)


def direct_ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=completion("Sunny."))


# -- web search: plugins and :online -----------------------------------------------------------------------------


def test_guide_web_plugin_is_sent_as_written_on_openrouter(api: Api) -> None:
    result = api.create(on_cerebras, OPENROUTER, model="gpt-oss-120b", messages=GUIDE_WEB_QUESTION,
                        plugins=GUIDE_WEB_PLUGIN)
    sent = body_of(api.requests[0])
    assert sent["plugins"] == GUIDE_WEB_PLUGIN
    assert sent["model"] == "openai/gpt-oss-120b"
    assert sent["provider"]["only"] == ["cerebras"] and sent["provider"]["allow_fallbacks"] is False
    assert result.choices[0].message.annotations is not None


@pytest.mark.parametrize(
    "plugin",
    [
        {"id": "web", "engine": "exa", "max_results": 3, "include_domains": ["example.com", "*.substack.com"],
         "exclude_domains": ["reddit.com"]},
        {"id": "moderation"},
        {"id": "file-parser", "pdf": {"engine": "pdf-text"}},
        {"id": "response-healing"},
        {"id": "context-compression", "enabled": True},
    ],
    ids=["web-all-fields", "moderation", "file-parser", "response-healing", "context-compression"],
)
def test_documented_plugins_pass_with_their_fields_on_openrouter(api: Api, plugin: dict[str, Any]) -> None:
    api.create(on_cerebras, OPENROUTER, model="gpt-oss-120b", messages=GUIDE_WEB_QUESTION, plugins=[plugin])
    assert body_of(api.requests[0])["plugins"] == [plugin]


def test_plugins_are_refused_on_the_cerebras_route_before_anything_is_sent(api: Api) -> None:
    with pytest.raises(UnsupportedParameterError) as caught:
        api.create(direct_ok, model="gpt-oss-120b", messages=GUIDE_WEB_QUESTION, plugins=GUIDE_WEB_PLUGIN)
    assert api.requests == []
    assert caught.value.param == "plugins"
    assert "no web search" in str(caught.value)
    assert "route='openrouter'" in (caught.value.fix or "")


def test_plugins_through_extra_body_are_refused_on_the_cerebras_route_too(api: Api) -> None:
    with pytest.raises(UnsupportedParameterError) as caught:
        api.create(direct_ok, model="gpt-oss-120b", messages=GUIDE_WEB_QUESTION,
                   extra_body={"plugins": GUIDE_WEB_PLUGIN})
    assert api.requests == []
    assert caught.value.param == "extra_body.plugins"


def test_online_suffix_maps_to_the_openrouter_id_and_keeps_the_pin(api: Api) -> None:
    api.create(on_cerebras, OPENROUTER, model="gpt-oss-120b:online", messages=GUIDE_WEB_QUESTION)
    sent = body_of(api.requests[0])
    assert sent["model"] == "openai/gpt-oss-120b:online"
    assert sent["provider"]["only"] == ["cerebras"]


def test_online_suffix_on_an_openrouter_id_is_sent_unchanged(api: Api) -> None:
    api.create(on_cerebras, OPENROUTER, model="openai/gpt-oss-120b:online", messages=GUIDE_WEB_QUESTION)
    assert body_of(api.requests[0])["model"] == "openai/gpt-oss-120b:online"


def test_online_suffix_is_refused_on_the_cerebras_route_before_anything_is_sent(api: Api) -> None:
    with pytest.raises(UnsupportedParameterError) as caught:
        api.create(direct_ok, model="gpt-oss-120b:online", messages=GUIDE_WEB_QUESTION)
    assert api.requests == []
    assert caught.value.param == "model"
    assert "route='openrouter'" in (caught.value.fix or "") and "'gpt-oss-120b'" in (caught.value.fix or "")


def test_online_suffix_keeps_the_models_rules() -> None:
    # The ":online" id is still gpt-oss-120b: its rules apply (reasoning cannot be turned off on gpt-oss).
    client = CerebrasClient(api_key="test-key", route="openrouter",
                            http_client=httpx.Client(transport=httpx.MockTransport(on_cerebras)))
    with client, pytest.raises(RequestValidationError) as caught:
        client.chat.completions.create(model="gpt-oss-120b:online", messages=GUIDE_WEB_QUESTION,
                                       reasoning_effort="none")
    assert caught.value.param == "reasoning_effort"


@pytest.mark.parametrize(
    ("plugins", "param"),
    [
        ([{"id": "web", "engine": "bing"}], "plugins.0.engine"),
        ([{"id": "web", "max_results": 0}], "plugins.0.max_results"),
        ([{"id": "web", "max_results": True}], "plugins.0.max_results"),
        ([{"id": "web", "max_results": "5"}], "plugins.0.max_results"),
        ([{"id": "web", "search_prompt": 7}], "plugins.0.search_prompt"),
        ([{"id": "web", "include_domains": "example.com"}], "plugins.0.include_domains"),
        ([{"id": "web", "exclude_domains": [""]}], "plugins.0.exclude_domains"),
        ([{"id": "web", "max_result": 5}], "plugins.0.max_result"),
        ([{"id": "web"}, {"id": "websearch"}], "plugins.1.id"),
        ([{"max_results": 5}], "plugins.0.id"),
        ([{"id": "web"}, "web"], "plugins.1"),
        ({"id": "web"}, "plugins"),
    ],
)
def test_bad_plugins_are_refused_naming_the_field(api: Api, plugins: Any, param: str) -> None:
    with pytest.raises(RequestValidationError) as caught:
        api.create(on_cerebras, OPENROUTER, model="gpt-oss-120b", messages=GUIDE_WEB_QUESTION, plugins=plugins)
    assert api.requests == []
    assert caught.value.param == param
    assert caught.value.fix


# -- prompt caching ------------------------------------------------------------------------------------------------


@pytest.fixture
def cache_note(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The one-time caching note, as if this process had not logged it yet."""
    monkeypatch.setattr(routes_module, "_cache_note_logged", False)
    caplog.set_level(logging.INFO, logger="cerebras_adapters")
    return caplog


def _cache_notes(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "cache_control removed" in r.getMessage()]


def test_guide_cache_control_is_removed_on_the_cerebras_route(api: Api, cache_note: pytest.LogCaptureFixture) -> None:
    given_messages = copy.deepcopy(GUIDE_CACHED_MESSAGES)
    api.create(direct_ok, model="gpt-oss-120b", messages=given_messages)
    sent = body_of(api.requests[0])
    assert "cache_control" not in json.dumps(sent)
    assert sent["messages"][0]["content"] == [
        {"type": "text", "text": "You are a helpful coding assistant. Here is a large codebase to analyze:"},
        {"type": "text", "text": "# Very large codebase content here (multiple files, docs, etc.)"},
    ]
    assert given_messages == GUIDE_CACHED_MESSAGES  # the caller's messages are not changed
    (note,) = _cache_notes(cache_note)
    assert note.levelno == logging.INFO
    assert "cached_tokens" in note.getMessage()


def test_caching_note_is_logged_once_per_process(cache_note: pytest.LogCaptureFixture) -> None:
    transport = httpx.MockTransport(direct_ok)
    with CerebrasClient(api_key="test-key", http_client=httpx.Client(transport=transport)) as client:
        for _ in range(3):
            client.chat.completions.create(model="gpt-oss-120b", messages=GUIDE_CACHED_MESSAGES,
                                           cache_control={"type": "ephemeral"})
    assert len(_cache_notes(cache_note)) == 1


def test_top_level_cache_control_is_removed_on_the_cerebras_route(api: Api) -> None:
    api.create(direct_ok, model="gpt-oss-120b", messages=GUIDE_WEB_QUESTION,
               cache_control={"type": "ephemeral", "ttl": "1h"})
    assert "cache_control" not in body_of(api.requests[0])


def test_cache_control_passes_through_on_openrouter(api: Api) -> None:
    api.create(on_cerebras, OPENROUTER, model="gpt-oss-120b", messages=GUIDE_CACHED_MESSAGES,
               cache_control={"type": "ephemeral", "ttl": "5m"})
    sent = body_of(api.requests[0])
    assert sent["messages"] == GUIDE_CACHED_MESSAGES
    assert sent["cache_control"] == {"type": "ephemeral", "ttl": "5m"}


@pytest.mark.parametrize(
    ("marker", "param"),
    [
        ({"type": "persistent"}, "messages.0.content.1.cache_control"),
        ({"type": "ephemeral", "ttl": "2h"}, "messages.0.content.1.cache_control.ttl"),
        ({"type": "ephemeral", "scope": "global"}, "messages.0.content.1.cache_control.scope"),
        ("ephemeral", "messages.0.content.1.cache_control"),
    ],
)
def test_bad_cache_control_is_refused_naming_the_part(api: Api, marker: Any, param: str) -> None:
    messages = copy.deepcopy(GUIDE_CACHED_MESSAGES)
    messages[0]["content"][1]["cache_control"] = marker
    with pytest.raises(RequestValidationError) as caught:
        api.create(direct_ok, model="gpt-oss-120b", messages=messages)
    assert api.requests == []
    assert caught.value.param == param


def test_cached_tokens_are_read_from_usage(api: Api) -> None:
    def cached(request: httpx.Request) -> httpx.Response:
        body = completion("Sunny.")
        body["usage"]["prompt_tokens_details"] = {"cached_tokens": 128}
        return httpx.Response(200, json=body)

    result = api.create(cached, model="gpt-oss-120b", messages=GUIDE_CACHED_MESSAGES)
    assert result.usage is not None and result.usage.cached_tokens == 128


# -- citations -----------------------------------------------------------------------------------------------------


def test_citations_are_typed_on_the_message(api: Api) -> None:
    result = api.create(on_cerebras, OPENROUTER, model="gpt-oss-120b", messages=GUIDE_WEB_QUESTION,
                        plugins=GUIDE_WEB_PLUGIN)
    annotations = result.choices[0].message.annotations
    assert annotations is not None and [a.type for a in annotations] == ["url_citation", "url_citation"]
    first = annotations[0].url_citation
    assert isinstance(first, URLCitation)
    assert (first.url, first.title, first.start_index, first.end_index) == (
        "https://example.com/quantum-2024", "Quantum computing in 2024", 10, 42)
    assert first.content == "Error-corrected logical qubits [...]"
    assert annotations[1].url_citation is not None and annotations[1].url_citation.content is None
    assert result.to_dict()["choices"][0]["message"]["annotations"] == CITATIONS


def test_streamed_citations_are_assembled_in_order(api: Api) -> None:
    events = [
        chunk({"role": "assistant", "content": "Recent "}, id=GEN_ID, provider="Cerebras"),
        chunk({"content": "work."}, id=GEN_ID, provider="Cerebras"),
        chunk({"content": "", "annotations": CITATIONS[:1]}, id=GEN_ID, provider="Cerebras"),
        chunk({"content": "", "annotations": CITATIONS[1:]}, id=GEN_ID, provider="Cerebras", finish_reason="stop"),
    ]

    def streamed(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=sse(events, done=True), headers={"content-type": "text/event-stream"})

    chunks, final = api.stream(streamed, OPENROUTER, model="gpt-oss-120b:online", messages=GUIDE_WEB_QUESTION)
    assert chunks[2].choices[0].delta.annotations[0].url_citation.url == "https://example.com/quantum-2024"
    assert final.choices[0].message.content == "Recent work."
    assert [a.to_dict() for a in final.choices[0].message.annotations or []] == CITATIONS
    assert final.generation_id == GEN_ID


_annotation = st.builds(
    lambda url, title, start, length: {
        "type": "url_citation",
        "url_citation": {"url": url, "title": title, "start_index": start, "end_index": start + length},
    },
    st.from_regex(r"https://[a-z]{1,8}\.(com|org)/[a-z0-9]{0,6}", fullmatch=True),
    st.text(max_size=12),
    st.integers(0, 500),
    st.integers(0, 80),
)


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(max_size=60),
    annotations=st.lists(_annotation, max_size=6),
    data=st.data(),
)
def test_accumulate_keeps_every_annotation_in_order_over_any_split(
    text: str, annotations: list[dict[str, Any]], data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=5)))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    events: list[dict[str, Any]] = [{"role": "assistant", "content": piece} for piece in pieces]
    # Each annotation rides on some delta, in order (OpenRouter sends them together near the end; any split holds).
    at = sorted(data.draw(st.lists(st.integers(0, len(events)), min_size=len(annotations),
                                   max_size=len(annotations))))
    events.append({})
    for position, annotation in zip(at, annotations, strict=True):
        events[position].setdefault("annotations", []).append(annotation)
    chunks = [ChatCompletionChunk.model_validate(chunk(delta, id=GEN_ID)) for delta in events]
    final = accumulate(chunks)
    message = final.choices[0].message
    assert (message.content or "") == text
    assert [a.to_dict() for a in message.annotations or []] == annotations


# -- generation id and monitoring ------------------------------------------------------------------------------------


def test_generation_id_is_the_openrouter_completion_id(api: Api) -> None:
    result = api.create(on_cerebras, OPENROUTER, model="gpt-oss-120b", messages=GUIDE_WEB_QUESTION)
    assert result.generation_id == GEN_ID


def test_a_cerebras_completion_has_no_generation_id(api: Api) -> None:
    assert api.create(direct_ok, model="gpt-oss-120b", messages=GUIDE_WEB_QUESTION).generation_id is None


KEY_DATA = {
    "label": "sk-or-v1-abc...xyz",
    "limit": 10.0,
    "limit_remaining": 7.25,
    "limit_reset": "monthly",
    "usage": 2.75,
    "usage_daily": 0.5,
    "usage_weekly": 1.5,
    "usage_monthly": 2.75,
    "is_free_tier": False,
    "include_byok_in_limit": False,
}
GENERATION_DATA = {
    "id": GEN_ID,
    "model": "openai/gpt-oss-120b",
    "provider_name": "Cerebras",
    "total_cost": 0.000123,
    "tokens_prompt": 20,
    "tokens_completion": 10,
    "native_tokens_prompt": 21,
    "native_tokens_completion": 11,
    "native_tokens_reasoning": 4,
    "native_tokens_cached": 0,
    "latency": 180,
    "generation_time": 95,
    "streamed": False,
    "cancelled": False,
    "finish_reason": "stop",
    "native_finish_reason": "stop",
    "num_search_results": 5,
    "created_at": "2026-12-01T03:00:00Z",
    "upstream_id": "chatcmpl-abc",
}


class Monitor:
    """Drives ``client.openrouter`` of the sync or the async client over a MockTransport."""

    def __init__(self, mode: str, handler: Any, **client_kwargs: Any) -> None:
        self.mode = mode
        self.requests: list[httpx.Request] = []

        def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            response: httpx.Response = handler(request)
            return response

        self.transport = httpx.MockTransport(record)
        self.client_kwargs = {"api_key": "test-key", "route": "openrouter", **client_kwargs}

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.mode == "sync":
            with CerebrasClient(http_client=httpx.Client(transport=self.transport), **self.client_kwargs) as client:
                return getattr(client.openrouter, method)(*args, **kwargs)

        async def main() -> Any:
            async with AsyncCerebrasClient(http_client=httpx.AsyncClient(transport=self.transport),
                                           **self.client_kwargs) as client:
                return await getattr(client.openrouter, method)(*args, **kwargs)

        return asyncio.run(main())


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_key_reads_the_key_record(mode: str) -> None:
    monitor = Monitor(mode, lambda r: httpx.Response(200, json={"data": KEY_DATA}))
    key = monitor.call("key")
    assert isinstance(key, OpenRouterKey)
    assert (key.limit, key.limit_remaining, key.usage_daily, key.is_free_tier) == (10.0, 7.25, 0.5, False)
    assert key.model_extra == {"include_byok_in_limit": False}
    (request,) = monitor.requests
    assert (request.method, request.url.path) == ("GET", "/api/v1/key")
    assert request.headers["authorization"] == "Bearer test-key"


def test_generation_reads_the_generation_record(mode: str) -> None:
    monitor = Monitor(mode, lambda r: httpx.Response(200, json={"data": GENERATION_DATA}))
    record = monitor.call("generation", GEN_ID)
    assert isinstance(record, OpenRouterGeneration)
    assert (record.provider_name, record.native_tokens_reasoning, record.total_cost, record.latency) == (
        "Cerebras", 4, 0.000123, 180)
    assert record.served_by_cerebras
    (request,) = monitor.requests
    assert request.url.path == "/api/v1/generation" and request.url.params["id"] == GEN_ID


def test_generation_retries_a_404_until_the_record_exists(mode: str, no_sleep: list[float]) -> None:
    answers = iter([404, 404, 200])

    def eventually(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        if status == 404:
            return httpx.Response(404, json={"error": {"message": "Generation not found", "code": 404}})
        return httpx.Response(200, json={"data": GENERATION_DATA})

    monitor = Monitor(mode, eventually)
    assert monitor.call("generation", GEN_ID).id == GEN_ID
    assert len(monitor.requests) == 3
    assert no_sleep == [0.5, 1.0]


def test_generation_raises_not_found_once_the_wait_is_used(mode: str, no_sleep: list[float]) -> None:
    monitor = Monitor(mode, lambda r: httpx.Response(404, json={"error": {"message": "Not found", "code": 404}}))
    with pytest.raises(NotFoundError) as caught:
        monitor.call("generation", "gen-unknown", wait=2.0)
    assert len(monitor.requests) == 4
    assert no_sleep == [0.5, 1.0, 0.5]
    assert "wait=" in (caught.value.fix or "")


def test_generation_with_no_wait_tries_once(mode: str, no_sleep: list[float]) -> None:
    monitor = Monitor(mode, lambda r: httpx.Response(404, json={"error": {"message": "Not found", "code": 404}}))
    with pytest.raises(NotFoundError):
        monitor.call("generation", GEN_ID, wait=0)
    assert len(monitor.requests) == 1 and no_sleep == []


def test_monitoring_uses_the_clients_retries(mode: str, no_sleep: list[float]) -> None:
    answers = iter([503, 200])

    def flaky(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        return httpx.Response(status, json={"data": KEY_DATA} if status == 200 else {"error": {"message": "busy"}})

    monitor = Monitor(mode, flaky)
    assert monitor.call("key").usage == 2.75
    assert len(monitor.requests) == 2


def test_monitoring_errors_are_the_librarys_and_never_show_the_key(mode: str) -> None:
    secret = "or-" + "x" * 12 + "-secret"

    def unauthorized(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"message": "No auth credentials found", "code": 401}})

    monitor = Monitor(mode, unauthorized, api_key=secret)
    with pytest.raises(AuthenticationError) as caught:
        monitor.call("key")
    assert secret not in str(caught.value) and secret not in repr(caught.value)


def test_confirm_cerebras_returns_the_record_when_cerebras_served_it(mode: str) -> None:
    monitor = Monitor(mode, lambda r: httpx.Response(200, json={"data": GENERATION_DATA}))
    assert monitor.call("confirm_cerebras", GEN_ID).provider_name == "Cerebras"


def test_confirm_cerebras_takes_the_completion_itself(api: Api) -> None:
    result = api.create(on_cerebras, OPENROUTER, model="gpt-oss-120b", messages=GUIDE_WEB_QUESTION)
    monitor = Monitor("sync", lambda r: httpx.Response(200, json={"data": GENERATION_DATA}))
    assert monitor.call("confirm_cerebras", result).id == GEN_ID
    assert monitor.requests[0].url.params["id"] == GEN_ID


def test_confirm_cerebras_raises_routing_error_for_another_provider(mode: str) -> None:
    elsewhere = {**GENERATION_DATA, "provider_name": "DeepInfra"}
    monitor = Monitor(mode, lambda r: httpx.Response(200, json={"data": elsewhere}))
    with pytest.raises(RoutingError) as caught:
        monitor.call("confirm_cerebras", GEN_ID)
    assert caught.value.provider == "DeepInfra"


def test_a_cerebras_completion_cannot_be_confirmed(api: Api) -> None:
    result = api.create(direct_ok, model="gpt-oss-120b", messages=GUIDE_WEB_QUESTION)
    monitor = Monitor("sync", lambda r: httpx.Response(200, json={"data": GENERATION_DATA}))
    with pytest.raises(RequestValidationError) as caught:
        monitor.call("confirm_cerebras", result)
    assert caught.value.param == "id" and monitor.requests == []


@pytest.mark.parametrize(("method", "args"), [("key", ()), ("generation", (GEN_ID,)), ("confirm_cerebras", (GEN_ID,))])
def test_monitoring_on_the_cerebras_route_names_route(mode: str, method: str, args: tuple[str, ...]) -> None:
    monitor = Monitor(mode, lambda r: httpx.Response(200, json={"data": KEY_DATA}), route="cerebras")
    with pytest.raises(RequestValidationError) as caught:
        monitor.call(method, *args)
    assert caught.value.param == "route" and "route='openrouter'" in (caught.value.fix or "")
    assert monitor.requests == []


@pytest.mark.parametrize("wait", [-1, float("nan"), "3", True])
def test_a_bad_wait_is_refused(mode: str, wait: Any) -> None:
    monitor = Monitor(mode, lambda r: httpx.Response(200, json={"data": GENERATION_DATA}))
    with pytest.raises(RequestValidationError) as caught:
        monitor.call("generation", GEN_ID, wait=wait)
    assert caught.value.param == "wait" and monitor.requests == []


def test_a_record_without_data_is_a_response_error(mode: str) -> None:
    from cerebras_adapters import APIResponseValidationError

    monitor = Monitor(mode, lambda r: httpx.Response(200, json={"id": GEN_ID}))
    with pytest.raises(APIResponseValidationError):
        monitor.call("generation", GEN_ID)


def test_annotation_types_are_exported() -> None:
    parsed = Annotation.model_validate(CITATIONS[0])
    assert parsed.url_citation is not None and parsed.url_citation.end_index == 42


# -- end to end, against the contract emulator's OpenRouter mode -------------------------------------------------------
# The guide's requests as written in it (ported to this call shape), through the real client and a real HTTP server.


@pytest.fixture
def guide_client(cerebras_emulator: Any) -> Any:
    with CerebrasClient(api_key="or-guide", route="openrouter",
                        base_url=cerebras_emulator.openrouter_base_url) as client:
        yield client


@pytest.fixture
def direct_client(cerebras_emulator: Any) -> Any:
    with CerebrasClient(api_key="csk-" + "guide", base_url=cerebras_emulator.base_url) as client:
        yield client


def test_emulator_guide_web_search_answers_with_typed_citations(guide_client: Any, cerebras_emulator: Any) -> None:
    answer = guide_client.chat.completions.create(
        model="gpt-oss-120b", messages=GUIDE_WEB_QUESTION, plugins=GUIDE_WEB_PLUGIN, max_completion_tokens=400
    )
    assert cerebras_emulator.last_request.json()["plugins"] == GUIDE_WEB_PLUGIN
    message = answer.choices[0].message
    assert message.annotations, "the web plugin's answer cites its sources"
    for annotation in message.annotations:
        cited = annotation.url_citation
        assert annotation.type == "url_citation" and cited is not None and cited.url.startswith("http")
        assert cited.start_index is not None and cited.end_index is not None
        assert cited.url in (message.content or "")[cited.start_index : cited.end_index]


def test_emulator_online_suffix_streams_citations_that_accumulate(guide_client: Any, cerebras_emulator: Any) -> None:
    stream = guide_client.chat.completions.create(
        model="gpt-oss-120b:online", messages=GUIDE_WEB_QUESTION, stream=True, max_completion_tokens=400
    )
    chunks = list(stream)
    final = stream.get_final_completion()
    assert cerebras_emulator.last_request.json()["model"] == "openai/gpt-oss-120b:online"
    streamed = [a for c in chunks for ch in c.choices for a in ch.delta.annotations or []]
    assert streamed and final.choices[0].message.annotations == streamed
    assert accumulate(chunks).model_dump() == final.model_dump()


def test_emulator_guide_prompt_caching_works_on_both_routes(
    guide_client: Any, direct_client: Any, cerebras_emulator: Any
) -> None:
    on_openrouter = guide_client.chat.completions.create(model="gpt-oss-120b", messages=GUIDE_CACHED_MESSAGES)
    assert cerebras_emulator.last_request.json()["messages"] == GUIDE_CACHED_MESSAGES
    direct = direct_client.chat.completions.create(model="gpt-oss-120b", messages=GUIDE_CACHED_MESSAGES)
    assert "cache_control" not in json.dumps(cerebras_emulator.last_request.json())
    for answer in (on_openrouter, direct):
        assert answer.choices[0].message.content and answer.usage is not None
        assert answer.usage.cached_tokens >= 0


def test_emulator_guide_monitoring_reads_key_and_generation(guide_client: Any) -> None:
    answer = guide_client.chat.completions.create(model="gpt-oss-120b", messages=GUIDE_WEB_QUESTION)
    assert answer.generation_id is not None and answer.generation_id.startswith("gen-")
    record = guide_client.openrouter.generation(answer.generation_id)
    assert record.id == answer.generation_id
    assert record.served_by_cerebras
    assert answer.usage is not None and record.tokens_completion == answer.usage.completion_tokens
    assert guide_client.openrouter.confirm_cerebras(answer).id == answer.generation_id
    key = guide_client.openrouter.key()
    assert key.usage is not None and key.usage > 0


@pytest.mark.cerebras_emulator(generation_delay_s=0.3)
def test_emulator_generation_is_retried_until_openrouter_records_it(guide_client: Any) -> None:
    answer = guide_client.chat.completions.create(model="gpt-oss-120b", messages=GUIDE_WEB_QUESTION)
    assert guide_client.openrouter.generation(answer, wait=2.0).id == answer.generation_id


def test_emulator_async_monitoring(cerebras_emulator: Any) -> None:
    async def main() -> tuple[Any, Any]:
        async with AsyncCerebrasClient(api_key="or-guide", route="openrouter",
                                       base_url=cerebras_emulator.openrouter_base_url) as client:
            answer = await client.chat.completions.create(model="gpt-oss-120b", messages=GUIDE_WEB_QUESTION)
            return await client.openrouter.confirm_cerebras(answer), await client.openrouter.key()

    record, key = asyncio.run(main())
    assert record.served_by_cerebras and key.usage is not None


def test_cache_control_on_replayed_reasoning_parts_is_removed_on_the_cerebras_route(api: Api) -> None:
    marked = {"type": "text", "text": "Earlier thoughts.", "cache_control": {"type": "ephemeral"}}
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello.", "reasoning": [marked]},
        {"role": "user", "content": [{"type": "text", "text": "Again", "cache_control": {"type": "ephemeral"}}]},
    ]
    api.create(direct_ok, model="gpt-oss-120b", messages=messages)
    sent = body_of(api.requests[0])
    assert "cache_control" not in json.dumps(sent)
    assert sent["messages"][1]["reasoning"] == [{"type": "text", "text": "Earlier thoughts."}]
    assert sent["messages"][2]["content"] == [{"type": "text", "text": "Again"}]


def test_a_plugin_field_openrouter_added_later_goes_through_with_validation_warn(api: Api) -> None:
    from cerebras_adapters import ValidationWarning

    plugin = {"id": "web", "engine": "exa", "max_total_results": 20}
    with pytest.warns(ValidationWarning, match=r"plugins\.0"):
        api.create(on_cerebras, {**OPENROUTER, "validation": "warn"}, model="gpt-oss-120b",
                   messages=GUIDE_WEB_QUESTION, plugins=[plugin])
    assert body_of(api.requests[0])["plugins"] == [plugin]


@pytest.mark.parametrize("validation", ["warn", "off"])
def test_the_cerebras_route_never_sends_plugins_whatever_the_validation_mode(api: Api, validation: str) -> None:
    with pytest.raises(UnsupportedParameterError):
        api.create(direct_ok, {"validation": validation}, model="gpt-oss-120b", messages=GUIDE_WEB_QUESTION,
                   plugins=GUIDE_WEB_PLUGIN)
    assert api.requests == []
