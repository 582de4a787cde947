"""The LlamaIndex ``Cerebras`` LLM's behaviours on the contract emulator, mirroring what LangChain's standard suites
cover: chat/complete, streamed and async; tools (streamed tool calls too); structured output; usage; reasoning per
family; multi-turn replay; errors; both routes; metadata and options."""

from __future__ import annotations

import base64
import copy
import json

import pytest
from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    ChatResponse,
    ImageBlock,
    MessageRole,
    TextBlock,
)
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

import cerebras_adapters as ca
from cerebras_adapters.llama_index import Cerebras, CerebrasLLM
from cerebras_adapters.llama_index._convert import HAS_THINKING_BLOCK, HAS_TOOL_CALL_BLOCK
from cerebras_adapters.options import OPTION_NAMES
from cerebras_adapters.types import ChatCompletion
from tests.llama_index.helpers import KEY, chat_bodies

SUM = [ChatMessage(role=MessageRole.USER, content="What is 2+2?")]
WEATHER = [ChatMessage(role=MessageRole.USER, content="What's the weather in Paris?")]
SUM_REASONING = "The question is a simple sum: two plus two makes four. The answer is just the number."


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"Sunny, 21 C in {city}"


def get_time(city: str) -> str:
    """Current local time in a city."""
    return f"It is 14:00 in {city}"


WEATHER_TOOL = FunctionTool.from_defaults(fn=get_weather, name="weather")
TIME_TOOL = FunctionTool.from_defaults(fn=get_time, name="clock")


class Answer(BaseModel):
    """The answer to a sum."""

    answer: int


def thinking(message: ChatMessage) -> list[str | None]:
    return [b.content for b in message.blocks if b.block_type == "thinking"]


async def every_path(llm: Cerebras, messages: list[ChatMessage]) -> dict[str, tuple[str, str | None]]:
    """(text, reasoning) as each of the eight entry points gives them."""
    out: dict[str, tuple[str, str | None]] = {}

    def seen(response: ChatResponse) -> tuple[str, str | None]:
        reasoning = response.message.additional_kwargs.get("reasoning_content")
        if HAS_THINKING_BLOCK:
            assert thinking(response.message) == [reasoning]
        return response.message.content or "", reasoning

    out["chat"] = seen(llm.chat(messages))
    out["achat"] = seen(await llm.achat(messages))
    out["stream_chat"] = seen(list(llm.stream_chat(messages))[-1])
    out["astream_chat"] = seen([r async for r in await llm.astream_chat(messages)][-1])
    prompt = messages[-1].content or ""
    for name, response in [
        ("complete", llm.complete(prompt)),
        ("acomplete", await llm.acomplete(prompt)),
        ("stream_complete", list(llm.stream_complete(prompt))[-1]),
        ("astream_complete", [r async for r in await llm.astream_complete(prompt)][-1]),
    ]:
        out[name] = (response.text, response.additional_kwargs.get("reasoning_content"))
    return out


# -- invoke / stream / async ----------------------------------------------------------------------------------


async def test_every_entry_point_gives_the_answer_and_the_reasoning_the_same_way(make_llm):
    seen = await every_path(make_llm("gpt-oss-120b"), SUM)
    assert set(seen.values()) == {("4", SUM_REASONING)}, seen


def test_chat_puts_reasoning_first_as_a_thinking_block_and_in_additional_kwargs(make_llm):
    response = make_llm("gpt-oss-120b").chat(SUM)
    assert response.message.role == MessageRole.ASSISTANT
    assert response.message.additional_kwargs["reasoning_content"] == SUM_REASONING
    if HAS_THINKING_BLOCK:
        first, text = response.message.blocks
        assert (first.block_type, first.content, text.text) == ("thinking", SUM_REASONING, "4")
        assert first.num_tokens == response.additional_kwargs["reasoning_tokens"] > 0


