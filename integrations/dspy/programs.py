"""DSPy on Cerebras through our LiteLLM provider: ``Predict``, ``ChainOfThought`` and ``ReAct`` with
``dspy.LM("cerebras-adapters/gpt-oss-120b", reasoning_effort="low")``.

DSPy calls models through LiteLLM, so ``cerebras_adapters.litellm.register()`` is all the wiring it needs; the
provider's options (``reasoning_effort``, ``service_tier``, ...) go to ``dspy.LM`` as keywords.

    python integrations/dspy/programs.py

With CEREBRAS_API_KEY set it runs live; otherwise against the contract emulator, started in-process.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is imported

import dspy

from cerebras_adapters.litellm import register


class Answer(dspy.Signature):
    """Answer the question in one sentence and say how sure you are."""

    question: str = dspy.InputField()
    answer: str = dspy.OutputField()
    confidence: float = dspy.OutputField(desc="between 0 and 1")


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return {"london": "Light rain, 14 C", "tokyo": "Clear, 19 C"}.get(city.lower(), "Unknown city")


def run(**connection: Any) -> dict[str, dspy.Prediction]:
    register()
    # cache=False: every call reaches the model (DSPy caches identical calls on disk by default).
    lm = dspy.LM("cerebras-adapters/gpt-oss-120b", reasoning_effort="low", cache=False, **connection)
    results = {}
    with dspy.context(lm=lm):
        results["predict"] = dspy.Predict(Answer)(question="What is the capital of France?")
        results["chain_of_thought"] = dspy.ChainOfThought(Answer)(question="What is the capital of France?")
        results["react"] = dspy.ReAct("question -> answer", tools=[get_weather], max_iters=4)(
            question="What is the weather in London?"
        )
    for name, prediction in results.items():
        print(f"{name}: {prediction.answer}")
    return results


def main() -> dict[str, dspy.Prediction]:
    if os.environ.get("CEREBRAS_API_KEY"):
        return run()
    from cerebras_adapters.testing import EmulatorServer

    with EmulatorServer() as emulator:
        return run(api_base=emulator.base_url, api_key="csk-demo")


if __name__ == "__main__":
    main()
