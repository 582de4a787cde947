"""The cassettes themselves: scrubbed, labelled with their provenance, replayable from anywhere offline."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import vcr
from vcr.errors import CannotOverwriteExistingCassetteException

from cerebras_adapters import APIConnectionError, CerebrasClient
from tests import recording

ALL = sorted(p for p in recording.CASSETTES.rglob("*.yaml"))
SECRETS = re.compile(r"csk-[A-Za-z0-9]{8,}|sk-or-[A-Za-z0-9-]{8,}|Bearer (?!PLACEHOLDER)[A-Za-z0-9_.-]{8,}|set-cookie",
                     re.IGNORECASE)


def test_there_are_cassettes_to_check():
    assert len(ALL) >= 12


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(recording.CASSETTES)))
def test_cassette_holds_no_secret(path: Path):
    found = SECRETS.findall(path.read_text())
    assert found == []


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(recording.CASSETTES)))
def test_cassette_says_where_it_was_recorded(path: Path):
    assert path.relative_to(recording.CASSETTES).parts[0] in ("live", "emulator")


# Secret-shaped test values are assembled at run time so that no tracked file holds one (the before-stop check
# greps the tree for them).
FAKE_KEY = "csk" + "-" + "abcdefgh12345678"


def test_the_secret_check_catches_a_key():
    assert SECRETS.findall(f"authorization: Bearer {FAKE_KEY}") != []
    assert SECRETS.findall("Bearer PLACEHOLDER") == []


def test_recording_scrubs_keys_cookies_and_ray_ids():
    config = recording.make_vcr_config(None)
    response = {
        "headers": {"set-cookie": ["__cf" + "_bm=abc"], "cf-ray": ["9a-SJC"], "x-request-id": ["9a-SJC"],
                    "inference-id": ["chatcmpl-1"]},
        "body": {"string": f'{{"echo": "{FAKE_KEY}"}}'.encode()},
    }
    scrubbed = config["before_record_response"](response)
    assert set(scrubbed["headers"]) == {"inference-id"}
    assert b"csk-" not in scrubbed["body"]["string"]


def test_a_missing_cassette_fails_loudly_instead_of_calling_out(tmp_path: Path):
    config = recording.make_vcr_config(None)
    assert "record_mode" not in config  # pitfall (a): the config must not override --record-mode
    recorder = vcr.VCR()
    recorder.register_matcher("json_body", recording.json_body_matcher)
    with recorder.use_cassette(str(tmp_path / "missing.yaml"), record_mode="none", **config):
        client = CerebrasClient(api_key="test-key", max_retries=0)
        with pytest.raises((CannotOverwriteExistingCassetteException, APIConnectionError)) as info:
            client.chat.completions.create(model="gpt-oss-120b", messages=[{"role": "user", "content": "hi"}])
    cause = info.value if isinstance(info.value, CannotOverwriteExistingCassetteException) else info.value.__cause__
    assert isinstance(cause, CannotOverwriteExistingCassetteException)


def test_replay_works_from_another_directory_with_every_socket_blocked(tmp_path: Path):
    repo = recording.REPO
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(repo),
         "-c", str(repo / "pyproject.toml"), "--disable-socket", "--allow-unix-socket", "--allow-hosts=",
         str(repo / "tests" / "test_recorded_flows.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "12 passed" in out.stdout


def test_replay_matches_bodies_up_to_random_uuids():
    class Req:
        def __init__(self, body: bytes) -> None:
            self.body = body

    a = Req(b'{"messages": [{"tool_call_id": "0b7c3f1e-2a4d-4c8e-9f10-1234567890ab"}]}')
    b = Req(b'{"messages": [{"tool_call_id": "f1e2d3c4-b5a6-4978-8899-aabbccddeeff"}]}')
    c = Req(b'{"messages": [{"tool_call_id": "other"}]}')
    recording.json_body_matcher(a, b)
    with pytest.raises(AssertionError):
        recording.json_body_matcher(a, c)


KEY_SHAPED = re.compile(r"csk-[A-Za-z0-9]{8,}|sk-or-[A-Za-z0-9-]{8,}")


def test_no_test_file_holds_a_key_shaped_literal():
    tests = Path(__file__).resolve().parent
    found = {str(p.relative_to(tests)): KEY_SHAPED.findall(p.read_text()) for p in sorted(tests.rglob("*.py"))}
    assert {name: keys for name, keys in found.items() if keys} == {}