def test_stream_items_carry_the_message_so_far_and_the_new_text(make_llm):
    items = list(make_llm("gpt-oss-120b").stream_chat([ChatMessage(role="user", content="count to 10")]))
    texts = [item.message.content for item in items]
    assert texts[-1] == "1 2 3 4 5 6 7 8 9 10"
    assert all(texts[i + 1].startswith(texts[i]) for i in range(len(texts) - 1))  # cumulative
    assert "".join(item.delta for item in items) == texts[-1]
    thoughts = [item.additional_kwargs.get("thinking_delta") for item in items]
    assert "".join(t for t in thoughts if t) == items[-1].message.additional_kwargs["reasoning_content"]


def test_the_last_stream_item_is_the_response_a_plain_chat_gives(make_llm, cerebras_emulator):
    llm = make_llm("zai-glm-4.7")
    plain = llm.chat(SUM)
    last = list(llm.stream_chat(SUM))[-1]
    volatile = {"id", "request_id", "time_info", "rate_limits", "system_fingerprint"}
    assert last.message == plain.message
    assert {k: v for k, v in last.additional_kwargs.items() if k not in volatile} == {
        k: v for k, v in plain.additional_kwargs.items() if k not in volatile
    }
    assert isinstance(last.raw, ChatCompletion) and last.delta == ""


async def test_async_stream_items_match_sync_ones(make_llm):
    llm = make_llm("gpt-oss-120b")
    sync = [(r.delta, r.message.content) for r in llm.stream_chat(SUM)]
    items = [(r.delta, r.message.content) async for r in await llm.astream_chat(SUM)]
    assert items == sync


def test_stream_complete_yields_text_so_far_and_deltas(make_llm):
    items = list(make_llm("gemma-4-31b").stream_complete("count to 10"))
    assert items[-1].text == "".join(i.delta for i in items) == "1 2 3 4 5 6 7 8 9 10"
    assert items[-1].additional_kwargs["finish_reason"] == "stop"


def test_system_prompt_is_sent_first(make_llm, cerebras_emulator):
    make_llm("gemma-4-31b", system_prompt="Be brief.").chat(SUM)
    (body,) = chat_bodies(cerebras_emulator)
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}


# -- usage and the shared layer's extras ----------------------------------------------------------------------


def test_usage_and_response_extras_are_in_additional_kwargs_and_raw(make_llm):
    response = make_llm("gpt-oss-120b").chat(SUM)
    extra = response.additional_kwargs
    assert extra["prompt_tokens"] + extra["completion_tokens"] == extra["total_tokens"] > 0
    assert extra["finish_reason"] == "stop" and extra["model"] == "gpt-oss-120b"
    assert extra["time_info"]["total_time"] > 0
    assert extra["rate_limits"]["limit_tokens_minute"] > 0
    assert extra["request_id"]
    assert isinstance(response.raw, ChatCompletion) and response.raw.usage.total_tokens == extra["total_tokens"]


@pytest.mark.parametrize("stream", [False, True])
def test_llama_index_token_counting_reads_the_usage(make_llm, stream):
    counter = TokenCountingHandler()
    llm = make_llm("gpt-oss-120b", callback_manager=CallbackManager([counter]))
    response = list(llm.stream_chat(SUM))[-1] if stream else llm.chat(SUM)
    assert counter.prompt_llm_token_count == response.additional_kwargs["prompt_tokens"]
    assert counter.completion_llm_token_count == response.additional_kwargs["completion_tokens"]


# -- tools ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["gpt-oss-120b", "zai-glm-4.7"])
def test_chat_with_tools_returns_a_tool_call_read_by_get_tool_calls_from_response(make_llm, model, cerebras_emulator):
    llm = make_llm(model)
    response = llm.chat_with_tools([WEATHER_TOOL, TIME_TOOL], chat_history=list(WEATHER))
    (call,) = llm.get_tool_calls_from_response(response)
    assert call.tool_name == "weather" and call.tool_id and isinstance(call.tool_kwargs["city"], str)
    assert response.additional_kwargs["finish_reason"] == "tool_calls"
    (wire_call,) = response.message.additional_kwargs["tool_calls"]
    assert json.loads(wire_call["function"]["arguments"]) == call.tool_kwargs
    (body,) = chat_bodies(cerebras_emulator)
    assert [t["function"]["name"] for t in body["tools"]] == ["weather", "clock"]
    assert body["parallel_tool_calls"] is False and "tool_choice" not in body


