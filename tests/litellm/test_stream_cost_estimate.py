"""LiteLLM prices this provider's streams under one ``cerebras-adapters/`` prefix, with its bundled tokenizer.

When ``completion(..., stream=True)`` returns, LiteLLM prices the stream before any chunk (a token count of the empty
output). Before (issue 9) it priced ``cerebras-adapters/llama-3.3-70b`` as ``cerebras-adapters/cerebras-adapters/
llama-3.3-70b`` and, for any name containing ``llama-3``, tried to download the Llama 3 tokenizer from the Hugging Face
Hub: offline, about 20 s of retries per streamed call, then "Falling back to tiktoken for ...". pytest-socket blocks
the download, but huggingface_hub swallows the error and retries, so the ``outside`` probe records every name lookup
and connection that is not loopback and the tests assert on it (docs/api-facts.md#litellm-stream-cost-estimate).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import litellm
import litellm.cost_calculator as cost_calculator
import litellm.litellm_core_utils.litellm_logging as litellm_logging
import litellm.utils as litellm_utils
import pytest
from litellm.integrations.custom_logger import CustomLogger
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import GenericStreamingChunk

from cerebras_adapters import default_catalog
from cerebras_adapters.litellm import unregister
from cerebras_adapters.testing import EmulatorServer

from ..network_probe import record_outside
from .conftest import HELLO, KEY, PROVIDER

# llama-3.3-70b is the catalog's one id containing "llama-3" (the names LiteLLM picks a Hugging Face tokenizer for);
# the emulator still serves it, and the client warns that Cerebras retired it.
MODELS = ["llama-3.3-70b", "gpt-oss-120b"]
DOUBLED = f"{PROVIDER}/{PROVIDER}/"
_CANDIDATE_KEYS_DUMP = "checking potential_model_names in litellm.model_cost"

pytestmark = pytest.mark.filterwarnings("ignore:llama-3.3-70b was retired:UserWarning")


@pytest.fixture
def outside(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host a name lookup or a connection went to that is not loopback, even when the caller swallowed the
    error pytest-socket raised."""
    return record_outside(monkeypatch)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def everything_said(capfd: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    """All that was logged at DEBUG and up (LiteLLM's logger and the root logger) or written to stdout/stderr during
    the test. LiteLLM's own console handler is set aside meanwhile: at DEBUG it would also print the records of
    LiteLLM's logging threads, outside any test's capture."""
    records = _Records()
    root, litellm_logger = logging.getLogger(), logging.getLogger("LiteLLM")
    root_level, litellm_level, litellm_handlers = root.level, litellm_logger.level, litellm_logger.handlers
    root.addHandler(records)
    litellm_logger.handlers = [records]
    root.setLevel(logging.DEBUG)
    litellm_logger.setLevel(logging.DEBUG)
    capfd.readouterr()
    try:
        yield lambda: "\n".join([*records.messages, *capfd.readouterr()])
    finally:
        litellm_logger.setLevel(litellm_level)
        root.setLevel(root_level)
        litellm_logger.handlers = litellm_handlers
        root.removeHandler(records)


class _Costs(CustomLogger):
    """The ``response_cost`` LiteLLM hands its success callbacks (sync or async, whichever it calls)."""

    def __init__(self) -> None:
        super().__init__()
        self.costs: list[float] = []

    def log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self.costs.append(kwargs["response_cost"])

    async def async_log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self.costs.append(kwargs["response_cost"])


_CALLBACK_LISTS = (
    "callbacks",
    "input_callback",
    "success_callback",
    "failure_callback",
    "service_callback",
    "_async_input_callback",
    "_async_success_callback",
    "_async_failure_callback",
)


def _wait_for(costs: list[float]) -> None:
    deadline = time.monotonic() + 10
    while not costs and time.monotonic() < deadline:  # LiteLLM logs from a worker thread or a task
        time.sleep(0.01)


def stream(emulator: EmulatorServer, model: str, mode: str, costs: _Costs | None = None) -> tuple[Any, list[Any]]:
    """One streamed call, drained: LiteLLM's stream object and its chunks (after the success callbacks ran)."""
    args = {"model": model, "messages": HELLO, "api_base": emulator.base_url, "api_key": KEY, "stream": True}
    if mode == "sync":
        response = litellm.completion(**args)
        chunks = list(response)
    else:

        async def drain() -> tuple[Any, list[Any]]:
            response = await litellm.acompletion(**args)
            chunks = [chunk async for chunk in response]
            deadline = time.monotonic() + 10
            while costs is not None and not costs.costs and time.monotonic() < deadline:
                await asyncio.sleep(0.01)  # the async success callbacks run as tasks of this loop
            return response, chunks

        response, chunks = asyncio.run(drain())
    if costs is not None:
        _wait_for(costs.costs)
    return response, chunks


def _price(model: str, usage: Any) -> float:
    info = default_catalog().get(model)
    assert info is not None and info.input_price is not None and info.output_price is not None
    return (usage.prompt_tokens * info.input_price + usage.completion_tokens * info.output_price) / 1_000_000


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# -- our streams --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_a_stream_is_never_named_with_the_provider_prefix_twice(
    cerebras_emulator: EmulatorServer, everything_said: Callable[[], str], mode: str, model: str
) -> None:
    stream(cerebras_emulator, f"{PROVIDER}/{model}", mode)

    said = everything_said()
    # LiteLLM 1.106's get_model_info logs (DEBUG) the keys it tries, "<p>/<p>/<id>" among them for every provider,
    # built-in ones too: not a name it prices under.
    lines = [line for line in said.splitlines() if _CANDIDATE_KEYS_DUMP not in line]
    assert [line for line in lines if DOUBLED in line] == []
    assert f"selected model name for cost calculation: {PROVIDER}/{model}" in said  # the priced name, at DEBUG


