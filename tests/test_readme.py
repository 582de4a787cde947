"""README stays true: its options table is the one generated from the option declarations."""

from pathlib import Path

from cerebras_adapters.options import OPTION_NAMES, options_markdown

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_options_table_matches_the_declared_options():
    text = README.read_text()
    block = text.split("<!-- options-table:start -->")[1].split("<!-- options-table:end -->")[0].strip()
    assert block == options_markdown()
    for name in OPTION_NAMES:
        assert f"`{name}`" in block
