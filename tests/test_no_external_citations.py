"""Citations in ``src/`` point at this repository's own record, ``docs/api-facts.md``.

Comments, docstrings and strings once cited reference files kept outside the repository (``cerebras-api.md §1.1``,
``openrouter.md``, ``litellm.md``, ``langchain.md``, bare ``§N.N``, checklist items, ``../shared/reference/``).
A reader of this repository cannot open those, so every fact is cited as ``docs/api-facts.md#<anchor>`` instead,
and recordings as ``RT-NN`` (defined in the Recordings table of that page). Public standards (``RFC 9110 §5.5``)
stay as they are.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
FACTS = ROOT / "docs" / "api-facts.md"

# This repository's own pages (docs/langchain.md, docs/litellm.md, docs/openrouter.md) share some names: citing
# them by their docs/ path is fine.
_EXTERNAL_DOC = re.compile(r"(?<!docs/)(cerebras-api|openrouter|litellm|langchain)\.md")
_CHECKLIST = re.compile(r"checklist", re.IGNORECASE)
_SHARED_REFERENCE = re.compile(r"shared/reference")
_SECTION = re.compile(r"§")
_RFC_BEFORE = re.compile(r"RFC \d+ $")
_RT_ID = re.compile(r"\bRT-(\d{2})\b")
_RT_RANGE = re.compile(r"\bRT-(\d{2})\s*(?:\.\.|…|–)\s*RT-(\d{2})\b")
_FACTS_ANCHOR = re.compile(r"api-facts\.md#([A-Za-z0-9_-]+)")
# Shorthand anchors chained after a full citation ("docs/api-facts.md#responses and #streaming"); only the
# hyphenated form, so issue numbers (cline/cline#5140) and other '#' uses are not taken for anchors.
_SHORT_ANCHOR = re.compile(r"(?<![\w/&#])#([a-z][a-z0-9]*(?:-[a-z0-9]+)+)\b")


def _source_files() -> list[Path]:
    return sorted(
        p for p in SRC.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".pyo"}
    )


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def _slugify(value: str) -> str:
    """The slug Python-Markdown's ``toc`` extension (mkdocs' default) gives a heading."""
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def _heading_slugs() -> set[str]:
    slugs: set[str] = set()
    in_fence = False
    for line in FACTS.read_text(encoding="utf-8").splitlines():
        if re.match(r"\s*(```|~~~)", line):
            in_fence = not in_fence
            continue
        m = None if in_fence else re.match(r"(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if m:
            title = re.sub(r"`([^`]*)`", r"\1", m.group(2))
            title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)
            base = _slugify(title)
            slug, n = base, 0
            while slug in slugs:  # toc's unique(): repeated headings get _1, _2, ...
                n += 1
                slug = f"{base}_{n}"
            slugs.add(slug)
    return slugs


def _recording_ids() -> set[str]:
    text = FACTS.read_text(encoding="utf-8")
    start = text.index("\n## Recordings")
    nxt = re.search(r"\n## ", text[start + 1 :])
    section = text[start : start + 1 + nxt.start()] if nxt else text[start:]
    return set(re.findall(r"^\|\s*(RT-\d{2})\s*\|", section, re.MULTILINE))


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def test_facts_page_has_headings_and_recordings() -> None:
    # Guards the checks below against passing vacuously.
    assert "recordings" in _heading_slugs()
    assert len(_recording_ids()) >= 16


def test_no_citation_of_files_outside_the_repository() -> None:
    found: list[str] = []
    for path in _source_files():
        text = _text(path)
        rel = path.relative_to(ROOT)
        for pattern in (_EXTERNAL_DOC, _CHECKLIST, _SHARED_REFERENCE):
            for m in pattern.finditer(text):
                found.append(f"{rel}:{_line_of(text, m.start())}: {m.group(0)!r}")
        for m in _SECTION.finditer(text):
            before = text[max(0, m.start() - 20) : m.start()]
            if not _RFC_BEFORE.search(before):
                found.append(f"{rel}:{_line_of(text, m.start())}: '§' without 'RFC <number> ' before it")
    assert not found, "cite docs/api-facts.md#<anchor> instead of:\n" + "\n".join(found)


def test_recording_ids_are_defined() -> None:
    defined = _recording_ids()
    missing: list[str] = []
    for path in _source_files():
        text = _text(path)
        used = {f"RT-{n}" for n in _RT_ID.findall(text)}
        for lo, hi in _RT_RANGE.findall(text):
            used.update(f"RT-{n:02d}" for n in range(int(lo), int(hi) + 1))
        missing += [f"{path.relative_to(ROOT)}: {rt}" for rt in sorted(used - defined)]
    assert not missing, "RT ids not in docs/api-facts.md#recordings:\n" + "\n".join(missing)


@pytest.mark.parametrize("pattern", [_FACTS_ANCHOR, _SHORT_ANCHOR], ids=["full", "shorthand"])
def test_cited_anchors_exist(pattern: re.Pattern[str]) -> None:
    slugs = _heading_slugs()
    bad: list[str] = []
    for path in _source_files():
        text = _text(path)
        for m in pattern.finditer(text):
            if m.group(1) not in slugs:
                bad.append(f"{path.relative_to(ROOT)}:{_line_of(text, m.start())}: #{m.group(1)}")
    assert not bad, "anchors not among docs/api-facts.md's headings:\n" + "\n".join(bad)


def test_slugify_matches_toc() -> None:
    assert _slugify("Tool-call conversations") == "tool-call-conversations"
    assert _slugify("Context-length errors") == "context-length-errors"
    assert _slugify("Rate-limit values") == "rate-limit-values"
