"""Turning a ``create(...)`` call into a validated request: the options, the catalog and the rules.

This module owns every rule checked before a request leaves (cerebras-api.md §1, checklist §8 item 6) and
the assembly of the JSON body and option headers. Each failure is a ``RequestValidationError`` naming the
parameter, the model and the fix. Route-specific shaping (OpenRouter's model ids, provider pin, reasoning
object) happens afterwards in ``routes``; sending happens in ``_client``.

Rules never refuse what the real API accepts: consecutive messages of one role, a system message last, an
assistant-only history, ``max_tokens``, ``stream_options``, ``n`` and the penalties all go through
(RT-01, RT-10..RT-14), and a model missing from the catalog skips every capability rule.

Every shape the API's schema fixes is checked too (§1.2, §1.4, §1.5; the SPEC is ``additionalProperties:
false`` throughout): message content is a string or a list of parts, tool calls, tools, ``tool_choice``,
``response_format``, ``prediction`` and ``stream_options`` have their documented fields with their types. Fuzzed
input (``tests/test_fuzz_requests.py``) must end in a ``RequestValidationError`` naming the parameter, never in
a ``TypeError``, and ``encode_body`` guarantees the body that leaves is strict JSON: no NaN or infinity, no lone
surrogate, nothing pydantic cannot serialise.
"""

from __future__ import annotations

import json
import math
import re
import reprlib
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard

import pydantic
import pydantic_core

from .catalog import Catalog, ModelInfo
from .errors import RequestValidationError, UnsupportedParameterError
from .options import HEADER_OPTIONS, KNOWN_UNSUPPORTED, OPTION_NAMES, option_adapter, option_descriptions
from .schema import check_strict_schema

__all__ = ["PreparedRequest", "UnsupportedPolicy", "encode_body", "prepare_chat_request"]

UnsupportedPolicy = Literal["raise", "drop"]

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
_IMAGE_PART_FIELDS = {kind: frozenset({"type", kind}) for kind in ("image_url", "image")}
_JSON_SCHEMA_FIX = f"json_schema takes only {sorted(_JSON_SCHEMA_FIELDS)}"
_TOOL_FUNCTION_FIX = f"a function takes only {sorted(_TOOL_FUNCTION_FIELDS)}"
# Tool names: letters, digits, '_' and '-', at most 64 (cerebras-api.md §1.4, docs).
_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
# Images only as base64 data URIs of PNG or JPEG (cerebras-api.md §1.2).
_DATA_URI = re.compile(r"data:image/(?:png|jpeg);base64,[A-Za-z0-9+/=\s]+")
_PARTS_FIX = 'pass text as a string, or a list of parts such as [{"type": "text", "text": "..."}]'
_MAX_STOP = 4
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


def prepare_chat_request(
    model: str,
    messages: Iterable[Mapping[str, Any]],
    stream: bool,
    options: Mapping[str, Any],
    *,
    catalog: Catalog,
    unsupported_params: UnsupportedPolicy = "raise",
) -> PreparedRequest:
    if not isinstance(model, str) or not model:
        raise RequestValidationError(
            "'model' must be a non-empty string.", param="model", fix="pass a model id such as 'gpt-oss-120b'"
        )
    info = catalog.get(model)
    opts = _known_options(options, model, unsupported_params)
    _check_types(opts, model)
    if "disable_reasoning" in opts:
        warnings.warn(
            "disable_reasoning is deprecated by Cerebras (2026-03-24); use reasoning_effort='none'. "
            "It is sent as reasoning_effort='none'.",
            DeprecationWarning,
            stacklevel=4,
        )
        if opts.pop("disable_reasoning"):
            if info is not None and info.reasoning == "always_on":
                # Checked here so the error names the option the caller passed (cerebras-api.md §1.1).
                raise RequestValidationError(
                    f"{model} always reasons; disable_reasoning=True is rejected by the API (400).",
                    param="disable_reasoning",
                    model=model,
                    fix="drop disable_reasoning; use reasoning_effort='low' for the least reasoning",
                )
            if opts.get("reasoning_effort", "none") != "none":
                raise RequestValidationError(
                    f"disable_reasoning=True contradicts reasoning_effort={opts['reasoning_effort']!r}.",
                    param="disable_reasoning",
                    model=model,
                    fix="drop disable_reasoning and keep reasoning_effort",
                )
            opts["reasoning_effort"] = "none"
    if "max_tokens" in opts:
        if "max_completion_tokens" in opts:
            raise RequestValidationError(
                "Pass either max_completion_tokens or max_tokens, not both (the API rejects both).",
                param="max_tokens",
                model=model,
                fix="keep max_completion_tokens only",
            )
        opts["max_completion_tokens"] = opts.pop("max_tokens")
    msgs = _check_messages(messages, model, info, unsupported_params)
    _check_rules(opts, stream, model, info)
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
        body.update(extra_body)
        extra_keys = frozenset(extra_body)
    if extra_headers:
        headers.update(extra_headers)
    return PreparedRequest(
        model=model, body=body, headers=headers, stream=stream, timeout=timeout, info=info, extra_body_keys=extra_keys
    )


