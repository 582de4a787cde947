"""Turning a ``create(...)`` call into a validated request: the options, the catalog and the rules.

This module owns the checks of a request's shape (option types and ranges, message, tool and response-format
objects, unknown fields), runs the request rules of ``_rules`` (the facts the API enforces beyond shape, each
named, with its source and API versions) for the request's API version, and assembles the JSON body and
option headers. Each failure is a ``RequestValidationError`` naming the parameter, the model and the fix.
Route-specific shaping (OpenRouter's model ids, provider pin, reasoning object) happens afterwards in
``routes``; sending happens in ``_client``.

``validation`` decides what a failure does: ``"strict"`` (default) raises it; ``"warn"`` emits a
``ValidationWarning`` with the same message and sends the request as given; ``"off"`` runs no check at all and
sends what the caller gave, unknown parameters included. Whatever the mode, the body that leaves is strict JSON
(``encode_body``), headers are legal (``_headers``), and the documented translations still apply
(``max_tokens`` and ``disable_reasoning`` as their successors, ``api_version`` as a header, normalised to an
integer).

Rules never refuse what the real API accepts: consecutive messages of one role, a system message last, an
assistant-only history, ``max_tokens``, ``stream_options``, ``n`` and the penalties all go through
(RT-01, RT-10..RT-14), and a model missing from the catalog skips every capability rule.

Every shape the API's schema fixes is checked too (docs/api-facts.md#message-fields, docs/api-facts.md#tool-definitions,
docs/api-facts.md#response-format; the SPEC is ``additionalProperties: false`` throughout): message content is a string
or a list of parts, tool calls, tools, ``tool_choice``, ``response_format``, ``prediction`` and ``stream_options`` have
their documented fields with their types. OpenRouter's ``plugins`` (the web plugin's fields) and ``cache_control``
markers (top level and on content parts) are checked here on both routes; what each route does with them is ``routes``'
(docs/api-facts.md#openrouter-web-search, docs/api-facts.md#prompt-caching). Fuzzed input
(``tests/test_fuzz_requests.py``) must end in a ``RequestValidationError`` naming the parameter, never in a
``TypeError``, and ``encode_body`` guarantees the body that leaves is strict JSON: no NaN or infinity, no lone
surrogate, nothing pydantic cannot serialise.
"""

from __future__ import annotations

import json
import math
import os
import re
import reprlib
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard

import pydantic
import pydantic_core

from ._rules import DEFAULT_API_VERSION, RequestFacts, RuleRun
from .catalog import Catalog, ModelInfo
from .errors import RequestValidationError, UnsupportedParameterError
from .options import (
    HEADER_OPTIONS,
    KNOWN_UNSUPPORTED,
    ONLINE_SUFFIX,
    OPENROUTER_PLUGIN_IDS,
    OPTION_NAMES,
    WEB_SEARCH_ENGINES,
    option_adapter,
    option_descriptions,
)

__all__ = [
    "VALIDATION_MODES",
    "PreparedRequest",
    "UnsupportedPolicy",
    "Validation",
    "ValidationWarning",
    "check_validation_mode",
    "encode_body",
    "prepare_chat_request",
]

UnsupportedPolicy = Literal["raise", "drop"]
Validation = Literal["strict", "warn", "off"]
VALIDATION_MODES: tuple[str, ...] = ("strict", "warn", "off")

_MESSAGE_FIELDS: dict[str, frozenset[str]] = {
    "system": frozenset({"role", "content", "name"}),
    "developer": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    "assistant": frozenset({"role", "content", "reasoning", "tool_calls", "name"}),
    "tool": frozenset({"role", "content", "tool_call_id", "name"}),
}
_TOOL_CALL_FIELDS = frozenset({"id", "type", "function", "index"})
_TOOL_CALL_FUNCTION_FIELDS = frozenset({"name", "arguments"})
_TOOL_FIELDS = frozenset({"type", "function"})
_TOOL_FUNCTION_FIELDS = frozenset({"name", "description", "parameters", "strict"})
_JSON_SCHEMA_FIELDS = frozenset({"name", "description", "schema", "strict"})
_FORMAT_FIELDS = frozenset({"type"})
_SCHEMA_FORMAT_FIELDS = frozenset({"type", "json_schema"})
_NAME_FIELD = frozenset({"name"})
_STREAM_OPTIONS_FIELDS = frozenset({"include_usage"})
_PREDICTION_FIELDS = frozenset({"type", "content"})
_TEXT_PART_FIELDS = frozenset({"type", "text"})
# Every content part may carry OpenRouter's prompt-caching marker; the Cerebras route removes it before sending
# (docs/api-facts.md#prompt-caching).
_CACHE_CONTROL = "cache_control"
_CACHE_CONTROL_FIELDS = frozenset({"type", "ttl"})
_CACHE_CONTROL_FIX = 'use {"type": "ephemeral"} or {"type": "ephemeral", "ttl": "5m" | "1h"}'
_TEXT_CONTENT_PART_FIELDS = _TEXT_PART_FIELDS | {_CACHE_CONTROL}
_IMAGE_PART_FIELDS = {kind: frozenset({"type", kind, _CACHE_CONTROL}) for kind in ("image_url", "image")}
# OpenRouter's web plugin (docs/api-facts.md#openrouter-web-search).
_WEB_PLUGIN_FIELDS = frozenset({"id", "engine", "max_results", "search_prompt", "include_domains", "exclude_domains"})
_WEB_PLUGIN_FIX = (
    'use {"id": "web", "engine"?: one of ' + ", ".join(WEB_SEARCH_ENGINES) + ', "max_results"?: int >= 1, '
    '"search_prompt"?: str, "include_domains"?: [str], "exclude_domains"?: [str]}'
)
_JSON_SCHEMA_FIX = f"json_schema takes only {sorted(_JSON_SCHEMA_FIELDS)}"
_TOOL_FUNCTION_FIX = f"a function takes only {sorted(_TOOL_FUNCTION_FIELDS)}"
# Tool names: letters, digits, '_' and '-', at most 64 (docs/api-facts.md#tool-definitions, docs).
_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
# Images only as base64 data URIs of PNG or JPEG (docs/api-facts.md#images).
_DATA_URI = re.compile(r"data:image/(?:png|jpeg);base64,[A-Za-z0-9+/=\s]+")
_PARTS_FIX = 'pass text as a string, or a list of parts such as [{"type": "text", "text": "..."}]'
_NUMBER = re.compile(r"\s*[0-9]+\s*")
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_warned_retired: set[str] = set()


