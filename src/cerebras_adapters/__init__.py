"""cerebras_adapters: Cerebras Inference for Python frameworks, on one fast, faithful core.

The core (this package) imports no framework: ``cerebras_adapters.langchain`` and
``cerebras_adapters.litellm`` are the only modules that import LangChain or LiteLLM.
"""

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._client import DEFAULT_TIMEOUT, AsyncCerebrasClient, CerebrasClient
    from ._openrouter_api import AsyncOpenRouterAPI, OpenRouterAPI
    from ._request import ValidationWarning
    from ._streaming import AsyncStream, SSEDecoder, Stream, accumulate
    from .catalog import Catalog, ModelInfo, default_catalog
    from .errors import (
        APIConnectionError,
        APIError,
        APIResponseValidationError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        CerebrasAdapterError,
        ConflictError,
        ContextLengthExceededError,
        GovernorUnavailableError,
        InternalServerError,
        NoEndpointsError,
        NotFoundError,
        PayloadTooLargeError,
        PaymentRequiredError,
        PermissionDeniedError,
        RateLimitError,
        RequestTimeoutError,
        RequestValidationError,
        RoutingError,
        ServiceUnavailableError,
        StreamInterruptedError,
        UnprocessableEntityError,
        UnsupportedParameterError,
    )
    from .governor import InProcessBackend, RateLimitGovernor, RedisBackend
    from .options import CacheControl, ChatCompletionOptions, Plugin, WebPlugin
    from .reasoning import replay_reasoning, split_think_tags
    from .routes import CerebrasRoute, OpenRouterRoute, Route
    from .types import (
        Annotation,
        ChatCompletion,
        ChatCompletionChunk,
        ChatCompletionMessage,
        OpenRouterGeneration,
        OpenRouterKey,
        RateLimits,
        TimeInfo,
        ToolCall,
        URLCitation,
        Usage,
    )

# Names are imported on first use (PEP 562): the pytest plugin of cerebras_adapters.testing is loaded into every
# pytest run of anyone who installs the package, and must not pay for importing the client (httpx, pydantic).
_LAZY: dict[str, str] = {
    "APIConnectionError": "errors",
    "APIError": "errors",
    "APIResponseValidationError": "errors",
    "APIStatusError": "errors",
    "APITimeoutError": "errors",
    "Annotation": "types",
    "AsyncCerebrasClient": "_client",
    "AsyncOpenRouterAPI": "_openrouter_api",
    "AsyncStream": "_streaming",
    "AuthenticationError": "errors",
    "BadRequestError": "errors",
    "CacheControl": "options",
    "Catalog": "catalog",
    "CerebrasAdapterError": "errors",
    "CerebrasClient": "_client",
    "CerebrasRoute": "routes",
    "ChatCompletion": "types",
    "ChatCompletionChunk": "types",
    "ChatCompletionMessage": "types",
    "ChatCompletionOptions": "options",
    "ConflictError": "errors",
    "ContextLengthExceededError": "errors",
    "DEFAULT_TIMEOUT": "_client",
    "GovernorUnavailableError": "errors",
    "InProcessBackend": "governor",
    "InternalServerError": "errors",
    "ModelInfo": "catalog",
    "NoEndpointsError": "errors",
    "NotFoundError": "errors",
    "OpenRouterAPI": "_openrouter_api",
    "OpenRouterGeneration": "types",
    "OpenRouterKey": "types",
    "OpenRouterRoute": "routes",
    "PayloadTooLargeError": "errors",
    "PaymentRequiredError": "errors",
    "PermissionDeniedError": "errors",
    "Plugin": "options",
    "RateLimitError": "errors",
    "RateLimitGovernor": "governor",
    "RateLimits": "types",
    "RedisBackend": "governor",
    "RequestTimeoutError": "errors",
    "RequestValidationError": "errors",
    "Route": "routes",
    "RoutingError": "errors",
    "SSEDecoder": "_streaming",
    "ServiceUnavailableError": "errors",
    "Stream": "_streaming",
    "StreamInterruptedError": "errors",
    "TimeInfo": "types",
    "ToolCall": "types",
    "URLCitation": "types",
    "UnprocessableEntityError": "errors",
    "UnsupportedParameterError": "errors",
    "Usage": "types",
    "ValidationWarning": "_request",
    "WebPlugin": "options",
    "accumulate": "_streaming",
    "default_catalog": "catalog",
    "replay_reasoning": "reasoning",
    "split_think_tags": "reasoning",
}


def __getattr__(name: str) -> Any:
    from importlib import import_module

    module = _LAZY.get(name)
    if module is None:
        if name.startswith("_") or name not in _SUBMODULES:
            raise AttributeError(f"module 'cerebras_adapters' has no attribute {name!r}")
        return import_module(f".{name}", __name__)  # e.g. cerebras_adapters.errors before any other import
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


_SUBMODULES = frozenset(
    {"catalog", "errors", "families", "governor", "options", "reasoning", "routes", "schema", "types", "testing"}
)


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "DEFAULT_TIMEOUT",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "Annotation",
    "AsyncCerebrasClient",
    "AsyncOpenRouterAPI",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "CacheControl",
    "Catalog",
    "CerebrasAdapterError",
    "CerebrasClient",
    "CerebrasRoute",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatCompletionOptions",
    "ConflictError",
    "ContextLengthExceededError",
    "GovernorUnavailableError",
    "InProcessBackend",
    "InternalServerError",
    "ModelInfo",
    "NoEndpointsError",
    "NotFoundError",
    "OpenRouterAPI",
    "OpenRouterGeneration",
    "OpenRouterKey",
    "OpenRouterRoute",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "Plugin",
    "RateLimitError",
    "RateLimitGovernor",
    "RateLimits",
    "RedisBackend",
    "RequestTimeoutError",
    "RequestValidationError",
    "Route",
    "RoutingError",
    "SSEDecoder",
    "ServiceUnavailableError",
    "Stream",
    "StreamInterruptedError",
    "TimeInfo",
    "ToolCall",
    "URLCitation",
    "UnprocessableEntityError",
    "UnsupportedParameterError",
    "Usage",
    "ValidationWarning",
    "WebPlugin",
    "__version__",
    "accumulate",
    "default_catalog",
    "replay_reasoning",
    "split_think_tags",
]
