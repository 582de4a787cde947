"""Strict JSON-schema rules for structured outputs and strict tools.

This module owns the strict-mode limits of cerebras-api.md §1.5 (2026 docs, capabilities/structured-outputs;
enforced by API v2 since 2026-07-21): ``check_strict_schema`` refuses a schema the API would reject, naming
the exact place, and ``make_strict`` rewrites an ordinary schema (as pydantic or a TypedDict produce it) into
one that passes. It must not know about requests, models or frameworks.

Limits (budgeted as the reference advises): length <= 5 000 characters, nesting depth <= 5 (the docs say 10
in one place and 5 in another), <= 500 object properties and <= 500 enum values in total, anyOf <= 5 branches,
``additionalProperties: false`` on every object, every property required, no recursion, only internal
``#/$defs/...`` references, no ``definitions``, no ``"type": [...]`` unions.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from .errors import RequestValidationError

__all__ = ["MAX_ANY_OF", "MAX_DEPTH", "MAX_LENGTH", "check_strict_schema", "make_strict"]

MAX_LENGTH = 5000
MAX_DEPTH = 5
MAX_PROPERTIES = 500
MAX_ENUM_VALUES = 500
MAX_ANY_OF = 5

# Keywords strict mode refuses (§1.5 "Other reported rejections" and informational keywords); make_strict
# moves them into the description so their meaning reaches the model.
_UNSUPPORTED_KEYWORDS = (
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "nullable",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "uniqueItems",
    "examples",
    "default",
    "$anchor",
)


def _fail(message: str, where: str, model: str | None, fix: str) -> RequestValidationError:
    return RequestValidationError(message, param=where, model=model, fix=fix)


def check_strict_schema(schema: Any, *, where: str, model: str | None = None) -> None:
    """Raise ``RequestValidationError`` if ``schema`` breaks a strict-mode rule; ``where`` prefixes the
    reported parameter path (e.g. ``response_format.json_schema.schema``)."""
    fix = "pass the schema through cerebras_adapters.schema.make_strict(), or use strict=False"
    if not isinstance(schema, Mapping):
        raise _fail("A strict schema must be a JSON object.", where, model, fix)
    size = len(json.dumps(schema, separators=(",", ":")))
    if size > MAX_LENGTH:
        raise _fail(
            f"Strict schemas are limited to {MAX_LENGTH} characters; this one has {size}.",
            where,
            model,
            "shorten descriptions or split the schema",
        )
    if "definitions" in schema:
        raise _fail("Strict schemas take '$defs', not 'definitions'.", f"{where}.definitions", model, fix)
    defs = schema.get("$defs", {})
    counts = {"properties": 0, "enum": 0}
    _check_refs_acyclic(defs, where, model)
    _walk(schema, where, 0, defs, counts, model, fix)
    for name, sub in defs.items() if isinstance(defs, Mapping) else ():
        _walk(sub, f"{where}.$defs.{name}", 0, defs, counts, model, fix)
    if counts["properties"] > MAX_PROPERTIES:
        raise _fail(
            f"Strict schemas allow {MAX_PROPERTIES} object properties in total; this one has {counts['properties']}.",
            where,
            model,
            "simplify the schema",
        )
    if counts["enum"] > MAX_ENUM_VALUES:
        raise _fail(
            f"Strict schemas allow {MAX_ENUM_VALUES} enum values in total; this one has {counts['enum']}.",
            where,
            model,
            "simplify the schema",
        )


def _walk(node: Any, path: str, depth: int, defs: Any, counts: dict[str, int], model: str | None, fix: str) -> None:
    if not isinstance(node, Mapping):
        return
    ref = node.get("$ref")
    if ref is not None and not (isinstance(ref, str) and ref.startswith("#/$defs/")):
        raise _fail(f"Only internal '#/$defs/...' references are allowed, not {ref!r}.", f"{path}.$ref", model, fix)
    if ref is not None and isinstance(defs, Mapping) and depth + _nesting(node, defs) > MAX_DEPTH:
        # Nested models arrive as $defs references (pydantic), so the depth limit counts through them.
        raise _fail(
            f"Strict schemas may nest objects at most {MAX_DEPTH} levels deep (counting through $ref).",
            f"{path}.$ref",
            model,
            "flatten the schema",
        )
    if isinstance(node.get("type"), list):
        raise _fail("'type' lists are not supported in strict mode; use anyOf.", f"{path}.type", model, fix)
    if "enum" in node and isinstance(node["enum"], list):
        counts["enum"] += len(node["enum"])
    if node.get("items") is True:
        raise _fail("'items: true' is not supported in strict mode.", f"{path}.items", model, fix)
    for keyword in ("anyOf", "oneOf"):
        branches = node.get(keyword)
        if isinstance(branches, list):
            if len(branches) > MAX_ANY_OF:
                raise _fail(
                    f"'{keyword}' is limited to {MAX_ANY_OF} branches in strict mode; this one has {len(branches)}.",
                    f"{path}.{keyword}",
                    model,
                    "simplify the union",
                )
            for i, branch in enumerate(branches):
                _walk(branch, f"{path}.{keyword}.{i}", depth, defs, counts, model, fix)
    is_object = node.get("type") == "object" or "properties" in node
    if is_object:
        if depth + 1 > MAX_DEPTH:
            raise _fail(
                f"Strict schemas may nest objects at most {MAX_DEPTH} levels deep.", path, model, "flatten the schema"
            )
        if node.get("additionalProperties") is not False:
            raise _fail(
                "Every object in a strict schema needs 'additionalProperties': false.",
                f"{path}.additionalProperties",
                model,
                fix,
            )
        props = node.get("properties", {}) or {}
        counts["properties"] += len(props)
        missing = [name for name in props if name not in (node.get("required") or [])]
        if missing:
            raise _fail(
                f"Every property must be listed in 'required' in strict mode; missing: {missing}.",
                f"{path}.required",
                model,
                "list them all and make optional ones nullable with anyOf [..., {type: null}]",
            )
        for name, sub in props.items():
            _walk(sub, f"{path}.properties.{name}", depth + 1, defs, counts, model, fix)
    items = node.get("items")
    if isinstance(items, Mapping):
        _walk(items, f"{path}.items", depth, defs, counts, model, fix)
    for keyword in ("allOf", "prefixItems"):
        for i, sub in enumerate(node.get(keyword) or []):
            _walk(sub, f"{path}.{keyword}.{i}", depth, defs, counts, model, fix)
    extra_schema = node.get("additionalProperties")
    if isinstance(extra_schema, Mapping):
        _walk(extra_schema, f"{path}.additionalProperties", depth, defs, counts, model, fix)


def _nesting(node: Any, defs: Mapping[str, Any]) -> int:
    """Levels of objects in ``node``, following ``#/$defs/`` references (already known to be acyclic)."""
    if isinstance(node, list):
        return max((_nesting(sub, defs) for sub in node), default=0)
    if not isinstance(node, Mapping):
        return 0
    inner = 0
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        inner = _nesting(defs.get(ref[len("#/$defs/") :]), defs)
    for key in ("anyOf", "oneOf", "allOf", "items"):
        inner = max(inner, _nesting(node.get(key), defs))
    props = node.get("properties")
    if isinstance(props, Mapping):
        inner = max(inner, _nesting(list(props.values()), defs))
    return inner + (1 if node.get("type") == "object" or "properties" in node else 0)


