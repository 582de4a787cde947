"""Migration check: llama-index-llms-cerebras's own tests, re-expressed against our ``Cerebras`` LLM.

The peer's suite (run-llama/llama_index, llama-index-integrations/llms/llama-index-llms-cerebras/tests) has two
files: unit checks (the class is a LlamaIndex ``BaseLLM``; ``max_completion_tokens`` is sent as given, not turned
into ``max_tokens``; ``reasoning_effort`` is forwarded, ``"none"`` on gemma included) and live checks (a one-word
``complete``; a ``stream_complete`` whose deltas hold the sum). Each is repeated here on our class, the live ones
against the contract emulator scripted with the answers the peer expects. The peer reads its request parameters
from a private method (``_get_model_kwargs``); we check the wire body the emulator received instead.

What differs, and why, is in docs/migrating.md ("From llama-index-llms-cerebras"); the differences that can be
observed offline are checked at the end against the installed peer.
"""

from __future__ import annotations

import importlib.metadata

import pytest
from llama_index.core.base.llms.base import BaseLLM
from llama_index.core.llms import ChatMessage

import cerebras_adapters as ca
from cerebras_adapters.llama_index import Cerebras
from tests.llama_index.helpers import KEY, chat_bodies

SCRIPT = [
    {"match": r"what color is the sky", "reply": "Blue."},
    {"match": r"123 \+ 456", "reply": "Once upon a time three little pigs counted 579 bricks."},
]


@pytest.fixture
def scripted(cerebras_emulator, monkeypatch):
    """The emulator answering the peer's live prompts, and the environment the peer's tests rely on."""
    cerebras_emulator.configure(scenarios=SCRIPT)
    monkeypatch.setenv("CEREBRAS_API_KEY", KEY)
    monkeypatch.setenv("CEREBRAS_BASE_URL", cerebras_emulator.base_url)
    return cerebras_emulator


# -- test_llms_cerebras.py ------------------------------------------------------------------------------------


def test_the_class_is_a_llama_index_llm():
    assert BaseLLM in Cerebras.__mro__


def test_max_completion_tokens_is_sent_as_max_completion_tokens(scripted):
    Cerebras(model="gpt-oss-120b", max_completion_tokens=64).complete("hi")
    body = chat_bodies(scripted)[-1]
    assert body["max_completion_tokens"] == 64 and "max_tokens" not in body


def test_max_tokens_is_sent_as_its_successor(scripted):
    Cerebras(model="gpt-oss-120b", max_tokens=32).complete("hi")
    body = chat_bodies(scripted)[-1]
    assert body["max_completion_tokens"] == 32 and "max_tokens" not in body


def test_both_max_tokens_and_max_completion_tokens_is_a_clear_error():
    # The peer's check passes both and expects max_completion_tokens to win; the API rejects both, and the core
    # says so before sending, naming the parameter (docs/migrating.md).
    with pytest.raises(ca.RequestValidationError, match="not both") as info:
        Cerebras(model="gpt-oss-120b", api_key=KEY, max_tokens=32, max_completion_tokens=64)
    assert info.value.param == "max_tokens"


def test_reasoning_effort_is_forwarded_none_on_gemma_included(scripted):
    Cerebras(model="gemma-4-31b", reasoning_effort="none").complete("hi")
    assert chat_bodies(scripted)[-1]["reasoning_effort"] == "none"


# -- test_integration_cerebras.py (live in the peer; on the scripted emulator here) ---------------------------


def test_completion(scripted):
    response = Cerebras(model="gpt-oss-120b").complete("What color is the sky? Answer in one word.")
    assert response.text == "Blue."


def test_stream_completion(scripted):
    stream = Cerebras(model="gpt-oss-120b").stream_complete(
        "What is 123 + 456? Embed the answer in the stories of the three little pigs"
    )
    assert "579" in "".join(chunk.delta for chunk in stream)


# -- the same constructor arguments ---------------------------------------------------------------------------


