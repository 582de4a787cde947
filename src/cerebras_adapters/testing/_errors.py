"""Error responses the emulator sends, in the body shapes the real services use.

Cerebras (docs/api-facts.md#error-bodies): a **flat** ``{message, type, param, code}`` body for 4xx (RT-08, RT-09),
with 2026 validation errors as 400 ``invalid_request_error`` / ``param: "validation_error"`` /
``code: "wrong_api_format"``; 5xx either flat (RT-10, no ``param``/``code``) or in the 2026 envelope
``{"status_code": N, "error": {...}}``. OpenRouter (docs/api-facts.md#openrouter-errors): ``{"error": {"code": N,
"message", "metadata"?}}``.

This module owns those shapes; it must not decide when an error happens (the routes, ``_validation``,
``_faults`` and ``_ratelimit`` do).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "SERVER_ERROR_MESSAGE",
    "ApiError",
    "ConnectionDropped",
    "invalid",
    "openrouter_error",
    "unsupported_property",
]

#: the message of Cerebras 5xx bodies (RT-10) and of the SDK's error chunk (docs/api-facts.md#mid-stream-errors).
SERVER_ERROR_MESSAGE = "Encountered a server error, please try again."


class ApiError(Exception):
    """An error the emulated server answers with. ``body`` is sent as is."""

    def __init__(self, status: int, body: dict[str, Any], headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(str(body.get("message", body)))
        self.status = status
        self.body = body
        self.headers = headers or []

    @classmethod
    def flat(
        cls,
        status: int,
        message: str,
        type_: str,
        param: str | None = None,
        code: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> ApiError:
        body: dict[str, Any] = {"message": message, "type": type_}
        if param is not None:
            body["param"] = param
        if code is not None:
            body["code"] = code
        return cls(status, body, headers)


class ConnectionDropped(Exception):
    """Raised by the app after it started a response: the server closes the connection without finishing it."""


def invalid(message: str) -> ApiError:
    """A 2026-style validation error (400 ``wrong_api_format``)."""
    return ApiError.flat(400, message, "invalid_request_error", "validation_error", "wrong_api_format")


def unsupported_property(path: str) -> ApiError:
    return invalid(f"{path}: property '{path}' is unsupported")


def openrouter_error(
    status: int, message: str, metadata: dict[str, Any] | None = None, headers: list[tuple[str, str]] | None = None
) -> ApiError:
    """An OpenRouter error body, ``{"error": {"code": status, "message", "metadata"?}}``
    (docs/api-facts.md#openrouter-errors)."""
    error: dict[str, Any] = {"code": status, "message": message}
    if metadata is not None:
        error["metadata"] = metadata
    return ApiError(status, {"error": error}, headers)
