"""Parity of the adapters: the same request through ``ChatCerebras`` (LangChain), the LiteLLM provider and the
LlamaIndex ``Cerebras`` LLM sends the same wire body and surfaces the same fields — the message, reasoning, tool
calls, finish reason, usage and the shared output layer's extras (``cerebras_adapters._output``) — streamed and
not, and all equal what the core itself reads from that response.

How the two can be compared value for value (request ids and timings included): every call goes through a
replay proxy in front of the contract emulator. The proxy forwards each request to the emulator (so the
emulator's request log holds every wire body), and answers the first request with a given body with the
emulator's response, and every later one with the same body with those same bytes. The core, LangChain and
LiteLLM thus read one byte-identical response. Cases the emulator does not produce (``service_tier_used``, a
per-minute rate-limit header) edit that response before it is kept.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before LiteLLM is imported (no price-map fetch)

pytest.importorskip("langchain_core")
pytest.importorskip("llama_index.core")
litellm = pytest.importorskip("litellm")

from llama_index.core.llms import ChatMessage  # noqa: E402

from cerebras_adapters import CerebrasClient, accumulate  # noqa: E402
from cerebras_adapters._output import (  # noqa: E402
    EXTRA_KEYS,
    StreamTail,
    open_stream,
    response_extras,
    tool_arguments,
    tool_call_dicts,
)
from cerebras_adapters.langchain import ChatCerebras  # noqa: E402
from cerebras_adapters.litellm import register  # noqa: E402
from cerebras_adapters.llama_index import Cerebras  # noqa: E402
from cerebras_adapters.llama_index._convert import HAS_THINKING_BLOCK  # noqa: E402
from cerebras_adapters.testing import EmulatorServer  # noqa: E402

pytestmark = pytest.mark.filterwarnings(r"ignore:Items? .* `ReadOnly` qualifier:UserWarning")

KEY = "csk-test"
HELLO = [{"role": "user", "content": "hi"}]
WEATHER = [{"role": "user", "content": "What's the weather in Paris?"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]
ANSWER_SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "answer",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"value": {"type": "integer"}},
            "required": ["value"],
            "additionalProperties": False,
        },
    },
}
# Long enough to fill several of the emulator's 128-token prompt-cache blocks.
LONG_PROMPT = [{"role": "user", "content": "Summarise the following notes. " + "wafer scale engine notes " * 200}]


# -- the replay proxy ------------------------------------------------------------------------------------------

Edit = Callable[[dict[str, Any]], None]
"""Changes a response body (non-streamed) or the chunk that carries usage (streamed), in place."""

_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "content-encoding", "host"}


class Replay:
    """An ASGI app: forwards every request to ``upstream`` and answers each body with the first response to it."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.kept: dict[tuple[str, str], tuple[int, list[tuple[bytes, bytes]], bytes]] = {}
        self.edit: Edit | None = None
        self.extra_headers: list[tuple[bytes, bytes]] = []

    def reset(self) -> None:
        self.kept.clear()
        self.edit = None
        self.extra_headers = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k.decode() not in _HOP_BY_HOP]
        url = self.upstream + scope["path"] + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
        async with httpx.AsyncClient() as client:
            response = await client.request(scope["method"], url, content=body, headers=headers)
        key = (scope["path"], json.dumps(json.loads(body), sort_keys=True) if body else "")
        if key not in self.kept:
            out_headers = [(k.encode(), v.encode()) for k, v in response.headers.multi_items() if k not in _HOP_BY_HOP]
            self.kept[key] = (response.status_code, out_headers + self.extra_headers, self._edited(response))
        status, out_headers, content = self.kept[key]
        await send({"type": "http.response.start", "status": status, "headers": out_headers})
        await send({"type": "http.response.body", "body": content})

    def _edited(self, response: httpx.Response) -> bytes:
        edit = self.edit
        if edit is None or response.status_code != 200:
            return response.content
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            payload = response.json()
            edit(payload)
            return json.dumps(payload).encode()
        events = []
        for event in response.content.split(b"\n\n"):
            if event.startswith(b"data: {"):
                chunk = json.loads(event[len(b"data: ") :])
                if chunk.get("usage") is not None:
                    edit(chunk)
                event = b"data: " + json.dumps(chunk).encode()
            events.append(event)
        return b"\n\n".join(events)


@pytest.fixture(scope="module")
def replay_server(cerebras_emulator_server: EmulatorServer) -> Iterator[tuple[Replay, EmulatorServer]]:
    app = Replay(cerebras_emulator_server.url)
    with EmulatorServer(app=app) as server:
        yield app, server


