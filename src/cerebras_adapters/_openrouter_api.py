"""``client.openrouter``: OpenRouter's monitoring endpoints, for clients of the OpenRouter route.

This module owns ``key()`` (``GET /api/v1/key``: the key's limit, usage and credit left), ``generation(id)``
(``GET /api/v1/generation?id=``: what OpenRouter recorded about one completion, including who served it) and
``confirm_cerebras(...)``, the after-the-fact check that a completion was served by Cerebras (beside the live check of
the response's ``provider``, ``routes.OpenRouterRoute.check_served_by``). Requests go through the client's own send
loop (errors, retries, time limits, headers, key redaction); this module adds only the retry of a generation's 404,
which OpenRouter answers for a short while after a completion finishes (docs/api-facts.md#openrouter-monitoring).
It must not build chat requests or parse chat responses.

Sync and async share every decision (``_OpenRouterCore``); each twin has only its own I/O and sleep.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .errors import APIResponseValidationError, NotFoundError, RequestValidationError, RoutingError
from .types import ChatCompletion, OpenRouterGeneration, OpenRouterKey

if TYPE_CHECKING:
    from ._client import AsyncCerebrasClient, CerebrasClient, _ClientCore

__all__ = ["DEFAULT_GENERATION_WAIT", "AsyncOpenRouterAPI", "OpenRouterAPI"]

logger = logging.getLogger("cerebras_adapters")

#: Seconds ``generation()`` keeps retrying a 404 by default: OpenRouter records a generation within about a second
#: of its end (docs/api-facts.md#openrouter-monitoring).
DEFAULT_GENERATION_WAIT = 3.0
_FIRST_DELAY = 0.5
_MAX_DELAY = 1.0


class _OpenRouterCore:
    """What the sync and async namespaces share: the route check, the paths, parsing and the 404 schedule."""

    def __init__(self, client: _ClientCore) -> None:
        self._core = client

    def _require_route(self, method: str) -> None:
        if self._core.route.name != "openrouter":
            raise RequestValidationError(
                f"client.openrouter.{method}() reads OpenRouter's records; this client's route is "
                f"{self._core.route.name!r}.",
                param="route",
                fix="call it on a client created with route='openrouter'",
            )

    @staticmethod
    def _generation_id(id_or_completion: str | ChatCompletion) -> str:
        if isinstance(id_or_completion, ChatCompletion):
            found = id_or_completion.generation_id
            if found is None:
                raise RequestValidationError(
                    f"This completion (id {id_or_completion.id!r}) has no OpenRouter generation id: it was not "
                    "served through the OpenRouter route.",
                    param="id",
                    fix="pass a completion from a client with route='openrouter', or its id ('gen-...')",
                )
            return found
        if not isinstance(id_or_completion, str) or not id_or_completion.strip():
            raise RequestValidationError(
                f"id must be a generation id ('gen-...') or a ChatCompletion, not {id_or_completion!r}.",
                param="id",
                fix="pass completion.generation_id, or the completion itself",
            )
        return id_or_completion

    @staticmethod
    def _delays(wait: Any) -> Iterator[float]:
        """The waits between tries of a 404 generation: 0.5 s, then 1 s each, until ``wait`` seconds are used."""
        if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not math.isfinite(wait) or wait < 0:
            raise RequestValidationError(
                f"wait must be a finite number of seconds >= 0, not {wait!r}.",
                param="wait",
                fix=f"pass wait={DEFAULT_GENERATION_WAIT} (seconds to keep retrying a 404), or 0 for one try",
            )
        return _schedule(float(wait))

    def _retrying(self, generation_id: str, error: NotFoundError, delay: float | None) -> float:
        if delay is None:
            if error.fix is None:
                error.fix = (
                    f"check that {generation_id!r} is a generation of this key; if the completion has just "
                    "finished, OpenRouter may not have recorded it yet: pass a larger wait="
                )
            raise error
        logger.info("generation %s not recorded yet (404); retrying in %.2f s", generation_id, delay)
        return delay

    @staticmethod
    def _data(body: Any, what: str) -> dict[str, Any]:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise APIResponseValidationError(f"the {what} response has no 'data' object: {str(body)[:200]!r}")
        return data

    def _generation(self, body: Any) -> OpenRouterGeneration:
        return OpenRouterGeneration.model_validate(self._data(body, "generation"))

    def _key(self, body: Any) -> OpenRouterKey:
        return OpenRouterKey.model_validate(self._data(body, "key"))

    @staticmethod
    def _confirmed(generation: OpenRouterGeneration) -> OpenRouterGeneration:
        if not generation.served_by_cerebras:
            raise RoutingError(
                f"OpenRouter's record of {generation.id!r} says it was served by {generation.provider_name!r}, "
                "not Cerebras.",
                provider=generation.provider_name,
                request_id=generation.id or None,
            )
        return generation


def _schedule(left: float) -> Iterator[float]:
    delay = _FIRST_DELAY
    while left > 0:
        step = min(delay, left)
        left -= step
        yield step
        delay = _MAX_DELAY


class OpenRouterAPI(_OpenRouterCore):
    """``client.openrouter`` on a ``CerebrasClient``."""

    def __init__(self, client: CerebrasClient) -> None:
        super().__init__(client)
        self._client = client

    def key(self) -> OpenRouterKey:
        """The key's label, credit limit, usage (USD) and free-tier flag (``GET /api/v1/key``)."""
        self._require_route("key")
        return self._key(self._client._get("/key"))

    def generation(self, id: str | ChatCompletion, *, wait: float = DEFAULT_GENERATION_WAIT) -> OpenRouterGeneration:
        """OpenRouter's record of one completion (``GET /api/v1/generation?id=``): provider, tokens, cost,
        latency. A 404 is retried for up to ``wait`` seconds (OpenRouter records a generation shortly after it
        ends), then raised as ``NotFoundError``."""
        self._require_route("generation")
        generation_id = self._generation_id(id)
        delays = self._delays(wait)
        while True:
            try:
                return self._generation(self._client._get("/generation", {"id": generation_id}))
            except NotFoundError as error:
                time.sleep(self._retrying(generation_id, error, next(delays, None)))

    def confirm_cerebras(
        self, id_or_completion: str | ChatCompletion, *, wait: float = DEFAULT_GENERATION_WAIT
    ) -> OpenRouterGeneration:
        """The generation's record, after checking that Cerebras served it; ``RoutingError`` otherwise."""
        self._require_route("confirm_cerebras")
        return self._confirmed(self.generation(id_or_completion, wait=wait))


class AsyncOpenRouterAPI(_OpenRouterCore):
    """``client.openrouter`` on an ``AsyncCerebrasClient``: the same methods, awaited."""

    def __init__(self, client: AsyncCerebrasClient) -> None:
        super().__init__(client)
        self._client = client

    async def key(self) -> OpenRouterKey:
        self._require_route("key")
        return self._key(await self._client._get("/key"))

    async def generation(
        self, id: str | ChatCompletion, *, wait: float = DEFAULT_GENERATION_WAIT
    ) -> OpenRouterGeneration:
        self._require_route("generation")
        generation_id = self._generation_id(id)
        delays = self._delays(wait)
        while True:
            try:
                return self._generation(await self._client._get("/generation", {"id": generation_id}))
            except NotFoundError as error:
                await asyncio.sleep(self._retrying(generation_id, error, next(delays, None)))

    async def confirm_cerebras(
        self, id_or_completion: str | ChatCompletion, *, wait: float = DEFAULT_GENERATION_WAIT
    ) -> OpenRouterGeneration:
        self._require_route("confirm_cerebras")
        return self._confirmed(await self.generation(id_or_completion, wait=wait))
