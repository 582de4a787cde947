"""The request rules: one small named function per fact the API enforces, with its source and API versions.

This module owns the rules checked before a request is sent that go beyond the request's shape: combinations of
options, per-model capabilities (read from the model's ``ModelInfo``, i.e. its family and catalog row), the API
v2 tool-conversation rules and the strict-schema rules. Each ``Rule`` names the fact it encodes, its entry in
``docs/api-facts.md`` and the API versions it applies to; ``RULES`` is the table ``prepare_chat_request``
(``_request``) runs, honouring the client's ``validation`` mode and the request's ``api_version``. The shape of
the request (option types and ranges, message and tool objects, unknown fields) is ``_request``'s to check.

A rule raises ``RequestValidationError`` (param, model, fix), never anything else, whatever it is given: it
sees only options that passed their type and shape checks (``Rule.reads``: a rule is skipped when one of the
options it reads did not), and message rules look only at well-formed messages. Messages that name models
(which models take the developer role, predicted outputs, …) are built from the catalog and the families, not
written out, so they stay true as models come and go.

It must not build the request body, send anything or know a framework.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from .catalog import Catalog, ModelInfo
from .errors import RequestValidationError
from .families import GENERIC, families
from .schema import check_closed_objects, check_every_property_required, check_strict_schema

__all__ = ["DEFAULT_API_VERSION", "RULES", "RequestFacts", "Rule", "rules_markdown"]

#: The API version a request without ``api_version`` gets (docs/api-facts.md#api-versions: v2 is the default
#: since 2026-07-21).
DEFAULT_API_VERSION = 2
_MAX_STOP = 4

_short = reprlib.Repr()
_short.maxstring = 60
_short.maxother = 60
_show = _short.repr  # a caller's value in a message: bounded in length and depth


_NOT_MAPPINGS = frozenset({str, int, float, bool, list, tuple, type(None)})


def _is_map(value: Any) -> TypeGuard[Mapping[Any, Any]]:
    # isinstance(x, Mapping) goes through the ABC machinery: skip it for the types that are plainly not mappings.
    kind = type(value)
    return kind is dict or (kind not in _NOT_MAPPINGS and isinstance(value, Mapping))


@dataclass
class RequestFacts:
    """What the rules look at: one request, after its options were type-checked and translated."""

    model: str
    info: ModelInfo | None
    catalog: Catalog
    #: options that passed their type and shape checks (``disable_reasoning`` already sent as reasoning_effort)
    options: Mapping[str, Any]
    messages: Sequence[Any]
    stream: bool
    version: int = DEFAULT_API_VERSION
    #: the option the caller gave to turn reasoning off, for naming it: reasoning_effort or disable_reasoning
    reasoning_off_by: str = "reasoning_effort"
    #: whether disable_reasoning=True was given
    disable_reasoning: bool = False
    #: option names (and "messages") that were given but failed their type or shape checks
    unchecked: frozenset[str] = frozenset()
    _conversation: list[tuple[str, int, Any, int | None]] | None = field(default=None, repr=False)
    _strict: list[tuple[Any, str]] | None = field(default=None, repr=False)
    #: each strict schema's object sub-schemas, by parameter path, as strict_schema_limits's walk found them
    _schema_objects: dict[str, list[tuple[Mapping[Any, Any], str]]] = field(default_factory=dict, repr=False)

    def fail(self, message: str, *, param: str, fix: str) -> RequestValidationError:
        return RequestValidationError(message, param=param, model=self.model, fix=fix)

    def strict_schemas(self) -> list[tuple[Any, str]]:
        """Every schema the request asks to be enforced strictly, with its parameter path (found once)."""
        if self._strict is None:
            self._strict = list(_strict_schemas(self))
        return self._strict

    def conversation_faults(self) -> list[tuple[str, int, Any, int | None]]:
        """The faults of the tool-call conversation (``_tool_conversation``), found once per request."""
        if self._conversation is None:
            self._conversation = list(_tool_conversation(self.messages))
        return self._conversation


@dataclass(frozen=True)
class Rule:
    """One fact the API enforces, checked before sending."""

    name: str
    fact: str
    #: the fact's entry in the project's record of API facts
    source: str
    check: Callable[[RequestFacts], None]
    #: options the rule reads ("messages" for the conversation); skipped when one of them failed its checks
    reads: tuple[str, ...] = ()
    #: the rule needs the model's capabilities (skipped for a model of no known family)
    per_model: bool = False
    since: int = 1
    until: int | None = None

    def applies_to(self, version: int) -> bool:
        return self.since <= version and (self.until is None or version <= self.until)

    @property
    def versions(self) -> str:
        if self.until is None:
            return "all" if self.since <= 1 else f"v{self.since}+"
        return f"v{self.since}" if self.since == self.until else f"v{self.since}-v{self.until}"


# -- naming the models a capability belongs to, from the catalog ----------------------------------------------


def _join(items: Sequence[str], word: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def _capable(catalog: Catalog, has: Callable[[Any], bool]) -> tuple[list[str], list[str], list[str]]:
    """(families whose definition has it, current catalog models of those families that have it, current catalog
    models of other families that have it). ``has`` reads a ``Family`` or a ``ModelInfo`` (same field names)."""
    names = [f.name for f in families() if f is not GENERIC and has(f)]
    members: list[str] = []
    others: list[str] = []
    for info in catalog:
        if info.status != "retired" and has(info):
            (members if info.family in names else others).append(info.id)
    return names, members, others


def _only(facts: RequestFacts, has: Callable[[Any], bool], verb: str) -> str:
    """E.g. "only models of the gpt-oss family accept the developer role (gpt-oss-120b)"."""
    names, members, others = _capable(facts.catalog, has)
    subjects = []
    if names:
        subjects.append(f"models of the {_join(names)} {'family' if len(names) == 1 else 'families'}")
    subjects += others
    if not subjects:
        return f"no known model {verb}"
    text = f"only {_join(subjects)} {verb}"
    return f"{text} ({', '.join(members)})" if members else text


def _examples(facts: RequestFacts, has: Callable[[Any], bool]) -> list[str]:
    _, members, others = _capable(facts.catalog, has)
    return members + others


# -- lengths, reasoning ---------------------------------------------------------------------------------------


def max_tokens_or_max_completion_tokens(facts: RequestFacts) -> None:
    if "max_tokens" in facts.options and "max_completion_tokens" in facts.options:
        raise facts.fail(
            "Pass either max_completion_tokens or max_tokens, not both (the API rejects both).",
            param="max_tokens",
            fix="keep max_completion_tokens only",
        )


def disable_reasoning_agrees_with_effort(facts: RequestFacts) -> None:
    effort = facts.options.get("reasoning_effort")
    if facts.disable_reasoning and effort is not None and effort != "none":
        raise facts.fail(
            f"disable_reasoning=True contradicts reasoning_effort={effort!r}.",
            param="disable_reasoning",
            fix="drop disable_reasoning and keep reasoning_effort",
        )


def reasoning_cannot_be_turned_off(facts: RequestFacts) -> None:
    assert facts.info is not None
    if facts.info.reasoning != "always_on" or facts.options.get("reasoning_effort") != "none":
        return
    if facts.reasoning_off_by == "disable_reasoning":
        raise facts.fail(
            f"{facts.model} always reasons; disable_reasoning=True is rejected by the API (400).",
            param="disable_reasoning",
            fix="drop disable_reasoning; use reasoning_effort='low' for the least reasoning",
        )
    raise facts.fail(
        f"{facts.model} always reasons; reasoning_effort='none' (or disable_reasoning) is rejected by the API.",
        param="reasoning_effort",
        fix="use reasoning_effort='low' for the least reasoning",
    )


def reasoning_effort_per_model(facts: RequestFacts) -> None:
    info = facts.info
    assert info is not None
    effort = facts.options.get("reasoning_effort")
    if effort is None or info.reasoning_efforts is None or effort in info.reasoning_efforts:
        return
    if effort == "none" and info.reasoning == "always_on":
        return  # reasoning_cannot_be_turned_off says it better
    allowed = ", ".join(info.reasoning_efforts) or "none (the model does not take reasoning_effort)"
    raise facts.fail(
        f"{facts.model} does not take reasoning_effort={effort!r}.",
        param="reasoning_effort",
        fix=f"use one of: {allowed}",
    )


def clear_thinking_supported(facts: RequestFacts) -> None:
    assert facts.info is not None
    if "clear_thinking" in facts.options and not facts.info.clear_thinking:
        who = _only(facts, lambda m: m.clear_thinking, "take it")
        raise facts.fail(
            f"{facts.model} does not take clear_thinking (sending it breaks other models): {who}.",
            param="clear_thinking",
            fix="drop clear_thinking for this model",
        )


def reasoning_format_per_model(facts: RequestFacts) -> None:
    formats = facts.info.reasoning_formats if facts.info is not None else None
    fmt = facts.options.get("reasoning_format")
    if fmt is not None and formats is not None and fmt not in formats:
        raise facts.fail(
            f"{facts.model} does not support reasoning_format={fmt!r}.",
            param="reasoning_format",
            fix=f"use one of: {', '.join(formats)}",
        )


# -- messages -------------------------------------------------------------------------------------------------


def _messages(facts: RequestFacts) -> Iterator[tuple[int, Mapping[Any, Any], str]]:
    for i, message in enumerate(facts.messages):
        if _is_map(message) and isinstance(message.get("role"), str):
            yield i, message, message["role"]


def developer_role(facts: RequestFacts) -> None:
    assert facts.info is not None
    if facts.info.developer_role:
        return
    for i, _, role in _messages(facts):
        if role == "developer":
            who = _only(facts, lambda m: m.developer_role, "accept the developer role")
            raise facts.fail(
                f"{facts.model} does not accept the 'developer' role: {who}.",
                param=f"messages.{i}.role",
                fix="use role 'system'",
            )


def image_input_needs_vision(facts: RequestFacts) -> None:
    assert facts.info is not None
    if facts.info.vision:
        return
    for i, message, _ in _messages(facts):
        content = message.get("content")
        if not isinstance(content, (list, tuple)):
            continue
        for j, part in enumerate(content):
            if _is_map(part) and part.get("type") in ("image_url", "image"):
                vision = _examples(facts, lambda m: m.vision)
                raise facts.fail(
                    f"{facts.model} does not accept image input: {_only(facts, lambda m: m.vision, 'do')}.",
                    param=f"messages.{i}.content.{j}",
                    fix=f"use a vision model such as {vision[0]}" if vision else "send the image as text",
                )


def _tool_conversation(messages: Sequence[Any]) -> Iterator[tuple[str, int, Any, int | None]]:
    """Faults of a tool-call conversation, in order: ``("duplicate", i, (j, id), None)``,
    ``("orphan", i, id, None)`` and ``("unanswered", at, id, i)`` (``i`` None: nothing answered it at all)."""
    open_calls: dict[str, int] = {}  # tool-call id -> index of the assistant message that made it
    seen: set[str] = set()
    for i, message in enumerate(messages):
        if not _is_map(message):
            continue
        role = message.get("role")
        if not open_calls and role != "tool" and not message.get("tool_calls"):
            continue  # the common case: a turn without tool calls, nothing open
        if role == "tool":
            answered = message.get("tool_call_id")
            if not isinstance(answered, str):
                continue
            if answered in open_calls:
                del open_calls[answered]
            else:
                yield "orphan", i, answered, None
            continue
        if open_calls:
            call_id, at = next(iter(open_calls.items()))
            yield "unanswered", at, call_id, i
            open_calls.clear()
        calls = message.get("tool_calls") if role == "assistant" else None
        if not isinstance(calls, (list, tuple)):
            continue
        for j, call in enumerate(calls):
            made = call.get("id") if _is_map(call) else None
            if not isinstance(made, str) or not made:
                continue
            if made in seen:
                yield "duplicate", i, (j, made), None
            seen.add(made)
            open_calls[made] = i
    if open_calls:
        call_id, at = next(iter(open_calls.items()))
        yield "unanswered", at, call_id, None


def tool_call_ids_unique(facts: RequestFacts) -> None:
    for kind, i, where, _ in facts.conversation_faults():
        if kind == "duplicate":
            j, call_id = where
            raise facts.fail(
                f"Tool-call id {call_id!r} is used twice.",
                param=f"messages.{i}.tool_calls.{j}.id",
                fix="give every tool call a unique id",
            )


def tool_messages_answer_a_call(facts: RequestFacts) -> None:
    for kind, i, answered, _ in facts.conversation_faults():
        if kind == "orphan":
            raise facts.fail(
                f"messages.{i} answers tool call {_show(answered)}, which no earlier assistant message made "
                "(the API rejects orphan tool messages).",
                param=f"messages.{i}.tool_call_id",
                fix="set tool_call_id to the id of a tool call from a preceding assistant message",
            )


def tool_calls_answered(facts: RequestFacts) -> None:
    for kind, at, call_id, before in facts.conversation_faults():
        if kind == "unanswered":
            when = "by any tool message" if before is None else f"before messages.{before}"
            raise facts.fail(
                f"Tool call {call_id!r} from messages.{at} is not answered {when} (API v2 requires a tool message "
                "for every tool call).",
                param=f"messages.{at}.tool_calls",
                fix=f"add {{'role': 'tool', 'tool_call_id': {call_id!r}, 'content': ...}} after messages.{at}",
            )


# -- tools and structured outputs -----------------------------------------------------------------------------


def _format_type(facts: RequestFacts) -> Any:
    fmt = facts.options.get("response_format")
    return fmt.get("type") if _is_map(fmt) else None


def tools_not_with_response_format(facts: RequestFacts) -> None:
    if facts.options.get("tools") and _format_type(facts) in ("json_object", "json_schema"):
        raise facts.fail(
            "tools and response_format cannot be used in the same request (Cerebras rejects it).",
            param="response_format",
            fix="use structured output through a tool, or drop the tools for this call",
        )


def json_mode_not_streamed(facts: RequestFacts) -> None:
    if facts.stream and _format_type(facts) == "json_object":
        raise facts.fail(
            "response_format json_object is not compatible with streaming.",
            param="response_format",
            fix="call with stream=False, or use json_schema",
        )


def _strict_schemas(facts: RequestFacts) -> Iterator[tuple[Any, str]]:
    """Every schema the request asks to be enforced strictly, with its parameter path."""
    fmt = facts.options.get("response_format")
    if fmt is not None and _is_map(fmt) and fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        if _is_map(spec) and spec.get("strict") and "schema" in spec:
            yield spec["schema"], "response_format.json_schema.schema"
    for i, tool in enumerate(facts.options.get("tools") or ()):
        fn = tool.get("function") if _is_map(tool) else None
        if fn is not None and _is_map(fn) and fn.get("strict") and "parameters" in fn:
            yield fn["parameters"], f"tools.{i}.function.parameters"


def strict_schema_limits(facts: RequestFacts) -> None:
    for schema, where in facts.strict_schemas():
        objects: list[tuple[Mapping[Any, Any], str]] = []
        check_strict_schema(
            schema, where=where, model=facts.model, closed_objects=False, every_property_required=False, objects=objects
        )
        facts._schema_objects[where] = objects  # only once the walk is complete: the v2 rules reuse it


def strict_schema_closed_objects(facts: RequestFacts) -> None:
    for schema, where in facts.strict_schemas():
        check_closed_objects(schema, where=where, model=facts.model, objects=facts._schema_objects.get(where))


def strict_schema_every_property_required(facts: RequestFacts) -> None:
    for schema, where in facts.strict_schemas():
        check_every_property_required(schema, where=where, model=facts.model, objects=facts._schema_objects.get(where))


def structured_outputs_supported(facts: RequestFacts) -> None:
    assert facts.info is not None
    if _format_type(facts) in ("json_object", "json_schema") and not facts.info.structured_outputs:
        models = _examples(facts, lambda m: m.structured_outputs)
        raise facts.fail(
            f"{facts.model} does not support structured outputs.",
            param="response_format",
            fix=f"pick a model that does, such as {models[0]}" if models else "pick a model that does",
        )


def tools_supported(facts: RequestFacts) -> None:
    assert facts.info is not None
    if facts.options.get("tools") and not facts.info.tools:
        models = _examples(facts, lambda m: m.tools)
        raise facts.fail(
            f"{facts.model} does not support tools.",
            param="tools",
            fix=f"pick a model with tool calling, such as {models[0]}" if models else "pick a model with tool calling",
        )


def strict_uniform_across_tools(facts: RequestFacts) -> None:
    tools = facts.options.get("tools") or ()
    stricts = {bool(t["function"].get("strict")) for t in tools if _is_map(t) and _is_map(t.get("function"))}
    if len(stricts) > 1:
        raise facts.fail(
            "strict must be the same on every tool of a request (mixed values are rejected).",
            param="tools",
            fix="set strict on all tools or on none",
        )


def tool_choice_names_a_tool(facts: RequestFacts) -> None:
    choice = facts.options.get("tool_choice")
    tools = facts.options.get("tools")
    if not _is_map(choice) or tools is None:
        return  # no tools at all: tool_choice_needs_tools (API v2)
    function = choice.get("function")
    name = function.get("name") if _is_map(function) else None
    names = {t["function"].get("name") for t in tools if _is_map(t) and _is_map(t.get("function"))}
    if name not in names:
        raise facts.fail(
            f"tool_choice names {_show(name)}, which is not one of the tools.",
            param="tool_choice.function.name",
            fix=f"name one of {sorted(n for n in names if isinstance(n, str))}",
        )


def tool_choice_forms_per_model(facts: RequestFacts) -> None:
    info = facts.info
    assert info is not None
    choice = facts.options.get("tool_choice")
    if choice is None or info.tool_choice_modes is None:
        return
    mode = "function" if _is_map(choice) else choice
    if mode not in info.tool_choice_modes:
        raise facts.fail(
            f"{facts.model} accepts tool_choice {' or '.join(map(repr, info.tool_choice_modes))} only; "
            f"{_show(choice)} is rejected (400 wrong_api_format).",
            param="tool_choice",
            fix="use tool_choice='auto' (the model decides; with one tool it usually calls it)",
        )


def tool_choice_needs_tools(facts: RequestFacts) -> None:
    if facts.options.get("tool_choice") is not None and not facts.options.get("tools"):
        raise facts.fail(
            "tool_choice needs tools.", param="tool_choice", fix="pass tools=[...] too, or drop tool_choice"
        )


# -- other options --------------------------------------------------------------------------------------------


def stop_at_most_four(facts: RequestFacts) -> None:
    stop = facts.options.get("stop")
    if isinstance(stop, (list, tuple)) and len(stop) > _MAX_STOP:
        raise facts.fail(
            f"At most {_MAX_STOP} stop sequences are allowed; got {len(stop)}.",
            param="stop",
            fix="keep the 4 that matter",
        )


def top_logprobs_needs_logprobs(facts: RequestFacts) -> None:
    if "top_logprobs" in facts.options and not facts.options.get("logprobs"):
        raise facts.fail("top_logprobs needs logprobs=True.", param="top_logprobs", fix="pass logprobs=True as well")


def prediction_combinations(facts: RequestFacts) -> None:
    if "prediction" not in facts.options:
        return
    for clash, bad in (
        ("logprobs", bool(facts.options.get("logprobs"))),
        ("n", (facts.options.get("n") or 1) > 1),
        ("tools", bool(facts.options.get("tools"))),
    ):
        if bad:
            raise facts.fail(
                f"prediction cannot be combined with {clash}.",
                param="prediction",
                fix=f"drop {clash} or drop prediction",
            )


def predicted_outputs_supported(facts: RequestFacts) -> None:
    assert facts.info is not None
    if "prediction" in facts.options and not facts.info.predicted_outputs:
        models = _examples(facts, lambda m: m.predicted_outputs)
        raise facts.fail(
            f"{facts.model} does not support predicted outputs: {_only(facts, lambda m: m.predicted_outputs, 'do')}.",
            param="prediction",
            fix=f"use {_join(models, 'or')}, or drop prediction" if models else "drop prediction",
        )


def queue_threshold_needs_flex_or_auto(facts: RequestFacts) -> None:
    if "queue_threshold" in facts.options and facts.options.get("service_tier") not in ("flex", "auto"):
        raise facts.fail(
            "queue_threshold applies only with service_tier 'flex' or 'auto'.",
            param="queue_threshold",
            fix="pass service_tier='flex' (or 'auto'), or drop queue_threshold",
        )


# -- the table ------------------------------------------------------------------------------------------------

_FACTS = "docs/api-facts.md"

#: Every rule, in the order they are checked. ``prepare_chat_request`` runs those that apply to the request's
#: API version; with ``validation="warn"`` each failure is a warning and the next rule runs.
RULES: tuple[Rule, ...] = (
    Rule(
        "max_tokens_or_max_completion_tokens",
        "max_tokens is the deprecated alias of max_completion_tokens; sending both is rejected",
        f"{_FACTS}#max-tokens",
        max_tokens_or_max_completion_tokens,
        reads=("max_tokens", "max_completion_tokens"),
    ),
    Rule(
        "disable_reasoning_agrees_with_effort",
        "disable_reasoning=True is sent as reasoning_effort='none', so another effort contradicts it",
        f"{_FACTS}#turning-reasoning-off",
        disable_reasoning_agrees_with_effort,
        reads=("disable_reasoning", "reasoning_effort"),
    ),
    Rule(
        "reasoning_cannot_be_turned_off",
        "an always-reasoning model (gpt-oss) rejects reasoning_effort='none' and disable_reasoning (400)",
        f"{_FACTS}#turning-reasoning-off",
        reasoning_cannot_be_turned_off,
        reads=("reasoning_effort",),
        per_model=True,
    ),
    Rule(
        "developer_role",
        "only some models accept the developer role",
        f"{_FACTS}#developer-role",
        developer_role,
        reads=("messages",),
        per_model=True,
    ),
    Rule(
        "image_input_needs_vision",
        "only vision models accept image parts",
        f"{_FACTS}#images",
        image_input_needs_vision,
        reads=("messages",),
        per_model=True,
    ),
    Rule(
        "tool_call_ids_unique",
        "tool-call ids are unique within a request",
        f"{_FACTS}#tool-call-conversations",
        tool_call_ids_unique,
        reads=("messages",),
        since=2,
    ),
    Rule(
        "tool_messages_answer_a_call",
        "a tool message answers a tool call of the assistant message before it",
        f"{_FACTS}#tool-call-conversations",
        tool_messages_answer_a_call,
        reads=("messages",),
        since=2,
    ),
    Rule(
        "tool_calls_answered",
        "every tool call is answered by tool messages before the next message",
        f"{_FACTS}#tool-call-conversations",
        tool_calls_answered,
        reads=("messages",),
        since=2,
    ),
    Rule(
        "tools_not_with_response_format",
        "tools and a json_object/json_schema response_format cannot be used in one request",
        f"{_FACTS}#tools-and-response-format",
        tools_not_with_response_format,
        reads=("tools", "response_format"),
    ),
    Rule(
        "json_mode_not_streamed",
        "response_format json_object is not compatible with stream=True",
        f"{_FACTS}#json-mode-and-streaming",
        json_mode_not_streamed,
        reads=("response_format",),
    ),
    Rule(
        "strict_schema_limits",
        "strict schemas: at most 5 000 characters, depth 5, 500 properties and enum values, anyOf of 5, no "
        "recursion, $defs and internal refs only, no type lists",
        f"{_FACTS}#strict-schema-limits",
        strict_schema_limits,
        reads=("tools", "response_format"),
    ),
    Rule(
        "strict_schema_closed_objects",
        "strict schemas need additionalProperties: false on every object (v1 quietly handled it)",
        f"{_FACTS}#strict-schemas-by-api-version",
        strict_schema_closed_objects,
        reads=("tools", "response_format"),
        since=2,
    ),
    Rule(
        "strict_schema_every_property_required",
        "strict schemas list every property in required (v1 accepted an optional one left out, RT-14)",
        f"{_FACTS}#strict-schemas-by-api-version",
        strict_schema_every_property_required,
        reads=("tools", "response_format"),
        since=2,
    ),
    Rule(
        "structured_outputs_supported",
        "structured outputs only on models that have them",
        f"{_FACTS}#model-catalog",
        structured_outputs_supported,
        reads=("response_format",),
        per_model=True,
    ),
    Rule(
        "tools_supported",
        "tools only on models with tool calling",
        f"{_FACTS}#model-catalog",
        tools_supported,
        reads=("tools",),
        per_model=True,
    ),
    Rule(
        "strict_uniform_across_tools",
        "strict must be the same on every tool of a request",
        f"{_FACTS}#tool-definitions",
        strict_uniform_across_tools,
        reads=("tools",),
    ),
    Rule(
        "tool_choice_needs_tools",
        "tool_choice without tools is an error",
        f"{_FACTS}#tool-choice",
        tool_choice_needs_tools,
        reads=("tool_choice", "tools"),
        since=2,
    ),
    Rule(
        "tool_choice_names_a_tool",
        "a named tool_choice names one of the tools",
        f"{_FACTS}#tool-choice",
        tool_choice_names_a_tool,
        reads=("tool_choice", "tools"),
    ),
    Rule(
        "tool_choice_forms_per_model",
        "some models accept only some tool_choice forms (gpt-oss: auto and none)",
        f"{_FACTS}#tool-choice",
        tool_choice_forms_per_model,
        reads=("tool_choice",),
        per_model=True,
    ),
    Rule(
        "stop_at_most_four",
        "stop takes at most 4 sequences",
        f"{_FACTS}#option-ranges",
        stop_at_most_four,
        reads=("stop",),
    ),
    Rule(
        "top_logprobs_needs_logprobs",
        "top_logprobs needs logprobs=True",
        f"{_FACTS}#option-ranges",
        top_logprobs_needs_logprobs,
        reads=("top_logprobs", "logprobs"),
    ),
    Rule(
        "prediction_combinations",
        "prediction is not combined with logprobs, n > 1 or tools",
        f"{_FACTS}#predicted-outputs",
        prediction_combinations,
        reads=("prediction", "logprobs", "n", "tools"),
    ),
    Rule(
        "predicted_outputs_supported",
        "predicted outputs only on models that have them",
        f"{_FACTS}#predicted-outputs",
        predicted_outputs_supported,
        reads=("prediction",),
        per_model=True,
    ),
    Rule(
        "queue_threshold_needs_flex_or_auto",
        "queue_threshold applies only to the flex and auto service tiers",
        f"{_FACTS}#queue-threshold",
        queue_threshold_needs_flex_or_auto,
        reads=("queue_threshold", "service_tier"),
    ),
    Rule(
        "reasoning_effort_per_model",
        "each model takes its own set of reasoning_effort values",
        f"{_FACTS}#reasoning-per-model-family",
        reasoning_effort_per_model,
        reads=("reasoning_effort",),
        per_model=True,
    ),
    Rule(
        "clear_thinking_supported",
        "clear_thinking only on models that take it (GLM 4.7); it breaks others",
        f"{_FACTS}#clear-thinking",
        clear_thinking_supported,
        reads=("clear_thinking",),
        per_model=True,
    ),
    Rule(
        "reasoning_format_per_model",
        "some models lack some reasoning formats (gemma: no raw or hidden)",
        f"{_FACTS}#reasoning-format",
        reasoning_format_per_model,
        reads=("reasoning_format",),
        per_model=True,
    ),
)


# Which rules can fail for a request: those that read the messages, and those that read an option it gives (a
# rule never fails on options that are absent). Table positions, so the table's order is kept.
_ALWAYS = frozenset(i for i, rule in enumerate(RULES) if "messages" in rule.reads or not rule.reads)
_BY_OPTION: dict[str, frozenset[int]] = {
    name: frozenset(i for i, rule in enumerate(RULES) if name in rule.reads)
    for name in {name for rule in RULES for name in rule.reads}
}


_picked: dict[tuple[frozenset[str], int, bool], tuple[Rule, ...]] = {}


def _candidates(options: Mapping[str, Any], version: int, known_model: bool) -> tuple[Rule, ...]:
    """The rules that apply to this version and can fail given these options, in table order (remembered per
    combination of option names, version and whether the model's capabilities are known)."""
    key = (frozenset(name for name in options if name in _BY_OPTION), version, known_model)
    rules = _picked.get(key)
    if rules is None:
        picked = set(_ALWAYS)
        for name in key[0]:
            picked.update(_BY_OPTION[name])
        rules = tuple(
            RULES[i] for i in sorted(picked) if RULES[i].applies_to(version) and (known_model or not RULES[i].per_model)
        )
        if len(_picked) < 4096:
            _picked[key] = rules
    return rules


@dataclass
class RuleRun:
    """Runs the table for one request: strict raises the first failure, warn collects every one."""

    facts: RequestFacts
    raise_first: bool = True
    failures: list[RequestValidationError] = field(default_factory=list)

    def run(self, rules: Sequence[Rule] | None = None) -> list[RequestValidationError]:
        facts = self.facts
        if rules is None:
            rules = _candidates(facts.options, facts.version, facts.info is not None)
        else:
            rules = [r for r in rules if r.applies_to(facts.version) and (facts.info is not None or not r.per_model)]
        unchecked = facts.unchecked
        for rule in rules:
            if unchecked and any(name in unchecked for name in rule.reads):
                continue
            try:
                rule.check(facts)
            except RequestValidationError as exc:
                exc.rule = rule.name
                if self.raise_first:
                    raise
                self.failures.append(exc)
        return self.failures


def rules_markdown() -> str:
    """The rule table as markdown (the options page of the docs embeds it)."""
    rows = ["| rule | fact | API versions | per model | source |", "|---|---|---|---|---|"]
    for rule in RULES:
        anchor = rule.source.split("#", 1)[1]
        rows.append(
            f"| `{rule.name}` | {rule.fact.replace('|', '/')} | {rule.versions} | "
            f"{'yes' if rule.per_model else ''} | [{anchor}](api-facts.md#{anchor}) |"
        )
    return "\n".join(rows)
