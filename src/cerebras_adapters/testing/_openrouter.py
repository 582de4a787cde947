"""OpenRouter pinned to Cerebras, under ``/api/v1/`` (docs/api-facts.md#openrouter).

This module owns what OpenRouter adds around a Cerebras model: its model list and per-model endpoint list
(``supported_parameters`` of the Cerebras endpoint), provider routing (who serves a request given
``provider.only`` / ``order`` / ``ignore`` / ``allow_fallbacks`` / ``require_parameters``,
docs/api-facts.md#openrouter-parameters), the translation of an OpenRouter request into the Cerebras request it would
send upstream (``reasoning`` object → effort, OpenRouter-only fields dropped, ``reasoning_content`` accepted as an alias
of ``reasoning``, docs/api-facts.md#openrouter-reasoning), OpenRouter error bodies (a Cerebras rejection becomes 400
"Provider returned error" with the raw body in metadata), prompt-caching markers (``cache_control`` on content parts
and top level: checked, accepted and not sent upstream, docs/api-facts.md#prompt-caching), and
``POST /api/v1/chat/completions`` itself, which records each generation it serves in the ``Ledger`` (``_monitoring``).
The web plugin and the ``:online`` suffix are ``_web``'s. The upstream request is checked and answered by the same
steps as the Cerebras route (``_chat``), then encoded in OpenRouter's shapes (``_wire``).

It must not re-implement Cerebras validation or generation: an OpenRouter request is answered as the Cerebras
request it stands for.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from ._asgi import Request, Send, parse_json, send_json
from ._chat import budget, check_context, fingerprint, reply_tokens, use_prompt_cache
from ._errors import ApiError, openrouter_error
from ._faults import FaultSource, status_fault, stream_plan
from ._generation import plan_completion
from ._model_lists import per_token
from ._models import ModelSpec
from ._monitoring import Ledger, generation_record
from ._options import Setup
from ._replies import send_completion, send_stream
from ._validation import MESSAGE_FIELDS, validate_for_model, validate_request
from ._web import ONLINE_SUFFIX, cite, parse_plugins
from ._wire import ResponseMeta, dumps, openrouter_body, openrouter_events, openrouter_usage

__all__ = ["OPENROUTER_CEREBRAS_PARAMETERS", "OpenRouter"]

# docs/api-facts.md#openrouter-parameters: parameter names a provider endpoint lists in supported_parameters. Cerebras'
# endpoint supports these; anything else is "unsupported" for require_parameters (e.g. top_k, min_p,
# repetition_penalty, logit_bias, web_search_options, verbosity, clear_thinking).
OPENROUTER_CEREBRAS_PARAMETERS = frozenset(
    {
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "stop",
        "seed",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "structured_outputs",
        "logprobs",
        "top_logprobs",
        "frequency_penalty",
        "presence_penalty",
    }
)
OPENROUTER_REASONING_PARAMETERS = frozenset({"reasoning", "include_reasoning", "reasoning_effort"})
# Request fields that are not model parameters (routing, accounting, observability): never filtered.
OPENROUTER_ROUTING_FIELDS = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "provider",
        "usage",
        "transforms",
        "models",
        "route",
        "session_id",
        "metadata",
        "trace",
        "plugins",
        "debug",
        "user",
        "prediction",
        "service_tier",
        "prompt_cache_key",
        "cache_control",
    }
)
# Fields OpenRouter consumes itself and never sends upstream.
_NOT_UPSTREAM = frozenset(
    {
        "provider",
        "usage",
        "transforms",
        "models",
        "route",
        "session_id",
        "metadata",
        "trace",
        "plugins",
        "debug",
        "reasoning",
        "include_reasoning",
        "reasoning_effort",
        "cache_control",
    }
)
_CACHE_TTLS = ("5m", "1h")
_OPENROUTER_EFFORTS = {
    "max": "high",
    "xhigh": "high",
    "high": "high",
    "medium": "medium",
    "low": "low",
    "minimal": "low",
    "none": "none",
}


def supported_parameters(spec: ModelSpec) -> list[str]:
    """The Cerebras endpoint's ``supported_parameters`` for this model."""
    params = set(OPENROUTER_CEREBRAS_PARAMETERS)
    if spec.reasoning != "none":
        params |= OPENROUTER_REASONING_PARAMETERS
    return sorted(params)


