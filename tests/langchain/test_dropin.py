"""ChatCerebras as a drop-in for langchain-cerebras and ChatOpenAI, driven by the real LangChain v1 classes
(``create_agent``, ``init_chat_model``, ``ChatOpenAI``) against the contract emulator."""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.structured_output import ToolStrategy
from langchain.chat_models import init_chat_model
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.runnables import ConfigurableField
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, SecretStr

from cerebras_adapters import RequestValidationError, UnsupportedParameterError, ValidationWarning
from cerebras_adapters.catalog import ModelInfo, default_catalog
from cerebras_adapters.langchain import ChatCerebras
from cerebras_adapters.testing._models import find_model
from tests.http_proxy import ForwardingProxy

KEY = "test-" + "key"
# Retired catalog models are exercised too; the emulator still serves them.
pytestmark = pytest.mark.filterwarnings("ignore:.*was retired by Cerebras:UserWarning")
CATALOG = list(default_catalog())


class Weather(BaseModel):
    """The weather in a city."""

    city: str
    temperature: int


class Answer(BaseModel):
    value: int


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return "Sunny, 21 C"


def llm(emulator: Any, model: str = "gpt-oss-120b", **kwargs: Any) -> ChatCerebras:
    return ChatCerebras(model=model, api_key=KEY, base_url=emulator.base_url, **kwargs)


def chat_bodies(emulator: Any) -> list[dict[str, Any]]:
    return [r.json() for r in emulator.requests if r.path.endswith("/chat/completions")]


def served(info: ModelInfo) -> bool:
    return find_model(info.id) is not None


def catalog_params(can: Any) -> list[Any]:
    """Every catalog model, skipped where it cannot do the thing (``can``) or the emulator does not serve it."""
    params = []
    for info in CATALOG:
        marks = []
        if not can(info):
            marks.append(pytest.mark.skip(reason=f"{info.id} cannot (catalog); its profile says so"))
        elif not served(info):
            marks.append(pytest.mark.skip(reason=f"the emulator does not serve {info.id}"))
        params.append(pytest.param(info.id, marks=marks, id=info.id))
    return params


# -- 6: create_agent with response_format on every catalog model ----------------------------------------------


@pytest.mark.parametrize("info", CATALOG, ids=[m.id for m in CATALOG])
def test_profile_flags_follow_the_catalog(info):
    profile = ChatCerebras(model=info.id, api_key=KEY).profile
    assert profile is not None
    assert profile["structured_output"] is info.structured_outputs
    assert profile["tool_calling"] is info.tools
    forcing = info.tool_choice_modes is None or "required" in info.tool_choice_modes
    assert profile["tool_choice"] is (info.tools and forcing)


def test_gpt_oss_profile_says_it_cannot_be_forced_to_call_a_tool_but_has_structured_output():
    profile = ChatCerebras(model="gpt-oss-120b", api_key=KEY).profile
    assert profile["tool_choice"] is False and profile["structured_output"] is True


@pytest.mark.parametrize("model", catalog_params(lambda m: m.structured_outputs))
def test_structured_agent_without_tools_answers_with_one_json_schema_request(cerebras_emulator, model):
    agent = create_agent(llm(cerebras_emulator, model), tools=[], response_format=Weather)
    result = agent.invoke({"messages": [HumanMessage("What is the weather in Paris?")]})
    assert isinstance(result["structured_response"], Weather)
    assert result["structured_response"].city == "Paris"
    (body,) = chat_bodies(cerebras_emulator)
    assert body["response_format"]["type"] == "json_schema" and "tools" not in body and "tool_choice" not in body


@pytest.mark.parametrize("model", catalog_params(lambda m: m.structured_outputs and m.tools))
def test_structured_agent_with_tools_calls_the_tool_then_answers_in_the_schema(cerebras_emulator, model):
    agent = create_agent(llm(cerebras_emulator, model), tools=[get_weather], response_format=Weather)
    result = agent.invoke({"messages": [HumanMessage("What is the weather in Paris?")]})
    tool_results = [m.content for m in result["messages"] if isinstance(m, ToolMessage)]
    assert tool_results == ["Sunny, 21 C"]
    assert result["structured_response"] == Weather(city="Paris", temperature=21)
    bodies = chat_bodies(cerebras_emulator)
    # Tools and response_format never share a request (docs/api-facts.md#tools-and-response-format).
    assert not any("tools" in b and "response_format" in b for b in bodies)
    assert ["tools" in b for b in bodies] == [True, True, False]
    assert bodies[-1]["response_format"]["json_schema"]["name"] == "Weather"


