"""The ``cerebras-adapters`` command.

Subcommands:

* ``emulator`` — run the Cerebras API emulator in the foreground (``cerebras_adapters.testing``):
  ``cerebras-adapters emulator --port 8089 [--tokens-per-second N] [--scenarios FILE] [--host 127.0.0.1]
  [--rate-limits JSON] [--time-scale X]``;
* ``demo`` — reserved; see the HOOK below.

This module imports only the standard library at import time; each subcommand imports what it needs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cerebras-adapters", description="Cerebras Inference adapters: tools.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_emulator_parser(sub)
    _add_demo_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.handler(args)
    return result


# ------------------------------------------------------------------------------------------------ emulator


def _add_emulator_parser(sub: Any) -> None:
    p = sub.add_parser(
        "emulator",
        help="run a local server that behaves like the Cerebras API (and OpenRouter pinned to Cerebras)",
        description="Serve the Cerebras API emulator: POST /v1/chat/completions, GET /v1/models, "
        "GET /v1/tcp_warming, and OpenRouter mode under /api/v1. Any non-empty Bearer key is accepted unless it "
        "contains 'invalid' or 'wrong' (or --api-key is given).",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8089, help="port (default: 8089; 0 picks a free one)")
    p.add_argument(
        "--tokens-per-second",
        type=float,
        default=None,
        metavar="N",
        help="pace streams at N tokens/s (default: unlimited; 3000 feels like the real service)",
    )
    p.add_argument("--scenarios", metavar="FILE", help="a YAML or JSON scenario file, tried before the defaults")
    p.add_argument("--no-default-scenarios", action="store_true", help="do not use the packaged scenarios")
    p.add_argument(
        "--api-key", action="append", dest="api_keys", metavar="KEY", help="accept only this key (repeatable)"
    )
    p.add_argument("--done", action="store_true", help="end Cerebras streams with data: [DONE]")
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject a fault into every chat request, e.g. 503, 429=1, slow-first-token=200ms",
    )
    p.add_argument("--requests-per-day", type=int, metavar="N", help="rate limit per key and model")
    p.add_argument("--tokens-per-minute", type=int, metavar="N", help="rate limit per key and model")
    p.add_argument("--requests-per-minute", type=int, metavar="N", help="rate limit per key and model")
    p.add_argument(
        "--rate-limits",
        metavar="JSON",
        help="quotas per key and model as a JSON object, e.g. "
        '\'{"requests_per_minute": 5, "tokens_per_minute": 30000, "tokens_per_hour": 1000000, "time_scale": 20, '
        '"models": {"gpt-oss-120b": {"tokens_per_minute": 1000000}}}\' '
        "(the rate-limit flags and --time-scale override its fields)",
    )
    p.add_argument(
        "--time-scale", type=float, metavar="X", help="run the quota windows X times faster (20: a minute lasts 3 s)"
    )
    p.add_argument(
        "--openrouter-unpinned-provider",
        metavar="NAME",
        help="provider that serves OpenRouter requests not pinned to Cerebras (default: Cerebras)",
    )
    p.set_defaults(handler=_run_emulator)


def _run_emulator(args: argparse.Namespace) -> int:
    from cerebras_adapters.testing.emulator import create_app
    from cerebras_adapters.testing.server import HTTPServer, serve

    options: dict[str, Any] = {
        "tokens_per_second": args.tokens_per_second,
        "send_done": args.done,
        "faults": args.fault,
        "default_scenarios": not args.no_default_scenarios,
    }
    if args.scenarios:
        options["scenarios"] = args.scenarios
    if args.api_keys:
        options["api_keys"] = args.api_keys
    if args.rate_limits is not None:
        try:
            options["rate_limits"] = json.loads(args.rate_limits)
        except ValueError as exc:
            print(f"cerebras-adapters emulator: --rate-limits is not valid JSON: {exc}", file=sys.stderr)
            return 2
    quota_flags = ("requests_per_day", "tokens_per_minute", "requests_per_minute", "time_scale")
    for name in (*quota_flags, "openrouter_unpinned_provider"):
        value = getattr(args, name)
        if value is not None:
            options[name] = value
    try:
        app = create_app(**options)
    except (OSError, ValueError, TypeError, RuntimeError) as exc:
        print(f"cerebras-adapters emulator: {exc}", file=sys.stderr)
        return 2

    def ready(server: HTTPServer) -> None:
        origin = f"http://{server.host}:{server.port}"
        print(f"Cerebras emulator on {origin}/v1 (OpenRouter mode: {origin}/api/v1). Ctrl-C stops it.", flush=True)

    try:
        asyncio.run(serve(app, args.host, args.port, ready))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"cerebras-adapters emulator: {exc}", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------------------------------------------- demo


def _add_demo_parser(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="run the demo: live with CEREBRAS_API_KEY / OPENROUTER_API_KEY, else on the built-in emulator",
    )
    p.add_argument(
        "--route",
        choices=["cerebras", "openrouter"],
        default=None,
        help="which route to show (default: cerebras, or openrouter when only OPENROUTER_API_KEY is set)",
    )
    p.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from .demo import run

    return run(route=args.route)


if __name__ == "__main__":
    sys.exit(main())
