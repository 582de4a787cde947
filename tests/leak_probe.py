"""Leak probe: many ``asyncio.run`` calls through one adapter, in a process of its own.

``python -P tests/leak_probe.py MODE CALLS BASE_URL [--warm-up N] [--nofile LIMIT]`` (``-P``: so that
``tests/litellm`` does not shadow the ``litellm`` package) runs ``CALLS`` times
``asyncio.run(one call)``, each in a fresh event loop, against the server at ``BASE_URL``, and prints one JSON
line: open file descriptors and RSS after the warm-up and at the end, how many loops the adapter's async
client pool still holds, the first error (if any) and the time taken. ``MODE`` is ``ainvoke`` / ``astream``
(``ChatCerebras``) or ``litellm`` (``litellm.acompletion`` on the registered provider).

A process of its own, so that nothing else of a test run (other tests' clients, pytest's own state) blurs the
numbers; ``--nofile`` lowers ``RLIMIT_NOFILE`` first, as ``ulimit -n`` would. ``--no-ca-bundle`` points
httpx at an empty CA directory: every new client otherwise loads the whole CA bundle into a fresh SSL context
(~40 ms of CPU and ~0.8 MB each, most of what a leaked client weighs), which bounds how many loops fit in a
test's time; the probe only speaks plain HTTP to loopback, so no certificate is ever checked.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # no price-map download on import (litellm.md §1.5)
_PAGE = os.sysconf("SC_PAGE_SIZE")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE / 2**20


def _calls(mode: str, base_url: str) -> tuple[Callable[[], Awaitable[Any]], Callable[[], int]]:
    """The call to repeat, and how to count the event loops the adapter's pool holds."""
    if mode in ("ainvoke", "astream"):
        from cerebras_adapters.langchain import ChatCerebras

        model = ChatCerebras(model="gpt-oss-120b", base_url=base_url, api_key="csk-test")

        async def ainvoke() -> Any:
            return await model.ainvoke("hi")

        async def astream() -> Any:
            return [chunk async for chunk in model.astream("hi")]

        return (ainvoke if mode == "ainvoke" else astream), lambda: len(model._async_clients)
    if mode == "litellm":
        import litellm

        from cerebras_adapters.litellm import register

        litellm.suppress_debug_info = True
        provider = register()
        messages = [{"role": "user", "content": "hi"}]

        async def acompletion() -> Any:
            return await litellm.acompletion(
                model="cerebras-adapters/gpt-oss-120b", messages=messages, api_base=base_url, api_key="csk-test"
            )

        return acompletion, lambda: len(provider._async_clients)
    raise SystemExit(f"unknown mode {mode!r}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["ainvoke", "astream", "litellm"])
    parser.add_argument("calls", type=int)
    parser.add_argument("base_url")
    parser.add_argument("--warm-up", type=int, default=50)
    parser.add_argument("--nofile", type=int, default=None)
    parser.add_argument("--no-ca-bundle", action="store_true")
    args = parser.parse_args(argv)
    if args.no_ca_bundle:
        os.environ.pop("SSL_CERT_FILE", None)  # httpx prefers it to SSL_CERT_DIR
        empty = tempfile.TemporaryDirectory(prefix="no-ca-")  # removed at exit
        os.environ["SSL_CERT_DIR"] = empty.name
    if args.nofile is not None:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile, hard))

    call, pool_size = _calls(args.mode, args.base_url)
    report: dict[str, Any] = {
        "mode": args.mode,
        "nofile": args.nofile,
        "ca_bundle": not args.no_ca_bundle,
        "calls": 0,
        "error": None,
    }
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        for i in range(args.calls):
            if i == args.warm_up:
                gc.collect()
                report["fds_warm"], report["rss_warm_mb"] = open_fds(), rss_mb()
            asyncio.run(call())
            report["calls"] = i + 1
    except Exception as exc:  # reported, not raised: the test asserts on it with the numbers around it
        report["error"] = f"{type(exc).__name__}: {exc}"[:300]
    report["seconds"] = round(time.perf_counter() - started, 2)
    report["cpu_seconds"] = round(time.process_time() - cpu_started, 2)
    gc.collect()
    report["fds_end"], report["rss_end_mb"] = open_fds(), rss_mb()
    report["pool_loops"] = pool_size()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
