"""The emulator's options, and the state they build.

This module owns ``EmulatorOptions`` (everything a test, the fixture's marker or the command line can change),
how a partial change merges into them (``merge_options``, with the rate-limit shorthands), and ``Setup``: what
one set of options builds (parsed faults, scenarios, the served models, a fresh rate limiter and prompt cache),
which the routes read and which is replaced whole when the options change. It must not handle requests.

It sits apart from ``_app`` so that the route modules can read the options without importing the app that
routes to them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._faults import Fault, parse_fault_option
from ._models import ModelSpec, all_models, find_model, find_openrouter_model
from ._ratelimit import LIMIT_FIELDS, RateLimitConfig, RateLimiter
from ._tokens import PrefixCache
from .scenarios import Scenario, resolve_scenarios

__all__ = ["RATE_SHORTHANDS", "EmulatorOptions", "Setup", "merge_options"]


@dataclass
class EmulatorOptions:
    """Everything about the emulator that a test or a command line can change."""

    #: pace streams at this many tokens per second (None: as fast as possible; ~3000 feels like the real thing).
    tokens_per_second: float | None = None
    #: a scenario file (YAML or JSON) or a list of entries / ``Scenario`` objects, tried before the defaults.
    scenarios: str | Path | Sequence[Scenario | dict[str, Any]] | None = None
    #: also use the packaged ``scenarios/default.json``.
    default_scenarios: bool = True
    #: accept only these keys (None: any non-empty key without an invalid marker).
    api_keys: Collection[str] | None = None
    invalid_key_markers: tuple[str, ...] = ("invalid", "wrong")
    #: end Cerebras streams with ``data: [DONE]`` (the real service does not, RT-12/13/15/16).
    send_done: bool = False
    #: a fault spec applied to every chat request (see ``_faults``).
    faults: str | Sequence[str] = ()
    #: the ``retry-after`` (seconds) of injected 429s that do not give one.
    retry_after: float = 0.05
    #: quotas per API key and model, a ``RateLimitConfig`` or a dict of its fields (windows, ``time_scale``,
    #: per-model ``models``); the shorthands below change one field.
    rate_limits: RateLimitConfig = field(default_factory=RateLimitConfig)
    #: serve only these model ids (None: the whole table in ``_models``).
    models: Collection[str] | None = None
    #: who serves an OpenRouter request that is not pinned to Cerebras (set e.g. "DeepInfra" to test a guard).
    openrouter_unpinned_provider: str = "Cerebras"
    #: who serves an OpenRouter request when Cerebras is filtered out but fallbacks are allowed.
    openrouter_fallback_provider: str = "DeepInfra"
    #: seconds after an OpenRouter completion before ``GET /api/v1/generation`` finds it (404 until then), as the
    #: real endpoint is eventually consistent (docs/api-facts.md#openrouter-monitoring).
    generation_delay_s: float = 0.0
    #: the credit limit ``GET /api/v1/key`` reports (None: unlimited); ``limit_remaining`` falls as usage grows.
    openrouter_key_limit: float | None = None
    #: prefix-cache block size in (emulator) tokens.
    cache_block_tokens: int = 128
    #: how many recent requests ``app.requests`` keeps.
    keep_requests: int = 1000


#: options that change one field of ``rate_limits`` each: every window's limit, and ``time_scale``.
RATE_SHORTHANDS = (*LIMIT_FIELDS, "time_scale")


def merge_options(base: EmulatorOptions, changes: dict[str, Any]) -> EmulatorOptions:
    """``base`` with ``changes`` applied; unknown names raise ``TypeError``. ``rate_limits`` may be a dict (a whole
    ``RateLimitConfig``), and the shorthands change one of its fields each."""
    names = {f.name for f in dataclasses.fields(EmulatorOptions)}
    unknown = set(changes) - names - set(RATE_SHORTHANDS)
    if unknown:
        raise TypeError(
            f"unknown emulator option(s): {', '.join(sorted(unknown))}; known: "
            f"{', '.join(sorted(names | set(RATE_SHORTHANDS)))}"
        )
    rate = changes.get("rate_limits", base.rate_limits)
    if not isinstance(rate, RateLimitConfig):
        rate = RateLimitConfig.from_dict(rate)
    shorthands = {k: changes[k] for k in RATE_SHORTHANDS if k in changes}
    if shorthands:
        rate = dataclasses.replace(rate, **shorthands)
    plain = {k: v for k, v in changes.items() if k in names and k != "rate_limits"}
    return dataclasses.replace(base, rate_limits=rate, **plain)


def _check_quota_models(config: RateLimitConfig) -> None:
    """Per-model limits must name a model by its id: quotas are kept per served id, so an alias or a typo would
    configure nothing."""
    for model_id in config.models:
        spec = find_model(model_id)
        if spec is None or spec.id != model_id:
            hint = f" (its id is {spec.id!r})" if spec is not None else ""
            raise ValueError(
                f"rate_limits.models: {model_id!r} is not a model id the emulator serves{hint}; known: "
                f"{', '.join(m.id for m in all_models())}"
            )


@dataclass(frozen=True)
class Setup:
    """What one set of options builds. Rate-limit and cache state start afresh with each new ``Setup``."""

    options: EmulatorOptions
    always_faults: list[Fault]
    scenarios: list[Scenario]
    allowed: frozenset[str] | None
    limiter: RateLimiter
    cache: PrefixCache

    @classmethod
    def build(cls, options: EmulatorOptions) -> Setup:
        """Parse and load everything first, so that a bad fault spec or scenario file changes nothing."""
        always = parse_fault_option(options.faults)
        _check_quota_models(options.rate_limits)
        scenarios = resolve_scenarios(options.scenarios, options.default_scenarios)
        return cls(
            options=options,
            always_faults=always,
            scenarios=scenarios,
            allowed=frozenset(options.models) if options.models is not None else None,
            limiter=RateLimiter(options.rate_limits),
            cache=PrefixCache(options.cache_block_tokens),
        )

    def served(self) -> list[ModelSpec]:
        """The models this emulator serves, in table order."""
        return [m for m in all_models() if self.allowed is None or m.id in self.allowed]

    def model(self, model_id: str) -> ModelSpec | None:
        """The served model a Cerebras id (or alias) names."""
        return find_model(model_id, self.allowed)

    def openrouter_model(self, model_id: str) -> ModelSpec | None:
        """The served model an OpenRouter id names."""
        return find_openrouter_model(model_id, self.allowed)
