"""Property-based fuzzing of the whole request surface of ``chat.completions.create`` (hypothesis).

The property, for any keyword arguments at all (every role, tools, ``response_format`` schemas, options in
range and out of range, wrong types, NaN and infinities, huge integers, lone surrogates, ``extra_body``,
``extra_headers``, ``timeout``):

* either the client refuses with ``RequestValidationError`` whose ``param`` is a dotted path starting with a
  real argument name, with a ``fix``, and **nothing is sent**;
* or it sends a body that is **strict JSON** (no ``NaN``/``Infinity`` tokens, valid UTF-8) and that the
  emulator's independent validator (``cerebras_adapters.testing._validation``, written from the API reference
  and importing nothing from the client) accepts, except for the few rules the client deliberately leaves to
  the server (``SERVER_ONLY`` below, each with its reason);
* and nothing else: no ``TypeError``, ``RecursionError``, pydantic or JSON exception escapes ``create``.

A disagreement between the two validators is a bug in one of them; cerebras-api.md (real traffic first) says
which. ``extra_body`` is the documented escape hatch ("sent as it is"), so with it only strict JSON is required.

Runs in the normal test command with a bounded, derandomised budget; ``make fuzz`` runs the ``deep`` profile
(``HYPOTHESIS_PROFILE=deep``: many more examples, fresh randomness each run).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import warnings
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context, event

from cerebras_adapters import AsyncCerebrasClient, CerebrasClient, RequestValidationError
from cerebras_adapters.errors import APIStatusError
from cerebras_adapters.options import OPTION_NAMES
from cerebras_adapters.schema import make_strict
from cerebras_adapters.testing import create_app
from cerebras_adapters.testing._errors import ApiError
from cerebras_adapters.testing._models import find_model
from cerebras_adapters.testing._validation import selected_api_version, validate_for_model, validate_request
from tests.wire import completion, sse, stream_chunks

# -- profiles ---------------------------------------------------------------------------------------------------

_COMMON = {
    "deadline": None,
    "database": None,  # nothing written into the working tree; a failure prints its reproduction blob
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}
settings.register_profile("fuzz-default", derandomize=True, **_COMMON)
settings.register_profile("deep", derandomize=False, **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "fuzz-default")
DEEP = PROFILE == "deep"


def budget(default: int, deep: int) -> settings:
    """The settings of one property: ``default`` examples in the test command, ``deep`` under ``make fuzz``."""
    return settings(settings.get_profile(PROFILE), max_examples=deep if DEEP else default)


# Argument names a RequestValidationError's param may start with: create()'s own arguments.
ARGUMENTS = frozenset({"model", "messages", "stream"}) | OPTION_NAMES

# Rejections of the emulator the client leaves to the server on purpose (message prefix -> reason).
SERVER_ONLY = {
    "n: only n=1 is supported": "the emulator does not invent a shape for n > 1 (undocumented, cerebras-api.md "
    "§1.1); the SPEC takes any n >= 1, so the client sends it",
    "model_parameters: model": "per-model parameters are validated by the server against the model's own "
    "declaration (§1.1); the client cannot know it",
}

PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
MODELS = ["gpt-oss-120b", "zai-glm-4.7", "zai-glm-4.6", "gemma-4-31b", "a-model-neither-side-knows"]
CALL_IDS = ["8db3b6644", "2df84b5a3", "ada5b22c9"]

# -- value strategies -------------------------------------------------------------------------------------------

surrogates = st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2)
text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "NaN", "Infinity", "-Infinity", "a\ud800b", "\udfff", "hi"]),
    st.builds(lambda a, s: a + s, st.text(max_size=4), surrogates),
)
plain_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=10)
non_finite = st.sampled_from([math.nan, math.inf, -math.inf])
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), non_finite)
huge_ints = st.one_of(
    st.integers(min_value=2**31, max_value=2**80), st.integers(min_value=-(2**80), max_value=-(2**31) - 1)
)


class Opaque:
    """An object no JSON serialiser knows."""

    def __repr__(self) -> str:
        return "Opaque()"


junk = st.one_of(
    st.none(),
    st.booleans(),
    numbers,
    huge_ints,
    text,
    st.just(Opaque()),
    st.just(b"\xff\xfe"),
    st.just({1, 2}),
    st.just(()),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(plain_text, st.integers(), max_size=2),
)
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**40), max_value=2**40), st.floats(), text)
json_values = st.recursive(
    json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=8,
)
# Values that are JSON except, sometimes, for one non-finite number or non-JSON leaf deep inside.
anything = st.recursive(
    st.one_of(json_leaf, non_finite, st.just(Opaque())),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(plain_text | text, inner, max_size=3)),
    max_leaves=8,
)


def either(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly valid values (3:1), so that requests get past the first check often enough to reach the next."""
    return st.one_of(valid, valid, valid, invalid)


