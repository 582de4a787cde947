"""Each request rule is a small named function with its fact, its public source and the API versions it applies
to (``cerebras_adapters._rules.RULES``); messages name models from the catalog; the request's ``api_version``
(an int, or a numeric string as a header is written) picks the rules, so under v1 a strict schema may leave an
optional property out of ``required``, as gpt-oss-120b accepted on 2025-10-13
(docs/api-facts.md#strict-schemas-by-api-version, RT-14)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from cerebras_adapters import Catalog, ModelInfo, RequestValidationError
from cerebras_adapters._rules import RULES, rules_markdown
from cerebras_adapters.testing._errors import ApiError
from cerebras_adapters.testing._validation import validate_request
from tests.wire import completion, tool_call

FACTS = Path(__file__).resolve().parent.parent / "docs" / "api-facts.md"
USER = [{"role": "user", "content": "Generate a software engineer profile"}]

# RT-14 (social-growth-studio/req_llm, captured 2025-10-13): a strict tool whose optional "occupation" is not in
# "required", with "minimum"; gpt-oss-120b answered 200 under API v1.
RT14_TOOL = {
    "type": "function",
    "function": {
        "name": "structured_output",
        "description": "Generate structured output matching the provided schema",
        "strict": True,
        "parameters": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "age": {"type": "integer", "description": "Person's age in years", "minimum": 1},
                "name": {"type": "string", "description": "Person's full name"},
                "occupation": {"type": "string", "description": "Person's job or profession"},
            },
            "required": ["name", "age"],
        },
    },
}
RT14 = {"model": "gpt-oss-120b", "messages": USER, "tools": [RT14_TOOL], "tool_choice": "auto", "seed": 42,
        "temperature": 0.0, "max_tokens": 500}


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=completion("Sunny."))


def refused(api: Any, **kwargs: Any) -> RequestValidationError:
    with pytest.raises(RequestValidationError) as info:
        api.create(ok, **kwargs)
    assert api.requests == []
    return info.value


def sent(api: Any) -> httpx.Request:
    assert len(api.requests) == 1
    request: httpx.Request = api.requests[0]
    return request


# -- the table -----------------------------------------------------------------------------------------------


def _anchors() -> set[str]:
    headings = re.findall(r"^#{2,3} (.+)$", FACTS.read_text(), re.M)
    return {re.sub(r"[^a-z0-9 -]", "", h.lower()).strip().replace(" ", "-") for h in headings}


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_every_rule_cites_an_entry_of_the_api_facts(rule):
    page, anchor = rule.source.split("#")

    assert page == "docs/api-facts.md"
    assert anchor in _anchors()
    assert rule.fact


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_every_rule_is_a_function_of_its_own_name(rule):
    assert rule.check.__name__ == rule.name


def test_rule_names_are_unique():
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))


def test_the_v2_only_rules_are_the_tool_conversation_and_strict_schema_ones():
    assert {rule.name for rule in RULES if not rule.applies_to(1)} == {
        "tool_call_ids_unique",
        "tool_messages_answer_a_call",
        "tool_calls_answered",
        "tool_choice_needs_tools",
        "strict_schema_closed_objects",
        "strict_schema_every_property_required",
    }
    assert all(rule.applies_to(2) and rule.applies_to(3) for rule in RULES)


def test_the_rules_table_in_the_docs_lists_every_rule():
    table = rules_markdown()

    for rule in RULES:
        assert f"| `{rule.name}` |" in table


# -- refusals name their rule, and models from the catalog -----------------------------------------------------


def test_a_refusal_names_the_rule_that_refused(api):
    err = refused(api, model="zai-glm-4.7", messages=[{"role": "developer", "content": "Be brief."}, *USER])

    assert (err.rule, err.param, err.model) == ("developer_role", "messages.0.role", "zai-glm-4.7")


def test_the_developer_role_message_names_the_family_and_models_that_take_it(api):
    err = refused(api, model="zai-glm-4.7", messages=[{"role": "developer", "content": "Be brief."}, *USER])

    assert "only models of the gpt-oss family accept the developer role (gpt-oss-120b)" in str(err)


def test_messages_are_built_from_the_catalog_in_use(api):
    catalog = Catalog([
        ModelInfo(id="gpt-oss-240b", family="gpt-oss", developer_role=True, predicted_outputs=True),
        ModelInfo(id="zai-glm-9", family="zai-glm", reasoning="toggleable"),
    ])

    err = refused(api, client_kwargs={"catalog": catalog}, model="zai-glm-9", messages=USER,
                  prediction={"type": "content", "content": "x"})

    assert err.rule == "predicted_outputs_supported"
    assert "gpt-oss-240b" in str(err) and "gpt-oss-120b" not in str(err)
    assert err.fix == "use gpt-oss-240b, or drop prediction"


def test_no_rule_message_names_a_model_the_catalog_does_not_list(api):
    catalog = Catalog([ModelInfo(id="tiny-1")])

    err = refused(api, client_kwargs={"catalog": catalog}, model="tiny-1", messages=USER, clear_thinking=True)

    assert err.rule == "clear_thinking_supported"
    assert "zai-glm-4.7" not in str(err)
    assert "only models of the zai-glm family take it" in str(err)


# -- API versions ----------------------------------------------------------------------------------------------


def test_the_rt14_tool_is_refused_under_the_default_api_version(api):
    err = refused(api, **RT14)

    assert err.rule == "strict_schema_every_property_required"
    assert err.param == "tools.0.function.parameters.required"


@pytest.mark.parametrize("version", [1, "1", " 1 "], ids=["int", "string", "padded"])
def test_the_rt14_tool_goes_through_under_api_version_1(api, version):
    api.create(ok, **RT14, api_version=version)

    request = sent(api)
    assert request.headers["X-Cerebras-Version-Patch"] == "1"
    assert json.loads(request.content)["tools"] == [RT14_TOOL]


@pytest.mark.parametrize(("given", "header"), [("2", "2"), (2, "2"), ("3", "3")])
def test_api_version_is_sent_as_an_integer_header(api, given, header):
    api.create(ok, model="gpt-oss-120b", messages=USER, api_version=given)

    assert sent(api).headers["X-Cerebras-Version-Patch"] == header


@pytest.mark.parametrize("version", ["latest", "1.5", "0", 0, True])
def test_an_api_version_that_is_not_a_positive_number_is_refused(api, version):
    err = refused(api, model="gpt-oss-120b", messages=USER, api_version=version)

    assert err.param == "api_version"


def test_under_api_version_1_a_missing_additional_properties_goes_through(api):
    # v1 "quietly handled" a missing additionalProperties (docs/api-facts.md#strict-schemas-by-api-version).
    tool = {"type": "function", "function": {"name": "f", "strict": True, "parameters": {
        "type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}}}

    api.create(ok, model="gpt-oss-120b", messages=USER, tools=[tool], api_version=1)

    assert len(api.requests) == 1


def test_under_api_version_1_the_other_strict_limits_still_apply(api):
    schema = {"type": "object", "additionalProperties": False, "required": ["a"],
              "properties": {"a": {"anyOf": [{"type": "string"}] * 6}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "a", "strict": True, "schema": schema}}

    err = refused(api, model="gpt-oss-120b", messages=USER, response_format=fmt, api_version=1)

    assert err.rule == "strict_schema_limits"


def test_under_api_version_1_an_unanswered_tool_call_goes_through(api):
    # Tool-conversation validation is API v2's (docs/api-facts.md#tool-call-conversations).
    messages = [*USER, {"role": "assistant", "tool_calls": [tool_call("8db3b6644", "f", "{}")]},
                {"role": "user", "content": "Never mind."}]

    api.create(ok, model="gpt-oss-120b", messages=messages, api_version=1)
    assert len(api.requests) == 1

    api.requests.clear()
    err = refused(api, model="gpt-oss-120b", messages=messages)
    assert err.rule == "tool_calls_answered"


def test_under_api_version_1_tool_choice_without_tools_goes_through(api):
    api.create(ok, model="zai-glm-4.7", messages=USER, tool_choice="none", api_version="1")

    assert json.loads(sent(api).content)["tool_choice"] == "none"


# -- the emulator's twin of the version facts ------------------------------------------------------------------


def _emulator_verdict(body: dict[str, Any], api_version: int) -> str | None:
    try:
        validate_request(body, api_version=api_version)
    except ApiError as exc:
        return str(exc.body.get("message"))
    return None


def test_the_emulator_accepts_the_rt14_tool_under_v1_and_refuses_it_under_v2():
    body = {**RT14, "messages": USER}

    assert _emulator_verdict(body, 1) is None
    assert "required" in (_emulator_verdict(body, 2) or "")


def test_the_emulator_reads_the_version_header(cerebras_emulator):
    url = f"{cerebras_emulator.base_url}/chat/completions"
    auth = {"Authorization": "Bearer csk-test"}

    v1 = httpx.post(url, json=RT14, headers={**auth, "X-Cerebras-Version-Patch": "1"})
    v2 = httpx.post(url, json=RT14, headers=auth)

    assert (v1.status_code, v2.status_code) == (200, 400)
