"""GET /v1/models in three formats, /v1/models/{id}, and /v1/tcp_warming (§0, §2.6, §5.1)."""

from __future__ import annotations

from decimal import Decimal

import pytest


def test_default_format_lists_models(client):
    body = client.get("/models").json()
    assert body["object"] == "list"
    ids = [m["id"] for m in body["data"]]
    assert {"gpt-oss-120b", "zai-glm-4.7", "gemma-4-31b", "llama3.1-8b"} <= set(ids)
    assert all(set(m) == {"id", "object", "created", "owned_by"} and m["object"] == "model" for m in body["data"])


def test_openrouter_format_prices_per_token_as_strings(client):
    body = client.get("/models", params={"format": "openrouter"}).json()
    gpt = next(m for m in body["data"] if m["id"] == "cerebras/gpt-oss-120b")
    assert Decimal(gpt["pricing"]["prompt"]) * 1_000_000 == Decimal("0.35")
    assert isinstance(gpt["pricing"]["completion"], str)
    assert gpt["context_length"] == 131072 and gpt["max_output_length"] == 32768
    assert gpt["openrouter"] == {"slug": "openai/gpt-oss-120b"} and gpt["hugging_face_id"]
    assert {"input_modalities", "output_modalities", "datacenters", "quantization"} <= set(gpt)


def test_huggingface_format_prices_per_million(client):
    body = client.get("/models", params={"format": "huggingface"}).json()
    gemma = next(m for m in body["data"] if m["id"] == "gemma-4-31b")
    assert body["object"] == "list"
    assert gemma["pricing"] == {"input": 0.99, "output": 1.49}
    assert gemma["capabilities"]["vision"] is True and gemma["capabilities"]["function_calling"] is True


def test_unknown_format_is_400(client):
    assert client.get("/models", params={"format": "xml"}).status_code == 400


def test_models_need_a_key(bare):
    assert bare.get("/v1/models").status_code == 401


@pytest.mark.parametrize("model_id", ["gpt-oss-120b", "llama3.3-70b"])
def test_retrieve_one_model(client, model_id):
    body = client.get(f"/models/{model_id}").json()
    assert body["object"] == "model" and body["id"] in ("gpt-oss-120b", "llama-3.3-70b")


def test_retrieve_unknown_model_is_404(client):
    response = client.get("/models/nope-1b")
    assert response.status_code == 404 and response.json()["code"] == "model_not_found"


def test_models_option_restricts_the_list(client, cerebras_emulator):
    cerebras_emulator.configure(models=["gpt-oss-120b", "zai-glm-4.7"])
    assert [m["id"] for m in client.get("/models").json()["data"]] == ["gpt-oss-120b", "zai-glm-4.7"]


def test_tcp_warming_answers_json_without_a_key(bare):
    response = bare.get("/v1/tcp_warming")
    assert response.status_code == 200 and response.json() == {}


def test_unknown_paths_are_404_and_wrong_methods_405(client):
    assert client.get("/nothing").status_code == 404
    assert client.get("/chat/completions").status_code == 405
