"""``with_structured_output`` honours ``validation``: strict refuses a schema past Cerebras's strict-mode limits
before the chain runs; "warn" and "off" leave it to the core, which warns or sends as configured."""

from __future__ import annotations

import warnings

import pytest
from pydantic import BaseModel

from cerebras_adapters import RequestValidationError, ValidationWarning
from cerebras_adapters.errors import APIStatusError
from cerebras_adapters.langchain import ChatCerebras


class L6(BaseModel):
    value: str


class L5(BaseModel):
    inner: L6


class L4(BaseModel):
    inner: L5


class L3(BaseModel):
    inner: L4


class L2(BaseModel):
    inner: L3


class TooDeep(BaseModel):
    """Six object levels: one more than strict mode allows (docs/api-facts.md#strict-schema-limits)."""

    inner: L2


def model(emulator, validation: str) -> ChatCerebras:
    return ChatCerebras(model="gpt-oss-120b", api_key="csk-test", base_url=emulator.base_url, validation=validation)


def _chat_requests(emulator) -> int:
    return sum(1 for r in emulator.requests if r.path.endswith("/chat/completions"))


def test_strict_refuses_the_schema_when_the_chain_is_built(cerebras_emulator):
    with pytest.raises(RequestValidationError) as info:
        model(cerebras_emulator, "strict").with_structured_output(TooDeep)
    assert info.value.param.startswith("response_format.json_schema.schema")


def test_off_builds_the_chain_and_sends_the_schema_as_given(cerebras_emulator):
    chain = model(cerebras_emulator, "off").with_structured_output(TooDeep)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ValidationWarning)
        try:
            chain.invoke("Fill it in.")
        except APIStatusError:
            pass  # the emulator may refuse what the client let through: the point is that it was sent
    assert _chat_requests(cerebras_emulator) == 1


def test_warn_builds_the_chain_warns_on_the_call_and_sends(cerebras_emulator):
    chain = model(cerebras_emulator, "warn").with_structured_output(TooDeep)
    with pytest.warns(ValidationWarning):
        try:
            chain.invoke("Fill it in.")
        except APIStatusError:
            pass
    assert _chat_requests(cerebras_emulator) == 1
