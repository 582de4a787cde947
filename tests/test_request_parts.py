"""The request parts every adapter builds the same way (``cerebras_adapters._request_parts``): the strict
``json_schema`` response format, strict tools and ``tool_choice`` by name."""

from __future__ import annotations

import pytest

from cerebras_adapters import RequestValidationError
from cerebras_adapters._request_parts import json_schema_format, schema_name, strict_tool, tool_choice_for

TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}}]


def test_a_schema_becomes_a_strict_response_format_named_for_its_title():
    schema = {"title": "City answer!", "description": "A city.", "type": "object",
              "properties": {"city": {"type": "string"}, "note": {"type": "string", "default": "x"}}}
    fmt = json_schema_format(schema)
    spec = fmt["json_schema"]
    assert fmt["type"] == "json_schema" and spec["name"] == "City_answer_" and spec["description"] == "A city."
    assert spec["strict"] is True and spec["schema"]["additionalProperties"] is False
    assert sorted(spec["schema"]["required"]) == ["city", "note"]  # every property required, as strict mode wants
    assert "title" in schema  # the caller's schema is left alone


def test_a_non_strict_format_sends_the_schema_as_given():
    spec = json_schema_format({"type": "object", "properties": {}}, strict=False)["json_schema"]
    assert spec == {"name": "output", "schema": {"type": "object", "properties": {}}, "strict": False}


def test_schema_names_are_cut_to_what_the_api_takes():
    assert schema_name("x" * 100) == "x" * 64 and schema_name(None) == "output" and schema_name("a b") == "a_b"


def test_a_strict_tool_gets_strict_compatible_parameters():
    tool = strict_tool({"type": "function", "function": {"name": "f"}})
    assert tool["function"]["strict"] is True and tool["function"]["parameters"]["additionalProperties"] is False


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        (True, "required"),
        ("any", "required"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
def test_tool_choice_forms(given, sent):
    assert tool_choice_for(given, TOOLS) == sent


def test_a_tool_choice_naming_no_offered_tool_is_refused():
    with pytest.raises(RequestValidationError, match="names no offered tool") as info:
        tool_choice_for("radar", TOOLS)
    assert info.value.param == "tool_choice"
