"""Scenario files: what the emulator answers to which question.

A scenario file is YAML or JSON holding a list of entries (or a mapping with a ``scenarios`` list)::

    - match: "what is 2 ?\\+ ?2"        # regex, searched in the last user message (case-insensitive)
      model: gpt-oss-120b              # optional: only for this model id (a list of ids also works)
      reply: "4"                       # the text answer (after a tool result too; {tool_result} is replaced
                                       # by the last tool message's content)
      reasoning: "Two plus two is four."  # optional: reasoning text for models that reason
      tool_calls:                      # optional: when the request offers tools, call these
        - name: weather                # an offered tool whose name equals this, else contains it
          arguments: {city: Paris}     # optional: merged over an instance generated from the tool's schema
      structured: {answer: 4}          # optional: the JSON value for json_object / json_schema replies

Entries are tried in order; the first whose ``match`` (and ``model``) fits wins. The emulator always appends
the entries of the packaged ``scenarios/default.json`` after the user's own (switch this off with
``default_scenarios=False``), and answers anything else with a deterministic text derived from a hash of
the request.

YAML needs PyYAML, which is not a dependency of this package: it is imported only when a ``.yaml``/``.yml``
file is loaded, and a clear error says so if it is missing. JSON files need nothing extra.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_SCENARIOS_PATH", "Scenario", "ScenarioToolCall", "load_scenarios", "parse_scenarios"]

DEFAULT_SCENARIOS_PATH = Path(__file__).with_name("scenarios") / "default.json"

_ENTRY_KEYS = {"match", "model", "reply", "reasoning", "tool_calls", "structured"}


@dataclass(frozen=True)
class ScenarioToolCall:
    name: str
    arguments: dict[str, Any] | None = None


@dataclass(frozen=True)
class Scenario:
    match: re.Pattern[str]
    models: tuple[str, ...] = ()
    reply: str | None = None
    reasoning: str | None = None
    tool_calls: tuple[ScenarioToolCall, ...] = ()
    structured: Any = None

    def applies(self, text: str, model: str) -> bool:
        if self.models and model not in self.models:
            return False
        return self.match.search(text) is not None


def parse_scenarios(data: Any, source: str = "<scenarios>") -> list[Scenario]:
    """Build scenarios from already-loaded data (a list of entries, or ``{"scenarios": [...]}``)."""
    if isinstance(data, dict) and "scenarios" in data:
        data = data["scenarios"]
    if data is None:
        return []
    if not isinstance(data, list):
        raise ValueError(f"{source}: expected a list of scenario entries")
    result: list[Scenario] = []
    for i, entry in enumerate(data):
        where = f"{source}[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: each entry must be a mapping")
        unknown = set(entry) - _ENTRY_KEYS
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_ENTRY_KEYS)}")
        pattern = entry.get("match", "")
        if not isinstance(pattern, str):
            raise ValueError(f"{where}: 'match' must be a string (a regular expression)")
        try:
            compiled = re.compile(pattern, re.IGNORECASE | re.DOTALL)
        except re.error as exc:
            raise ValueError(f"{where}: 'match' is not a valid regular expression: {exc}") from exc
        models = entry.get("model") or ()
        if isinstance(models, str):
            models = (models,)
        if not all(isinstance(m, str) for m in models):
            raise ValueError(f"{where}: 'model' must be a model id or a list of ids")
        for key in ("reply", "reasoning"):
            if entry.get(key) is not None and not isinstance(entry[key], str):
                raise ValueError(f"{where}: '{key}' must be a string")
        calls: list[ScenarioToolCall] = []
        for j, call in enumerate(entry.get("tool_calls") or ()):
            if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                raise ValueError(f"{where}.tool_calls[{j}]: needs a 'name'")
            args = call.get("arguments")
            if args is not None and not isinstance(args, dict):
                raise ValueError(f"{where}.tool_calls[{j}]: 'arguments' must be a mapping")
            calls.append(ScenarioToolCall(call["name"], args))
        result.append(
            Scenario(
                match=compiled,
                models=tuple(models),
                reply=entry.get("reply"),
                reasoning=entry.get("reasoning"),
                tool_calls=tuple(calls),
                structured=entry.get("structured"),
            )
        )
    return result


def load_scenarios(path: str | Path) -> list[Scenario]:
    """Load a YAML (``.yaml``/``.yml``, needs PyYAML) or JSON scenario file."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            yaml: Any = importlib.import_module("yaml")
        except ImportError as exc:
            raise RuntimeError(
                f"{path} is a YAML scenario file, but PyYAML is not installed. "
                "Install it (pip install pyyaml) or write the scenarios as JSON."
            ) from exc
        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    return parse_scenarios(data, str(path))


def resolve_scenarios(
    scenarios: str | Path | Iterable[Scenario | dict[str, Any]] | None, include_default: bool = True
) -> list[Scenario]:
    """The scenario list the emulator uses: the user's entries first, then the packaged defaults."""
    result: list[Scenario] = []
    if isinstance(scenarios, (str, Path)):
        result.extend(load_scenarios(scenarios))
    elif scenarios is not None:
        raw: list[Any] = []
        for item in scenarios:
            if isinstance(item, Scenario):
                result.extend(parse_scenarios(raw, "<scenarios>"))
                raw = []
                result.append(item)
            else:
                raw.append(item)
        result.extend(parse_scenarios(raw, "<scenarios>"))
    if include_default:
        result.extend(_default_scenarios())
    return result


_DEFAULT_CACHE: list[Sequence[Scenario]] = []


def _default_scenarios() -> Sequence[Scenario]:
    if not _DEFAULT_CACHE:
        _DEFAULT_CACHE.append(tuple(load_scenarios(DEFAULT_SCENARIOS_PATH)))
    return _DEFAULT_CACHE[0]
