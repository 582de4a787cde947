"""``register()``: put the provider and the catalog's model metadata into LiteLLM.

This module owns what LiteLLM learns about the provider: the ``custom_provider_map`` entry (the documented
``CustomLLM`` extension point, docs/api-facts.md#litellm-custom-provider) and, through ``litellm.register_model``, each
catalog model's prices (USD per million tokens in the catalog, per token in LiteLLM), context window, output limit and
capabilities, under ``<provider>/<model id>``. That is what makes ``litellm.completion_cost``,
``get_model_info`` and the Router's context-window pre-call checks work for the provider's models.

It also owns the few places the provider reaches into LiteLLM, each a wrapper installed once per process that
changes LiteLLM's answer only for names under a provider registered to a ``CerebrasLLM``:

* its parameter check (``_accept_cerebras_params``): LiteLLM checks the OpenAI parameters of a call to *any* custom
  provider against one fixed list that lacks ``reasoning_effort`` and consults nothing the provider registers
  (docs/api-facts.md#litellm-parameters), so a plain ``reasoning_effort=`` would be refused before the handler is
  reached;
* its cost estimate of a stream (``_price_streams_offline``): LiteLLM priced ``<provider>/<id>`` as
  ``<provider>/<provider>/<id>`` and, for an id containing ``llama-3``, downloaded a Hugging Face tokenizer to do it
  (docs/api-facts.md#litellm-stream-cost-estimate).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import litellm
import litellm.cost_calculator as litellm_cost_calculator
import litellm.main as litellm_main
import litellm.utils as litellm_utils
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
        _price_streams_offline()
    return handler


def unregister(provider: str = PROVIDER) -> None:
    """Remove the provider from ``litellm.custom_provider_map`` (its model metadata stays registered)."""
    with _lock:
        litellm.custom_provider_map = [item for item in litellm.custom_provider_map if item["provider"] != provider]
        if provider in litellm._custom_providers:
            litellm._custom_providers.remove(provider)


# -- reaching into LiteLLM ---------------------------------------------------------------------------------------


def _is_ours(provider: object) -> bool:
    return any(
        item["provider"] == provider and isinstance(item["custom_handler"], CerebrasLLM)
        for item in litellm.custom_provider_map
    )


def _names_ours(model: object) -> bool:
    """Whether ``model`` is ``<provider>/...`` for a provider registered to a ``CerebrasLLM``."""
    return isinstance(model, str) and "/" in model and _is_ours(model.split("/", 1)[0])


def _wrap_once(
    module: ModuleType, name: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]], why: str
) -> None:
    """Replace ``module.name`` by ``wrap(it)``, once per process (the wrapper is marked with
    ``__cerebras_adapters_wraps__``, the function it wraps). A LiteLLM that moved the function gets a warning saying
    what then happens (``why``) and is left as it is."""
    current: Callable[..., Any] | None = getattr(module, name, None)
    if not callable(current):
        logger.warning("%s.%s not found (another LiteLLM version): %s", module.__name__, name, why)
        return
    if getattr(current, "__cerebras_adapters_wraps__", None) is not None:
        return
    wrapper = functools.wraps(current)(wrap(current))
    wrapper.__cerebras_adapters_wraps__ = current  # type: ignore[attr-defined]
    setattr(module, name, wrapper)


# -- LiteLLM's parameter check ------------------------------------------------------------------------------


def _accept_cerebras_params() -> None:
    """Let ``ALLOWED_OPENAI_PARAMS`` through LiteLLM's check for calls to a provider registered here, in
    ``completion``/``acompletion`` and so in the Router and the proxy (they call those).

    LiteLLM's own escape hatch is ``allowed_openai_params`` (it both passes the check and forwards the value);
    this fills it in for the caller, and only when ``custom_llm_provider`` is a name whose handler is a
    ``CerebrasLLM``, so no other provider's calls change. It wraps the ``get_optional_params`` that
    ``litellm.main`` calls, which both LiteLLM 1.106 and 1.110 call with keyword arguments only.
    docs/api-facts.md#litellm-parameters.
    """

    def wrap(current: Callable[..., Any]) -> Callable[..., Any]:
        def get_optional_params(*args: Any, **kwargs: Any) -> Any:
            if _is_ours(kwargs.get("custom_llm_provider")):
                allowed = list(kwargs.get("allowed_openai_params") or ())
                kwargs["allowed_openai_params"] = allowed + [n for n in ALLOWED_OPENAI_PARAMS if n not in allowed]
            return current(*args, **kwargs)

        return get_optional_params

    _wrap_once(
        litellm_main,
        "get_optional_params",
        wrap,
        f"pass allowed_openai_params={list(ALLOWED_OPENAI_PARAMS)} to use them with {PROVIDER}",
    )


# -- LiteLLM's cost estimate of a stream ------------------------------------------------------------------------


def _price_streams_offline() -> None:
    """Make LiteLLM price this provider's names under one prefix, counting tokens with its bundled tiktoken.

    When ``completion(..., stream=True)`` returns, LiteLLM prices the stream before any chunk: a token count of the
    (still empty) output, under the name ``cost_calculator.select_model_name_for_cost_calc`` picks. That function
    puts ``custom_llm_provider + "/"`` before any name whose first segment is not a provider LiteLLM ships
    (``_model_contains_known_llm_provider``), and for a custom provider the name it gets already has the prefix:
    ``cerebras-adapters/llama-3.3-70b`` was priced as ``cerebras-adapters/cerebras-adapters/llama-3.3-70b``. Its
    tokenizer choice (``utils._select_tokenizer_helper``) then matched ``llama-3`` in the name and downloaded the
    Llama 3 tokenizer from the Hugging Face Hub (offline: about 20 s of retries per streamed call, then "Falling back
    to tiktoken for ...").

    Two wrappers, for this provider's names only (``<provider>/...`` with a ``CerebrasLLM`` registered as
    ``<provider>``); every other name gets LiteLLM's own answer:

    * ``_model_contains_known_llm_provider`` counts a registered Cerebras provider as known, so the name keeps its one
      prefix. It is the single point: every importer of ``select_model_name_for_cost_calc`` (``litellm_logging``,
      the prompt-cache pricing module, which moved between versions) calls the function defined in
      ``cost_calculator``, which looks this one up there, in LiteLLM 1.106 and 1.110 alike.
    * ``_select_tokenizer_helper`` answers with LiteLLM's own ``_return_openai_tokenizer``: the ``cl100k_base``
      encoding LiteLLM ships (``TIKTOKEN_CACHE_DIR`` points at its bundled copy), so no download, ever. Precision
      does not matter here: the estimate counts the empty output, and a stream of this provider carries the server's
      real usage on its final chunk (docs/api-facts.md#chunk-sequence, OpenRouter's as well), from which LiteLLM
      prices the finished stream for ``completion_cost`` and the success callbacks. ``token_counter`` counts this
      provider's names with it too.
    """

    def wrap_known(current: Callable[..., Any]) -> Callable[..., Any]:
        def _model_contains_known_llm_provider(model: str) -> bool:
            return _names_ours(model) or bool(current(model))

        return _model_contains_known_llm_provider

    def wrap_tokenizer(current: Callable[..., Any]) -> Callable[..., Any]:
        def _select_tokenizer_helper(model: str) -> Any:
            if _names_ours(model):
                return litellm_utils._return_openai_tokenizer(model)
            return current(model=model)

        return _select_tokenizer_helper

    _wrap_once(
        litellm_cost_calculator,
        "_model_contains_known_llm_provider",
        wrap_known,
        f"LiteLLM may price a stream as {PROVIDER}/{PROVIDER}/<model> (the cost is unaffected)",
    )
    unwrapped = "LiteLLM may download a Hugging Face tokenizer (litellm.disable_hf_tokenizer_download = True avoids it)"
    if not callable(getattr(litellm_utils, "_return_openai_tokenizer", None)):
        logger.warning("litellm.utils._return_openai_tokenizer not found (another LiteLLM version): %s", unwrapped)
        return
    _wrap_once(litellm_utils, "_select_tokenizer_helper", wrap_tokenizer, unwrapped)
