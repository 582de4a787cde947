"""The client's model catalog and the emulator's model table agree on every fact both of them hold.

Both are written from the same public facts (docs/api-facts.md) and must stay independent: the catalog
(``cerebras_adapters/data/catalog.json``) feeds the client's request rules, the emulator's table
(``cerebras_adapters.testing._models``) is the server the client is tested against, and neither imports the
other (``test_independence``). If they shared one table, a wrong fact would make the client and its test
server agree. This test is the one place that reads both: a fact that differs fails here unless it is listed
in ``DELIBERATE_DIFFERENCES`` with the reason, and a listed difference that no longer exists fails too, so the
list stays true.

The two vocabularies differ; the mappings below (``REASONING_KIND``, ``emulator_replay``, ...) are the
explicit translation between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from cerebras_adapters.catalog import Catalog, ModelInfo
from cerebras_adapters.testing._model_lists import huggingface_entry
from cerebras_adapters.testing._models import ALL_FORMATS, MODELS, ModelSpec

# ------------------------------------------------------------------------------------- the two vocabularies

#: the emulator's reasoning mode → the catalog's reasoning kind. "default_on" (GLM: on unless turned off) and
#: "default_off" (gemma: off unless an effort is asked for) are both "toggleable" for the client.
REASONING_KIND = {"always": "always_on", "default_on": "toggleable", "default_off": "toggleable", "none": "none"}

#: every tool_choice form the API defines (docs/api-facts.md#tool-choice); the catalog's None means these.
EVERY_TOOL_CHOICE = ("auto", "function", "none", "required")


def emulator_replay(spec: ModelSpec) -> str:
    """How earlier reasoning is replayed to this model, in the catalog's vocabulary (``reasoning_replay``).

    The emulator records how a model writes reasoning, not how it takes it back; the docs tie the two together
    (docs/api-facts.md#reasoning-replay, #reasoning-format): the families whose ``raw`` format wraps reasoning
    in ``<think>`` (GLM, Qwen) take it back the same way, in ``content`` (RT-05); gpt-oss, whose ``raw`` is a
    bare concatenation, takes the assistant ``reasoning`` field (RT-06); a model without the ``raw`` format
    (gemma) only ever returns the field, so it is replayed as the field.
    """
    if spec.reasoning == "none":
        return "none"
    if "raw" not in spec.reasoning_formats or spec.raw_style == "concat":
        return "reasoning_field"
    return "think_tags"


def catalog_refuses_effort_none(info: ModelInfo) -> bool:
    """The catalog's meaning: an always-on model, or an effort list without "none", refuses the value."""
    return info.reasoning == "always_on" or (
        info.reasoning_efforts is not None and "none" not in info.reasoning_efforts
    )


def emulator_refuses_effort_none(spec: ModelSpec) -> bool:
    """The emulator refuses a value only when the model lists its efforts and the value is not among them."""
    return spec.efforts is not None and "none" not in spec.efforts


def catalog_facts(info: ModelInfo) -> dict[str, Any]:
    return {
        "openrouter_id": info.openrouter_id,
        "status": info.status,
        "deprecated_on": info.deprecated_on,
        "retired_on": info.retired_on,
        "context_window": info.context_window,
        "max_output_tokens": info.max_output_tokens,
        "input_price": info.input_price,
        "output_price": info.output_price,
        "reasoning": info.reasoning,
        "reasoning_replay": info.reasoning_replay,
        "reasoning_efforts": info.reasoning_efforts,
        "refuses_reasoning_effort_none": catalog_refuses_effort_none(info),
        "reasoning_formats": tuple(sorted(info.reasoning_formats or ALL_FORMATS)),
        "clear_thinking": info.clear_thinking,
        "tools": info.tools,
        "structured_outputs": info.structured_outputs,
        "predicted_outputs": info.predicted_outputs,
        "vision": info.vision,
        "developer_role": info.developer_role,
        "prompt_caching": info.prompt_caching,
        "tool_choice_modes": tuple(sorted(info.tool_choice_modes or EVERY_TOOL_CHOICE)),
    }


def emulator_facts(spec: ModelSpec) -> dict[str, Any]:
    # The emulator gates neither tools nor response_format per model; what it says about them is its
    # huggingface-format model entry (cerebras-api.md §2.6 ``capabilities``).
    capabilities = huggingface_entry(spec)["capabilities"]
    return {
        "openrouter_id": spec.openrouter_id,
        "status": spec.status,
        "deprecated_on": spec.deprecated_on,
        "retired_on": spec.retired_on,
        "context_window": spec.context_length,
        "max_output_tokens": spec.max_output,
        "input_price": spec.price_in,
        "output_price": spec.price_out,
        "reasoning": REASONING_KIND[spec.reasoning],
        "reasoning_replay": emulator_replay(spec),
        "reasoning_efforts": spec.efforts,
        "refuses_reasoning_effort_none": emulator_refuses_effort_none(spec),
        "reasoning_formats": tuple(sorted(spec.reasoning_formats)),
        "clear_thinking": spec.clear_thinking,
        "tools": capabilities["function_calling"],
        "structured_outputs": capabilities["structured_outputs"],
        "predicted_outputs": spec.prediction,
        "vision": spec.vision,
        "developer_role": spec.developer_role,
        "prompt_caching": spec.prompt_caching,
        "tool_choice_modes": ("auto", "none") if spec.tool_choice_auto_only else EVERY_TOOL_CHOICE,
    }


# ---------------------------------------------------------------------------------- the known differences


@dataclass(frozen=True)
class Deliberate:
    model: str
    field: str
    catalog: Any
    emulator: Any
    why: str


DELIBERATE_DIFFERENCES: tuple[Deliberate, ...] = (
    Deliberate(
        "qwen-3-32b",
        "refuses_reasoning_effort_none",
        catalog=True,
        emulator=False,
        why=(
            "Qwen 3 32B always reasons and no source says how the API answers reasoning_effort 'none' "
            "(docs/api-facts.md#reasoning-per-model-family: effort and 'turn it off' are '–'; the 400 is recorded "
            "for gpt-oss only, #turning-reasoning-off). The client refuses it for every always-on model before "
            "sending, which costs a caller nothing; the emulator models only documented refusals and keeps "
            "reasoning on, since a server stricter than the docs would fail clients on requests the API may take."
        ),
    ),
)

#: models only the catalog knows, and why the emulator does not serve them.
CATALOG_ONLY: dict[str, str] = {
    "llama3.1-70b": "replaced by llama-3.3-70b in 2024, gone before any recording (docs/api-facts.md#model-lifecycle)",
    "qwen-3-235b-a22b-thinking-2507": (
        "a 2025 preview no longer listed in 2026 (docs/api-facts.md#model-lifecycle); the catalog keeps it so "
        "old configurations get its capabilities, the emulator has no test that needs it"
    ),
    "qwen-3-coder-480b": "a 2025 preview no longer listed in 2026 (docs/api-facts.md#model-lifecycle)",
    "llama-4-scout-17b-16e-instruct": "a 2025 preview no longer listed in 2026 (docs/api-facts.md#model-lifecycle)",
    "qwen-3.8-27b": (
        "known only from LiteLLM's cost map with unverified capabilities (docs/api-facts.md#model-catalog lists "
        "the verified models; the catalog's own note says 'capabilities unverified'): nothing to emulate from"
    ),
}

#: models only the emulator serves, and why the catalog does not list them.
EMULATOR_ONLY: dict[str, str] = {}


# ------------------------------------------------------------------------------------------------- tests

CATALOG = Catalog.shipped()  # the shipped data, not default_catalog(), which a refresh_catalog() may have changed
EMULATED = {spec.id: spec for spec in MODELS}
BOTH = sorted(m.id for m in CATALOG if m.id in EMULATED)


def differences(model: str) -> dict[str, tuple[Any, Any]]:
    info = CATALOG.get(model)
    assert info is not None
    ours, theirs = catalog_facts(info), emulator_facts(EMULATED[model])
    assert ours.keys() == theirs.keys()
    return {name: (ours[name], theirs[name]) for name in ours if ours[name] != theirs[name]}


@pytest.mark.parametrize("model", BOTH)
def test_catalog_and_emulator_agree_on_the_model(model: str) -> None:
    expected = {d.field: (d.catalog, d.emulator) for d in DELIBERATE_DIFFERENCES if d.model == model}
    found = differences(model)
    unexplained = {k: v for k, v in found.items() if expected.get(k) != v}
    stale = {k: v for k, v in expected.items() if found.get(k) != v}
    assert not unexplained, f"{model}: catalog vs emulator differ (catalog, emulator): {unexplained}"
    assert not stale, f"{model}: listed as deliberate but no longer so (catalog, emulator): {stale}"


def test_both_sides_know_the_same_models_or_say_why_not() -> None:
    catalog_ids = {m.id for m in CATALOG}
    assert catalog_ids - EMULATED.keys() == CATALOG_ONLY.keys()
    assert EMULATED.keys() - catalog_ids == EMULATOR_ONLY.keys()


def test_every_deliberate_difference_names_a_model_both_know_and_a_reason() -> None:
    fields = set(catalog_facts(ModelInfo(id="x")))
    for entry in DELIBERATE_DIFFERENCES:
        assert entry.model in BOTH and entry.field in fields
        assert "docs/api-facts.md#" in entry.why


def test_the_mapped_vocabularies_cover_every_value() -> None:
    assert {spec.reasoning for spec in MODELS} <= REASONING_KIND.keys()
    assert {emulator_replay(spec) for spec in MODELS} <= {"reasoning_field", "think_tags", "none"}