def _is_map(value: Any) -> TypeGuard[Mapping[Any, Any]]:
    # ``isinstance(x, Mapping)`` goes through the ABC machinery; plain dicts, nearly every value here, skip it.
    return type(value) is dict or isinstance(value, Mapping)


_short = reprlib.Repr()
_short.maxstring = 60
_short.maxother = 60
_show = _short.repr  # a caller's value in a message: bounded in length and depth, never recursive


@dataclass
class PreparedRequest:
    """A validated request, ready for a route to shape and the transport to send."""

    model: str
    body: dict[str, Any]
    headers: dict[str, str]
    stream: bool
    timeout: Any
    info: ModelInfo | None
    # Body fields that came from extra_body, so an encoding error names extra_body.<field>.
    extra_body_keys: frozenset[str] = field(default_factory=frozenset)


class ValidationWarning(UserWarning):
    """A check that failed on a client created with ``validation="warn"``: the request was sent anyway.

    The message is that of the ``RequestValidationError`` strict validation would have raised; ``param``,
    ``model``, ``fix`` and ``rule`` (the request rule's name, None for a shape or type check) are its attributes.
    """

    def __init__(self, error: RequestValidationError) -> None:
        super().__init__(str(error))
        self.param = error.param
        self.model = error.model
        self.fix = error.fix
        self.rule = error.rule


def check_validation_mode(value: object) -> Validation:
    """``value`` if it is a validation mode, else ``RequestValidationError`` naming ``validation``."""
    if value == "strict" or value == "warn" or value == "off":
        return value
    raise RequestValidationError(
        f"validation must be 'strict', 'warn' or 'off', not {_show(value)}.",
        param="validation",
        fix="pass validation='strict' (refuse), 'warn' (warn and send) or 'off' (send as given)",
    )


class _Report:
    """Where a failed check goes: raised (strict) or warned about (warn). Off runs no check."""

    def __init__(self, validation: Validation) -> None:
        self.strict = validation == "strict"
        self.checking = validation != "off"

    def __call__(self, error: RequestValidationError) -> None:
        if self.strict:
            raise error
        _warn(error)


def _warn(error: RequestValidationError) -> None:
    # Point the warning at the first frame outside this package: the caller's create(), or the framework's.
    level, frame = 1, sys._getframe(0)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(ValidationWarning(error), stacklevel=level)


