"""Prompt caching, as OpenRouter's Cerebras guide shows it ("Prompt Caching"): a large system prompt whose content part
carries ``cache_control: {"type": "ephemeral"}``, sent twice; the second request reads it from the cache. Through the
core on both routes, LangChain and LiteLLM; each prints the cached prompt tokens of the second request
(``usage.prompt_tokens_details.cached_tokens``).

The same messages work on both routes: OpenRouter takes the marker; the Cerebras API caches prompts automatically and
rejects the field, so the direct route removes it before sending (logged once at INFO).

    python integrations/openrouter/prompt_caching.py

With OPENROUTER_API_KEY set it runs live on OpenRouter (and on the direct route too when CEREBRAS_API_KEY is set);
otherwise against the contract emulator started in-process.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is imported

import litellm
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from cerebras_adapters import CerebrasClient
from cerebras_adapters.langchain import ChatCerebras
from cerebras_adapters.litellm import register

CODEBASE = "".join(f"def handler_{i}(request):\n    return authenticate(request, scope={i})\n\n" for i in range(60))
SYSTEM: list[dict[str, Any]] = [
    {"type": "text", "text": "You are a helpful coding assistant. Here is a large codebase to analyze:"},
    {"type": "text", "text": CODEBASE, "cache_control": {"type": "ephemeral"}},
]
FIRST = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": "What are the main functions in this codebase?"},
]
SECOND = [
    *FIRST,
    {"role": "assistant", "content": "Previous response..."},
    {"role": "user", "content": "Now find potential bugs in the authentication module."},
]


def run(openrouter: dict[str, Any], cerebras: dict[str, Any] | None) -> dict[str, int]:
    """Send FIRST then SECOND through each adapter; the cached prompt tokens of each SECOND."""
    cached: dict[str, int] = {}
    routes = {"openrouter": openrouter, **({"cerebras": cerebras} if cerebras is not None else {})}
    for route, connection in routes.items():
        with CerebrasClient(route=route, **connection) as client:
            for messages in (FIRST, SECOND):
                answer = client.chat.completions.create(model="gpt-oss-120b", messages=messages)
            cached[f"core {route}"] = show(f"core {route}", answer.usage.cached_tokens if answer.usage else 0)

    llm = ChatCerebras(model="gpt-oss-120b", route="openrouter", **openrouter)
    history = [SystemMessage(SYSTEM), HumanMessage(FIRST[1]["content"])]
    llm.invoke(history)
    message = llm.invoke([*history, AIMessage("Previous response..."), HumanMessage(SECOND[-1]["content"])])
    details = (message.usage_metadata or {}).get("input_token_details") or {}
    cached["langchain"] = show("langchain", details.get("cache_read") or 0)

    register()
    for messages in (FIRST, SECOND):
        response: Any = litellm.completion(
            model="cerebras-adapters/gpt-oss-120b",
            messages=messages,
            route="openrouter",
            api_base=openrouter["base_url"],
            api_key=openrouter["api_key"],
        )
    cached["litellm"] = show("litellm", response.usage.prompt_tokens_details.cached_tokens or 0)
    return cached


def show(name: str, cached_tokens: int) -> int:
    print(f"{name}: {cached_tokens} prompt tokens read from the cache")
    return cached_tokens


def main() -> dict[str, int]:
    if os.environ.get("OPENROUTER_API_KEY"):
        direct = {"base_url": None, "api_key": None} if os.environ.get("CEREBRAS_API_KEY") else None
        return run({"base_url": None, "api_key": None}, direct)
    from cerebras_adapters.testing import EmulatorServer

    with EmulatorServer(tokens_per_second=5000) as emulator:
        return run(
            {"base_url": emulator.openrouter_base_url, "api_key": "or-demo"},
            {"base_url": emulator.base_url, "api_key": "csk-demo"},
        )


if __name__ == "__main__":
    main()
