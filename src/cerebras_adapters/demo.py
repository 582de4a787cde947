"""``cerebras-adapters demo``: the library end to end, readably, in a few seconds.

With no key it starts the contract emulator in-process at 3000 tokens/s (so it feels like the real service)
and runs against it; with ``CEREBRAS_API_KEY`` (or ``OPENROUTER_API_KEY``, then on the OpenRouter route) it runs
live. It shows a streamed answer with its reasoning, a tool-call round trip, a structured output, usage,
``time_info``, tokens per second and the rate-limit state; then the LangChain, LiteLLM and LlamaIndex parts when
those extras are installed. This module only drives the public API; it holds no logic of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from . import CerebrasClient, ChatCompletion, RateLimits, replay_reasoning

MODEL = "gpt-oss-120b"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}


class _Printer:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __call__(self, text: str = "", end: str = "\n") -> None:
        self.out.write(text + end)
        self.out.flush()

    def section(self, title: str) -> None:
        self(f"\n== {title} " + "=" * max(0, 70 - len(title)))


@contextlib.contextmanager
def _target(route: str | None) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """Live when a key is set, otherwise the in-process emulator at 3000 tokens/s."""
    if route is None:
        route = (
            "openrouter"
            if not os.environ.get("CEREBRAS_API_KEY") and os.environ.get("OPENROUTER_API_KEY")
            else ("cerebras")
        )
    key_env = "OPENROUTER_API_KEY" if route == "openrouter" else "CEREBRAS_API_KEY"
    if os.environ.get(key_env):
        yield f"live ({route})", {"route": route}, None
        return
    from .testing import EmulatorServer

    with EmulatorServer(tokens_per_second=3000) as emulator:
        base = emulator.openrouter_base_url if route == "openrouter" else emulator.base_url
        yield (
            f"the contract emulator at {base} (3000 tokens/s; set {key_env} to run live)",
            {
                "route": route,
                "base_url": base,
                "api_key": "csk-demo",
            },
            emulator,
        )


def _usage_line(resp: ChatCompletion, seconds: float) -> str:
    usage = resp.usage
    parts = []
    if usage is not None:
        parts.append(
            f"tokens: {usage.prompt_tokens} in / {usage.completion_tokens} out "
            f"({usage.reasoning_tokens} reasoning, {usage.cached_tokens} cached)"
        )
        if seconds > 0:
            parts.append(f"{usage.completion_tokens / seconds:,.0f} tokens/s end to end")
        if usage.cost is not None:
            parts.append(f"cost ${usage.cost:.6f}")
    if resp.time_info is not None and resp.time_info.completion_time:
        t = resp.time_info
        parts.append(
            f"server: queue {1000 * (t.queue_time or 0):.1f} ms, prompt {1000 * (t.prompt_time or 0):.1f} ms, "
            f"completion {1000 * (t.completion_time or 0):.1f} ms"
        )
    return " | ".join(parts)


def _limits_line(limits: RateLimits | None) -> str:
    if limits is None:
        return "rate limits: (no headers on this response)"
    return (
        f"rate limits: {limits.remaining_requests_day}/{limits.limit_requests_day} requests today, "
        f"{limits.remaining_tokens_minute}/{limits.limit_tokens_minute} tokens this minute "
        f"(resets in {limits.reset_tokens_minute or 0:.1f} s)"
    )


def core_demo(client: CerebrasClient, say: _Printer) -> None:
    say.section("Streamed answer with reasoning")
    question = [{"role": "user", "content": "What is 2+2? Explain in one sentence."}]
    say(f"> {question[0]['content']}")
    started = time.perf_counter()
    stream = client.chat.completions.create(model=MODEL, messages=question, stream=True, reasoning_effort="low")
    in_reasoning = False
    for chunk in stream:
        for choice in chunk.choices:
            delta = choice.delta
            if delta.reasoning:
                if not in_reasoning:
                    say("[reasoning] ", end="")
                    in_reasoning = True
                say(delta.reasoning, end="")
            if delta.content:
                if in_reasoning:
                    say("\n[answer]    ", end="")
                    in_reasoning = False
                say(delta.content, end="")
    elapsed = time.perf_counter() - started
    final = stream.get_final_completion()
    say()
    say(_usage_line(final, elapsed))
    say(_limits_line(final.rate_limits))

    say.section("Tool call round trip")
    messages: list[dict[str, Any]] = [{"role": "user", "content": "What is the weather in Paris? Use the tool."}]
    say(f"> {messages[0]['content']}")
    first = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL], tool_choice="auto")
    reply = first.choices[0].message
    for call in reply.tool_calls or []:
        assert call.function is not None
        say(f"model calls {call.function.name}({call.function.arguments}) [id {call.id}]")
        messages.append({"role": "assistant", "tool_calls": [call.to_dict()], "reasoning_content": reply.reasoning})
        messages.append({"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21 C"})
        say("tool answers: Sunny, 21 C")
    if reply.tool_calls:
        second = client.chat.completions.create(
            model=MODEL, messages=replay_reasoning(MODEL, messages), tools=[WEATHER_TOOL]
        )
        say(f"model: {second.choices[0].message.content}")
    else:
        say(f"model answered without the tool: {reply.content}")

    say.section("Structured output (strict JSON schema)")
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "country": {"type": "string"},
            "population_millions": {"type": "number"},
        },
        "required": ["city", "country", "population_millions"],
        "additionalProperties": False,
    }
    started = time.perf_counter()
    structured = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Give the capital of France as JSON."}],
        response_format={"type": "json_schema", "json_schema": {"name": "capital", "schema": schema, "strict": True}},
    )
    elapsed = time.perf_counter() - started
    say(json.dumps(json.loads(structured.choices[0].message.content or "{}"), indent=2))
    say(_usage_line(structured, elapsed))


def _optional_part(name: str, say: _Printer, part: Callable[[], None]) -> None:
    try:
        part()
    except ImportError as exc:
        say.section(name)
        say(f"(skipped: {exc}; install the extra to see it)")


def run(out: TextIO | None = None, route: str | None = None) -> int:
    say = _Printer(out or sys.stdout)
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    with _target(route) as (where, kwargs, emulator):
        say(f"cerebras-adapters demo: running against {where}")
        with CerebrasClient(**kwargs) as client:
            core_demo(client, say)
        for name, part in _extra_parts(kwargs, emulator, say):
            _optional_part(name, say, part)
    say("\nDone.")
    return 0


def _extra_parts(kwargs: dict[str, Any], emulator: Any, say: _Printer) -> list[tuple[str, Callable[[], None]]]:
    """The LangChain, LiteLLM and LlamaIndex parts (added by those adapters)."""

    def langchain_part() -> None:
        from langchain_core.messages import HumanMessage

        from .langchain import ChatCerebras

        say.section("LangChain: ChatCerebras")
        llm = ChatCerebras(model=MODEL, reasoning_effort="low", **kwargs)
        say("> llm.stream('Name three primary colours.')")
        total = None
        for chunk in llm.stream([HumanMessage("Name three primary colours.")]):
            say(str(chunk.content), end="")
            total = chunk if total is None else total + chunk
        say()
        if total is not None:
            reasoning = total.additional_kwargs.get("reasoning_content")
            say(f"reasoning (additional_kwargs['reasoning_content']): {reasoning}")
            say(f"usage_metadata: {total.usage_metadata}")
            say(f"time_info: {total.response_metadata.get('time_info')}")

    def litellm_part() -> None:
        from .litellm.demo import router_demo

        say.section("LiteLLM: a Router, Cerebras first, OpenRouter pinned to Cerebras as fallback")
        if emulator is not None:
            result = router_demo(
                emulator.base_url,
                openrouter_base_url=emulator.openrouter_base_url,
                api_key="csk-demo",
                openrouter_api_key="or-demo",
                inject_429=lambda: emulator.fail_next(1, "429"),
            )
        elif os.environ.get("CEREBRAS_API_KEY") and os.environ.get("OPENROUTER_API_KEY"):
            result = router_demo()
        else:
            say("(skipped: live, the Router needs both CEREBRAS_API_KEY and OPENROUTER_API_KEY)")
            return
        answer = result["answer"]
        say(f"router.completion(model='fast') -> {answer['content']!r}")
        say(f"reasoning_content: {answer['reasoning_content']!r}")
        say(f"usage: {answer['usage']} | cost ${answer['cost_usd']}")
        say(f"time_info: {answer['time_info']}")
        say(f"stream: {result['stream']['chunks']} chunks -> {result['stream']['content']!r}")
        if "fallback" in result:
            fallback = result["fallback"]
            say(
                f"Cerebras answered 429 -> served through {fallback['served_through']} "
                f"(provider {fallback['upstream_provider']}): {fallback['content']!r}, cost ${fallback['cost_usd']}"
            )

    def llama_index_part() -> None:
        from llama_index.core.llms import ChatMessage

        from .llama_index import Cerebras

        say.section("LlamaIndex: Cerebras")
        connection = {("api_base" if name == "base_url" else name): value for name, value in kwargs.items()}
        llm = Cerebras(model=MODEL, reasoning_effort="low", **connection)
        say("> llm.stream_chat([ChatMessage(role='user', content='Name three primary colours.')])")
        last = None
        for last in llm.stream_chat([ChatMessage(role="user", content="Name three primary colours.")]):
            say(last.delta or "", end="")
        say()
        if last is not None:
            say(f"reasoning (ThinkingBlock, additional_kwargs['reasoning_content']): "
                f"{last.message.additional_kwargs.get('reasoning_content')}")
            extra = last.additional_kwargs
            say(f"tokens: {extra.get('prompt_tokens')} in / {extra.get('completion_tokens')} out | "
                f"time_info: {extra.get('time_info')}")
            say(f"metadata from the catalog: context_window={llm.metadata.context_window}, "
                f"function calling={llm.metadata.is_function_calling_model}")

    return [
        ("LangChain: ChatCerebras", langchain_part),
        ("LiteLLM: Router", litellm_part),
        ("LlamaIndex: Cerebras", llama_index_part),
    ]