def prepare_chat_request(
    model: str,
    messages: Iterable[Mapping[str, Any]],
    stream: bool,
    options: Mapping[str, Any],
    *,
    catalog: Catalog,
    unsupported_params: UnsupportedPolicy = "raise",
    validation: Validation = "strict",
) -> PreparedRequest:
    if not isinstance(model, str) or not model:
        # In every mode: the model id picks the catalog entry and the route's model name.
        raise RequestValidationError(
            "'model' must be a non-empty string.", param="model", fix="pass a model id such as 'gpt-oss-120b'"
        )
    # "<id>:online" is the model with OpenRouter's web plugin: its capabilities are the model's.
    info = catalog.get(model.removesuffix(ONLINE_SUFFIX))
    report = _Report(check_validation_mode(validation))
    opts = _known_options(options, model, unsupported_params, report)
    version = _api_version(opts)
    unchecked: set[str] = _check_types(opts, model, report) if report.checking else set()
    disable_reasoning = False
    off_by = "reasoning_effort"
    if "disable_reasoning" in opts:
        warnings.warn(
            "disable_reasoning is deprecated by Cerebras (2026-03-24); use reasoning_effort='none'. "
            "It is sent as reasoning_effort='none'.",
            DeprecationWarning,
            stacklevel=4,
        )
        value = opts["disable_reasoning"]
        if type(value) is bool:  # anything else is sent as given (warn, off) or was refused (strict)
            del opts["disable_reasoning"]
            disable_reasoning = value
            if value and "reasoning_effort" not in opts:
                opts["reasoning_effort"] = "none"
                off_by = "disable_reasoning"
    if "max_tokens" in opts and "max_completion_tokens" not in opts:
        opts["max_completion_tokens"] = opts.pop("max_tokens")
    msgs = _given(messages)
    if report.checking:
        try:
            msgs = _check_messages(msgs, model, unsupported_params)
        except RequestValidationError as exc:
            report(exc)
            unchecked.add("messages")
        unchecked |= _check_option_shapes(opts, unchecked, model, report)
        facts = RequestFacts(
            model=model,
            info=info,
            catalog=catalog,
            options={k: v for k, v in opts.items() if k not in unchecked} if unchecked else opts,
            messages=msgs if isinstance(msgs, list) else [],
            stream=stream,
            version=version,
            reasoning_off_by=off_by,
            disable_reasoning=disable_reasoning,
            unchecked=frozenset(unchecked),
        )
        for failure in RuleRun(facts, raise_first=report.strict).run():
            _warn(failure)
    if info is not None and info.status == "retired" and model not in _warned_retired:
        _warned_retired.add(model)
        warnings.warn(
            f"{model} was retired by Cerebras ({info.retired_on or 'date unknown'}); the API will "
            "probably answer 404. Pick a current model (client.models.list()).",
            UserWarning,
            stacklevel=4,
        )

    body: dict[str, Any] = {"model": model, "messages": msgs}
    headers: dict[str, str] = {}
    timeout = opts.pop("timeout", None)
    extra_body = opts.pop("extra_body", None)
    extra_headers = opts.pop("extra_headers", None)
    for name, value in opts.items():
        header = HEADER_OPTIONS.get(name)
        if header is not None:
            headers[header] = str(value)
        else:
            body[name] = value
    if stream:
        body["stream"] = True
    extra_keys: frozenset[str] = frozenset()
    if extra_body:
        _must_be_mapping(extra_body, "extra_body", model)
        body.update(extra_body)
        extra_keys = frozenset(extra_body)
    if extra_headers:
        _must_be_mapping(extra_headers, "extra_headers", model)
        headers.update(extra_headers)
    return PreparedRequest(
        model=model, body=body, headers=headers, stream=stream, timeout=timeout, info=info, extra_body_keys=extra_keys
    )


def _given(messages: Any) -> Any:
    """The messages as a list when they are an iterable of messages (a generator is read once); anything else
    as it is, for the message checks to refuse (or, with validation off, to send)."""
    if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Iterable):
        return messages
    return list(messages)


def _must_be_mapping(value: Any, name: str, model: str) -> None:
    # In every mode: these are merged into the request, which needs a mapping.
    if not _is_map(value):
        raise RequestValidationError(
            f"{name} must be a mapping; got {_show(value)}.", param=name, model=model, fix=f"pass {name}={{...}}"
        )


def _api_version(opts: dict[str, Any]) -> int:
    """The request's API version; a numeric string (as a header value is written, "1") becomes an int, which is
    what is sent. Anything else is left for the type check to refuse (or, with validation off, sent as is)."""
    value = opts.get("api_version")
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        value = opts["api_version"] = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return DEFAULT_API_VERSION


def _known_options(
    options: Mapping[str, Any], model: str, policy: UnsupportedPolicy, report: _Report
) -> dict[str, Any]:
    """The options given (None means "not given", as in the SDKs). An unknown one is dropped with a warning
    under the drop policy, else refused (strict), or kept and sent (warn: with a warning; off: as given)."""
    opts: dict[str, Any] = {}
    for name, value in options.items():
        if value is None:
            continue
        if name in OPTION_NAMES:
            opts[name] = value
            continue
        hint = KNOWN_UNSUPPORTED.get(name, "it is not a Cerebras chat-completions parameter")
        message = f"The Cerebras API rejects unknown parameter {name!r} (400 wrong_api_format): {hint}."
        if policy == "drop":
            warnings.warn(f"{message} Dropped.", UserWarning, stacklevel=5)
            continue
        if report.checking:
            report(
                UnsupportedParameterError(
                    message,
                    param=name,
                    model=model,
                    fix=f"remove it, send it anyway with extra_body={{{name!r}: ...}}, or create the client with "
                    "unsupported_params='drop' to drop such parameters with a warning",
                )
            )
        opts[name] = value
    return opts


def _check_types(opts: dict[str, Any], model: str, report: _Report) -> set[str]:
    """Check every known option's type and range; returns the names of those that failed (warn mode)."""
    known = opts if opts.keys() <= OPTION_NAMES else {k: v for k, v in opts.items() if k in OPTION_NAMES}
    if not known:
        return set()
    try:
        option_adapter().validate_python(known)
    except pydantic.ValidationError as exc:
        failed: set[str] = set()
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else ""
            if name in failed or name not in known:
                continue
            failed.add(name)
            loc, value = _error_path(known.get(name), name, err["loc"][1:])
            error = RequestValidationError(
                f"Invalid {loc}={_show(value)}: {err['msg']}.", param=loc, model=model, fix=_type_fix(name)
            )
            error.__suppress_context__ = True
            report(error)
        return failed
    return set()


def _error_path(value: Any, name: str, loc: Iterable[Any]) -> tuple[str, Any]:
    # pydantic puts union-member tags ("literal[...]", "float", "is-instance[Timeout]") into error locations;
    # keep only the segments that index into the value, so the path names what the caller passed.
    parts = [name]
    for seg in loc:
        try:
            if _is_map(value) and seg in value:
                value = value[seg]
            elif isinstance(seg, int) and isinstance(value, (list, tuple)) and 0 <= seg < len(value):
                value = value[seg]
            else:
                continue
        except TypeError:  # an unhashable segment cannot be a key of the mapping
            continue
        parts.append(str(seg))
    return ".".join(parts), value


