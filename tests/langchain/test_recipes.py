"""The LangChain recipes in integrations/langchain/ run as written, against the contract emulator."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

RECIPES = Path(__file__).resolve().parents[2] / "integrations" / "langchain"


@pytest.fixture
def recipes(cerebras_emulator, monkeypatch):
    monkeypatch.setenv("CEREBRAS_API_KEY", "csk-recipes")
    monkeypatch.setenv("CEREBRAS_BASE_URL", cerebras_emulator.base_url)
    monkeypatch.setenv("OPENROUTER_API_KEY", "or-recipes")
    monkeypatch.setenv("OPENROUTER_BASE_URL", cerebras_emulator.openrouter_base_url)
    monkeypatch.syspath_prepend(str(RECIPES))
    loaded = {}

    def load(name):
        sys.modules.pop(name, None)
        loaded[name] = importlib.import_module(name)
        return loaded[name]

    yield load
    for name in loaded:
        sys.modules.pop(name, None)


def test_streaming_chain(recipes, capsys):
    text = recipes("chain_streaming").main()
    assert text and text in capsys.readouterr().out.replace("\n", "")


def test_openrouter_chain_is_the_same_chain_on_the_other_route(recipes, cerebras_emulator):
    assert recipes("openrouter_chain").main()
    assert cerebras_emulator.last_request.path == "/api/v1/chat/completions"


def test_agent_loop_calls_the_tool_then_answers(recipes, capsys):
    answer = recipes("agent_loop").main()
    out = capsys.readouterr().out
    assert "get_weather({'city': 'Paris'}) -> Sunny, 21 C" in out
    assert "Sunny" in answer


def test_structured_extraction(recipes):
    result = recipes("structured_extraction").main()
    assert result.country == "France" and result.city


def test_migration_from_langchain_cerebras_keeps_its_constructor_arguments(recipes, cerebras_emulator):
    assert recipes("migrate_from_langchain_cerebras").main()
    second_turn = cerebras_emulator.last_request.json()["messages"]
    assert second_turn[1]["role"] == "assistant" and "reasoning" in second_turn[1]
    assert "reasoning_content" not in second_turn[1]


def test_migration_from_chatopenai(recipes):
    assert recipes("migrate_from_chatopenai").main()
