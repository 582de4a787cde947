"""The provider's ``rate_limiter`` setting: which ``RateLimitGovernor`` paces a call (docs/litellm.md#rate-limits).

This module owns reading the setting, as a call or a deployment's ``litellm_params`` (a proxy's ``config.yaml``)
gives it, and the process's cache of the governors it builds: one per distinct setting, so every deployment of a
process that names the same setting shares one governor, and processes (proxy replicas) that name the same Redis
share one budget. The pacing itself is ``cerebras_adapters.governor``'s.

The forms:

* a ``RateLimitGovernor`` (``litellm.completion(..., rate_limiter=governor)``) is used as it is (a Router
  deep-copies its model list, which a governor's locks do not survive: a Router deployment names one by a setting);
* ``"in-process"``: the process's own governor (this process's callers share it);
* ``"redis://…"`` (or ``rediss://``, ``unix://``): a governor on that Redis, ``fail_open=True``;
* a mapping ``{redis_url, fail_open, prefix, reservation_ttl, time_scale}``, every key optional (no ``redis_url``:
  in-process);
* ``None`` / absent: not governed.

Anything else is refused naming ``rate_limiter``. The setting names a network destination, so it is a deployment's
to choose, never a proxy client's: a request body that carries it is refused (``call_governor``;
docs/api-facts.md#litellm-deployment-settings: a request's keywords override a deployment's).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import Any

from ..errors import RequestValidationError
from ..governor import InProcessBackend, RateLimitGovernor, RedisBackend

__all__ = ["IN_PROCESS", "call_governor", "governor_for"]

IN_PROCESS = "in-process"
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_KEYS = ("redis_url", "fail_open", "prefix", "reservation_ttl", "time_scale")
_FIX = (
    "pass rate_limiter='in-process', rate_limiter='redis://HOST:6379/0', "
    "rate_limiter={'redis_url': 'redis://HOST:6379/0', 'fail_open': True}, or a RateLimitGovernor"
)

_governors: dict[tuple[Any, ...], RateLimitGovernor] = {}
_lock = threading.Lock()


def governor_for(setting: Any) -> RateLimitGovernor | None:
    """The governor a ``rate_limiter`` setting names (see the module docstring), built once per distinct setting
    in this process."""
    if setting is None or isinstance(setting, RateLimitGovernor):
        return setting
    key = _normalised(setting)
    governor = _governors.get(key)
    if governor is not None:
        return governor
    with _lock:
        governor = _governors.get(key)
        if governor is None:
            governor = _governors[key] = _build(*key)
    return governor


def call_governor(
    optional_params: Mapping[str, Any], litellm_params: Mapping[str, Any] | None
) -> RateLimitGovernor | None:
    """The governor of one call: its ``rate_limiter`` (LiteLLM hands a call's and a deployment's alike to the
    provider in ``optional_params``). Refused when the LiteLLM proxy's client sent it in its request body (LiteLLM
    records that body in ``litellm_params["proxy_server_request"]``): a client could otherwise point the proxy at a
    Redis of its choosing, or turn the pacing off for everyone."""
    lp = litellm_params or {}
    request = lp.get("proxy_server_request")
    body = request.get("body") if isinstance(request, Mapping) else None
    if isinstance(body, Mapping) and "rate_limiter" in body:
        raise _refuse(
            "rate_limiter is the proxy's setting (a deployment's litellm_params in its config.yaml), not a request's.",
            fix="remove rate_limiter from the request body; the proxy's config.yaml sets it",
        )
    return governor_for(optional_params.get("rate_limiter", lp.get("rate_limiter")))


def _refuse(message: str, fix: str = _FIX) -> RequestValidationError:
    return RequestValidationError(message, param="rate_limiter", fix=fix)


def _normalised(setting: Any) -> tuple[Any, ...]:
    """``(redis_url or None, fail_open, prefix, reservation_ttl, time_scale)``; None leaves a backend default."""
    if isinstance(setting, str):
        setting = {"redis_url": setting} if setting.strip() != IN_PROCESS else {}
    if not isinstance(setting, Mapping):
        raise _refuse(
            f"rate_limiter must be 'in-process', a redis:// URL, a mapping of governor settings or a "
            f"RateLimitGovernor, not {type(setting).__name__}."
        )
    unknown = sorted(str(name) for name in setting if name not in _KEYS)
    if unknown:
        raise _refuse(f"rate_limiter has unknown settings {unknown}; it takes {list(_KEYS)}.")
    url = setting.get("redis_url")
    if "redis_url" in setting and not url:
        # e.g. ``redis_url: os.environ/REDIS_URL`` with the variable unset: not silently this process alone.
        raise _refuse(
            "rate_limiter.redis_url is empty (an os.environ/ variable that is not set?).",
            fix="set the variable, or leave redis_url out for a governor of this process alone",
        )
    if url is not None:
        if not isinstance(url, str) or not url.strip().startswith(_REDIS_SCHEMES):
            raise _refuse(f"rate_limiter.redis_url must be a redis://, rediss:// or unix:// URL, not {url!r}.")
        url = url.strip()
    fail_open = setting.get("fail_open", True)
    if isinstance(fail_open, str) and fail_open.strip().lower() in ("true", "false"):
        fail_open = fail_open.strip().lower() == "true"  # a config value from an environment variable
    if not isinstance(fail_open, bool):
        raise _refuse(f"rate_limiter.fail_open must be true or false, not {fail_open!r}.")
    prefix = setting.get("prefix")
    if prefix is not None and (not isinstance(prefix, str) or not prefix):
        raise _refuse(f"rate_limiter.prefix must be a non-empty string, not {prefix!r}.")
    if prefix is not None and url is None:
        raise _refuse("rate_limiter.prefix names the keys in Redis: it needs a redis_url.")
    ttl = _seconds(setting, "reservation_ttl")
    scale = _seconds(setting, "time_scale")
    return url, fail_open, prefix, ttl, scale


def _seconds(setting: Mapping[str, Any], name: str) -> float | None:
    value = setting.get(name)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise _refuse(f"rate_limiter.{name} must be a number > 0, not {value!r}.")
    return float(value)


def _build(
    url: str | None, fail_open: bool, prefix: str | None, ttl: float | None, scale: float | None
) -> RateLimitGovernor:
    backend: InProcessBackend | RedisBackend | None = None
    if url is not None:
        options: dict[str, Any] = {"prefix": prefix} if prefix is not None else {}
        if ttl is not None:
            options["reservation_ttl"] = ttl
        backend = RedisBackend(url, **options)
    elif ttl is not None:
        backend = InProcessBackend(reservation_ttl=ttl)
    return RateLimitGovernor(backend, fail_open=fail_open, time_scale=scale if scale is not None else 1.0)
