"""The emulator is a model of the server written from the reference: it must not import the client's code."""

from __future__ import annotations

import ast
from pathlib import Path

import cerebras_adapters.testing as testing

TESTING_DIR = Path(testing.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside cerebras_adapters.testing unless it climbs out
                if node.level > 1:
                    names.add("cerebras_adapters." + (node.module or ""))
            elif node.module:
                names.add(node.module)
    return names


def test_no_emulator_module_imports_the_client():
    offenders = {
        path.name: sorted(
            n
            for n in _imports(path)
            if n.startswith("cerebras_adapters") and not n.startswith("cerebras_adapters.testing")
        )
        for path in TESTING_DIR.glob("*.py")
    }
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_runtime_imports_are_stdlib_and_pytest_only():
    allowed_third_party = {"pytest"}  # the plugin module only
    for path in TESTING_DIR.glob("*.py"):
        top = {n.split(".")[0] for n in _imports(path)}
        third_party = {n for n in top if n not in __import__("sys").stdlib_module_names and n != "cerebras_adapters"}
        assert third_party <= allowed_third_party, (path.name, third_party)
