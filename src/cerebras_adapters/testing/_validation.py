"""What the emulated ``POST /v1/chat/completions`` rejects, written from docs/api-facts.md#request-options.

Two passes: ``validate_request`` checks what the SPEC's request schema checks for every model
(``additionalProperties:false`` on the body and on every message, types and ranges, the API-v2 conversation
rules, strict schemas; under API v1, selected with ``X-Cerebras-Version-Patch: 1``, the v2-only rules are not
applied: docs/api-facts.md#api-versions), and ``validate_for_model`` the per-model gates that need the model
row (docs/api-facts.md#per-model-rules). Every rejection is a 400 in the 2026 shape (``invalid_request_error`` /
``validation_error`` / ``wrong_api_format``). The message texts follow the reported ones where a report exists (named
next to the check) and the same ``<path>: <reason>`` pattern otherwise.

This module must not import the client's validation: it is the independent server-side model.
"""

from __future__ import annotations

import re
from typing import Any

from ._errors import invalid, unsupported_property
from ._models import ModelSpec
from ._schema import strict_schema_error

__all__ = ["selected_api_version", "validate_for_model", "validate_request"]

# SPEC / SDK 1.91.0 CompletionCreateParams (docs/api-facts.md#unknown-fields); anything else is rejected.
TOP_LEVEL_FIELDS = frozenset(
    {
        "model",
        "messages",
        "max_completion_tokens",
        "max_tokens",
        "min_completion_tokens",
        "min_tokens",
        "temperature",
        "top_p",
        "stop",
        "stream",
        "stream_options",
        "seed",
        "n",
        "logprobs",
        "top_logprobs",
        "frequency_penalty",
        "presence_penalty",
        "logit_bias",
        "parallel_tool_calls",
        "tools",
        "tool_choice",
        "response_format",
        "reasoning_effort",
        "reasoning_format",
        "disable_reasoning",
        "clear_thinking",
        "prediction",
        "prompt_cache_key",
        "service_tier",
        "model_parameters",
        "user",
    }
)

# docs/api-facts.md#message-fields: every message object is additionalProperties:false, discriminated by role.
MESSAGE_FIELDS: dict[str, frozenset[str]] = {
    "system": frozenset({"role", "content", "name"}),
    "developer": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    "assistant": frozenset({"role", "content", "reasoning", "tool_calls", "name"}),
    "tool": frozenset({"role", "content", "tool_call_id", "name"}),
}
_ROLES_TEXT = "'system', 'developer', 'user', 'assistant', 'tool'"
_TOOL_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# docs/api-facts.md#images: images only as base64 data URIs of PNG or JPEG.
_DATA_URI_RE = re.compile(r"^data:image/(?:png|jpeg);base64,[A-Za-z0-9+/=\s]+$")
_EFFORTS = ("none", "low", "medium", "high")
_FORMATS = ("none", "parsed", "text_parsed", "raw", "hidden")
_TIERS = ("auto", "default", "flex", "priority")


def _quoted(values: tuple[str, ...] | list[str]) -> str:
    items = [f"'{v}'" for v in values]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_int(body: dict[str, Any], key: str, low: int, high: int | None = None) -> None:
    value = body.get(key)
    if value is None:
        return
    if not _is_int(value):
        raise invalid(f"{key}: Input should be a valid integer")
    if value < low:
        raise invalid(f"{key}: Input should be greater than or equal to {low}")
    if high is not None and value > high:
        raise invalid(f"{key}: Input should be less than or equal to {high}")


def _check_number(body: dict[str, Any], key: str, low: float, high: float) -> None:
    value = body.get(key)
    if value is None:
        return
    if not _is_number(value):
        raise invalid(f"{key}: Input should be a valid number")
    if value < low:
        raise invalid(f"{key}: Input should be greater than or equal to {low:g}")
    if value > high:
        raise invalid(f"{key}: Input should be less than or equal to {high:g}")


def _check_bool(body: dict[str, Any], key: str) -> None:
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise invalid(f"{key}: Input should be a valid boolean")


def _check_enum(body: dict[str, Any], key: str, values: tuple[str, ...], nullable: bool = True) -> None:
    if key not in body:
        return
    value = body[key]
    if value is None and nullable:
        return
    if value not in values:
        raise invalid(f"{key}: Input should be {_quoted(values)}")