def _type_fix(name: str) -> str:
    desc = option_descriptions().get(name)
    return f"{name}: {desc}" if desc else f"see the options reference for {name}"


def _check_messages(messages: Any, model: str, policy: UnsupportedPolicy) -> list[Any]:
    """The messages' shape (docs/api-facts.md#message-fields): roles, fields, content, tool calls. What a model
    accepts (the developer role, images) and the API v2 conversation rules are ``_rules``'."""
    if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Iterable):
        raise RequestValidationError(
            "'messages' must be a list of message objects.",
            param="messages",
            model=model,
            fix='pass [{"role": "user", "content": "..."}]',
        )
    msgs = list(messages)
    if not msgs:
        raise RequestValidationError(
            "'messages' must hold at least one message.",
            param="messages",
            model=model,
            fix='pass [{"role": "user", "content": "..."}]',
        )
    for i, msg in enumerate(msgs):
        where = f"messages.{i}"
        if not _is_map(msg):
            raise RequestValidationError(
                f"{where} must be an object with 'role' and 'content'; got {_show(msg)}.",
                param=where,
                model=model,
                fix='use {"role": "user", "content": "..."}',
            )
        if type(msg) is not dict:
            msgs[i] = msg = dict(msg)  # sent as JSON: a plain dict serialises, any Mapping may not
        role = msg.get("role")
        allowed = _MESSAGE_FIELDS.get(role) if isinstance(role, str) else None
        if allowed is None or not isinstance(role, str):
            raise RequestValidationError(
                f"{where}.role={_show(role)} is not a chat role.",
                param=f"{where}.role",
                model=model,
                fix="use one of system, developer, user, assistant, tool",
            )
        extra = [key for key in msg if key not in allowed]
        if extra:
            msg = _unknown_message_fields(msgs, i, msg, role, extra, model, policy)
        if role in ("system", "developer", "user", "tool") and "content" not in msg:
            raise RequestValidationError(
                f"{where} ({role}) needs 'content'.",
                param=f"{where}.content",
                model=model,
                fix="add the message text as content",
            )
        name = msg.get("name")
        if name is not None and not isinstance(name, str):
            raise RequestValidationError(
                f"{where}.name must be a string; got {_show(name)}.",
                param=f"{where}.name",
                model=model,
                fix="pass the participant's name as a string, or leave it out",
            )
        # The assistant's content may be absent or null (with tool calls, or an empty turn; RT-14); every other
        # role's content is required (docs/api-facts.md#message-fields).
        msg = _check_content(msgs, i, "content", role, model, policy, nullable=role == "assistant")
        if role == "assistant":
            if "reasoning" in msg:
                msg = _check_content(msgs, i, "reasoning", role, model, policy, nullable=True)
            calls = msg.get("tool_calls")
            if calls is None:
                continue
            if not isinstance(calls, (list, tuple)):
                raise RequestValidationError(
                    f"{where}.tool_calls must be a list of tool calls; got {_show(calls)}.",
                    param=f"{where}.tool_calls",
                    model=model,
                    fix='pass [{"id": ..., "type": "function", "function": {"name": ..., "arguments": "{...}"}}]',
                )
            for j, call in enumerate(calls):
                _check_tool_call(call, f"{where}.tool_calls.{j}", model)
        elif role == "tool":
            answered = msg.get("tool_call_id")
            if not isinstance(answered, str):
                raise RequestValidationError(
                    f"{where}.tool_call_id must be the string id of the tool call it answers; got {_show(answered)}.",
                    param=f"{where}.tool_call_id",
                    model=model,
                    fix="set tool_call_id to the id of a tool call from a preceding assistant message",
                )
    return msgs


def _check_tool_call(call: Any, where: str, model: str) -> str:
    """Check one assistant tool call (docs/api-facts.md#message-fields) and return its id."""
    fix = 'keep the tool call as the API returned it: {"id", "type": "function", "function": {"name", "arguments"}}'
    if not _is_map(call):
        raise RequestValidationError(
            f"{where} must be a tool-call object; got {_show(call)}.", param=where, model=model, fix=fix
        )
    extra = [] if call.keys() <= _TOOL_CALL_FIELDS else [key for key in call if key not in _TOOL_CALL_FIELDS]
    if extra:
        raise UnsupportedParameterError(
            f"{where} has fields the API rejects: {_show(extra)}.",
            param=f"{where}.{extra[0]}",
            model=model,
            fix=f"a tool call takes only {sorted(_TOOL_CALL_FIELDS)}",
        )
    call_id = call.get("id")
    if not call_id or not isinstance(call_id, str):
        raise RequestValidationError(
            f"{where} has no 'id'." if not call_id else f"{where}.id must be a string; got {_show(call_id)}.",
            param=f"{where}.id",
            model=model,
            fix="keep the id the API returned with the tool call",
        )
    kind = call.get("type")
    if kind is not None and kind != "function":
        raise RequestValidationError(
            f"{where}.type={_show(kind)}: tool calls are of type 'function'.",
            param=f"{where}.type",
            model=model,
            fix="use 'function', or leave type out",
        )
    function = call.get("function")
    if not _is_map(function):
        raise RequestValidationError(
            f"{where}.function must be an object with 'name' and 'arguments'; got {_show(function)}.",
            param=f"{where}.function",
            model=model,
            fix=fix,
        )
    allowed = _TOOL_CALL_FUNCTION_FIELDS
    extra = [] if function.keys() <= allowed else [key for key in function if key not in allowed]
    if extra:
        raise UnsupportedParameterError(
            f"{where}.function has fields the API rejects: {_show(extra)}.",
            param=f"{where}.function.{extra[0]}",
            model=model,
            fix="a tool call's function takes only name and arguments",
        )
    for key, what in (("name", "the tool's name"), ("arguments", "the arguments as a JSON string")):
        if not isinstance(function.get(key), str):
            raise RequestValidationError(
                f"{where}.function.{key} must be a string ({what}); got {_show(function.get(key))}.",
                param=f"{where}.function.{key}",
                model=model,
                fix="arguments are sent as a JSON string, e.g. json.dumps(args)" if key == "arguments" else fix,
            )
    return call_id


