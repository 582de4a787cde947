"""Real client libraries drive our adapters here, offline, against the contract emulator.

LangGraph's prebuilt ReAct agent with a checkpointer, LangChain v1's ``create_agent``, DSPy modules through
LiteLLM, and a CrewAI crew: nobody here wrote those clients, so their prompts, loops and parsers check what our
own tests cannot. The emulator answers in the shape each request asks for (DSPy's field markers, a schema's
fields, tool arguments from the user's words and the tool results); the assertions are the clients' results.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

# LiteLLM downloads its model cost map on import unless told not to; set before any test module imports it.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

KEY = "csk-" + "realclients"  # assembled: no key-shaped literal in tracked files


@pytest.fixture
def key() -> str:
    return KEY


RECIPES = Path(__file__).resolve().parents[2] / "integrations"


@pytest.fixture
def recipe(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], ModuleType]]:
    """Load a recipe from integrations/ (``recipe("dspy/programs.py")``) as a fresh module, with no key in the
    environment: the recipe then starts its own in-process emulator, as it does for a user without a key."""
    for name in ("CEREBRAS_API_KEY", "OPENROUTER_API_KEY", "CEREBRAS_BASE_URL", "OPENROUTER_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    loaded: list[str] = []

    def load(path: str) -> ModuleType:
        name = "recipe_" + path.removesuffix(".py").replace("/", "_")
        spec = importlib.util.spec_from_file_location(name, RECIPES / path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        loaded.append(name)
        spec.loader.exec_module(module)
        return module

    yield load
    for name in loaded:
        sys.modules.pop(name, None)