def _check_keys(obj: dict[str, Any], allowed: frozenset[str] | set[str], path: str) -> None:
    for key in obj:
        if key not in allowed:
            raise unsupported_property(f"{path}.{key}")


# ------------------------------------------------------------------------------------------------ content


def _check_parts(content: Any, path: str, allow_images: bool, required: bool) -> None:
    if content is None:
        if required:
            raise invalid(f"{path}: Field required")
        return
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise invalid(f"{path}: Input should be a valid string or a list of content parts")
    for j, part in enumerate(content):
        where = f"{path}.{j}"
        if not isinstance(part, dict):
            raise invalid(f"{where}: Input should be a valid dictionary")
        kind = part.get("type")
        if kind == "text":
            _check_keys(part, {"type", "text"}, where)
            if not isinstance(part.get("text"), str):
                raise invalid(f"{where}.text: Field required")
        elif kind in ("image_url", "image") and allow_images:
            if kind == "image_url":
                _check_keys(part, {"type", "image_url"}, where)
                image = part.get("image_url")
                if not isinstance(image, dict) or not isinstance(image.get("url"), str):
                    raise invalid(f"{where}.image_url.url: Field required")
                _check_keys(image, {"url", "detail"}, f"{where}.image_url")
                if not _DATA_URI_RE.match(image["url"]):
                    raise invalid(
                        f"{where}.image_url.url: only base64 data URIs (data:image/png;base64,... or "
                        "data:image/jpeg;base64,...) are supported"
                    )
            else:
                _check_keys(part, {"type", "image"}, where)
                if not isinstance(part.get("image"), str):
                    raise invalid(f"{where}.image: Field required")
        else:
            allowed = "'text', 'image_url' or 'image'" if allow_images else "'text'"
            raise invalid(
                f"{where}: Input tag '{kind}' found using 'type' does not match any of the expected tags: {allowed}"
            )


def has_images(message: dict[str, Any]) -> bool:
    content = message.get("content")
    return isinstance(content, list) and any(
        isinstance(p, dict) and p.get("type") in ("image_url", "image") for p in content
    )


def _check_message(i: int, message: Any) -> None:
    if not isinstance(message, dict):
        raise invalid(f"messages.{i}: Input should be a valid dictionary")
    role = message.get("role")
    if role not in MESSAGE_FIELDS:
        raise invalid(
            f"messages.{i}: Input tag '{role}' found using 'role' does not match any of the expected "
            f"tags: {_ROLES_TEXT}"
        )
    path = f"messages.{i}.{role}"
    _check_keys(message, MESSAGE_FIELDS[role], path)
    if "name" in message and message["name"] is not None and not isinstance(message["name"], str):
        raise invalid(f"{path}.name: Input should be a valid string")
    if role in ("system", "developer", "user"):
        # docs/api-facts.md#message-fields: developer content is "same as system" (string, or text / image_url / image
        # parts).
        _check_parts(message.get("content"), f"{path}.content", allow_images=True, required=True)
    elif role == "tool":
        _check_parts(message.get("content"), f"{path}.content", allow_images=False, required=True)
        if not isinstance(message.get("tool_call_id"), str):
            raise invalid(f"{path}.tool_call_id: Field required")
    else:
        _check_parts(message.get("content"), f"{path}.content", allow_images=False, required=False)
        _check_parts(message.get("reasoning"), f"{path}.reasoning", allow_images=False, required=False)
        calls = message.get("tool_calls")
        if calls is not None:
            if not isinstance(calls, list):
                raise invalid(f"{path}.tool_calls: Input should be a valid list")
            for j, call in enumerate(calls):
                where = f"{path}.tool_calls.{j}"
                if not isinstance(call, dict):
                    raise invalid(f"{where}: Input should be a valid dictionary")
                _check_keys(call, {"id", "type", "function", "index"}, where)
                function = call.get("function")
                if not isinstance(call.get("id"), str):
                    raise invalid(f"{where}.id: Field required")
                if not isinstance(function, dict):
                    raise invalid(f"{where}.function: Field required")
                _check_keys(function, {"name", "arguments"}, f"{where}.function")
                if not isinstance(function.get("name"), str):
                    raise invalid(f"{where}.function.name: Field required")
                if not isinstance(function.get("arguments"), str):
                    raise invalid(f"{where}.function.arguments: Input should be a valid string")