@pytest.fixture
def replay(replay_server: tuple[Replay, EmulatorServer], cerebras_emulator: EmulatorServer) -> Iterator[World]:
    app, server = replay_server
    app.reset()
    yield World(app, server, cerebras_emulator)
    app.reset()


@dataclass
class World:
    app: Replay
    server: EmulatorServer
    emulator: EmulatorServer

    def base_url(self, route: str) -> str:
        return self.server.url + ("/api/v1" if route == "openrouter" else "/v1")

    def chat_bodies(self) -> list[dict[str, Any]]:
        return [r.json() for r in self.emulator.requests if r.path.endswith("/chat/completions")]


# -- cases -----------------------------------------------------------------------------------------------------


@dataclass
class Case:
    model: str
    messages: list[dict[str, Any]] = field(default_factory=lambda: HELLO)
    options: dict[str, Any] = field(default_factory=dict)
    route: str = "cerebras"
    edit: Edit | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)
    warm_up: bool = False
    """Send the prompt once straight to the emulator first, so the compared call reads cached prompt tokens."""
    expect: dict[str, Any] = field(default_factory=dict)
    """What the core's extras must say for this case to test what it is named for (key: value, or key: a check)."""
    litellm_only: dict[str, Any] = field(default_factory=dict)
    """LiteLLM's own keyword arguments (not sent on the wire)."""


def _served_flex(payload: dict[str, Any]) -> None:
    # The docs describe service_tier_used for "auto" (api-facts "Service tier in responses"); RT-02 saw neither field.
    payload["service_tier"] = "auto"
    payload["service_tier_used"] = "flex"


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and value > 0


CASES: dict[str, Case] = {
    "plain answer": Case("gemma-4-31b", expect={"time_info": lambda t: _positive(t["total_time"])}),
    "reasoning gpt-oss": Case("gpt-oss-120b", expect={"reasoning_tokens": _positive}),
    "reasoning GLM": Case("zai-glm-4.7", expect={"reasoning_tokens": _positive}),
    "tool calls incremental (gpt-oss)": Case("gpt-oss-120b", WEATHER, {"tools": TOOLS}),
    "tool calls one-piece (GLM)": Case("zai-glm-4.7", WEATHER, {"tools": TOOLS}),
    "structured output (json_schema)": Case(
        "gpt-oss-120b",
        [{"role": "user", "content": "What is 2+2? Answer in JSON."}],
        {"response_format": ANSWER_SCHEMA},
    ),
    "JSON mode (one call when streamed)": Case(
        "gpt-oss-120b", [{"role": "user", "content": "Reply in JSON"}], {"response_format": {"type": "json_object"}}
    ),
    "usage with cached and reasoning tokens": Case(
        "gpt-oss-120b", LONG_PROMPT, warm_up=True, expect={"cached_tokens": _positive, "reasoning_tokens": _positive}
    ),
    "predicted output": Case(
        "gpt-oss-120b",
        options={"prediction": {"type": "content", "content": "Hello! How can I help you today? Have a nice day."}},
        expect={"accepted_prediction_tokens": _positive, "rejected_prediction_tokens": _positive},
    ),
    "rate limits with a per-minute request limit": Case(
        "gpt-oss-120b",
        extra_headers={"x-ratelimit-limit-requests-minute": "30", "x-ratelimit-remaining-requests-minute": "29"},
        expect={"rate_limits": lambda r: r["limit_requests_minute"] == "30" and _positive(r["limit_tokens_minute"])},
    ),
    "service tier flex": Case("gpt-oss-120b", options={"service_tier": "flex", "queue_threshold": 500}),
    "service tier auto, served flex": Case(
        "gpt-oss-120b", options={"service_tier": "auto"}, edit=_served_flex, expect={"service_tier": "flex"}
    ),
    "OpenRouter route with provider and cost": Case(
        "gpt-oss-120b",
        route="openrouter",
        expect={"provider": "Cerebras", "cost": _positive, "generation_id": lambda g: g.startswith("gen-")},
    ),
    "OpenRouter web search citations": Case(
        "gpt-oss-120b",
        [{"role": "user", "content": "Latest quantum computing news?"}],
        {"plugins": [{"id": "web", "max_results": 2}]},
        route="openrouter",
        expect={"annotations": lambda a: [n["type"] for n in a] == ["url_citation", "url_citation"]},
    ),
    "logprobs": Case(
        "gpt-oss-120b",
        options={"logprobs": True, "top_logprobs": 2},
        expect={"logprobs": lambda lp: len(lp["content"]) > 0 and len(lp["content"][0]["top_logprobs"]) == 2},
    ),
}


