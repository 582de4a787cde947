"""Drop-in behaviour of the core client where it used to differ from the SDKs it mirrors.

* ``get_final_completion()`` finishes the stream first, wherever it is called (as the openai SDK's
  ``ChatCompletionStream.get_final_completion()`` does); a loop that stopped early is continued, not restarted;
  an error that ended the stream, or closing it before its end, is raised again with the same ``partial``.
* A 404 or an unknown-model 400 carries a ``fix``: the corrected ``base_url`` when the base URL lacks its version
  path (docs/api-facts.md#unknown-paths), the nearest catalog ids when the model is unknown
  (docs/api-facts.md#model-ids, docs/api-facts.md#openrouter-model-ids). Both are checked against the emulator
  and against the independent fault server (``tests/faultserver.py``), and through LiteLLM and LangChain.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import cerebras_adapters as ca
from cerebras_adapters import AsyncCerebrasClient, CerebrasClient, accumulate
from cerebras_adapters.errors import status_error
from tests.conftest import ChunkedBody
from tests.faultserver import Fault, FaultServer
from tests.wire import RATE_HEADERS, split_reads, sse, stream_chunks

KEY = "test-key"
# LiteLLM's TypedDicts use typing.ReadOnly, and pydantic warns when it first builds them.
LITELLM_WARNINGS = pytest.mark.filterwarnings(r"ignore:Items? .* `ReadOnly` qualifier:UserWarning")
USER = [{"role": "user", "content": "hi"}]
SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", **RATE_HEADERS}


# -- a stream driven the same way in sync and async ---------------------------------------------------------------


class Driver:
    """One client (sync or async) and its streams behind one synchronous interface; async calls run on one
    event loop that lives as long as the driver, so the async client never outlives its loop."""

    def __init__(self, mode: str, **client_kwargs: Any) -> None:
        self.mode = mode
        client_kwargs.setdefault("api_key", KEY)
        if mode == "sync":
            self.client: Any = CerebrasClient(**client_kwargs)
        else:
            self.runner = asyncio.Runner()
            self.client = self.runner.run(self._make_async(client_kwargs))

    @staticmethod
    async def _make_async(kwargs: dict[str, Any]) -> AsyncCerebrasClient:
        return AsyncCerebrasClient(**kwargs)

    def _run(self, value: Any) -> Any:
        return value if self.mode == "sync" else self.runner.run(value)

    def create(self, **kwargs: Any) -> Any:
        kwargs.setdefault("model", "gpt-oss-120b")
        kwargs.setdefault("messages", USER)
        return self._run(self.client.chat.completions.create(**kwargs))

    def take(self, stream: Any, n: int | None) -> list[Any]:
        """The next ``n`` chunks (all that are left when None), read with a ``for`` loop that breaks."""
        if self.mode == "sync":
            got = []
            for chunk in stream:
                got.append(chunk)
                if n is not None and len(got) == n:
                    break
            return got

        async def take() -> list[Any]:
            got = []
            async for chunk in stream:
                got.append(chunk)
                if n is not None and len(got) == n:
                    break
            return got

        result: list[Any] = self.runner.run(take())
        return result

    def final(self, stream: Any) -> ca.ChatCompletion:
        result: ca.ChatCompletion = self._run(stream.get_final_completion())
        return result

    def close_stream(self, stream: Any) -> None:
        self._run(stream.close())

    def in_with_block(self, stream: Any, then: str) -> ca.ChatCompletion | None:
        """Enter ``with stream``; inside, either take the final completion or read one chunk; leave the block."""
        if self.mode == "sync":
            with stream:
                if then == "final":
                    return stream.get_final_completion()
                next(iter(stream))
                return None

        async def block() -> ca.ChatCompletion | None:
            async with stream:
                if then == "final":
                    return await stream.get_final_completion()
                await stream.__anext__()
                return None

        result: ca.ChatCompletion | None = self.runner.run(block())
        return result

    def close(self) -> None:
        if self.mode == "sync":
            self.client.close()
        else:
            self.runner.run(self.client.close())
            self.runner.close()


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def driver(mode: str, cerebras_emulator: Any) -> Iterator[Driver]:
    d = Driver(mode, base_url=cerebras_emulator.base_url, max_retries=0)
    yield d
    d.close()


def whole_answer(driver: Driver) -> tuple[list[Any], ca.ChatCompletion]:
    """A stream read to its end by a plain loop, and the completion its chunks assemble into."""
    chunks = driver.take(driver.create(stream=True), None)
    return chunks, accumulate(chunks)


def deltas(chunks: list[Any]) -> list[Any]:
    """What chunks say, without what differs between two calls (ids, timestamps)."""
    return [[choice.model_dump() for choice in c.choices] for c in chunks]


def same_answer(got: ca.ChatCompletion, expected: ca.ChatCompletion) -> None:
    assert got.choices and got.choices[0].finish_reason == "stop"
    assert got.choices[0].message.content == expected.choices[0].message.content
    assert got.choices[0].message.reasoning == expected.choices[0].message.reasoning
    assert got.usage == expected.usage


# -- item 13: get_final_completion() finishes the stream ----------------------------------------------------------


def test_get_final_completion_before_iterating_reads_the_whole_stream(driver):
    _, expected = whole_answer(driver)
    stream = driver.create(stream=True)
    final = driver.final(stream)
    same_answer(final, expected)
    assert final.choices[0].message.content  # not the empty "choices == []" of a stream not read yet


def test_get_final_completion_part_way_keeps_the_chunks_read_and_reads_the_rest(driver):
    chunks, expected = whole_answer(driver)
    stream = driver.create(stream=True)
    first = driver.take(stream, 2)
    final = driver.final(stream)
    same_answer(final, expected)
    assert deltas(stream.chunks) == deltas(chunks)
    assert deltas(first) == deltas(chunks[:2])


def test_a_loop_after_a_break_continues_where_the_first_one_stopped(driver):
    chunks, _ = whole_answer(driver)
    stream = driver.create(stream=True)
    first = driver.take(stream, 3)
    rest = driver.take(stream, None)
    assert len(first) + len(rest) == len(chunks)
    assert deltas(first + rest) == deltas(chunks)


@pytest.mark.parametrize("read_size", [1, 7])
def test_an_event_split_across_reads_survives_a_break_between_loops(mode, read_size):
    # Events do not align with network reads (docs/api-facts.md#streaming); a second loop must continue the first
    # one's SSE decoder, not start a new one that has lost the half event already read.
    body = sse(stream_chunks(content=["a", "b", "c", "d"]))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE_HEADERS, stream=ChunkedBody(split_reads(body, read_size)))

    http = (httpx.Client if mode == "sync" else httpx.AsyncClient)(transport=httpx.MockTransport(handler))
    d = Driver(mode, http_client=http)
    try:
        stream = d.create(stream=True)
        first = d.take(stream, 2)
        rest = d.take(stream, None)
        assert len(first) + len(rest) == 6
        assert accumulate(first + rest).choices[0].message.content == "abcd"
    finally:
        d.close()


def test_get_final_completion_twice_returns_the_same_answer(driver):
    stream = driver.create(stream=True)
    once = driver.final(stream)
    twice = driver.final(stream)
    assert once.model_dump() == twice.model_dump()
    assert once.choices[0].message.content


def test_get_final_completion_inside_a_with_block(driver):
    _, expected = whole_answer(driver)
    final = driver.in_with_block(driver.create(stream=True), "final")
    assert final is not None
    same_answer(final, expected)


def test_get_final_completion_after_the_with_block_of_a_stream_read_to_its_end(driver):
    _, expected = whole_answer(driver)
    stream = driver.create(stream=True)
    assert driver.in_with_block(stream, "final") is not None
    same_answer(driver.final(stream), expected)  # closed only after its end: still the whole answer


@pytest.mark.parametrize("how", ["close", "with"])
def test_closing_part_way_makes_get_final_completion_raise_with_the_partial(driver, how):
    stream = driver.create(stream=True)
    if how == "close":
        read = driver.take(stream, 1)
        driver.close_stream(stream)
    else:
        driver.in_with_block(stream, "one chunk")
        read = stream.chunks
    assert len(read) == 1
    with pytest.raises(ca.StreamInterruptedError, match="closed") as info:
        driver.final(stream)
    assert info.value.partial is not None
    assert info.value.partial.model_dump() == accumulate(read).model_dump()


def test_iterating_after_close_part_way_raises_stream_interrupted_not_an_httpx_error(driver):
    stream = driver.create(stream=True)
    driver.take(stream, 2)
    driver.close_stream(stream)
    with pytest.raises(ca.StreamInterruptedError, match=r"was closed .* before its end") as info:
        driver.take(stream, None)
    assert info.value.partial is not None and info.value.partial.choices


def test_closing_before_any_read_makes_get_final_completion_raise(driver):
    stream = driver.create(stream=True)
    driver.close_stream(stream)
    with pytest.raises(ca.StreamInterruptedError, match="closed") as info:
        driver.final(stream)
    assert info.value.partial is None  # nothing had arrived


@pytest.mark.parametrize(
    ("fault", "error"),
    [("drop-mid-stream", ca.StreamInterruptedError), ("mid-stream-error", ca.APIStatusError)],
)
def test_a_mid_stream_failure_is_raised_by_get_final_completion_with_the_partial(driver, cerebras_emulator, fault,
                                                                                  error):
    cerebras_emulator.fail_next(1, fault)
    stream = driver.create(stream=True)
    with pytest.raises(error) as first:
        driver.final(stream)
    assert first.value.partial is not None and first.value.partial.choices
    # Asking again does not turn the cut answer into a whole one: the same error, the same partial.
    with pytest.raises(error) as again:
        driver.final(stream)
    assert again.value is first.value


def test_a_mid_stream_failure_after_a_partial_read_is_raised_by_get_final_completion(driver, cerebras_emulator):
    cerebras_emulator.fail_next(1, "drop-mid-stream")
    stream = driver.create(stream=True)
    read = driver.take(stream, 1)
    with pytest.raises(ca.StreamInterruptedError) as info:
        driver.final(stream)
    assert info.value.partial is not None
    assert len(stream.chunks) >= len(read)


def test_openrouter_served_elsewhere_late_in_the_stream_raises_routing_error_from_get_final_completion(mode):
    # An independent server: OpenRouter's stream whose last chunk says another provider served it.
    with FaultServer([Fault.openrouter(wrong_provider_on="last", chunks=4)]) as server:
        d = Driver(mode, base_url=f"{server.url}/api/v1", route="openrouter", max_retries=0)
        try:
            stream = d.create(stream=True)
            with pytest.raises(ca.RoutingError) as info:
                d.final(stream)
            assert info.value.provider == "Groq"
            assert info.value.partial is not None and info.value.partial.choices[0].message.content
        finally:
            d.close()


# -- item 14: 404s and unknown models carry a fix ----------------------------------------------------------------


def call_error(base_url: str, *, mode: str = "sync", **kwargs: Any) -> ca.APIError:
    client_kwargs = {"base_url": base_url, "max_retries": 0}
    if "route" in kwargs:
        client_kwargs["route"] = kwargs.pop("route")
    d = Driver(mode, **client_kwargs)
    try:
        with pytest.raises(ca.APIError) as info:
            d.create(**kwargs)
        return info.value
    finally:
        d.close()


def test_the_emulator_answers_a_path_outside_the_api_with_a_404_without_an_error_object(cerebras_emulator):
    # docs/api-facts.md#unknown-paths: a 404 whose body has no "error" object (what openai-node shows as "no body").
    response = httpx.post(f"{cerebras_emulator.url}/chat/completions", json={"model": "gpt-oss-120b"})
    assert response.status_code == 404
    assert "error" not in (response.json() if response.content else {})


def test_the_fault_server_answers_a_path_outside_the_api_with_an_empty_404():
    with FaultServer([Fault.ok()], only_api_paths=True) as server:
        response = httpx.post(f"{server.url}/chat/completions", json={"model": "gpt-oss-120b"})
        assert (response.status_code, response.content) == (404, b"")
        ok = httpx.post(f"{server.url}/v1/chat/completions", json={"model": "gpt-oss-120b"})
        assert ok.status_code == 200  # the script was not used up by the stray request


@pytest.mark.parametrize("stream", [False, True])
def test_a_base_url_without_v1_gets_a_404_whose_fix_adds_v1_emulator(mode, cerebras_emulator, stream):
    exc = call_error(cerebras_emulator.url, mode=mode, stream=stream)
    assert isinstance(exc, ca.NotFoundError)
    assert exc.fix is not None and f"use base_url='{cerebras_emulator.url}/v1'" in exc.fix
    assert f"Fix: {exc.fix}" in str(exc)


@pytest.mark.parametrize("stream", [False, True])
def test_a_base_url_without_v1_gets_a_404_whose_fix_adds_v1_fault_server(mode, stream):
    with FaultServer([Fault.ok()], only_api_paths=True) as server:
        exc = call_error(server.url, mode=mode, stream=stream)
        assert isinstance(exc, ca.NotFoundError)
        assert exc.fix is not None and f"use base_url='{server.url}/v1'" in exc.fix
        assert [r.target for r in server.requests] == ["/chat/completions"]


def test_an_openrouter_base_url_without_its_version_path_gets_api_v1_added(cerebras_emulator):
    for base, fixed in [(cerebras_emulator.url, f"{cerebras_emulator.url}/api/v1"),
                        (f"{cerebras_emulator.url}/api", f"{cerebras_emulator.url}/api/v1")]:
        exc = call_error(base, route="openrouter", model="openai/gpt-oss-120b")
        assert isinstance(exc, ca.NotFoundError)
        assert exc.fix is not None and f"use base_url={fixed!r}" in exc.fix


def test_a_base_url_that_already_ends_with_the_endpoint_gets_it_removed(cerebras_emulator):
    base = f"{cerebras_emulator.base_url}/chat/completions"
    exc = call_error(base)
    assert isinstance(exc, ca.NotFoundError)
    assert exc.fix is not None and f"use base_url={cerebras_emulator.base_url!r}" in exc.fix


def test_a_404_on_a_base_url_with_v1_guesses_no_fix(cerebras_emulator):
    # Not the likely cause, so no guess: the path has a version segment and the 404 is not about the model.
    exc = call_error(f"{cerebras_emulator.base_url}/somewhere")
    assert isinstance(exc, ca.NotFoundError)
    assert exc.fix is None
    assert "Fix:" not in str(exc)


def test_a_base_url_fix_never_shows_credentials(cerebras_emulator):
    host = cerebras_emulator.url.removeprefix("http://")
    exc = call_error(f"http://user:hunter2@{host}")
    assert exc.fix is not None and "hunter2" not in exc.fix and "hunter2" not in str(exc)


@pytest.mark.parametrize(("model", "fix"), [
    ("gpt-oss-12b", "use one of: 'gpt-oss-120b'"),
    ("gemma-4-3b", "use one of: 'gemma-4-31b'"),
])
def test_an_unknown_model_404_suggests_the_nearest_catalog_ids_emulator(mode, cerebras_emulator, model, fix):
    exc = call_error(cerebras_emulator.base_url, mode=mode, model=model)
    assert isinstance(exc, ca.NotFoundError) and exc.code == "model_not_found"
    assert exc.fix == fix
    assert str(exc).endswith(f"Fix: {fix}")


def test_an_unknown_model_with_no_close_id_lists_the_served_catalog_ids(cerebras_emulator):
    # RT-09's model id, "invalid model": nothing is close, so every id not retired is offered, current ones first.
    exc = call_error(cerebras_emulator.base_url, model="invalid model")
    assert isinstance(exc, ca.NotFoundError)
    served = [m for m in ca.default_catalog() if m.status != "retired"]
    assert exc.fix is not None and exc.fix.startswith("use one of: 'gpt-oss-120b', ")
    assert all(repr(m.id) in exc.fix for m in served)
    assert all(repr(m.id) not in exc.fix for m in ca.default_catalog() if m.status == "retired")


def test_an_unknown_model_404_from_the_fault_server_suggests_the_nearest_id():
    with FaultServer([Fault.status(404)]) as server:  # RT-09's flat body, from a server we did not write
        exc = call_error(f"{server.url}/v1", model="gpt-oss-120")
        assert isinstance(exc, ca.NotFoundError)
        assert exc.fix == "use one of: 'gpt-oss-120b'"


def test_an_unknown_model_on_openrouter_suggests_openrouter_ids(cerebras_emulator):
    # OpenRouter answers an unknown id with a 400 "is not a valid model ID" (docs/api-facts.md#openrouter-model-ids).
    exc = call_error(cerebras_emulator.openrouter_base_url, route="openrouter", model="openai/gpt-oss-12b")
    assert isinstance(exc, ca.BadRequestError)
    assert exc.fix == "use one of: 'openai/gpt-oss-120b'"


def test_a_400_about_what_a_model_cannot_do_gets_no_model_suggestion():
    body = {"message": "Model gpt-oss-120b does not support images", "type": "invalid_request_error",
            "param": "model", "code": "wrong_api_format"}
    exc = status_error(400, body, model="gpt-oss-120b", known_models=["gpt-oss-120b", "gemma-4-31b"])
    assert exc.fix is None


def test_a_model_in_the_catalog_that_404s_points_at_the_keys_access():
    body = {"message": "Model gemma-4-31b does not exist or you do not have access to it.",
            "type": "not_found_error", "param": "model", "code": "model_not_found"}
    exc = status_error(404, body, model="gemma-4-31b", known_models=["gpt-oss-120b", "gemma-4-31b"])
    assert exc.fix is not None
    assert exc.fix.startswith("check that your key has access to 'gemma-4-31b'")
    assert exc.fix.endswith("use one of: 'gpt-oss-120b'")


def test_a_web_framework_404_body_gives_its_detail_as_the_message():
    exc = status_error(404, {"detail": "Not Found"}, base_url="https://proxy.example")
    assert exc.message == "Not Found"
    assert exc.fix == ("base_url 'https://proxy.example' has no version path (the API is served under '/v1'): "
                       "use base_url='https://proxy.example/v1'")


# -- the fix through the frameworks -------------------------------------------------------------------------------


@LITELLM_WARNINGS
def test_litellm_carries_the_fix_of_an_unknown_model(cerebras_emulator):
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before LiteLLM is imported
    litellm = pytest.importorskip("litellm")
    from cerebras_adapters.litellm import register

    register()
    with pytest.raises(litellm.NotFoundError) as info:
        litellm.completion(model="cerebras-adapters/gpt-oss-12b", messages=USER, api_base=cerebras_emulator.base_url,
                           api_key=KEY, max_retries=0)
    assert "Fix: use one of: 'gpt-oss-120b'" in str(info.value)


@LITELLM_WARNINGS
def test_litellm_carries_the_fix_of_a_base_url_without_v1(cerebras_emulator):
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    litellm = pytest.importorskip("litellm")
    from cerebras_adapters.litellm import register

    register()
    with pytest.raises(litellm.NotFoundError) as info:
        litellm.completion(model="cerebras-adapters/gpt-oss-120b", messages=USER, api_base=cerebras_emulator.url,
                           api_key=KEY, max_retries=0)
    assert f"use base_url='{cerebras_emulator.url}/v1'" in str(info.value)


def test_langchain_carries_the_fix_of_an_unknown_model_and_of_a_base_url_without_v1(cerebras_emulator):
    pytest.importorskip("langchain_core")
    from cerebras_adapters.langchain import ChatCerebras

    model = ChatCerebras(model="gpt-oss-12b", base_url=cerebras_emulator.base_url, api_key=KEY, max_retries=0)
    with pytest.raises(ca.NotFoundError) as info:
        model.invoke("hi")
    assert info.value.fix == "use one of: 'gpt-oss-120b'"

    model = ChatCerebras(model="gpt-oss-120b", base_url=cerebras_emulator.url, api_key=KEY, max_retries=0)
    with pytest.raises(ca.NotFoundError) as info:
        list(model.stream("hi"))
    assert info.value.fix is not None and f"use base_url='{cerebras_emulator.url}/v1'" in info.value.fix
