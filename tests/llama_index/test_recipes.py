"""The LlamaIndex recipes in integrations/llama_index/ run as written, each against the contract emulator it starts
in-process when no key is set."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

RECIPES = Path(__file__).resolve().parents[2] / "integrations" / "llama_index"

pytestmark = [
    pytest.mark.filterwarnings("ignore::pydantic.PydanticDeprecatedSince20"),
    pytest.mark.filterwarnings("ignore::pydantic.PydanticDeprecatedSince211"),
]


@pytest.fixture
def recipe(monkeypatch):
    monkeypatch.delenv("CEREBRAS_API_KEY", raising=False)
    monkeypatch.syspath_prepend(str(RECIPES))
    loaded = []

    def load(name):
        sys.modules.pop(name, None)
        loaded.append(name)
        return importlib.import_module(name)

    yield load
    for name in loaded:
        sys.modules.pop(name, None)


def test_query_engine_streams_the_answer_from_the_documents(recipe, capsys):
    answer = recipe("query_engine").main()
    assert answer == "The capital of France is Paris."
    assert answer in capsys.readouterr().out


def test_agent_uses_both_tools_and_remembers_the_earlier_turns(recipe, capsys):
    answers = recipe("agent").main()
    out = capsys.readouterr().out
    assert "get_weather({'city': 'Paris'}) -> Sunny, 21 C" in out
    assert "get_time({'city': 'Tokyo'}) -> 16:00" in out
    assert answers[:2] == ["Here is the current weather: Sunny, 21 C", "Local time: 16:00"] and answers[2]


def test_structured_extraction_returns_validated_objects(recipe):
    first, second = recipe("structured_extraction").main()
    assert first == second and (first.country, first.capital) == ("France", "Paris")