# -- one call through each side, seen the same way -------------------------------------------------------------


@dataclass
class Seen:
    """What a caller sees, in one shape for every side."""

    content: str
    reasoning: str | None
    tool_calls: list[tuple[str | None, str | None, dict[str, Any]]]
    finish_reason: str | None
    usage: tuple[int, int, int]
    extras: dict[str, Any]


def _extras_in(place: dict[str, Any] | None) -> dict[str, Any]:
    return {key: place[key] for key in EXTRA_KEYS if place and key in place}


def through_core(world: World, case: Case, stream: bool) -> Seen:
    with CerebrasClient(api_key=KEY, base_url=world.base_url(case.route), route=case.route) as client:
        if stream:
            tail = StreamTail()
            chunks = []
            for chunk in open_stream(client, model=case.model, messages=case.messages, options=case.options):
                tail.observe(chunk)
                chunks.append(chunk)
            completion = accumulate(chunks)
            extras = dict(tail.extras())
            assert extras == response_extras(completion), "a stream's extras differ from its assembled completion's"
        else:
            completion = client.chat.completions.create(model=case.model, messages=case.messages, **case.options)
            extras = dict(response_extras(completion))
    choice = completion.choices[0]
    usage = completion.usage
    assert usage is not None
    return Seen(
        content=choice.message.content or "",
        reasoning=choice.message.reasoning,
        tool_calls=[
            (c["id"], c["function"]["name"], tool_arguments(c["function"]["arguments"]))
            for c in tool_call_dicts(choice.message.tool_calls)
        ],
        finish_reason=choice.finish_reason,
        usage=(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens),
        extras=extras,
    )


def through_langchain(world: World, case: Case, stream: bool) -> Seen:
    llm = ChatCerebras(model=case.model, api_key=KEY, base_url=world.base_url(case.route), route=case.route)
    if stream:
        chunks = list(llm.stream(case.messages, **case.options))
        assert chunks[-1].chunk_position == "last"
        message: Any = sum(chunks[1:], chunks[0])
    else:
        message = llm.invoke(case.messages, **case.options)
    meta = message.response_metadata
    usage = message.usage_metadata
    return Seen(
        content=message.content,
        reasoning=message.additional_kwargs.get("reasoning_content"),
        tool_calls=[(c["id"], c["name"], c["args"]) for c in message.tool_calls],
        finish_reason=meta.get("finish_reason"),
        usage=(usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]),
        extras=_extras_in(meta),
    )


def through_litellm(world: World, case: Case, stream: bool) -> Seen:
    kwargs: dict[str, Any] = {
        "model": f"cerebras-adapters/{case.model}",
        "messages": case.messages,
        "api_base": world.base_url(case.route),
        "api_key": KEY,
        **case.options,
        **case.litellm_only,
    }
    if case.route != "cerebras":
        kwargs["route"] = case.route
    if stream:
        chunks = list(litellm.completion(stream=True, **kwargs))
        response = litellm.stream_chunk_builder(chunks, messages=case.messages)
        extras = _extras_in(response.choices[0].message.provider_specific_fields)
    else:
        response = litellm.completion(**kwargs)
        extras = _extras_in(response._hidden_params)
    message = response.choices[0].message
    if getattr(message, "annotations", None):
        extras["annotations"] = message.annotations  # where LiteLLM carries citations, as for OpenAI's web search
    usage = response.usage
    return Seen(
        content=message.content or "",
        reasoning=getattr(message, "reasoning_content", None),
        tool_calls=[(c.id, c.function.name, tool_arguments(c.function.arguments)) for c in message.tool_calls or []],
        finish_reason=response.choices[0].finish_reason,
        usage=(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens),
        extras=extras,
    )


def through_llama_index(world: World, case: Case, stream: bool) -> Seen:
    llm = Cerebras(model=case.model, api_key=KEY, api_base=world.base_url(case.route), route=case.route)
    messages = [ChatMessage(role=m["role"], content=m["content"]) for m in case.messages]
    if stream:
        items = list(llm.stream_chat(messages, **case.options))
        assert "".join(item.delta or "" for item in items) == items[-1].message.content
        response = items[-1]
    else:
        response = llm.chat(messages, **case.options)
    message = response.message
    meta = response.additional_kwargs
    reasoning = message.additional_kwargs.get("reasoning_content")
    if HAS_THINKING_BLOCK:  # llama-index-core 0.14.0 had no ThinkingBlock
        thinking = [b.content for b in message.blocks if b.block_type == "thinking"]
        assert thinking == ([reasoning] if reasoning else []), "the ThinkingBlock and additional_kwargs differ"
    return Seen(
        content=message.content or "",
        reasoning=reasoning,
        tool_calls=[
            (c.tool_id, c.tool_name, c.tool_kwargs)
            for c in llm.get_tool_calls_from_response(response, error_on_no_tool_call=False)
        ],
        finish_reason=meta.get("finish_reason"),
        usage=(meta["prompt_tokens"], meta["completion_tokens"], meta["total_tokens"]),
        extras=_extras_in(meta),
    )


