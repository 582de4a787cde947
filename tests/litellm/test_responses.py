"""What comes back through ``litellm.completion`` / ``acompletion``, streamed and not: reasoning, usage details,
``time_info``, rate limits, tool calls, OpenRouter's serving provider and cost."""

from __future__ import annotations

from typing import Any

import litellm

from cerebras_adapters import CerebrasClient
from cerebras_adapters.testing import EmulatorServer

from .conftest import KEY, Caller, chat_bodies

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
WEATHER = [{"role": "user", "content": "What's the weather in Paris?"}]
# Long enough to fill several of the emulator's 128-token prompt-cache blocks.
LONG_PROMPT = [{"role": "user", "content": "Summarise the following notes. " + "wafer scale engine notes " * 200}]


def _content(chunks: list[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def _reasoning(chunks: list[Any]) -> str:
    return "".join(getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks if c.choices)


def _core_stream_usage(emulator: EmulatorServer, **kwargs: Any) -> Any:
    with CerebrasClient(api_key=KEY, base_url=emulator.base_url) as client:
        return client.chat.completions.create(stream=True, **kwargs).until_done().usage


# -- non-streamed ----------------------------------------------------------------------------------------------


def test_completion_returns_the_reasoning_as_reasoning_content(call: Caller) -> None:
    response = call.complete()

    message = response.choices[0].message
    assert message.content
    assert message.reasoning_content


def test_completion_usage_keeps_reasoning_token_details(call: Caller) -> None:
    usage = call.complete().usage

    assert usage.completion_tokens_details.reasoning_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_completion_usage_reports_cached_prompt_tokens(call: Caller) -> None:
    call.complete(messages=LONG_PROMPT)
    usage = call.complete(messages=LONG_PROMPT).usage

    assert usage.prompt_tokens_details.cached_tokens > 0


def test_completion_usage_reports_accepted_and_rejected_prediction_tokens(call: Caller) -> None:
    prediction = {"type": "content", "content": "Hello! How can I help you today? Have a nice day."}
    details = call.complete(prediction=prediction).usage.completion_tokens_details

    assert details.accepted_prediction_tokens > 0
    assert details.rejected_prediction_tokens > 0


def test_completion_exposes_time_info_on_the_response_and_in_hidden_params(call: Caller) -> None:
    response = call.complete()

    assert response.time_info["total_time"] > 0
    assert response._hidden_params["time_info"] == response.time_info


def test_completion_exposes_the_rate_limit_headers_parsed_and_under_openai_names(call: Caller) -> None:
    hidden = call.complete()._hidden_params

    limits = hidden["rate_limits"]
    assert limits["limit_tokens_minute"] > 0 and limits["remaining_requests_day"] > 0
    headers = hidden["additional_headers"]
    assert headers["x-ratelimit-remaining-tokens"] == str(limits["remaining_tokens_minute"])
    assert headers["x-ratelimit-remaining-requests"] == str(limits["remaining_requests_day"])
    assert headers["llm_provider-x-ratelimit-remaining-tokens-minute"] == str(limits["remaining_tokens_minute"])


def test_completion_exposes_the_request_id(call: Caller) -> None:
    hidden = call.complete()._hidden_params

    assert hidden["request_id"] == hidden["additional_headers"]["llm_provider-x-request-id"]


def test_completion_returns_tool_calls(call: Caller) -> None:
    message = call.complete(messages=WEATHER, tools=TOOLS).choices[0].message

    assert message.tool_calls[0].function.name == "get_weather"
    assert '"Paris"' in message.tool_calls[0].function.arguments


# -- streamed ------------------------------------------------------------------------------------------------


def test_stream_deltas_carry_reasoning_then_content(call: Caller) -> None:
    chunks = call.stream()

    assert _reasoning(chunks)
    assert _content(chunks)


def test_stream_final_usage_is_the_servers_not_an_estimate(call: Caller) -> None:
    chunks = call.stream(stream_options={"include_usage": True})

    usage = next(c.usage for c in reversed(chunks) if getattr(c, "usage", None) is not None)
    server = _core_stream_usage(call.emulator, model="gpt-oss-120b", messages=[{"role": "user", "content": "hi"}])
    assert (usage.prompt_tokens, usage.completion_tokens) == (server.prompt_tokens, server.completion_tokens)
    assert usage.completion_tokens_details.reasoning_tokens == server.reasoning_tokens


def test_stream_usage_reaches_stream_chunk_builder_without_stream_options(call: Caller) -> None:
    chunks = call.stream()

    usage = litellm.stream_chunk_builder(chunks).usage
    server = _core_stream_usage(call.emulator, model="gpt-oss-120b", messages=[{"role": "user", "content": "hi"}])
    assert usage.completion_tokens == server.completion_tokens
    assert usage.completion_tokens_details.reasoning_tokens == server.reasoning_tokens


def test_stream_usage_reports_cached_prompt_tokens(call: Caller) -> None:
    call.complete(messages=LONG_PROMPT)
    chunks = call.stream(messages=LONG_PROMPT, stream_options={"include_usage": True})

    usage = next(c.usage for c in reversed(chunks) if getattr(c, "usage", None) is not None)
    assert usage.prompt_tokens_details.cached_tokens > 0


def test_stream_usage_reports_prediction_tokens(call: Caller) -> None:
    prediction = {"type": "content", "content": "Hello! How can I help you today? Have a nice day."}
    chunks = call.stream(prediction=prediction, stream_options={"include_usage": True})

    usage = next(c.usage for c in reversed(chunks) if getattr(c, "usage", None) is not None)
    assert usage.completion_tokens_details.accepted_prediction_tokens > 0


def test_stream_exposes_time_info_and_rate_limits_on_the_last_chunk_before_the_finish(call: Caller) -> None:
    chunks = call.stream()

    carrier = next(c for c in chunks if getattr(c, "time_info", None) is not None)
    assert carrier.time_info["total_time"] > 0
    assert carrier.rate_limits["limit_tokens_minute"] > 0
    assert carrier.request_id


def test_stream_time_info_survives_stream_chunk_builder(call: Caller) -> None:
    message = litellm.stream_chunk_builder(call.stream()).choices[0].message

    assert message.provider_specific_fields["time_info"]["total_time"] > 0


def test_stream_finish_reason_is_the_servers(call: Caller) -> None:
    chunks = call.stream(messages=WEATHER, tools=TOOLS)

    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_streamed_incremental_tool_calls_are_assembled(call: Caller) -> None:
    # gpt-oss streams a tool call as an id + name fragment then argument fragments (RT-13).
    message = (
        litellm.stream_chunk_builder(call.stream("gpt-oss-120b", messages=WEATHER, tools=TOOLS)).choices[0].message
    )

    assert message.tool_calls[0].function.name == "get_weather"
    assert '"Paris"' in message.tool_calls[0].function.arguments


def test_streamed_one_piece_tool_calls_are_kept(call: Caller) -> None:
    # GLM streams each tool call whole in one delta (RT-15).
    message = litellm.stream_chunk_builder(call.stream("zai-glm-4.7", messages=WEATHER, tools=TOOLS)).choices[0].message

    assert message.tool_calls[0].function.name == "get_weather"
    assert '"Paris"' in message.tool_calls[0].function.arguments


# -- connection settings ----------------------------------------------------------------------------------


def test_api_key_is_sent_as_the_bearer_token(sync_call: Caller) -> None:
    sync_call.complete(api_key="csk-from-the-call")

    assert sync_call.emulator.last_request.headers["authorization"] == "Bearer csk-from-the-call"


def test_extra_headers_are_sent(sync_call: Caller) -> None:
    sync_call.complete(extra_headers={"x-trace": "abc"})

    assert sync_call.emulator.last_request.headers["x-trace"] == "abc"


def test_the_cerebras_integration_header_is_sent(sync_call: Caller) -> None:
    sync_call.complete()

    assert sync_call.emulator.last_request.headers["x-cerebras-3rd-party-integration"] == "cerebras-adapters"


def test_max_retries_is_honoured(sync_call: Caller) -> None:
    sync_call.emulator.fail_next(1, "503")
    response = sync_call.complete(max_retries=1)

    assert response.choices[0].message.content
    assert len(chat_bodies(sync_call.emulator)) == 2


# -- OpenRouter route ---------------------------------------------------------------------------------------


def test_openrouter_route_is_pinned_to_cerebras(call: Caller) -> None:
    call.complete(route="openrouter")

    body = chat_bodies(call.emulator)[-1]
    assert body["model"] == "openai/gpt-oss-120b"
    assert body["provider"]["only"] == ["cerebras"] and body["provider"]["allow_fallbacks"] is False


def test_openrouter_route_reports_the_serving_provider(call: Caller) -> None:
    hidden = call.complete(route="openrouter")._hidden_params

    assert hidden["upstream_provider"] == "Cerebras"


def test_openrouter_route_returns_reasoning_in_streams(call: Caller) -> None:
    chunks = call.stream(route="openrouter")

    assert _reasoning(chunks) and _content(chunks)
