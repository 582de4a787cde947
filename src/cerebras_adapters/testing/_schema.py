"""JSON Schema on the server side: the strict-mode rules Cerebras enforces, and deterministic instances.

Strict-mode rules (docs/api-facts.md#strict-schema-limits, API v2 default since 2026-07-21):
``additionalProperties: false`` on every object, every property listed in ``required``, definitions only
under ``$defs`` with internal ``#/$defs/...`` references, no recursion, ≤ 5000 characters, nesting depth
≤ 5 (the stricter of the two documented values), ≤ 5 ``anyOf`` branches, no ``type`` arrays, no
``items: true``, no ``$anchor``, and ``nullable`` reported as unsupported (pydantic/pydantic-ai#1867).

API v1 (``X-Cerebras-Version-Patch: 1``, before v2 became the default) checked strict schemas loosely: a missing
``additionalProperties`` was quietly handled and an optional property could be left out of ``required``
(docs/api-facts.md#strict-schemas-by-api-version; RT-14, 2025-10, was accepted), so under v1 those two rules are
not applied.

Nesting depth counts objects, as the docs' limits list it next to the object-property count; an array is not
a level of its own (the docs do not say it is, and a server model stricter than the docs would fail clients on
requests the real API takes). A definition referenced many times is checked once per depth, so definitions
referencing each other in a diamond cost linear, not exponential, time.

Instances: the emulator answers structured requests (``json_schema`` replies, tool-call arguments) with a
value generated from the schema, so a client's parser sees a reply that validates. Hints taken from the
user's message (its numbers, a place after "in") make the values look relevant, deterministically.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Hints", "instance", "strict_schema_error"]

MAX_SCHEMA_CHARS = 5000
MAX_DEPTH = 5
MAX_ANY_OF = 5
_UNSUPPORTED_KEYWORDS = ("nullable", "$anchor", "definitions")


def strict_schema_error(schema: Any, *, api_version: int = 2) -> str | None:
    """The first strict-mode violation in ``schema`` as a message, or None if it passes (under API version
    ``api_version``: v1 skips the closed-object and every-property-required rules)."""
    if not isinstance(schema, dict):
        return "schema must be a JSON object"
    size = len(json.dumps(schema, separators=(",", ":")))
    if size > MAX_SCHEMA_CHARS:
        return f"schema is {size} characters long; the maximum is {MAX_SCHEMA_CHARS}"
    defs = schema.get("$defs", {})
    if not isinstance(defs, dict):
        return "'$defs' must be an object"
    return _check(schema, "", 0, (), defs, set(), api_version < 2)


def _check(
    node: Any,
    path: str,
    depth: int,
    refs: tuple[str, ...],
    defs: dict[str, Any],
    passed: set[tuple[str, int]],
    v1: bool = False,
) -> str | None:
    where = path or "<root>"
    if not isinstance(node, dict):
        return f"{where}: boolean or non-object schemas are not supported"
    for keyword in _UNSUPPORTED_KEYWORDS:
        if keyword in node:
            hint = " (use '$defs')" if keyword == "definitions" else ""
            return f"{where}: unsupported keyword '{keyword}'{hint}"
    ref = node.get("$ref")
    if ref is not None:
        if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
            return f"{where}: only internal '#/$defs/...' references are supported, got {ref!r}"
        name = ref[len("#/$defs/") :]
        if name not in defs:
            return f"{where}: reference {ref!r} does not resolve"
        if ref in refs:
            return f"{where}: recursive schemas are not supported ({ref})"
        if (name, depth) in passed:  # already checked at this depth, without reaching a cycle
            return None
        error = _check(defs[name], f"$defs.{name}", depth, (*refs, ref), defs, passed, v1)
        if error is None:
            passed.add((name, depth))
        return error
    kind = node.get("type")
    if isinstance(kind, list):
        return f"{where}: 'type' arrays are not supported; use 'anyOf'"
    any_of = node.get("anyOf")
    if any_of is not None:
        if not isinstance(any_of, list) or len(any_of) > MAX_ANY_OF:
            return f"{where}: 'anyOf' supports at most {MAX_ANY_OF} branches"
        for i, branch in enumerate(any_of):
            error = _check(branch, f"{path}.anyOf.{i}".lstrip("."), depth, refs, defs, passed, v1)
            if error:
                return error
    if kind == "object" or "properties" in node:
        depth += 1
        if depth > MAX_DEPTH:
            return f"{where}: schema nesting exceeds the maximum depth of {MAX_DEPTH}"
        if not v1 and node.get("additionalProperties", None) is not False:
            return f"{where}: 'additionalProperties' is required to be supplied and set to false"
        props = node.get("properties", {})
        if not isinstance(props, dict):
            return f"{where}: 'properties' must be an object"
        required = node.get("required", [])
        if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
            return f"{where}: 'required' must be a list of property names"
        missing = [] if v1 else [name for name in props if name not in required]
        if missing:
            return f"{where}: all properties must be listed in 'required' (missing: {', '.join(missing)})"
        for name, sub in props.items():
            error = _check(sub, f"{path}.{name}".lstrip("."), depth, refs, defs, passed, v1)
            if error:
                return error
    if kind == "array" or "items" in node:
        items = node.get("items")
        if items is True:
            return f"{where}: 'items: true' is not supported"
        if items is False:
            if "prefixItems" not in node:
                return f"{where}: 'items: false' is only supported together with 'prefixItems'"
        elif items is not None:
            error = _check(items, f"{path}[]", depth, refs, defs, passed, v1)
            if error:
                return error
        prefix = node.get("prefixItems") or []
        if not isinstance(prefix, list):
            return f"{where}: 'prefixItems' must be a list of schemas"
        for i, sub in enumerate(prefix):
            error = _check(sub, f"{path}[{i}]", depth, refs, defs, passed, v1)
            if error:
                return error
    return None


# --------------------------------------------------------------------------------------------- instances

_NUMBER_RE = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
_PLACE_RE = re.compile(r"\b(?:in|at|for|near)\s+((?:[A-Z][\w'-]*)(?:[ -][A-Z][\w'-]*)*)")
_PLACE_NAMES = ("city", "location", "place", "town", "region", "country")
# A quoted phrase in the user's message ("Create a customer named 'Acme'") is what a model would copy into a
# name-like field; the opening quote must start a word so apostrophes ("what's") do not count.
_QUOTED_RE = re.compile(r"(?:^|\s)['\"“‘]([^'\"”’]{1,80})['\"”’]")


@dataclass
class Hints:
    """Values taken from the user's message, consumed in order while building an instance."""

    numbers: list[float] = field(default_factory=list)
    place: str | None = None
    quoted: list[str] = field(default_factory=list)
    _used: int = 0

    @classmethod
    def from_text(cls, text: str) -> Hints:
        numbers = [float(m) for m in _NUMBER_RE.findall(text)]
        match = _PLACE_RE.search(text)
        return cls(numbers=numbers, place=match.group(1) if match else None, quoted=_QUOTED_RE.findall(text))

    def next_number(self) -> float | None:
        if self._used < len(self.numbers):
            self._used += 1
            return self.numbers[self._used - 1]
        return None


