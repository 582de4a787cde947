"""A key pasted with its trailing newline is refused before anything is sent, on every entry point, and never shown.

It used to go out as a connection error (h11 refused the header) whose message, and the DEBUG log, held the whole key,
and it was retried twice. The core's checks are in tests/test_hardening.py; these drive the same key through
ChatCerebras and the LiteLLM provider against the emulator, which must receive nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm
import pytest

from cerebras_adapters import RequestValidationError
from cerebras_adapters.langchain import ChatCerebras
from cerebras_adapters.litellm import register
from cerebras_adapters.testing import EmulatorServer

KEY = "csk-" + "9f8e7d6c5b4a39281706f5e4d3c2b1a0"  # assembled: no secret-shaped literal in tracked files


def _requests(emulator: EmulatorServer) -> int:
    return sum(1 for r in emulator.requests if r.path.endswith("/chat/completions"))


@pytest.mark.parametrize("call", ["invoke", "stream", "ainvoke"])
def test_chat_cerebras_refuses_a_key_with_a_newline_without_showing_it(cerebras_emulator, caplog, call):
    model = ChatCerebras(model="gpt-oss-120b", api_key=KEY + "\n", base_url=cerebras_emulator.base_url)
    with caplog.at_level(logging.DEBUG), pytest.raises(RequestValidationError) as info:
        if call == "invoke":
            model.invoke("hi")
        elif call == "stream":
            list(model.stream("hi"))
        else:
            asyncio.run(model.ainvoke("hi"))
    assert info.value.param == "api_key"
    assert KEY not in str(info.value) and KEY[4:] not in repr(info.value)
    assert not any(KEY[4:] in record.getMessage() for record in caplog.records)
    assert _requests(cerebras_emulator) == 0


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_litellm_refuses_a_key_with_a_newline_without_showing_it(cerebras_emulator, caplog, mode, stream):
    register()
    args = {"model": "cerebras-adapters/gpt-oss-120b", "messages": [{"role": "user", "content": "hi"}],
            "api_base": cerebras_emulator.base_url, "api_key": KEY + "\n", "stream": stream}

    async def acall() -> None:
        response = await litellm.acompletion(**args)
        if stream:
            async for _ in response:
                pass

    with caplog.at_level(logging.DEBUG), pytest.raises(litellm.exceptions.AuthenticationError) as info:
        if mode == "sync":
            response = litellm.completion(**args)
            if stream:
                list(response)
        else:
            asyncio.run(acall())
    assert "api_key" in str(info.value) and "line break" in str(info.value)
    assert KEY[4:] not in str(info.value)
    assert not any(KEY[4:] in record.getMessage() for record in caplog.records)
    assert _requests(cerebras_emulator) == 0
