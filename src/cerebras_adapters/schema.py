"""Strict JSON-schema rules for structured outputs and strict tools.

This module owns the strict-mode limits of docs/api-facts.md#strict-schema-limits (2026 docs,
capabilities/structured-outputs; enforced by API v2 since 2026-07-21): ``check_strict_schema`` refuses a schema the API
would reject, naming the exact place, and ``make_strict`` rewrites an ordinary schema (as pydantic or a TypedDict
produce it) into one that passes. It must not know about requests, models or frameworks.

Two of the rules are API v2's only (docs/api-facts.md#strict-schemas-by-api-version: v1 quietly handled a
missing ``additionalProperties`` and accepted an optional property left out of ``required``, RT-14), so they
can be checked on their own: ``check_closed_objects`` and ``check_every_property_required``, and
``check_strict_schema(..., closed_objects=False, every_property_required=False)`` checks everything else. The
request rules (``cerebras_adapters._rules``) pick the ones the request's API version applies.

Limits (budgeted as the reference advises): length <= 5 000 characters, nesting depth <= 5 (the docs say 10
in one place and 5 in another), <= 500 object properties and <= 500 enum values in total, anyOf <= 5 branches,
``additionalProperties: false`` on every object, every property required, no recursion, only internal
``#/$defs/...`` references, no ``definitions``, no ``"type": [...]`` unions, no boolean sub-schemas, no
``nullable`` or ``$anchor`` keywords.

Both functions take whatever a caller passes (fuzzed input included): a schema that is not JSON-shaped (``{"allOf":
5}``, ``{"properties": true}``, a schema nested thousands of levels or containing itself) is refused with a
``RequestValidationError`` naming the place, never a ``TypeError`` or ``RecursionError``.
"""

from __future__ import annotations

import json
import reprlib
from collections.abc import Mapping
from typing import Any, TypeGuard

from .errors import RequestValidationError

__all__ = [
    "MAX_ANY_OF",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "check_closed_objects",
    "check_every_property_required",
    "check_strict_schema",
    "make_strict",
]

MAX_LENGTH = 5000
MAX_DEPTH = 5
MAX_PROPERTIES = 500
MAX_ENUM_VALUES = 500
MAX_ANY_OF = 5
# JSON containers (objects and arrays) a schema may nest before it is refused outright: far beyond what the
# depth limit of 5 object levels needs (each level is 2-4 containers), and low enough that walking, copying and
# measuring a schema never comes near Python's recursion limit. The strict check walks sub-schemas, one level
# per keyword step (a property, an anyOf branch, items), so it stops at half as many.
MAX_JSON_DEPTH = 100
_MAX_SUBSCHEMA_LEVELS = MAX_JSON_DEPTH // 2
# Keywords the strict validator rejects wherever they appear (docs/api-facts.md#rejected-schema-keywords: ``nullable``
# reported in pydantic/pydantic-ai#1867, ``$anchor`` and ``definitions`` listed as unsupported).
_REJECTED_KEYWORDS = {
    "definitions": "strict schemas take '$defs', not 'definitions'",
    "nullable": "'nullable' is not supported in strict mode; use anyOf [..., {type: null}]",
    "$anchor": "'$anchor' is not supported in strict mode",
}
_LIST_KEYWORDS = ("anyOf", "oneOf", "allOf", "prefixItems")

# Keywords strict mode refuses (docs/api-facts.md#rejected-schema-keywords "Other reported rejections" and informational
# keywords); make_strict moves them into the description so their meaning reaches the model.
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


_short = reprlib.Repr()
_short.maxstring = 60
_short.maxother = 60
_show = _short.repr  # bounded repr of a caller's value: never recursive, never huge


def _is_map(value: Any) -> TypeGuard[Mapping[Any, Any]]:
    # ``isinstance(x, Mapping)`` goes through the ABC machinery; plain dicts, nearly every node, skip it.
    return type(value) is dict or isinstance(value, Mapping)