def model_entry(spec: ModelSpec) -> dict[str, Any]:
    """One model of ``GET /api/v1/models``."""
    modality = "text+image->text" if spec.vision else "text->text"
    return {
        "id": spec.openrouter_id,
        "canonical_slug": spec.openrouter_id,
        "hugging_face_id": spec.hugging_face_id,
        "name": spec.display_name,
        "created": spec.created,
        "description": f"{spec.display_name}, served by the Cerebras emulator.",
        "context_length": spec.context_length,
        "architecture": {
            "modality": modality,
            "input_modalities": list(spec.input_modalities),
            "output_modalities": ["text"],
            "tokenizer": "Other",
            "instruct_type": None,
        },
        "pricing": {
            "prompt": per_token(spec.price_in),
            "completion": per_token(spec.price_out),
            "request": "0",
            "image": "0",
            "web_search": "0",
            "internal_reasoning": "0",
        },
        "top_provider": {
            "context_length": spec.context_length,
            "max_completion_tokens": spec.max_output,
            "is_moderated": False,
        },
        "per_request_limits": None,
        "supported_parameters": supported_parameters(spec),
    }


def check_cache_control(value: Any, where: str) -> None:
    """OpenRouter's ``cache_control``: ``{"type": "ephemeral", "ttl"?: "5m" | "1h"}``
    (docs/api-facts.md#prompt-caching); 400 otherwise."""
    if not isinstance(value, dict) or value.get("type") != "ephemeral":
        raise openrouter_error(400, f'{where}.type: Expected "ephemeral" (cache_control: {{"type": "ephemeral"}})')
    if value.get("ttl") is not None and value["ttl"] not in _CACHE_TTLS:
        raise openrouter_error(400, f'{where}.ttl: Expected "5m" | "1h", received {value["ttl"]!r}')


def upstream_message(message: Any, where: str = "messages") -> Any:
    """A message as OpenRouter forwards it to Cerebras: only the fields Cerebras takes for its role (content-part
    ``cache_control`` markers are checked and kept by OpenRouter; Cerebras caches by prefix on its own)."""
    if not isinstance(message, dict) or message.get("role") not in MESSAGE_FIELDS:
        return message
    out = {k: v for k, v in message.items() if k in MESSAGE_FIELDS[message["role"]]}
    # OpenRouter accepts reasoning_content as an alias of reasoning on input (docs/api-facts.md#openrouter-reasoning).
    if message["role"] == "assistant" and "reasoning" not in out and isinstance(message.get("reasoning_content"), str):
        out["reasoning"] = message["reasoning_content"]
    content = out.get("content")
    if isinstance(content, list):
        parts = []
        for j, part in enumerate(content):
            if isinstance(part, dict) and "cache_control" in part:
                check_cache_control(part["cache_control"], f"{where}.content.{j}.cache_control")
                part = {k: v for k, v in part.items() if k != "cache_control"}
            parts.append(part)
        out["content"] = parts
    return out