@pytest.mark.parametrize("model", ["gpt-oss-120b", "zai-glm-4.7"])
def test_streamed_tool_calls_build_up_and_end_whole(make_llm, model):
    llm = make_llm(model)
    items = list(llm.stream_chat_with_tools([WEATHER_TOOL], chat_history=list(WEATHER)))
    with_calls = [llm.get_tool_calls_from_response(i, error_on_no_tool_call=False) for i in items]
    assert [] not in with_calls[-1:]
    (final,) = with_calls[-1]
    assert final.tool_name == "weather" and final.tool_kwargs["city"]
    assert final == llm.get_tool_calls_from_response(llm.chat_with_tools([WEATHER_TOOL], chat_history=list(WEATHER)))[0]


async def test_async_tool_calls(make_llm):
    llm = make_llm("gpt-oss-120b")
    response = await llm.achat_with_tools([WEATHER_TOOL], user_msg="What's the weather in Paris?")
    assert llm.get_tool_calls_from_response(response)[0].tool_name == "weather"
    items = [i async for i in await llm.astream_chat_with_tools([WEATHER_TOOL], user_msg="weather in Paris?")]
    assert llm.get_tool_calls_from_response(items[-1])[0].tool_name == "weather"


def test_tool_calls_are_blocks_where_the_core_has_them(make_llm):
    response = make_llm("gpt-oss-120b").chat_with_tools([WEATHER_TOOL], chat_history=list(WEATHER))
    blocks = [b.block_type for b in response.message.blocks]
    assert ("tool_call" in blocks) == HAS_TOOL_CALL_BLOCK


def test_predict_and_call_runs_the_tool(make_llm):
    result = make_llm("zai-glm-4.7").predict_and_call([WEATHER_TOOL], user_msg="What's the weather in Paris?")
    assert result.response.startswith("Sunny, 21 C in")
    assert result.sources[0].tool_name == "weather"


@pytest.mark.parametrize(("model", "sent"), [("zai-glm-4.7", "required"), ("gpt-oss-120b", "auto")])
def test_tool_required_sends_what_forces_a_call_on_the_model(make_llm, cerebras_emulator, model, sent):
    llm = make_llm(model)
    llm.chat_with_tools([WEATHER_TOOL], chat_history=list(WEATHER), tool_required=True)
    assert chat_bodies(cerebras_emulator)[-1]["tool_choice"] == sent


def test_tool_choice_by_name_and_an_unknown_name(make_llm, cerebras_emulator):
    llm = make_llm("zai-glm-4.7")
    llm.chat_with_tools([WEATHER_TOOL, TIME_TOOL], chat_history=list(WEATHER), tool_choice="weather")
    assert chat_bodies(cerebras_emulator)[-1]["tool_choice"] == {"type": "function", "function": {"name": "weather"}}
    with pytest.raises(ca.RequestValidationError, match="names no offered tool") as info:
        llm.chat_with_tools([WEATHER_TOOL], chat_history=list(WEATHER), tool_choice="radar")
    assert info.value.param == "tool_choice"


def test_strict_tools_are_made_strict_compatible(make_llm, cerebras_emulator):
    make_llm("zai-glm-4.7", strict=True).chat_with_tools([WEATHER_TOOL], chat_history=list(WEATHER))
    function = chat_bodies(cerebras_emulator)[-1]["tools"][0]["function"]
    assert function["strict"] is True and function["parameters"]["additionalProperties"] is False


def test_no_tool_call_is_a_clear_error_unless_accepted(make_llm):
    llm = make_llm("gemma-4-31b")
    response = llm.chat_with_tools([WEATHER_TOOL], user_msg="hi")
    with pytest.raises(ValueError, match="without calling a tool"):
        llm.get_tool_calls_from_response(response)
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []


def test_a_tool_round_trip_sends_the_call_and_its_result_back(make_llm, cerebras_emulator):
    llm = make_llm("gpt-oss-120b")
    history = list(WEATHER)
    first = llm.chat_with_tools([WEATHER_TOOL], chat_history=history)
    (call,) = llm.get_tool_calls_from_response(first)
    history += [
        first.message,
        ChatMessage(
            role="tool", content=get_weather(**call.tool_kwargs), additional_kwargs={"tool_call_id": call.tool_id}
        ),
    ]
    second = llm.chat_with_tools([WEATHER_TOOL], chat_history=history)
    assert "Sunny, 21 C" in (second.message.content or "")
    sent = chat_bodies(cerebras_emulator)[-1]["messages"]
    assert sent[1]["tool_calls"][0]["id"] == call.tool_id and "content" not in sent[1]
    assert sent[1]["reasoning"] == first.message.additional_kwargs["reasoning_content"]
    assert sent[2] == {"role": "tool", "tool_call_id": call.tool_id, "content": get_weather(**call.tool_kwargs)}


# -- structured output ----------------------------------------------------------------------------------------


def test_structured_predict_sends_a_strict_json_schema(make_llm, cerebras_emulator):
    result = make_llm("gpt-oss-120b").structured_predict(Answer, PromptTemplate("What is {sum}?"), sum="2+2")
    assert result == Answer(answer=4)
    (body,) = chat_bodies(cerebras_emulator)
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["name"] == "Answer"
    assert fmt["json_schema"]["schema"]["additionalProperties"] is False


async def test_astructured_predict_and_as_structured_llm(make_llm):
    llm = make_llm("zai-glm-4.7")
    assert await llm.astructured_predict(Answer, PromptTemplate("What is 2+2?")) == Answer(answer=4)
    structured = llm.as_structured_llm(Answer)
    response = structured.chat(SUM)
    assert response.raw == Answer(answer=4) and json.loads(response.message.content) == {"answer": 4}
    aresponse = await structured.achat(SUM)
    assert aresponse.raw == Answer(answer=4)


def test_stream_structured_predict_ends_with_the_whole_object(make_llm):
    parts = list(make_llm("gpt-oss-120b").stream_structured_predict(Answer, PromptTemplate("What is 2+2?")))
    assert parts[-1].answer == 4


def test_function_calling_program_when_asked_for(make_llm, cerebras_emulator):
    from llama_index.core.types import PydanticProgramMode

    llm = make_llm("zai-glm-4.7", pydantic_program_mode=PydanticProgramMode.FUNCTION)
    result = llm.structured_predict(Answer, PromptTemplate("What is 2+2?"))
    assert isinstance(result, Answer)
    body = chat_bodies(cerebras_emulator)[-1]
    assert "response_format" not in body and body["tools"][0]["function"]["name"] == "Answer"


def test_json_mode_streams_as_one_call(make_llm, cerebras_emulator):
    items = list(make_llm("gpt-oss-120b").stream_chat(SUM, response_format={"type": "json_object"}))
    assert json.loads(items[-1].message.content) is not None
    (body,) = chat_bodies(cerebras_emulator)
    assert "stream" not in body


# -- reasoning per family and multi-turn replay ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "route", "where"),
    [
        ("gpt-oss-120b", "cerebras", "reasoning"),
        ("gemma-4-31b", "cerebras", "reasoning"),
        ("zai-glm-4.7", "cerebras", "think_tags"),
        ("zai-glm-4.7", "openrouter", "reasoning"),
    ],
)
def test_earlier_reasoning_is_replayed_as_the_family_takes_it(make_llm, cerebras_emulator, model, route, where):
    llm = make_llm(model, route=route, **({"reasoning_effort": "low"} if model.startswith("gemma") else {}))
    history = list(SUM)
    first = llm.chat(history)
    reasoning = first.message.additional_kwargs["reasoning_content"]
    history += [first.message, ChatMessage(role="user", content="hi")]
    llm.chat(history)
    sent = chat_bodies(cerebras_emulator)[-1]["messages"][1]
    assert "reasoning_content" not in sent
    if where == "reasoning":
        assert sent["reasoning"] == reasoning and sent["content"] == "4"
    else:
        assert sent["content"] == f"<think>{reasoning}</think>4" and "reasoning" not in sent


