"""The contract emulator in a child process, for benchmarks that compare clients against the same server.

This module owns starting and stopping ``cerebras-adapters emulator --host 127.0.0.1 --port 0`` (the
project's own command, unlimited rate by default) in a **separate process**, so the server's CPU never
competes for the benchmarking process's GIL. It reads the ephemeral port from the command's ready line and
returns only once ``GET /v1/tcp_warming`` answers. It must not time anything.

The child also watches its stdin and exits at EOF, so it dies with the process that started it even when
that one is killed (the same arrangement as ``loopback.py``).
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time

import httpx

from ._child import HOST, ChildServer

__all__ = ["HOST", "EmulatorProcess"]

_READY = re.compile(rb"http://127\.0\.0\.1:(\d+)/v1")
_START_TIMEOUT = 30.0

# Run the real command line, plus a thread that ends the process when the parent closes our stdin.
_CHILD = """\
import os, sys, threading

def _parent_gone():
    sys.stdin.buffer.read()
    os._exit(0)

threading.Thread(target=_parent_gone, name="parent-watch", daemon=True).start()
from cerebras_adapters.cli import main
sys.exit(main(sys.argv[1:]))
"""


class EmulatorProcess(ChildServer):
    """``with EmulatorProcess() as emulator: emulator.base_url`` (``http://127.0.0.1:PORT/v1``)."""

    def __init__(self, *extra_args: str) -> None:
        super().__init__()
        self._extra_args = extra_args

    def start(self) -> EmulatorProcess:
        command = [sys.executable, "-u", "-c", _CHILD, "emulator", "--host", HOST, "--port", "0", *self._extra_args]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        self._process = process
        try:
            self.port = self._read_port(process)
            self._wait_until_answering()
        except BaseException:
            self.stop()
            raise
        return self

    @staticmethod
    def _read_port(process: subprocess.Popen[bytes]) -> int:
        assert process.stdout is not None
        lines: list[bytes] = []

        def read() -> None:
            assert process.stdout is not None
            lines.append(process.stdout.readline())

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(_START_TIMEOUT)
        line = lines[0] if lines else b""
        found = _READY.search(line)
        if found is None:
            raise RuntimeError(f"the emulator did not start (said {line!r}, exit code {process.poll()})")
        return int(found.group(1))

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        with httpx.Client(timeout=1.0) as http:
            while True:
                try:
                    if http.get(f"{self.base_url}/tcp_warming").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the emulator on {self.base_url} does not answer /v1/tcp_warming")
                time.sleep(0.05)