def _check_conversation(messages: list[dict[str, Any]]) -> None:
    """API v2 (docs/api-facts.md#tool-call-conversations): every tool call answered before the next message, no orphan
    tool messages, unique tool-call ids."""
    pending: dict[str, int] = {}
    seen: set[str] = set()
    for i, message in enumerate(messages):
        role = message["role"]
        if role == "tool":
            call_id = message["tool_call_id"]
            if call_id not in pending:
                raise invalid(
                    f"messages.{i}.tool.tool_call_id: tool message answers '{call_id}', which is not "
                    "a tool call of the preceding assistant message"
                )
            del pending[call_id]
            continue
        if pending:
            ids = ", ".join(f"'{c}'" for c in pending)
            raise invalid(
                f"messages.{next(iter(pending.values()))}.assistant.tool_calls: tool call(s) {ids} "
                f"must be answered by tool messages before messages.{i}"
            )
        for call in message.get("tool_calls") or ():
            call_id = call["id"]
            if call_id in seen:
                raise invalid(f"messages.{i}.assistant.tool_calls: duplicate tool call id '{call_id}'")
            seen.add(call_id)
            pending[call_id] = i
    if pending:
        ids = ", ".join(f"'{c}'" for c in pending)
        raise invalid(
            f"messages.{next(iter(pending.values()))}.assistant.tool_calls: tool call(s) {ids} "
            "must be answered by tool messages"
        )


# -------------------------------------------------------------------------------------------------- tools


def _check_tools(body: dict[str, Any], api_version: int) -> None:
    tools = body.get("tools")
    if tools is None:
        if body.get("tool_choice") is not None and api_version >= 2:
            # API v2: tool_choice without tools is an error (docs/api-facts.md#tool-choice).
            raise invalid("tool_choice: 'tool_choice' is only allowed when 'tools' are specified")
        return
    if not isinstance(tools, list):
        raise invalid("tools: Input should be a valid list")
    names: set[str] = set()
    stricts: set[bool] = set()
    for i, tool in enumerate(tools):
        where = f"tools.{i}"
        if not isinstance(tool, dict):
            raise invalid(f"{where}: Input should be a valid dictionary")
        _check_keys(tool, {"type", "function"}, where)
        if tool.get("type") != "function":
            raise invalid(f"{where}.type: Input should be 'function'")
        function = tool.get("function")
        if not isinstance(function, dict):
            raise invalid(f"{where}.function: Field required")
        _check_keys(function, {"name", "description", "parameters", "strict"}, f"{where}.function")
        name = function.get("name")
        if not isinstance(name, str) or not _TOOL_NAME_RE.match(name):
            raise invalid(f"{where}.function.name: must be 1-64 characters of a-z, A-Z, 0-9, '_' or '-'")
        names.add(name)
        parameters = function.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise invalid(f"{where}.function.parameters: Input should be a valid dictionary")
        strict = function.get("strict")
        if strict is not None and not isinstance(strict, bool):
            raise invalid(f"{where}.function.strict: Input should be a valid boolean")
        stricts.add(bool(strict))
        if strict:
            error = strict_schema_error(
                parameters
                if parameters is not None
                else {"type": "object", "properties": {}, "additionalProperties": False},
                api_version=api_version,
            )
            if error:
                raise invalid(f"{where}.function.parameters: {error}")
    if len(stricts) > 1:
        # RooCodeInc/Roo-Code#10334 (then a 422, now 400).
        raise invalid("tools: Tools with mixed values for 'strict' are not allowed")
    choice = body.get("tool_choice")
    if choice is None or choice in ("none", "auto", "required"):
        return
    if isinstance(choice, dict):
        _check_keys(choice, {"type", "function"}, "tool_choice")
        function = choice.get("function")
        if choice.get("type") == "function" and isinstance(function, dict) and isinstance(function.get("name"), str):
            _check_keys(function, {"name"}, "tool_choice.function")
            if function["name"] not in names:
                raise invalid(f"tool_choice.function.name: no tool named '{function['name']}' in 'tools'")
            return
    raise invalid("tool_choice: Input should be 'none', 'auto', 'required' or a named function choice")


