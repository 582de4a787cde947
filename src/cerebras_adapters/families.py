"""Model families: what a model can do, decided by the family it belongs to.

This module owns the per-family facts (gpt-oss, GLM, Qwen, Llama, Gemma, and a generic fallback): how a family
reasons and which ``reasoning_effort`` values it takes, which reasoning formats it has, how earlier reasoning is
sent back to it, whether it takes ``clear_thinking``, which ``tool_choice`` forms it accepts, and whether it has
tools, structured outputs, predicted outputs, the developer role and image input. The catalog
(``catalog.py`` and ``data/catalog.json``) names a family on each row and overrides only what differs; an id
the catalog does not list resolves to its family by id prefix, so a new model of a known family needs no code.
It must not hold per-model data (limits, prices, lifecycle: the catalog's) or validate requests (``_rules``).

Where a family's models differ, the family states what its newest documented model does, the behaviour a new
model of the family is most likely to share, and the older rows override it. Every fact cites its entry in
``docs/api-facts.md``.

Adding a family is one ``Family(...)`` passed to ``register_family`` (the shipped ones are registered below);
the emulator's model table (``cerebras_adapters.testing._models``) is independent and gets its own twin.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

__all__ = [
    "CAPABILITY_FIELDS",
    "GENERIC",
    "Family",
    "ReasoningKind",
    "ReplayStyle",
    "families",
    "family_for",
    "generation",
    "get_family",
    "register_family",
    "row_values",
    "unregister_family",
]

ReasoningKind = Literal["always_on", "toggleable", "none"]
ReplayStyle = Literal["reasoning_field", "think_tags", "none"]


@dataclass(frozen=True)
class Family:
    """What every model of one family can do, unless its catalog row says otherwise.

    ``prefixes`` are the model-id prefixes that make an id the catalog does not list a member of this family
    (the longest matching prefix over all families wins). The other fields have the names and meaning of
    ``ModelInfo``'s: ``reasoning_efforts`` / ``reasoning_formats`` / ``tool_choice_modes`` of None mean "not
    restricted" (every value the API defines).
    """

    name: str
    prefixes: tuple[str, ...] = ()
    reasoning: ReasoningKind = "none"
    reasoning_efforts: tuple[str, ...] | None = None
    default_reasoning_effort: str | None = None
    reasoning_formats: tuple[str, ...] | None = None
    reasoning_replay: ReplayStyle = "none"
    clear_thinking: bool = False
    tool_choice_modes: tuple[str, ...] | None = None
    tools: bool = True
    structured_outputs: bool = True
    predicted_outputs: bool = False
    developer_role: bool = False
    vision: bool = False

    def capabilities(self) -> dict[str, Any]:
        """The ``ModelInfo`` fields this family sets, by name (``family`` included)."""
        values = {name: getattr(self, name) for name in CAPABILITY_FIELDS}
        values["family"] = self.name
        return values

    def prefix_length(self, model: str) -> int:
        """Length of the longest of this family's prefixes ``model`` starts with; 0 when none does."""
        return max((len(p) for p in self.prefixes if model.startswith(p)), default=0)


#: The fields a family decides (every ``Family`` field except its name and prefixes).
CAPABILITY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Family) if f.name not in ("name", "prefixes"))

#: No family: the catalog's defaults for a model nothing is known about (ModelInfo's own defaults).
GENERIC = Family(name="generic")

# gpt-oss (gpt-oss-120b). docs/api-facts.md#reasoning-per-model-family: always reasons, low/medium
# (default)/high, "none" is refused (#turning-reasoning-off); #reasoning-replay: the assistant ``reasoning``
# field (RT-06); #tool-choice: only "auto"/"none"; #predicted-outputs; #developer-role.
GPT_OSS = Family(
    name="gpt-oss",
    prefixes=("gpt-oss-",),
    reasoning="always_on",
    reasoning_efforts=("low", "medium", "high"),
    default_reasoning_effort="medium",
    reasoning_replay="reasoning_field",
    tool_choice_modes=("auto", "none"),
    predicted_outputs=True,
    developer_role=True,
)

