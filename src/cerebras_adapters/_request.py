"""Turning a ``create(...)`` call into a validated request: the options, the catalog and the rules.

This module owns every rule checked before a request leaves (cerebras-api.md §1, checklist §8 item 6) and
the assembly of the JSON body and option headers. Each failure is a ``RequestValidationError`` naming the
parameter, the model and the fix. Route-specific shaping (OpenRouter's model ids, provider pin, reasoning
object) happens afterwards in ``routes``; sending happens in ``_client``.

Rules never refuse what the real API accepts: consecutive messages of one role, a system message last, an
assistant-only history, ``max_tokens``, ``stream_options``, ``n`` and the penalties all go through
(RT-01, RT-10..RT-14), and a model missing from the catalog skips every capability rule.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pydantic

from .catalog import Catalog, ModelInfo
from .errors import RequestValidationError, UnsupportedParameterError
from .options import HEADER_OPTIONS, KNOWN_UNSUPPORTED, OPTION_NAMES, option_adapter, option_descriptions
from .schema import check_strict_schema

__all__ = ["PreparedRequest", "UnsupportedPolicy", "prepare_chat_request"]

UnsupportedPolicy = Literal["raise", "drop"]

_MESSAGE_FIELDS: dict[str, frozenset[str]] = {
    "system": frozenset({"role", "content", "name"}),
    "developer": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    "assistant": frozenset({"role", "content", "reasoning", "tool_calls", "name"}),
    "tool": frozenset({"role", "content", "tool_call_id", "name"}),
}
_MAX_STOP = 4
_warned_retired: set[str] = set()


@dataclass
class PreparedRequest:
    """A validated request, ready for a route to shape and the transport to send."""

    model: str
    body: dict[str, Any]
    headers: dict[str, str]
    stream: bool
    timeout: Any
    info: ModelInfo | None


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
    if extra_body:
        body.update(extra_body)
    if extra_headers:
        headers.update(extra_headers)
    return PreparedRequest(model=model, body=body, headers=headers, stream=stream, timeout=timeout, info=info)


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
        value = opts.get(name)
        loc = _error_path(value, name, err["loc"][1:])
        raise RequestValidationError(
            f"Invalid {loc}={value!r}: {err['msg']}.", param=loc, model=model, fix=_type_fix(name)
        ) from None


def _error_path(value: Any, name: str, loc: Iterable[Any]) -> str:
    # pydantic puts union-member tags ("literal[...]", "float", "is-instance[Timeout]") into error locations;
    # keep only the segments that index into the value, so the path names what the caller passed.
    parts = [name]
    for seg in loc:
        if isinstance(value, Mapping) and seg in value:
            value = value[seg]
        elif isinstance(seg, int) and isinstance(value, (list, tuple)) and 0 <= seg < len(value):
            value = value[seg]
        else:
            continue
        parts.append(str(seg))
    return ".".join(parts)


def _type_fix(name: str) -> str:
    desc = option_descriptions().get(name)
    return f"{name}: {desc}" if desc else f"see the options reference for {name}"


def _check_messages(
    messages: Iterable[Mapping[str, Any]], model: str, info: ModelInfo | None, policy: UnsupportedPolicy
) -> list[Any]:
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Iterable):
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
        if not isinstance(msg, Mapping):
            raise RequestValidationError(
                f"{where} must be an object with 'role' and 'content'.",
                param=where,
                model=model,
                fix='use {"role": "user", "content": "..."}',
            )
        role = msg.get("role")
        allowed = _MESSAGE_FIELDS.get(role) if isinstance(role, str) else None
        if allowed is None or not isinstance(role, str):
            raise RequestValidationError(
                f"{where}.role={role!r} is not a chat role.",
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
        content = msg.get("content")
        if isinstance(content, list):
            _check_parts(content, where, role, model, info)
        if role == "assistant":
            for j, call in enumerate(msg.get("tool_calls") or []):
                call_id = call.get("id") if isinstance(call, Mapping) else None
                if not call_id:
                    raise RequestValidationError(
                        f"{where}.tool_calls.{j} has no 'id'.",
                        param=f"{where}.tool_calls.{j}.id",
                        model=model,
                        fix="keep the id the API returned with the tool call",
                    )
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
            call_id = msg.get("tool_call_id")
            if call_id not in open_calls:
                raise RequestValidationError(
                    f"{where} answers tool call {call_id!r}, which no earlier assistant message made "
                    "(the API rejects orphan tool messages).",
                    param=f"{where}.tool_call_id",
                    model=model,
                    fix="set tool_call_id to the id of a tool call from a preceding assistant message",
                )
            del open_calls[call_id]
        elif open_calls:
            _unanswered(open_calls, i, model)
    return msgs


def _unanswered(open_calls: dict[str, int], i: int, model: str) -> None:
    call_id, at = next(iter(open_calls.items()))
    raise RequestValidationError(
        f"Tool call {call_id!r} from messages.{at} is not answered before messages.{i} (API v2 requires a "
        "tool message for every tool call).",
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
        f"{where} ({role}) has fields the API rejects: {extra}.",
        param=f"{where}.{extra[0]}",
        model=model,
        fix=f"a {role} message takes only {sorted(_MESSAGE_FIELDS[role])}",
    )


def _check_parts(parts: list[Any], where: str, role: str, model: str, info: ModelInfo | None) -> None:
    for j, part in enumerate(parts):
        if not isinstance(part, Mapping):
            continue
        kind = part.get("type")
        if kind in ("image_url", "image"):
            if role != "user" and role not in ("system", "developer"):
                raise RequestValidationError(
                    f"{where}.content.{j}: images are only allowed in user messages.",
                    param=f"{where}.content.{j}",
                    model=model,
                    fix="move the image into a user message",
                )
            if info is not None and not info.vision:
                raise RequestValidationError(
                    f"{model} does not accept image input.",
                    param=f"{where}.content.{j}",
                    model=model,
                    fix="use a vision model such as gemma-4-31b",
                )
            if kind == "image_url":
                image = part.get("image_url")
                url = image.get("url") if isinstance(image, Mapping) else image
                if isinstance(url, str) and not url.startswith("data:image/"):
                    raise RequestValidationError(
                        f"{where}.content.{j}: Cerebras takes images only as base64 data URIs, not URLs.",
                        param=f"{where}.content.{j}.image_url.url",
                        model=model,
                        fix="download the image and pass data:image/png;base64,... (or image/jpeg)",
                    )


def _check_rules(opts: dict[str, Any], stream: bool, model: str, info: ModelInfo | None) -> None:
    tools = opts.get("tools")
    fmt = opts.get("response_format")
    fmt_type = fmt.get("type") if isinstance(fmt, Mapping) else None
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
        spec = fmt.get("json_schema") if isinstance(fmt, Mapping) else None
        if not isinstance(spec, Mapping) or not spec.get("name"):
            raise RequestValidationError(
                "response_format json_schema needs json_schema.name.",
                param="response_format.json_schema.name",
                model=model,
                fix='pass {"type": "json_schema", "json_schema": {"name": ..., "schema": {...}}}',
            )
        if spec.get("strict") and "schema" in spec:
            check_strict_schema(spec["schema"], where="response_format.json_schema.schema", model=model)
    if fmt_type in ("json_object", "json_schema") and info is not None and not info.structured_outputs:
        raise RequestValidationError(
            f"{model} does not support structured outputs.",
            param="response_format",
            model=model,
            fix="pick a model that does",
        )
    if fmt_type not in (None, "text", "json_object", "json_schema"):
        raise RequestValidationError(
            f"Unknown response_format type {fmt_type!r}.",
            param="response_format.type",
            model=model,
            fix="use text, json_object or json_schema",
        )
    if tools:
        _check_tools(tools, model, info)
    choice = opts.get("tool_choice")
    if choice is not None and info is not None and info.tool_choice_modes is not None:
        mode = "function" if isinstance(choice, Mapping) else choice
        if mode not in info.tool_choice_modes:
            raise RequestValidationError(
                f"{model} accepts tool_choice {' or '.join(map(repr, info.tool_choice_modes))} only; "
                f"{choice!r} is rejected (400 wrong_api_format).",
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
    if "top_logprobs" in opts and not opts.get("logprobs"):
        raise RequestValidationError(
            "top_logprobs needs logprobs=True.", param="top_logprobs", model=model, fix="pass logprobs=True as well"
        )
    if "prediction" in opts:
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


def _check_tools(tools: Any, model: str, info: ModelInfo | None) -> None:
    if info is not None and not info.tools:
        raise RequestValidationError(
            f"{model} does not support tools.", param="tools", model=model, fix="pick a model with tool calling"
        )
    stricts = set()
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(fn, Mapping) or not fn.get("name"):
            raise RequestValidationError(
                f"tools.{i} needs {{'type': 'function', 'function': {{'name': ...}}}}.",
                param=f"tools.{i}",
                model=model,
                fix="give every tool a function with a name",
            )
        stricts.add(bool(fn.get("strict")))
        if fn.get("strict") and "parameters" in fn:
            check_strict_schema(fn["parameters"], where=f"tools.{i}.function.parameters", model=model)
    if len(stricts) > 1:
        raise RequestValidationError(
            "strict must be the same on every tool of a request (mixed values are rejected).",
            param="tools",
            model=model,
            fix="set strict on all tools or on none",
        )


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