def _check_response_format(body: dict[str, Any], api_version: int) -> None:
    fmt = body.get("response_format")
    if fmt is None:
        return
    if not isinstance(fmt, dict):
        raise invalid("response_format: Input should be a valid dictionary")
    kind = fmt.get("type")
    if kind == "text" or kind == "json_object":
        _check_keys(fmt, {"type"}, "response_format")
    elif kind == "json_schema":
        _check_keys(fmt, {"type", "json_schema"}, "response_format")
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict):
            raise invalid("response_format.json_schema: Field required")
        _check_keys(spec, {"name", "description", "schema", "strict"}, "response_format.json_schema")
        if not isinstance(spec.get("name"), str):
            # Cerebras/cerebras-cloud-sdk-python#4: name is required.
            raise invalid("response_format.json_schema.name: Field required")
        schema = spec.get("schema")
        if schema is not None and not isinstance(schema, dict):
            raise invalid("response_format.json_schema.schema: Input should be a valid dictionary")
        if spec.get("strict") is True:
            error = strict_schema_error(schema if schema is not None else {}, api_version=api_version)
            if error:
                raise invalid(f"response_format.json_schema.schema: {error}")
    else:
        raise invalid("response_format.type: Input should be 'text', 'json_object' or 'json_schema'")
    if kind != "text" and body.get("tools"):
        # 2026 docs; BerriAI/litellm#31333.
        raise invalid('response_format: "tools" is incompatible with "response_format"')
    if kind == "json_object" and body.get("stream"):
        # docs/api-facts.md#json-mode-and-streaming: json_object is not compatible with streaming.
        raise invalid("response_format: 'json_object' is not supported with 'stream': true")


# ------------------------------------------------------------------------------------------------ request


def selected_api_version(headers: Any) -> int:
    """The API version a request selects: ``X-Cerebras-Version-Patch: 1`` is v1; anything else, or no header,
    is v2 (the default since 2026-07-21, docs/api-facts.md#api-versions)."""
    value = headers.get("x-cerebras-version-patch") if hasattr(headers, "get") else None
    return 1 if isinstance(value, str) and value.strip() == "1" else 2


def validate_request(body: Any, *, api_version: int = 2) -> None:
    """Model-independent checks (SPEC request schema + the rules of ``api_version``, 2 by default)."""
    if not isinstance(body, dict):
        raise invalid("body: Input should be a valid dictionary")
    for key in body:
        if key not in TOP_LEVEL_FIELDS:
            raise unsupported_property(key)
    if not isinstance(body.get("model"), str):
        raise invalid("model: Field required" if "model" not in body else "model: Input should be a valid string")
    messages = body.get("messages")
    if messages is None:
        raise invalid("messages: Field required")
    if not isinstance(messages, list):
        raise invalid("messages: Input should be a valid list")
    if not messages:
        raise invalid("messages: List should have at least 1 item after validation, not 0")
    for i, message in enumerate(messages):
        _check_message(i, message)
    if api_version >= 2:
        _check_conversation(messages)
    for key in ("max_completion_tokens", "max_tokens", "min_completion_tokens", "min_tokens"):
        _check_int(body, key, -1)
    if body.get("max_tokens") is not None and body.get("max_completion_tokens") is not None:
        # anomalyco/opencode#43716.
        raise invalid("max_tokens: 'max_tokens' and 'max_completion_tokens' cannot both be set")
    _check_number(body, "temperature", 0.0, 2.0)
    _check_number(body, "top_p", 0.0, 1.0)
    _check_number(body, "frequency_penalty", -2.0, 2.0)
    _check_number(body, "presence_penalty", -2.0, 2.0)
    stop = body.get("stop")
    if stop is not None and not isinstance(stop, str):
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise invalid("stop: Input should be a valid string or a list of strings")
        if len(stop) > 4:
            raise invalid(f"stop: List should have at most 4 items after validation, not {len(stop)}")
    for key in ("stream", "logprobs", "parallel_tool_calls", "disable_reasoning", "clear_thinking"):
        _check_bool(body, key)
    options = body.get("stream_options")
    if options is not None:
        if not isinstance(options, dict):
            raise invalid("stream_options: Input should be a valid dictionary")
        _check_keys(options, {"include_usage"}, "stream_options")
        _check_bool(options, "include_usage")
    _check_int(body, "seed", -(2**63))
    _check_int(body, "n", 1)
    if body.get("n") not in (None, 1):
        # n > 1 is undocumented (docs/api-facts.md#option-ranges); the emulator refuses it rather than invent a shape.
        raise invalid("n: only n=1 is supported")
    _check_int(body, "top_logprobs", 0, 20)
    if body.get("top_logprobs") is not None and not body.get("logprobs"):
        raise invalid("top_logprobs: 'top_logprobs' requires 'logprobs' to be true")
    bias = body.get("logit_bias")
    if bias is not None:
        if not isinstance(bias, dict):
            raise invalid("logit_bias: Input should be a valid dictionary")
        if len(bias) > 100:
            # pydantic-ai's live testing: a map with more than 100 entries → 400 (docs/api-facts.md#option-ranges).
            raise invalid(f"logit_bias: at most 100 entries are allowed, got {len(bias)}")
        for token, value in bias.items():
            if not _is_number(value) or not -100 <= value <= 100:
                raise invalid(f"logit_bias.{token}: Input should be a number between -100 and 100")
    _check_tools(body, api_version)
    _check_response_format(body, api_version)
    _check_enum(body, "reasoning_effort", _EFFORTS)
    # reasoning_format is not nullable in SPEC/SDK (docs/api-facts.md#reasoning-format).
    _check_enum(body, "reasoning_format", _FORMATS, nullable=False)
    _check_enum(body, "service_tier", _TIERS)
    prediction = body.get("prediction")
    if prediction is not None:
        if not isinstance(prediction, dict) or prediction.get("type") != "content":
            raise invalid("prediction.type: Input should be 'content'")
        _check_keys(prediction, {"type", "content"}, "prediction")
        _check_parts(prediction.get("content"), "prediction.content", allow_images=False, required=True)
    key = body.get("prompt_cache_key")
    if key is not None and (not isinstance(key, str) or len(key) > 1024):
        raise invalid("prompt_cache_key: Input should be a string of at most 1024 characters")
    if body.get("user") is not None and not isinstance(body["user"], str):
        raise invalid("user: Input should be a valid string")
    params = body.get("model_parameters")
    if params is not None and not isinstance(params, dict):
        raise invalid("model_parameters: Input should be a valid dictionary")


