"""A LiteLLM ``Router`` for Cerebras from a YAML recipe, and routing driven by Cerebras's rate-limit headers.

* ``router_from_yaml(path)`` builds ``litellm.Router(**settings)`` from a file such as
  ``integrations/litellm/router.yaml`` (``model_list``, ``fallbacks``, ``routing_strategy``, …; ``os.environ/NAME``
  values resolved as the proxy resolves them), registering the provider first.
* ``RateLimitHeaderRouting`` is a LiteLLM ``CustomLogger`` that reads the rate limits this provider puts on every
  answer (``_hidden_params["rate_limits"]``, parsed from Cerebras's ``x-ratelimit-remaining-tokens-minute`` /
  ``-requests-day`` and their resets, docs/api-facts.md#rate-limit-headers) and, while a deployment's budget is spent,
  keeps the Router off it until the announced reset: ``async_filter_deployments`` drops it from the candidates, and
  ``pre_call_check`` raises ``litellm.RateLimitError`` before any request is sent when it is the only one, so
  the Router goes straight to its fallback. LiteLLM's own usage-based routing counts only the tokens this
  process sent; the headers also count every other client of the same key.

This module only reads what the provider reports; it holds no rate-limit arithmetic beyond "spent until reset".
LiteLLM calls the success hook of a sync call on a worker thread after the call returns, so a request sent the
instant the previous one returned may not see that answer's headers yet (it then meets the 429 and the Router's
fallback instead).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import litellm
from litellm import exceptions as lx
from litellm.integrations.custom_logger import CustomLogger
from litellm.router import Router

from ._handler import PROVIDER
from ._register import register

__all__ = ["RateLimitHeaderRouting", "header_routing", "load_router_settings", "router_from_yaml"]

_NOT_ROUTER_SETTINGS = frozenset({"rate_limit_header_routing"})


def _resolve_env(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("os.environ/"):
        return os.environ.get(value[len("os.environ/") :])
    if isinstance(value, dict):
        return {k: _resolve_env(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_env(v) for v in value]
    return value


def load_router_settings(path: str | Path) -> dict[str, Any]:
    """The YAML file's settings with ``os.environ/NAME`` values replaced by the variables' values."""
    import yaml  # type: ignore[import-untyped]

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of litellm.Router settings")
    resolved: dict[str, Any] = _resolve_env(data)
    return resolved


def router_from_yaml(path: str | Path, *, provider: str = PROVIDER, **overrides: Any) -> Router:
    """A ``litellm.Router`` configured by the YAML file at ``path`` (keyword arguments override its keys).

    ``rate_limit_header_routing: true`` in the file adds a ``RateLimitHeaderRouting`` to ``litellm.callbacks``
    (once per process).
    """
    register(provider)
    settings = {**load_router_settings(path), **overrides}
    header_routing = bool(settings.get("rate_limit_header_routing"))
    kwargs = {k: v for k, v in settings.items() if k not in _NOT_ROUTER_SETTINGS}
    router = Router(**kwargs)
    if header_routing and not any(isinstance(cb, RateLimitHeaderRouting) for cb in litellm.callbacks):
        litellm.callbacks.append(RateLimitHeaderRouting())
    return router


def _deployment_id(kwargs: Mapping[str, Any]) -> str | None:
    params = kwargs.get("litellm_params") or {}
    info = params.get("model_info") or {}
    value = info.get("id")
    return value if isinstance(value, str) else None


def _rate_limits(response: Any) -> Mapping[str, Any] | None:
    hidden = getattr(response, "_hidden_params", None) or {}
    limits = hidden.get("rate_limits")
    if isinstance(limits, Mapping):
        return limits
    # A stream's assembled response carries them in the message's provider-specific fields.
    choices = getattr(response, "choices", None) or []
    message = getattr(choices[0], "message", None) if choices else None
    fields = getattr(message, "provider_specific_fields", None) or {}
    limits = fields.get("rate_limits") if isinstance(fields, Mapping) else None
    return limits if isinstance(limits, Mapping) else None


class RateLimitHeaderRouting(CustomLogger):
    """Keep the Router off a deployment whose last answer said its Cerebras budget is spent (see module doc).

    ``min_tokens`` / ``min_requests``: a deployment counts as spent when fewer tokens this minute / requests
    today than that remain. ``clock`` is ``time.monotonic`` (tests pass their own).
    """

    def __init__(
        self, *, min_tokens: int = 1, min_requests: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.min_tokens = min_tokens
        self.min_requests = min_requests
        self._clock = clock
        self._spent_until: dict[str, float] = {}
        self._lock = threading.Lock()

    # -- state ------------------------------------------------------------------------------------------

    def record(self, deployment_id: str, rate_limits: Mapping[str, Any]) -> None:
        """Take the rate limits of one answer from ``deployment_id`` into account."""
        now = self._clock()
        until = 0.0
        tokens = rate_limits.get("remaining_tokens_minute")
        if isinstance(tokens, (int, float)) and tokens < self.min_tokens:
            until = max(until, now + float(rate_limits.get("reset_tokens_minute") or 60.0))
        requests = rate_limits.get("remaining_requests_day")
        if isinstance(requests, (int, float)) and requests < self.min_requests:
            until = max(until, now + float(rate_limits.get("reset_requests_day") or 86_400.0))
        with self._lock:
            if until:
                self._spent_until[deployment_id] = until
            else:
                self._spent_until.pop(deployment_id, None)

    def spent_for(self, deployment_id: str) -> float:
        """Seconds until ``deployment_id``'s budget resets (0 when it is not known to be spent)."""
        with self._lock:
            until = self._spent_until.get(deployment_id)
        if until is None:
            return 0.0
        left = until - self._clock()
        if left <= 0:
            with self._lock:
                self._spent_until.pop(deployment_id, None)
            return 0.0
        return left

    # -- LiteLLM hooks ----------------------------------------------------------------------------------

    def _observe(self, kwargs: Mapping[str, Any], response: Any) -> None:
        deployment_id = _deployment_id(kwargs)
        limits = _rate_limits(response)
        if deployment_id is not None and limits is not None:
            self.record(deployment_id, limits)

    def log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._observe(kwargs, response_obj)

    async def async_log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._observe(kwargs, response_obj)

    async def async_filter_deployments(
        self,
        model: str,
        healthy_deployments: list[Any],
        messages: Any,
        request_kwargs: dict[str, Any] | None = None,
        parent_otel_span: Any = None,
    ) -> list[dict[str, Any]]:
        available = [d for d in healthy_deployments if not self.spent_for(str(d.get("model_info", {}).get("id")))]
        # Never filter every candidate: pre_call_check then raises, and the Router's fallbacks take over.
        return available or healthy_deployments

    def pre_call_check(self, deployment: dict[str, Any]) -> dict[str, Any] | None:
        deployment_id = str((deployment.get("model_info") or {}).get("id"))
        left = self.spent_for(deployment_id)
        if left > 0:
            params = deployment.get("litellm_params") or {}
            raise lx.RateLimitError(
                message=f"the rate-limit headers of this deployment's last answer say its budget is spent; "
                f"it resets in {left:.1f}s",
                llm_provider=str(params.get("custom_llm_provider") or PROVIDER),
                model=str(params.get("model") or ""),
                headers={"retry-after": str(max(1, int(left + 0.999)))},
            )
        return None

    async def async_pre_call_check(self, deployment: dict[str, Any], parent_otel_span: Any) -> dict[str, Any] | None:
        return self.pre_call_check(deployment)


header_routing = RateLimitHeaderRouting()
"""A ready instance for the proxy's config: ``litellm_settings: {callbacks:
[cerebras_adapters.litellm.router.header_routing]}`` (``router_from_yaml`` adds its own)."""
