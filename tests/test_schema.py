"""``make_strict`` rewrites ordinary JSON schemas into Cerebras strict form; ``check_strict_schema`` holds the
limits of cerebras-api.md §1.5 (2026 docs, enforced by API v2)."""

from __future__ import annotations

import copy
import json
from typing import Any, Optional

import httpx
import pytest
from pydantic import BaseModel, Field

from cerebras_adapters import RequestValidationError
from cerebras_adapters.schema import check_strict_schema, make_strict
from tests.wire import completion


class Address(BaseModel):
    street: str = Field(min_length=1, description="Street and number")
    postcode: Optional[str] = None  # noqa: UP045 - the typing form pydantic users write


class Person(BaseModel):
    name: str = Field(min_length=2, max_length=40)
    age: int = Field(ge=0, le=150, description="Age in years")
    emails: list[str] = Field(default_factory=list, max_length=3)
    home: Address
    work: Optional[Address] = None  # noqa: UP045
    nickname: str = "none"


class TreeNode(BaseModel):
    label: str
    children: list[TreeNode] = []


def objects(node: Any) -> list[dict[str, Any]]:
    """Every object schema inside ``node``."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            found.append(node)
        for value in node.values():
            found += objects(value)
    elif isinstance(node, list):
        for value in node:
            found += objects(value)
    return found


def test_make_strict_turns_a_pydantic_schema_into_one_that_passes_the_strict_check():
    strict = make_strict(Person.model_json_schema())

    check_strict_schema(strict, where="schema")


def test_make_strict_closes_every_object_and_requires_every_property():
    strict = make_strict(Person.model_json_schema())

    for node in objects(strict):
        assert node["additionalProperties"] is False
        assert sorted(node["required"]) == sorted(node["properties"])


def test_make_strict_makes_an_optional_field_nullable_rather_than_absent():
    strict = make_strict(Person.model_json_schema())

    nickname = strict["properties"]["nickname"]
    assert {"type": "null"} in nickname["anyOf"]
    assert "nickname" in strict["required"]


def test_make_strict_keeps_an_optional_nested_model_as_a_nullable_reference():
    strict = make_strict(Person.model_json_schema())

    assert strict["properties"]["work"]["anyOf"] == [{"$ref": "#/$defs/Address"}, {"type": "null"}]
    assert strict["properties"]["home"] == {"$ref": "#/$defs/Address"}


def test_make_strict_closes_nested_models_in_defs():
    strict = make_strict(Person.model_json_schema())

    address = strict["$defs"]["Address"]
    assert address["additionalProperties"] is False
    assert address["required"] == ["street", "postcode"]


def test_make_strict_moves_constraints_into_the_description():
    strict = make_strict(Person.model_json_schema())

    name = strict["properties"]["name"]
    assert "minLength" not in name and "maxLength" not in name
    assert "minLength: 2" in name["description"]
    assert "maxLength: 40" in name["description"]


def test_make_strict_keeps_the_existing_description_in_front_of_the_constraints():
    strict = make_strict(Person.model_json_schema())

    assert strict["properties"]["age"]["description"] == "Age in years (minimum: 0; maximum: 150)"
    assert strict["$defs"]["Address"]["properties"]["street"]["description"] == "Street and number (minLength: 1)"


def test_make_strict_moves_list_constraints_into_the_description():
    strict = make_strict(Person.model_json_schema())

    emails = json.dumps(strict["properties"]["emails"])
    assert "maxItems: 3" in emails
    assert '"maxItems"' not in emails


def test_make_strict_drops_titles():
    strict = make_strict(Person.model_json_schema())

    assert '"title"' not in json.dumps(strict)


def test_make_strict_does_not_change_its_input():
    schema = Person.model_json_schema()
    before = copy.deepcopy(schema)

    make_strict(schema)

    assert schema == before


def test_make_strict_does_not_change_an_input_mixing_definitions_and_defs():
    schema = {
        "type": "object",
        "properties": {"a": {"$ref": "#/definitions/A"}, "b": {"$ref": "#/$defs/B"}},
        "definitions": {"A": {"type": "string", "minLength": 1}},
        "$defs": {"B": {"type": "object", "properties": {"c": {"type": "integer"}}}},
    }
    before = copy.deepcopy(schema)

    strict = make_strict(schema)

    assert schema == before
    assert set(strict["$defs"]) == {"A", "B"}


def test_make_strict_renames_definitions_to_defs_and_rewrites_the_references():
    schema = {
        "type": "object",
        "properties": {"pet": {"$ref": "#/definitions/Pet"}},
        "required": ["pet"],
        "definitions": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}},
    }

    strict = make_strict(schema)

    assert "definitions" not in strict
    assert strict["properties"]["pet"] == {"$ref": "#/$defs/Pet"}
    assert strict["$defs"]["Pet"]["additionalProperties"] is False
    check_strict_schema(strict, where="schema")


def test_make_strict_turns_a_type_list_into_any_of():
    schema = {"type": "object", "properties": {"v": {"type": ["string", "integer"]}}, "required": ["v"]}

    strict = make_strict(schema)

    assert strict["properties"]["v"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    check_strict_schema(strict, where="schema")


def test_make_strict_cannot_remove_recursion_so_the_check_still_refuses_it():
    strict = make_strict(TreeNode.model_json_schema())

    with pytest.raises(RequestValidationError) as info:
        check_strict_schema(strict, where="schema")

    assert info.value.param == "schema.$defs.TreeNode"


def test_a_made_strict_model_is_accepted_as_a_strict_tool_and_sent_unchanged(api):
    parameters = make_strict(Person.model_json_schema())
    tool = {"type": "function", "function": {"name": "save_person", "parameters": parameters, "strict": True}}

    api.create(lambda r: httpx.Response(200, json=completion("ok")), model="gpt-oss-120b",
               messages=[{"role": "user", "content": "Save Ada."}], tools=[tool])

    assert json.loads(api.requests[0].content)["tools"] == [tool]


def test_a_made_strict_model_is_accepted_as_a_strict_response_format(api):
    fmt = {"type": "json_schema",
           "json_schema": {"name": "person", "strict": True, "schema": make_strict(Person.model_json_schema())}}

    api.create(lambda r: httpx.Response(200, json=completion("{}")), model="gpt-oss-120b",
               messages=[{"role": "user", "content": "Describe Ada."}], response_format=fmt)

    assert json.loads(api.requests[0].content)["response_format"] == fmt


# -- check_strict_schema rules not reached through a request elsewhere ----------------------------------------


def closed(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def test_check_allows_exactly_five_levels_of_nesting_counted_through_defs():
    class L5(BaseModel):
        v: int

    class L4(BaseModel):
        x: L5

    class L3(BaseModel):
        x: L4

    class L2(BaseModel):
        x: L3

    class L1(BaseModel):
        x: L2

    check_strict_schema(make_strict(L1.model_json_schema()), where="schema")

    class L0(BaseModel):
        x: L1

    with pytest.raises(RequestValidationError) as info:
        check_strict_schema(make_strict(L0.model_json_schema()), where="schema")
    assert info.value.param == "schema.properties.x.$ref"


def test_check_refuses_items_true():
    with pytest.raises(RequestValidationError) as info:
        check_strict_schema(closed({"v": {"type": "array", "items": True}}), where="schema")

    assert info.value.param == "schema.properties.v.items"


def test_check_refuses_more_than_500_enum_values_in_total():
    schema = closed({"a": {"enum": list(range(300))}, "b": {"enum": list(range(201))}})

    with pytest.raises(RequestValidationError, match="500 enum values"):
        check_strict_schema(schema, where="schema")


def test_a_schema_with_more_than_500_properties_is_refused_by_the_length_limit():
    schema = closed({f"g{i}": closed({f"p{j}": {"type": "integer"} for j in range(100)}) for i in range(6)})
    schema_text = json.dumps(schema, separators=(",", ":"))
    assert len(schema_text) > 5000  # 500 properties cannot fit in 5000 characters, and length is checked first

    with pytest.raises(RequestValidationError, match="5000 characters"):
        check_strict_schema(schema, where="schema")


def test_check_refuses_a_schema_that_is_not_an_object():
    with pytest.raises(RequestValidationError) as info:
        check_strict_schema(["not", "a", "schema"], where="tools.0.function.parameters")

    assert info.value.param == "tools.0.function.parameters"