def test_the_answer_after_the_tool_turn_counts_both_requests(cerebras_emulator):
    agent = create_agent(llm(cerebras_emulator, "gemma-4-31b"), tools=[get_weather], response_format=Weather)
    result = agent.invoke({"messages": [HumanMessage("What is the weather in Paris?")]})
    final = [m for m in result["messages"] if isinstance(m, AIMessage)][-1]
    replies = [r for r in cerebras_emulator.requests if r.path.endswith("/chat/completions")]
    assert len(replies) == 3
    # The final message's usage is that of the tool request that answered in text plus the answer request.
    assert final.usage_metadata["input_tokens"] > final.response_metadata["token_usage"]["prompt_tokens"]


def test_structured_agent_with_tools_streams_its_messages(cerebras_emulator):
    agent = create_agent(llm(cerebras_emulator), tools=[get_weather], response_format=Weather)
    streamed = list(agent.stream({"messages": [HumanMessage("What is the weather in Paris?")]},
                                 stream_mode=["messages", "values"]))
    final = [chunk for mode, chunk in streamed if mode == "values"][-1]
    assert final["structured_response"] == Weather(city="Paris", temperature=21)
    tokens = [chunk[0] for mode, chunk in streamed if mode == "messages"]  # (message chunk, metadata)
    assert any(getattr(t, "tool_call_chunks", None) for t in tokens)
    assert not any("tools" in b and "response_format" in b for b in chat_bodies(cerebras_emulator))


async def test_structured_agent_with_tools_runs_async(cerebras_emulator):
    agent = create_agent(llm(cerebras_emulator), tools=[get_weather], response_format=Weather)
    result = await agent.ainvoke({"messages": [HumanMessage("What is the weather in Paris?")]})
    assert result["structured_response"] == Weather(city="Paris", temperature=21)
    chunks = [c async for c in llm(cerebras_emulator).bind_tools([get_weather], response_format={
        "type": "json_schema", "json_schema": {"name": "Weather", "schema": Weather.model_json_schema()}}).astream(
        "Is it warm?")]
    total = chunks[0]
    for c in chunks[1:]:
        total += c
    assert Weather.model_validate_json(total.content)


def test_tool_strategy_forcing_a_call_on_gpt_oss_is_refused_before_sending(cerebras_emulator):
    agent = create_agent(llm(cerebras_emulator), tools=[get_weather], response_format=ToolStrategy(Weather))
    with pytest.raises(RequestValidationError) as info:
        agent.invoke({"messages": [HumanMessage("What is the weather in Paris?")]})
    assert info.value.param == "tool_choice" and "auto" in info.value.fix
    assert chat_bodies(cerebras_emulator) == []


def test_tools_and_response_format_go_together_when_validation_is_off(cerebras_emulator):
    bound = llm(cerebras_emulator, "gemma-4-31b", validation="off").bind_tools(
        [get_weather], response_format={"type": "json_object"})
    with pytest.raises(Exception, match="incompatible"):  # the emulator refuses them, as the API does
        bound.invoke("What is the weather in Paris? Answer in JSON.")
    (body,) = chat_bodies(cerebras_emulator)
    assert "tools" in body and "response_format" in body


# -- 7: function_calling never returns a silent None ----------------------------------------------------------


def test_function_calling_on_gpt_oss_answered_in_text_is_an_error_not_none(cerebras_emulator):
    chain = llm(cerebras_emulator).with_structured_output(Answer, method="function_calling")
    with pytest.raises(OutputParserException) as info:
        chain.invoke("What is 2+2?")  # the emulator's gpt-oss answers in text: no tool is named
    assert "tool_choice" in str(info.value) and "method='json_schema'" in str(info.value)
    assert chat_bodies(cerebras_emulator)[0]["tool_choice"] == "auto"


