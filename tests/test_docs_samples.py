"""Every Python sample in docs/ runs, against the contract emulator (the environment points the clients there).

A sample preceded by ``<!-- sample: not run ... -->`` is a template (e.g. for the reader's own tests) and is
skipped by design; every other ```python block must run as written.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"(?P<before>[^\n]*)\n```python\n(?P<code>.*?)\n```", re.S)


def samples() -> list[tuple[str, str]]:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        for i, match in enumerate(BLOCK.finditer(page.read_text())):
            if "sample: not run" in match.group("before"):
                continue
            found.append((f"{page.name}#{i}", match.group("code")))
    return found


SAMPLES = samples()


def test_the_docs_have_samples():
    assert len(SAMPLES) >= 8


@pytest.mark.parametrize(("name", "code"), SAMPLES, ids=[name for name, _ in SAMPLES])
def test_docs_sample_runs(name, code, cerebras_emulator, monkeypatch, capsys):
    monkeypatch.setenv("CEREBRAS_API_KEY", "csk-docs")
    monkeypatch.setenv("CEREBRAS_BASE_URL", cerebras_emulator.base_url)
    monkeypatch.setenv("OPENROUTER_API_KEY", "or-docs")
    monkeypatch.setenv("OPENROUTER_BASE_URL", cerebras_emulator.openrouter_base_url)
    exec(compile(code, name, "exec"), {"__name__": "__docs_sample__"})
    assert capsys.readouterr().out.strip(), f"{name} printed nothing"
