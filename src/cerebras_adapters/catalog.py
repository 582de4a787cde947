"""What each Cerebras model can do: the model catalog.

This module owns per-model facts (limits, prices, OpenRouter id, lifecycle status, and the capabilities in
which a model differs from its family). It ships as data (``data/catalog.json``, sourced from
docs/api-facts.md#model-catalog): each row names a family (``families.py``) and overrides only what differs
from it. ``Catalog.get`` answers for an id no row lists by its family's id prefix (``ModelInfo.inferred`` is
then True), so a new model of a known family gets its family's rules and reasoning replay; an id of no known
family gets None, and validation skips the rules that need its capabilities. The catalog can be refreshed from
the live ``GET /v1/models`` in its three formats (docs/api-facts.md#models-endpoint); a model added that way
starts from its family's capabilities. It must not validate requests or talk HTTP itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any, Literal

from . import families as _families
from .families import GENERIC, Family, ReasoningKind, ReplayStyle

__all__ = ["Catalog", "ModelInfo", "ReasoningKind", "ReplayStyle", "default_catalog"]

Status = Literal["production", "preview", "deprecated", "retired"]


@dataclass(frozen=True)
class ModelInfo:
    """Capabilities and limits of one model. Prices are USD per million tokens.

    ``family`` names the model's family (``cerebras_adapters.families``); ``inferred`` is True when the catalog
    has no row for the model and every capability comes from its family (resolved by id prefix).
    """

    id: str
    status: Status = "production"
    openrouter_id: str | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    input_price: float | None = None
    output_price: float | None = None
    reasoning: ReasoningKind = "none"
    reasoning_efforts: tuple[str, ...] | None = None  # None: not known, so not checked
    default_reasoning_effort: str | None = None
    reasoning_formats: tuple[str, ...] | None = None  # None: every format the API lists
    tool_choice_modes: tuple[str, ...] | None = None  # None: auto, none, required and a named function
    reasoning_replay: ReplayStyle = "none"
    clear_thinking: bool = False
    tools: bool = True
    structured_outputs: bool = True
    predicted_outputs: bool = False
    vision: bool = False
    developer_role: bool = False
    prompt_caching: bool = False
    deprecated_on: str | None = None
    retired_on: str | None = None
    notes: str | None = None
    family: str = GENERIC.name
    inferred: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelInfo:
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("reasoning_efforts", "reasoning_formats", "tool_choice_modes"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(**values, extra=extra)

    def forcing_tool_choice(self) -> str:
        """The ``tool_choice`` that comes closest to "must call a tool" on this model: ``"required"``, or
        ``"auto"`` where forcing is rejected (gpt-oss accepts only auto/none)."""
        modes = self.tool_choice_modes
        return "required" if modes is None or "required" in modes else "auto"

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """USD for a call with these token counts, or None when the prices are unknown."""
        if self.input_price is None or self.output_price is None:
            return None
        return (prompt_tokens * self.input_price + completion_tokens * self.output_price) / 1_000_000


class Catalog:
    """A mutable set of ``ModelInfo`` keyed by Cerebras model id (OpenRouter ids are looked up too)."""

    def __init__(self, models: Iterable[ModelInfo] = ()):
        self._models: dict[str, ModelInfo] = {m.id: m for m in models}
        # Entries inferred from families, by id, valid for one generation of the family registry.
        self._inferred_cache: dict[str, ModelInfo | None] = {}
        self._inferred_generation = -1

    @classmethod
    def shipped(cls) -> Catalog:
        """The catalog shipped with this version of the library (each row merged over its family)."""
        raw = resources.files("cerebras_adapters").joinpath("data/catalog.json").read_text("utf-8")
        return cls(ModelInfo.from_dict(_families.row_values(m)) for m in json.loads(raw)["models"])

    def get(self, model: str) -> ModelInfo | None:
        """The model's entry; for an id no entry lists, one built from its family (``inferred=True``), or None
        when the id belongs to no known family. OpenRouter ids (``author/slug``) are looked up too."""
        info = self._models.get(model)
        if info is not None:
            return info
        if "/" in model:
            for candidate in self._models.values():
                if candidate.openrouter_id == model:
                    return candidate
            return None
        return self._inferred(model)

    def _inferred(self, model: str) -> ModelInfo | None:
        cache = self._inferred_cache
        if self._inferred_generation != _families.generation():  # a family was added or removed: forget
            cache.clear()
            self._inferred_generation = _families.generation()
        if model in cache:
            return cache[model]
        family = _families.family_for(model)
        info = None if family is None else ModelInfo(id=model, inferred=True, **family.capabilities())
        if len(cache) < _MAX_INFERRED:
            cache[model] = info
        return info

    def __contains__(self, model: object) -> bool:
        """Whether ``get`` answers for ``model`` (a listed model, or an id of a known family)."""
        return isinstance(model, str) and self.get(model) is not None

    def __iter__(self) -> Iterator[ModelInfo]:
        return iter(self._models.values())

    def __len__(self) -> int:
        return len(self._models)

    def add(self, info: ModelInfo) -> None:
        self._models[info.id] = info

    def update_from_models(self, payload: Mapping[str, Any]) -> list[str]:
        """Merge a ``GET /v1/models`` response (default, ``openrouter`` or ``huggingface`` format).

        Models the service lists but the catalog lacks are added with their family's capabilities (by id
        prefix; the generic defaults for an id of no known family), overridden by what the payload states;
        known models get their limits and prices updated and keep everything else. Returns the ids seen.
        """
        seen: list[str] = []
        for entry in payload.get("data", []):
            if not isinstance(entry, Mapping) or "id" not in entry:
                continue
            model_id = str(entry["id"])
            if model_id.startswith("cerebras/"):  # openrouter format prefixes ids
                model_id = model_id[len("cerebras/") :]
            current = self._models.get(model_id) or _new_model(model_id)
            changes: dict[str, Any] = {}
            if "context_length" in entry:
                changes["context_window"] = int(entry["context_length"])
            if "max_output_length" in entry:
                changes["max_output_tokens"] = int(entry["max_output_length"])
            pricing = entry.get("pricing")
            if isinstance(pricing, Mapping):
                if "input" in pricing:  # huggingface format: USD per million
                    changes["input_price"] = float(pricing["input"])
                    changes["output_price"] = float(pricing.get("output", 0))
                elif "prompt" in pricing:  # openrouter format: USD per token, as strings
                    changes["input_price"] = round(float(pricing["prompt"]) * 1_000_000, 6)
                    changes["output_price"] = round(float(pricing.get("completion", 0)) * 1_000_000, 6)
            caps = entry.get("capabilities")
            if isinstance(caps, Mapping):
                for src, dst in (
                    ("function_calling", "tools"),
                    ("structured_outputs", "structured_outputs"),
                    ("vision", "vision"),
                ):
                    if src in caps:
                        changes[dst] = bool(caps[src])
            features = entry.get("supported_features")
            if isinstance(features, list):
                changes["tools"] = "tools" in features or current.tools
                changes["structured_outputs"] = "structured_outputs" in features or current.structured_outputs
            modalities = entry.get("input_modalities")
            if isinstance(modalities, list):
                changes["vision"] = "image" in modalities
            slug = entry.get("openrouter")
            if isinstance(slug, Mapping) and slug.get("slug"):
                changes["openrouter_id"] = str(slug["slug"])
            if current.status == "retired":
                changes["status"] = "production"  # listed again, so it is served
            self._models[model_id] = replace(current, **changes)
            seen.append(model_id)
        return seen


_MAX_INFERRED = 1024  # distinct unknown ids remembered per catalog (a caller may send any number of them)


def _new_model(model_id: str) -> ModelInfo:
    """A model the catalog did not list: its family's capabilities, stored as a row (so not ``inferred``)."""
    family: Family = _families.family_for(model_id) or GENERIC
    return ModelInfo(id=model_id, **family.capabilities())


_default: Catalog | None = None


def default_catalog() -> Catalog:
    """The process-wide catalog (the shipped data, plus whatever ``refresh_catalog`` merged in)."""
    global _default
    if _default is None:
        _default = Catalog.shipped()
    return _default