def _known_options(options: Mapping[str, Any], model: str, policy: UnsupportedPolicy) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    for name, value in options.items():
        if value is None:
            continue  # None means "not given", as in the SDKs
        if name in OPTION_NAMES:
            opts[name] = value
            continue
        hint = KNOWN_UNSUPPORTED.get(name, "it is not a Cerebras chat-completions parameter")
        message = f"The Cerebras API rejects unknown parameter {name!r} (400 wrong_api_format): {hint}."
        if policy == "drop":
            warnings.warn(f"{message} Dropped.", UserWarning, stacklevel=5)
            continue
        raise UnsupportedParameterError(
            message,
            param=name,
            model=model,
            fix=f"remove it, send it anyway with extra_body={{{name!r}: ...}}, or create the client with "
            "unsupported_params='drop' to drop such parameters with a warning",
        )
    return opts


def _check_types(opts: dict[str, Any], model: str) -> None:
    if not opts:
        return
    try:
        option_adapter().validate_python(opts)
    except pydantic.ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0])
        loc, value = _error_path(opts.get(name), name, err["loc"][1:])
        raise RequestValidationError(
            f"Invalid {loc}={_show(value)}: {err['msg']}.", param=loc, model=model, fix=_type_fix(name)
        ) from None


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


def _check_messages(
    messages: Iterable[Mapping[str, Any]], model: str, info: ModelInfo | None, policy: UnsupportedPolicy
) -> list[Any]:
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
    open_calls: dict[str, int] = {}  # tool-call id -> index of the assistant message that made it
    seen_ids: set[str] = set()
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
        if role == "developer" and info is not None and not info.developer_role:
            raise RequestValidationError(
                f"{model} does not accept the 'developer' role (only gpt-oss-120b does).",
                param=f"{where}.role",
                model=model,
                fix="use role 'system'",
            )
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
        # role's content is required (cerebras-api.md §1.2).
        msg = _check_content(msgs, i, "content", role, model, info, policy, nullable=role == "assistant")
        if role == "assistant":
            if "reasoning" in msg:
                msg = _check_content(msgs, i, "reasoning", role, model, info, policy, nullable=True)
            if open_calls:
                # API v2: the answers must come before the next message, another assistant turn included.
                _unanswered(open_calls, i, model)
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
                call_id = _check_tool_call(call, f"{where}.tool_calls.{j}", model)
                if call_id in seen_ids:
                    raise RequestValidationError(
                        f"Tool-call id {call_id!r} is used twice.",
                        param=f"{where}.tool_calls.{j}.id",
                        model=model,
                        fix="give every tool call a unique id",
                    )
                seen_ids.add(call_id)
                open_calls[call_id] = i
        elif role == "tool":
            answered = msg.get("tool_call_id")
            if not isinstance(answered, str):
                raise RequestValidationError(
                    f"{where}.tool_call_id must be the string id of the tool call it answers; got {_show(answered)}.",
                    param=f"{where}.tool_call_id",
                    model=model,
                    fix="set tool_call_id to the id of a tool call from a preceding assistant message",
                )
            if answered not in open_calls:
                raise RequestValidationError(
                    f"{where} answers tool call {_show(answered)}, which no earlier assistant message made "
                    "(the API rejects orphan tool messages).",
                    param=f"{where}.tool_call_id",
                    model=model,
                    fix="set tool_call_id to the id of a tool call from a preceding assistant message",
                )
            del open_calls[answered]
        elif open_calls:
            _unanswered(open_calls, i, model)
    if open_calls:
        _unanswered(open_calls, len(msgs), model, at_end=True)
    return msgs


def _check_tool_call(call: Any, where: str, model: str) -> str:
    """Check one assistant tool call (cerebras-api.md §1.2) and return its id."""
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