def _children(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return value.values()
    if kind is list or kind is tuple:
        return value
    if isinstance(value, Mapping):
        return value.values()
    if isinstance(value, (list, tuple)):
        return value
    return None


def _too_deep(node: Any, where: str) -> str | None:
    """The path of the first container more than ``MAX_JSON_DEPTH`` levels down (a schema that contains itself
    never ends, so it is caught here too), or None. Iterative: no recursion limit to hit. Depths are measured
    first without paths (the common case passes); the path is built only for a schema that fails."""
    stack: list[tuple[Any, int]] = [(node, 1)]
    while stack:
        cur, depth = stack.pop()
        children = _children(cur)
        if children is None:
            continue
        if depth > MAX_JSON_DEPTH:
            return _deep_path(node, where)
        stack.extend((sub, depth + 1) for sub in children if type(sub) is not str)
    return None


def _deep_path(node: Any, where: str) -> str | None:
    stack: list[tuple[Any, str, int]] = [(node, where, 1)]
    while stack:
        cur, path, depth = stack.pop()
        if isinstance(cur, Mapping):
            children: Any = cur.items()
        elif isinstance(cur, (list, tuple)):
            children = enumerate(cur)
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            return path
        stack.extend((sub, f"{path}.{key}", depth + 1) for key, sub in children)
    return None


def _check_depth(node: Any, where: str, model: str | None) -> None:
    path = _too_deep(node, where)
    if path is not None:
        raise _fail(
            f"The schema nests more than {MAX_JSON_DEPTH} levels of objects and arrays (or contains itself).",
            path,
            model,
            "flatten the schema",
        )


def _json_size(node: Any, where: str, model: str | None) -> int:
    # Only measures: a value JSON cannot carry is refused with its exact path when the body is encoded. The C
    # encoder stops at a value that contains itself (ValueError) or nests about 1000 deep (RecursionError).
    try:
        return len(json.dumps(node, separators=(",", ":"), default=lambda _: "?", skipkeys=True))
    except (RecursionError, ValueError):
        _check_depth(node, where, model)
        raise _fail("The schema contains itself.", where, model, "pass a JSON tree, not a cyclic structure") from None


_FIX = "pass the schema through cerebras_adapters.schema.make_strict(), or use strict=False"


def check_strict_schema(
    schema: Any,
    *,
    where: str,
    model: str | None = None,
    closed_objects: bool = True,
    every_property_required: bool = True,
    objects: list[tuple[Mapping[Any, Any], str]] | None = None,
) -> None:
    """Raise ``RequestValidationError`` if ``schema`` breaks a strict-mode rule; ``where`` prefixes the
    reported parameter path (e.g. ``response_format.json_schema.schema``). ``closed_objects`` and
    ``every_property_required`` switch off the two rules only API v2 applies (``additionalProperties: false``
    on every object, every property listed in ``required``). ``objects``, when given, receives every object
    sub-schema and its path, as ``check_closed_objects`` and ``check_every_property_required`` take them."""
    fix = _FIX
    v2_only = (closed_objects, every_property_required)
    if not isinstance(schema, Mapping):
        raise _fail("A strict schema must be a JSON object.", where, model, fix)
    size = _json_size(schema, where, model)
    if size > MAX_LENGTH:
        raise _fail(
            f"Strict schemas are limited to {MAX_LENGTH} characters; this one has {size}.",
            where,
            model,
            "shorten descriptions or split the schema",
        )
    defs = schema.get("$defs", {})
    if not isinstance(defs, Mapping):
        raise _fail("'$defs' must be an object of named schemas.", f"{where}.$defs", model, fix)
    counts = {"properties": 0, "enum": 0, "level": 0}
    _check_refs_acyclic(defs, where, model)
    nesting = _measure_defs(defs)
    _walk(schema, where, 0, defs, counts, model, fix, nesting, v2_only, objects)
    for name, sub in defs.items():
        _walk(sub, f"{where}.$defs.{name}", 0, defs, counts, model, fix, nesting, v2_only, objects)
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


def _walk(
    node: Any,
    path: str,
    depth: int,
    defs: Mapping[str, Any],
    counts: dict[str, int],
    model: str | None,
    fix: str,
    nesting: dict[str, int],
    v2_only: tuple[bool, bool] = (True, True),
    objects: list[tuple[Mapping[Any, Any], str]] | None = None,
) -> None:
    closed_objects, every_property_required = v2_only
    counts["level"] += 1  # not restored on the way out of a refusal: the check stops there
    if counts["level"] > _MAX_SUBSCHEMA_LEVELS:
        raise _fail(
            f"The schema nests sub-schemas more than {_MAX_SUBSCHEMA_LEVELS} levels deep.", path, model, "flatten it"
        )
    if not _is_map(node):
        raise _fail(
            f"Boolean and non-object sub-schemas are not supported in strict mode; got {_show(node)}.",
            path,
            model,
            "write the sub-schema as an object, e.g. {} for any value",
        )
    for keyword, why in _REJECTED_KEYWORDS.items():
        if keyword in node:
            raise _fail(f"{why[0].upper()}{why[1:]}.", f"{path}.{keyword}", model, fix)
    ref = node.get("$ref")
    if ref is not None:
        if not (isinstance(ref, str) and ref.startswith("#/$defs/")):
            raise _fail(
                f"Only internal '#/$defs/...' references are allowed, not {_show(ref)}.", f"{path}.$ref", model, fix
            )
        if ref[len("#/$defs/") :] not in defs:
            raise _fail(
                f"Reference {_show(ref)} does not resolve: '$defs' has no such entry.",
                f"{path}.$ref",
                model,
                "define the referenced schema under '$defs', or fix the reference",
            )
        if depth + _nesting(node, defs, nesting) > MAX_DEPTH:
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
    items = node.get("items")
    if items is True:
        raise _fail("'items: true' is not supported in strict mode.", f"{path}.items", model, fix)
    if items is False and "prefixItems" not in node:
        raise _fail("'items: false' is only supported together with 'prefixItems'.", f"{path}.items", model, fix)
    if items is not None and type(items) is not bool and not _is_map(items):
        raise _fail("'items' must be a schema object.", f"{path}.items", model, fix)
    branch_lists = {key: _schema_list(node, key, path, model, fix) for key in _LIST_KEYWORDS if key in node}
    for keyword in ("anyOf", "oneOf"):
        branches = branch_lists.get(keyword, ())
        if len(branches) > MAX_ANY_OF:
            raise _fail(
                f"'{keyword}' is limited to {MAX_ANY_OF} branches in strict mode; this one has {len(branches)}.",
                f"{path}.{keyword}",
                model,
                "simplify the union",
            )
        for i, branch in enumerate(branches):
            _walk(branch, f"{path}.{keyword}.{i}", depth, defs, counts, model, fix, nesting, v2_only, objects)
    is_object = node.get("type") == "object" or "properties" in node
    if is_object:
        if objects is not None:
            objects.append((node, path))
        if depth + 1 > MAX_DEPTH:
            raise _fail(
                f"Strict schemas may nest objects at most {MAX_DEPTH} levels deep.", path, model, "flatten the schema"
            )
        if closed_objects and node.get("additionalProperties") is not False:
            raise _fail(
                "Every object in a strict schema needs 'additionalProperties': false.",
                f"{path}.additionalProperties",
                model,
                fix,
            )
        props = node.get("properties", {})
        if not _is_map(props):
            raise _fail(
                f"'properties' must be an object mapping names to schemas; got {_show(props)}.",
                f"{path}.properties",
                model,
                fix,
            )
        counts["properties"] += len(props)
        required = node.get("required") or []
        if not isinstance(required, (list, tuple)) or not all(isinstance(name, str) for name in required):
            raise _fail(
                f"'required' must be a list of property names; got {_show(required)}.",
                f"{path}.required",
                model,
                fix,
            )
        if every_property_required:
            _check_required(props, required, path, model)
        for name, sub in props.items():
            _walk(sub, f"{path}.properties.{name}", depth + 1, defs, counts, model, fix, nesting, v2_only, objects)
    if items is not None and type(items) is not bool:
        _walk(items, f"{path}.items", depth, defs, counts, model, fix, nesting, v2_only, objects)
    for keyword in ("allOf", "prefixItems"):
        for i, sub in enumerate(branch_lists.get(keyword, ())):
            _walk(sub, f"{path}.{keyword}.{i}", depth, defs, counts, model, fix, nesting, v2_only, objects)
    extra_schema = node.get("additionalProperties")
    if extra_schema is not None and type(extra_schema) is not bool and _is_map(extra_schema):
        _walk(extra_schema, f"{path}.additionalProperties", depth, defs, counts, model, fix, nesting, v2_only, objects)
    counts["level"] -= 1


def _check_required(props: Mapping[Any, Any], required: Any, path: str, model: str | None) -> None:
    missing = [name for name in props if name not in required]
    if missing:
        raise _fail(
            f"Every property must be listed in 'required' in strict mode; missing: {_show(missing)}.",
            f"{path}.required",
            model,
            "list them all and make optional ones nullable with anyOf [..., {type: null}]",
        )


ObjectNodes = list[tuple[Mapping[Any, Any], str]]


def check_closed_objects(
    schema: Any, *, where: str, model: str | None = None, objects: ObjectNodes | None = None
) -> None:
    """API v2: every object of a strict schema has ``additionalProperties: false``. Only this rule is checked
    (a schema that is not JSON-schema shaped is ``check_strict_schema``'s to refuse; here it is skipped).
    ``objects``: the schema's object sub-schemas as ``check_strict_schema`` collected them, if it did."""
    for node, path in _object_nodes(schema, where) if objects is None else objects:
        if node.get("additionalProperties") is not False:
            raise _fail(
                "Every object in a strict schema needs 'additionalProperties': false.",
                f"{path}.additionalProperties",
                model,
                _FIX,
            )


def check_every_property_required(
    schema: Any, *, where: str, model: str | None = None, objects: ObjectNodes | None = None
) -> None:
    """API v2: every object of a strict schema lists all its properties in ``required``. Only this rule is
    checked (see ``check_closed_objects``)."""
    for node, path in _object_nodes(schema, where) if objects is None else objects:
        props = node.get("properties", {})
        required = node.get("required") or []
        if _is_map(props) and isinstance(required, (list, tuple)):
            _check_required(props, required, path, model)


def _object_nodes(schema: Any, where: str) -> list[tuple[Mapping[Any, Any], str]]:
    """Every object sub-schema of ``schema`` and its path, in the order ``_walk`` meets them; whatever is not
    schema-shaped is skipped, a node met twice (a tree that contains itself) is visited once, and the walk stops
    ``_MAX_SUBSCHEMA_LEVELS`` levels down, as ``_walk`` does."""
    found: list[tuple[Mapping[Any, Any], str]] = []
    seen: set[int] = set()

    def visit(node: Any, path: str, level: int) -> None:
        if level > _MAX_SUBSCHEMA_LEVELS or not _is_map(node) or id(node) in seen:
            return
        seen.add(id(node))
        get = node.get
        for keyword in ("anyOf", "oneOf"):
            branches = get(keyword)
            if branches is not None and isinstance(branches, (list, tuple)):
                for i, branch in enumerate(branches):
                    visit(branch, f"{path}.{keyword}.{i}", level + 1)
        if get("type") == "object" or "properties" in node:
            found.append((node, path))
            props = get("properties")
            if props is not None and _is_map(props):
                for name, sub in props.items():
                    visit(sub, f"{path}.properties.{name}", level + 1)
        items = get("items")
        if items is not None and type(items) is not bool:
            visit(items, f"{path}.items", level + 1)
        for keyword in ("allOf", "prefixItems"):
            subs = get(keyword)
            if subs is not None and isinstance(subs, (list, tuple)):
                for i, sub in enumerate(subs):
                    visit(sub, f"{path}.{keyword}.{i}", level + 1)
        extra = get("additionalProperties")
        if extra is not None and type(extra) is not bool:
            visit(extra, f"{path}.additionalProperties", level + 1)

    visit(schema, where, 1)
    defs = schema.get("$defs") if _is_map(schema) else None
    if _is_map(defs):
        for name, sub in defs.items():
            visit(sub, f"{where}.$defs.{name}", 1)
    return found


def _schema_list(
    node: Mapping[str, Any], key: str, path: str, model: str | None, fix: str
) -> list[Any] | tuple[Any, ...]:
    value = node.get(key)
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        raise _fail(f"'{key}' must be a list of schemas; got {_show(value)}.", f"{path}.{key}", model, fix)
    return value


def _nesting(node: Any, defs: Mapping[str, Any], memo: dict[str, int], level: int = 0) -> int:
    """Levels of objects in ``node``, following ``#/$defs/`` references (already known to be acyclic).

    Definitions are measured once each, in dependency order, before the walk (``_measure_defs``): a reference
    is then a lookup, so definitions referencing each other in a diamond cost linear time and a long chain of
    them no recursion. Past ``MAX_JSON_DEPTH`` steps inside one definition the answer is "too deep"."""
    if level > MAX_JSON_DEPTH:
        return MAX_DEPTH + 1
    if isinstance(node, (list, tuple)):
        return max((_nesting(sub, defs, memo, level + 1) for sub in node), default=0)
    if not _is_map(node):
        return 0
    inner = 0
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref[len("#/$defs/") :]
        inner = memo[name] if name in memo else 0  # every definition is measured before (a dangling one is 0)
    for key in ("anyOf", "oneOf", "allOf", "items"):
        inner = max(inner, _nesting(node.get(key), defs, memo, level + 1))
    props = node.get("properties")
    if _is_map(props):
        inner = max(inner, _nesting(list(props.values()), defs, memo, level + 1))
    return inner + (1 if node.get("type") == "object" or "properties" in node else 0)


def _measure_defs(defs: Mapping[str, Any]) -> dict[str, int]:
    """Each definition's object nesting, computed leaves first (references are known to be acyclic)."""
    pending = {name: _refs_in(sub) & set(defs) for name, sub in defs.items()}
    memo: dict[str, int] = {}
    while pending:
        ready = [name for name, needs in pending.items() if needs <= memo.keys()]
        if not ready:  # pragma: no cover - cycles are refused before
            break
        for name in ready:
            memo[name] = _nesting(defs[name], defs, memo)
            del pending[name]
    return memo


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


def make_strict(schema: Mapping[str, Any], *, where: str = "schema") -> dict[str, Any]:
    """Rewrite a JSON schema into Cerebras strict form (returns a new dict; the input is not changed).

    ``definitions`` become ``$defs``; every object gets ``additionalProperties: false`` and lists every
    property as required, a property that was optional becoming nullable (``anyOf`` with null);
    ``"type": [...]`` becomes ``anyOf``; unsupported keywords move into the description; ``title`` is
    dropped. The result is checked with ``check_strict_schema`` only by the caller (limits such as size
    cannot be fixed automatically). A schema that is not JSON-schema shaped (``{"$defs": true}``,
    ``{"allOf": 5}``, nested beyond ``MAX_JSON_DEPTH``) raises ``RequestValidationError`` whose ``param`` is
    the place, prefixed with ``where``.
    """
    fix = "pass a JSON schema object, e.g. Model.model_json_schema()"
    if not isinstance(schema, Mapping):
        raise _fail(f"make_strict takes a JSON schema object; got {_show(schema)}.", where, None, fix)
    _check_depth(schema, where, None)
    out: dict[str, Any] = _copy(schema)
    if "definitions" in out:
        old = out.pop("definitions")
        defs = out.setdefault("$defs", {})
        if not isinstance(old, dict):
            raise _fail("'definitions' must be an object of named schemas.", f"{where}.definitions", None, fix)
        if not isinstance(defs, dict):
            raise _fail("'$defs' must be an object of named schemas.", f"{where}.$defs", None, fix)
        defs.update(old)
        _rewrite_refs(out)
    if not isinstance(out.get("$defs", {}), dict):
        raise _fail("'$defs' must be an object of named schemas.", f"{where}.$defs", None, fix)
    out.pop("title", None)
    _strictify(out, where, fix)
    return out


def _copy(node: Any) -> Any:
    # Containers are copied (mappings become dicts, tuples lists); leaves are shared. Depth is already bounded.
    if isinstance(node, Mapping):
        return {key: _copy(value) for key, value in node.items()}
    if isinstance(node, (list, tuple)):
        return [_copy(value) for value in node]
    return node


def _rewrite_refs(node: Any) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            node["$ref"] = "#/$defs/" + ref[len("#/definitions/") :]
        for value in node.values():
            _rewrite_refs(value)
    elif isinstance(node, list):
        for value in node:
            _rewrite_refs(value)


def _strictify(node: Any, path: str, fix: str) -> None:
    if not isinstance(node, dict):
        return
    node.pop("title", None)
    notes = []
    for keyword in _UNSUPPORTED_KEYWORDS:
        if keyword in node:
            notes.append(f"{keyword}: {json.dumps(node.pop(keyword), default=str)}")
    if notes:
        desc = node.get("description")
        node["description"] = f"{desc} ({'; '.join(notes)})" if desc else "; ".join(notes)
    if isinstance(node.get("type"), list):
        types = node.pop("type")
        node["anyOf"] = [{"type": t} for t in types]
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
        node.update(node.pop("allOf")[0])  # pydantic wraps a described $ref this way
        _strictify(node, path, fix)  # the merged keywords get the same treatment
        return
    for key in _LIST_KEYWORDS:
        if key in node and not isinstance(node[key], list):
            raise _fail(f"'{key}' must be a list of schemas; got {_show(node[key])}.", f"{path}.{key}", None, fix)
    if node.get("type") == "object" or "properties" in node:
        node.setdefault("type", "object")
        props = node.get("properties")
        if props is None:
            props = node["properties"] = {}
        if not isinstance(props, dict):
            raise _fail(
                f"'properties' must be an object mapping names to schemas; got {_show(props)}.",
                f"{path}.properties",
                None,
                fix,
            )
        required_list = node.get("required") or []
        if not isinstance(required_list, list) or not all(isinstance(name, str) for name in required_list):
            raise _fail(
                f"'required' must be a list of property names; got {_show(required_list)}.",
                f"{path}.required",
                None,
                fix,
            )
        required = set(required_list)
        for name, sub in props.items():
            _strictify(sub, f"{path}.properties.{name}", fix)  # before wrapping, so errors name the input's place
        for name, sub in props.items():
            if name not in required and not _is_nullable(sub):
                desc = sub.pop("description", None) if isinstance(sub, dict) else None
                props[name] = {"anyOf": [sub, {"type": "null"}]}
                if desc:
                    props[name]["description"] = desc
        node["required"] = list(props)
        node["additionalProperties"] = False
    defs = node.get("$defs")
    if defs is not None and not isinstance(defs, dict):
        raise _fail("'$defs' must be an object of named schemas.", f"{path}.$defs", None, fix)
    for name, sub in (defs or {}).items():
        _strictify(sub, f"{path}.$defs.{name}", fix)
    for key in _LIST_KEYWORDS:
        for i, sub in enumerate(node.get(key) or []):
            _strictify(sub, f"{path}.{key}.{i}", fix)
    if isinstance(node.get("items"), dict):
        _strictify(node["items"], f"{path}.items", fix)


def _is_nullable(node: Any) -> bool:
    if not isinstance(node, Mapping):
        return False
    if node.get("type") == "null":
        return True
    branches = node.get("anyOf")
    return isinstance(branches, list) and any(isinstance(b, Mapping) and b.get("type") == "null" for b in branches)