def test_function_calling_text_answer_lands_in_parsing_error_with_include_raw(cerebras_emulator):
    chain = llm(cerebras_emulator).with_structured_output(Answer, method="function_calling", include_raw=True)
    out = chain.invoke("What is 2+2?")
    assert out["parsed"] is None
    assert isinstance(out["parsing_error"], OutputParserException)
    assert isinstance(out["raw"], AIMessage) and not out["raw"].tool_calls


def test_function_calling_on_gpt_oss_parses_when_the_model_calls_the_tool(cerebras_emulator):
    chain = llm(cerebras_emulator).with_structured_output(Answer, method="function_calling")
    assert isinstance(chain.invoke("Fill in the Answer for 2+2."), Answer)


# -- 8: unknown constructor arguments and cerebras_proxy ------------------------------------------------------


def test_a_misspelled_argument_warns_then_is_refused_on_the_first_call_naming_it(cerebras_emulator):
    with pytest.warns(UserWarning, match="'temprature'.*model_kwargs.*Did you mean 'temperature'"):
        model = llm(cerebras_emulator, temprature=0.2)
    assert model.model_kwargs == {"temprature": 0.2}
    with pytest.raises(UnsupportedParameterError) as info:
        model.invoke("hi")
    assert info.value.param == "temprature"
    assert chat_bodies(cerebras_emulator) == []


def test_an_unknown_argument_follows_unsupported_params_drop(cerebras_emulator):
    with pytest.warns(UserWarning, match="brand_new_option"):
        model = llm(cerebras_emulator, brand_new_option=1, unsupported_params="drop")
    with pytest.warns(UserWarning, match="brand_new_option"):
        model.invoke("hi")  # dropped with a warning, as the core does with unsupported_params="drop"


@pytest.fixture
def forwarding_proxy() -> Iterator[ForwardingProxy]:
    with ForwardingProxy() as proxy:
        yield proxy


async def test_cerebras_proxy_sends_every_request_through_the_proxy(cerebras_emulator, forwarding_proxy):
    model = llm(cerebras_emulator, cerebras_proxy=forwarding_proxy.url)
    assert model.invoke("hi").content
    assert "".join(c.text for c in model.stream("hi"))
    assert (await model.ainvoke("hi")).content
    target = f"{cerebras_emulator.base_url}/chat/completions"
    assert forwarding_proxy.forwarded == [("POST", target)] * 3
    assert len(chat_bodies(cerebras_emulator)) == 3  # the proxy passed them on


def test_cerebras_proxy_environment_variable_is_honoured(cerebras_emulator, forwarding_proxy, monkeypatch):
    monkeypatch.setenv("CEREBRAS_PROXY", forwarding_proxy.url)
    model = llm(cerebras_emulator)
    assert model.cerebras_proxy == model.proxy == forwarding_proxy.url
    model.invoke("hi")
    assert len(forwarding_proxy.forwarded) == 1


def test_proxy_with_an_own_http_client_is_refused_naming_proxy():
    import httpx

    model = ChatCerebras(api_key=KEY, proxy="http://127.0.0.1:9", http_client=httpx.Client())
    with pytest.raises(RequestValidationError) as info:
        model.invoke("hi")
    assert info.value.param == "proxy"


# -- 9: langchain-cerebras's attribute names and disabled_params ----------------------------------------------


def test_langchain_cerebras_attribute_names_read_and_set_our_fields(monkeypatch):
    monkeypatch.delenv("CEREBRAS_BASE_URL", raising=False)
    monkeypatch.delenv("CEREBRAS_API_BASE", raising=False)
    model = ChatCerebras(model="gpt-oss-120b", cerebras_api_key=KEY, max_tokens=64, request_timeout=30)
    assert model.model == model.model_name == "gpt-oss-120b"
    assert model.request_timeout == model.timeout == 30
    assert isinstance(model.cerebras_api_key, SecretStr) and model.cerebras_api_key.get_secret_value() == KEY
    assert model.cerebras_api_base == "https://api.cerebras.ai/v1"
    assert model.max_tokens == model.max_completion_tokens == 64
    model.max_tokens = 32
    model.cerebras_api_base = "http://127.0.0.1:1/v1"
    model.cerebras_api_key = "other-" + "key"
    assert model.max_completion_tokens == 32 and model.base_url == "http://127.0.0.1:1/v1"
    assert model.api_key is not None and model.api_key.get_secret_value() == "other-key"


