"""``GET /v1/models`` and ``GET /v1/models/{id}`` in the three formats of docs/api-facts.md#models-endpoint.

This module owns how the served models are listed: ``format=default`` (``{id, object, created, owned_by}``),
``format=openrouter`` (ids ``cerebras/<id>``, prices in USD per token as strings) and ``format=huggingface``
(prices in USD per million tokens, a ``capabilities`` object), and the 404 for a model that is not served.
It must not hold model facts itself (they are ``_models``'s) and does not serve OpenRouter's own model routes
under ``/api/v1/`` (``_openrouter``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from ._asgi import Request, Send, send_json
from ._errors import ApiError, invalid
from ._models import ModelSpec
from ._options import Setup

__all__ = ["ModelLists", "default_entry", "huggingface_entry", "openrouter_format_entry", "per_token"]


def per_token(price_per_million: float) -> str:
    """A USD-per-million price as OpenRouter writes it: USD per token, as an exact decimal string."""
    return format(Decimal(str(price_per_million)) / Decimal(1_000_000), "f")


def default_entry(spec: ModelSpec) -> dict[str, Any]:
    return {"id": spec.id, "object": "model", "created": spec.created, "owned_by": "Cerebras"}


def openrouter_format_entry(spec: ModelSpec) -> dict[str, Any]:
    """docs/api-facts.md#models-endpoint ``format=openrouter``: prices in USD per token, as strings."""
    features = ["tools", "json_mode", "structured_outputs"] + (["reasoning"] if spec.reasoning != "none" else [])
    return {
        "id": f"cerebras/{spec.id}",
        "name": spec.display_name,
        "context_length": spec.context_length,
        "max_output_length": spec.max_output,
        "created": spec.created,
        "pricing": {"prompt": per_token(spec.price_in), "completion": per_token(spec.price_out)},
        "quantization": "fp16",
        "supported_features": features,
        "supported_sampling_parameters": [
            "temperature",
            "top_p",
            "stop",
            "seed",
            "frequency_penalty",
            "presence_penalty",
        ],
        "input_modalities": list(spec.input_modalities),
        "output_modalities": ["text"],
        "datacenters": [{"country_code": "US"}],
        "hugging_face_id": spec.hugging_face_id,
        "openrouter": {"slug": spec.openrouter_id},
    }


def huggingface_entry(spec: ModelSpec) -> dict[str, Any]:
    """docs/api-facts.md#models-endpoint ``format=huggingface``: prices in USD per million tokens."""
    return {
        "id": spec.id,
        "context_length": spec.context_length,
        "created": spec.created,
        "owned_by": "Cerebras",
        "pricing": {"input": spec.price_in, "output": spec.price_out},
        "capabilities": {
            "function_calling": True,
            "streaming": True,
            "structured_outputs": True,
            "vision": spec.vision,
        },
        "hugging_face_id": spec.hugging_face_id,
    }


_ENTRIES: dict[str, Callable[[ModelSpec], dict[str, Any]]] = {
    "default": default_entry,
    "openrouter": openrouter_format_entry,
    "huggingface": huggingface_entry,
}


class ModelLists:
    """The Cerebras model routes for one ``Setup``."""

    def __init__(self, setup: Setup) -> None:
        self._setup = setup

    async def list_models(self, request: Request, send: Send) -> None:
        fmt = (request.query.get("format") or ["default"])[0]
        served = self._setup.served()
        if fmt == "default":
            body: dict[str, Any] = {"object": "list", "data": [default_entry(m) for m in served]}
        elif fmt == "openrouter":
            body = {"data": [openrouter_format_entry(m) for m in served]}
        elif fmt == "huggingface":
            body = {"object": "list", "data": [huggingface_entry(m) for m in served]}
        else:
            raise invalid("format: Input should be 'default', 'openrouter' or 'huggingface'")
        await send_json(send, 200, body, [("x-request-id", f"{secrets.token_hex(8)}-EMU")])

    async def retrieve_model(self, request: Request, send: Send) -> None:
        model_id = unquote(request.path.rstrip("/").rsplit("/", 1)[-1])
        spec = self._setup.model(model_id)
        if spec is None:
            raise ApiError.flat(
                404,
                f"Model {model_id} does not exist or you do not have access to it.",
                "not_found_error",
                "model",
                "model_not_found",
            )
        fmt = (request.query.get("format") or ["default"])[0]
        # An unknown format falls back to the default entry here (the list route refuses it).
        await send_json(send, 200, _ENTRIES.get(fmt, default_entry)(spec))
