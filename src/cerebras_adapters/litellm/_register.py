"""``register()``: put the provider and the catalog's model metadata into LiteLLM.

This module owns what LiteLLM learns about the provider: the ``custom_provider_map`` entry (the documented
``CustomLLM`` extension point, docs/api-facts.md#litellm-custom-provider) and, through ``litellm.register_model``, each
catalog model's prices (USD per million tokens in the catalog, per token in LiteLLM), context window, output limit and
capabilities, under ``<provider>/<model id>``. That is what makes ``litellm.completion_cost``,
``get_model_info`` and the Router's context-window pre-call checks work for the provider's models.

It also owns the one place the provider reaches into LiteLLM's parameter check (``_accept_cerebras_params``):
LiteLLM checks the OpenAI parameters of a call to *any* custom provider against one fixed list that lacks
``reasoning_effort`` and consults nothing the provider registers (docs/api-facts.md#litellm-parameters), so a
plain ``reasoning_effort=`` would be refused before the handler is reached.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

import litellm
import litellm.main as litellm_main
from litellm.types.utils import LlmProviders
from litellm.utils import custom_llm_setup

from ..catalog import Catalog, ModelInfo, default_catalog
from ._handler import PROVIDER, CerebrasLLM

__all__ = ["ALLOWED_OPENAI_PARAMS", "model_cost_entries", "register", "unregister"]

ALLOWED_OPENAI_PARAMS: tuple[str, ...] = ("reasoning_effort",)
"""OpenAI parameters Cerebras takes that LiteLLM's check refuses for every custom provider (its
``OpenAILikeChatConfig`` list lacks them, docs/api-facts.md#litellm-parameters). ``register()`` makes LiteLLM
accept them for this provider's calls; the core then checks their values against the model."""

_lock = threading.Lock()
logger = logging.getLogger("cerebras_adapters")
_BUILT_IN = frozenset(p.value for p in LlmProviders)


def model_cost_entries(provider: str = PROVIDER, catalog: Catalog | None = None) -> dict[str, dict[str, Any]]:
    """The ``litellm.register_model`` entries for every catalog model, keyed ``<provider>/<model id>``."""
    entries: dict[str, dict[str, Any]] = {}
    for info in catalog if catalog is not None else default_catalog():
        entries[f"{provider}/{info.id}"] = _entry(info, provider)
    return entries


def _entry(info: ModelInfo, provider: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "litellm_provider": provider,
        "mode": "chat",
        "supports_function_calling": info.tools,
        "supports_tool_choice": info.tools,
        "supports_parallel_function_calling": info.tools,
        "supports_response_schema": info.structured_outputs,
        "supports_reasoning": info.reasoning != "none",
        "supports_vision": info.vision,
        "supports_prompt_caching": info.prompt_caching,
        "supports_system_messages": True,
    }
    if info.input_price is not None and info.output_price is not None:
        entry["input_cost_per_token"] = info.input_price / 1_000_000
        entry["output_cost_per_token"] = info.output_price / 1_000_000
        # Cached prompt tokens are billed at the normal input price (docs/api-facts.md#prompt-caching, 2026 docs).
        entry["cache_read_input_token_cost"] = entry["input_cost_per_token"]
        entry["cache_creation_input_token_cost"] = entry["input_cost_per_token"]
    if info.context_window is not None:
        entry["max_input_tokens"] = info.context_window
    if info.max_output_tokens is not None:
        entry["max_output_tokens"] = info.max_output_tokens
        entry["max_tokens"] = info.max_output_tokens
    if info.deprecated_on is not None:
        entry["deprecation_date"] = info.deprecated_on
    return entry


def register(provider: str = PROVIDER, *, catalog: Catalog | None = None) -> CerebrasLLM:
    """Register the Cerebras provider with LiteLLM under ``provider`` and return its handler.

    Afterwards ``litellm.completion(model=f"{provider}/gpt-oss-120b", ...)``, ``acompletion``, ``stream=True`` and
    Router deployments with that model string are served by ``CerebrasLLM``, and the catalog's prices and
    limits are known to ``litellm.completion_cost`` / ``get_model_info``. Calling it again with the same name
    keeps the handler already registered (and refreshes the model metadata). ``provider`` must not be one of
    LiteLLM's own provider names: LiteLLM would keep routing those to the built-in provider.
    """
    if provider in _BUILT_IN:
        raise ValueError(
            f"{provider!r} is one of LiteLLM's own providers; LiteLLM would keep routing it to the built-in "
            "provider. Use another prefix, such as 'cerebras-adapters'."
        )
    with _lock:
        handler: CerebrasLLM | None = None
        for item in litellm.custom_provider_map:
            if item["provider"] == provider and isinstance(item["custom_handler"], CerebrasLLM):
                handler = item["custom_handler"]
                break
        if handler is None:
            handler = CerebrasLLM(provider, catalog=catalog)
            litellm.custom_provider_map = [
                item for item in litellm.custom_provider_map if item["provider"] != provider
            ] + [{"provider": provider, "custom_handler": handler}]
        custom_llm_setup()  # type: ignore[no-untyped-call]
        litellm.register_model(model_cost_entries(provider, catalog if catalog is not None else handler.catalog))
        _accept_cerebras_params()
    return handler


def unregister(provider: str = PROVIDER) -> None:
    """Remove the provider from ``litellm.custom_provider_map`` (its model metadata stays registered)."""
    with _lock:
        litellm.custom_provider_map = [item for item in litellm.custom_provider_map if item["provider"] != provider]
        if provider in litellm._custom_providers:
            litellm._custom_providers.remove(provider)


# -- LiteLLM's parameter check ------------------------------------------------------------------------------


def _is_ours(provider: object) -> bool:
    return any(
        item["provider"] == provider and isinstance(item["custom_handler"], CerebrasLLM)
        for item in litellm.custom_provider_map
    )


def _accept_cerebras_params() -> None:
    """Let ``ALLOWED_OPENAI_PARAMS`` through LiteLLM's check for calls to a provider registered here, in
    ``completion``/``acompletion`` and so in the Router and the proxy (they call those).

    LiteLLM's own escape hatch is ``allowed_openai_params`` (it both passes the check and forwards the value);
    this fills it in for the caller, and only when ``custom_llm_provider`` is a name whose handler is a
    ``CerebrasLLM``, so no other provider's calls change. It wraps the ``get_optional_params`` that
    ``litellm.main`` calls, which both LiteLLM 1.106 and 1.110 call with keyword arguments only; installed
    once per process. docs/api-facts.md#litellm-parameters.
    """
    current: Callable[..., Any] | None = getattr(litellm_main, "get_optional_params", None)
    if current is None:  # a LiteLLM that moved it: allowed_openai_params=[...] is then needed, as before
        logger.warning(
            "litellm.main.get_optional_params not found: pass allowed_openai_params=%s to use them with %s",
            list(ALLOWED_OPENAI_PARAMS),
            PROVIDER,
        )
        return
    if getattr(current, "__cerebras_adapters_wraps__", None) is not None:
        return

    @functools.wraps(current)
    def get_optional_params(*args: Any, **kwargs: Any) -> Any:
        if _is_ours(kwargs.get("custom_llm_provider")):
            allowed = list(kwargs.get("allowed_openai_params") or ())
            kwargs["allowed_openai_params"] = allowed + [name for name in ALLOWED_OPENAI_PARAMS if name not in allowed]
        return current(*args, **kwargs)

    get_optional_params.__cerebras_adapters_wraps__ = current  # type: ignore[attr-defined]
    litellm_main.get_optional_params = get_optional_params  # type: ignore[attr-defined]
