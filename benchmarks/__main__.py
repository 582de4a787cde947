"""``python -m benchmarks [SUITE ...]``: run the suites (all by default), print markdown tables; ``--write``
updates their sections of docs/benchmarks.md.

Suites: ``core-vs-httpx`` (the core client's price over raw httpx, on a bare loopback server), ``peers``
(every Python path to Cerebras side by side on the contract emulator, import time included) and
``langchain`` (our ChatCerebras against langchain-cerebras 0.8.2 and LangChain's own floor) and
``litellm-provider`` (our LiteLLM provider against LiteLLM's built-in ``cerebras/``), ``llama-index`` (our
LlamaIndex LLM against llama-index-llms-cerebras and LlamaIndex's own floor), ``load`` and ``streams`` (K
full-speed streams per client core). A new suite is
a module exposing a ``report.Suite``, added to ``SUITES``; it gets its own ``##`` section in the document.
Peer suites need the ``bench`` dependency group (``uv sync --group dev --group bench``); missing peers are
reported as such.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import core_vs_httpx, governor, langchain_chat, litellm_provider, llama_index_chat, load, peers, streams
from .report import Suite, run_cli

SUITES: list[Suite] = [
    core_vs_httpx.SUITE,
    peers.SUITE,
    langchain_chat.SUITE,
    litellm_provider.SUITE,
    llama_index_chat.SUITE,
    load.SUITE,
    streams.SUITE,
    governor.SUITE,
]


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(argv, SUITES, prog="python -m benchmarks")


if __name__ == "__main__":
    raise SystemExit(main())
