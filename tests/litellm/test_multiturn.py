"""Turn two of a reasoning conversation: the assistant message LiteLLM returned is appended as is (the usual
tool-calling pattern) and is sent back in the form the model accepts, never as ``reasoning_content``, which
Cerebras rejects (400 ``wrong_api_format``, litellm.md §1.3; the emulator rejects it the same way)."""

from __future__ import annotations

from typing import Any

import httpx
import litellm
import pytest

from .conftest import KEY, Caller, chat_bodies

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]
QUESTION = {"role": "user", "content": "What's the weather in Paris?"}


def _tool_loop(call: Caller, model: str, first: Any) -> dict[str, Any]:
    """Append ``first`` (a LiteLLM ``Message``) and the tool's answer, send turn two, return the replayed
    assistant message as the emulator received it."""
    messages: list[Any] = [QUESTION, first]
    messages += [{"role": "tool", "tool_call_id": tc.id, "content": "sunny, 21 °C"} for tc in first.tool_calls]
    second = call.complete(model, messages=messages, tools=TOOLS)
    assert second.choices[0].message.content
    replayed: dict[str, Any] = chat_bodies(call.emulator)[-1]["messages"][1]
    return replayed


def test_emulator_rejects_reasoning_content_on_an_assistant_message(cerebras_emulator: Any) -> None:
    # What makes the tests below meaningful: the raw LiteLLM message would be refused.
    body = {
        "model": "gpt-oss-120b",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "Hello!", "reasoning_content": "A greeting."},
            {"role": "user", "content": "again"},
        ],
    }
    response = httpx.post(
        f"{cerebras_emulator.base_url}/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"}
    )

    assert response.status_code == 400


def test_gpt_oss_turn_two_replays_reasoning_in_the_reasoning_field(call: Caller) -> None:
    first = call.complete("gpt-oss-120b", messages=[QUESTION], tools=TOOLS).choices[0].message

    replayed = _tool_loop(call, "gpt-oss-120b", first)

    assert replayed["reasoning"] == first.reasoning_content
    assert "reasoning_content" not in replayed and "provider_specific_fields" not in replayed


def test_glm_turn_two_replays_reasoning_as_think_tags(call: Caller) -> None:
    first = call.complete("zai-glm-4.7", messages=[QUESTION], tools=TOOLS).choices[0].message

    replayed = _tool_loop(call, "zai-glm-4.7", first)

    assert replayed["content"].startswith(f"<think>{first.reasoning_content}</think>")
    assert "reasoning_content" not in replayed and "reasoning" not in replayed


@pytest.mark.parametrize("model", ["gpt-oss-120b", "zai-glm-4.7"])
def test_turn_two_from_a_streamed_reply_is_accepted(call: Caller, model: str) -> None:
    # stream_chunk_builder's message also carries provider_specific_fields (time_info, rate limits).
    first = litellm.stream_chunk_builder(call.stream(model, messages=[QUESTION], tools=TOOLS)).choices[0].message

    replayed = _tool_loop(call, model, first)

    assert "provider_specific_fields" not in replayed and "reasoning_content" not in replayed


def test_a_plain_dict_with_reasoning_content_is_replayed_too(sync_call: Caller) -> None:
    # What OpenAI-style clients (and the proxy's callers) send back.
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Hello!", "reasoning_content": "A greeting."},
        {"role": "user", "content": "again"},
    ]

    sync_call.complete("gpt-oss-120b", messages=messages)

    assert chat_bodies(sync_call.emulator)[-1]["messages"][1] == {
        "role": "assistant",
        "content": "Hello!",
        "reasoning": "A greeting.",
    }


def test_reasoning_replays_as_the_reasoning_field_on_the_openrouter_route(sync_call: Caller) -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Hello!", "reasoning_content": "A greeting."},
        {"role": "user", "content": "again"},
    ]

    sync_call.complete("zai-glm-4.7", messages=messages, route="openrouter")

    assert chat_bodies(sync_call.emulator)[-1]["messages"][1]["reasoning"] == "A greeting."
