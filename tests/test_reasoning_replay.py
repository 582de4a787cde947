"""Sending earlier reasoning back in the form each model and route accepts (cerebras-api.md §6 "Replay
earlier reasoning as", checklist §8 item 4): never ``reasoning_content``; the ``reasoning`` field for
gpt-oss (RT-06) and on OpenRouter (openrouter.md §1.2); ``<think>…</think>`` in content for GLM (RT-05)."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from cerebras_adapters import Catalog, ModelInfo, UnsupportedParameterError, replay_reasoning, split_think_tags
from tests.wire import completion, tool_call

QUESTION = {"role": "user", "content": "What is 25 * 4?"}
FOLLOW_UP = {"role": "user", "content": "And 25 * 8?"}


def history(**assistant_fields: Any) -> list[dict[str, Any]]:
    return [QUESTION, {"role": "assistant", "content": "100", **assistant_fields}, FOLLOW_UP]


def ok(request: httpx.Request) -> httpx.Response:
    model = json.loads(request.content)["model"]
    return httpx.Response(200, json=completion("200", model=model, provider="Cerebras"))


# -- replay_reasoning ------------------------------------------------------------------------------------------


def test_gpt_oss_gets_reasoning_content_back_as_the_reasoning_field():
    replayed = replay_reasoning("gpt-oss-120b", history(reasoning_content="25 * 4 is 100."))

    assert replayed[1] == {"role": "assistant", "content": "100", "reasoning": "25 * 4 is 100."}


def test_glm_gets_reasoning_back_as_think_tags_in_front_of_the_content():
    replayed = replay_reasoning("zai-glm-4.7", history(reasoning_content="25 * 4 is 100."))

    assert replayed[1] == {"role": "assistant", "content": "<think>25 * 4 is 100.</think>100"}


def test_glm_reasoning_in_the_reasoning_field_is_moved_into_think_tags_too():
    replayed = replay_reasoning("zai-glm-4.7", history(reasoning="25 * 4 is 100."))

    assert replayed[1] == {"role": "assistant", "content": "<think>25 * 4 is 100.</think>100"}


def test_glm_tool_call_turn_gets_think_tags_as_its_only_content():
    call = tool_call("50dffaa10", "multiply", '{"a": 25, "b": 4}')
    messages = [QUESTION, {"role": "assistant", "content": None, "tool_calls": [call], "reasoning": "Use the tool."}]

    replayed = replay_reasoning("zai-glm-4.7", messages)

    assert replayed[1] == {"role": "assistant", "content": "<think>Use the tool.</think>", "tool_calls": [call]}


def test_the_openrouter_route_gets_the_reasoning_field_for_every_model():
    replayed = replay_reasoning("zai-glm-4.7", history(reasoning_content="25 * 4 is 100."), route="openrouter")

    assert replayed[1] == {"role": "assistant", "content": "100", "reasoning": "25 * 4 is 100."}


def test_an_unknown_model_gets_the_reasoning_field():
    replayed = replay_reasoning("future-model-1", history(thinking="25 * 4 is 100."))

    assert replayed[1] == {"role": "assistant", "content": "100", "reasoning": "25 * 4 is 100."}


def test_a_model_that_does_not_reason_gets_no_reasoning_back():
    replayed = replay_reasoning("llama-3.3-70b", history(reasoning_content="25 * 4 is 100."))

    assert replayed[1] == {"role": "assistant", "content": "100"}


def test_list_shaped_content_and_reasoning_are_joined_into_text_for_think_tags():
    content = [{"type": "text", "text": "10"}, {"type": "text", "text": "0"}]
    reasoning = [{"type": "text", "text": "25 * 4 "}, {"type": "text", "text": "is 100."}]

    replayed = replay_reasoning("zai-glm-4.7", [QUESTION, {"role": "assistant", "content": content,
                                                           "reasoning_content": reasoning}])

    assert replayed[1]["content"] == "<think>25 * 4 is 100.</think>100"


def test_list_shaped_reasoning_is_joined_into_the_reasoning_field():
    reasoning = [{"type": "text", "text": "25 * 4 "}, {"type": "text", "text": "is 100."}]

    replayed = replay_reasoning("gpt-oss-120b", history(reasoning_content=reasoning))

    assert replayed[1]["reasoning"] == "25 * 4 is 100."


def test_reasoning_content_wins_over_the_other_reasoning_keys_and_none_is_left_behind():
    replayed = replay_reasoning("gpt-oss-120b", history(reasoning_content="first", reasoning="second",
                                                        thinking="third"))

    assert replayed[1] == {"role": "assistant", "content": "100", "reasoning": "first"}


def test_assistant_messages_without_reasoning_and_other_roles_are_passed_through():
    messages = [{"role": "system", "content": "Be brief.", "reasoning": "not an assistant"}, *history()]

    assert replay_reasoning("zai-glm-4.7", messages) == messages


def test_replay_reasoning_does_not_change_its_input():
    messages = history(reasoning_content="25 * 4 is 100.")
    before = copy.deepcopy(messages)

    replay_reasoning("zai-glm-4.7", messages)

    assert messages == before


def test_replay_reasoning_follows_the_given_catalog():
    catalog = Catalog([ModelInfo(id="custom-glm", reasoning="toggleable", reasoning_replay="think_tags")])

    replayed = replay_reasoning("custom-glm", history(reasoning="r"), catalog=catalog)

    assert replayed[1]["content"] == "<think>r</think>100"


# -- split_think_tags ------------------------------------------------------------------------------------------


def test_split_think_tags_separates_reasoning_from_the_answer():
    assert split_think_tags("<think>25 * 4 is 100.</think>100") == ("25 * 4 is 100.", "100")


def test_split_think_tags_drops_the_newlines_after_the_closing_tag():
    assert split_think_tags("\n<think>\nr\n</think>\n\n100") == ("\nr\n", "100")


def test_split_think_tags_leaves_content_without_tags_alone():
    assert split_think_tags("100 <think>late</think>") == (None, "100 <think>late</think>")


def test_split_think_tags_treats_an_unclosed_block_as_all_reasoning():
    # A reply cut off by max_completion_tokens mid-thought.
    assert split_think_tags("<think>25 * 4 is") == ("25 * 4 is", "")


def test_split_then_replay_round_trips_glm_raw_content():
    reasoning, answer = split_think_tags("<think>25 * 4 is 100.</think>100")
    message = {"role": "assistant", "content": answer, "reasoning": reasoning}

    replayed = replay_reasoning("zai-glm-4.7", [QUESTION, message])

    assert replayed[1]["content"] == "<think>25 * 4 is 100.</think>100"


# -- a replayed history goes through the client as replayed ---------------------------------------------------


def test_unreplayed_reasoning_content_is_refused_by_the_client(api):
    with pytest.raises(UnsupportedParameterError):
        api.create(ok, model="gpt-oss-120b", messages=history(reasoning_content="25 * 4 is 100."))

    assert api.requests == []


def test_a_replayed_gpt_oss_history_is_sent_with_the_reasoning_field(api):
    # RT-06: gpt-oss accepted the assistant reasoning field on turn 2.
    replayed = replay_reasoning("gpt-oss-120b", history(reasoning_content="25 * 4 is 100."))

    api.create(ok, model="gpt-oss-120b", messages=replayed)

    assert json.loads(api.requests[0].content)["messages"] == replayed
    assert replayed[1]["reasoning"] == "25 * 4 is 100."


def test_a_replayed_glm_history_is_sent_with_think_tags(api):
    # RT-05: zai-glm-4.7 accepted turn-1 reasoning replayed as <think>...</think> in the assistant content.
    replayed = replay_reasoning("zai-glm-4.7", history(reasoning_content="25 * 4 is 100."))

    api.create(ok, model="zai-glm-4.7", messages=replayed, clear_thinking=False)

    body = json.loads(api.requests[0].content)
    assert body["messages"] == replayed
    assert body["messages"][1]["content"].startswith("<think>")
    assert body["clear_thinking"] is False


def test_a_replayed_history_is_sent_with_the_reasoning_field_on_openrouter(api):
    replayed = replay_reasoning("gpt-oss-120b", history(reasoning_content="25 * 4 is 100."), route="openrouter")

    api.create(ok, model="gpt-oss-120b", messages=replayed,
               client_kwargs={"route": "openrouter", "api_key": "or-test-key"})

    body = json.loads(api.requests[0].content)
    assert body["messages"][1] == {"role": "assistant", "content": "100", "reasoning": "25 * 4 is 100."}
