"""mkdocs hook: fill generated content into the docs, so nothing is written twice.

``{{ options_table }}`` becomes the options reference generated from
``cerebras_adapters.options.ChatCompletionOptions`` (the same table README embeds).
"""

from __future__ import annotations

from typing import Any

from cerebras_adapters.options import options_markdown


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return markdown.replace("{{ options_table }}", options_markdown())