def validate_for_model(body: dict[str, Any], spec: ModelSpec) -> None:
    """Per-model gates (docs/api-facts.md#per-model-rules)."""
    for i, message in enumerate(body["messages"]):
        role = message["role"]
        if role == "developer" and not spec.developer_role:
            raise invalid(f"messages.{i}: role 'developer' is not supported for model '{spec.id}'")
        if has_images(message) and not spec.vision:
            raise invalid(f"messages.{i}.{role}.content: image input is not supported for model '{spec.id}'")
    effort = body.get("reasoning_effort")
    if effort is not None and spec.efforts is not None and effort not in spec.efforts:
        # gpt-oss rejects none (harn-vm notes, elizaOS/eliza#16299); qwen-235b-instruct likewise.
        raise invalid(f"reasoning_effort: Input should be {_quoted(spec.efforts)}")
    if body.get("disable_reasoning") is True and spec.rejects_disable_reasoning:
        raise invalid(f"disable_reasoning: reasoning cannot be disabled for model '{spec.id}'")
    if body.get("clear_thinking") is not None and not spec.clear_thinking:
        raise invalid(
            f"clear_thinking: property 'clear_thinking' is only supported for model 'zai-glm-4.7', not '{spec.id}'"
        )
    fmt = body.get("reasoning_format")
    if fmt is not None and fmt not in spec.reasoning_formats:
        raise invalid(f"reasoning_format: '{fmt}' is not supported for model '{spec.id}'")
    if body.get("prediction") is not None and not spec.prediction:
        raise invalid(f"prediction: predicted outputs are not supported for model '{spec.id}'")
    choice = body.get("tool_choice")
    if spec.tool_choice_auto_only and choice not in (None, "none", "auto"):
        # 567-labs/instructor#1766 (gpt-oss): Unsupported tool_choice … Expected 'auto' or 'none'.
        shown = (
            f"type='function' function={{'name': '{choice['function']['name']}'}}"
            if isinstance(choice, dict)
            else repr(choice)
        )
        raise invalid(f"tool_choice: Unsupported tool_choice: {shown}. Expected 'auto' or 'none'")
    if body.get("model_parameters"):
        raise invalid(f"model_parameters: model '{spec.id}' declares no model parameters")
