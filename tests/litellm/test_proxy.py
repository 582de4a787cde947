"""The real LiteLLM proxy (``litellm --config integrations/litellm/proxy.yaml``) on loopback, driven with the
``openai`` client, with the emulator as Cerebras and as OpenRouter: plain, streaming, tools, reasoning, and a
fallback when the emulator injects a 429. Offline: every socket is on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from cerebras_adapters.testing import EmulatorServer

from .conftest import MASTER_KEY, chat_bodies

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


@pytest.fixture
def client(proxy_url: str, cerebras_emulator: EmulatorServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{proxy_url}/v1", api_key=MASTER_KEY, max_retries=0) as http:
        yield http


def test_proxy_answers_with_reasoning_and_usage_details(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(model="gpt-oss-120b", messages=[{"role": "user", "content": "hi"}])

    message = response.choices[0].message
    assert message.content and message.model_extra["reasoning_content"]  # type: ignore[index]
    assert response.usage is not None and response.usage.completion_tokens_details is not None
    assert response.usage.completion_tokens_details.reasoning_tokens


def test_proxy_streams_reasoning_content_and_the_servers_usage(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="gpt-oss-120b",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    reasoning = "".join(
        (c.choices[0].delta.model_extra or {}).get("reasoning_content") or "" for c in chunks if c.choices
    )
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert reasoning and content
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens


def test_proxy_returns_tool_calls(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(model="gpt-oss-120b", messages=[QUESTION], tools=TOOLS)  # type: ignore[list-item]

    calls = response.choices[0].message.tool_calls
    assert calls and calls[0].function.name == "get_weather"  # type: ignore[union-attr]


def test_proxy_accepts_turn_two_of_a_glm_reasoning_conversation(
    client: openai.OpenAI, cerebras_emulator: EmulatorServer
) -> None:
    first = client.chat.completions.create(model="zai-glm-4.7", messages=[QUESTION], tools=TOOLS)  # type: ignore[list-item]
    message = first.choices[0].message
    assert message.tool_calls
    history = [
        QUESTION,
        message.model_dump(exclude_none=True),  # carries reasoning_content, as OpenAI-style clients send it back
        {"role": "tool", "tool_call_id": message.tool_calls[0].id, "content": "sunny"},
    ]

    second = client.chat.completions.create(model="zai-glm-4.7", messages=history, tools=TOOLS)  # type: ignore[arg-type]

    assert second.choices[0].message.content
    assert chat_bodies(cerebras_emulator)[-1]["messages"][1]["content"].startswith("<think>")


def test_proxy_passes_reasoning_effort_to_cerebras(client: openai.OpenAI, cerebras_emulator: EmulatorServer) -> None:
    client.chat.completions.create(
        model="gpt-oss-120b", messages=[{"role": "user", "content": "hi"}], reasoning_effort="low"
    )

    assert cerebras_emulator.last_request.json()["reasoning_effort"] == "low"


def test_proxy_returns_cerebras_rate_limits_under_openai_header_names(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-oss-120b", messages=[{"role": "user", "content": "hi"}]
    )

    assert int(raw.headers["x-ratelimit-remaining-tokens"]) > 0
    assert int(raw.headers["x-ratelimit-remaining-requests"]) > 0


def test_proxy_falls_back_to_openrouter_when_cerebras_answers_429(
    client: openai.OpenAI, cerebras_emulator: EmulatorServer
) -> None:
    cerebras_emulator.fail_next(1, "429")

    response = client.chat.completions.create(model="gpt-oss-120b", messages=[{"role": "user", "content": "hi"}])

    assert response.choices[0].message.content
    paths = [r.path for r in cerebras_emulator.requests if r.path.endswith("/chat/completions")]
    assert paths == ["/v1/chat/completions", "/api/v1/chat/completions"]
