"""Structured extraction: a pydantic model in, a validated instance out (strict json_schema by default)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from cerebras_adapters.langchain import ChatCerebras


class Capital(BaseModel):
    """A country's capital city."""

    city: str = Field(description="The capital city")
    country: str = Field(description="The country")
    population_millions: float | None = Field(default=None, description="Population in millions, if known")


def main() -> Capital:
    extractor = ChatCerebras(model="gpt-oss-120b", reasoning_effort="low").with_structured_output(Capital)
    result = extractor.invoke("What is the capital of France?")
    assert isinstance(result, Capital)
    print(result)
    return result


if __name__ == "__main__":
    main()