# -- JSON schemas -----------------------------------------------------------------------------------------------

schema_leaf = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "integer", "number", "boolean", "null"])},
        optional={
            "description": plain_text,
            "enum": st.lists(st.integers(0, 9) | plain_text, min_size=1, max_size=3),
            "minimum": numbers,
            "format": st.sampled_from(["date", "email", "uri"]),
            "nullable": st.booleans(),
            "default": json_values,
        },
    ),
    st.just({"$ref": "#/$defs/Item"}),
    st.just({"$ref": "#/$defs/Missing"}),
    st.just({"$ref": "https://example.org/schema"}),
    st.sampled_from([True, False, {}, {"type": ["string", "null"]}, {"allOf": 5}, {"anyOf": "x"}]),
)


def _object(props: dict[str, Any], required: str, closed: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "object", "properties": props}
    if required == "all":
        node["required"] = list(props)
    elif required == "some":
        node["required"] = list(props)[:1]
    elif required == "junk":
        node["required"] = 5
    if closed is not None:
        node["additionalProperties"] = closed
    return node


def _extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    names = st.sampled_from(["a", "b", "city", "items", "x y"])
    return st.one_of(
        st.builds(
            _object,
            st.dictionaries(names, inner, max_size=3),
            st.sampled_from(["all", "all", "some", "none", "junk"]),
            st.sampled_from([False, False, False, None, True, {"type": "string"}]),
        ),
        st.builds(lambda items: {"type": "array", "items": items}, inner),
        st.builds(lambda branches: {"anyOf": branches}, st.lists(inner, min_size=1, max_size=7)),
        st.builds(lambda parts: {"allOf": parts}, st.lists(inner, min_size=1, max_size=2)),
        st.builds(lambda props: {"type": "object", "properties": props, "additionalProperties": False},
                  st.sampled_from([True, 5, "x", None])),
    )


schemas = st.recursive(schema_leaf, _extend, max_leaves=10)


def _with_defs(schema: Any, item: Any, definitions_key: str) -> Any:
    if isinstance(schema, dict):
        return {**schema, definitions_key: {"Item": item}}
    return schema


