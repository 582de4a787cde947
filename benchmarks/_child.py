"""A benchmark server running in a child process, stopped by closing its stdin.

Both the bare loopback server (``loopback.LoopbackServer``) and the contract emulator (``emulator.EmulatorProcess``)
run this way, so their CPU does not share the measured client's GIL; each child exits at EOF on stdin, so it also
dies with a killed parent. Subclasses only say how to start their child and learn its port.
"""

from __future__ import annotations

import subprocess
from typing import Any

HOST = "127.0.0.1"


class ChildServer:
    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``: the base URL for clients that add ``/v1`` themselves."""
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL with its version path, as most clients take it."""
        return f"{self.origin}/v1"

    def start(self) -> Any:
        raise NotImplementedError

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()  # the child exits at EOF on stdin
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
