"""Who serves the request and how to reach them: Cerebras directly, or OpenRouter pinned to Cerebras.

This module owns everything that differs between the two routes: base URL, key variable, identifying
headers, model ids, the provider pin, the translation of reasoning options, the check that OpenRouter
really served the request on Cerebras, and the mapping of OpenRouter's "no endpoints" 404. Request
validation (``_request``) and parsing (``types``, ``_streaming``) are the same for both routes and live
elsewhere; this module must not send anything.

Facts relied on (docs/api-facts.md#openrouter): ``order`` + ``require_parameters`` is not a pin
(docs/api-facts.md#openrouter-pin), so the pin is ``only: ["cerebras"]`` + ``allow_fallbacks: false`` +
``require_parameters: true``; the response's top-level ``provider`` says who served it; with the pin an unsupported
parameter is a 404 "No endpoints found that can handle the requested parameters"
(docs/api-facts.md#openrouter-parameters); reasoning is requested with a ``reasoning`` object
(docs/api-facts.md#openrouter-reasoning); attribution headers are ``HTTP-Referer`` + ``X-OpenRouter-Title`` /
``X-Title`` (docs/api-facts.md#openrouter-attribution); web search (``plugins``, the ``:online`` model suffix) is
OpenRouter's and Cerebras has none (docs/api-facts.md#openrouter-web-search); ``cache_control`` is OpenRouter's caching
marker, which Cerebras does not take because it caches automatically (docs/api-facts.md#prompt-caching).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from ._request import PreparedRequest
from ._version import __version__
from .catalog import Catalog
from .errors import (
    APIStatusError,
    NoEndpointsError,
    RequestValidationError,
    RoutingError,
    UnsupportedParameterError,
)
from .options import ONLINE_SUFFIX

__all__ = ["CerebrasRoute", "OpenRouterRoute", "Route", "RouteName", "resolve_base_url", "resolve_route"]

RouteName = Literal["cerebras", "openrouter"]
INTEGRATION_NAME = "cerebras-adapters"
logger = logging.getLogger("cerebras_adapters")


class Route:
    """Base of the routes; the defaults are those of the direct Cerebras API."""

    name: ClassVar[str] = "cerebras"
    default_base_url: ClassVar[str] = "https://api.cerebras.ai/v1"
    api_key_env: ClassVar[str] = "CEREBRAS_API_KEY"
    base_url_env: ClassVar[str] = "CEREBRAS_BASE_URL"
    #: the same setting's other name, read when ``base_url_env`` is unset (docs/api-facts.md#base-url-variables)
    base_url_env_alias: ClassVar[str] = "CEREBRAS_API_BASE"
    warm_path: ClassVar[str] = "/tcp_warming"

    def default_headers(self) -> dict[str, str]:
        return {}

    def shape(self, request: PreparedRequest, catalog: Catalog) -> None:
        """Adapt a validated request to this route (in place)."""

    def check_served_by(self, provider: str | None, *, request_id: str | None = None) -> None:
        """Raise ``RoutingError`` when the response says it was served by the wrong provider."""

    def map_error(self, error: APIStatusError, request: PreparedRequest) -> APIStatusError:
        return error


@dataclass
class CerebrasRoute(Route):
    """``https://api.cerebras.ai/v1`` with a Bearer key from ``CEREBRAS_API_KEY``.

    Sends ``X-Cerebras-3rd-Party-Integration``, the attribution header Cerebras asks integrations to send
    (docs/api-facts.md#request-headers).
    """

    integration: str = INTEGRATION_NAME

    def default_headers(self) -> dict[str, str]:
        return {"X-Cerebras-3rd-Party-Integration": self.integration}

    def shape(self, request: PreparedRequest, catalog: Catalog) -> None:
        body = request.body
        model = request.model
        if "plugins" in body:
            param = "extra_body.plugins" if "plugins" in request.extra_body_keys else "plugins"
            raise UnsupportedParameterError(
                "plugins are OpenRouter's (web search and others); Cerebras has no web search or plugins, and its "
                "API rejects the field.",
                param=param,
                model=model,
                fix="create the client with route='openrouter' to search the web (still served by Cerebras), or "
                "drop plugins",
            )
        if model.endswith(ONLINE_SUFFIX):
            raise UnsupportedParameterError(
                f"{model!r} asks OpenRouter for web search (the {ONLINE_SUFFIX!r} suffix); Cerebras has no web search.",
                param="model",
                model=model,
                fix=f"create the client with route='openrouter', or use {model.removesuffix(ONLINE_SUFFIX)!r}",
            )
        _strip_cache_control(request)


_cache_note_logged = False


def _strip_cache_control(request: PreparedRequest) -> None:
    """Remove OpenRouter's ``cache_control`` markers (top level and content parts) for the Cerebras API, which
    caches automatically and rejects unknown fields. The caller's messages are copied, never changed."""
    body = request.body
    stripped = body.pop("cache_control", None) is not None
    messages = body.get("messages")
    if isinstance(messages, list):
        for i, message in enumerate(messages):
            if not isinstance(message, dict):
                continue
            for key in ("content", "reasoning"):  # the two fields that take content parts
                parts = message.get(key)
                if type(parts) is list and any(isinstance(p, dict) and "cache_control" in p for p in parts):
                    unmarked = [
                        {k: v for k, v in p.items() if k != "cache_control"} if isinstance(p, dict) else p
                        for p in parts
                    ]
                    message = messages[i] = {**message, key: unmarked}
                    stripped = True
    if stripped:
        note_automatic_caching()


def note_automatic_caching() -> None:
    # Once per process, at INFO: the request is fine as sent, there is nothing for the caller to fix.
    global _cache_note_logged
    if not _cache_note_logged:
        _cache_note_logged = True
        logger.info(
            "cache_control removed: Cerebras caches prompts automatically and takes no marker; "
            "usage.prompt_tokens_details.cached_tokens shows the cache hits. (Logged once.)"
        )


# Cerebras options with no OpenRouter equivalent: sending them under require_parameters would 404, and
# dropping them would lose them silently, so they are refused with a clear error instead.
_NOT_ON_OPENROUTER: dict[str, str] = {
    "clear_thinking": "OpenRouter has no equivalent; use the Cerebras route for zai-glm-4.7 thinking control",
    "min_completion_tokens": "OpenRouter has no minimum-length parameter",
    "model_parameters": "OpenRouter does not forward model_parameters",
}
# header -> (option that sets it, why); the error names the option the caller passed.
_HEADERS_NOT_ON_OPENROUTER: dict[str, tuple[str, str]] = {
    "queue_threshold": (
        "queue_threshold",
        "queue_threshold is a Cerebras request header that OpenRouter does not forward",
    ),
    "X-Cerebras-Version-Patch": (
        "api_version",
        "api_version selects the Cerebras API version; OpenRouter does not forward it",
    ),
}
# Request fields that are not "parameters" in OpenRouter's require_parameters sense, or that the Cerebras
# endpoint lists (docs/api-facts.md#openrouter-parameters parameter names). Anything else is a suspect when a 404 says
# no endpoint takes the request's parameters.
_ROUTING_FIELDS = frozenset({"model", "messages", "stream", "stream_options", "provider", "user", "usage"})
_LIKELY_SUPPORTED = frozenset(
    {
        "temperature",
        "top_p",
        "seed",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "structured_outputs",
        "reasoning",
        "include_reasoning",
        "logprobs",
        "top_logprobs",
        "frequency_penalty",
        "presence_penalty",
    }
)


def _object_from_extra_body(body: Mapping[str, Any], name: str, model: str) -> Mapping[str, Any]:
    """An OpenRouter object (``reasoning``, ``provider``) the caller added through ``extra_body``, merged with the
    route's own; anything but an object is refused, since merging it would fail or drop it."""
    value = body.get(name, {})
    if not isinstance(value, Mapping):
        raise RequestValidationError(
            f"extra_body.{name} must be an object on the OpenRouter route, not {type(value).__name__}.",
            param=f"extra_body.{name}",
            model=model,
            fix=f"pass extra_body={{{name!r}: {{...}}}} as OpenRouter documents it, or drop it",
        )
    return value


@dataclass
class OpenRouterRoute(Route):
    """``https://openrouter.ai/api/v1``, key from ``OPENROUTER_API_KEY``, pinned to the Cerebras provider.

    ``provider_preferences`` adds OpenRouter provider settings (``data_collection``, ``zdr``,
    ``max_price``, ``quantizations``, …) to the pin; fallbacks can never be switched back on.
    ``verify_provider`` raises ``RoutingError`` when a response was served by another provider.
    """

    name: ClassVar[str] = "openrouter"
    default_base_url: ClassVar[str] = "https://openrouter.ai/api/v1"
    api_key_env: ClassVar[str] = "OPENROUTER_API_KEY"
    base_url_env: ClassVar[str] = "OPENROUTER_BASE_URL"
    base_url_env_alias: ClassVar[str] = "OPENROUTER_API_BASE"
    warm_path: ClassVar[str] = "/models"

    provider_preferences: Mapping[str, Any] = field(default_factory=dict)
    verify_provider: bool = True
    app_url: str | None = None
    app_title: str = INTEGRATION_NAME
    app_categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        prefs = dict(self.provider_preferences)
        if prefs.get("allow_fallbacks") is True:
            raise UnsupportedParameterError(
                "allow_fallbacks=True would let OpenRouter serve the request on another provider.",
                param="provider_preferences.allow_fallbacks",
                fix="drop it: this route is pinned to Cerebras (use OpenRouter directly for other providers)",
            )
        for key in ("only", "order"):
            if key in prefs and [p.lower() for p in prefs[key]] != ["cerebras"]:
                raise UnsupportedParameterError(
                    f"provider_preferences.{key}={prefs[key]!r} would route away from Cerebras.",
                    param=f"provider_preferences.{key}",
                    fix="drop it: this route always pins Cerebras",
                )

    def provider_object(self) -> dict[str, Any]:
        pin: dict[str, Any] = dict(self.provider_preferences)
        pin.update({"only": ["cerebras"], "allow_fallbacks": False, "require_parameters": True})
        return pin

    def default_headers(self) -> dict[str, str]:
        headers = {"X-OpenRouter-Title": self.app_title, "X-Title": self.app_title}
        if self.app_url:
            headers["HTTP-Referer"] = self.app_url
        if self.app_categories:
            headers["X-OpenRouter-Categories"] = ",".join(self.app_categories)
        return headers

    def shape(self, request: PreparedRequest, catalog: Catalog) -> None:
        body = request.body
        model = request.model
        if "/" not in model:
            # "<id>:online" keeps its suffix on the OpenRouter id: the web plugin on the same pinned model.
            base = model.removesuffix(ONLINE_SUFFIX)
            info = request.info or catalog.get(base)
            if info is None or not info.openrouter_id:
                raise UnsupportedParameterError(
                    f"No OpenRouter id is known for {base!r}.",
                    param="model",
                    model=model,
                    fix="pass the OpenRouter id (author/slug, e.g. 'openai/gpt-oss-120b') as model",
                )
            body["model"] = info.openrouter_id + model[len(base) :]
        for name, why in _NOT_ON_OPENROUTER.items():
            if name in body:
                raise UnsupportedParameterError(
                    f"{name} is not available on the OpenRouter route: {why}.",
                    param=name,
                    model=model,
                    fix=f"drop {name}, or use route='cerebras'",
                )
        sent_headers = {name.lower() for name in request.headers}
        for header, (option, why) in _HEADERS_NOT_ON_OPENROUTER.items():
            if header.lower() in sent_headers:
                raise UnsupportedParameterError(
                    f"{why}.", param=option, model=model, fix=f"drop {option}, or use route='cerebras'"
                )
        reasoning: dict[str, Any] = {}
        effort = body.pop("reasoning_effort", None)
        if effort is not None:
            reasoning["effort"] = effort
        fmt = body.pop("reasoning_format", None)
        if fmt == "hidden":
            reasoning["exclude"] = True
        elif fmt == "raw":
            raise UnsupportedParameterError(
                "reasoning_format='raw' has no OpenRouter equivalent (reasoning always comes back in its own "
                "field there).",
                param="reasoning_format",
                model=model,
                fix="use parsed/text_parsed, or route='cerebras'",
            )
        if reasoning or "reasoning" in body:
            body["reasoning"] = {**reasoning, **_object_from_extra_body(body, "reasoning", model)}
        # A provider object merged in through extra_body may add preferences but never unpin Cerebras.
        body["provider"] = {
            **self.provider_object(),
            **_object_from_extra_body(body, "provider", model),
            "only": ["cerebras"],
            "allow_fallbacks": False,
        }

    def check_served_by(self, provider: str | None, *, request_id: str | None = None) -> None:
        if not self.verify_provider or provider is None:
            return
        if "cerebras" not in provider.lower():
            raise RoutingError(
                f"OpenRouter served this request on {provider!r}, not Cerebras; the pin was not honoured.",
                provider=provider,
                request_id=request_id,
            )

    def map_error(self, error: APIStatusError, request: PreparedRequest) -> APIStatusError:
        text = f"{error.message} {error.body}".lower()
        if error.status_code == 404 and ("no endpoints" in text or "constraint_filtered" in text):
            suspects = sorted(k for k in request.body if k not in _ROUTING_FIELDS and k not in _LIKELY_SUPPORTED)
            listed = (
                ", ".join(suspects)
                if suspects
                else "one of: " + ", ".join(sorted(k for k in request.body if k not in _ROUTING_FIELDS))
            )
            return NoEndpointsError(
                f"No Cerebras endpoint on OpenRouter accepts every parameter of this request ({listed}). "
                "Drop the unsupported parameter(s), or use route='cerebras'.",
                unsupported=suspects,
                status_code=404,
                type=error.type,
                param=error.param,
                code=error.code,
                headers=error.headers,
                body=error.body,
                request_id=error.request_id,
                rate_limits=error.rate_limits,
            )
        return error


def resolve_route(route: Route | RouteName | str | None) -> Route:
    if route is None or route == "cerebras":
        return CerebrasRoute()
    if route == "openrouter":
        return OpenRouterRoute()
    if isinstance(route, Route):
        return route
    raise UnsupportedParameterError(
        f"Unknown route {route!r}.", param="route", fix="use 'cerebras', 'openrouter' or an OpenRouterRoute(...)"
    )


def resolve_base_url(route: Route, base_url: str | None = None) -> str:
    """The base URL a client of ``route`` sends to: ``base_url``, else the route's environment variable
    (``CEREBRAS_BASE_URL``, as the Cerebras SDK reads it), else its other name (``CEREBRAS_API_BASE``, as LiteLLM's
    built-in provider and langchain-cerebras read it), else its default. When both variables are set to different
    URLs the first is used, with a warning (docs/api-facts.md#base-url-variables). The one place this is decided;
    adapters that show it call this too."""
    if base_url:
        return base_url.rstrip("/")
    primary = os.environ.get(route.base_url_env) or ""
    alias = os.environ.get(route.base_url_env_alias) or ""
    if primary and alias and primary.rstrip("/") != alias.rstrip("/"):
        warnings.warn(
            f"{route.base_url_env} and {route.base_url_env_alias} are both set, to different URLs; using "
            f"{route.base_url_env}. Unset one of them, or pass the base URL explicitly.",
            UserWarning,
            stacklevel=3,
        )
    return (primary or alias or route.default_base_url).rstrip("/")


USER_AGENT = f"cerebras-adapters/{__version__}"