def _deep(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        node = {"anyOf": [node]}
    return node


root_schemas = st.one_of(
    schemas,
    st.builds(_with_defs, schemas, schemas, st.sampled_from(["$defs", "$defs", "definitions"])),
    st.builds(_deep, st.sampled_from([10, 120, 300, 3000])),
    st.sampled_from([{"$defs": True}, {"properties": True}, {"allOf": 5}, [], "schema"]),
)


def _strictified(schema: Any) -> Any:
    """The public make_strict on a fuzzed schema: either a schema, or a RequestValidationError (never any other
    exception); a refusal becomes the original schema so the request still exercises the check."""
    try:
        return make_strict(schema)
    except RequestValidationError as exc:
        assert isinstance(exc.param, str) and exc.param.startswith("schema") and exc.fix
        return schema


request_schemas = st.one_of(root_schemas, root_schemas.map(_strictified))

# -- messages ---------------------------------------------------------------------------------------------------

text_part = st.fixed_dictionaries({"type": st.just("text"), "text": text})
image_part = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("image_url"),
            "image_url": st.fixed_dictionaries(
                {"url": st.sampled_from([PNG, PNG, "https://example.org/cat.png", "data:image/gif;base64,R0lG",
                                         "data:image/png;base64,!!"])},
                optional={"detail": st.sampled_from(["auto", "low"]), "extra": junk},
            ),
        }
    ),
    st.fixed_dictionaries({"type": st.just("image"), "image": st.sampled_from([PNG, 5])}),
    st.fixed_dictionaries({"type": st.just("image_url"), "image_url": st.sampled_from([PNG, None, {}])}),
)
odd_part = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": text, "cache_control": st.just({"type": "ephemeral"})}),
    st.fixed_dictionaries({"type": st.sampled_from(["audio", None, 5]), "text": text}),
    st.fixed_dictionaries({"type": st.just("text"), "text": junk}),
    junk,
)
valid_content = st.one_of(text, st.lists(text_part, max_size=3))
any_content = st.one_of(
    valid_content,
    valid_content,
    junk,
    st.lists(st.one_of(text_part, image_part, odd_part), min_size=1, max_size=3),
)
good_call = st.builds(
    lambda call_id, name, arguments: {"id": call_id, "type": "function",
                                      "function": {"name": name, "arguments": arguments}},
    st.sampled_from(CALL_IDS),
    st.sampled_from(["get_weather", "lookup-2"]),
    st.sampled_from(['{"city": "Paris"}', "{}", ""]),
)
odd_call = st.one_of(
    st.fixed_dictionaries(
        {
            "id": st.one_of(st.sampled_from(CALL_IDS), junk, st.lists(st.sampled_from(CALL_IDS), max_size=1)),
            "type": st.one_of(st.just("function"), junk),
            "function": st.one_of(
                st.fixed_dictionaries({"name": st.just("get_weather"), "arguments": st.just("{}")}),
                st.fixed_dictionaries({"name": junk, "arguments": junk}),
                st.fixed_dictionaries({"name": st.just("f"), "arguments": st.just("{}"), "extra": junk}),
                junk,
            ),
        },
        optional={"index": st.integers(0, 3), "extra": junk},
    ),
    junk,
)


def _message(role: str, content: st.SearchStrategy[Any], *, odd: bool) -> st.SearchStrategy[dict[str, Any]]:
    optional: dict[str, st.SearchStrategy[Any]] = {"name": st.one_of(plain_text, junk) if odd else plain_text}
    required: dict[str, st.SearchStrategy[Any]] = {"role": st.just(role)}
    if role == "assistant":
        optional.update(
            content=st.one_of(content, st.none()),
            reasoning=st.one_of(text, junk) if odd else text,
            tool_calls=st.one_of(st.lists(odd_call, min_size=1, max_size=2), junk) if odd else st.nothing(),
        )
    elif role == "tool":
        ids = st.sampled_from(CALL_IDS)
        required.update(tool_call_id=st.one_of(ids, junk, st.lists(ids, max_size=1)) if odd else ids,
                        content=content)
    else:
        required["content"] = content
    return st.fixed_dictionaries(required, optional=optional)


ROLES = ("system", "developer", "user", "assistant")
plain_message = st.one_of(*[_message(role, valid_content, odd=False) for role in ROLES])
odd_message = st.one_of(
    *[_message(role, any_content, odd=True) for role in (*ROLES, "tool")],
    st.fixed_dictionaries({"role": st.sampled_from(["bot", 5, None]), "content": text}),
    st.fixed_dictionaries({"role": st.just("user"), "content": text, "cache_control": st.just({"type": "x"})}),
    junk,
)


def _round_trip(calls: list[dict[str, Any]], answers: list[str]) -> list[dict[str, Any]]:
    unique = list({call["id"]: call for call in calls}.values())
    return [
        {"role": "assistant", "content": None, "tool_calls": unique},
        *({"role": "tool", "tool_call_id": answer, "content": "Sunny"} for answer in answers),
    ]


round_trip = st.lists(good_call, min_size=1, max_size=2).flatmap(
    lambda calls: st.builds(
        _round_trip,
        st.just(calls),
        st.one_of(  # usually every call answered in order; sometimes one missing, extra or wrong
            st.just([c["id"] for c in {c["id"]: c for c in calls}.values()]),
            st.lists(st.sampled_from(CALL_IDS), max_size=3),
        ),
    )
)
valid_messages = st.builds(
    lambda head, turns: [head, *[m for turn in turns for m in turn]],
    st.fixed_dictionaries({"role": st.sampled_from(["user", "system"]), "content": valid_content}),
    st.lists(st.one_of(plain_message.map(lambda m: [m]), round_trip), max_size=3),
)