def instance(schema: Any, hints: Hints | None = None) -> Any:
    """A deterministic value that validates against ``schema`` (for the keywords the emulator knows)."""
    if not isinstance(schema, dict):
        return {}
    defs = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    return _value(schema, defs, hints or Hints(), "", 0)


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while isinstance(node.get("$ref"), str) and seen < 32:
        name = node["$ref"].rsplit("/", 1)[-1]
        target = defs.get(name)
        if not isinstance(target, dict):
            return {}
        node = target
        seen += 1
    return node


def _value(node: Any, defs: dict[str, Any], hints: Hints, name: str, depth: int) -> Any:
    if not isinstance(node, dict):
        return "example"
    node = _resolve(node, defs)
    if "const" in node:
        return node["const"]
    if isinstance(node.get("enum"), list) and node["enum"]:
        return node["enum"][0]
    if "default" in node and depth > 0:
        return node["default"]
    for union in ("anyOf", "oneOf"):
        branches = node.get(union)
        if isinstance(branches, list) and branches:
            chosen = next((b for b in branches if not (isinstance(b, dict) and b.get("type") == "null")), branches[0])
            return _value(chosen, defs, hints, name, depth)
    if isinstance(node.get("allOf"), list):
        merged: dict[str, Any] = {}
        for part in node["allOf"]:
            part = _resolve(part, defs) if isinstance(part, dict) else {}
            for key, val in part.items():
                if key == "properties" and isinstance(merged.get("properties"), dict):
                    merged["properties"] = {**merged["properties"], **val}
                else:
                    merged[key] = val
        return _value(merged, defs, hints, name, depth)
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in node else "array" if "items" in node else "string"
    if depth > 8:
        return None if kind == "null" else {} if kind == "object" else [] if kind == "array" else "x"
    if kind == "object":
        props = node.get("properties", {})
        return (
            {key: _value(sub, defs, hints, key, depth + 1) for key, sub in props.items()}
            if isinstance(props, dict)
            else {}
        )
    if kind == "array":
        count = max(int(node.get("minItems", 1)), 0)
        if "maxItems" in node:
            count = min(count, int(node["maxItems"]))
        prefix = node.get("prefixItems")
        if isinstance(prefix, list):
            return [_value(sub, defs, hints, name, depth + 1) for sub in prefix]
        return [_value(node.get("items", {}), defs, hints, name, depth + 1) for _ in range(count)]
    if kind == "integer":
        return int(_number(node, hints, integer=True))
    if kind == "number":
        return _number(node, hints, integer=False)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(node, hints, name)