def _unknown_message_fields(
    msgs: list[Any], i: int, msg: Mapping[str, Any], role: str, extra: list[str], model: str, policy: UnsupportedPolicy
) -> Mapping[str, Any]:
    where = f"messages.{i}"
    if "reasoning_content" in extra:
        raise UnsupportedParameterError(
            f"{where}.reasoning_content is rejected by Cerebras (400 wrong_api_format).",
            param=f"{where}.reasoning_content",
            model=model,
            fix="send earlier reasoning with cerebras_adapters.replay_reasoning(model, messages): the "
            "'reasoning' field for gpt-oss, <think>...</think> in content for GLM/Qwen",
        )
    if policy == "drop":
        warnings.warn(
            f"Dropped fields {extra} of {where} ({role}): the API rejects unknown message fields.",
            UserWarning,
            stacklevel=6,
        )
        cleaned = {k: v for k, v in msg.items() if k not in extra}
        msgs[i] = cleaned
        return cleaned
    raise UnsupportedParameterError(
        f"{where} ({role}) has fields the API rejects: {_show(extra)}.",
        param=f"{where}.{extra[0]}",
        model=model,
        fix=f"a {role} message takes only {sorted(_MESSAGE_FIELDS[role])}",
    )


def _check_content(
    msgs: list[Any],
    i: int,
    key: str,
    role: str,
    model: str,
    policy: UnsupportedPolicy,
    *,
    nullable: bool,
) -> dict[str, Any]:
    """Check ``msgs[i][key]`` (content, or an assistant's reasoning): a string or a list of parts. Returns the
    message, a cleaned copy when the drop policy removed unknown part fields."""
    msg: dict[str, Any] = msgs[i]
    value = msg.get(key)
    where = f"messages.{i}.{key}"
    if isinstance(value, str) or (value is None and nullable):
        return msg
    if not isinstance(value, (list, tuple)):
        raise RequestValidationError(
            f"{where} must be a string or a list of content parts; got {_show(value)}.",
            param=where,
            model=model,
            fix=_PARTS_FIX,
        )
    images = key == "content" and role in ("system", "developer", "user")
    cleaned = _check_parts(value, where, role, images, model, policy)
    if cleaned is not None:
        msg = msgs[i] = {**msg, key: cleaned}
    return msg


def _check_parts(
    parts: list[Any] | tuple[Any, ...],
    where: str,
    role: str,
    images: bool,
    model: str,
    policy: UnsupportedPolicy,
) -> list[Any] | None:
    """Check content parts; returns a copy without unknown part fields when the drop policy removed some."""
    cleaned: list[Any] | None = None
    for j, part in enumerate(parts):
        at = f"{where}.{j}"
        if not _is_map(part):
            raise RequestValidationError(
                f"{at} must be a content part object; got {_show(part)}.", param=at, model=model, fix=_PARTS_FIX
            )
        kind = part.get("type")
        if kind == "text":
            allowed: frozenset[str] = _TEXT_CONTENT_PART_FIELDS
            if not isinstance(part.get("text"), str):
                raise RequestValidationError(
                    f"{at}.text must be a string; got {_show(part.get('text'))}.",
                    param=f"{at}.text",
                    model=model,
                    fix=_PARTS_FIX,
                )
        elif kind in ("image_url", "image"):
            allowed = _IMAGE_PART_FIELDS[kind]
            _check_image(part, kind, at, role, images, model)
        else:
            accepted = "'text', 'image_url' or 'image'" if images else "'text'"
            raise RequestValidationError(
                f"{at}.type={_show(kind)} is not a content part type a {role} message takes ({accepted}).",
                param=f"{at}.type",
                model=model,
                fix=_PARTS_FIX,
            )
        if _CACHE_CONTROL in part:
            _check_cache_control(part[_CACHE_CONTROL], f"{at}.{_CACHE_CONTROL}", model)
        if part.keys() <= allowed:
            continue
        extra = [k for k in part if k not in allowed]
        if policy != "drop":
            raise UnsupportedParameterError(
                f"{at} ({kind} part) has fields the API rejects: {_show(extra)}.",
                param=f"{at}.{extra[0]}",
                model=model,
                fix=f"a {kind} part takes only {sorted(allowed)}",
            )
        warnings.warn(
            f"Dropped fields {extra} of {at}: the API rejects unknown content-part fields.", UserWarning, stacklevel=7
        )
        if cleaned is None:
            cleaned = list(parts)
        cleaned[j] = {k: v for k, v in part.items() if k in allowed}
    return cleaned