@st.composite
def messages_with_a_fault(draw: st.DrawFn) -> Any:
    base = draw(valid_messages)
    kind = draw(st.sampled_from(["insert", "insert", "replace", "whole"]))
    if kind == "whole":
        return draw(st.one_of(st.just([]), junk, st.lists(odd_message, max_size=3)))
    at = draw(st.integers(0, len(base)))
    if kind == "replace" and at < len(base):
        base[at] = draw(odd_message)
    else:
        base.insert(at, draw(odd_message))
    return base


# -- options ----------------------------------------------------------------------------------------------------

good_tool = st.builds(
    lambda name, params, strict, desc: {
        "type": "function",
        "function": {"name": name, **params, **strict, **desc},
    },
    st.sampled_from(["get_weather", "lookup-2"]),
    st.one_of(st.just({}), request_schemas.map(lambda schema: {"parameters": schema})),
    st.sampled_from([{}, {"strict": True}, {"strict": False}]),
    st.one_of(st.just({}), plain_text.map(lambda d: {"description": d})),
)
odd_tool = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.one_of(st.just("function"), junk),
            "function": st.one_of(
                st.fixed_dictionaries(
                    {"name": st.one_of(text, junk, st.just("a.b"), st.just("x" * 65))},
                    optional={"description": junk, "parameters": st.one_of(request_schemas, junk),
                              "strict": junk, "extra": junk},
                ),
                junk,
            ),
        },
        optional={"cache_control": st.just({"type": "ephemeral"})},
    ),
    junk,
)
good_schema_format = st.fixed_dictionaries(
    {
        "type": st.just("json_schema"),
        "json_schema": st.fixed_dictionaries(
            {"name": st.just("answer")},
            optional={"schema": request_schemas, "strict": st.booleans(), "description": plain_text},
        ),
    }
)
header_names = st.sampled_from(["x-trace-id", "X-Request-Source", "cf-ray", "x-delay-time"])
header_values = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=12)

