"""cerebras_adapters: Cerebras Inference for Python frameworks, on one fast, faithful core.

The core (this package) imports no framework: ``cerebras_adapters.langchain`` and
``cerebras_adapters.litellm`` are the only modules that import LangChain or LiteLLM.
"""

from ._client import DEFAULT_TIMEOUT, AsyncCerebrasClient, CerebrasClient
from ._streaming import AsyncStream, SSEDecoder, Stream, accumulate
from ._version import __version__
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
from .options import ChatCompletionOptions
from .reasoning import replay_reasoning, split_think_tags
from .routes import CerebrasRoute, OpenRouterRoute, Route
from .types import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    RateLimits,
    TimeInfo,
    ToolCall,
    Usage,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncCerebrasClient",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
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
    "InternalServerError",
    "ModelInfo",
    "NoEndpointsError",
    "NotFoundError",
    "OpenRouterRoute",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimits",
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
    "UnprocessableEntityError",
    "UnsupportedParameterError",
    "Usage",
    "__version__",
    "accumulate",
    "default_catalog",
    "replay_reasoning",
    "split_think_tags",
]