class OpenRouter:
    """The ``/api/v1/`` routes for one ``Setup``."""

    def __init__(self, setup: Setup, faults: FaultSource, ledger: Ledger) -> None:
        self._setup = setup
        self._faults = faults
        self._ledger = ledger

    async def models(self, request: Request, send: Send) -> None:
        data = [model_entry(m) for m in self._setup.served() if m.openrouter_id]
        await send_json(send, 200, {"data": data})

    async def endpoints(self, request: Request, send: Send) -> None:
        slug = request.path.rstrip("/")[len("/api/v1/models/") : -len("/endpoints")]
        spec = self._setup.openrouter_model(unquote(slug))
        if spec is None:
            raise openrouter_error(404, "Model not found")
        entry = model_entry(spec)
        endpoint = {
            "name": f"Cerebras | {spec.openrouter_id}",
            "model_name": spec.display_name,
            "context_length": spec.context_length,
            "pricing": entry["pricing"],
            "provider_name": "Cerebras",
            "tag": "cerebras",
            "quantization": "fp16",
            "max_completion_tokens": spec.max_output,
            "max_prompt_tokens": None,
            "supported_parameters": entry["supported_parameters"],
            "status": 0,
            "uptime_last_30m": 100.0,
        }
        data = {k: entry[k] for k in ("id", "name", "created", "description", "architecture")}
        data["endpoints"] = [endpoint]
        await send_json(send, 200, {"data": data})

    def route(self, body: dict[str, Any], spec: ModelSpec) -> tuple[str, list[str]]:
        """Which provider serves the request, and the parameters Cerebras's endpoint lacks
        (docs/api-facts.md#openrouter-parameters)."""
        prefs = body.get("provider") or {}
        if not isinstance(prefs, dict):
            raise openrouter_error(400, "provider: Expected object")

        def slugs(name: str) -> list[str]:
            value = prefs.get(name) or []
            return [str(s).lower() for s in value] if isinstance(value, list) else []

        only, order, ignore = slugs("only"), slugs("order"), slugs("ignore")
        allow_fallbacks = prefs.get("allow_fallbacks", True) is not False
        require = prefs.get("require_parameters") is True
        supported = set(supported_parameters(spec))
        unsupported = [k for k in body if k not in supported and k not in OPENROUTER_ROUTING_FIELDS]
        cerebras_allowed = (not only or "cerebras" in only) and "cerebras" not in ignore
        # A pin: only Cerebras is allowed, or Cerebras first in `order` with fallbacks off.
        pinned = cerebras_allowed and (
            set(only) == {"cerebras"} or (bool(order) and order[0] == "cerebras" and not allow_fallbacks)
        )
        fallback = self._setup.options.openrouter_fallback_provider
        if not cerebras_allowed:
            return fallback, unsupported
        if unsupported and require:
            if pinned:
                raise openrouter_error(404, "No endpoints found that can handle the requested parameters.")
            return fallback, unsupported
        if pinned:
            return "Cerebras", unsupported
        return self._setup.options.openrouter_unpinned_provider, unsupported

    @staticmethod
    def translate(body: dict[str, Any], spec: ModelSpec, drop: Iterable[str]) -> tuple[dict[str, Any], bool]:
        """The Cerebras request OpenRouter would send upstream, and whether reasoning is excluded."""
        skip = set(drop) | _NOT_UPSTREAM
        upstream: dict[str, Any] = {k: v for k, v in body.items() if k not in skip}
        options = body.get("stream_options")
        if isinstance(options, dict):
            upstream["stream_options"] = {k: v for k, v in options.items() if k == "include_usage"}
        reasoning = body.get("reasoning")
        if reasoning is not None and not isinstance(reasoning, dict):
            raise openrouter_error(400, "reasoning: Expected object")
        reasoning = reasoning or {}
        effort: str | None = None
        if reasoning.get("enabled") is False:
            effort = "none"
        elif reasoning.get("effort") is not None:
            effort = _OPENROUTER_EFFORTS.get(str(reasoning["effort"]))
            if effort is None:
                raise openrouter_error(400, f"reasoning.effort: invalid value {reasoning['effort']!r}")
        elif reasoning.get("max_tokens") or reasoning.get("enabled"):
            effort = "medium"
        shorthand = body.get("reasoning_effort")
        if shorthand is not None and "reasoning_effort" not in drop:
            mapped = _OPENROUTER_EFFORTS.get(str(shorthand))
            if mapped is None or (effort is not None and reasoning.get("effort") not in (None, shorthand)):
                raise openrouter_error(400, "reasoning_effort must match reasoning.effort")
            effort = mapped
        exclude = reasoning.get("exclude") is True or body.get("include_reasoning") is False
        if spec.reasoning == "always" and effort == "none":
            raise openrouter_error(400, "Reasoning is mandatory for this endpoint and cannot be disabled.")
        if effort is not None and spec.reasoning != "none" and "reasoning" not in drop:
            upstream["reasoning_effort"] = effort
        if "cache_control" in body:
            check_cache_control(body["cache_control"], "cache_control")
        messages = body.get("messages")
        if isinstance(messages, list):
            upstream["messages"] = [upstream_message(m, f"messages.{i}") for i, m in enumerate(messages)]
        return upstream, exclude

    async def chat(self, request: Request, send: Send) -> None:
        setup, options = self._setup, self._setup.options
        faults = self._faults.for_request(request.headers, setup.always_faults)
        error = status_fault(faults, openrouter=True, retry_after=options.retry_after)
        if error is not None:
            raise error
        body = parse_json(request)
        if not isinstance(body, dict):
            raise openrouter_error(400, "Invalid JSON body")
        model = body.get("model")
        if not isinstance(model, str):
            raise openrouter_error(400, "No models provided")
        # docs/api-facts.md#openrouter-web-search: "<id>:online" is the model with the web plugin.
        online = model.endswith(ONLINE_SUFFIX)
        spec = setup.openrouter_model(model[: -len(ONLINE_SUFFIX)] if online else model)
        if spec is None:
            raise openrouter_error(400, f"{model} is not a valid model ID")
        search = parse_plugins(body.get("plugins"), online)
        provider, unsupported = self.route(body, spec)
        upstream, exclude = self.translate(body, spec, unsupported)
        upstream["model"] = spec.id
        if search is not None and isinstance(upstream.get("messages"), list):
            upstream["messages"] = search.run(upstream["messages"])
        try:
            validate_request(upstream)
            validate_for_model(upstream, spec)
            completion = plan_completion(
                upstream, spec, setup.scenarios, exclude_reasoning=exclude, reply_tokens=reply_tokens(request)
            )
            check_context(completion, spec, budget(upstream))
        except ApiError as upstream_error:
            if upstream_error.status >= 500 or "error" in upstream_error.body:
                raise
            raise openrouter_error(
                upstream_error.status,
                "Provider returned error",
                {"raw": dumps(upstream_error.body), "provider_name": provider},
            ) from None
        use_prompt_cache(setup.cache, request.key, spec, completion)
        annotations = cite(completion, search, budget(upstream) or spec.max_output) if search is not None else []
        now = time.time()
        meta = ResponseMeta(
            id=f"gen-{int(now)}-{secrets.token_urlsafe(15)[:20]}",
            created=int(now),
            created_float=now,
            model=spec.openrouter_id or spec.id,
            fingerprint=fingerprint(spec),
            spec=spec,
            tokens_per_second=options.tokens_per_second,
            provider=provider,
            annotations=annotations or None,
            extra_cost=search.cost if search is not None else 0.0,
        )
        headers = [("x-generation-id", meta.id)]
        plan = stream_plan(faults)
        speed = options.tokens_per_second or 2800.0
        record = generation_record(
            generation_id=meta.id,
            model=meta.model,
            provider=provider,
            usage=openrouter_usage(completion, spec, meta.extra_cost),
            created=now,
            streamed=bool(body.get("stream")),
            finish_reason="error" if plan.error_at is not None else completion.finish_reason,
            cancelled=plan.drop_at is not None,
            latency_ms=round(1000 * (plan.slow + 0.0005 + completion.prompt_tokens / 45000.0)),
            generation_time_ms=round(1000 * (plan.slow + completion.completion_tokens / speed)),
            num_search_results=len(search.results) if search is not None else 0,
            web_search_engine=search.engine if search is not None else None,
        )
        self._ledger.record(request.key, record, options.generation_delay_s)
        if body.get("stream"):
            events = openrouter_events(completion, meta)
            await send_stream(
                send, headers, events, plan, meta, openrouter=True, tokens_per_second=options.tokens_per_second
            )
        else:
            reply = openrouter_body(completion, meta)
            if plan.error_at is not None:
                # docs/api-facts.md#openrouter-errors: a non-streamed 200 with the provider error embedded in the
                # choice.
                reply["choices"][0]["finish_reason"] = "error"
                reply["choices"][0]["error"] = {
                    "code": 502,
                    "message": "Provider returned error",
                    "metadata": {"error_type": "provider_unavailable"},
                }
            await send_completion(
                send, headers, dumps(reply), plan, completion.completion_tokens, options.tokens_per_second
            )
