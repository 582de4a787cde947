"""A one-task CrewAI crew on our LiteLLM provider: ``LLM(model="cerebras-adapters/...", base_url=...)``.

CrewAI lives in its own environment (it needs an mcp that litellm[proxy] in the dev group excludes); this module
skips in the main one. Run it with::

    UV_PROJECT_ENVIRONMENT=.venv-crewai uv sync --locked --no-default-groups --group crewai
    .venv-crewai/bin/python -m pytest tests/realclients/test_crewai.py --confcutdir=tests/realclients

(``--confcutdir`` keeps pytest from loading tests/conftest.py, whose cassette hooks need the dev group's
pytest-recording.) CrewAI's telemetry and tracing are switched off through its documented variables, and every
test checks that nothing but loopback was looked up or connected to: pytest-socket blocks other hosts, and a
probe records every attempt, so a blocked attempt swallowed inside CrewAI still fails the test.
"""

from __future__ import annotations

import importlib.util
import os
import socket
from collections.abc import Iterator

import pytest

if importlib.util.find_spec("crewai") is not None:
    # Before CrewAI is imported: it reads them when its telemetry starts.
    os.environ["CREWAI_DISABLE_TELEMETRY"] = "true"
    os.environ["OTEL_SDK_DISABLED"] = "true"
    os.environ["CREWAI_TRACING_ENABLED"] = "false"
    os.environ["CREWAI_DISABLE_VERSION_CHECK"] = "true"

crewai = pytest.importorskip("crewai")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:crewai")  # its own deprecations, not ours

from crewai.tools import tool  # noqa: E402

from cerebras_adapters.litellm import register  # noqa: E402

from ..network_probe import record_outside  # noqa: E402

WEATHER = {"london": "Light rain, 14 C", "tokyo": "Clear, 19 C"}


@tool("get_weather")
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return WEATHER.get(city.lower(), "Unknown city")


@pytest.fixture
def outside(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[list[str]]:
    """Every host a name lookup or a connection went to that is not loopback (pytest-socket blocks the
    connections; this records them even when the caller swallows the error)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # CrewAI's local storage stays out of the home directory
    yield record_outside(monkeypatch)


@pytest.fixture
def llm(cerebras_emulator, key):
    def make(model: str, **options):
        register()
        return crewai.LLM(
            model=f"cerebras-adapters/{model}", base_url=cerebras_emulator.base_url, api_key=key, **options
        )

    return make


def chat_requests(emulator) -> list[dict]:
    return [r.json() for r in emulator.requests if r.path.endswith("/chat/completions")]


def kickoff(llm, question: str, tools=()) -> crewai.CrewOutput:
    agent = crewai.Agent(
        role="Assistant",
        goal="Answer the question in one sentence",
        backstory="You answer briefly and use your tools when they help.",
        llm=llm,
        tools=list(tools),
        verbose=False,
    )
    task = crewai.Task(description=question, expected_output="One sentence.", agent=agent)
    return crewai.Crew(agents=[agent], tasks=[task], verbose=False).kickoff()


def test_the_probe_sees_an_attempt_to_leave_the_machine(outside):
    with pytest.raises(Exception):  # noqa: B017 - pytest-socket's error, or no DNS at all
        socket.create_connection(("example.com", 80), timeout=1)
    assert outside and outside[0] == "lookup example.com"


@pytest.mark.parametrize("model", ["gpt-oss-120b", "zai-glm-4.7"])
def test_a_one_task_crew_answers_through_the_provider(cerebras_emulator, llm, outside, model):
    result = kickoff(llm(model), "What is the capital of France?")

    assert result.raw == "The capital of France is Paris."
    (sent,) = chat_requests(cerebras_emulator)
    assert sent["model"] == model
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert "What is the capital of France?" in sent["messages"][1]["content"]
    assert result.token_usage.successful_requests == 1 and result.token_usage.prompt_tokens > 0
    assert outside == []


def test_a_crew_calls_its_tool_and_answers_from_the_result(cerebras_emulator, llm, outside):
    result = kickoff(llm("gpt-oss-120b"), "What is the weather in London?", tools=[get_weather])

    assert result.raw == "Here is the current weather: Light rain, 14 C"
    first, second = chat_requests(cerebras_emulator)
    assert [t["function"]["name"] for t in first["tools"]] == ["get_weather"]
    (call,) = second["messages"][-2]["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    result_message = second["messages"][-1]
    assert (result_message["role"], result_message["tool_call_id"]) == ("tool", call["id"])
    assert result_message["content"] == "Light rain, 14 C"
    assert outside == []


def test_the_crews_reasoning_effort_reaches_the_api(cerebras_emulator, llm, outside):
    # CrewAI sets litellm.drop_params=True, so a parameter LiteLLM thinks the provider lacks vanishes silently.
    kickoff(llm("gpt-oss-120b", reasoning_effort="low"), "What is the capital of France?")

    (sent,) = chat_requests(cerebras_emulator)
    assert sent["reasoning_effort"] == "low"
    assert outside == []


def test_the_crewai_recipe_runs_offline(recipe, outside):
    assert recipe("crewai/one_task_crew.py").main().raw == "The capital of France is Paris."
    assert outside == []
