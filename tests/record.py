"""`make record`: (re-)record every cassette-backed test.

Live against Cerebras / OpenRouter for each route whose key is set (CEREBRAS_API_KEY, OPENROUTER_API_KEY);
against the contract emulator for the others. Pass pytest arguments to narrow it down, e.g.
``python -m tests.record -k plain_call``.
"""

from __future__ import annotations

import os
import sys

import pytest


def main(argv: list[str]) -> int:
    hosts = ["127.0.0.1", "::1", "localhost"]
    if os.environ.get("CEREBRAS_API_KEY"):
        hosts.append("api.cerebras.ai")
    if os.environ.get("OPENROUTER_API_KEY"):
        hosts.append("openrouter.ai")
    args = ["-m", "vcr", "--record-mode=rewrite", f"--allow-hosts={','.join(hosts)}", "-p", "no:randomly", *argv]
    return int(pytest.main(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