def _check_image(part: Mapping[str, Any], kind: str, at: str, role: str, images: bool, model: str) -> None:
    if not images:
        raise RequestValidationError(
            f"{at}: images are only allowed in user messages.",
            param=at,
            model=model,
            fix="move the image into a user message",
        )
    if kind == "image":
        if not isinstance(part.get("image"), str):
            raise RequestValidationError(
                f"{at}.image must be a string; got {_show(part.get('image'))}.",
                param=f"{at}.image",
                model=model,
                fix='use {"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}',
            )
        return
    image = part.get("image_url")
    url = image.get("url") if _is_map(image) else None
    if not isinstance(url, str):
        raise RequestValidationError(
            f"{at}.image_url must be an object with a 'url' string; got {_show(image)}.",
            param=f"{at}.image_url",
            model=model,
            fix='use {"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}',
        )
    assert isinstance(image, Mapping)
    extra = [k for k in image if k not in ("url", "detail")]
    if extra:
        raise UnsupportedParameterError(
            f"{at}.image_url has fields the API rejects: {_show(extra)}.",
            param=f"{at}.image_url.{extra[0]}",
            model=model,
            fix="image_url takes only url and detail",
        )
    if not _DATA_URI.fullmatch(url):
        raise RequestValidationError(
            f"{at}: Cerebras takes images only as base64 data URIs of PNG or JPEG, not URLs.",
            param=f"{at}.image_url.url",
            model=model,
            fix="download the image and pass data:image/png;base64,... (or image/jpeg)",
        )


def _check_option_shapes(opts: dict[str, Any], unchecked: set[str], model: str, report: _Report) -> set[str]:
    """The documented shape of the structured options (docs/api-facts.md#unknown-fields, #tool-definitions,
    #tool-choice, #response-format, #predicted-outputs); returns the names of those that failed (warn mode)."""
    failed: set[str] = set()
    for name, check in _OPTION_SHAPES:
        if name in opts and name not in unchecked:
            try:
                check(opts[name], model)
            except RequestValidationError as exc:
                report(exc)
                failed.add(name)
    return failed


def _check_response_format_shape(fmt: Any, model: str) -> None:
    """The documented shape of response_format (docs/api-facts.md#response-format)."""
    if not _is_map(fmt):
        return  # refused by the type check
    kind = fmt.get("type")
    if kind not in ("text", "json_object", "json_schema"):
        raise RequestValidationError(
            f"Unknown response_format type {_show(kind)}.",
            param="response_format.type",
            model=model,
            fix="use text, json_object or json_schema",
        )
    allowed = _SCHEMA_FORMAT_FIELDS if kind == "json_schema" else _FORMAT_FIELDS
    _no_extra_fields(fmt, allowed, "response_format", model, f"a {kind} response_format takes only {sorted(allowed)}")
    if kind != "json_schema":
        return
    spec = fmt.get("json_schema")
    name = spec.get("name") if _is_map(spec) else None
    if not isinstance(name, str) or not name:
        raise RequestValidationError(
            "response_format json_schema needs json_schema.name (a non-empty string).",
            param="response_format.json_schema.name" if _is_map(spec) else "response_format.json_schema",
            model=model,
            fix='pass {"type": "json_schema", "json_schema": {"name": ..., "schema": {...}}}',
        )
    assert isinstance(spec, Mapping)
    where = "response_format.json_schema"
    _no_extra_fields(spec, _JSON_SCHEMA_FIELDS, where, model, _JSON_SCHEMA_FIX)
    _optional_type(spec, "description", str, where, model, "a string")
    _optional_type(spec, "schema", Mapping, where, model, "a JSON schema object")
    _optional_type(spec, "strict", bool, where, model, "true or false")


def _no_extra_fields(obj: Mapping[str, Any], allowed: frozenset[str], where: str, model: str, fix: str) -> None:
    if obj.keys() <= allowed:
        return
    extra = [key for key in obj if key not in allowed]
    if extra:
        raise UnsupportedParameterError(
            f"{where} has fields the API rejects: {_show(extra)}.", param=f"{where}.{extra[0]}", model=model, fix=fix
        )


def _optional_type(obj: Mapping[str, Any], key: str, kind: type, where: str, model: str, what: str) -> None:
    value = obj.get(key)
    if value is not None and not isinstance(value, kind):
        raise RequestValidationError(
            f"{where}.{key} must be {what}; got {_show(value)}.",
            param=f"{where}.{key}",
            model=model,
            fix=f"pass {what} as {key}, or leave it out",
        )


