"""mkdocs hook: fill generated content into the docs, so nothing is written twice.

``{{ options_table }}`` becomes the options reference generated from
``cerebras_adapters.options.ChatCompletionOptions`` (the same table README embeds), and ``{{ rules_table }}``
the table of request rules generated from ``cerebras_adapters._rules.RULES``.
"""

from __future__ import annotations

from typing import Any

from cerebras_adapters._rules import rules_markdown
from cerebras_adapters.options import options_markdown


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return markdown.replace("{{ options_table }}", options_markdown()).replace("{{ rules_table }}", rules_markdown())