def _number(node: dict[str, Any], hints: Hints, integer: bool) -> float:
    low = node.get("minimum", node.get("exclusiveMinimum"))
    high = node.get("maximum", node.get("exclusiveMaximum"))
    value = hints.next_number()
    if value is None or (integer and value != int(value)):
        value = 1.0 if integer else 1.5
    if isinstance(low, (int, float)) and value < low:
        value = float(low) + (1 if "exclusiveMinimum" in node and "minimum" not in node else 0)
    if isinstance(high, (int, float)) and value > high:
        value = float(high) - (1 if "exclusiveMaximum" in node and "maximum" not in node else 0)
    return value


def _string(node: dict[str, Any], hints: Hints, name: str) -> str:
    fmt = node.get("format")
    lowered = name.lower()
    if fmt == "date-time":
        text = "2026-01-15T12:00:00Z"
    elif fmt == "date":
        text = "2026-01-15"
    elif fmt == "time":
        text = "12:00:00"
    elif fmt == "email" or "email" in lowered:
        text = "user@example.com"
    elif fmt in ("uri", "url") or lowered in ("url", "uri", "link"):
        text = "https://example.com"
    elif fmt == "uuid":
        text = "00000000-0000-4000-8000-000000000000"
    elif any(p in lowered for p in _PLACE_NAMES):
        text = hints.place or "Paris"
    elif lowered in ("unit", "units"):
        text = "celsius"
    elif lowered.endswith("name"):
        text = hints.quoted[0] if hints.quoted else "Alex Doe"
    else:
        text = f"example {name}".strip() if name else "example"
    min_length = node.get("minLength")
    if isinstance(min_length, int) and len(text) < min_length:
        text = text + "x" * (min_length - len(text))
    max_length = node.get("maxLength")
    if isinstance(max_length, int) and len(text) > max_length:
        text = text[:max_length]
    return text

