"""A contract emulator of the Cerebras Inference API (and of OpenRouter pinned to Cerebras), as an ASGI app.

**Independence.** The emulator is a model of the *server*, written from the API reference
(docs/api-facts.md) and checked by hand against the real recordings
(RT-01…RT-16). It must not import the client's code — no ``cerebras_adapters`` module outside
``cerebras_adapters.testing`` (no client, ``_request``, ``_streaming``, ``types``, ``catalog``, ``errors``,
``options``): it has its own validation (``_validation``), model table (``_models``) and wire encoding
(``_wire``). If the client and the emulator shared a parser or a validator, a bug in it would pass every
test.

Entry points:

* ``create_app(**options)`` → ``EmulatorApp``, a plain ASGI 3 application (serve it with anything; the
  package's own dependency-free server is ``cerebras_adapters.testing.server.EmulatorServer``);
* the ``cerebras-adapters emulator`` command;
* the ``cerebras_emulator`` pytest fixture (``cerebras_adapters.testing.pytest_plugin``).

Routes:

* ``POST /v1/chat/completions`` — JSON or SSE (``stream: true``), Cerebras shapes;
* ``GET /v1/models[?format=default|openrouter|huggingface]``, ``GET /v1/models/{id}``;
* ``GET /v1/tcp_warming`` — ``{}`` (what the SDK's constructor sends, docs/api-facts.md#endpoints);
* ``POST /api/v1/chat/completions``, ``GET /api/v1/models``,
  ``GET /api/v1/models/{author}/{slug}/endpoints`` — OpenRouter mode.
* ``GET /_emulator/stats`` — the quota counters per API key (as a SHA-256 prefix) and model: requests and tokens
  served, 429s by limit, limits and what remains (``_ratelimit``; no key needed, reset with the options).

**API keys.** ``Authorization: Bearer <key>`` is required on every route except ``tcp_warming`` and
OpenRouter's model and endpoint lists. With ``api_keys`` set, only those keys are accepted; otherwise any
non-empty key is accepted unless it contains one of ``invalid_key_markers`` (default ``"invalid"`` and
``"wrong"``, case-insensitive), so ``Bearer csk-test`` works and ``Bearer csk-invalid`` gets the real 401 (RT-08).

**Options** (``create_app(**options)``, ``app.configure(**options)``, the fixture's ``configure`` and the
``@pytest.mark.cerebras_emulator(**options)`` marker) are the fields of ``EmulatorOptions``, plus the
shorthands ``{requests,tokens}_per_{minute,hour,day}`` and ``time_scale`` for ``rate_limits``.

**Faults**: per request with the ``x-emulator-fault`` header, for every request with the ``faults`` option,
or for the next N requests with ``app.fail_next(n, spec)``; the spec grammar is in ``_faults``.
``x-emulator-reply-tokens: N`` makes a text reply exactly N tokens long (for benchmarks).

**Layout.** This module is the public face; each concern lives in its own module, and ``EmulatorApp``
delegates to small route objects rebuilt from the options whenever they change:

* ``_app`` — ``EmulatorApp``: run-time state, ASGI plumbing, routing, API keys, ``create_app``;
* ``_options`` — ``EmulatorOptions`` and the ``Setup`` they build (faults, scenarios, limiter, cache);
* ``_chat`` — ``POST /v1/chat/completions`` and the steps the OpenRouter route shares with it;
* ``_openrouter`` — everything under ``/api/v1/``;
* ``_model_lists`` — ``GET /v1/models`` in its three formats and ``GET /v1/models/{id}``;
* ``_faults`` — fault specs, which apply to a request, and what they turn into;
* ``_replies`` — delivering a 200: JSON or SSE, pacing, stream faults;
* below them: ``_models`` (the model table), ``_validation``/``_schema``, ``_generation``/``_tokens``,
  ``_wire``, ``_ratelimit``, ``_errors``, ``_asgi``.

This module must stay a re-export: code and tests import ``cerebras_adapters.testing.emulator`` (or the
package) and never the underscored modules, so the layout can change without them noticing.
"""

from __future__ import annotations

from ._app import EmulatorApp, RecordedRequest, create_app
from ._options import EmulatorOptions
from ._ratelimit import RateLimitConfig

__all__ = ["EmulatorApp", "EmulatorOptions", "RateLimitConfig", "RecordedRequest", "create_app"]