def _unanswered(open_calls: dict[str, int], i: int, model: str, *, at_end: bool = False) -> None:
    call_id, at = next(iter(open_calls.items()))
    when = "by any tool message" if at_end else f"before messages.{i}"
    raise RequestValidationError(
        f"Tool call {call_id!r} from messages.{at} is not answered {when} (API v2 requires a tool message for "
        "every tool call).",
        param=f"messages.{at}.tool_calls",
        model=model,
        fix=f"add {{'role': 'tool', 'tool_call_id': {call_id!r}, 'content': ...}} after messages.{at}",
    )


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
    info: ModelInfo | None,
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
    cleaned = _check_parts(value, where, role, images, model, info, policy)
    if cleaned is not None:
        msg = msgs[i] = {**msg, key: cleaned}
    return msg


def _check_parts(
    parts: list[Any] | tuple[Any, ...],
    where: str,
    role: str,
    images: bool,
    model: str,
    info: ModelInfo | None,
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
            allowed: frozenset[str] = _TEXT_PART_FIELDS
            if not isinstance(part.get("text"), str):
                raise RequestValidationError(
                    f"{at}.text must be a string; got {_show(part.get('text'))}.",
                    param=f"{at}.text",
                    model=model,
                    fix=_PARTS_FIX,
                )
        elif kind in ("image_url", "image"):
            allowed = _IMAGE_PART_FIELDS[kind]
            _check_image(part, kind, at, role, images, model, info)
        else:
            accepted = "'text', 'image_url' or 'image'" if images else "'text'"
            raise RequestValidationError(
                f"{at}.type={_show(kind)} is not a content part type a {role} message takes ({accepted}).",
                param=f"{at}.type",
                model=model,
                fix=_PARTS_FIX,
            )
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


def _check_image(
    part: Mapping[str, Any], kind: str, at: str, role: str, images: bool, model: str, info: ModelInfo | None
) -> None:
    if not images:
        raise RequestValidationError(
            f"{at}: images are only allowed in user messages.",
            param=at,
            model=model,
            fix="move the image into a user message",
        )
    if info is not None and not info.vision:
        raise RequestValidationError(
            f"{model} does not accept image input.",
            param=at,
            model=model,
            fix="use a vision model such as gemma-4-31b",
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


def _check_rules(opts: dict[str, Any], stream: bool, model: str, info: ModelInfo | None) -> None:
    tools = opts.get("tools")
    fmt = opts.get("response_format")
    fmt_type = fmt.get("type") if _is_map(fmt) else None
    if _is_map(fmt):
        _check_response_format_shape(fmt, model)
    if tools and fmt_type in ("json_object", "json_schema"):
        raise RequestValidationError(
            "tools and response_format cannot be used in the same request (Cerebras rejects it).",
            param="response_format",
            model=model,
            fix="use structured output through a tool, or drop the tools for this call",
        )
    if fmt_type == "json_object" and stream:
        raise RequestValidationError(
            "response_format json_object is not compatible with streaming.",
            param="response_format",
            model=model,
            fix="call with stream=False, or use json_schema",
        )
    if fmt_type == "json_schema":
        spec = fmt.get("json_schema") if _is_map(fmt) else None
        if _is_map(spec) and spec.get("strict") and "schema" in spec:
            check_strict_schema(spec["schema"], where="response_format.json_schema.schema", model=model)
    if fmt_type in ("json_object", "json_schema") and info is not None and not info.structured_outputs:
        raise RequestValidationError(
            f"{model} does not support structured outputs.",
            param="response_format",
            model=model,
            fix="pick a model that does",
        )
    if tools is not None:
        _check_tools(tools, model, info)
    choice = opts.get("tool_choice")
    if _is_map(choice):
        _check_named_tool_choice(choice, tools, model)
    if choice is not None and info is not None and info.tool_choice_modes is not None:
        mode = "function" if _is_map(choice) else choice
        if mode not in info.tool_choice_modes:
            raise RequestValidationError(
                f"{model} accepts tool_choice {' or '.join(map(repr, info.tool_choice_modes))} only; "
                f"{_show(choice)} is rejected (400 wrong_api_format).",
                param="tool_choice",
                model=model,
                fix="use tool_choice='auto' (the model decides; with one tool it usually calls it)",
            )
    if opts.get("tool_choice") is not None and not tools:
        raise RequestValidationError(
            "tool_choice needs tools.",
            param="tool_choice",
            model=model,
            fix="pass tools=[...] too, or drop tool_choice",
        )
    stop = opts.get("stop")
    if isinstance(stop, (list, tuple)) and len(stop) > _MAX_STOP:
        raise RequestValidationError(
            f"At most {_MAX_STOP} stop sequences are allowed; got {len(stop)}.",
            param="stop",
            model=model,
            fix="keep the 4 that matter",
        )
    if "stream_options" in opts:
        _check_stream_options(opts["stream_options"], model)
    if "top_logprobs" in opts and not opts.get("logprobs"):
        raise RequestValidationError(
            "top_logprobs needs logprobs=True.", param="top_logprobs", model=model, fix="pass logprobs=True as well"
        )
    if "prediction" in opts:
        _check_prediction(opts["prediction"], model)
        for clash, bad in (
            ("logprobs", bool(opts.get("logprobs"))),
            ("n", (opts.get("n") or 1) > 1),
            ("tools", bool(tools)),
        ):
            if bad:
                raise RequestValidationError(
                    f"prediction cannot be combined with {clash}.",
                    param="prediction",
                    model=model,
                    fix=f"drop {clash} or drop prediction",
                )
        if info is not None and not info.predicted_outputs:
            raise RequestValidationError(
                f"{model} does not support predicted outputs.",
                param="prediction",
                model=model,
                fix="use gpt-oss-120b or zai-glm-4.7, or drop prediction",
            )
    if "queue_threshold" in opts and opts.get("service_tier") not in ("flex", "auto"):
        raise RequestValidationError(
            "queue_threshold applies only with service_tier 'flex' or 'auto'.",
            param="queue_threshold",
            model=model,
            fix="pass service_tier='flex' (or 'auto'), or drop queue_threshold",
        )
    _check_reasoning(opts, model, info)


def _check_response_format_shape(fmt: Mapping[str, Any], model: str) -> None:
    """The documented shape of response_format (cerebras-api.md §1.1, §1.5)."""
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


def _check_tools(tools: Any, model: str, info: ModelInfo | None) -> None:
    if not tools:
        return
    if info is not None and not info.tools:
        raise RequestValidationError(
            f"{model} does not support tools.", param="tools", model=model, fix="pick a model with tool calling"
        )
    stricts = set()
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
        stricts.add(bool(strict))
        if fn.get("strict") and "parameters" in fn:
            check_strict_schema(fn["parameters"], where=f"{where}.parameters", model=model)
    if len(stricts) > 1:
        raise RequestValidationError(
            "strict must be the same on every tool of a request (mixed values are rejected).",
            param="tools",
            model=model,
            fix="set strict on all tools or on none",
        )


def _check_named_tool_choice(choice: Mapping[str, Any], tools: Any, model: str) -> None:
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
    names = {t["function"].get("name") for t in tools or () if _is_map(t) and "function" in t}
    if tools and name not in names:
        raise RequestValidationError(
            f"tool_choice names {_show(name)}, which is not one of the tools.",
            param="tool_choice.function.name",
            model=model,
            fix=f"name one of {sorted(n for n in names if isinstance(n, str))}",
        )


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


def _check_reasoning(opts: dict[str, Any], model: str, info: ModelInfo | None) -> None:
    effort = opts.get("reasoning_effort")
    if info is None:
        return
    if effort is not None:
        if info.reasoning == "always_on" and effort == "none":
            raise RequestValidationError(
                f"{model} always reasons; reasoning_effort='none' (or disable_reasoning) is rejected by the API.",
                param="reasoning_effort",
                model=model,
                fix="use reasoning_effort='low' for the least reasoning",
            )
        if info.reasoning_efforts is not None and effort not in info.reasoning_efforts:
            allowed = ", ".join(info.reasoning_efforts) or "none (the model does not take reasoning_effort)"
            raise RequestValidationError(
                f"{model} does not take reasoning_effort={effort!r}.",
                param="reasoning_effort",
                model=model,
                fix=f"use one of: {allowed}",
            )
    if "clear_thinking" in opts and not info.clear_thinking:
        raise RequestValidationError(
            f"clear_thinking is only supported on zai-glm-4.7, not {model} (sending it breaks other models).",
            param="clear_thinking",
            model=model,
            fix="drop clear_thinking for this model",
        )
    fmt = opts.get("reasoning_format")
    if fmt is not None and info.reasoning_formats is not None and fmt not in info.reasoning_formats:
        raise RequestValidationError(
            f"{model} does not support reasoning_format={fmt!r}.",
            param="reasoning_format",
            model=model,
            fix=f"use one of: {', '.join(info.reasoning_formats)}",
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
