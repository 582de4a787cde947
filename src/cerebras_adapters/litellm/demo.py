"""The LiteLLM Router part of the demo: ``router_demo(...)`` → a dict of what happened, for the demo to print.

It builds the Router of ``integrations/litellm/router.yaml`` (pass ``config=`` to read that file; by default the
same settings are built here with ``deployment()``, since the YAML is not installed with the package), then:
one answer with its reasoning, usage, cost, ``time_info`` and rate limits; one stream; and, when
``inject_429`` is given (``emulator.fail_next`` bound to ``(1, "429")``), one request that Cerebras refuses
with a 429 and the OpenRouter deployment answers. This module only drives the public API.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from litellm.router import Router

from . import deployment
from .router import load_router_settings, router_from_yaml

__all__ = ["ROUTER_SETTINGS", "router_demo"]

QUESTION = [{"role": "user", "content": "In one sentence: why does wafer-scale help inference speed?"}]

ROUTER_SETTINGS: dict[str, Any] = {
    "model_list": [
        deployment("fast", "gpt-oss-120b", reasoning_format="parsed", tpm=1_000_000, rpm=1000),
        deployment("fast-openrouter", "gpt-oss-120b", route="openrouter", reasoning_format="parsed"),
    ],
    "routing_strategy": "usage-based-routing-v2",
    "fallbacks": [{"fast": ["fast-openrouter"]}],
    "retry_policy": {"RateLimitErrorRetries": 0, "InternalServerErrorRetries": 1, "TimeoutErrorRetries": 1},
    "num_retries": 1,
    "allowed_fails": 1,
    "cooldown_time": 30,
}
"""``integrations/litellm/router.yaml`` as Python (keys and base URLs come from the environment or the
arguments of ``router_demo``; a test keeps the two in step)."""


def _connect(
    model_list: list[dict[str, Any]],
    base_url: str | None,
    openrouter_base_url: str | None,
    api_key: str | None,
    openrouter_api_key: str | None,
) -> list[dict[str, Any]]:
    out = []
    for entry in model_list:
        params = dict(entry["litellm_params"])
        openrouter = params.get("route") == "openrouter"
        url = openrouter_base_url if openrouter else base_url
        key = openrouter_api_key if openrouter else api_key
        if url is not None:
            params["api_base"] = url
        if key is not None:
            params["api_key"] = key
        out.append({**entry, "litellm_params": params})
    return out


def router_demo(
    base_url: str | None = None,
    *,
    openrouter_base_url: str | None = None,
    api_key: str | None = None,
    openrouter_api_key: str | None = None,
    inject_429: Callable[[], None] | None = None,
    config: str | Path | None = None,
) -> dict[str, Any]:
    """Run the Router part; ``base_url`` / ``openrouter_base_url`` point at Cerebras / OpenRouter (the
    emulator's ``base_url`` and ``openrouter_base_url``), defaults from the environment."""
    settings = load_router_settings(config) if config is not None else dict(ROUTER_SETTINGS)
    model_list = _connect(settings["model_list"], base_url, openrouter_base_url, api_key, openrouter_api_key)
    if config is not None:
        router = router_from_yaml(config, model_list=model_list)
    else:
        from . import register

        register()
        router = Router(**{**settings, "model_list": model_list})
    # From the list given, not Router.model_names (deprecated in LiteLLM 1.110).
    out: dict[str, Any] = {"model_names": sorted({entry["model_name"] for entry in model_list})}

    answer: Any = router.completion(model="fast", messages=QUESTION, reasoning_effort="low")
    hidden = answer._hidden_params
    out["answer"] = {
        "content": answer.choices[0].message.content,
        "reasoning_content": answer.choices[0].message.reasoning_content,
        "usage": answer.usage.model_dump(exclude_none=True),
        "cost_usd": hidden.get("response_cost"),
        "time_info": hidden.get("time_info"),
        "rate_limits": hidden.get("rate_limits"),
    }

    chunks: list[Any] = list(router.completion(model="fast", messages=QUESTION, stream=True))
    out["stream"] = {
        "chunks": len(chunks),
        "content": "".join(c.choices[0].delta.content or "" for c in chunks if c.choices),
        "time_info": next((c.time_info for c in chunks if getattr(c, "time_info", None)), None),
    }

    if inject_429 is not None:
        inject_429()
        fallback: Any = router.completion(model="fast", messages=QUESTION)
        out["fallback"] = {
            "content": fallback.choices[0].message.content,
            "served_through": "openrouter" if fallback._hidden_params.get("upstream_provider") else "cerebras",
            "upstream_provider": fallback._hidden_params.get("upstream_provider"),
            "cost_usd": fallback._hidden_params.get("response_cost"),
        }
    return out
