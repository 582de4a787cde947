"""Scenario files (YAML or JSON) decide what the emulator says; everything else is a deterministic default."""

from __future__ import annotations

import json
import sys

import pytest

from cerebras_adapters.testing.scenarios import DEFAULT_SCENARIOS_PATH, load_scenarios, parse_scenarios
from tests.emulator._helpers import WEATHER_TOOL, user

YAML = """\
- match: "favou?rite colou?r"
  reply: Blue, like the sky over a wafer fab.
  reasoning: Everyone likes blue.
- match: "secret"
  model: llama3.1-8b
  reply: Only llama knows.
- match: "book a table"
  reply: "Booked: {tool_result}"
  tool_calls:
    - name: reserve
      arguments: {people: 4}
- match: "profile"
  structured: {name: Ada, languages: [python]}
"""


def content(client, model: str, text: str, **extra) -> str:
    body = client.post("/chat/completions", json={"model": model, "messages": user(text), **extra}).json()
    return str(body["choices"][0]["message"].get("content"))


@pytest.fixture
def yaml_file(tmp_path):
    path = tmp_path / "scenarios.yaml"
    path.write_text(YAML)
    return path


def test_yaml_scenario_reply_and_reasoning(client, cerebras_emulator, yaml_file):
    cerebras_emulator.configure(scenarios=str(yaml_file))
    body = client.post(
        "/chat/completions", json={"model": "gpt-oss-120b", "messages": user("What's your favorite color?")}
    ).json()
    message = body["choices"][0]["message"]
    assert message["content"] == "Blue, like the sky over a wafer fab."
    assert message["reasoning"] == "Everyone likes blue."


def test_json_scenario_file(client, cerebras_emulator, tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps([{"match": "ping", "reply": "pong"}]))
    cerebras_emulator.configure(scenarios=path)
    assert content(client, "llama3.1-8b", "ping?") == "pong"


def test_scenarios_can_be_given_inline(client, cerebras_emulator):
    cerebras_emulator.configure(scenarios=[{"match": "^marco$", "reply": "polo"}])
    assert content(client, "llama3.1-8b", "Marco") == "polo"


def test_model_restricted_scenario(client, cerebras_emulator, yaml_file):
    cerebras_emulator.configure(scenarios=yaml_file)
    assert content(client, "llama3.1-8b", "tell me the secret") == "Only llama knows."
    assert content(client, "llama-3.3-70b", "tell me the secret") != "Only llama knows."


def test_scenario_tool_call_and_the_reply_after_it(client, cerebras_emulator, yaml_file):
    cerebras_emulator.configure(scenarios=yaml_file)
    tool = {
        "type": "function",
        "function": {
            "name": "reserve_table",
            "parameters": {
                "type": "object",
                "properties": {"people": {"type": "integer"}, "time": {"type": "string"}},
                "required": ["people", "time"],
            },
        },
    }
    body = client.post(
        "/chat/completions", json={"model": "llama3.1-8b", "messages": user("Please book a table"), "tools": [tool]}
    ).json()
    call = body["choices"][0]["message"]["tool_calls"][0]
    assert call["function"]["name"] == "reserve_table"
    assert json.loads(call["function"]["arguments"]) == {"people": 4, "time": "example time"}
    messages = [
        *user("Please book a table"),
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "table 7 at 8pm"},
    ]
    after = client.post(
        "/chat/completions", json={"model": "llama3.1-8b", "messages": messages, "tools": [tool]}
    ).json()
    assert after["choices"][0]["message"]["content"] == "Booked: table 7 at 8pm"


def test_structured_scenario_answers_json_formats(client, cerebras_emulator, yaml_file):
    cerebras_emulator.configure(scenarios=yaml_file)
    text = content(client, "llama3.1-8b", "make a profile", response_format={"type": "json_object"})
    assert json.loads(text) == {"name": "Ada", "languages": ["python"]}


def test_default_scenarios_ship_with_the_package(client):
    assert DEFAULT_SCENARIOS_PATH.is_file()
    assert content(client, "llama3.1-8b", "What is 2+2?") == "4"
    assert content(client, "llama3.1-8b", "What is the capital of France?") == "The capital of France is Paris."


def test_default_weather_scenario_calls_a_weather_tool(client):
    body = client.post(
        "/chat/completions",
        json={"model": "llama3.1-8b", "tools": [WEATHER_TOOL], "messages": user("How is the weather in Lisbon today?")},
    ).json()
    call = body["choices"][0]["message"]["tool_calls"][0]
    assert json.loads(call["function"]["arguments"]) == {"city": "Lisbon", "unit": "celsius"}


def test_default_scenarios_can_be_switched_off(client, cerebras_emulator):
    cerebras_emulator.configure(default_scenarios=False)
    assert content(client, "llama3.1-8b", "What is 2+2?") != "4"


def test_invalid_scenario_entries_are_reported():
    with pytest.raises(ValueError, match="unknown keys"):
        parse_scenarios([{"match": "x", "answer": "y"}])
    with pytest.raises(ValueError, match="regular expression"):
        parse_scenarios([{"match": "(", "reply": "y"}])


def test_yaml_without_pyyaml_says_so(yaml_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(RuntimeError, match="PyYAML is not installed"):
        load_scenarios(yaml_file)


def test_unknown_option_names_are_rejected(cerebras_emulator):
    with pytest.raises(TypeError, match="unknown emulator option"):
        cerebras_emulator.configure(token_per_second=5)
