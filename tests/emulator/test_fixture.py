"""The ``cerebras_emulator`` pytest fixture, as users of the package get it through the pytest11 entry point."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.emulator._helpers import data_lines, user


def test_the_plugin_is_registered_through_the_entry_point(request):
    assert request.config.pluginmanager.has_plugin("cerebras_adapters_emulator")


def test_fixture_gives_both_base_urls(cerebras_emulator):
    assert cerebras_emulator.base_url == f"http://127.0.0.1:{cerebras_emulator.port}/v1"
    assert cerebras_emulator.openrouter_base_url.endswith(f":{cerebras_emulator.port}/api/v1")


@pytest.mark.cerebras_emulator(send_done=True, tokens_per_minute=5000)
def test_marker_sets_options_for_one_test(cerebras_emulator, client):
    response = client.post(
        "/chat/completions",
        json={"model": "llama3.1-8b", "messages": user("hi"), "stream": True, "max_completion_tokens": 100},
    )
    assert data_lines(response.text)[-1] == "[DONE]"
    assert response.headers["x-ratelimit-limit-tokens-minute"] == "5000"


def test_options_are_back_to_defaults_in_the_next_test(cerebras_emulator, client):
    response = client.post("/chat/completions", json={"model": "llama3.1-8b", "messages": user("hi"), "stream": True})
    assert data_lines(response.text)[-1] != "[DONE]"
    assert response.headers["x-ratelimit-limit-tokens-minute"] != "5000"


def test_reset_clears_faults_options_and_the_request_log(cerebras_emulator, client):
    cerebras_emulator.configure(send_done=True)
    cerebras_emulator.fail_next(3, "500")
    client.post("/chat/completions", json={"model": "llama3.1-8b", "messages": user("hi")})
    assert len(cerebras_emulator.requests) == 1
    cerebras_emulator.reset()
    assert cerebras_emulator.app.pending_faults == 0 and not cerebras_emulator.requests
    assert cerebras_emulator.app.options.send_done is False


def test_requests_record_what_the_client_sent(cerebras_emulator, client):
    client.post(
        "/chat/completions",
        json={"model": "gpt-oss-120b", "messages": user("hi"), "seed": 7},
        headers={"X-Cerebras-3rd-Party-Integration": "my-app"},
    )
    sent = cerebras_emulator.last_request
    assert sent.method == "POST" and sent.path == "/v1/chat/completions"
    assert sent.json()["seed"] == 7 and sent.headers["x-cerebras-3rd-party-integration"] == "my-app"


def test_plugin_module_imports_nothing_heavy():
    code = (
        "import sys; import cerebras_adapters.testing.pytest_plugin; "
        "print(sorted(m for m in sys.modules if m.startswith('cerebras_adapters.testing.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['cerebras_adapters.testing.pytest_plugin']"