# Each option: (values the API takes, values it does not or that are not JSON at all).
OPTIONS: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {
    "max_completion_tokens": (st.integers(-1, 2**31 - 1), st.one_of(huge_ints, st.integers(max_value=-2), junk)),
    "max_tokens": (st.integers(-1, 4096), st.one_of(huge_ints, junk)),
    "min_completion_tokens": (st.integers(-1, 4096), st.one_of(huge_ints, junk)),
    "temperature": (st.floats(0, 2), st.one_of(numbers, junk)),
    "top_p": (st.floats(0, 1), st.one_of(numbers, junk)),
    "seed": (st.integers(-(2**63), 2**63 - 1), st.one_of(huge_ints, st.integers(min_value=2**63), junk)),
    "stop": (st.one_of(plain_text, st.lists(plain_text, max_size=4)), st.one_of(st.lists(text, max_size=6), junk)),
    "n": (st.just(1), st.one_of(st.integers(2, 4), huge_ints, junk)),
    "frequency_penalty": (st.floats(-2, 2), st.one_of(numbers, junk)),
    "presence_penalty": (st.floats(-2, 2), st.one_of(numbers, junk)),
    "logit_bias": (
        st.dictionaries(st.integers(0, 200000) | st.integers(0, 9).map(str),
                        st.integers(-100, 100) | st.floats(-100, 100), max_size=3),
        st.one_of(
            st.dictionaries(st.integers(0, 9).map(str), st.one_of(numbers, junk), min_size=1, max_size=2),
            st.just({str(i): 1 for i in range(101)}),
            st.dictionaries(st.one_of(st.booleans(), st.floats(), text), st.integers(-1, 1), min_size=1, max_size=2),
            junk,
        ),
    ),
    "logprobs": (st.booleans(), junk),
    "top_logprobs": (st.integers(0, 20), st.one_of(st.integers(), junk)),
    "reasoning_effort": (st.sampled_from(["none", "low", "medium", "high"]), st.one_of(text, junk)),
    "reasoning_format": (st.sampled_from(["none", "parsed", "text_parsed", "raw", "hidden"]), junk),
    "clear_thinking": (st.booleans(), junk),
    "disable_reasoning": (st.booleans(), junk),
    "tools": (st.lists(good_tool, max_size=2), st.one_of(st.lists(st.one_of(good_tool, odd_tool), min_size=1,
                                                                      max_size=2), junk)),
    "tool_choice": (
        st.one_of(
            st.sampled_from(["none", "auto", "required"]),
            st.fixed_dictionaries({"type": st.just("function"),
                                   "function": st.fixed_dictionaries({"name": st.sampled_from(["get_weather", "x"])})}),
        ),
        st.one_of(
            st.fixed_dictionaries({"type": junk, "function": junk}),
            st.just({"type": "function", "function": {"name": "get_weather", "strict": True}}),
            junk,
        ),
    ),
    "parallel_tool_calls": (st.booleans(), junk),
    "response_format": (
        st.one_of(st.just({"type": "text"}), st.just({"type": "json_object"}), good_schema_format),
        st.one_of(
            junk,
            st.fixed_dictionaries({"type": st.sampled_from(["json", "xml", 5, "text"]), "schema": junk}),
            st.fixed_dictionaries({"type": st.just("json_schema"), "json_schema": st.fixed_dictionaries(
                {"name": st.one_of(st.just(""), junk)},
                optional={"schema": junk, "strict": junk, "description": junk, "extra": junk})}),
        ),
    ),
    "prediction": (
        st.fixed_dictionaries({"type": st.just("content"),
                               "content": st.one_of(plain_text, st.lists(text_part, max_size=2))}),
        st.one_of(junk, st.fixed_dictionaries({"type": junk, "content": junk}),
                  st.fixed_dictionaries({"type": st.just("content"), "content": st.lists(odd_part, min_size=1)})),
    ),
    "service_tier": (st.sampled_from(["auto", "default", "flex", "priority"]), junk),
    "queue_threshold": (st.integers(50, 20000), st.one_of(st.integers(), junk)),
    "prompt_cache_key": (plain_text, st.one_of(st.just("k" * 1025), junk)),
    "user": (plain_text, st.one_of(text, junk)),
    "model_parameters": (st.just({}), st.one_of(st.dictionaries(plain_text, anything, max_size=2), junk)),
    "stream_options": (
        st.fixed_dictionaries({"include_usage": st.booleans()}),
        st.one_of(st.fixed_dictionaries({"include_usage": junk}), st.just({"other": 1}), junk),
    ),
    "api_version": (st.integers(1, 3), st.one_of(huge_ints, st.integers(max_value=0), junk)),
    "extra_body": (st.dictionaries(plain_text, json_values, max_size=2),
                   st.one_of(st.dictionaries(text | st.integers(), anything, max_size=2), junk)),
    "extra_headers": (st.dictionaries(header_names, header_values, max_size=2), st.just({})),
    "timeout": (st.one_of(st.none(), st.floats(0.1, 120), st.just(httpx.Timeout(5.0))), st.one_of(numbers, junk)),
}


@st.composite
def requests(draw: st.DrawFn, models: list[str] = MODELS) -> dict[str, Any]:
    """A mostly-valid request (a few options, a plausible conversation) with zero, one or two faults injected:
    an option out of range or of the wrong type, an odd message, a junk model."""
    names = draw(st.lists(st.sampled_from(sorted(OPTIONS)), max_size=4, unique=True))
    kwargs: dict[str, Any] = {name: draw(OPTIONS[name][0]) for name in names}
    kwargs["model"] = draw(st.sampled_from(models))
    kwargs["messages"] = draw(valid_messages)
    kwargs["stream"] = draw(st.booleans())
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
        target = draw(st.sampled_from([*sorted(OPTIONS), "messages", "messages", "messages", "model"]))
        if target == "messages":
            kwargs["messages"] = draw(messages_with_a_fault())
        elif target == "model":
            kwargs["model"] = draw(st.one_of(st.just(""), junk))
        else:
            kwargs[target] = draw(OPTIONS[target][1])
    return kwargs


# -- the server side --------------------------------------------------------------------------------------------


def _no_constants(name: str) -> Any:
    raise ValueError(f"not strict JSON: {name}")


def strict_json(content: bytes) -> Any:
    """The body as the API parses it: strict JSON only (``NaN``/``Infinity`` are not JSON), UTF-8 only."""
    return json.loads(content.decode("utf-8"), parse_constant=_no_constants)


