"""The model catalog: the shipped facts (cerebras-api.md §6), lookups, cost, and refreshing it from
``GET /v1/models`` in its three formats (§2.6), directly and through the clients."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from cerebras_adapters import (
    AsyncCerebrasClient,
    Catalog,
    CerebrasClient,
    ModelInfo,
    RequestValidationError,
)
from tests.wire import completion

# Synthetic /v1/models payloads, one per format, shaped as cerebras-api.md §2.6 describes.
DEFAULT_FORMAT = {
    "object": "list",
    "data": [
        {"id": "gpt-oss-120b", "object": "model", "created": 1754000000, "owned_by": "Cerebras"},
        {"id": "new-model-9b", "object": "model", "created": 1790000000, "owned_by": "Cerebras"},
    ],
}
OPENROUTER_FORMAT = {
    "data": [
        {
            "id": "cerebras/gpt-oss-120b",
            "name": "OpenAI: gpt-oss-120b",
            "context_length": 65536,
            "max_output_length": 16384,
            "created": 1754000000,
            "pricing": {"prompt": "0.0000004", "completion": "0.0000008"},
            "quantization": "fp16",
            "supported_features": ["tools", "json_mode", "structured_outputs", "reasoning"],
            "supported_sampling_parameters": ["temperature", "top_p", "stop", "seed"],
            "input_modalities": ["text"],
            "output_modalities": ["text"],
            "datacenters": [{"country_code": "US"}],
            "hugging_face_id": "openai/gpt-oss-120b",
            "openrouter": {"slug": "openai/gpt-oss-120b"},
        },
        {
            "id": "cerebras/vision-model-12b",
            "name": "Vision 12B",
            "context_length": 32768,
            "max_output_length": 8192,
            "created": 1790000000,
            "pricing": {"prompt": "0.000001", "completion": "0.000002"},
            "supported_features": ["tools"],
            "input_modalities": ["text", "image"],
            "output_modalities": ["text"],
            "openrouter": {"slug": "example/vision-12b"},
        },
    ]
}
HUGGINGFACE_FORMAT = {
    "object": "list",
    "data": [
        {
            "id": "gemma-4-31b",
            "context_length": 131072,
            "created": 1782000000,
            "owned_by": "Google",
            "pricing": {"input": 1.1, "output": 1.6},
            "capabilities": {"function_calling": True, "streaming": True, "structured_outputs": True, "vision": True},
            "hugging_face_id": "google/gemma-4-31b-it",
        },
        {
            "id": "text-only-8b",
            "context_length": 8192,
            "created": 1790000000,
            "owned_by": "Cerebras",
            "pricing": {"input": 0.1, "output": 0.1},
            "capabilities": {"function_calling": False, "streaming": True, "structured_outputs": False,
                             "vision": False},
        },
    ],
}


# -- the shipped catalog --------------------------------------------------------------------------------------


def test_shipped_catalog_knows_gpt_oss_always_reasons_with_three_efforts():
    info = Catalog.shipped().get("gpt-oss-120b")

    assert info is not None
    assert info.reasoning == "always_on"
    assert info.reasoning_efforts == ("low", "medium", "high")
    assert info.default_reasoning_effort == "medium"


def test_shipped_catalog_knows_gpt_oss_capabilities_and_openrouter_id():
    info = Catalog.shipped().get("gpt-oss-120b")

    assert info is not None
    assert info.predicted_outputs is True
    assert info.developer_role is True
    assert info.vision is False
    assert info.reasoning_replay == "reasoning_field"
    assert info.openrouter_id == "openai/gpt-oss-120b"


def test_shipped_catalog_knows_glm_4_7_takes_clear_thinking_and_think_tag_replay():
    info = Catalog.shipped().get("zai-glm-4.7")

    assert info is not None
    assert info.clear_thinking is True
    assert info.reasoning_replay == "think_tags"
    assert "none" in (info.reasoning_efforts or ())


def test_shipped_catalog_marks_retired_models():
    info = Catalog.shipped().get("llama-3.3-70b")

    assert info is not None
    assert info.status == "retired"
    assert info.retired_on == "2026-02-16"


def test_catalog_finds_a_model_by_its_openrouter_id():
    catalog = Catalog.shipped()

    info = catalog.get("openai/gpt-oss-120b")

    assert info is not None
    assert info.id == "gpt-oss-120b"
    assert "openai/gpt-oss-120b" in catalog


def test_catalog_answers_none_for_an_unknown_model():
    catalog = Catalog.shipped()

    assert catalog.get("no-such-model") is None
    assert "no-such-model" not in catalog
    assert catalog.get("vendor/no-such-model") is None


def test_cost_uses_the_per_million_token_prices():
    info = Catalog.shipped().get("gpt-oss-120b")
    assert info is not None

    # 0.35 USD per million prompt tokens, 0.75 per million completion tokens.
    assert info.cost(1_000_000, 1_000_000) == pytest.approx(1.10)
    assert info.cost(2_000, 500) == pytest.approx((2_000 * 0.35 + 500 * 0.75) / 1_000_000)


def test_cost_is_none_when_prices_are_unknown():
    assert ModelInfo(id="custom-endpoint").cost(100, 100) is None


def test_model_info_keeps_unknown_catalog_fields_as_extra():
    info = ModelInfo.from_dict({"id": "m", "reasoning_efforts": ["low"], "benchmark_score": 7})

    assert info.reasoning_efforts == ("low",)
    assert info.extra == {"benchmark_score": 7}


# -- update_from_models, per format ---------------------------------------------------------------------------


def test_update_from_default_format_adds_new_models_and_returns_every_id():
    catalog = Catalog.shipped()

    seen = catalog.update_from_models(DEFAULT_FORMAT)

    assert seen == ["gpt-oss-120b", "new-model-9b"]
    assert catalog.get("new-model-9b") == ModelInfo(id="new-model-9b")


def test_update_from_default_format_keeps_the_known_facts_of_listed_models():
    catalog = Catalog.shipped()
    before = catalog.get("gpt-oss-120b")

    catalog.update_from_models(DEFAULT_FORMAT)

    assert catalog.get("gpt-oss-120b") == before


def test_update_from_openrouter_format_strips_the_cerebras_prefix_and_converts_per_token_prices():
    catalog = Catalog.shipped()

    seen = catalog.update_from_models(OPENROUTER_FORMAT)

    assert seen == ["gpt-oss-120b", "vision-model-12b"]
    info = catalog.get("gpt-oss-120b")
    assert info is not None
    assert (info.input_price, info.output_price) == (0.4, 0.8)
    assert (info.context_window, info.max_output_tokens) == (65536, 16384)
    assert info.reasoning == "always_on"  # facts the payload does not state are kept


def test_update_from_openrouter_format_reads_the_slug_and_image_input():
    catalog = Catalog.shipped()

    catalog.update_from_models(OPENROUTER_FORMAT)

    info = catalog.get("vision-model-12b")
    assert info is not None
    assert info.openrouter_id == "example/vision-12b"
    assert info.vision is True
    assert catalog.get("example/vision-12b") == info


def test_update_from_huggingface_format_reads_per_million_prices_and_capabilities():
    catalog = Catalog.shipped()

    seen = catalog.update_from_models(HUGGINGFACE_FORMAT)

    assert seen == ["gemma-4-31b", "text-only-8b"]
    gemma = catalog.get("gemma-4-31b")
    assert gemma is not None
    assert (gemma.input_price, gemma.output_price, gemma.vision) == (1.1, 1.6, True)
    text_only = catalog.get("text-only-8b")
    assert text_only is not None
    assert (text_only.tools, text_only.structured_outputs, text_only.vision) == (False, False, False)
    assert text_only.context_window == 8192


def test_a_retired_model_listed_again_is_served_again():
    catalog = Catalog.shipped()

    catalog.update_from_models({"data": [{"id": "llama-3.3-70b", "object": "model"}]})

    info = catalog.get("llama-3.3-70b")
    assert info is not None
    assert info.status == "production"


def test_update_skips_entries_without_an_id():
    catalog = Catalog()

    assert catalog.update_from_models({"data": [{"object": "model"}, "junk", {"id": "m1"}]}) == ["m1"]
    assert len(catalog) == 1


# -- through the clients --------------------------------------------------------------------------------------


def serve(payload: dict[str, Any]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=payload)

    return handler


def refresh(api: Any, handler: Any, client_kwargs: dict[str, Any], **kwargs: Any) -> list[str]:
    """``client.models.refresh_catalog(**kwargs)`` on the sync or the async client."""
    ck = api.client_kwargs(handler, dict(client_kwargs))
    if api.mode == "sync":
        with CerebrasClient(**ck) as client:
            return client.models.refresh_catalog(**kwargs)

    async def main() -> list[str]:
        async with AsyncCerebrasClient(**ck) as client:
            return await client.models.refresh_catalog(**kwargs)

    return asyncio.run(main())


@pytest.mark.parametrize(("fmt", "payload"), [("openrouter", OPENROUTER_FORMAT), ("huggingface", HUGGINGFACE_FORMAT)])
def test_models_list_sends_the_format_query_parameter(api, fmt, payload):
    result = api.run(serve(payload), "models", format=fmt)

    request = api.requests[0]
    assert request.method == "GET"
    assert request.url.path == "/v1/models"
    assert request.url.params["format"] == fmt
    assert [m.id for m in result.data] == [m["id"] for m in payload["data"]]


def test_models_list_in_the_default_format_sends_no_format_parameter(api):
    result = api.run(serve(DEFAULT_FORMAT), "models")

    assert str(api.requests[0].url) == "https://api.cerebras.ai/v1/models"
    assert result.data[1].id == "new-model-9b"
    assert result.data[1].owned_by == "Cerebras"


def test_models_list_keeps_format_specific_fields(api):
    result = api.run(serve(OPENROUTER_FORMAT), "models", format="openrouter")

    assert result.data[0].model_extra["context_length"] == 65536
    assert result.data[0].model_extra["openrouter"] == {"slug": "openai/gpt-oss-120b"}


def test_refresh_catalog_reads_the_openrouter_format_into_the_clients_catalog(api):
    catalog = Catalog.shipped()

    seen = refresh(api, serve(OPENROUTER_FORMAT), {"catalog": catalog})

    assert api.requests[0].url.params["format"] == "openrouter"
    assert seen == ["gpt-oss-120b", "vision-model-12b"]
    assert "vision-model-12b" in catalog


def test_refresh_catalog_takes_another_format(api):
    catalog = Catalog.shipped()

    refresh(api, serve(HUGGINGFACE_FORMAT), {"catalog": catalog}, format="huggingface")

    assert api.requests[0].url.params["format"] == "huggingface"
    text_only = catalog.get("text-only-8b")
    assert text_only is not None and text_only.tools is False


def test_refresh_catalog_is_refused_on_the_openrouter_route(api):
    with pytest.raises(RequestValidationError, match="route='cerebras'") as info:
        refresh(api, serve(OPENROUTER_FORMAT), {"route": "openrouter", "catalog": Catalog.shipped()})
    assert info.value.param == "route"

    assert api.requests == []


def test_validation_follows_the_refreshed_catalog(api):
    catalog = Catalog.shipped()
    refresh(api, serve(HUGGINGFACE_FORMAT), {"catalog": catalog}, format="huggingface")
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}

    with pytest.raises(RequestValidationError) as info:
        api.create(serve(completion("x", model="text-only-8b")), client_kwargs={"catalog": catalog},
                   model="text-only-8b", messages=[{"role": "user", "content": "Hi"}], tools=[tool])

    assert info.value.param == "tools"
    assert [r.method for r in api.requests] == ["GET"]  # only the models request went out
