"""A Cerebras provider for LiteLLM (``litellm.completion``, the ``Router`` and the proxy) on the core client.

::

    import litellm
    from cerebras_adapters.litellm import register

    register()  # once per process
    litellm.completion(model="cerebras-adapters/gpt-oss-120b", messages=[...], reasoning_format="parsed")

This package is the only part of ``cerebras_adapters`` that imports LiteLLM. It only translates: options are
validated, requests shaped per route, retried and streamed by the core, exactly as for the core client.

* ``register(provider="cerebras-adapters")`` → the ``CerebrasLLM`` handler, registered in
  ``litellm.custom_provider_map`` with the catalog's prices and limits (``litellm.register_model``), and LiteLLM
  told to let ``reasoning_effort`` through for this provider (no ``allowed_openai_params`` needed);
* ``handler`` — the registered handler, for the proxy's ``config.yaml``
  (``custom_handler: cerebras_adapters.litellm.handler``); reading it registers the provider;
* ``deployment(model_name, model, **litellm_params)`` — a Router ``model_list`` entry;
* ``ALLOWED_OPENAI_PARAMS`` — the OpenAI parameters LiteLLM refuses for every custom provider that Cerebras
  takes (``reasoning_effort``) and ``register()`` lets through; see docs/api-facts.md#litellm-parameters.
"""

from __future__ import annotations

from typing import Any

from ._handler import PROVIDER, CerebrasLLM
from ._register import ALLOWED_OPENAI_PARAMS, model_cost_entries, register, unregister

__all__ = [
    "ALLOWED_OPENAI_PARAMS",
    "PROVIDER",
    "CerebrasLLM",
    "deployment",
    "model_cost_entries",
    "register",
    "unregister",
]


def deployment(model_name: str, model: str, *, provider: str = PROVIDER, **litellm_params: Any) -> dict[str, Any]:
    """A Router ``model_list`` entry for a Cerebras model: ``deployment("fast", "gpt-oss-120b",
    api_key="os.environ/CEREBRAS_API_KEY", reasoning_effort="low")``.

    ``reasoning_effort`` needs no ``allowed_openai_params`` (``register()`` lets it through for this provider).
    ``route="openrouter"`` (with ``api_key`` for OpenRouter) sends the deployment through OpenRouter pinned to
    Cerebras.
    """
    return {"model_name": model_name, "litellm_params": {"model": f"{provider}/{model}", **litellm_params}}


def __getattr__(name: str) -> Any:
    # ``handler`` is what the proxy's ``custom_provider_map`` points at (it imports the module and reads the
    # attribute); reading it registers the provider, so the model metadata is there before the first request.
    # Not in __all__, so a star import registers nothing.
    if name == "handler":
        return register()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