def emulator_verdict(body: Any, api_version: int = 2) -> str | None:
    """What the emulator's independent validator says about a body sent under ``api_version``: None (accepted)
    or its 400 message."""
    try:
        validate_request(body, api_version=api_version)
        spec = find_model(body["model"])
        if spec is not None:
            validate_for_model(body, spec)
    except ApiError as exc:
        return str(exc.body.get("message"))
    return None


class Server:
    """A MockTransport handler that answers like the API: 400 when the emulator's validator refuses, a
    completion (or a stream) otherwise. Keeps every body it received."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.versions: list[int] = []  # the API version each request selected (X-Cerebras-Version-Patch)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(request.read())
        self.versions.append(selected_api_version({k.lower(): v for k, v in request.headers.items()}))
        body = strict_json(self.bodies[-1])
        verdict = emulator_verdict(body, self.versions[-1])
        if verdict is not None:
            return httpx.Response(400, json={"message": verdict, "type": "invalid_request_error",
                                             "param": "validation_error", "code": "wrong_api_format"})
        if body.get("stream"):
            return httpx.Response(200, content=sse(stream_chunks()), headers={"content-type": "text/event-stream"})
        return httpx.Response(200, json=completion("Sunny."))


def call(kwargs: dict[str, Any], server: Server) -> Any:
    """create(**kwargs) on a sync client (warnings about retired models or deprecated options silenced)."""
    http = httpx.Client(transport=httpx.MockTransport(server))
    with CerebrasClient(api_key="csk-fuzz", http_client=http, max_retries=0) as client, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = client.chat.completions.create(**kwargs)
        if kwargs.get("stream"):
            return list(result)
        return result


def check_refusal(exc: RequestValidationError, server: Server) -> None:
    assert server.bodies == [], "a refused request was sent"
    assert isinstance(exc.param, str) and exc.param, exc
    assert exc.param.split(".")[0] in ARGUMENTS, f"param {exc.param!r} does not start with an argument name"
    assert exc.fix, exc


def check_sent(kwargs: dict[str, Any], server: Server, outcome: Any) -> None:
    assert len(server.bodies) == 1
    body = strict_json(server.bodies[0])  # raises on NaN / Infinity / invalid UTF-8
    if kwargs.get("extra_body"):
        return  # the escape hatch: sent as given, the server decides
    verdict = emulator_verdict(body, server.versions[0])
    if verdict is None:
        return
    assert any(verdict.startswith(prefix) for prefix in SERVER_ONLY), (
        f"the client sent a body the emulator's validator refuses: {verdict}\nbody: {body}"
    )
    assert isinstance(outcome, APIStatusError) and outcome.status_code == 400


def note(outcome: str) -> None:
    """Count outcomes in hypothesis's statistics (pytest --hypothesis-show-statistics)."""
    if currently_in_test_context():
        event(outcome)


def run_property(kwargs: dict[str, Any]) -> None:
    server = Server()
    try:
        outcome = call(kwargs, server)
    except RequestValidationError as exc:
        check_refusal(exc, server)
        note(f"refused: {exc.param.split('.')[0]}")
        return
    except APIStatusError as exc:  # the server (the emulator's validator) answered 400
        outcome = exc
    note("sent" + (" (server refused)" if isinstance(outcome, APIStatusError) else ""))
    check_sent(kwargs, server, outcome)


# -- properties -------------------------------------------------------------------------------------------------


@budget(default=1000, deep=50_000)
@given(kwargs=requests())
def test_any_request_is_refused_naming_a_parameter_or_sent_as_json_the_server_accepts(kwargs: dict[str, Any]) -> None:
    run_property(kwargs)


@budget(default=300, deep=10_000)
@given(model=st.sampled_from(MODELS[:4]), schema=request_schemas, strict=st.booleans())
def test_any_response_schema_is_refused_naming_its_place_or_accepted_by_the_server(
    model: str, schema: Any, strict: bool
) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": strict}}
    run_property({"model": model, "messages": [{"role": "user", "content": "Answer in JSON."}], "response_format": fmt})


@budget(default=300, deep=10_000)
@given(model=st.sampled_from(MODELS[:4]), tools=st.lists(st.one_of(good_tool, good_tool, odd_tool), min_size=1,
                                                          max_size=2),
       choice=st.one_of(st.none(), *OPTIONS["tool_choice"]))
