"""OpenRouter's guide features through the real LangChain and LiteLLM classes, against the emulator's OpenRouter mode:
web-search citations, the generation id, plugins sent, prompt-caching markers kept on OpenRouter and removed on the
direct route, and the integrations/openrouter recipes.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is imported

import litellm
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage

from cerebras_adapters import CerebrasClient, RequestValidationError
from cerebras_adapters.langchain import ChatCerebras
from cerebras_adapters.litellm import register
from cerebras_adapters.testing import EmulatorServer

KEY = "or-" + "adapters-test"
WEB = {
    "id": "web",
    "max_results": 3,
    "search_prompt": "Use the following current web search results to answer the user:",
}
QUESTION = [{"role": "user", "content": "What are the latest developments in quantum computing in 2024?"}]
MARKED_SYSTEM = [
    {"type": "text", "text": "You are a helpful coding assistant. Here is a large codebase to analyze:"},
    {"type": "text", "text": "def login(user): ...\n" * 40, "cache_control": {"type": "ephemeral"}},
]
RECIPES = Path(__file__).resolve().parent.parent / "integrations" / "openrouter"
# LiteLLM's TypedDicts use typing.ReadOnly, which pydantic warns about when it first builds them.
pytestmark = pytest.mark.filterwarnings(r"ignore:Items? .* `ReadOnly` qualifier:UserWarning")


@pytest.fixture(scope="module", autouse=True)
def provider() -> None:
    register()
    litellm.suppress_debug_info = True


def chat_bodies(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return [r.json() for r in emulator.requests if r.path.endswith("/chat/completions")]


def llm(emulator: EmulatorServer, route: str = "openrouter", **kwargs: Any) -> ChatCerebras:
    base = emulator.openrouter_base_url if route == "openrouter" else emulator.base_url
    kwargs.setdefault("model", "gpt-oss-120b")
    return ChatCerebras(route=route, base_url=base, api_key=KEY, max_retries=0, **kwargs)


def litellm_args(emulator: EmulatorServer, route: str = "openrouter", **kwargs: Any) -> dict[str, Any]:
    base = emulator.openrouter_base_url if route == "openrouter" else emulator.base_url
    return {
        "model": "cerebras-adapters/gpt-oss-120b",
        "messages": QUESTION,
        "route": route,
        "api_base": base,
        "api_key": KEY,
        **kwargs,
    }


def urls(annotations: list[dict[str, Any]]) -> list[str]:
    return [a["url_citation"]["url"] for a in annotations]


def cited_urls(message: AIMessage) -> list[str]:
    """The urls of the standard citations on the text blocks of ``content_blocks``."""
    return [
        note["url"]
        for block in message.content_blocks
        if block["type"] == "text"
        for note in block.get("annotations", [])
        if note["type"] == "citation"
    ]


def aggregate(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    return total


# -- LangChain ----------------------------------------------------------------------------------------------------


def test_langchain_invoke_shows_web_citations_in_metadata_and_as_standard_citations(cerebras_emulator):
    message = llm(cerebras_emulator, plugins=[WEB]).invoke(QUESTION[0]["content"])

    annotations = message.response_metadata["annotations"]
    assert len(annotations) == 3 and {a["type"] for a in annotations} == {"url_citation"}
    assert cited_urls(message) == urls(annotations)
    citation = next(b for b in message.content_blocks if b["type"] == "text")["annotations"][0]
    cited = annotations[0]["url_citation"]
    assert message.text[citation["start_index"] : citation["end_index"]] in message.text
    assert citation["title"] == cited["title"] and citation["cited_text"] == cited["content"]


def test_langchain_stream_puts_the_citations_on_the_aggregated_message(cerebras_emulator):
    chunks = list(llm(cerebras_emulator, plugins=[WEB]).stream(QUESTION[0]["content"]))
    message = aggregate(chunks)

    assert len(message.response_metadata["annotations"]) == 3
    assert cited_urls(message) == urls(message.response_metadata["annotations"])
    invoked = llm(cerebras_emulator, plugins=[WEB]).invoke(QUESTION[0]["content"])
    assert message.response_metadata["annotations"] == invoked.response_metadata["annotations"]


def test_langchain_astream_puts_the_citations_on_the_aggregated_message(cerebras_emulator):
    async def run() -> AIMessageChunk:
        return aggregate([c async for c in llm(cerebras_emulator, plugins=[WEB]).astream("quantum computing news")])

    assert len(asyncio.run(run()).response_metadata["annotations"]) == 3


@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])
def test_langchain_output_version_v1_keeps_the_citations_in_the_content(cerebras_emulator, stream):
    model = llm(cerebras_emulator, plugins=[WEB], output_version="v1")
    message = aggregate(list(model.stream("quantum news"))) if stream else model.invoke("quantum news")

    (text,) = [block for block in message.content if block["type"] == "text"]
    assert [note["type"] for note in text["annotations"]] == ["citation"] * 3


def test_langchain_plugins_pass_as_a_field_a_per_call_option_and_a_binding(cerebras_emulator):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a field, not an unknown argument moved to model_kwargs with a warning
        model = llm(cerebras_emulator, plugins=[WEB])
    model.invoke("quantum computing news")
    llm(cerebras_emulator).invoke("quantum computing news", plugins=[{"id": "web", "max_results": 1}])
    llm(cerebras_emulator).bind(plugins=[{"id": "web", "engine": "exa"}]).invoke("quantum computing news")

    sent = [body["plugins"] for body in chat_bodies(cerebras_emulator)]
    assert sent == [[WEB], [{"id": "web", "max_results": 1}], [{"id": "web", "engine": "exa"}]]


def test_langchain_online_model_suffix_searches_the_web(cerebras_emulator):
    message = llm(cerebras_emulator, model="gpt-oss-120b:online").invoke("quantum computing news")

    assert len(message.response_metadata["annotations"]) == 5  # the web plugin's default max_results
    assert chat_bodies(cerebras_emulator)[-1]["model"].endswith(":online")


def test_langchain_generation_id_is_in_the_metadata_on_openrouter(cerebras_emulator):
    message = llm(cerebras_emulator).invoke("hi")
    streamed = aggregate(list(llm(cerebras_emulator).stream("hi")))

    assert message.response_metadata["generation_id"] == message.id and message.id.startswith("gen-")
    assert streamed.response_metadata["generation_id"].startswith("gen-")
    direct = llm(cerebras_emulator, route="cerebras").invoke("hi")
    assert "generation_id" not in direct.response_metadata


def test_langchain_refuses_plugins_on_the_direct_route_before_sending(cerebras_emulator):
    with pytest.raises(RequestValidationError) as caught:
        llm(cerebras_emulator, route="cerebras", plugins=[WEB]).invoke("hi")

    assert caught.value.param == "plugins" and "openrouter" in str(caught.value)
    assert chat_bodies(cerebras_emulator) == []


def test_langchain_keeps_cache_control_on_openrouter(cerebras_emulator):
    usage = []
    for _ in range(2):
        message = llm(cerebras_emulator).invoke([SystemMessage(MARKED_SYSTEM), HumanMessage("What functions?")])
        usage.append(message.usage_metadata)

    system = chat_bodies(cerebras_emulator)[-1]["messages"][0]
    assert system["content"][1]["cache_control"] == {"type": "ephemeral"}
    assert usage[1]["input_token_details"]["cache_read"] > 0


def test_langchain_removes_cache_control_on_the_direct_route(cerebras_emulator, caplog):
    caplog.set_level(logging.INFO, logger="cerebras_adapters")
    llm(cerebras_emulator, route="cerebras").invoke([SystemMessage(MARKED_SYSTEM), HumanMessage("What functions?")])

    system = chat_bodies(cerebras_emulator)[-1]["messages"][0]
    assert "cache_control" not in str(system)
    assert system["content"].startswith("You are a helpful coding assistant.")


# -- LiteLLM ------------------------------------------------------------------------------------------------------


def test_litellm_completion_shows_citations_on_message_annotations(cerebras_emulator):
    response = litellm.completion(**litellm_args(cerebras_emulator, plugins=[WEB]))

    annotations = response.choices[0].message.annotations
    assert len(annotations) == 3 and all(a["type"] == "url_citation" for a in annotations)
    assert chat_bodies(cerebras_emulator)[-1]["plugins"] == [WEB]
    assert "annotations" not in response._hidden_params  # on the message, where LiteLLM carries OpenAI's


def test_litellm_stream_carries_citations_on_a_delta_and_the_assembled_message(cerebras_emulator):
    chunks = list(litellm.completion(**litellm_args(cerebras_emulator, plugins=[WEB], stream=True)))

    on_deltas = [a for c in chunks if c.choices for a in (getattr(c.choices[0].delta, "annotations", None) or [])]
    assembled = litellm.stream_chunk_builder(chunks)
    assert len(on_deltas) == 3
    assert urls(assembled.choices[0].message.annotations) == urls(on_deltas)


def test_litellm_acompletion_shows_citations(cerebras_emulator):
    response = asyncio.run(litellm.acompletion(**litellm_args(cerebras_emulator, plugins=[WEB])))

    assert len(response.choices[0].message.annotations) == 3


def test_litellm_generation_id_is_in_the_hidden_params(cerebras_emulator):
    response = litellm.completion(**litellm_args(cerebras_emulator))

    generation_id = response._hidden_params["generation_id"]
    assert generation_id == response.id and generation_id.startswith("gen-")
    client = CerebrasClient(route="openrouter", base_url=cerebras_emulator.openrouter_base_url, api_key=KEY)
    assert client.openrouter.confirm_cerebras(generation_id).provider_name == "Cerebras"


def test_litellm_plugins_on_a_router_deployment_reach_openrouter(cerebras_emulator):
    router = litellm.Router(
        model_list=[
            {
                "model_name": "search",
                "litellm_params": {**litellm_args(cerebras_emulator), "plugins": [WEB], "messages": None},
            }
        ]
    )
    response = router.completion(model="search", messages=QUESTION)

    assert chat_bodies(cerebras_emulator)[-1]["plugins"] == [WEB]
    assert len(response.choices[0].message.annotations) == 3


def test_litellm_online_model_is_named_and_priced_as_its_model(cerebras_emulator):
    response = litellm.completion(**litellm_args(cerebras_emulator, model="cerebras-adapters/gpt-oss-120b:online"))

    assert len(response.choices[0].message.annotations) == 5
    assert response.model == "cerebras-adapters/gpt-oss-120b"
    assert litellm.completion_cost(response) > 0  # found in the price map register() filled


def test_litellm_refuses_plugins_on_the_direct_route_before_sending(cerebras_emulator):
    with pytest.raises(litellm.BadRequestError, match="plugins"):
        litellm.completion(**litellm_args(cerebras_emulator, route="cerebras", plugins=[WEB]))

    assert chat_bodies(cerebras_emulator) == []


@pytest.mark.parametrize("route", ["openrouter", "cerebras"])
def test_litellm_cache_control_kept_on_openrouter_and_removed_on_the_direct_route(cerebras_emulator, route):
    messages = [{"role": "system", "content": MARKED_SYSTEM}, {"role": "user", "content": "What functions?"}]
    litellm.completion(**litellm_args(cerebras_emulator, route=route, messages=messages))

    sent = chat_bodies(cerebras_emulator)[-1]["messages"][0]["content"]
    assert ("cache_control" in sent[1]) is (route == "openrouter")
    assert [part["text"] for part in sent] == [part["text"] for part in MARKED_SYSTEM]


# -- the recipes ----------------------------------------------------------------------------------------------------


@pytest.fixture
def recipe(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], ModuleType]]:
    """Load a recipe of integrations/openrouter with no key set: it then starts its own emulator, as for a user
    without a key."""
    for name in ("CEREBRAS_API_KEY", "OPENROUTER_API_KEY", "CEREBRAS_BASE_URL", "OPENROUTER_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    loaded: list[str] = []

    def load(name: str) -> ModuleType:
        module_name = f"recipe_openrouter_{name}"
        spec = importlib.util.spec_from_file_location(module_name, RECIPES / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        loaded.append(module_name)
        spec.loader.exec_module(module)
        return module

    yield load
    for module_name in loaded:
        sys.modules.pop(module_name, None)


def test_web_search_recipe_shows_citations_through_each_adapter(recipe, capsys):
    result = recipe("web_search").main()

    assert set(result) == {"core", "core :online", "langchain", "litellm"}
    assert all(len(found) == 5 for found in result.values())
    assert "https://" in capsys.readouterr().out


def test_prompt_caching_recipe_hits_the_cache_on_both_routes(recipe):
    result = recipe("prompt_caching").main()

    assert set(result) == {"core openrouter", "core cerebras", "langchain", "litellm"}
    assert all(cached > 0 for cached in result.values())


def test_monitoring_recipe_confirms_cerebras_for_each_adapter(recipe, capsys):
    result = recipe("monitoring").main()

    assert set(result["generations"]) == {"core", "langchain", "litellm"}
    assert all(record.provider_name == "Cerebras" for record in result["generations"].values())
    assert result["key"].usage is not None
    assert "Cerebras" in capsys.readouterr().out
