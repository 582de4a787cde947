"""Usage monitoring, as OpenRouter's Cerebras guide shows it ("Monitoring Usage"): the key's stats
(``client.openrouter.key()``, ``GET /api/v1/key``) and each generation's record (``client.openrouter.generation(id)``,
``GET /api/v1/generation?id=``), for one answer from each adapter. The generation id is on every OpenRouter result:
``completion.generation_id`` (core), ``response_metadata["generation_id"]`` (LangChain),
``response._hidden_params["generation_id"]`` (LiteLLM). ``confirm_cerebras`` reads the record and checks that
Cerebras served it (``RoutingError`` otherwise), a second check after the fact beside the route's live one.

    python integrations/openrouter/monitoring.py

With OPENROUTER_API_KEY set it runs live; otherwise against the contract emulator started in-process.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is imported

import litellm

from cerebras_adapters import CerebrasClient
from cerebras_adapters.langchain import ChatCerebras
from cerebras_adapters.litellm import register
from cerebras_adapters.types import OpenRouterGeneration, OpenRouterKey

QUESTION = "Explain quantum computing in simple terms."


def run(base_url: str | None = None, api_key: str | None = None) -> dict[str, Any]:
    """One answer through each adapter, then the key's stats and each answer's generation record."""
    with CerebrasClient(route="openrouter", base_url=base_url, api_key=api_key) as client:
        ids: dict[str, str | None] = {}
        answer = client.chat.completions.create(
            model="gpt-oss-120b", messages=[{"role": "user", "content": QUESTION}], max_completion_tokens=200
        )
        ids["core"] = answer.generation_id

        llm = ChatCerebras(model="gpt-oss-120b", route="openrouter", base_url=base_url, api_key=api_key)
        ids["langchain"] = llm.invoke(QUESTION).response_metadata.get("generation_id")

        register()
        response: Any = litellm.completion(
            model="cerebras-adapters/gpt-oss-120b",
            messages=[{"role": "user", "content": QUESTION}],
            route="openrouter",
            api_base=base_url,
            api_key=api_key,
        )
        ids["litellm"] = response._hidden_params.get("generation_id")

        key: OpenRouterKey = client.openrouter.key()
        print(f"API key {key.label}: used ${key.usage} (today ${key.usage_daily}), limit {key.limit}")
        generations: dict[str, OpenRouterGeneration] = {}
        for name, generation_id in ids.items():
            if generation_id is None:
                raise RuntimeError(f"{name}: the answer carries no generation id")
            record = client.openrouter.confirm_cerebras(generation_id)  # retries OpenRouter's brief 404
            print(
                f"{name}: {record.id} served by {record.provider_name}, {record.tokens_prompt} prompt + "
                f"{record.tokens_completion} completion tokens, ${record.total_cost}, latency {record.latency} ms"
            )
            generations[name] = record
    return {"key": key, "generations": generations}


def main() -> dict[str, Any]:
    if os.environ.get("OPENROUTER_API_KEY"):
        return run()
    from cerebras_adapters.testing import EmulatorServer

    with EmulatorServer(tokens_per_second=5000) as emulator:
        return run(emulator.openrouter_base_url, "or-demo")


if __name__ == "__main__":
    main()