def test_any_tool_list_is_refused_naming_its_place_or_accepted_by_the_server(
    model: str, tools: list[Any], choice: Any
) -> None:
    run_property({"model": model, "messages": [{"role": "user", "content": "Weather?"}], "tools": tools,
                  "tool_choice": choice})


@budget(default=300, deep=10_000)
@given(model=st.sampled_from(MODELS), messages=messages_with_a_fault())
def test_any_conversation_is_refused_naming_the_message_or_accepted_by_the_server(model: str, messages: Any) -> None:
    run_property({"model": model, "messages": messages})


@budget(default=150, deep=5_000)
@given(schema=root_schemas)
def test_make_strict_returns_a_schema_or_refuses_naming_the_place(schema: Any) -> None:
    try:
        strict = make_strict(schema)
    except RequestValidationError as exc:
        assert exc.param.startswith("schema") and exc.fix
        return
    json.dumps(strict, default=repr)  # a plain JSON-shaped tree (no cycles)


# -- the real emulator and the OpenRouter route ------------------------------------------------------------------

_app = create_app(tokens_per_second=None)


@budget(default=80, deep=3_000)
@given(kwargs=requests(MODELS[:4]), route=st.sampled_from(["cerebras", "openrouter"]))
def test_against_the_emulator_app_on_both_routes_nothing_but_our_own_exceptions_escape(
    kwargs: dict[str, Any], route: str
) -> None:
    """The async client against the emulator itself (ASGI), on the Cerebras and the OpenRouter route: any outcome
    is a result or one of the library's exceptions, and every body the emulator received is strict JSON."""
    kwargs.pop("timeout", None)  # a timeout means nothing to an in-process transport
    received: list[bytes] = []

    async def main() -> None:
        transport = httpx.ASGITransport(app=_app)

        async def handle(request: httpx.Request) -> httpx.Response:
            received.append(await request.aread())
            return await transport.handle_async_request(request)

        http = httpx.AsyncClient(transport=httpx.MockTransport(handle))
        base = "http://emulator/api/v1" if route == "openrouter" else "http://emulator/v1"
        async with AsyncCerebrasClient(api_key="csk-fuzz", http_client=http, max_retries=0, route=route,
                                       base_url=base) as client:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    result = await client.chat.completions.create(**kwargs)
                    if kwargs.get("stream"):
                        [_ async for _ in result]
                except RequestValidationError as exc:
                    assert received == []
                    assert exc.param.split(".")[0] in ARGUMENTS | {"route"}, exc.param
                except APIStatusError:
                    pass
        for content in received:
            strict_json(content)

    asyncio.run(main())


# -- examples the fuzzer found, kept as plain regression cases ------------------------------------------------------

def _strict_format(schema: Any) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "answer", "strict": True, "schema": schema}}


def _closed(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


_HI = [{"role": "user", "content": "hi"}]
FOUND: list[tuple[str, dict[str, Any]]] = [
    # The client named the key "route.…" instead of "extra_body.…" (the path held the escaped key).
    ("surrogate in an extra_body key", {"model": "gpt-oss-120b", "messages": _HI, "extra_body": {"a\ud800b": None}}),
    # The client took "properties": null for {} and sent it; the server's schema check refuses it.
    ("strict schema with properties null", {
        "model": "gpt-oss-120b", "messages": _HI,
        "response_format": _strict_format({"type": "object", "properties": None, "additionalProperties": False}),
    }),
    # The emulator counted arrays as nesting levels and refused what the client (and the docs) allow.
    ("three objects under three arrays", {
        "model": "gpt-oss-120b", "messages": _HI,
        "response_format": _strict_format(_closed({"a": {"type": "array", "items": _closed({"b": {
            "type": "array", "items": _closed({"c": {"type": "array", "items": {"type": "string"}}})}})}})),
    }),
    # The emulator refused images in developer messages; §1.2 gives developer the same content as system.
    ("image in a developer message", {
        "model": "a-model-neither-side-knows",
        "messages": [{"role": "developer", "content": [{"type": "image_url", "image_url": {"url": PNG}}]}, *_HI],
    }),
]


@pytest.mark.parametrize("kwargs", [k for _, k in FOUND], ids=[name for name, _ in FOUND])
def test_fuzzer_finding(kwargs: dict[str, Any]) -> None:
    run_property(kwargs)

