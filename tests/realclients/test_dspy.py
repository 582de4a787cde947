"""DSPy modules on our LiteLLM provider: ``dspy.LM("cerebras-adapters/gpt-oss-120b", reasoning_effort="low", ...)``.

DSPy speaks to models through LiteLLM, so registering our provider is all it takes. Its adapters put the
signature in the prompt: the ChatAdapter reads each output field under a ``[[ ## field ## ]]`` marker, the
JSONAdapter asks for a JSON object (``json_schema``, or ``json_object`` when a field is an open mapping). Each
test counts the requests: a ChatAdapter that failed to parse would retry through the JSONAdapter and could hide
a failure. DSPy's cache is off, so every call reaches the emulator.
"""

from __future__ import annotations

from typing import Literal

import pytest

from cerebras_adapters.litellm import register

dspy = pytest.importorskip("dspy")  # the dev group installs it on Python < 3.14 only

MODEL = "cerebras-adapters/gpt-oss-120b"
WEATHER = {"london": "Light rain, 14 C", "tokyo": "Clear, 19 C"}


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return WEATHER.get(city.lower(), "Unknown city")


class Checked(dspy.Signature):
    """Answer the question and say how sure you are."""

    question: str = dspy.InputField()
    answer: str = dspy.OutputField()
    confidence: float = dspy.OutputField(desc="between 0 and 1")
    sources: list[str] = dspy.OutputField()
    verdict: Literal["certain", "unsure"] = dspy.OutputField()
    needs_followup: bool = dspy.OutputField()


@pytest.fixture(autouse=True)
def no_cache():
    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)


@pytest.fixture
def lm(cerebras_emulator, key):
    register()
    return dspy.LM(MODEL, reasoning_effort="low", api_base=cerebras_emulator.base_url, api_key=key, cache=False)


def chat_requests(emulator) -> list[dict]:
    return [r.json() for r in emulator.requests if r.path.endswith("/chat/completions")]


def test_predict_reads_the_answer_from_the_field_markers_in_one_request(lm, cerebras_emulator):
    with dspy.context(lm=lm, adapter=dspy.ChatAdapter()):
        result = dspy.Predict("question -> answer")(question="What is the capital of France?")

    assert result.answer == "The capital of France is Paris."
    (sent,) = chat_requests(cerebras_emulator)  # parsed the first time: no JSONAdapter fallback
    assert sent["model"] == "gpt-oss-120b" and sent["reasoning_effort"] == "low"
    assert "response_format" not in sent and "[[ ## answer ## ]]" in sent["messages"][0]["content"]


def test_chain_of_thought_gets_its_reasoning_and_typed_fields(lm, cerebras_emulator):
    with dspy.context(lm=lm, adapter=dspy.ChatAdapter()):
        result = dspy.ChainOfThought(Checked)(question="What is the capital of France?")

    assert result.reasoning == "France's capital city is Paris. One short sentence is enough."
    assert result.answer == "The capital of France is Paris."
    assert isinstance(result.confidence, float)
    assert isinstance(result.sources, list) and all(isinstance(s, str) for s in result.sources)
    assert result.verdict in ("certain", "unsure") and isinstance(result.needs_followup, bool)
    assert len(chat_requests(cerebras_emulator)) == 1


def test_json_adapter_gets_an_object_of_the_signature_fields(lm, cerebras_emulator):
    with dspy.context(lm=lm, adapter=dspy.JSONAdapter()):
        result = dspy.ChainOfThought(Checked)(question="What is the capital of France?")

    assert result.answer == "The capital of France is Paris." and result.reasoning
    assert isinstance(result.confidence, float) and result.verdict in ("certain", "unsure")
    (sent,) = chat_requests(cerebras_emulator)
    schema = sent["response_format"]["json_schema"]["schema"]
    assert list(schema["properties"]) == ["reasoning", "answer", "confidence", "sources", "verdict", "needs_followup"]


async def test_async_predict(lm, cerebras_emulator):
    with dspy.context(lm=lm, adapter=dspy.ChatAdapter()):
        result = await dspy.Predict("question -> answer").acall(question="What is the capital of France?")

    assert result.answer == "The capital of France is Paris."
    assert len(chat_requests(cerebras_emulator)) == 1


@pytest.mark.parametrize("adapter", ["ChatAdapter", "JSONAdapter"])
def test_react_calls_the_tool_then_finishes_and_answers_from_the_observation(lm, cerebras_emulator, adapter):
    with dspy.context(lm=lm, adapter=getattr(dspy, adapter)()):
        result = dspy.ReAct("question -> answer", tools=[get_weather], max_iters=5)(
            question="What is the weather in London?"
        )

    steps = result.trajectory
    assert (steps["tool_name_0"], steps["tool_args_0"]) == ("get_weather", {"city": "London"})
    assert steps["observation_0"] == "Light rain, 14 C"
    assert steps["tool_name_1"] == "finish"  # stops once it has the observation, well before max_iters
    assert "Light rain, 14 C" in result.answer
    sent = chat_requests(cerebras_emulator)
    assert len(sent) == 3  # two ReAct steps, then the extraction
    if adapter == "JSONAdapter":  # next_tool_args is an open mapping: JSON mode, shaped by the prompt
        assert sent[0]["response_format"] == {"type": "json_object"}


def test_the_dspy_recipe_runs_offline(recipe):
    results = recipe("dspy/programs.py").main()

    assert results["predict"].answer == "The capital of France is Paris."
    assert results["chain_of_thought"].reasoning and isinstance(results["chain_of_thought"].confidence, float)
    assert results["react"].trajectory["tool_name_0"] == "get_weather"
    assert "Light rain, 14 C" in results["react"].answer