def _check_tools_shape(tools: Any, model: str) -> None:
    """Each tool's documented shape (docs/api-facts.md#tool-definitions); strict schemas are the rules'."""
    if not tools:
        return
    for i, tool in enumerate(tools):
        fn = tool.get("function") if _is_map(tool) else None
        if not _is_map(fn) or tool.get("type") != "function" or not fn.get("name"):
            raise RequestValidationError(
                f"tools.{i} needs {{'type': 'function', 'function': {{'name': ...}}}}.",
                param=f"tools.{i}",
                model=model,
                fix="give every tool a function with a name",
            )
        where = f"tools.{i}.function"
        _no_extra_fields(tool, _TOOL_FIELDS, f"tools.{i}", model, "a tool takes only type and function")
        _no_extra_fields(fn, _TOOL_FUNCTION_FIELDS, where, model, _TOOL_FUNCTION_FIX)
        name = fn["name"]
        if not isinstance(name, str) or not _TOOL_NAME.fullmatch(name):
            raise RequestValidationError(
                f"{where}.name={_show(name)}: tool names are 1-64 letters, digits, '_' or '-'.",
                param=f"{where}.name",
                model=model,
                fix="rename the tool, e.g. get_weather",
            )
        description, parameters, strict = fn.get("description"), fn.get("parameters"), fn.get("strict")
        if not (description is None or type(description) is str):
            _optional_type(fn, "description", str, where, model, "a string")
        if not (parameters is None or type(parameters) is dict):
            _optional_type(fn, "parameters", Mapping, where, model, "a JSON schema object")
        if not (strict is None or type(strict) is bool):
            _optional_type(fn, "strict", bool, where, model, "true or false")


def _check_tool_choice_shape(choice: Any, model: str) -> None:
    """A named tool_choice is {type: "function", function: {name}} (docs/api-facts.md#tool-choice)."""
    if not _is_map(choice):
        return  # none / auto / required, checked by the type check
    fix = 'use {"type": "function", "function": {"name": <one of the tools>}}, or "auto"'
    function = choice.get("function")
    name = function.get("name") if _is_map(function) else None
    if choice.get("type") != "function" or not isinstance(name, str):
        raise RequestValidationError(
            f"tool_choice={_show(choice)} is not none, auto, required or a named function.",
            param="tool_choice",
            model=model,
            fix=fix,
        )
    assert isinstance(function, Mapping)
    _no_extra_fields(choice, _TOOL_FIELDS, "tool_choice", model, fix)
    _no_extra_fields(function, _NAME_FIELD, "tool_choice.function", model, fix)


def _check_stream_options(value: Mapping[str, Any], model: str) -> None:
    _no_extra_fields(value, _STREAM_OPTIONS_FIELDS, "stream_options", model, "stream_options takes only include_usage")
    _optional_type(value, "include_usage", bool, "stream_options", model, "true or false")


def _check_prediction(value: Mapping[str, Any], model: str) -> None:
    fix = 'pass {"type": "content", "content": "<the text you expect>"}'
    if value.get("type") != "content" or "content" not in value:
        raise RequestValidationError(
            f"prediction={_show(value)} is not a predicted output.", param="prediction", model=model, fix=fix
        )
    _no_extra_fields(value, _PREDICTION_FIELDS, "prediction", model, fix)
    content = value["content"]
    if isinstance(content, str):
        return
    if not isinstance(content, (list, tuple)):
        raise RequestValidationError(
            f"prediction.content must be a string or a list of text parts; got {_show(content)}.",
            param="prediction.content",
            model=model,
            fix=fix,
        )
    for j, part in enumerate(content):
        text = part.get("text") if _is_map(part) else None
        if not _is_map(part) or part.get("type") != "text" or not isinstance(text, str):
            raise RequestValidationError(
                f"prediction.content.{j} must be a text part; got {_show(part)}.",
                param=f"prediction.content.{j}",
                model=model,
                fix=fix,
            )
        _no_extra_fields(part, _TEXT_PART_FIELDS, f"prediction.content.{j}", model, fix)


def _check_cache_control(value: Any, where: str, model: str) -> None:
    """OpenRouter's caching marker, on a content part or at the top level (docs/api-facts.md#prompt-caching)."""
    if not _is_map(value) or value.get("type") != "ephemeral":
        raise RequestValidationError(
            f"{where}={_show(value)} is not a prompt-caching marker.", param=where, model=model, fix=_CACHE_CONTROL_FIX
        )
    _no_extra_fields(value, _CACHE_CONTROL_FIELDS, where, model, _CACHE_CONTROL_FIX)
    if "ttl" in value and value["ttl"] not in ("5m", "1h"):
        raise RequestValidationError(
            f"{where}.ttl={_show(value['ttl'])}: OpenRouter takes '5m' or '1h'.",
            param=f"{where}.ttl",
            model=model,
            fix=_CACHE_CONTROL_FIX,
        )


def _check_top_cache_control(value: Any, model: str) -> None:
    _check_cache_control(value, "cache_control", model)


def _check_plugins(plugins: Any, model: str) -> None:
    """OpenRouter plugins (docs/api-facts.md#openrouter-web-search): the web plugin's fields are checked; another
    documented plugin passes with its own fields."""
    for i, plugin in enumerate(plugins):
        where = f"plugins.{i}"
        plugin_id = plugin.get("id") if _is_map(plugin) else None
        if plugin_id not in OPENROUTER_PLUGIN_IDS:
            raise RequestValidationError(
                f"{where}.id={_show(plugin_id)} is not a plugin OpenRouter documents.",
                param=f"{where}.id",
                model=model,
                fix="use one of " + ", ".join(OPENROUTER_PLUGIN_IDS) + ' (web search: {"id": "web"})',
            )
        if plugin_id == "web":
            _check_web_plugin(plugin, where, model)