def test_a_model_the_catalog_does_not_list_gets_its_family_replay(make_llm, cerebras_emulator):
    history = [*SUM, ChatMessage(role="assistant", content="4", additional_kwargs={"reasoning_content": "2 and 2"})]
    with pytest.raises(ca.NotFoundError):  # the emulator serves the catalog's models only
        make_llm("zai-glm-5").chat([*history, ChatMessage(role="user", content="hi")])
    assert chat_bodies(cerebras_emulator)[-1]["messages"][1]["content"] == "<think>2 and 2</think>4"


def test_reasoning_written_by_another_integration_is_replayed_too(make_llm, cerebras_emulator):
    history = [
        *SUM,
        ChatMessage(role="assistant", content="4", additional_kwargs={"reasoning_content": "two and two"}),
        ChatMessage(role="user", content="hi"),
    ]
    make_llm("gpt-oss-120b").chat(history)
    assert chat_bodies(cerebras_emulator)[-1]["messages"][1] == {
        "role": "assistant",
        "content": "4",
        "reasoning": "two and two",
    }


def test_reasoning_options_reach_the_wire_as_fields_and_per_call(make_llm, cerebras_emulator):
    llm = make_llm("zai-glm-4.7", reasoning_effort="none", clear_thinking=False)
    response = llm.chat(SUM, reasoning_format="hidden")
    body = chat_bodies(cerebras_emulator)[-1]
    assert (body["reasoning_effort"], body["clear_thinking"], body["reasoning_format"]) == ("none", False, "hidden")
    assert "reasoning_content" not in response.message.additional_kwargs


# -- options --------------------------------------------------------------------------------------------------


def test_every_cerebras_option_is_a_field():
    per_call = {"tools", "tool_choice", "response_format", "n"}  # n: the API takes only 1
    client = {"timeout", "attempt_timeout", "deadline"}
    assert set(OPTION_NAMES) - per_call - client <= set(Cerebras.model_fields)
    assert client <= set(Cerebras.model_fields)


def test_options_as_fields_and_per_call_reach_the_wire(make_llm, cerebras_emulator):
    llm = make_llm(
        "gpt-oss-120b",
        temperature=0.2,
        max_completion_tokens=300,
        service_tier="flex",
        queue_threshold=500,
        additional_kwargs={"seed": 7},
    )
    llm.chat(SUM, temperature=0.5, prediction={"type": "content", "content": "4"})
    request = [r for r in cerebras_emulator.requests if r.path.endswith("/chat/completions")][-1]
    body = request.json()
    assert (body["temperature"], body["max_completion_tokens"], body["seed"]) == (0.5, 300, 7)
    assert body["service_tier"] == "flex" and body["prediction"]["content"] == "4"
    assert request.headers["queue_threshold"] == "500"


def test_a_per_call_model_override(make_llm, cerebras_emulator):
    make_llm("gpt-oss-120b").chat(SUM, model="gemma-4-31b")
    assert chat_bodies(cerebras_emulator)[-1]["model"] == "gemma-4-31b"


# -- errors ---------------------------------------------------------------------------------------------------


def test_an_option_the_model_refuses_fails_at_construction(make_llm, cerebras_emulator):
    with pytest.raises(ca.RequestValidationError) as info:
        make_llm("gpt-oss-120b", reasoning_effort="none")
    assert info.value.param == "reasoning_effort"
    assert chat_bodies(cerebras_emulator) == []


def test_an_unknown_option_per_call_is_refused_before_sending(make_llm, cerebras_emulator):
    with pytest.raises(ca.UnsupportedParameterError) as info:
        make_llm().chat(SUM, frobnicate=1)
    assert info.value.param == "frobnicate"
    assert chat_bodies(cerebras_emulator) == []


def test_validation_warn_sends_what_strict_refuses(make_llm, cerebras_emulator):
    with pytest.warns(ca.ValidationWarning), pytest.raises(ca.BadRequestError):  # the server's own refusal
        make_llm("gpt-oss-120b", validation="warn").chat(SUM, reasoning_effort="none")
    assert chat_bodies(cerebras_emulator)[-1]["reasoning_effort"] == "none"


