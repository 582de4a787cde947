"""ChatCerebras behaviours, against a stand-in server (httpx.MockTransport) speaking the Cerebras wire."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel

from cerebras_adapters import RateLimitError, RequestValidationError
from cerebras_adapters.langchain import ChatCerebras
from tests.wire import RATE_HEADERS, completion, sse, stream_chunks, tool_call, usage


class Server:
    """Answers every request with the next canned reply (JSON or SSE) and records what was sent."""

    def __init__(self, reply: Any = None, stream: list[dict[str, Any]] | None = None, status: int = 200):
        self.reply = reply if reply is not None else completion("4", reasoning="two and two")
        self.stream = stream
        self.status = status
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        self.headers.append(request.headers)
        if self.status != 200:
            return httpx.Response(self.status, json=self.reply)
        if body.get("stream"):
            events = self.stream or stream_chunks(reasoning=["two ", "and two"], content=["4"])
            return httpx.Response(200, headers={"content-type": "text/event-stream", **RATE_HEADERS},
                                  content=sse(events))
        return httpx.Response(200, json=self.reply, headers=RATE_HEADERS)


def model(server: Server, **kwargs: Any) -> ChatCerebras:
    kwargs.setdefault("api_key", "test-key")
    kwargs.setdefault("max_retries", 0)
    transport = httpx.MockTransport(server)
    return ChatCerebras(http_client=httpx.Client(transport=transport),
                        http_async_client=httpx.AsyncClient(transport=transport), **kwargs)


async def all_four(llm: ChatCerebras, messages: Any) -> dict[str, AIMessage]:
    out: dict[str, Any] = {"invoke": llm.invoke(messages), "ainvoke": await llm.ainvoke(messages)}
    chunks = list(llm.stream(messages))
    total = chunks[0]
    for c in chunks[1:]:
        total += c
    out["stream"] = total
    achunks = [c async for c in llm.astream(messages)]
    atotal = achunks[0]
    for c in achunks[1:]:
        atotal += c
    out["astream"] = atotal
    return out


async def test_reasoning_is_in_the_same_place_on_all_four_paths():
    results = await all_four(model(Server()), "What is 2+2?")
    for path, message in results.items():
        assert message.additional_kwargs["reasoning_content"] == "two and two", path
        assert message.content == "4", path
        blocks = message.content_blocks
        assert (blocks[0]["type"], blocks[0]["reasoning"]) == ("reasoning", "two and two"), path
        assert blocks[1]["type"] == "text" and blocks[1]["text"] == "4", path


async def test_output_version_v1_puts_reasoning_blocks_in_content():
    results = await all_four(model(Server(), output_version="v1"), "What is 2+2?")
    for path, message in results.items():
        assert isinstance(message.content, list), path
        assert message.content[0]["type"] == "reasoning", path


def test_streamed_reasoning_arrives_as_it_is_generated():
    # One chunk per event (coalesce=False): this server writes the whole stream at once, which coalescing merges.
    chunks = list(model(Server()).stream("What is 2+2?", coalesce=False))
    reasoning = [c.additional_kwargs.get("reasoning_content") for c in chunks]
    assert reasoning[1:3] == ["two ", "and two"]


def test_usage_and_response_metadata_on_invoke():
    message = model(Server()).invoke("hi")
    assert message.usage_metadata["input_tokens"] == 20
    assert message.usage_metadata["input_token_details"] == {"cache_read": 0}
    assert message.usage_metadata["output_token_details"]["reasoning"] == 3
    meta = message.response_metadata
    assert meta["model_name"] == "gpt-oss-120b"
    assert meta["finish_reason"] == "stop"
    assert meta["time_info"]["total_time"] > 0
    assert meta["rate_limits"]["remaining_tokens_minute"] == 63900
    assert meta["request_id"] == "9a0b1c2d3e4f5061-SJC"
    assert meta["accepted_prediction_tokens"] == 0
    assert meta["system_fingerprint"].startswith("fp_")


def test_usage_arrives_on_streams_by_default():
    final_usage = usage(prompt=50, completion=12, reasoning=5, cached=32)
    server = Server(stream=stream_chunks(content=["ok"], final_usage=final_usage))
    chunks = list(model(server).stream("hi"))
    total = sum(chunks[1:], chunks[0])
    assert total.usage_metadata["input_tokens"] == 50
    assert total.usage_metadata["input_token_details"]["cache_read"] == 32
    assert total.usage_metadata["output_token_details"]["reasoning"] == 5
    assert total.response_metadata["time_info"]["queue_time"] > 0
    assert "stream_options" not in server.bodies[0]


@pytest.mark.parametrize(
    ("where", "name", "value", "wire_name"),
    [
        ("init", "reasoning_effort", "high", "reasoning_effort"),
        ("call", "reasoning_effort", "high", "reasoning_effort"),
        ("bind", "reasoning_effort", "high", "reasoning_effort"),
        ("init", "reasoning_format", "parsed", "reasoning_format"),
        ("call", "reasoning_format", "hidden", "reasoning_format"),
        ("bind", "service_tier", "flex", "service_tier"),
        ("init", "max_tokens", 64, "max_completion_tokens"),
        ("call", "max_tokens", 64, "max_completion_tokens"),
        ("init", "max_completion_tokens", 64, "max_completion_tokens"),
        ("call", "prediction", {"type": "content", "content": "4"}, "prediction"),
        ("bind", "prompt_cache_key", "session-1", "prompt_cache_key"),
        ("init", "seed", 7, "seed"),
        ("call", "parallel_tool_calls", False, "parallel_tool_calls"),
        ("init", "logprobs", True, "logprobs"),
    ],
)
def test_every_option_reaches_the_wire_through_init_call_and_bind(where, name, value, wire_name):
    server = Server()
    if where == "init":
        model(server, **{name: value}).invoke("hi")
    elif where == "call":
        model(server).invoke("hi", **{name: value})
    else:
        model(server).bind(**{name: value}).invoke("hi")
    assert server.bodies[0][wire_name] == value


def test_queue_threshold_and_api_version_are_sent_as_headers():
    server = Server()
    model(server, service_tier="flex", queue_threshold=500, api_version=2).invoke("hi")
    assert server.headers[0]["queue_threshold"] == "500"
    assert server.headers[0]["x-cerebras-version-patch"] == "2"


def test_bad_option_raises_before_sending_naming_the_parameter():
    server = Server()
    with pytest.raises(RequestValidationError) as info:
        model(server).invoke("hi", reasoning_effort="none")  # gpt-oss always reasons
    assert info.value.param == "reasoning_effort"
    assert server.bodies == []


def test_gpt_oss_reasoning_goes_back_in_the_reasoning_field():
    server = Server()
    first = model(server).invoke("What is 2+2?")
    model(server).invoke([HumanMessage("What is 2+2?"), first, HumanMessage("Times three?")])
    assistant = server.bodies[1]["messages"][1]
    assert assistant == {"role": "assistant", "content": "4", "reasoning": "two and two"}


def test_glm_reasoning_goes_back_as_think_tags_with_clear_thinking_kept():
    server = Server(reply=completion("4", reasoning="two and two", model="zai-glm-4.7"))
    llm = model(server, model="zai-glm-4.7", clear_thinking=False)
    first = llm.invoke("What is 2+2?")
    llm.invoke([HumanMessage("What is 2+2?"), first, HumanMessage("Times three?")])
    sent = server.bodies[1]
    assert sent["messages"][1] == {"role": "assistant", "content": "<think>two and two</think>4"}
    assert sent["clear_thinking"] is False
    assert all("reasoning_content" not in m for m in sent["messages"])


def test_v1_reasoning_blocks_are_replayed_too():
    server = Server()
    first = model(server, output_version="v1").invoke("What is 2+2?")
    model(server).invoke([HumanMessage("What is 2+2?"), first, HumanMessage("Times three?")])
    assert server.bodies[1]["messages"][1] == {"role": "assistant", "content": "4", "reasoning": "two and two"}


def test_tool_calls_are_parsed_and_no_argument_quirk_normalised():
    reply = completion(None, tool_calls=[tool_call("3fa9c0b12", "get_weather", '{"city": "Paris"}'),
                                         tool_call("3fa9c0b13", "now", '{"": {}}')], finish_reason="tool_calls")
    message = model(Server(reply=reply)).invoke("weather?")
    assert message.tool_calls[0]["args"] == {"city": "Paris"}
    assert message.tool_calls[0]["id"] == "3fa9c0b12"
    assert message.tool_calls[1]["args"] == {}


INCREMENTAL = [
    {"function": {"name": "get_weather", "arguments": ""}, "type": "function", "id": "3fa9c0b12", "index": 0},
    {"function": {"arguments": '{"city": '}, "type": "function", "index": 0},
    {"function": {"arguments": '"Paris"}'}, "type": "function", "index": 0},
]


@pytest.mark.parametrize("deltas", [INCREMENTAL, [tool_call("3fa9c0b12", "get_weather", '{"city": "Paris"}', 0)]],
                         ids=["incremental", "one-piece"])
def test_streamed_tool_call_chunks_assemble(deltas):
    server = Server(stream=stream_chunks(content=[], tool_calls=deltas, finish_reason="tool_calls"))
    chunks = list(model(server).stream("weather?"))
    total = sum(chunks[1:], chunks[0])
    assert total.tool_calls == [{"name": "get_weather", "args": {"city": "Paris"}, "id": "3fa9c0b12",
                                 "type": "tool_call"}]
    assert any(c.tool_call_chunks for c in chunks)


def get_weather(city: str) -> str:
    """Get the weather for a city."""
    return f"Sunny in {city}"


def test_bind_tools_with_tool_choice_and_strict():
    server = Server(reply=completion("ok", model="gemma-4-31b"))
    model(server, model="gemma-4-31b").bind_tools([get_weather], tool_choice="get_weather", strict=True).invoke("x")
    body = server.bodies[0]
    fn = body["tools"][0]["function"]
    assert fn["name"] == "get_weather" and fn["strict"] is True
    assert fn["parameters"]["additionalProperties"] is False
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


@pytest.mark.parametrize(("given", "sent"), [("any", "required"), (True, "required"), ("auto", "auto"),
                                             ("none", "none"), ("required", "required")])
def test_tool_choice_values(given, sent):
    server = Server(reply=completion("ok", model="gemma-4-31b"))
    model(server, model="gemma-4-31b").bind_tools([get_weather], tool_choice=given).invoke("weather?")
    assert server.bodies[0]["tool_choice"] == sent


def test_forcing_a_tool_on_gpt_oss_is_a_clear_error_before_sending():
    server = Server()
    with pytest.raises(RequestValidationError) as info:
        model(server).bind_tools([get_weather], tool_choice="any").invoke("weather?")
    assert info.value.param == "tool_choice" and "auto" in info.value.fix
    assert server.bodies == []


def test_tool_message_history_with_list_content_is_sent_as_text():
    server = Server()
    history = [
        HumanMessage("weather in Paris?"),
        AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "3fa9c0b12"}]),
        ToolMessage([{"type": "text", "text": "Sunny"}], tool_call_id="3fa9c0b12"),
    ]
    model(server).invoke(history)
    sent = server.bodies[0]["messages"]
    assert sent[1]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert sent[2] == {"role": "tool", "tool_call_id": "3fa9c0b12", "content": "Sunny"}


class Answer(BaseModel):
    value: int
    unit: str | None = None


def test_structured_output_defaults_to_strict_json_schema():
    server = Server(reply=completion('{"value": 4, "unit": null}'))
    result = model(server).with_structured_output(Answer).invoke("2+2?")
    assert result == Answer(value=4)
    fmt = server.bodies[0]["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "Answer"
    assert fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False and set(schema["required"]) == {"value", "unit"}


@pytest.mark.parametrize(("model_id", "choice"), [("gemma-4-31b", "required"), ("gpt-oss-120b", "auto")])
def test_structured_output_include_raw_and_function_calling(model_id, choice):
    # gpt-oss rejects a forced tool_choice, so there the tool is offered with "auto" (catalog: tool_choice_modes).
    reply = completion(None, tool_calls=[tool_call("3fa9c0b12", "Answer", '{"value": 4, "unit": "apples"}')],
                       finish_reason="tool_calls", model=model_id)
    server = Server(reply=reply)
    llm = model(server, model=model_id)
    out = llm.with_structured_output(Answer, method="function_calling", include_raw=True).invoke("2+2?")
    assert out["parsed"] == Answer(value=4, unit="apples")
    assert out["parsing_error"] is None
    assert isinstance(out["raw"], AIMessage)
    assert server.bodies[0]["tool_choice"] == choice


def test_json_mode_streams_as_one_chunk_because_cerebras_cannot_stream_it():
    server = Server(reply=completion('{"a": 1}'))
    chunks = list(model(server).with_structured_output(None, method="json_mode").stream("json please"))
    assert chunks[-1] == {"a": 1}
    assert "stream" not in server.bodies[0]


def test_core_errors_surface_unchanged_so_fallbacks_work():
    failing = model(Server(status=429, reply={"message": "Requests per minute limit exceeded",
                                               "code": "request_quota_exceeded"}))
    with pytest.raises(RateLimitError):
        failing.invoke("hi")
    backup = model(Server(reply=completion("from backup")))
    assert failing.with_fallbacks([backup]).invoke("hi").content == "from backup"


def test_openrouter_route_gives_the_same_message():
    reply = completion("4", reasoning="two and two", model="openai/gpt-oss-120b", provider="Cerebras")
    reply["usage"]["cost"] = 0.0001
    server = Server(reply=reply)
    message = model(server, route="openrouter", reasoning_effort="low").invoke("2+2?")
    assert message.additional_kwargs["reasoning_content"] == "two and two"
    assert message.response_metadata["provider"] == "Cerebras"
    assert message.response_metadata["cost"] == 0.0001
    body = server.bodies[0]
    assert body["model"] == "openai/gpt-oss-120b"
    assert body["reasoning"] == {"effort": "low"}
    assert body["provider"]["only"] == ["cerebras"]


def test_system_developer_and_names():
    server = Server()
    model(server).invoke([SystemMessage("be brief"), HumanMessage("hi", name="ana")])
    assert server.bodies[0]["messages"] == [{"role": "system", "content": "be brief"},
                                            {"role": "user", "content": "hi", "name": "ana"}]


def test_model_override_per_call():
    server = Server(reply=completion("ok", model="zai-glm-4.7"))
    model(server).invoke("hi", model="zai-glm-4.7")
    assert server.bodies[0]["model"] == "zai-glm-4.7"


def test_ls_params_and_serialisation_keep_the_key_secret():
    from langchain_core.load import dumpd

    llm = ChatCerebras(model="gpt-oss-120b", api_key="secret-value", temperature=0.5, max_tokens=10)
    params = llm._get_ls_params()
    assert params["ls_provider"] == "cerebras" and params["ls_max_tokens"] == 10
    assert "secret-value" not in json.dumps(dumpd(llm))


def test_serialisation_round_trip_with_an_explicit_allowlist(monkeypatch):
    from langchain_core.load import dumpd, load

    monkeypatch.setenv("CEREBRAS_API_KEY", "secret-value")
    llm = ChatCerebras(model="zai-glm-4.7", reasoning_effort="none", clear_thinking=False, max_tokens=64)
    revived = load(dumpd(llm), valid_namespaces=["cerebras_adapters"], allowed_objects=[ChatCerebras],
                   secrets_from_env=True)
    assert isinstance(revived, ChatCerebras)
    assert revived.model_dump() == llm.model_dump()
    assert revived.api_key.get_secret_value() == "secret-value"


# Every core option: a valid value, the model it is valid on, and where it lands (body key or header name).
WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
EVERY_OPTION = {
    "max_completion_tokens": (256, "gpt-oss-120b", ("body", "max_completion_tokens")),
    "max_tokens": (256, "gpt-oss-120b", ("body", "max_completion_tokens")),
    "min_completion_tokens": (8, "gpt-oss-120b", ("body", "min_completion_tokens")),
    "temperature": (0.3, "gpt-oss-120b", ("body", "temperature")),
    "top_p": (0.9, "gpt-oss-120b", ("body", "top_p")),
    "seed": (42, "gpt-oss-120b", ("body", "seed")),
    "stop": (["END"], "gpt-oss-120b", ("body", "stop")),
    "n": (1, "gpt-oss-120b", ("body", "n")),
    "frequency_penalty": (0.5, "gemma-4-31b", ("body", "frequency_penalty")),
    "presence_penalty": (0.25, "gemma-4-31b", ("body", "presence_penalty")),
    "logit_bias": ({"50256": -100}, "gpt-oss-120b", ("body", "logit_bias")),
    "logprobs": (True, "gpt-oss-120b", ("body", "logprobs")),
    "reasoning_effort": ("high", "gpt-oss-120b", ("body", "reasoning_effort")),
    "reasoning_format": ("parsed", "gpt-oss-120b", ("body", "reasoning_format")),
    "clear_thinking": (False, "zai-glm-4.7", ("body", "clear_thinking")),
    "parallel_tool_calls": (False, "gemma-4-31b", ("body", "parallel_tool_calls")),
    "prediction": ({"type": "content", "content": "4"}, "gpt-oss-120b", ("body", "prediction")),
    "service_tier": ("flex", "gpt-oss-120b", ("body", "service_tier")),
    "prompt_cache_key": ("session-1", "gpt-oss-120b", ("body", "prompt_cache_key")),
    "user": ("user-7", "gpt-oss-120b", ("body", "user")),
    "model_parameters": ({"top_k": 40}, "gpt-oss-120b", ("body", "model_parameters")),
    "stream_options": ({"include_usage": True}, "gpt-oss-120b", ("body", "stream_options")),
    "response_format": ({"type": "json_object"}, "gpt-oss-120b", ("body", "response_format")),
    "tools": ([WEATHER_TOOL], "gpt-oss-120b", ("body", "tools")),
    "api_version": (2, "gpt-oss-120b", ("header", "x-cerebras-version-patch")),
    "extra_headers": ({"x-team": "search"}, "gpt-oss-120b", ("header", "x-team")),
    "extra_body": ({"brand_new_field": 1}, "gpt-oss-120b", ("body", "brand_new_field")),
}
# Options that need a partner to be valid, and how they land.
EVERY_OPTION_WITH_PARTNER = {
    "top_logprobs": (3, {"logprobs": True}, ("body", "top_logprobs")),
    "tool_choice": ("none", {"tools": [WEATHER_TOOL]}, ("body", "tool_choice")),
    "queue_threshold": (500, {"service_tier": "flex"}, ("header", "queue_threshold")),
}


def test_the_option_table_covers_every_core_option():
    from cerebras_adapters.options import OPTION_NAMES

    local = {"disable_reasoning", "timeout", "attempt_timeout", "deadline"}
    local |= {"plugins", "cache_control"}  # OpenRouter-route options: tests/test_openrouter_adapters.py
    covered = set(EVERY_OPTION) | set(EVERY_OPTION_WITH_PARTNER) | local
    assert covered == set(OPTION_NAMES)


def landed(server: Server, where: tuple[str, str]) -> Any:
    kind, name = where
    return server.bodies[0].get(name) if kind == "body" else server.headers[0].get(name)


def expected(value: Any, where: tuple[str, str]) -> Any:
    if where[1] == "brand_new_field":
        return 1
    if where[0] == "header":
        return value.get("x-team") if isinstance(value, dict) else str(value)
    return value


# tools, tool_choice and response_format are bound per runnable in LangChain (bind_tools, with_structured_output),
# not constructor fields; every other option is all three.
BOUND_ONLY = {"tools", "tool_choice", "response_format"}
CASES = [(name, way) for name in sorted(EVERY_OPTION) + sorted(EVERY_OPTION_WITH_PARTNER)
         for way in ("init", "call", "bind") if not (way == "init" and name in BOUND_ONLY)]


@pytest.mark.parametrize(("name", "way"), CASES)
def test_every_core_option_reaches_the_wire_through_init_call_and_bind(name, way):
    if name in EVERY_OPTION:
        value, model_id, where = EVERY_OPTION[name]
        partner: dict[str, Any] = {}
    else:
        value, partner, where = EVERY_OPTION_WITH_PARTNER[name]
        model_id = "gpt-oss-120b"
    server = Server(reply=completion("{}", model=model_id))
    options = {name: value, **partner}
    if way == "init":
        model(server, model=model_id, **options).invoke("hi")
    elif way == "call":
        model(server, model=model_id).invoke("hi", **options)
    else:
        model(server, model=model_id).bind(**options).invoke("hi")
    assert landed(server, where) == expected(value, where)


def test_disable_reasoning_is_sent_as_reasoning_effort_none_with_a_warning():
    server = Server(reply=completion("4", model="zai-glm-4.7"))
    with pytest.warns(DeprecationWarning, match="reasoning_effort='none'"):
        model(server, model="zai-glm-4.7", disable_reasoning=True).invoke("hi")
    assert server.bodies[0]["reasoning_effort"] == "none"
    assert "disable_reasoning" not in server.bodies[0]


def test_timeout_reaches_the_request_not_the_body():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=completion("ok"))

    llm = ChatCerebras(api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(handler)), timeout=12.5)
    llm.invoke("hi")
    assert seen[0].extensions["timeout"]["read"] == 12.5
    assert "timeout" not in json.loads(seen[0].content)


@pytest.mark.parametrize("additional", [{}, {"reasoning_content": "thinking"}])
def test_the_per_token_fast_path_builds_exactly_what_validation_builds(additional):
    from langchain_core.messages import AIMessageChunk
    from langchain_core.outputs import ChatGenerationChunk

    from cerebras_adapters.langchain._convert import _delta_chunk, generation_chunk

    fast = generation_chunk(_delta_chunk("tok", dict(additional), "chatcmpl-1"))
    slow = ChatGenerationChunk(message=AIMessageChunk(content="tok", additional_kwargs=dict(additional),
                                                      response_metadata={"model_provider": "cerebras"},
                                                      id="chatcmpl-1"))
    assert fast.model_dump() == slow.model_dump()
    assert fast.message.model_fields_set == slow.message.model_fields_set
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.message.__pydantic_extra__ == slow.message.__pydantic_extra__
    assert (fast + slow).message.content == "toktok"
    assert (fast.message + slow.message).additional_kwargs == (slow.message + slow.message).additional_kwargs
    assert fast.text == slow.text and fast.message.content_blocks == slow.message.content_blocks


def test_the_non_streamed_fast_path_builds_exactly_what_validation_builds():
    from langchain_core.outputs import ChatGeneration

    from cerebras_adapters.langchain._convert import chat_generation, completion_to_message
    from cerebras_adapters.types import ChatCompletion

    reply = completion("4", reasoning="two and two",
                       tool_calls=[tool_call("3fa9c0b12", "get_weather", '{"city": "Paris"}'),
                                   tool_call("3fa9c0b13", "broken", '{not json')])
    fast = completion_to_message(ChatCompletion.model_validate(reply))
    slow = AIMessage(content=fast.content, additional_kwargs=dict(fast.additional_kwargs),
                     tool_calls=list(fast.tool_calls), invalid_tool_calls=list(fast.invalid_tool_calls),
                     usage_metadata=fast.usage_metadata, response_metadata=dict(fast.response_metadata), id=fast.id)
    assert fast.model_dump() == slow.model_dump()
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.__pydantic_extra__ == slow.__pydantic_extra__
    assert fast.content_blocks == slow.content_blocks
    assert [c["name"] for c in fast.invalid_tool_calls] == ["broken"]
    gen_fast = chat_generation(fast, "stop")
    gen_slow = ChatGeneration(message=slow, generation_info={"finish_reason": "stop"})
    assert gen_fast.model_dump() == gen_slow.model_dump()
    assert gen_fast.model_fields_set == gen_slow.model_fields_set


async def test_openrouter_route_puts_reasoning_and_usage_in_the_same_places_on_every_path():
    events = [
        chunk_event({"role": "assistant"}), chunk_event({"reasoning": "two and two"}), chunk_event({"content": "4"}),
        chunk_event({}, finish_reason="stop"),
        {**chunk_event({}), "choices": [], "usage": {**usage(), "cost": 0.0001}},
    ]
    reply = completion("4", reasoning="two and two", model="openai/gpt-oss-120b", provider="Cerebras")
    reply["usage"]["cost"] = 0.0001
    server = Server(reply=reply, stream=events)
    results = await all_four(model(server, route="openrouter"), "What is 2+2?")
    for path, message in results.items():
        assert message.additional_kwargs["reasoning_content"] == "two and two", path
        assert message.content == "4", path
        assert message.usage_metadata["total_tokens"] == 30, path
        assert message.response_metadata["provider"] == "Cerebras", path
        assert message.response_metadata["cost"] == 0.0001, path
    assert all(body["model"] == "openai/gpt-oss-120b" for body in server.bodies)
    assert all(body["provider"]["allow_fallbacks"] is False for body in server.bodies)


def chunk_event(delta: dict[str, Any], **kw: Any) -> dict[str, Any]:
    from tests.wire import chunk

    return chunk(delta, model="openai/gpt-oss-120b", provider="Cerebras", **kw)


def _loaded_by_import_then(modules: tuple[str, ...], then: str) -> tuple[str, str]:
    """In a fresh interpreter: which of ``modules`` the ChatCerebras import loaded, and which (sorted) were loaded
    once ``then`` ran on ``llm = ChatCerebras(...)``, both as printed lists."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from cerebras_adapters.langchain import ChatCerebras\n"
        f"print([m for m in {modules!r} if m in sys.modules])\n"
        "llm = ChatCerebras(model='gpt-oss-120b', api_key='k')\n"
        f"{then}"
        f"print(sorted(m for m in {modules!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = out.stdout.strip().splitlines()
    return before, after


