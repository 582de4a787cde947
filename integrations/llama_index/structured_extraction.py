"""Structured extraction with LlamaIndex on Cerebras: a pydantic model in, a validated instance out.

``structured_predict`` and ``as_structured_llm`` send a strict ``json_schema`` response format (the schema made
strict-compatible; the model's answer is constrained to it) on models whose catalog entry has structured outputs.

    python integrations/llama_index/structured_extraction.py [model]

With CEREBRAS_API_KEY set it runs live; otherwise against the contract emulator, started in-process.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel, Field

from cerebras_adapters.llama_index import Cerebras


class Capital(BaseModel):
    """A country's capital city."""

    country: str = Field(description="The country")
    capital: str = Field(description="Its capital city")


def run(model: str, **connection: Any) -> tuple[Capital, Capital]:
    llm = Cerebras(model=model, reasoning_effort="low", **connection)
    # 1. One call, one object.
    first = llm.structured_predict(Capital, PromptTemplate("What is the capital of {country}?"), country="France")
    print(first)
    # 2. An LLM whose every answer is the object (what query engines and agents take as their llm).
    response = llm.as_structured_llm(Capital).chat([ChatMessage(role="user", content="The capital of France?")])
    second = response.raw
    assert isinstance(second, Capital)
    print(second)
    return first, second


def main(model: str = "gpt-oss-120b") -> tuple[Capital, Capital]:
    if os.environ.get("CEREBRAS_API_KEY"):
        return run(model)
    from cerebras_adapters.testing import EmulatorServer

    with EmulatorServer() as emulator:
        return run(model, api_base=emulator.base_url, api_key="csk-demo")


if __name__ == "__main__":
    main(*sys.argv[1:2])
