"""A real ``redis-server`` on a loopback port for the tests (the governor's shared backend; no fakeredis).

``RedisServer().start()`` runs ``redis-server --port <free port> --bind 127.0.0.1 --save '' --appendonly no`` as a
subprocess (working files in a temporary directory) and returns once it answers PING (redis-py). ``url`` is
``redis://127.0.0.1:PORT/0`` and stays the same across ``stop()`` / ``start()``, so a test can take the server away
and bring it back under a client that keeps its URL:

    with redis_process.stopped():      # SIGTERM; restarted on the same port when the block ends, even on failure
        ...                            # the backend is unreachable here
    with redis_process.stopped(kill=True):   # SIGKILL: a crash, not a shutdown
        ...

``REDIS_SERVER`` names another binary (a path or a name on PATH). The session fixtures are in tests/conftest.py:
``redis_process`` (this object) and ``redis_server`` (its URL). Where the binary is not installed, starting fails
with ``RedisUnavailable`` naming the set-up that installs it (``make test`` runs scripts/ensure-redis.sh): the tests
that need it fail, never skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

__all__ = ["RedisServer", "RedisUnavailable"]

MISSING = (
    "redis-server is not installed, and the tests need a real one on loopback. `make test` installs it "
    "(scripts/ensure-redis.sh: Debian's redis-server package); or run `sh scripts/ensure-redis.sh`, or install "
    "redis-server with your package manager."
)


class RedisUnavailable(RuntimeError):
    """redis-server is missing or did not come up."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One redis-server process on 127.0.0.1 (see the module docstring)."""

    def __init__(self, binary: str | None = None, startup_timeout: float = 10.0) -> None:
        self.binary = binary or os.environ.get("REDIS_SERVER", "redis-server")
        self.startup_timeout = startup_timeout
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)

    def start(self) -> RedisServer:
        """Start the server (on its previous port after a stop) and wait until it answers PING."""
        if self.running:
            return self
        executable = shutil.which(self.binary)
        if executable is None:
            raise RedisUnavailable(MISSING)
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="redis-test-")
        if not self.port:
            self.port = _free_port()
        workdir = Path(self._dir.name)
        log = workdir / "redis.log"
        command = [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(workdir), "--logfile", str(log)]
        self._proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        give_up = time.monotonic() + self.startup_timeout
        with self.client() as probe:
            while True:
                if self._proc.poll() is not None:
                    raise RedisUnavailable(f"redis-server exited with {self._proc.returncode}: {_tail(log)}")
                try:
                    if probe.ping():
                        return self
                except redis.ConnectionError:
                    pass
                if time.monotonic() > give_up:
                    self.stop()
                    raise RedisUnavailable(f"redis-server did not answer PING on {self.url}: {_tail(log)}")
                time.sleep(0.02)

    def stop(self, kill: bool = False) -> None:
        """Stop the server: SIGTERM (a clean shutdown), or SIGKILL with ``kill=True`` (a crash)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    def restart(self) -> RedisServer:
        """Stop and start again on the same port (the data is gone: nothing is saved)."""
        self.stop()
        return self.start()

    @contextmanager
    def stopped(self, kill: bool = False) -> Iterator[None]:
        """The server is down inside the block and up again (same URL) after it, whatever the block does."""
        self.stop(kill=kill)
        try:
            yield
        finally:
            self.start()

    def close(self) -> None:
        """Stop for good and remove the working directory."""
        self.stop()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _tail(log: Path) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-5:]) or "(empty log)"
    except OSError:
        return "(no log)"