def _check_web_plugin(plugin: Mapping[str, Any], where: str, model: str) -> None:
    _no_extra_fields(plugin, _WEB_PLUGIN_FIELDS, where, model, _WEB_PLUGIN_FIX)
    engine = plugin.get("engine")
    if engine is not None and engine not in WEB_SEARCH_ENGINES:
        raise RequestValidationError(
            f"{where}.engine={_show(engine)} is not a web search engine OpenRouter offers.",
            param=f"{where}.engine",
            model=model,
            fix="use one of " + ", ".join(WEB_SEARCH_ENGINES) + ", or leave engine out (OpenRouter picks)",
        )
    results = plugin.get("max_results")
    if results is not None and (type(results) is not int or results < 1):
        raise RequestValidationError(
            f"{where}.max_results={_show(results)} must be an integer >= 1.",
            param=f"{where}.max_results",
            model=model,
            fix="pass max_results=5 (OpenRouter's default), or leave it out",
        )
    _optional_type(plugin, "search_prompt", str, where, model, "a string")
    for key in ("include_domains", "exclude_domains"):
        domains = plugin.get(key)
        if domains is None:
            continue
        if not isinstance(domains, (list, tuple)) or not all(isinstance(d, str) and d for d in domains):
            raise RequestValidationError(
                f"{where}.{key}={_show(domains)} must be a list of domain names.",
                param=f"{where}.{key}",
                model=model,
                fix=f'pass {key}=["example.com", "*.substack.com"], or leave it out',
            )


_OPTION_SHAPES: tuple[tuple[str, Callable[[Any, str], None]], ...] = (
    ("plugins", _check_plugins),
    ("cache_control", _check_top_cache_control),
    ("response_format", _check_response_format_shape),
    ("tools", _check_tools_shape),
    ("tool_choice", _check_tool_choice_shape),
    ("stream_options", _check_stream_options),
    ("prediction", _check_prediction),
)


# -- encoding -------------------------------------------------------------------------------------------------

# Containers a body may nest before an encoding failure is reported as "nested too deeply" (pydantic-core stops
# serialising at about 250; a value that contains itself never ends).
_MAX_ENCODE_DEPTH = 200


def encode_body(prepared: PreparedRequest) -> bytes:
    """The request body as strict JSON bytes, or ``RequestValidationError`` naming the value that cannot be sent.

    JSON has no NaN or infinity and UTF-8 no lone surrogates; pydantic-core writes the former as bare ``NaN`` /
    ``Infinity`` tokens (which no strict parser, the API's included, accepts) and refuses the latter, along with
    any object it cannot serialise. The body is serialised once; only when that fails, or when the output holds
    a ``NaN``/``Infinity`` token outside a string, is it walked to name the offending value's path.
    """
    body = prepared.body
    try:
        out = pydantic_core.to_json(body)
    except (pydantic_core.PydanticSerializationError, ValueError, TypeError, RecursionError):
        raise _encoding_error(prepared) from None
    if (b"NaN" in out or b"Infinity" in out) and not _strict_json(out):
        raise _encoding_error(prepared)
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _strict_json(data: bytes) -> bool:
    try:
        json.loads(data, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return False
    return True


def _encodes(value: Any) -> bool:
    try:
        out = pydantic_core.to_json(value)
    except (pydantic_core.PydanticSerializationError, ValueError, TypeError, RecursionError):
        return False
    return not (b"NaN" in out or b"Infinity" in out) or _strict_json(out)


def _segment(key: Any) -> str:
    return str(key).encode("utf-8", "backslashreplace").decode("utf-8")


def _find_unencodable(value: Any, path: list[Any]) -> tuple[list[Any], str] | None:
    """The path of the first value in ``value`` that strict JSON cannot carry, and why; None if there is none."""
    if len(path) > _MAX_ENCODE_DEPTH:
        return path, f"is nested more than {_MAX_ENCODE_DEPTH} levels deep (or contains itself)"
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, f"is {value!r}, which JSON cannot carry")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path, "holds a lone surrogate (not valid UTF-8, so not valid JSON)"
        return None
    if value is None or isinstance(value, (bool, int)):
        return None
    if _is_map(value):
        for key, sub in value.items():
            if not isinstance(key, (str, int)) or not _encodes({key: None}):
                return [*path, key], f"has the key {_show(key)}, which cannot be a JSON object key"
            found = _find_unencodable(sub, [*path, key])
            if found is not None:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, sub in enumerate(value):
            found = _find_unencodable(sub, [*path, index])
            if found is not None:
                return found
        return None
    if _encodes(value):
        return None
    return path, f"is a {type(value).__name__} ({_show(value)}), which cannot be sent as JSON"


def _encoding_error(prepared: PreparedRequest) -> RequestValidationError:
    found = _find_unencodable(prepared.body, [])
    raw, why = found if found is not None else ([], "cannot be sent as JSON")
    path = [_segment(key) for key in raw]
    top = raw[0] if raw else None
    if top in prepared.extra_body_keys:
        path = ["extra_body", *path]
    elif top not in OPTION_NAMES and top not in ("model", "messages", "stream"):
        path = ["route", *path]  # a field the route added (e.g. OpenRouter's provider preferences)
    param = ".".join(path)
    return RequestValidationError(
        f"{param} {why}.",
        param=param,
        model=prepared.model,
        fix="send only JSON values: finite numbers, valid UTF-8 text, objects, lists, true/false/null",
    )