def _check_refs_acyclic(defs: Any, where: str, model: str | None) -> None:
    if not isinstance(defs, Mapping):
        return
    edges = {name: _refs_in(sub) for name, sub in defs.items()}
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = " -> ".join([*trail, name])
            raise _fail(
                f"Recursive schemas are not supported in strict mode ({cycle}).",
                f"{where}.$defs.{name}",
                model,
                "unroll the recursion to a fixed depth",
            )
        visiting.add(name)
        for target in edges.get(name, ()):
            visit(target, [*trail, name])
        visiting.discard(name)
        done.add(name)

    for name in edges:
        visit(name, [])


def _refs_in(node: Any) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, Mapping):
            ref = cur.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                found.add(ref[len("#/$defs/") :])
            stack.extend(cur.values())
        elif isinstance(cur, list):
            stack.extend(cur)
    return found


def make_strict(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Rewrite a JSON schema into Cerebras strict form (returns a new dict; the input is not changed).

    ``definitions`` become ``$defs``; every object gets ``additionalProperties: false`` and lists every
    property as required, a property that was optional becoming nullable (``anyOf`` with null);
    ``"type": [...]`` becomes ``anyOf``; unsupported keywords move into the description; ``title`` is
    dropped. The result is checked with ``check_strict_schema`` only by the caller (limits such as size
    cannot be fixed automatically).
    """
    out: dict[str, Any] = copy.deepcopy(dict(schema))
    if "definitions" in out:
        out.setdefault("$defs", {}).update(out.pop("definitions"))
    text = json.dumps(out).replace('"#/definitions/', '"#/$defs/')
    out = json.loads(text)
    out.pop("title", None)
    _strictify(out)
    for sub in out.get("$defs", {}).values():
        _strictify(sub)
    return out


def _strictify(node: Any) -> None:
    if not isinstance(node, dict):
        return
    node.pop("title", None)
    notes = []
    for keyword in _UNSUPPORTED_KEYWORDS:
        if keyword in node:
            notes.append(f"{keyword}: {json.dumps(node.pop(keyword))}")
    if notes:
        desc = node.get("description")
        node["description"] = f"{desc} ({'; '.join(notes)})" if desc else "; ".join(notes)
    if isinstance(node.get("type"), list):
        types = node.pop("type")
        node["anyOf"] = [{"type": t} for t in types]
    if "allOf" in node and isinstance(node["allOf"], list) and len(node["allOf"]) == 1:
        node.update(node.pop("allOf")[0])  # pydantic wraps a described $ref this way
    if node.get("type") == "object" or "properties" in node:
        node.setdefault("type", "object")
        props = node.setdefault("properties", {})
        required = set(node.get("required") or [])
        for name, sub in props.items():
            if name not in required and not _is_nullable(sub):
                desc = sub.pop("description", None) if isinstance(sub, dict) else None
                props[name] = {"anyOf": [sub, {"type": "null"}]}
                if desc:
                    props[name]["description"] = desc
        node["required"] = list(props)
        node["additionalProperties"] = False
    for key in ("properties", "$defs"):
        for sub in (node.get(key) or {}).values():
            _strictify(sub)
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for sub in node.get(key) or []:
            _strictify(sub)
    if isinstance(node.get("items"), dict):
        _strictify(node["items"])


def _is_nullable(node: Any) -> bool:
    if not isinstance(node, Mapping):
        return False
    if node.get("type") == "null":
        return True
    return any(isinstance(b, Mapping) and b.get("type") == "null" for b in node.get("anyOf") or [])
