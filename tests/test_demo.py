"""README's first command: the demo runs end to end offline and shows each thing it promises."""

from __future__ import annotations

import io

from cerebras_adapters.cli import main
from cerebras_adapters.demo import run


def test_demo_runs_offline_on_the_emulator_and_shows_every_part():
    out = io.StringIO()
    assert run(out=out) == 0
    text = out.getvalue()
    assert "the contract emulator" in text
    for section in ("Streamed answer with reasoning", "Tool call round trip", "Structured output",
                    "LangChain: ChatCerebras", "LiteLLM: a Router", "LlamaIndex: Cerebras"):
        assert f"== {section}" in text, section
    assert "[reasoning]" in text and "[answer]" in text
    assert "model calls get_weather(" in text and "tool answers:" in text
    assert '"city": "Paris"' in text
    assert "tokens/s end to end" in text and "server: queue" in text  # usage, tokens per second, time_info
    assert "rate limits:" in text and "tokens this minute" in text
    assert "reasoning_content" in text and "usage_metadata" in text
    assert "ThinkingBlock" in text and "metadata from the catalog: context_window=131072" in text
    assert "router.completion(model='fast')" in text and "Cerebras answered 429 -> served through openrouter" in text
    assert text.rstrip().endswith("Done.")


def test_demo_shows_the_openrouter_route_too():
    out = io.StringIO()
    assert run(out=out, route="openrouter") == 0
    text = out.getvalue()
    assert "/api/v1" in text and "cost $" in text


def test_demo_is_a_cli_command(capsys):
    assert main(["demo", "--route", "cerebras"]) == 0
    assert "Done." in capsys.readouterr().out
