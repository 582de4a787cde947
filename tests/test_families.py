"""What a model can do lives in its family (docs/api-facts.md#reasoning-per-model-family, #model-catalog).

Catalog rows name a family and state only what differs from it; an id the catalog does not list gets its family
by prefix (``ModelInfo.inferred``), so a new model of a known family (``zai-glm-5``, ``gpt-oss-20b``,
``qwen-4-…``) is validated and replayed like its family with no code; a refreshed model starts from its
family. A made-up family added at runtime (``tests/made_up_family.py``: one ``Family`` for the client, one
``ModelSpec`` for the independent emulator) is picked up by validation, reasoning replay and both adapters.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from importlib import resources
from typing import Any

import httpx
import pytest

from cerebras_adapters import Catalog, ModelInfo, RequestValidationError, default_catalog, replay_reasoning
from cerebras_adapters.families import (
    CAPABILITY_FIELDS,
    GENERIC,
    families,
    family_for,
    get_family,
)
from cerebras_adapters.testing import EmulatorServer
from tests.made_up_family import MODEL, made_up_family
from tests.wire import completion

QUESTION = {"role": "user", "content": "What is 25 * 4?"}
FOLLOW_UP = {"role": "user", "content": "And 25 * 8?"}
HISTORY = [QUESTION, {"role": "assistant", "content": "100", "reasoning_content": "25 * 4 is 100."}, FOLLOW_UP]


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=completion("200", model=json.loads(request.content)["model"]))


def sent(api: Any) -> dict[str, Any]:
    assert len(api.requests) == 1
    body: dict[str, Any] = json.loads(api.requests[0].content)
    return body


# -- unknown ids of a known family ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("zai-glm-5", "zai-glm"),
        ("gpt-oss-20b", "gpt-oss"),
        ("qwen-4-72b", "qwen"),
        ("llama-5-400b", "llama"),
        ("gemma-5-12b", "gemma"),
    ],
)
def test_an_id_the_catalog_does_not_list_resolves_to_its_family_by_prefix(model, family):
    info = Catalog.shipped().get(model)

    assert info is not None
    assert (info.id, info.family, info.inferred) == (model, family, True)
    assert {name: getattr(info, name) for name in CAPABILITY_FIELDS} == {
        name: getattr(get_family(family), name) for name in CAPABILITY_FIELDS
    }


def test_an_id_of_no_known_family_is_still_unknown():
    catalog = Catalog.shipped()

    assert catalog.get("new-model-9b") is None
    assert "new-model-9b" not in catalog


def test_glm_5_gets_its_reasoning_back_as_think_tags():
    replayed = replay_reasoning("zai-glm-5", HISTORY)

    assert replayed[1] == {"role": "assistant", "content": "<think>25 * 4 is 100.</think>100"}


def test_qwen_4_gets_its_reasoning_back_as_think_tags():
    assert replay_reasoning("qwen-4-72b", HISTORY)[1]["content"] == "<think>25 * 4 is 100.</think>100"


def test_glm_5_history_is_sent_with_think_tags(api):
    api.create(ok, model="zai-glm-5", messages=replay_reasoning("zai-glm-5", HISTORY))

    assert sent(api)["messages"][1]["content"] == "<think>25 * 4 is 100.</think>100"


def test_gpt_oss_20b_gets_the_gpt_oss_rules(api):
    # gpt-oss always reasons: "none" is refused before sending (docs/api-facts.md#turning-reasoning-off).
    with pytest.raises(RequestValidationError) as info:
        api.create(ok, model="gpt-oss-20b", messages=[QUESTION], reasoning_effort="none")

    assert (info.value.param, info.value.model, info.value.rule) == (
        "reasoning_effort",
        "gpt-oss-20b",
        "reasoning_cannot_be_turned_off",
    )
    assert api.requests == []


def test_glm_5_takes_clear_thinking_like_its_family(api):
    api.create(ok, model="zai-glm-5", messages=[QUESTION], clear_thinking=False, reasoning_effort="none")

    assert sent(api)["clear_thinking"] is False


# -- refreshing the catalog ---------------------------------------------------------------------------------------


def test_a_refreshed_unknown_model_starts_from_its_family():
    catalog = Catalog.shipped()

    catalog.update_from_models({"data": [{"id": "zai-glm-5", "object": "model"}]})

    info = catalog.get("zai-glm-5")
    assert info is not None
    assert (info.family, info.inferred, info.reasoning_replay, info.clear_thinking) == (
        "zai-glm",
        False,
        "think_tags",
        True,
    )
    assert replay_reasoning("zai-glm-5", HISTORY, catalog=catalog)[1]["content"].startswith("<think>")


def test_a_refreshed_model_keeps_its_family_on_the_next_refresh():
    catalog = Catalog.shipped()
    catalog.update_from_models({"data": [{"id": "cerebras/zai-glm-5", "context_length": 131072}]})

    catalog.update_from_models({"data": [{"id": "cerebras/zai-glm-5", "context_length": 65536}]})

    info = catalog.get("zai-glm-5")
    assert info is not None
    assert (info.reasoning_replay, info.context_window) == ("think_tags", 65536)


def test_a_refreshed_model_takes_the_capabilities_the_payload_states_over_its_family():
    catalog = Catalog.shipped()

    catalog.update_from_models({"data": [{"id": "gemma-5-4b", "capabilities": {"vision": False}}]})

    info = catalog.get("gemma-5-4b")
    assert info is not None
    assert (info.family, info.vision, info.reasoning_replay) == ("gemma", False, "reasoning_field")


def test_refresh_catalog_through_the_client_keeps_the_family_replay(api):
    catalog = Catalog.shipped()

    def models(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [{"id": "cerebras/zai-glm-5", "context_length": 131072}]})

    ck = api.client_kwargs(models, {"catalog": catalog})
    if api.mode == "sync":
        from cerebras_adapters import CerebrasClient

        with CerebrasClient(**ck) as client:
            client.models.refresh_catalog()
    else:
        import asyncio

        from cerebras_adapters import AsyncCerebrasClient

        async def main() -> None:
            async with AsyncCerebrasClient(**ck) as client:
                await client.models.refresh_catalog()

        asyncio.run(main())

    info = catalog.get("zai-glm-5")
    assert info is not None and info.inferred is False and info.reasoning_replay == "think_tags"


# -- the shipped definitions --------------------------------------------------------------------------------------


def _rows() -> list[dict[str, Any]]:
    raw = resources.files("cerebras_adapters").joinpath("data/catalog.json").read_text("utf-8")
    rows: list[dict[str, Any]] = json.loads(raw)["models"]
    return rows


def test_every_catalog_row_names_a_known_family_and_states_only_what_differs_from_it():
    for row in _rows():
        family = get_family(row["family"])
        restated = {
            key: value
            for key, value in row.items()
            if key in CAPABILITY_FIELDS
            and (tuple(value) if isinstance(value, list) else value) == getattr(family, key)
        }
        assert not restated, f"{row['id']} restates its family's {restated}"


def test_every_shipped_model_is_in_the_family_its_id_prefix_names():
    for row in _rows():
        assert family_for(row["id"]) is get_family(row["family"]), row["id"]


def test_the_shipped_families_are_gpt_oss_glm_qwen_llama_gemma_and_the_generic_fallback():
    assert [f.name for f in families()] == ["gpt-oss", "zai-glm", "qwen", "llama", "gemma", "generic"]


def test_the_generic_family_is_what_a_model_of_no_known_family_gets():
    defaults = ModelInfo(id="x")

    assert {name: getattr(GENERIC, name) for name in CAPABILITY_FIELDS} == {
        name: getattr(defaults, name) for name in CAPABILITY_FIELDS
    }
    assert defaults.family == "generic"


def test_a_listed_model_is_not_inferred():
    info = Catalog.shipped().get("zai-glm-4.6")

    assert info is not None
    assert (info.family, info.inferred) == ("zai-glm", False)
    assert (info.clear_thinking, info.predicted_outputs) == (False, False)  # its row overrides the family


# -- a made-up family, added at runtime ---------------------------------------------------------------------------


@pytest.fixture
def acme() -> Iterator[None]:
    with made_up_family():
        yield


def test_a_made_up_family_is_one_definition_away(acme):
    info = default_catalog().get(MODEL)

    assert info is not None
    assert (info.family, info.inferred, info.reasoning_replay, info.developer_role) == (
        "acme",
        True,
        "think_tags",
        True,
    )


def test_removing_a_family_forgets_its_models(acme):
    assert default_catalog().get(MODEL) is not None
    from cerebras_adapters.families import unregister_family

    unregister_family("acme")

    assert default_catalog().get(MODEL) is None


def test_a_made_up_family_gets_its_rules(api, acme):
    with pytest.raises(RequestValidationError) as info:
        api.create(ok, model=MODEL, messages=[QUESTION], reasoning_effort="medium")

    assert (info.value.param, info.value.rule) == ("reasoning_effort", "reasoning_effort_per_model")
    assert "none, low, high" in (info.value.fix or "")


def test_a_made_up_family_takes_what_its_definition_allows(api, acme):
    api.create(ok, model=MODEL, messages=[{"role": "developer", "content": "Be brief."}, QUESTION])

    assert sent(api)["messages"][0]["role"] == "developer"


def test_messages_about_a_capability_name_the_made_up_family_too(api, acme):
    with pytest.raises(RequestValidationError) as info:
        api.create(ok, model="gemma-4-31b", messages=[{"role": "developer", "content": "Be brief."}, QUESTION])

    assert "only models of the gpt-oss and acme families accept the developer role (gpt-oss-120b)" in str(
        info.value
    )


def test_a_made_up_family_gets_its_reasoning_replay(acme):
    assert replay_reasoning(MODEL, HISTORY)[1]["content"] == "<think>25 * 4 is 100.</think>100"


def _last_chat_body(emulator: EmulatorServer) -> dict[str, Any]:
    bodies = [r.json() for r in emulator.requests if r.path.endswith("/chat/completions")]
    assert bodies
    body: dict[str, Any] = bodies[-1]
    return body


def test_chat_cerebras_multi_turn_on_a_made_up_family(acme, cerebras_emulator: EmulatorServer):
    pytest.importorskip("langchain_core")
    from langchain_core.messages import HumanMessage

    from cerebras_adapters.langchain import ChatCerebras

    llm = ChatCerebras(model=MODEL, api_key="csk-test", base_url=cerebras_emulator.base_url, max_retries=0)
    first = llm.invoke([HumanMessage("What is 25 * 4?")])
    reasoning = first.additional_kwargs["reasoning_content"]
    assert reasoning

    second = llm.invoke([HumanMessage("What is 25 * 4?"), first, HumanMessage("And 25 * 8?")])

    assert second.content
    replayed = _last_chat_body(cerebras_emulator)["messages"][1]
    assert replayed["content"].startswith(f"<think>{reasoning}</think>")
    assert "reasoning" not in replayed and "reasoning_content" not in replayed


@pytest.mark.filterwarnings(r"ignore:Items? .* `ReadOnly` qualifier:UserWarning")  # LiteLLM's TypedDicts
def test_litellm_multi_turn_on_a_made_up_family(acme, cerebras_emulator: EmulatorServer, monkeypatch):
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network fetch of LiteLLM's price map
    litellm = pytest.importorskip("litellm")
    from cerebras_adapters.litellm import register

    register()
    monkeypatch.setattr(litellm, "drop_params", False)
    call = {"model": f"cerebras-adapters/{MODEL}", "api_base": cerebras_emulator.base_url, "api_key": "csk-test"}
    first = litellm.completion(messages=[QUESTION], **call).choices[0].message
    assert first.reasoning_content

    second = litellm.completion(messages=[QUESTION, first, FOLLOW_UP], **call)

    assert second.choices[0].message.content
    replayed = _last_chat_body(cerebras_emulator)["messages"][1]
    assert replayed["content"].startswith(f"<think>{first.reasoning_content}</think>")
    assert "reasoning" not in replayed and "reasoning_content" not in replayed


def test_the_emulator_serves_the_made_up_model_only_while_it_is_added(cerebras_emulator: EmulatorServer):
    body = {"model": MODEL, "messages": [QUESTION]}
    headers = {"Authorization": "Bearer csk-test"}
    url = f"{cerebras_emulator.base_url}/chat/completions"

    with made_up_family():
        assert httpx.post(url, json=body, headers=headers).status_code == 200

    assert httpx.post(url, json=body, headers=headers).status_code == 404


def test_model_info_keeps_its_public_fields():
    names = {f.name for f in dataclasses.fields(ModelInfo)}

    assert {"reasoning", "reasoning_efforts", "reasoning_replay", "tool_choice_modes", "developer_role"} <= names
    assert {"family", "inferred"} <= names
