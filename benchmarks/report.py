"""What every benchmark suite shares: the machine description, markdown tables, and ``docs/benchmarks.md``.

A suite measures and renders one ``Section``; this module prints sections and splices them into
``docs/benchmarks.md`` between ``<!-- bench:SLUG:start -->`` / ``<!-- bench:SLUG:end -->`` markers, so
re-running one suite replaces its own section and leaves the others (LangChain, LiteLLM, SDK peers…) as
they were. It times nothing itself.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

__all__ = [
    "DOC_PATH",
    "Section",
    "Suite",
    "environment",
    "environment_markdown",
    "markdown_table",
    "run_cli",
    "write_sections",
]

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"

_DOC_HEADER = """# Benchmarks

Written by `python -m benchmarks --write` (`make bench` runs the suites and prints the same tables). Each
`##` section is one suite; re-running a suite replaces only its own section. Every figure in a section was
measured in one run, with the contenders taken side by side (interleaved) in the same process, and is a
median. Speed is reported here, never asserted in tests.
"""


@dataclass(frozen=True)
class Section:
    """One suite's part of the report: ``## title`` then ``body`` (markdown with ``###`` sub-headings)."""

    slug: str
    title: str
    body: str
    ok: bool = True  # every measured figure within its bound

    def markdown(self) -> str:
        return f"## {self.title}\n\n{self.body.strip()}\n"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


_PACKAGES = ("cerebras-adapters", "httpx", "httpcore", "h11", "pydantic", "pydantic-core")


def environment(packages: Iterable[str] = _PACKAGES) -> dict[str, str]:
    """The machine and the versions a figure depends on."""
    info = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "cpu count": str(os.cpu_count()),
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
    }
    for dist in packages:
        info[dist] = _version(dist)
    return info


def environment_markdown(info: dict[str, str]) -> str:
    return "\n".join(f"- {name}: `{value}`" for name, value in info.items())


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _markers(slug: str) -> tuple[str, str]:
    return f"<!-- bench:{slug}:start -->", f"<!-- bench:{slug}:end -->"


def write_sections(sections: Iterable[Section], path: Path = DOC_PATH) -> Path:
    """Put each section into ``path`` in place of its previous version (appended when new)."""
    text = path.read_text(encoding="utf-8") if path.exists() else _DOC_HEADER
    for section in sections:
        start, end = _markers(section.slug)
        block = f"{start}\n{section.markdown()}{end}"
        pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
        found = pattern.search(text)
        if found:
            text = text[: found.start()] + block + text[found.end() :]
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class Suite:
    """A benchmark suite as the command line runs it: ``measure(args)`` takes the parsed common options
    (``repeats``, ``stream_repeats``, ``chunks``) and returns its section."""

    slug: str
    title: str
    measure: Callable[[argparse.Namespace], Section]


def run_cli(argv: Sequence[str] | None, suites: Sequence[Suite], prog: str) -> int:
    """Run ``suites``, print their sections, and with ``--write`` update ``docs/benchmarks.md``."""
    parser = argparse.ArgumentParser(prog=prog, description="Micro-benchmarks against a loopback server.")
    parser.add_argument("--write", action="store_true", help=f"update {DOC_PATH.name} with the results")
    parser.add_argument("--check", action="store_true", help="exit 1 when a result misses its bound")
    parser.add_argument("--repeats", type=int, default=1000, help="timed repeats per non-streamed workload")
    parser.add_argument("--stream-repeats", type=int, default=200, help="timed repeats per streamed workload")
    parser.add_argument("--chunks", type=int, default=1000, help="events per streamed response")
    if len(suites) > 1:
        parser.add_argument(
            "--suite", action="append", choices=[s.slug for s in suites], help="run only this suite (repeatable)"
        )
    args = parser.parse_args(argv)
    chosen = [s for s in suites if not getattr(args, "suite", None) or s.slug in args.suite]
    sections = []
    for suite in chosen:
        print(f"running {suite.slug}…", file=sys.stderr, flush=True)
        section = suite.measure(args)
        sections.append(section)
        print(section.markdown())
    if args.write:
        print(f"wrote {write_sections(sections)}", file=sys.stderr)
    return 1 if args.check and not all(s.ok for s in sections) else 0
