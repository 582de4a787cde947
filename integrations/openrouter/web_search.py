"""Web search on the OpenRouter route, as OpenRouter's Cerebras guide shows it ("Web Search Integration"): the ``web``
plugin with ``max_results`` and ``search_prompt``, and the ``:online`` model suffix that stands for it, through the
core client, LangChain and LiteLLM. Each prints the answer's url citations: ``message.annotations`` (core, LiteLLM),
standard ``citation`` annotations in ``content_blocks`` (LangChain).

    python integrations/openrouter/web_search.py

With OPENROUTER_API_KEY set it runs live (still served by Cerebras: the route pins the provider); otherwise against
the contract emulator started in-process, whose search results are made up and never fetched.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is imported

import litellm

from cerebras_adapters import CerebrasClient
from cerebras_adapters.langchain import ChatCerebras
from cerebras_adapters.litellm import register

QUESTION = "What are the latest developments in quantum computing in 2024?"
WEB = {
    "id": "web",
    "max_results": 5,
    "search_prompt": "Use the following current web search results to answer the user:",
}


def run(base_url: str | None = None, api_key: str | None = None) -> dict[str, list[str]]:
    """Ask QUESTION with web search through each adapter; the cited urls of each answer."""
    cited: dict[str, list[str]] = {}
    messages = [{"role": "user", "content": QUESTION}]

    with CerebrasClient(route="openrouter", base_url=base_url, api_key=api_key) as client:
        answer = client.chat.completions.create(model="gpt-oss-120b", messages=messages, plugins=[WEB])
        cited["core"] = show("core", answer.choices[0].message.content, [
            note.url_citation.url for note in answer.choices[0].message.annotations or () if note.url_citation
        ])
        # "<model>:online" is the same request with the web plugin's defaults (5 results).
        online = client.chat.completions.create(model="gpt-oss-120b:online", messages=messages)
        cited["core :online"] = show("core :online", None, [
            note.url_citation.url for note in online.choices[0].message.annotations or () if note.url_citation
        ])

    llm = ChatCerebras(model="gpt-oss-120b", route="openrouter", plugins=[WEB], base_url=base_url, api_key=api_key)
    message = llm.invoke(QUESTION)
    cited["langchain"] = show("langchain", message.text, [
        note["url"]
        for block in message.content_blocks
        if block["type"] == "text"
        for note in block.get("annotations", [])
        if note["type"] == "citation"
    ])

    register()
    response: Any = litellm.completion(
        model="cerebras-adapters/gpt-oss-120b",
        messages=messages,
        route="openrouter",
        plugins=[WEB],
        api_base=base_url,
        api_key=api_key,
    )
    cited["litellm"] = show("litellm", response.choices[0].message.content, [
        note["url_citation"]["url"] for note in response.choices[0].message.annotations or ()
    ])
    return cited


def show(name: str, text: str | None, urls: list[str]) -> list[str]:
    print(f"--- {name}")
    if text:
        print(text)
    for url in urls:
        print(f"  cites {url}")
    return urls


def main() -> dict[str, list[str]]:
    if os.environ.get("OPENROUTER_API_KEY"):
        return run()
    from cerebras_adapters.testing import EmulatorServer

    with EmulatorServer(tokens_per_second=5000) as emulator:
        return run(emulator.openrouter_base_url, "or-demo")


if __name__ == "__main__":
    main()