SIDES = {"langchain": through_langchain, "litellm": through_litellm, "llama_index": through_llama_index}


@pytest.fixture(scope="module", autouse=True)
def _provider() -> None:
    register()


@pytest.fixture(autouse=True)
def _litellm_globals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(litellm, "drop_params", False)
    monkeypatch.setattr(litellm, "callbacks", list(litellm.callbacks))


def _prepare(world: World, case: Case) -> None:
    world.app.reset()
    world.app.edit = case.edit
    world.app.extra_headers = [(k.encode(), v.encode()) for k, v in case.extra_headers.items()]
    if case.warm_up:
        with CerebrasClient(api_key=KEY, base_url=world.emulator.base_url) as client:
            client.chat.completions.create(model=case.model, messages=case.messages, **case.options)


def _check_expectations(case: Case, extras: dict[str, Any]) -> None:
    for key, want in case.expect.items():
        assert key in extras, f"the case does not exercise {key}: {sorted(extras)}"
        assert want(extras[key]) if callable(want) else extras[key] == want, (key, extras[key])


# -- the suite -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])
@pytest.mark.parametrize("case_name", list(CASES))
def test_both_adapters_send_the_same_body_and_surface_what_the_core_reads(
    replay: World, case_name: str, stream: bool
) -> None:
    case = CASES[case_name]
    _prepare(replay, case)
    before = len(replay.chat_bodies())

    core = through_core(replay, case, stream)
    seen = {side: run(replay, case, stream) for side, run in SIDES.items()}

    core_body, *adapter_bodies = replay.chat_bodies()[before:]
    assert adapter_bodies == [core_body] * len(SIDES), "the adapters sent a different body than the core"
    _check_expectations(case, core.extras)
    for side, view in seen.items():
        assert view == core, f"{side} surfaces the response differently from the core"


@pytest.mark.parametrize("side", list(SIDES))
def test_json_mode_streams_as_one_non_streamed_call_in_every_adapter(replay: World, side: str) -> None:
    case = CASES["JSON mode (one call when streamed)"]
    before = len(replay.chat_bodies())

    view = SIDES[side](replay, case, True)

    (body,) = replay.chat_bodies()[before:]
    assert "stream" not in body
    assert json.loads(view.content) is not None and view.finish_reason == "stop"


def test_the_parity_cases_cover_every_surfaced_key(replay: World) -> None:
    # Every key of the layer's extras is shown by at least one case (image_tokens and reasoning_logprobs are
    # not produced by the emulator; they are read like the others).
    covered: set[str] = set()
    for case in CASES.values():
        _prepare(replay, case)
        covered |= set(through_core(replay, case, False).extras)
    assert covered >= set(EXTRA_KEYS) - {"image_tokens", "reasoning_logprobs"}


@pytest.mark.parametrize("case_name", ["OpenRouter route with provider and cost", "JSON mode (one call when streamed)"])
async def test_async_streams_surface_what_sync_streams_do(replay: World, case_name: str) -> None:
    case = CASES[case_name]
    _prepare(replay, case)
    sync = through_core(replay, case, True)
    base = replay.base_url(case.route)
    llm = ChatCerebras(model=case.model, api_key=KEY, base_url=base, route=case.route)
    chunks = [c async for c in llm.astream(case.messages, **case.options)]
    total: Any = sum(chunks[1:], chunks[0])
    assert _extras_in(total.response_metadata) == sync.extras
    stream = await litellm.acompletion(
        model=f"cerebras-adapters/{case.model}",
        messages=case.messages,
        api_base=base,
        api_key=KEY,
        stream=True,
        **({"route": case.route} if case.route != "cerebras" else {}),
        **case.options,
    )
    items = [item async for item in stream]
    built = litellm.stream_chunk_builder(items, messages=case.messages)
    assert _extras_in(built.choices[0].message.provider_specific_fields) == sync.extras
    index_llm = Cerebras(model=case.model, api_key=KEY, api_base=base, route=case.route)
    messages = [ChatMessage(role=m["role"], content=m["content"]) for m in case.messages]
    responses = [r async for r in await index_llm.astream_chat(messages, **case.options)]
    assert _extras_in(responses[-1].additional_kwargs) == sync.extras
