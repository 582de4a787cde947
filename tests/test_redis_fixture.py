"""The test session's real redis-server: it answers, and a test can take it away and bring it back."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis

from tests.redis_server import MISSING, RedisServer, RedisUnavailable


def test_the_server_answers_on_a_loopback_url(redis_server):
    assert redis_server.startswith("redis://127.0.0.1:") and redis_server.endswith("/0")
    key = f"test:{uuid.uuid4()}"
    with redis.Redis.from_url(redis_server) as client:
        assert client.ping()
        client.set(key, "1", ex=60)
        assert client.get(key) == b"1"
        assert client.config_get("appendonly") == {"appendonly": "no"}
        assert client.config_get("save") == {"save": ""}


@pytest.mark.parametrize("kill", [False, True], ids=["shutdown", "crash"])
def test_a_stopped_server_refuses_connections_and_comes_back_on_the_same_url(redis_process, redis_server, kill):
    with redis.Redis.from_url(redis_server, socket_connect_timeout=1) as client:
        with redis_process.stopped(kill=kill):
            with pytest.raises(redis.ConnectionError):
                client.ping()
        # The same client, the same URL: redis-py reconnects to the restarted server.
        assert client.ping()
    assert redis_process.url == redis_server


def test_restart_starts_empty(redis_process, redis_server):
    key = f"test:{uuid.uuid4()}"
    with redis.Redis.from_url(redis_server) as client:
        client.set(key, "1")
        redis_process.restart()
        assert client.get(key) is None  # nothing is saved between runs


def test_a_missing_binary_fails_with_the_setup_that_installs_it():
    server = RedisServer(binary="redis-server-that-is-not-installed")
    with pytest.raises(RedisUnavailable) as missing:
        server.start()
    assert str(missing.value) == MISSING
    assert "make test" in MISSING and "scripts/ensure-redis.sh" in MISSING


def test_the_fixture_fails_and_never_skips_where_redis_server_is_missing():
    env = {**os.environ, "REDIS_SERVER": "redis-server-that-is-not-installed"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", f"{__file__}::test_restart_starts_empty"],
        cwd=Path(__file__).parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout
    assert "1 error" in run.stdout and "skipped" not in run.stdout
    assert "`make test` installs it" in run.stdout
