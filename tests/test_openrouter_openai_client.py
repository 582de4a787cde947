"""The OpenRouter guide's web-search request sent by a client nobody here wrote: the openai SDK, whose own types parse
the emulator's citations. If the emulator's annotation shape drifted from OpenAI's schema (which OpenRouter uses), the
SDK's ``AnnotationURLCitation`` would not parse it, whatever our own client accepts.

The same request then goes through our core, which must read the same citations off the same wire.
"""

from __future__ import annotations

import openai
import pytest
from openai.types.chat.chat_completion_message import AnnotationURLCitation

from cerebras_adapters import CerebrasClient

QUESTION = "What are the latest developments in quantum computing?"
PIN = {"order": ["cerebras"], "allow_fallbacks": False}
PLUGIN = {"id": "web", "max_results": 3, "search_prompt": "Some relevant web results:"}


@pytest.fixture
def sdk(cerebras_emulator) -> openai.OpenAI:
    return openai.OpenAI(base_url=cerebras_emulator.openrouter_base_url, api_key="or-" + "test" * 4, max_retries=0)


def _spans(content: str, citations: list[tuple[str, int, int]]) -> None:
    for url, start, end in citations:
        assert 0 <= start < end <= len(content)
        assert url in content[start:end]  # each citation points at its own link in the answer


def test_the_openai_sdk_parses_the_citations_of_a_web_search(sdk):
    completion = sdk.chat.completions.create(
        model="openai/gpt-oss-120b",
        messages=[{"role": "user", "content": QUESTION}],
        extra_body={"provider": PIN, "plugins": [PLUGIN]},
    )
    annotations = completion.choices[0].message.annotations
    assert annotations is not None and len(annotations) == 3
    assert all(isinstance(a.url_citation, AnnotationURLCitation) for a in annotations)
    content = completion.choices[0].message.content or ""
    _spans(content, [(a.url_citation.url, a.url_citation.start_index, a.url_citation.end_index) for a in annotations])


def test_the_openai_sdk_and_our_core_read_the_same_citations(sdk, cerebras_emulator):
    theirs = sdk.chat.completions.create(
        model="openai/gpt-oss-120b:online",
        messages=[{"role": "user", "content": QUESTION}],
        extra_body={"provider": PIN},
    )
    with CerebrasClient(
        route="openrouter", base_url=cerebras_emulator.openrouter_base_url, api_key="or-" + "test" * 4
    ) as client:
        ours = client.chat.completions.create(
            model="gpt-oss-120b:online", messages=[{"role": "user", "content": QUESTION}]
        )
        streamed = client.chat.completions.create(
            model="gpt-oss-120b:online", messages=[{"role": "user", "content": QUESTION}], stream=True
        ).get_final_completion()

    def urls(annotations: list) -> list[tuple[str, int, int]]:
        return [(a.url_citation.url, a.url_citation.start_index, a.url_citation.end_index) for a in annotations]

    expected = urls(theirs.choices[0].message.annotations or [])
    assert len(expected) == 5  # OpenRouter's default max_results
    assert urls(ours.choices[0].message.annotations or []) == expected
    assert urls(streamed.choices[0].message.annotations or []) == expected
    assert ours.choices[0].message.content == theirs.choices[0].message.content == streamed.choices[0].message.content
    assert ours.generation_id == ours.id and ours.id.startswith("gen-")
