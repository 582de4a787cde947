"""``POST /v1/chat/completions``: the Cerebras chat route, and the steps the OpenRouter route shares with it.

This module owns the order in which a Cerebras chat request is answered: faults, JSON, request validation,
the model (404 for an unknown one, RT-09), per-model validation, the planned completion, the context-window
check, the rate limiter (reserve from the key's quota for the model, then settle with the real usage), the
prompt cache, and the JSON or SSE reply with its headers (``inference-id``, ``x-request-id``, the rate-limit
headers). The shared steps (``reply_tokens``, ``budget``, ``check_context``, ``use_prompt_cache``,
``fingerprint``) are functions so that ``_openrouter`` runs the same ones on the request it sends upstream.

It must not validate (``_validation``), generate (``_generation``), encode (``_wire``) or pace and deliver
(``_replies``) itself; it only calls them in order.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from typing import Any

from ._asgi import Request, Send, parse_json
from ._errors import SERVER_ERROR_MESSAGE, ApiError, invalid
from ._faults import FaultSource, status_fault, stream_plan
from ._generation import Completion, plan_completion
from ._models import ModelSpec
from ._options import Setup
from ._ratelimit import Admission
from ._replies import send_completion, send_stream
from ._tokens import PrefixCache
from ._validation import selected_api_version, validate_for_model, validate_request
from ._wire import DONE, ResponseMeta, cerebras_body, cerebras_events, dumps

__all__ = [
    "REPLY_TOKENS_HEADER",
    "CerebrasChat",
    "budget",
    "check_context",
    "fingerprint",
    "reply_tokens",
    "use_prompt_cache",
]

REPLY_TOKENS_HEADER = "x-emulator-reply-tokens"


def fingerprint(spec: ModelSpec) -> str:
    """A stable ``system_fingerprint`` per model."""
    return "fp_" + hashlib.sha256(spec.id.encode()).hexdigest()[:20]


def reply_tokens(request: Request) -> int | None:
    """``x-emulator-reply-tokens: N``: make a text reply exactly N tokens long (for benchmarks)."""
    value = request.headers.get(REPLY_TOKENS_HEADER)
    if value is None:
        return None
    if not value.strip().isdigit():
        raise ApiError.flat(
            400,
            f"{REPLY_TOKENS_HEADER}: expected a whole number",
            "invalid_request_error",
            REPLY_TOKENS_HEADER,
            "bad_emulator_header",
        )
    return int(value)


def budget(body: dict[str, Any]) -> int | None:
    """The request's completion budget (``max_completion_tokens``, else ``max_tokens``); None when unset or -1."""
    limit = body.get("max_completion_tokens")
    if limit is None:
        limit = body.get("max_tokens")
    return None if limit is None or limit == -1 else int(limit)


def check_context(completion: Completion, spec: ModelSpec, limit: int | None) -> None:
    """400 when the prompt plus the budget exceed the model's context window."""
    total = completion.prompt_tokens + (limit or 0)
    if total > spec.context_length:
        # cline/cline#5140 (message); param and code are the emulator's.
        raise ApiError.flat(
            400,
            f"Please reduce the length of the messages or completion. Current length is {total} while "
            f"limit is {spec.context_length}",
            "invalid_request_error",
            "messages",
            "context_length_exceeded",
        )


def use_prompt_cache(cache: PrefixCache, key: str, spec: ModelSpec, completion: Completion) -> None:
    """Report the prompt's cached prefix (per key and model) on models that cache (docs/api-facts.md#prompt-caching)."""
    if spec.prompt_caching:
        completion.cached_tokens = cache.lookup_and_store(f"{key}\x00{spec.id}", completion.prompt_token_list)


class CerebrasChat:
    """The Cerebras chat route for one ``Setup``."""

    def __init__(self, setup: Setup, faults: FaultSource) -> None:
        self._setup = setup
        self._faults = faults

    async def __call__(self, request: Request, send: Send) -> None:
        setup, options = self._setup, self._setup.options
        faults = self._faults.for_request(request.headers, setup.always_faults)
        error = status_fault(faults, openrouter=False, retry_after=options.retry_after)
        if error is not None:
            raise error
        body = parse_json(request)
        if body is ...:
            raise invalid("body: Input should be a valid JSON object")
        validate_request(body, api_version=selected_api_version(request.headers))
        spec = setup.model(body["model"])
        if spec is None:
            # RT-09.
            raise ApiError.flat(
                404,
                f"Model {body['model']} does not exist or you do not have access to it.",
                "not_found_error",
                "model",
                "model_not_found",
            )
        validate_for_model(body, spec)
        completion = plan_completion(body, spec, setup.scenarios, reply_tokens=reply_tokens(request))
        limit = budget(body)
        check_context(completion, spec, limit)
        reserve = completion.prompt_tokens + (limit if limit is not None else spec.max_output)
        admission: Admission = setup.limiter.admit(request.key, spec.id, reserve)
        try:
            use_prompt_cache(setup.cache, request.key, spec, completion)
            now = time.time()
            meta = ResponseMeta(
                id=f"chatcmpl-{uuid.uuid4()}",
                created=int(now),
                created_float=now,
                model=spec.id,
                fingerprint=fingerprint(spec),
                spec=spec,
                tokens_per_second=options.tokens_per_second,
            )
            headers = [*admission.headers, ("inference-id", meta.id), ("x-request-id", f"{secrets.token_hex(8)}-EMU")]
            plan = stream_plan(faults)
            logprobs = (int(body.get("top_logprobs") or 0)) if body.get("logprobs") else None
            if body.get("stream"):
                events = cerebras_events(completion, meta, logprobs)
                if options.send_done:
                    events.append(DONE)
                await send_stream(
                    send, headers, events, plan, meta, openrouter=False, tokens_per_second=options.tokens_per_second
                )
            else:
                # A 200 carrying an error (the SDK's ErrorChunkResponse, docs/api-facts.md#mid-stream-errors) stands for
                # mid-stream-error here.
                error_body = {
                    "error": {
                        "message": SERVER_ERROR_MESSAGE,
                        "type": "server_error",
                        "param": "",
                        "code": "",
                        "id": "",
                    },
                    "status_code": 500,
                }
                text = dumps(error_body if plan.error_at is not None else cerebras_body(completion, meta, logprobs))
                await send_completion(
                    send, headers, text, plan, completion.completion_tokens, options.tokens_per_second
                )
        finally:
            setup.limiter.settle(admission, completion.prompt_tokens + completion.completion_tokens)
