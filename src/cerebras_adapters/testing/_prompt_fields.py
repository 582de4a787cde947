"""Output fields a prompt declares, and the values that fill them (DSPy's signature adapters).

Some clients ask for a shape in the prompt, not through ``response_format``. DSPy's adapters write the signature
into the system message: "Your output fields are:" followed by one line per field (``N. `name` (type): ...``),
then a structure block where each non-text field carries a note on its type ("must be a single int value",
"must be True or False", "must exactly match (no extra characters) one of: a; b", "must adhere to the JSON
schema: {...}"). The ChatAdapter reads each field's value under a ``[[ ## name ## ]]`` line and wants a closing
``[[ ## completed ## ]]``; the JSONAdapter wants one JSON object with those keys (through ``json_schema`` or
``json_object``). The user message carries the input fields under the same markers. A model answers in the
shape its prompt asks for, so the emulator does too: every declared field gets a deterministic value of its
type, taken from the request:

* a text field named like reasoning (``reasoning``, ``rationale``, ``*thought``) gets the reasoning sentence;
  the first other text field gets the answer (the scenario's reply, else the emulator's default text);
* a field the scenario's ``structured`` value names, and that fits the type, gets that value;
* a choice (``Literal``/enum) gets the option the question mentions, else the first; in a ReAct prompt (the
  options list ``finish`` and the instructions describe each tool, "It takes arguments {...}") the model
  finishes once the trajectory holds an observation, and an untyped object field holds the arguments of the
  tool chosen in the same reply, built from that tool's argument schema;
* anything else gets an instance of its schema, with numbers and places taken from the input fields.

This module owns reading those declarations and filling them; it must not decide whether a reply is a tool
call or text (``_generation``) or encode it (``_wire``).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ._schema import Hints, instance

__all__ = ["PromptFields", "fits", "prompt_fields"]

_OUTPUTS_HEADER = "Your output fields are:"
_STRUCTURE_HEADER = "All interactions will be structured"
_COMPLETED = "[[ ## completed ## ]]"
_MARKER_RE = re.compile(r"^\[\[ ## (\w+) ## \]\]\s*$", re.MULTILINE)
_FIELD_LINE_RE = re.compile(r"^\d+\. `(\w+)` \(", re.MULTILINE)
_NOTE = "# note: the value you produce "
# "(2) get_weather, whose description is <desc>...</desc>. It takes arguments {'city': {'type': 'string'}}."
_TOOL_RE = re.compile(
    r"^\s*\(\d+\) (\w+)(?:, whose description is <desc>.*?</desc>)?\.? It takes arguments (\{.*\})\.\s*$", re.MULTILINE
)
# The closing instruction of the user message ("Respond with the corresponding output fields, ...").
_RESPOND_RE = re.compile(r"\n\s*Respond with (?:the corresponding output fields|a JSON object)\b.*\Z", re.DOTALL)
_REASONING_NAMES = frozenset({"reasoning", "rationale", "thought", "thinking"})
_STEP_RE = re.compile(r"^(?:thought|tool_name|tool_args|observation)_\d+$")
_FINISH = "finish"


@dataclass(frozen=True)
class PromptFields:
    """The output fields a request's system message declares, with the input fields of its last user message."""

    outputs: dict[str, dict[str, Any]]  # field name → JSON schema of its value
    markers: bool  # answer under [[ ## name ## ]] markers (ChatAdapter), else as one JSON object
    inputs: dict[str, str] = field(default_factory=dict)  # input field name → its text
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)  # ReAct tool → object schema of its arguments
    defs: dict[str, Any] = field(default_factory=dict)  # shared ``$defs`` (from a response_format schema)

    @property
    def question(self) -> str:
        """The input fields' text, without a ReAct trajectory's steps."""
        return "\n".join(text for name, text in self.inputs.items() if not _STEP_RE.match(name) and text)

    @property
    def observations(self) -> list[str]:
        """The tool results of a ReAct trajectory, oldest first (not the ``finish`` step's "Completed.")."""
        return [
            text
            for name, text in self.inputs.items()
            if name.startswith("observation_")
            and self.inputs.get("tool_name_" + name.removeprefix("observation_")) != _FINISH
        ]

    def with_schema(self, schema: dict[str, Any]) -> PromptFields:
        """The same prompt, its output types taken from a ``json_schema`` response format instead of the notes."""
        props = schema.get("properties")
        if not isinstance(props, dict):
            return self
        return replace(self, outputs=dict(props), defs=dict(schema.get("$defs") or {}))

    def values(
        self,
        *,
        reasoning: str,
        answer: str,
        structured: Any,
        hints: Hints,
        mentioned: Callable[[str], bool],
    ) -> dict[str, Any]:
        """A value for every output field (see the module docstring for where each comes from)."""
        given = structured if isinstance(structured, dict) else {}
        nodes = {name: self._resolve(schema) for name, schema in self.outputs.items()}
        out: dict[str, Any] = {}
        for name, node in nodes.items():  # choices first: a ReAct thought and arguments follow the chosen tool
            options = node.get("enum")
            if isinstance(options, list) and options and not (name in given and fits(given[name], node)):
                out[name] = self._choose(options, mentioned)
        chosen = next((v for v in out.values() if isinstance(v, str) and (v in self.tools or v == _FINISH)), None)
        if chosen == _FINISH:
            reasoning = "The observations hold what the answer needs, so the task is complete."
        elif chosen is not None:
            reasoning = f"I will call {chosen} with arguments taken from the question."
        answered = False
        for name, node in nodes.items():
            if name in out:
                continue
            if name in given and fits(given[name], node):
                out[name] = given[name]
            elif node.get("type") == "string" and _is_reasoning(name):
                out[name] = reasoning
            elif node.get("type") == "string" and not answered:
                out[name], answered = answer, True
            elif chosen is not None and node.get("type") == "object" and not node.get("properties"):
                # ReAct's ``next_tool_args``: the arguments of the chosen tool ({} for finish).
                args = self.tools.get(chosen)
                out[name] = instance(args, hints) if args else {}
            else:
                out[name] = self._instance(name, self.outputs[name], hints)
        return {name: out[name] for name in self.outputs}

    def render(self, values: dict[str, Any]) -> str:
        """``values`` in the ChatAdapter's shape: each under its marker, then the closing marker."""
        parts = [
            f"[[ ## {name} ## ]]\n{value if isinstance(value, str) else json.dumps(value)}"
            for name, value in values.items()
        ]
        return "\n\n".join([*parts, _COMPLETED])

    # -------------------------------------------------------------------------------------------- helpers

    def _choose(self, options: list[Any], mentioned: Callable[[str], bool]) -> Any:
        if _FINISH in options and any(name.startswith("observation_") for name in self.inputs):
            return _FINISH
        for option in options:
            if option != _FINISH and isinstance(option, str) and mentioned(option):
                return option
        return _FINISH if _FINISH in options else options[0]

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = self.defs.get(ref.rsplit("/", 1)[-1])
            return target if isinstance(target, dict) else {}
        return schema

    def _instance(self, name: str, schema: dict[str, Any], hints: Hints) -> Any:
        # Through a one-property object, so the field's name guides the value (a "city" gets a place).
        wrapper: dict[str, Any] = {"type": "object", "properties": {name: schema}}
        defs = {**self.defs, **(schema.get("$defs") or {})}
        if defs:
            wrapper["$defs"] = defs
        value = instance(wrapper, hints)
        return value.get(name) if isinstance(value, dict) else None