def test_the_peers_constructor_arguments_are_accepted(scripted):
    llm = Cerebras("gpt-oss-120b", api_key=KEY, api_base=scripted.base_url, is_chat_model=True, context_window=8192,
                   is_function_calling_model=True, max_retries=1, timeout=30.0, additional_kwargs={"seed": 1})
    assert llm.complete("What color is the sky? Answer in one word.").text == "Blue."
    assert llm.metadata.context_window == 8192 and chat_bodies(scripted)[-1]["seed"] == 1


# -- what differs from the installed peer (docs/migrating.md) -------------------------------------------------

PEER_VERSION = "0.5.0"


@pytest.fixture
def peer(scripted):
    pytest.importorskip("llama_index.llms.cerebras")
    if importlib.metadata.version("llama-index-llms-cerebras") != PEER_VERSION:
        pytest.skip(f"docs/migrating.md describes llama-index-llms-cerebras {PEER_VERSION}")
    # The peer reads CEREBRAS_BASE_URL into a default argument when its module runs: a module imported earlier in
    # the session (the LlamaIndex benchmark's smoke test imports it) would send these tests to the real API.
    base = importlib.reload(importlib.import_module("llama_index.llms.cerebras.base"))
    return base.Cerebras


def test_the_peer_passes_the_same_live_checks(peer, scripted):
    assert peer(model="gpt-oss-120b").complete("What color is the sky? Answer in one word.").text == "Blue."


def test_the_peer_knows_no_model_facts(peer):
    ours, theirs = Cerebras(model="gpt-oss-120b", api_key=KEY).metadata, peer(model="gpt-oss-120b").metadata
    assert (theirs.context_window, theirs.is_function_calling_model) == (3900, False)
    assert (ours.context_window, ours.is_function_calling_model) == (131072, True)


def test_the_peer_drops_reasoning_effort_and_max_completion_tokens_and_sends_a_temperature(peer, scripted):
    peer(model="gemma-4-31b", reasoning_effort="none", max_completion_tokens=64).complete("hi")
    theirs = chat_bodies(scripted)[-1]
    assert "reasoning_effort" not in theirs and "max_completion_tokens" not in theirs
    assert theirs["temperature"] == 0.1
    Cerebras(model="gemma-4-31b", reasoning_effort="none", max_completion_tokens=64).complete("hi")
    ours = chat_bodies(scripted)[-1]
    assert (ours["reasoning_effort"], ours["max_completion_tokens"]) == ("none", 64) and "temperature" not in ours


def test_the_peer_replays_no_reasoning_and_surfaces_no_extras(peer, scripted):
    history = [ChatMessage(role="user", content="What is 2+2?")]
    theirs = peer(model="gpt-oss-120b").chat(history)
    assert set(theirs.additional_kwargs) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    peer(model="gpt-oss-120b").chat([*history, theirs.message, ChatMessage(role="user", content="hi")])
    assert "reasoning" not in chat_bodies(scripted)[-1]["messages"][1]
    ours = Cerebras(model="gpt-oss-120b").chat(history)
    assert {"time_info", "rate_limits", "request_id", "reasoning_tokens"} <= set(ours.additional_kwargs)
    Cerebras(model="gpt-oss-120b").chat([*history, ours.message, ChatMessage(role="user", content="hi")])
    assert chat_bodies(scripted)[-1]["messages"][1]["reasoning"] == ours.message.additional_kwargs["reasoning_content"]


def test_the_peer_raises_the_openai_sdks_errors_and_we_raise_ours(peer, scripted):
    import openai

    with pytest.raises(openai.AuthenticationError):
        peer(model="gpt-oss-120b", api_key="csk-" + "invalid", max_retries=0).complete("hi")
    with pytest.raises(ca.AuthenticationError):
        Cerebras(model="gpt-oss-120b", api_key="csk-" + "invalid", max_retries=0).complete("hi")