def test_importing_chat_cerebras_leaves_tool_and_parser_modules_until_they_are_used():
    """``langchain_core.tools`` and the output parsers are what bind_tools / with_structured_output need; a chain
    that only invokes the model must not pay their import (docs/benchmarks.md, LangChain import row)."""
    heavy = ("langchain_core.tools.base", "langchain_core.output_parsers.pydantic")
    before, after = _loaded_by_import_then(
        heavy,
        "llm.bind_tools([{'type': 'function', 'function': {'name': 'f'}}])\n"
        "llm.with_structured_output({'title': 'T', 'type': 'object', 'properties': {'a': {'type': 'string'}},"
        " 'required': ['a']})\n",
    )
    assert before == "[]"
    assert after != "[]"  # and the methods that need them still work


def test_importing_chat_cerebras_leaves_the_transport_and_the_governor_until_a_client_needs_them():
    """httpcore (and the h2 package it imports), h11, the connection pool, the bulk body reader and the rate-limit
    governor load when a client is built or a response is read, as httpx itself loads httpcore: ~100 ms that an
    import alone does not pay (docs/benchmarks.md, LangChain import). The stream still works after it."""
    lazy = ("httpcore", "h11", "h2", "cerebras_adapters._pool", "cerebras_adapters._body", "cerebras_adapters.governor")
    before, after = _loaded_by_import_then(lazy, "llm.client\n")
    assert before == "[]"
    assert "httpcore" in after and "cerebras_adapters._pool" in after  # a built client has its transport