def test_cerebras_api_base_is_where_the_client_sends(monkeypatch):
    monkeypatch.setenv("CEREBRAS_BASE_URL", "http://127.0.0.1:8/v1")
    model = ChatCerebras(api_key=KEY)
    assert model.cerebras_api_base == model.client.base_url == "http://127.0.0.1:8/v1"


def test_cerebras_api_base_environment_variable_is_honoured_through_the_core(monkeypatch):
    # langchain-cerebras's variable, read by the core (routes.resolve_base_url); the attribute says the same.
    monkeypatch.delenv("CEREBRAS_BASE_URL", raising=False)
    monkeypatch.setenv("CEREBRAS_API_BASE", "http://127.0.0.1:9/v1")
    model = ChatCerebras(api_key=KEY)
    assert model.cerebras_api_base == model.client.base_url == "http://127.0.0.1:9/v1"


def test_disabled_params_keep_with_structured_output_from_setting_them(cerebras_emulator):
    model = llm(cerebras_emulator, "gemma-4-31b", disabled_params={"parallel_tool_calls": None})
    model.with_structured_output(Answer, method="function_calling").invoke("Fill in the Answer.")
    (body,) = chat_bodies(cerebras_emulator)
    assert "parallel_tool_calls" not in body and body["tool_choice"] == "required"


def test_disabled_values_of_tool_choice_are_not_set(cerebras_emulator):
    model = llm(cerebras_emulator, "gemma-4-31b", disabled_params={"tool_choice": ["required"]})
    model.with_structured_output(Answer, method="function_calling").invoke("Fill in the Answer.")
    (body,) = chat_bodies(cerebras_emulator)
    assert "tool_choice" not in body and body["parallel_tool_calls"] is False


def test_disabled_params_do_not_stop_an_explicit_parameter(cerebras_emulator):
    model = llm(cerebras_emulator, "gemma-4-31b", disabled_params={"parallel_tool_calls": None})
    model.bind_tools([get_weather], parallel_tool_calls=False).invoke("Weather in Paris?")
    assert chat_bodies(cerebras_emulator)[0]["parallel_tool_calls"] is False


# -- 10: logprobs, where langchain-openai puts them -----------------------------------------------------------


def _merged(chunks: Iterator[Any]) -> Any:
    total = None
    for chunk in chunks:
        total = chunk if total is None else total + chunk
    return total


def test_logprobs_are_where_and_as_langchain_openai_puts_them(cerebras_emulator):
    ours = llm(cerebras_emulator, logprobs=True, top_logprobs=2)
    openai = ChatOpenAI(model="gpt-oss-120b", api_key=KEY, base_url=cerebras_emulator.base_url, logprobs=True,
                        top_logprobs=2, max_retries=0)
    question = [HumanMessage("hi")]
    for name, getter in (
        ("invoke", lambda m: m.invoke(question).response_metadata["logprobs"]),
        ("stream", lambda m: _merged(m.stream(question)).response_metadata["logprobs"]),
        ("generate", lambda m: m.generate([question]).generations[0][0].generation_info["logprobs"]),
    ):
        mine, theirs = getter(ours), getter(openai)
        assert mine["content"] == theirs["content"], name
        assert mine["content"] and mine["content"][0]["top_logprobs"], name


def test_streamed_generation_info_carries_the_logprobs_too(cerebras_emulator):
    model = llm(cerebras_emulator, logprobs=True, streaming=True)
    info = model.generate([[HumanMessage("hi")]]).generations[0][0].generation_info
    assert info["finish_reason"] == "stop" and info["logprobs"]["content"]


# -- 11: options the model refuses are refused at construction ------------------------------------------------


def test_reasoning_effort_none_on_gpt_oss_is_refused_at_construction():
    with pytest.raises(RequestValidationError) as info:
        ChatCerebras(model="gpt-oss-120b", reasoning_effort="none", api_key=KEY)
    assert info.value.param == "reasoning_effort" and "low" in info.value.fix


