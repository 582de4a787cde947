"""The real LiteLLM proxy with stream coalescing set in its ``config.yaml`` (``litellm_params``), driven by the
openai client: the proxy passes ``coalesce``/``coalesce_ms`` through to our provider, streams assemble to the same
answer with coalescing on and off, and a bad window is refused naming it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from cerebras_adapters.testing import EmulatorServer

from .conftest import MASTER_KEY, PROXY_YAML, running_proxy

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]
STORY = {"role": "user", "content": "Tell me about the emulator."}
QUESTION = {"role": "user", "content": "What's the weather in Paris?"}


def _config(path: Path) -> Path:
    """The recipe's config.yaml, its gpt-oss-120b entry served three more ways (each with its own coalescing
    instead of the recipe's ``coalesce_ms``)."""
    config = yaml.safe_load(PROXY_YAML.read_text())
    (recipe,) = [m for m in config["model_list"] if m["model_name"] == "gpt-oss-120b"]
    for name, settings in (
        ("coalesced", {"coalesce": True, "coalesce_ms": 50}),
        ("per-event", {"coalesce": False}),
        ("bad-window", {"coalesce_ms": 0}),
    ):
        params = {k: v for k, v in recipe["litellm_params"].items() if k not in ("coalesce", "coalesce_ms")}
        config["model_list"].append({"model_name": name, "litellm_params": {**params, **settings}})
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def coalescing_proxy(cerebras_emulator_server: EmulatorServer, tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("coalescing-proxy")
    with running_proxy(_config(workdir / "config.yaml"), cerebras_emulator_server, workdir) as url:
        yield url


@pytest.fixture
def client(coalescing_proxy: str, cerebras_emulator: EmulatorServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{coalescing_proxy}/v1", api_key=MASTER_KEY, max_retries=0) as http:
        yield http


def _stream(client: openai.OpenAI, model: str, message: dict[str, Any], **kwargs: Any) -> list[Any]:
    return list(client.chat.completions.create(model=model, messages=[message], stream=True,  # type: ignore[list-item]
                                               stream_options={"include_usage": True}, **kwargs))


def _assembled(chunks: list[Any]) -> dict[str, Any]:
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    calls: dict[int, list[str]] = {}
    for delta in deltas:
        for call in delta.tool_calls or []:
            parts = calls.setdefault(call.index, ["", "", ""])
            parts[0] += call.id or ""
            parts[1] += (call.function and call.function.name) or ""
            parts[2] += (call.function and call.function.arguments) or ""
    return {
        "content": "".join(d.content or "" for d in deltas),
        "reasoning": "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas),
        "tool_calls": calls,
        "finish": [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason],
        "usage": chunks[-1].usage.model_dump() if chunks[-1].usage else None,
    }


@pytest.mark.parametrize("message", [STORY, QUESTION], ids=["reasoning and content", "tool call"])
def test_streams_through_the_proxy_assemble_the_same_with_coalescing_on_and_off(
    client: openai.OpenAI, message: dict[str, Any]
) -> None:
    coalesced = _assembled(_stream(client, "coalesced", message, tools=TOOLS))
    per_event = _assembled(_stream(client, "per-event", message, tools=TOOLS))
    default = _assembled(_stream(client, "gpt-oss-120b", message, tools=TOOLS))  # the recipe's: on by default

    assert coalesced == per_event == default
    assert coalesced["content"] or coalesced["tool_calls"]


@pytest.mark.cerebras_emulator(tokens_per_second=300)
def test_the_proxy_passes_the_coalescing_window_to_the_provider(client: openai.OpenAI) -> None:
    # At 300 tokens/s each event is its own read; a 50 ms window holds about 15 of them.
    coalesced = _stream(client, "coalesced", STORY, max_completion_tokens=120)
    per_event = _stream(client, "per-event", STORY, max_completion_tokens=120)

    assert len(coalesced) * 4 < len(per_event)
    assert _assembled(coalesced)["content"] == _assembled(per_event)["content"]


@pytest.mark.cerebras_emulator(tokens_per_second=1000)
def test_the_recipe_as_shipped_streams_with_its_5_ms_window(client: openai.OpenAI) -> None:
    # integrations/litellm/proxy.yaml sets coalesce_ms: 5 (docs/litellm.md, "Stream coalescing"): at 1,000 tokens/s
    # a chunk holds about five events, where coalescing without a window would give a consumer that keeps up one.
    recipe = _stream(client, "gpt-oss-120b", STORY, max_completion_tokens=120)
    per_event = _stream(client, "per-event", STORY, max_completion_tokens=120)

    assert len(recipe) * 3 < len(per_event), (len(recipe), len(per_event))
    assert _assembled(recipe)["content"] == _assembled(per_event)["content"]


def test_a_bad_window_in_the_config_is_refused_naming_it(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="coalesce_ms"):
        _stream(client, "bad-window", STORY)