def prompt_fields(system: str, user: str) -> PromptFields | None:
    """The output fields a request's system text declares (with the input fields of its last user message), or
    None when it declares none."""
    start = system.find(_OUTPUTS_HEADER)
    if start < 0:
        return None
    end = system.find(_STRUCTURE_HEADER, start)
    listing = system[start : end if end >= 0 else len(system)]
    names = _FIELD_LINE_RE.findall(listing)
    if not names:
        return None
    outputs = {name: _note_schema(system, name) for name in names}
    tools = {}
    for match in _TOOL_RE.finditer(system):
        args = _literal(match.group(2))
        if isinstance(args, dict):
            tools[match.group(1)] = {"type": "object", "properties": args}
    return PromptFields(outputs=outputs, markers=_COMPLETED in system, inputs=_sections(user), tools=tools)


def _sections(text: str) -> dict[str, str]:
    text = _RESPOND_RE.sub("", text)
    found: dict[str, str] = {}
    matches = list(_MARKER_RE.finditer(text))
    for i, match in enumerate(matches):
        stop = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        found.setdefault(match.group(1), text[match.end() : stop].strip())
    return found


def _note_schema(system: str, name: str) -> dict[str, Any]:
    """The JSON schema of a field's value, from its note in the structure block (none: text)."""
    match = re.search(rf"^(.*)\{{{re.escape(name)}\}}\s+{re.escape(_NOTE)}(.*)$", system, re.MULTILINE)
    if match is None:
        return {"type": "string"}
    note = match.group(2).rstrip()
    if match.group(1).rstrip().endswith('"'):  # the JSONAdapter's block is itself JSON: unquote the note
        note = note.removesuffix(",").removesuffix('"')
        try:
            note = json.loads(f'"{note}"')
        except ValueError:
            pass
    if note.startswith("must adhere to the JSON schema: "):
        schema = _json(note.removeprefix("must adhere to the JSON schema: "))
        return schema if isinstance(schema, dict) else {"type": "string"}
    for prefix in ("must exactly match (no extra characters) one of: ", "must be one of: "):
        if note.startswith(prefix):
            return {"enum": note.removeprefix(prefix).split("; ")}
    if note == "must be True or False":
        return {"type": "boolean"}
    if note == "must be a single int value":
        return {"type": "integer"}
    if note == "must be a single float value":
        return {"type": "number"}
    return {"type": "string"}


def _is_reasoning(name: str) -> bool:
    lowered = name.lower()
    return lowered in _REASONING_NAMES or lowered.endswith("_thought")


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def fits(value: Any, schema: dict[str, Any]) -> bool:
    """Whether ``value`` fits ``schema``'s ``enum`` or ``type`` (a schema with neither takes anything)."""
    options = schema.get("enum")
    if isinstance(options, list):
        return value in options
    kind = schema.get("type")
    allowed = _JSON_TYPES.get(kind) if isinstance(kind, str) else None
    if allowed is None:
        return True
    return isinstance(value, allowed) and not (kind in ("integer", "number") and isinstance(value, bool))


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _literal(text: str) -> Any:
    # DSPy prints a tool's argument schema as a Python dict (single quotes, True/None).
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return _json(text)