@pytest.mark.parametrize("model", MODELS)
def test_a_stream_tries_no_network_for_a_tokenizer(
    cerebras_emulator: EmulatorServer, outside: list[str], everything_said: Callable[[], str], mode: str, model: str
) -> None:
    _, chunks = stream(cerebras_emulator, f"{PROVIDER}/{model}", mode)

    assert chunks
    assert outside == []
    assert "Falling back to tiktoken" not in everything_said()


@pytest.mark.parametrize("model", MODELS)
def test_a_stream_costs_the_catalog_price_of_its_usage(
    cerebras_emulator: EmulatorServer, mode: str, model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    costs = _Costs()
    # LiteLLM copies a logger from `callbacks` into its other callback lists (one per class) and sets its callbacks up
    # once per process (utils.callback_list): this test gets empty lists and a fresh setup, and leaves neither behind.
    for name in _CALLBACK_LISTS:
        monkeypatch.setattr(litellm, name, [])
    monkeypatch.setattr(litellm_utils, "callback_list", [])
    litellm.callbacks.append(costs)
    response, chunks = stream(cerebras_emulator, f"{PROVIDER}/{model}", mode, costs)
    assembled = litellm.stream_chunk_builder(chunks)
    assert assembled is not None
    expected = _price(model, assembled.usage)

    assert assembled.usage.prompt_tokens > 0 and expected > 0
    assert litellm.completion_cost(completion_response=assembled) == pytest.approx(expected)
    assert costs.costs == [pytest.approx(expected)]
    # The estimate made before any chunk counts the empty output: nothing, before and after the fix.
    assert response._hidden_params["response_cost"] == 0.0


def test_our_llama_3_name_is_counted_with_litellms_bundled_tiktoken(outside: list[str]) -> None:
    text = "Why is the sky blue? Answer in one sentence."
    ours = litellm.token_counter(model=f"{PROVIDER}/llama-3.3-70b", text=text)

    assert outside == []
    assert ours == len(litellm_utils.get_default_encoding().encode(text))  # cl100k_base, shipped with LiteLLM


@pytest.mark.parametrize("module", [cost_calculator, litellm_logging], ids=lambda module: module.__name__)
def test_every_importer_of_the_name_choice_prices_our_names_under_one_prefix(module: Any) -> None:
    chosen = module.select_model_name_for_cost_calc(
        model=f"{PROVIDER}/llama-3.3-70b", completion_response=None, custom_llm_provider=PROVIDER
    )

    assert chosen == f"{PROVIDER}/llama-3.3-70b"


# -- other providers: unchanged -----------------------------------------------------------------------------------


class _EchoStream(CustomLLM):
    """Another custom provider: streams "ok" with usage."""

    def _chunks(self) -> Iterator[GenericStreamingChunk]:
        yield {
            "text": "ok",
            "tool_use": None,
            "is_finished": True,
            "finish_reason": "stop",
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
            "index": 0,
        }

    def streaming(self, *args: Any, **kwargs: Any) -> Iterator[GenericStreamingChunk]:
        return self._chunks()

    async def astreaming(self, *args: Any, **kwargs: Any) -> Any:
        for chunk in self._chunks():
            yield chunk


@pytest.fixture
def echo_llm() -> Iterator[str]:
    litellm.custom_provider_map = [
        *litellm.custom_provider_map,
        {"provider": "echo-llm", "custom_handler": _EchoStream()},
    ]
    try:
        yield "echo-llm"
    finally:
        unregister("echo-llm")


@pytest.fixture
def hugging_face_tokenizers_asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names LiteLLM looks a Hugging Face tokenizer up for; the lookup answers "none" (no download)."""
    asked: list[str] = []

    def none_for(model: str) -> None:
        asked.append(model)

    monkeypatch.setattr(litellm_utils, "_return_huggingface_tokenizer", none_for)
    return asked


def test_another_custom_providers_llama_3_stream_still_gets_litellms_tokenizer_choice(
    cerebras_emulator: EmulatorServer, echo_llm: str, hugging_face_tokenizers_asked: list[str], mode: str
) -> None:
    stream(cerebras_emulator, f"{echo_llm}/llama-3-echo", mode)
    stream(cerebras_emulator, f"{PROVIDER}/llama-3.3-70b", mode)

    assert [name for name in hugging_face_tokenizers_asked if "llama-3-echo" in name]
    assert not [name for name in hugging_face_tokenizers_asked if "llama-3.3-70b" in name]


@pytest.mark.parametrize(
    ("model", "provider"),
    [("echo-llm/llama-3-echo", "echo-llm"), ("llama-3-echo", "echo-llm"), ("cerebras/llama-3.3-70b", "cerebras")],
)
def test_other_providers_names_are_priced_under_the_name_litellm_chooses(
    echo_llm: str, monkeypatch: pytest.MonkeyPatch, model: str, provider: str
) -> None:
    def choose() -> str | None:
        chosen: str | None = cost_calculator.select_model_name_for_cost_calc(
            model=model, completion_response=None, custom_llm_provider=provider
        )
        return chosen

    with_provider_registered = choose()
    litellms_own = cost_calculator._model_contains_known_llm_provider.__cerebras_adapters_wraps__
    monkeypatch.setattr(cost_calculator, "_model_contains_known_llm_provider", litellms_own)

    assert with_provider_registered == choose()
