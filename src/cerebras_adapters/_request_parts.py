"""Request parts the framework adapters build from their own tool and schema types, each built here once.

A framework hands an adapter a tool or an output schema in its own form (a LangChain tool, a LlamaIndex
``FunctionTool``, a pydantic class); the adapter turns it into a JSON schema or an OpenAI-shaped tool with the
framework's own helper, and then this module makes the request part from it: the strict ``json_schema`` response
format of structured output (``json_schema_format``), a strict tool (``strict_tool``) and a ``tool_choice`` given by
tool name (``tool_choice_for``). The adapters used to build these each in their own way.

It must not import a framework, and it checks nothing the core checks on the call: a strict schema's limits are the
core's rules (``schema.check_strict_schema``), applied on every request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import RequestValidationError
from .schema import make_strict

__all__ = ["json_schema_format", "schema_name", "strict_tool", "tool_choice_for"]


def schema_name(title: Any) -> str:
    """A schema's title as the name ``response_format.json_schema.name`` takes (letters, digits, ``_`` and ``-``, at
    most 64 characters; ``"output"`` when there is none)."""
    cleaned = "".join(c if c.isalnum() or c in "_-" else "_" for c in str(title or ""))
    return cleaned[:64] or "output"


def json_schema_format(schema: Mapping[str, Any], *, strict: bool = True) -> dict[str, Any]:
    """The ``response_format`` for answers that follow ``schema`` (a JSON schema, e.g. pydantic's
    ``model_json_schema()``): its ``title`` becomes the name and its ``description`` the format's description;
    with ``strict`` (the default) the schema is made strict-compatible (``schema.make_strict``) and sent as strict."""
    body = dict(schema)
    name = schema_name(body.pop("title", None))
    description = body.pop("description", None)
    spec: dict[str, Any] = {"name": name, "schema": make_strict(body) if strict else body, "strict": strict}
    if description:
        spec["description"] = description
    return {"type": "json_schema", "json_schema": spec}


def strict_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI-shaped tool made strict, in place: its parameters made strict-compatible and ``strict: true``."""
    function = tool["function"]
    function["parameters"] = make_strict(function.get("parameters") or {"type": "object", "properties": {}})
    function["strict"] = True
    return tool


def tool_choice_for(choice: Any, tools: Sequence[Mapping[str, Any]]) -> Any:
    """The wire's ``tool_choice`` for what a framework was given: ``"auto"``, ``"none"``, ``"required"`` (also
    ``True`` or ``"any"``), a tool's name (→ ``{"type": "function", "function": {"name": ...}}``, refused when no
    offered tool has it), or an already wire-shaped dict."""
    if choice is True or choice == "any":
        return "required"
    if isinstance(choice, str) and choice not in ("auto", "none", "required"):
        names = [tool["function"]["name"] for tool in tools]
        if choice not in names:
            raise RequestValidationError(
                f"tool_choice {choice!r} names no offered tool ({names}).",
                param="tool_choice",
                fix="pass auto, none, required or the name of one of the tools",
            )
        return {"type": "function", "function": {"name": choice}}
    return choice