def test_disable_reasoning_on_gpt_oss_is_refused_at_construction_naming_it():
    with pytest.raises(RequestValidationError) as info:
        ChatCerebras(model="gpt-oss-120b", disable_reasoning=True, api_key=KEY)
    assert info.value.param == "disable_reasoning"


def test_construction_check_follows_validation_warn_and_off():
    with pytest.warns(ValidationWarning, match="reasoning_effort"):
        ChatCerebras(model="gpt-oss-120b", reasoning_effort="none", api_key=KEY, validation="warn")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ChatCerebras(model="gpt-oss-120b", reasoning_effort="none", api_key=KEY, validation="off")


@pytest.mark.parametrize("model", ["zai-glm-4.7", "gemma-4-31b", "a-model-of-no-known-family"])
def test_reasoning_effort_none_is_accepted_where_the_model_takes_it_or_is_unknown(model):
    assert ChatCerebras(model=model, reasoning_effort="none", api_key=KEY).reasoning_effort == "none"


def test_the_same_rule_refuses_it_per_call(cerebras_emulator):
    with pytest.raises(RequestValidationError) as info:
        llm(cerebras_emulator).invoke("hi", reasoning_effort="none")
    assert info.value.rule == "reasoning_cannot_be_turned_off"
    with pytest.raises(RequestValidationError) as at_construction:
        ChatCerebras(model="gpt-oss-120b", reasoning_effort="none", api_key=KEY)
    assert at_construction.value.rule == info.value.rule


# -- 12: init_chat_model --------------------------------------------------------------------------------------


def test_init_chat_model_has_no_cerebras_provider_to_reach_our_class():
    # langchain 1.x: a fixed private provider table, no registry or entry point (docs/langchain.md).
    with pytest.raises(ValueError, match="Unable to infer model provider"):
        init_chat_model("cerebras:gpt-oss-120b", api_key=KEY)
    with pytest.raises(ValueError, match="Unsupported provider"):
        init_chat_model("gpt-oss-120b", model_provider="cerebras", api_key=KEY)
    # and a bare gpt-oss id is taken for an OpenAI model
    assert isinstance(init_chat_model("gpt-oss-120b", api_key=KEY), ChatOpenAI)


def test_documented_instead_a_configurable_chat_cerebras_switches_model_per_call(cerebras_emulator):
    model = llm(cerebras_emulator).configurable_fields(
        model_name=ConfigurableField(id="model", name="Model", description="Cerebras model id")
    )
    model.invoke("hi")
    model.invoke("hi", config={"configurable": {"model": "zai-glm-4.7"}})
    assert [b["model"] for b in chat_bodies(cerebras_emulator)] == ["gpt-oss-120b", "zai-glm-4.7"]


def test_documented_instead_create_agent_takes_the_instance(cerebras_emulator):
    agent = create_agent(llm(cerebras_emulator), tools=[get_weather])
    result = agent.invoke({"messages": [HumanMessage("What is the weather in Paris?")]})
    assert "Sunny" in result["messages"][-1].text


def test_the_structured_agent_recipe_runs(cerebras_emulator, monkeypatch):
    monkeypatch.setenv("CEREBRAS_API_KEY", KEY)
    monkeypatch.setenv("CEREBRAS_BASE_URL", cerebras_emulator.base_url)
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "integrations" / "langchain"))
    sys.modules.pop("structured_agent", None)
    try:
        assert importlib.import_module("structured_agent").main().city == "Paris"
    finally:
        sys.modules.pop("structured_agent", None)


def test_a_proxy_url_with_credentials_stays_out_of_repr_and_serialisation():
    from langchain_core.load import dumpd

    secret = "pro" + "xy-pass"
    model = ChatCerebras(api_key=KEY, cerebras_proxy=f"http://user:{secret}@127.0.0.1:3128")
    assert secret not in repr(model) and secret not in str(dumpd(model))
    assert dumpd(model)["kwargs"]["proxy"] == {"lc": 1, "type": "secret", "id": ["CEREBRAS_PROXY"]}
