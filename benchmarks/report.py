"""What every benchmark suite shares: the machine description, markdown tables, and ``docs/benchmarks.md``.

A suite measures and renders one ``Section``; this module prints sections and splices them into
``docs/benchmarks.md`` between ``<!-- bench:SLUG:start -->`` / ``<!-- bench:SLUG:end -->`` markers, so
re-running one suite replaces its own section and leaves the others (LangChain, LiteLLM, SDK peers…) as
they were. It times nothing itself.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "DOC_PATH",
    "Section",
    "Suite",
    "environment",
    "environment_markdown",
    "given",
    "markdown_table",
    "run_cli",
    "write_sections",
]

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"

_DOC_HEADER = """# Benchmarks

Written by `python -m benchmarks --write` (all suites; `python -m benchmarks SUITE --write` runs and
rewrites one; `make bench` runs them all and prints the same tables). Each `##` section is one suite;
re-running a suite replaces only its own section. Every figure in a section was measured in one run, with
the contenders taken side by side (interleaved) in the same process, and is a median. Speed is reported
here, never asserted in tests.
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
        if dist == "cerebras-adapters":
            info["cerebras-adapters source"] = _source_state()
    return info


def _source_state() -> str:
    """The commit the measured code is at, and whether ``src/`` had uncommitted changes."""
    root = DOC_PATH.parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head} + uncommitted changes in src/" if dirty else head


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


COMMON_DEFAULTS = {"repeats": 1000, "stream_repeats": 200, "chunks": 1000}


def given(args: argparse.Namespace, name: str, default: int) -> int:
    """A common option's value if the user gave it, else the suite's own ``default``."""
    value: int = getattr(args, name) if name in getattr(args, "explicit", ()) else default
    return value


@dataclass(frozen=True)
class Suite:
    """A benchmark suite as the command line runs it: ``measure(args)`` takes the parsed options and returns
    its section. The common options (``repeats``, ``stream_repeats``, ``chunks``) always hold a number (the
    core suite's defaults unless given); ``args.explicit`` names those the user gave, so a suite with other
    defaults can tell them apart. ``add_arguments`` adds the suite's own options to the parser."""

    slug: str
    title: str
    measure: Callable[[argparse.Namespace], Section]
    add_arguments: Callable[[Any], None] | None = None  # takes an argparse argument group


def run_cli(argv: Sequence[str] | None, suites: Sequence[Suite], prog: str) -> int:
    """Run ``suites`` (all, or those named), print their sections, and with ``--write`` update
    ``docs/benchmarks.md``."""
    parser = argparse.ArgumentParser(prog=prog, description="Micro-benchmarks against a loopback server.")
    slugs = [s.slug for s in suites]
    if len(suites) > 1:
        parser.add_argument(
            "suites", nargs="*", metavar="SUITE", help=f"run only these suites ({', '.join(slugs)}; default: all)"
        )
        parser.add_argument("--suite", action="append", default=[], choices=slugs, help="same as naming SUITE")
    parser.add_argument("--write", action="store_true", help=f"update {DOC_PATH.name} with the results")
    parser.add_argument("--check", action="store_true", help="exit 1 when a result misses its bound")
    parser.add_argument("--repeats", type=int, help="timed repeats per non-streamed workload (default: per suite)")
    parser.add_argument("--stream-repeats", type=int, help="timed repeats per streamed workload (default: per suite)")
    parser.add_argument("--chunks", type=int, help="content chunks per streamed response (default: 1000)")
    for suite in suites:
        if suite.add_arguments is not None:
            suite.add_arguments(parser.add_argument_group(f"{suite.slug} suite"))
    args = parser.parse_args(argv)
    args.explicit = frozenset(name for name in COMMON_DEFAULTS if getattr(args, name) is not None)
    for name, value in COMMON_DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    named = [*getattr(args, "suites", []), *getattr(args, "suite", [])]
    unknown = sorted(set(named) - set(slugs))
    if unknown:
        parser.error(f"unknown suite {unknown[0]!r} (choose from {', '.join(slugs)})")
    chosen = [s for s in suites if not named or s.slug in named]
    sections = []
    for suite in chosen:
        print(f"running {suite.slug}…", file=sys.stderr, flush=True)
        section = suite.measure(args)
        sections.append(section)
        print(section.markdown())
    if args.write:
        print(f"wrote {write_sections(sections)}", file=sys.stderr)
    return 1 if args.check and not all(s.ok for s in sections) else 0


class GCPauses:
    """Full (generation 2) collections of this process between ``start`` and ``stop``: how many, the longest, and
    their total (``gc.callbacks``)."""

    def __init__(self) -> None:
        self._began = 0.0
        self._on = False
        self.count = 0
        self.longest = 0.0
        self.total = 0.0  # seconds

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if not self._on or info.get("generation") != 2:
            return
        if phase == "start":
            self._began = time.perf_counter()
        else:
            took = time.perf_counter() - self._began
            self.count += 1
            self.longest = max(self.longest, took)
            self.total += took

    def start(self) -> GCPauses:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)
        self.count, self.longest, self.total, self._on = 0, 0.0, 0.0, True
        return self

    def stop(self) -> tuple[int, float]:
        """How many full collections ran, and the longest in milliseconds."""
        self._on = False
        return self.count, self.longest * 1000

    def close(self) -> None:
        """Stop watching for good (the callback leaves ``gc.callbacks``)."""
        self._on = False
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)
