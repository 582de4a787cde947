"""``python -m benchmarks``: run every suite, print markdown tables; ``--write`` updates docs/benchmarks.md.

A new suite (LangChain, LiteLLM, other SDKs…) is a module exposing a ``report.Suite``, added to ``SUITES``;
it gets its own ``##`` section in the document.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import core_vs_httpx
from .report import Suite, run_cli

SUITES: list[Suite] = [core_vs_httpx.SUITE]


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(argv, SUITES, prog="python -m benchmarks")


if __name__ == "__main__":
    raise SystemExit(main())