def test_an_image_block_is_sent_as_a_data_url_part(make_llm, cerebras_emulator):
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )
    message = ChatMessage(role="user", blocks=[TextBlock(text="What is this?"), ImageBlock(image=png)])
    assert make_llm("gemma-4-31b").chat([message]).message.content
    (part_text, part_image) = chat_bodies(cerebras_emulator)[-1]["messages"][0]["content"]
    assert part_text == {"type": "text", "text": "What is this?"}
    assert part_image["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(png).decode()


def test_a_block_with_no_cerebras_equivalent_names_the_message(make_llm):
    message = ChatMessage(role="user", blocks=[TextBlock(text="listen"), AudioBlock(audio=b"RIFF", format="wav")])
    with pytest.raises(ca.RequestValidationError, match="AudioBlock") as info:
        make_llm().chat([message])
    assert info.value.param == "messages.0.blocks"


def test_a_bad_key_is_our_authentication_error(make_llm):
    with pytest.raises(ca.AuthenticationError):
        make_llm(api_key="csk-" + "invalid").chat(SUM)


@pytest.mark.parametrize("stream", [False, True])
def test_rate_limits_are_retried_by_the_core(make_llm, cerebras_emulator, no_sleep, stream):
    cerebras_emulator.fail_next(2, "429")
    llm = make_llm(max_retries=2)
    response = list(llm.stream_chat(SUM))[-1] if stream else llm.chat(SUM)
    assert response.message.content == "4" and len(no_sleep) == 2


async def test_exhausted_retries_raise_the_core_rate_limit_error(make_llm, cerebras_emulator, no_sleep):
    cerebras_emulator.fail_next(3, "429")
    with pytest.raises(ca.RateLimitError):
        await make_llm(max_retries=1).achat(SUM)


def test_a_stream_cut_mid_way_is_a_stream_interrupted_error(make_llm, cerebras_emulator):
    cerebras_emulator.fail_next(1, "drop-mid-stream")
    with pytest.raises(ca.StreamInterruptedError):
        list(make_llm(max_retries=0).stream_chat(SUM))


@pytest.mark.parametrize("stream", [False, True])
def test_the_read_timeout_is_the_cores(make_llm, cerebras_emulator, stream):
    cerebras_emulator.fail_next(1, "slow-first-token=1500ms")
    llm = make_llm(timeout=0.3, max_retries=0)
    with pytest.raises(ca.APITimeoutError):
        list(llm.stream_chat(SUM)) if stream else llm.chat(SUM)


# -- routes ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["cerebras", "openrouter"])
async def test_both_routes_answer_the_same_way(make_llm, cerebras_emulator, route):
    seen = await every_path(make_llm("gpt-oss-120b", route=route), SUM)
    assert set(seen.values()) == {("4", SUM_REASONING)}
    paths = {r.path for r in cerebras_emulator.requests}
    assert paths == {"/api/v1/chat/completions" if route == "openrouter" else "/v1/chat/completions"}


def test_the_openrouter_route_surfaces_provider_cost_and_generation_id(make_llm, cerebras_emulator):
    response = make_llm("gpt-oss-120b", route="openrouter").chat(SUM)
    extra = response.additional_kwargs
    assert extra["provider"] == "Cerebras" and extra["cost"] > 0 and extra["generation_id"].startswith("gen-")
    body = chat_bodies(cerebras_emulator)[-1]
    assert body["model"] == "openai/gpt-oss-120b" and body["provider"]["only"] == ["cerebras"]


def test_the_openrouter_key_comes_from_its_variable(cerebras_emulator, monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", "or-" + "test")
    llm = Cerebras(model="gpt-oss-120b", route="openrouter", api_base=cerebras_emulator.openrouter_base_url)
    assert llm.chat(SUM).message.content == "4"
    assert cerebras_emulator.last_request.headers["authorization"] == "Bearer or-test"


# -- metadata and identity ------------------------------------------------------------------------------------


def test_metadata_comes_from_the_catalog():
    meta = Cerebras(model="gpt-oss-120b", api_key=KEY).metadata
    info = ca.default_catalog().get("gpt-oss-120b")
    assert (meta.context_window, meta.num_output) == (info.context_window, info.max_output_tokens)
    assert meta.is_chat_model and meta.is_function_calling_model and meta.model_name == "gpt-oss-120b"


def test_metadata_follows_the_settings_given():
    meta = Cerebras(model="gpt-oss-120b", api_key=KEY, context_window=8000, max_completion_tokens=512).metadata
    assert (meta.context_window, meta.num_output) == (8000, 512)
    unknown = Cerebras(model="someone-elses-model", api_key=KEY).metadata
    assert unknown.context_window == 3900 and unknown.is_function_calling_model  # LlamaIndex's defaults


def test_the_key_is_in_no_repr_and_no_serialisation():
    secret = "csk-" + "abcdefgh12345678"
    llm = Cerebras(model="gpt-oss-120b", api_key=secret)
    assert secret not in repr(llm) and secret not in json.dumps(llm.to_dict(), default=str)
    assert secret not in str(llm.model_dump())


def test_class_name_and_alias():
    assert Cerebras.class_name() == "Cerebras" and CerebrasLLM is Cerebras


def test_model_can_be_given_positionally(cerebras_emulator):
    llm = Cerebras("gemma-4-31b", api_key=KEY, base_url=cerebras_emulator.base_url)
    assert llm.model == "gemma-4-31b" and llm.complete("hi").text


# -- the per-token fast path ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["gpt-oss-120b", "zai-glm-4.7"])
def test_assembled_responses_equal_validated_ones(make_llm, model):
    # Stream items are assembled without re-validation (_output.model_assembler); a change in llama-index-core or
    # pydantic that this would get wrong shows up here.
    llm = make_llm(model)
    items = [*llm.stream_chat(SUM), *llm.stream_chat_with_tools([WEATHER_TOOL], chat_history=list(WEATHER))]
    items.append(llm.chat(SUM))
    for item in items:
        message = item.message
        validated = ChatResponse(
            message=ChatMessage(role=message.role, blocks=list(message.blocks),
                                additional_kwargs=dict(message.additional_kwargs)),
            raw=item.raw,
            delta=item.delta,
            additional_kwargs=dict(item.additional_kwargs),
        )
        assert item == validated and item.model_dump() == validated.model_dump()
        assert ChatMessage.model_validate(message.model_dump()) == message  # blocks rebuilt from scratch


def test_an_unknown_constructor_argument_is_refused_with_the_nearest_name():
    with pytest.raises(ca.RequestValidationError, match="Did you mean 'temperature'") as info:
        Cerebras(model="gpt-oss-120b", api_key=KEY, temprature=0.2)
    assert info.value.param == "temprature"


def test_to_dict_and_from_dict_round_trip_without_the_key(monkeypatch):
    monkeypatch.setenv("CEREBRAS_API_KEY", "csk-" + "fromenv")
    llm = Cerebras(model="zai-glm-4.7", api_key="csk-" + "given", reasoning_effort="low", temperature=0.3)
    data = llm.to_dict()
    assert "api_key" not in data and data["class_name"] == "Cerebras"
    again = Cerebras.from_dict(data)
    assert (again.model, again.reasoning_effort, again.temperature) == ("zai-glm-4.7", "low", 0.3)
    assert again.api_key.get_secret_value() == "csk-fromenv"  # read from the environment again, never serialised


@pytest.mark.parametrize("path", ["complete", "stream_complete", "chat"])
def test_one_call_is_one_llm_event_for_token_counting(make_llm, path):
    counter = TokenCountingHandler()
    llm = make_llm("gpt-oss-120b", callback_manager=CallbackManager([counter]))
    if path == "chat":
        llm.chat(SUM)
    elif path == "complete":
        llm.complete("What is 2+2?")
    else:
        list(llm.stream_complete("What is 2+2?"))
    assert len(counter.llm_token_counts) == 1


def test_a_deep_copy_after_a_call_builds_its_own_client(make_llm):
    llm = make_llm("gpt-oss-120b")
    llm.chat(SUM)
    clone = copy.deepcopy(llm)
    assert clone.client is not llm.client
    assert clone.chat(SUM).message.content == "4" and llm.chat(SUM).message.content == "4"
