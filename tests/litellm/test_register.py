"""``register()``: the provider entry, the catalog's model metadata and prices, and costs computed from them."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import litellm
import pytest

import cerebras_adapters.litellm as provider_module
from cerebras_adapters import default_catalog
from cerebras_adapters.litellm import CerebrasLLM, register

from .conftest import PROVIDER, Caller


def _entries(name: str) -> list[object]:
    return [item["custom_handler"] for item in litellm.custom_provider_map if item["provider"] == name]


def test_register_adds_one_handler_under_the_prefix(provider: CerebrasLLM) -> None:
    assert _entries(PROVIDER) == [provider]


def test_registering_twice_keeps_the_same_single_handler(provider: CerebrasLLM) -> None:
    again = register()

    assert again is provider
    assert _entries(PROVIDER) == [provider]


def test_a_built_in_provider_name_is_refused() -> None:
    with pytest.raises(ValueError, match="built-in"):
        register("cerebras")


def test_the_handler_attribute_is_the_registered_handler(provider: CerebrasLLM) -> None:
    # What the proxy's custom_provider_map points at (custom_handler: cerebras_adapters.litellm.handler).
    assert provider_module.handler is provider


def test_model_info_has_the_catalogs_context_window_and_output_limit() -> None:
    info = litellm.get_model_info(f"{PROVIDER}/gpt-oss-120b")
    catalog = default_catalog().get("gpt-oss-120b")

    assert catalog is not None
    assert (info["max_input_tokens"], info["max_output_tokens"]) == (catalog.context_window, catalog.max_output_tokens)


def test_model_info_has_the_catalogs_prices_per_token() -> None:
    info = litellm.get_model_info(f"{PROVIDER}/zai-glm-4.7")

    assert info["input_cost_per_token"] == pytest.approx(2.25e-6)
    assert info["output_cost_per_token"] == pytest.approx(2.75e-6)


def test_model_info_has_the_capabilities() -> None:
    assert litellm.supports_reasoning(f"{PROVIDER}/gpt-oss-120b")
    assert litellm.supports_function_calling(f"{PROVIDER}/gpt-oss-120b")
    assert litellm.supports_vision(f"{PROVIDER}/gemma-4-31b")


def test_cost_of_a_cerebras_call_is_the_catalog_price(call: Caller) -> None:
    response = call.complete()

    usage = response.usage
    expected = usage.prompt_tokens * 0.35e-6 + usage.completion_tokens * 0.75e-6
    assert response._hidden_params["response_cost"] == pytest.approx(expected)
    assert litellm.completion_cost(completion_response=response) == pytest.approx(expected)


@pytest.fixture
def map_price_of_a_thousandth() -> Iterator[None]:
    # A price map entry far from OpenRouter's price, so the two sources of a cost cannot be confused.
    litellm.register_model(
        {
            f"{PROVIDER}/gpt-oss-120b": {
                "input_cost_per_token": 1e-3,
                "output_cost_per_token": 1e-3,
                "litellm_provider": PROVIDER,
                "mode": "chat",
            }
        }
    )
    try:
        yield
    finally:
        register()  # puts the catalog's prices back


@pytest.mark.usefixtures("map_price_of_a_thousandth")
def test_cost_of_an_openrouter_call_is_openrouters_reported_cost(call: Caller) -> None:
    response = call.complete(route="openrouter")

    reported = response.usage.cost  # OpenRouter's usage.cost, as sent
    assert reported and reported < 1e-3
    assert response._hidden_params["additional_headers"]["llm_provider-x-litellm-response-cost"] == reported
    assert response._hidden_params["response_cost"] == pytest.approx(reported)


def test_cost_of_a_stream_reaches_success_callbacks(sync_call: Caller, monkeypatch: pytest.MonkeyPatch) -> None:
    costs: list[float] = []

    def record(kwargs: dict[str, object], response: object, start: object, end: object) -> None:
        costs.append(kwargs["response_cost"])  # type: ignore[arg-type]

    monkeypatch.setattr(litellm, "disable_streaming_logging", True)  # only the end-of-stream success log
    monkeypatch.setattr(litellm, "success_callback", [record])
    usage = litellm.stream_chunk_builder(sync_call.stream()).usage
    deadline = time.monotonic() + 10
    while not costs and time.monotonic() < deadline:  # LiteLLM logs from a worker thread
        time.sleep(0.01)

    assert costs == [pytest.approx(usage.prompt_tokens * 0.35e-6 + usage.completion_tokens * 0.75e-6)]


def test_importing_the_core_does_not_import_litellm() -> None:
    code = "import sys, cerebras_adapters; cerebras_adapters.CerebrasClient; print('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "False"
