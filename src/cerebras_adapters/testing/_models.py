"""The emulator's own model table, written from docs/api-facts.md#model-catalog (and docs/api-facts.md#per-model-rules
for per-model gates).

This module owns what each emulated model accepts and how it answers (reasoning on/off, tool-call streaming
style, usage shape). It must not read the client's catalog (``cerebras_adapters.catalog`` or its JSON): the
emulator is an independent model of the server, so a wrong fact in the client's catalog must not make the
emulator agree with it. ``tests/emulator/test_catalog_drift.py`` compares the two tables and lists every
deliberate difference with its reason.

``add_model`` serves one more model for as long as a test needs it (``remove_model`` takes it away): a test that
adds a model family to the client (``cerebras_adapters.families.register_family``) adds its twin here, written
on its own, so the client and the emulator stay two independent descriptions of the same server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MODELS", "ModelSpec", "add_model", "all_models", "find_model", "find_openrouter_model", "remove_model"]

#: Reasoning kind (docs/api-facts.md#reasoning-per-model-family). always: cannot be turned off; default_on: on
#: unless ``reasoning_effort:"none"`` / ``disable_reasoning``; default_off: on only for an effort other than
#: none; none: no reasoning.
ReasoningMode = Literal["always", "default_on", "default_off", "none"]
UsageShape = Literal["full", "gemma", "cached_only", "basic"]
Status = Literal["production", "preview", "deprecated", "retired"]

ALL_FORMATS = frozenset({"none", "parsed", "text_parsed", "raw", "hidden"})
ALL_EFFORTS = ("none", "low", "medium", "high")


@dataclass(frozen=True)
class ModelSpec:
    """One emulated model. Each field names the reference fact it encodes."""

    id: str
    openrouter_id: str | None
    hugging_face_id: str
    display_name: str
    created: int
    context_length: int
    max_output: int
    price_in: float  # USD per million prompt tokens
    price_out: float  # USD per million completion tokens
    reasoning: ReasoningMode
    #: where reasoning goes under ``reasoning_format:"none"``, the model default (docs/api-facts.md#reasoning-format):
    #: Qwen 3 → ``raw`` (``hidden`` with JSON formats); the others → ``text_parsed`` (``message.reasoning``).
    default_format: Literal["text_parsed", "raw"] = "text_parsed"
    #: reasoning_effort values the model accepts; None = the SPEC enum, accepted and ignored.
    efforts: tuple[str, ...] | None = None
    #: gpt-oss rejects ``disable_reasoning:true`` (docs/api-facts.md#turning-reasoning-off, pydantic-ai); GLM accepts it
    #: (RT-07).
    rejects_disable_reasoning: bool = False
    reasoning_formats: frozenset[str] = ALL_FORMATS
    #: how ``reasoning_format:"raw"`` prepends reasoning: GLM/Qwen wrap it in <think>, GPT-OSS concatenates
    #: (docs/api-facts.md#reasoning-format).
    raw_style: Literal["think_tags", "concat"] = "think_tags"
    clear_thinking: bool = False  # zai-glm-4.7 only (docs/api-facts.md#clear-thinking)
    developer_role: bool = False  # gpt-oss-120b only (docs/api-facts.md#developer-role, 2026 docs)
    vision: bool = False  # gemma-4-31b only (docs/api-facts.md#images)
    prediction: bool = False  # gpt-oss-120b, zai-glm-4.7 (docs/api-facts.md#predicted-outputs)
    prompt_caching: bool = False  # docs/api-facts.md#prompt-caching, #model-catalog
    #: gpt-oss streams arguments in fragments (RT-13); llama / qwen / GLM send the whole call in one delta (RT-15).
    tool_stream: Literal["incremental", "whole"] = "whole"
    #: gpt-oss accepts only tool_choice "auto" / "none" (567-labs/instructor#1766: "Expected 'auto' or 'none'").
    tool_choice_auto_only: bool = False
    #: gpt-oss pretty-prints arguments (RT-14); gemma/llama use ``{"k": "v"}`` (RT-01, RT-15).
    arguments_indent: int | None = None
    usage_shape: UsageShape = "full"
    aliases: tuple[str, ...] = ()
    input_modalities: tuple[str, ...] = ("text",)
    #: lifecycle (docs/api-facts.md#model-lifecycle). Informational: the emulator serves deprecated and
    #: retired models alike, so tests can replay what the recordings made on them show; the real API answers a
    #: retired model with 404 ``model_not_found`` (RT-09), which the ``models`` option reproduces.
    status: Status = "production"
    deprecated_on: str | None = None
    retired_on: str | None = None


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        id="gpt-oss-120b",
        openrouter_id="openai/gpt-oss-120b",
        hugging_face_id="openai/gpt-oss-120b",
        display_name="OpenAI GPT OSS 120B",
        created=1754352000,
        context_length=131072,
        max_output=32768,
        price_in=0.35,
        price_out=0.75,
        reasoning="always",
        efforts=("low", "medium", "high"),
        rejects_disable_reasoning=True,
        raw_style="concat",
        developer_role=True,
        prediction=True,
        prompt_caching=True,
        tool_stream="incremental",
        tool_choice_auto_only=True,
        arguments_indent=2,
    ),
    ModelSpec(
        id="zai-glm-4.7",
        openrouter_id="z-ai/glm-4.7",
        hugging_face_id="zai-org/GLM-4.7",
        display_name="Z.ai GLM 4.7",
        created=1767916800,
        context_length=131072,
        max_output=40000,
        price_in=2.25,
        price_out=2.75,
        reasoning="default_on",
        efforts=ALL_EFFORTS,
        clear_thinking=True,
        prediction=True,
        prompt_caching=True,
        status="deprecated",
        deprecated_on="2026-08-17",
    ),
    ModelSpec(
        id="zai-glm-4.6",
        openrouter_id="z-ai/glm-4.6",
        hugging_face_id="zai-org/GLM-4.6",
        display_name="Z.ai GLM 4.6",
        created=1762300800,
        context_length=131072,
        max_output=40000,
        price_in=2.25,
        price_out=2.75,
        reasoning="default_on",
        usage_shape="basic",
        status="deprecated",
    ),
    ModelSpec(
        id="gemma-4-31b",
        openrouter_id="google/gemma-4-31b-it",
        hugging_face_id="google/gemma-4-31b-it",
        display_name="Google Gemma 4 31B",
        created=1782691200,
        context_length=131072,
        max_output=40960,
        price_in=0.99,
        price_out=1.49,
        reasoning="default_off",
        efforts=ALL_EFFORTS,
        reasoning_formats=frozenset({"none", "parsed", "text_parsed"}),
        vision=True,
        usage_shape="gemma",
        input_modalities=("text", "image"),
    ),
    ModelSpec(
        id="llama3.1-8b",
        openrouter_id="meta-llama/llama-3.1-8b-instruct",
        hugging_face_id="meta-llama/Llama-3.1-8B-Instruct",
        display_name="Meta Llama 3.1 8B",
        created=1721692800,
        context_length=32768,
        max_output=8192,
        price_in=0.10,
        price_out=0.10,
        reasoning="none",
        usage_shape="cached_only",
        status="retired",
        retired_on="2026-05-27",
    ),
    ModelSpec(
        id="llama-3.3-70b",
        openrouter_id="meta-llama/llama-3.3-70b-instruct",
        hugging_face_id="meta-llama/Llama-3.3-70B-Instruct",
        display_name="Meta Llama 3.3 70B",
        created=1733443200,
        context_length=131072,
        max_output=65536,
        price_in=0.85,
        price_out=1.20,
        reasoning="none",
        prompt_caching=True,
        usage_shape="cached_only",
        aliases=("llama3.3-70b",),
        status="retired",
        retired_on="2026-02-16",
    ),
    ModelSpec(
        id="qwen-3-32b",
        openrouter_id="qwen/qwen3-32b",
        hugging_face_id="Qwen/Qwen3-32B",
        display_name="Qwen 3 32B",
        created=1746057600,
        context_length=131072,
        max_output=65536,
        price_in=0.40,
        price_out=0.80,
        reasoning="always",
        default_format="raw",
        prompt_caching=True,
        usage_shape="cached_only",
        status="retired",
        retired_on="2026-02-16",
    ),
    ModelSpec(
        id="qwen-3-235b-a22b-instruct-2507",
        openrouter_id="qwen/qwen3-235b-a22b-2507",
        hugging_face_id="Qwen/Qwen3-235B-A22B-Instruct-2507",
        display_name="Qwen 3 235B Instruct",
        created=1753488000,
        context_length=131000,
        max_output=32000,
        price_in=0.60,
        price_out=1.20,
        reasoning="none",
        efforts=("low", "medium", "high"),
        prompt_caching=True,
        usage_shape="cached_only",
        status="retired",
        retired_on="2026-05-27",
    ),
)

_BY_ID: dict[str, ModelSpec] = {}
_BY_OPENROUTER_ID: dict[str, ModelSpec] = {}
_ADDED: dict[str, ModelSpec] = {}  # models added at runtime, by id


def _index(spec: ModelSpec) -> None:
    _BY_ID[spec.id] = spec
    for alias in spec.aliases:
        _BY_ID[alias] = spec
    if spec.openrouter_id:
        _BY_OPENROUTER_ID[spec.openrouter_id] = spec


for _spec in MODELS:
    _index(_spec)


def all_models() -> tuple[ModelSpec, ...]:
    """The table: ``MODELS`` and then the models added at runtime."""
    return (*MODELS, *_ADDED.values()) if _ADDED else MODELS


def add_model(spec: ModelSpec) -> ModelSpec:
    """Serve ``spec`` too (every emulator of this process, from its next request on)."""
    if spec.id in _BY_ID:
        raise ValueError(f"the emulator already serves {spec.id!r}")
    _ADDED[spec.id] = spec
    _index(spec)
    return spec


def remove_model(model_id: str) -> None:
    """Stop serving a model ``add_model`` added (the table's own models stay)."""
    spec = _ADDED.pop(model_id, None)
    if spec is None:
        return
    for name in (spec.id, *spec.aliases):
        _BY_ID.pop(name, None)
    if spec.openrouter_id:
        _BY_OPENROUTER_ID.pop(spec.openrouter_id, None)


def find_model(model_id: str, allowed: frozenset[str] | None = None) -> ModelSpec | None:
    """The model a request's ``model`` names (aliases resolved server-side, docs/api-facts.md#model-ids), or None
    (→ 404)."""
    spec = _BY_ID.get(model_id)
    if spec is None or (allowed is not None and spec.id not in allowed):
        return None
    return spec


def find_openrouter_model(model_id: str, allowed: frozenset[str] | None = None) -> ModelSpec | None:
    spec = _BY_OPENROUTER_ID.get(model_id)
    if spec is None or (allowed is not None and spec.id not in allowed):
        return None
    return spec
