"""A Cerebras provider for LiteLLM (``litellm.completion``, the ``Router`` and the proxy) on the core client.

::

    import litellm
    from cerebras_adapters.litellm import register

    register()  # once per process
    litellm.completion(model="cerebras-adapters/gpt-oss-120b", messages=[...], reasoning_format="parsed")

This package is the only part of ``cerebras_adapters`` that imports LiteLLM. It only translates: options are
validated, requests shaped per route, retried and streamed by the core, exactly as for the core client.

* ``register(provider="cerebras-adapters")`` → the ``CerebrasLLM`` handler, registered in
  ``litellm.custom_provider_map`` with the catalog's prices and limits (``litellm.register_model``);
* ``handler`` — the registered handler, for the proxy's ``config.yaml``
  (``custom_handler: cerebras_adapters.litellm.handler``); reading it registers the provider;
* ``deployment(model_name, model, **litellm_params)`` — a Router ``model_list`` entry with
  ``allowed_openai_params`` filled in, so ``reasoning_effort`` passes LiteLLM's custom-provider check;
* ``ALLOWED_OPENAI_PARAMS`` — the OpenAI parameters LiteLLM refuses for every custom provider that Cerebras
  takes (``reasoning_effort``); see docs/api-facts.md#litellm-parameters.
"""

from __future__ import annotations

from typing import Any

from ._handler import PROVIDER, CerebrasLLM
from ._register import model_cost_entries, register, unregister

__all__ = [
    "ALLOWED_OPENAI_PARAMS",
    "PROVIDER",
    "CerebrasLLM",
    "deployment",
    "model_cost_entries",
    "register",
    "unregister",
]

ALLOWED_OPENAI_PARAMS: tuple[str, ...] = ("reasoning_effort",)
"""OpenAI parameters LiteLLM rejects for custom providers (its ``OpenAILikeChatConfig`` list lacks them,
docs/api-facts.md#litellm-parameters) although Cerebras takes them. Pass them as ``allowed_openai_params`` (per call, or
once in a deployment's ``litellm_params``: ``deployment()`` does) to let ``reasoning_effort=...`` through."""


def deployment(model_name: str, model: str, *, provider: str = PROVIDER, **litellm_params: Any) -> dict[str, Any]:
    """A Router ``model_list`` entry for a Cerebras model: ``deployment("fast", "gpt-oss-120b",
    api_key="os.environ/CEREBRAS_API_KEY", reasoning_effort="low")``.

    ``allowed_openai_params`` gets ``ALLOWED_OPENAI_PARAMS`` added, so ``reasoning_effort`` works both in these
    ``litellm_params`` and as a per-request keyword through the Router. ``route="openrouter"`` (with
    ``api_key`` for OpenRouter) sends the deployment through OpenRouter pinned to Cerebras.
    """
    params: dict[str, Any] = {"model": f"{provider}/{model}", **litellm_params}
    allowed = list(params.get("allowed_openai_params") or [])
    allowed += [name for name in ALLOWED_OPENAI_PARAMS if name not in allowed]
    params["allowed_openai_params"] = allowed
    return {"model_name": model_name, "litellm_params": params}


def __getattr__(name: str) -> Any:
    # ``handler`` is what the proxy's ``custom_provider_map`` points at (it imports the module and reads the
    # attribute); reading it registers the provider, so the model metadata is there before the first request.
    # Not in __all__, so a star import registers nothing.
    if name == "handler":
        return register()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
