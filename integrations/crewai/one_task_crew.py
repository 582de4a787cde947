"""A one-task CrewAI crew on Cerebras through our LiteLLM provider: ``crewai.LLM(model="cerebras-adapters/...")``.

CrewAI falls back to LiteLLM for a provider it has no native client for, so registering ``cerebras-adapters``
with LiteLLM is all the wiring it needs. CrewAI's telemetry and tracing are switched off here through its
documented environment variables (set before crewai is imported).

    python integrations/crewai/one_task_crew.py [model]

CrewAI needs its own environment (its mcp requirement conflicts with litellm[proxy] in the dev group):
``UV_PROJECT_ENVIRONMENT=.venv-crewai uv sync --locked --no-default-groups --group crewai``, then run this
with ``.venv-crewai/bin/python``. With CEREBRAS_API_KEY set it runs live; otherwise against the contract
emulator, started in-process.
"""

from __future__ import annotations

import os
import sys
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is imported
os.environ.setdefault("CREWAI_DISABLE_TELEMETRY", "true")
os.environ.setdefault("OTEL_SDK_DISABLED", "true")
os.environ.setdefault("CREWAI_TRACING_ENABLED", "false")
os.environ.setdefault("CREWAI_DISABLE_VERSION_CHECK", "true")

from crewai import LLM, Agent, Crew, CrewOutput, Task

from cerebras_adapters.litellm import register


def run(model: str, **connection: Any) -> CrewOutput:
    register()
    llm = LLM(model=f"cerebras-adapters/{model}", **connection)
    geographer = Agent(
        role="Geographer",
        goal="Answer geography questions in one sentence",
        backstory="You know every country's capital.",
        llm=llm,
        verbose=False,
    )
    task = Task(
        description="What is the capital of France?", expected_output="One sentence naming the city.", agent=geographer
    )
    result = Crew(agents=[geographer], tasks=[task], verbose=False).kickoff()
    print(result.raw)
    return result


def main(model: str = "gpt-oss-120b") -> CrewOutput:
    if os.environ.get("CEREBRAS_API_KEY"):
        return run(model)
    from cerebras_adapters.testing import EmulatorServer

    with EmulatorServer() as emulator:
        return run(model, base_url=emulator.base_url, api_key="csk-demo")


if __name__ == "__main__":
    main(*sys.argv[1:])