# GLM (zai-glm-4.7, zai-glm-4.6). #reasoning-per-model-family: on by default, reasoning_effort "none" turns it
# off (4.7); #reasoning-replay: <think>…</think> in content (RT-05); #clear-thinking and #predicted-outputs:
# zai-glm-4.7 (its row-mate 4.6 overrides both).
ZAI_GLM = Family(
    name="zai-glm",
    prefixes=("zai-glm-",),
    reasoning="toggleable",
    reasoning_efforts=("none", "low", "medium", "high"),
    reasoning_replay="think_tags",
    clear_thinking=True,
    predicted_outputs=True,
)

# Qwen (qwen-3-32b, qwen-3-235b-*, qwen-3-coder-480b, qwen-3.8-27b). #reasoning-per-model-family: reasoning
# differs per model (always on, none, toggleable; the rows say which), so the family takes the lenient
# "toggleable" and restricts no effort; #reasoning-replay: <think>…</think> in content; #reasoning-format:
# Qwen's raw format is <think> tags.
QWEN = Family(
    name="qwen",
    prefixes=("qwen-", "qwen3"),
    reasoning="toggleable",
    reasoning_replay="think_tags",
)

# Llama (llama3.1-8b, llama-3.3-70b, llama-4-scout). #model-catalog: no reasoning, tools and structured outputs.
LLAMA = Family(name="llama", prefixes=("llama",))

# Gemma (gemma-4-31b). #reasoning-per-model-family: optional reasoning, efforts none (default)/low/medium/high,
# no raw or hidden format; #reasoning-replay: the ``reasoning`` field; #images: the first vision model.
GEMMA = Family(
    name="gemma",
    prefixes=("gemma-",),
    reasoning="toggleable",
    reasoning_efforts=("none", "low", "medium", "high"),
    default_reasoning_effort="none",
    reasoning_formats=("none", "parsed", "text_parsed"),
    reasoning_replay="reasoning_field",
    vision=True,
)

_lock = threading.Lock()
_families: dict[str, Family] = {f.name: f for f in (GPT_OSS, ZAI_GLM, QWEN, LLAMA, GEMMA, GENERIC)}
_generation = 0  # bumped on every change, so caches of inferred models know to forget


def generation() -> int:
    """A number that changes whenever a family is registered or removed."""
    return _generation


def families() -> tuple[Family, ...]:
    """Every registered family, the generic fallback last."""
    return tuple(sorted(_families.values(), key=lambda f: f is GENERIC))


def get_family(name: str) -> Family:
    """The family called ``name``; ``KeyError`` naming the known ones when there is none."""
    try:
        return _families[name]
    except KeyError:
        raise KeyError(f"no model family {name!r}; known: {', '.join(sorted(_families))}") from None


def family_for(model: str) -> Family | None:
    """The family an id belongs to by its prefix (the longest matching prefix wins), or None."""
    best: Family | None = None
    length = 0
    for candidate in _families.values():
        n = candidate.prefix_length(model)
        if n > length:
            best, length = candidate, n
    return best


def register_family(family: Family) -> Family:
    """Add (or replace) a family; ids with one of its prefixes resolve to it from now on."""
    global _generation
    if not isinstance(family, Family) or not family.name:
        raise TypeError("register_family takes a Family with a name")
    if family.name == GENERIC.name:
        raise ValueError("the generic fallback cannot be replaced")
    with _lock:
        _families[family.name] = family
        _generation += 1
    return family


def unregister_family(name: str) -> None:
    """Remove a family added with ``register_family`` (the shipped ones stay removable, the generic one not)."""
    global _generation
    if name == GENERIC.name:
        raise ValueError("the generic fallback cannot be removed")
    with _lock:
        _families.pop(name, None)
        _generation += 1


def row_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """A catalog row merged over its family's capabilities: what the row does not say, its family does."""
    name = row.get("family") or GENERIC.name
    return {**get_family(str(name)).capabilities(), **row}
