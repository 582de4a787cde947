"""What an emulated model says: reasoning, text, tool calls, and the token counts that go with them.

Everything here is a pure function of the request (and the scenarios), so the same request always gets the
same reply. Behaviour per model family follows docs/api-facts.md:

* reasoning (``reasoning_effort`` / ``reasoning_format`` / ``disable_reasoning``: docs/api-facts.md#reasoning-format,
  #turning-reasoning-off, #reasoning-per-model-family): gpt-oss and Qwen 3 32B always reason (effort changes the
  length); GLM reasons unless ``reasoning_effort:"none"`` (or ``disable_reasoning``); gemma only when an effort other
  than ``none`` is asked for; Qwen 3 32B answers with raw ``<think>`` by default (its ``default_format``).
  ``parsed``/``text_parsed`` put it in ``reasoning``, ``raw`` prepends it to ``content``
  (``<think>…</think>`` for GLM/Qwen, concatenated for GPT-OSS), ``hidden`` drops it (still counted); JSON
  formats turn raw into hidden.
* prompt tokens: a crude tokenizer over a rendering of the conversation; earlier-turn ``<think>`` blocks are
  dropped when zai-glm-4.7's ``clear_thinking`` is on (its default, consistent with RT-05), and the assistant
  ``reasoning`` field is not fed back (RT-06). Images count ``IMAGE_TOKENS`` each (docs/api-facts.md#usage).
* completion tokens include reasoning tokens (docs/api-facts.md#usage) and rejected prediction tokens
  (docs/api-facts.md#predicted-outputs: they are billed).
* tool calls: on the user's turn, the tools the question names (their arguments built from each tool's schema,
  with numbers and places from the user's words and the tool results since); of several offered tools answering
  to the same word, the first offered (an agent framework's answer tool comes after the user's tools and is
  called once the data is in). After a tool result the model answers in text, or, with ``tool_choice:
  "required"``, calls a tool it has not called since the user spoke.
* shapes asked for in the prompt: a system message declaring output fields (DSPy's adapters) gets them filled,
  under ``[[ ## field ## ]]`` markers or as a JSON object (``_prompt_fields``).
* ``max_completion_tokens`` truncates with ``finish_reason:"length"`` (RT-11, RT-12); reasoning is generated
  first, so a small budget can leave an empty answer, as the real models do. ``stop`` cuts the text before
  the stop sequence (docs/api-facts.md#option-ranges: stop text is not included).

This module owns the content of a reply; it must not validate requests (``_validation`` runs first) or encode
the reply (``_wire``).
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from ._models import ModelSpec
from ._prompt_fields import PromptFields, fits, prompt_fields
from ._schema import Hints, instance
from ._tokens import filler, tokenize
from .scenarios import Scenario

__all__ = ["IMAGE_TOKENS", "Completion", "PlannedToolCall", "content_text", "plan_completion", "render_prompt"]

IMAGE_TOKENS = 256
Placement = Literal["field", "raw", "hidden", "off"]

_THINK_RE = re.compile(r"<think>.*?</think>\s*", re.DOTALL)
_GENERIC_WORDS = frozenset(
    {
        "get",
        "set",
        "fetch",
        "find",
        "search",
        "list",
        "create",
        "update",
        "delete",
        "tool",
        "function",
        "call",
        "make",
        "run",
        "current",
        "value",
        "data",
        "info",
        "query",
        "lookup",
        "with",
        "from",
        "the",
    }
)

_SENTENCES = (
    "This is a deterministic reply from the Cerebras emulator.",
    "The same request always receives the same answer.",
    "Add an entry to a scenario file to choose the exact words.",
    "Nothing here was produced by a real model.",
    "The emulator follows the shape of the real API closely.",
    "Streaming sends this text one token at a time.",
    "Token counts come from a simple whitespace tokenizer.",
    "Usage, timing and rate-limit headers are filled in as well.",
)


@dataclass
class PlannedToolCall:
    id: str
    name: str
    arguments: str
    argument_tokens: list[str]


@dataclass
class Completion:
    """A planned reply: what to send, and how it is counted."""

    reasoning_pieces: list[str] = field(default_factory=list)  # shown as message.reasoning / delta.reasoning
    content_pieces: list[str] = field(default_factory=list)
    has_content: bool = True  # False: tool-call-only message, no ``content`` key
    tool_calls: list[PlannedToolCall] = field(default_factory=list)
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    image_tokens: int = 0
    prompt_token_list: list[str] = field(default_factory=list)
    reasoning_tokens: int = 0
    completion_tokens: int = 0
    accepted_prediction_tokens: int = 0
    rejected_prediction_tokens: int = 0
    cached_tokens: int = 0

    @property
    def reasoning(self) -> str | None:
        return "".join(self.reasoning_pieces) if self.reasoning_pieces else None

    @property
    def content(self) -> str | None:
        return "".join(self.content_pieces) if self.has_content else None


def content_text(content: Any) -> str:
    """The text of a message content (a string, or the text parts of a list)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _image_count(content: Any) -> int:
    if not isinstance(content, list):
        return 0
    return sum(1 for p in content if isinstance(p, dict) and p.get("type") in ("image_url", "image"))


def render_prompt(body: dict[str, Any], spec: ModelSpec) -> tuple[list[str], int]:
    """The prompt as tokens (for counting and the prefix cache) and the number of image tokens."""
    messages: list[dict[str, Any]] = body["messages"]
    last_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=-1)
    clear = spec.clear_thinking and body.get("clear_thinking") is not False
    parts: list[str] = []
    if body.get("tools"):
        parts.append("<|tools|>" + json.dumps(body["tools"], sort_keys=True))
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        parts.append("<|schema|>" + json.dumps(fmt.get("json_schema", {}).get("schema"), sort_keys=True))
    images = 0
    for i, message in enumerate(messages):
        role = message["role"]
        text = content_text(message.get("content"))
        images += _image_count(message.get("content"))
        if role == "assistant":
            if clear and i < last_user:
                text = _THINK_RE.sub("", text)
            for call in message.get("tool_calls") or ():
                function = call.get("function", {})
                text += f"\n<|call|>{function.get('name')} {function.get('arguments')}"
        parts.append(f"<|{role}|>\n{text}")
    parts.append("<|assistant|>\n")
    return tokenize("\n".join(parts)), images * IMAGE_TOKENS


# -------------------------------------------------------------------------------------------------- helpers


def request_digest(body: dict[str, Any], spec: ModelSpec) -> bytes:
    relevant = {k: body.get(k) for k in ("messages", "tools", "tool_choice", "response_format", "prediction")}
    relevant["model"] = spec.id
    return hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).digest()


def _default_text(digest: bytes) -> str:
    n = len(_SENTENCES)
    first = digest[0] % n
    second = (first + 1 + digest[1] % (n - 1)) % n
    return f"{_SENTENCES[first]} {_SENTENCES[second]}"


def _snippet(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _scale_reasoning(text: str, effort: str) -> str:
    if effort == "low":
        match = re.match(r".+?[.!?](?=\s|$)", text, re.DOTALL)
        return match.group(0) if match else text
    if effort == "high":
        return text + " Let me double-check before answering: the reply should be correct, complete and short."
    return text


def _word_re(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", re.IGNORECASE)


def _name_words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[_\-\s]+", spaced) if len(w) >= 4 and w.lower() not in _GENERIC_WORDS]


def _name_matches(name: str, text: str) -> set[str]:
    """The words by which ``text`` mentions the tool (or option) ``name``: the name itself (also with spaces for
    underscores), or its distinctive words (``get_weather`` → "weather"); empty when it is not mentioned."""
    spaced = re.sub(r"[_\-]+", " ", name)
    words = set(_name_words(name))
    if _word_re(name).search(text) or (spaced != name and _word_re(spaced).search(text)):
        return words or {name.lower()}
    return {w for w in words if re.search(rf"\b{re.escape(w)}s?\b", text, re.IGNORECASE)}


def _calls_for_question(
    tools: list[dict[str, Any]], scenario: Scenario | None, text: str
) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """The tools called on the user's turn: the scenario's, then those the question mentions.

    When several offered tools answer to the same word ("weather": ``get_weather`` and a ``Weather`` answer
    schema an agent framework adds), the model calls the first one offered and leaves the others for after
    its result, as a model gathers data before it answers. Frameworks list the user's tools first."""
    candidates: list[tuple[dict[str, Any], dict[str, Any] | None, set[str]]] = []
    for call in scenario.tool_calls if scenario else ():
        tool = _find_tool(tools, call.name)
        if tool is not None:
            candidates.append((tool, call.arguments, set(_name_words(tool["function"]["name"])) or {call.name}))
    for tool in tools:
        words = _name_matches(tool["function"]["name"], text)
        if words and all(tool is not other for other, _, _ in candidates):
            candidates.append((tool, None, words))
    position = {id(tool): i for i, tool in enumerate(tools)}
    taken: set[str] = set()
    kept: set[int] = set()
    for tool, _, words in sorted(candidates, key=lambda c: position[id(c[0])]):
        if not words & taken:
            kept.add(id(tool))
            taken |= words
    return [(tool, arguments) for tool, arguments, _ in candidates if id(tool) in kept]


def _next_required_call(
    tools: list[dict[str, Any]], scenario: Scenario | None, text: str, since_user: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """After a tool result, with ``tool_choice: required``: the model must call a tool again, and calls one it
    has not called since the user spoke (one the question mentions first). That is how an agent's answer tool
    (LangChain's ToolStrategy) gets called once the data is in."""
    called = {
        (call.get("function") or {}).get("name")
        for message in since_user
        if message["role"] == "assistant"
        for call in message.get("tool_calls") or ()
    }
    fresh = [tool for tool in tools if tool["function"]["name"] not in called]
    mentioned = [tool for tool in fresh if _name_matches(tool["function"]["name"], text)]
    if mentioned or fresh:
        return ((mentioned or fresh)[0], None)
    return (_calls_for_question(tools, scenario, text) or [(tools[0], None)])[0]


def _find_tool(tools: list[dict[str, Any]], wanted: str) -> dict[str, Any] | None:
    lowered = wanted.lower()
    for tool in tools:
        if tool["function"]["name"].lower() == lowered:
            return tool
    for tool in tools:
        if lowered in tool["function"]["name"].lower():
            return tool
    return None


def _arguments(tool: dict[str, Any], overrides: dict[str, Any] | None, hints: Hints) -> dict[str, Any]:
    params = tool["function"].get("parameters") or {}
    props = params.get("properties") if isinstance(params, dict) else None
    value = instance(params, hints) if props else {}
    args: dict[str, Any] = value if isinstance(value, dict) else {}
    for key, val in (overrides or {}).items():
        if not props or key in props or params.get("additionalProperties") not in (False, None):
            args[key] = val
    return args


def _reasoning_base(
    scenario: Scenario | None, calls: list[tuple[dict[str, Any], dict[str, Any] | None]], asked: str
) -> str:
    if scenario and scenario.reasoning:
        return scenario.reasoning
    if calls:
        names = ", ".join(tool["function"]["name"] for tool, _ in calls)
        return (
            f'The user asks: "{_snippet(asked)}". The {names} tool can answer this, so I will call '
            "it with arguments taken from the request."
        )
    return f'The user asks: "{_snippet(asked)}". I should answer directly and keep it short.'


def _answer_text(scenario: Scenario | None, tool_result: str | None, digest: bytes) -> str:
    """The text answer: the scenario's reply (with ``{tool_result}`` filled in), else a summary of the tool
    result, else the deterministic default."""
    if tool_result is not None:
        if scenario and scenario.reply is not None:
            return scenario.reply.replace("{tool_result}", tool_result)
        return f"The tool returned: {_snippet(tool_result, 200)}"
    if scenario and scenario.reply is not None:
        return scenario.reply
    return _default_text(digest)


# ------------------------------------------------------------------------------------------------- planning


@dataclass
class ReasoningChoice:
    enabled: bool
    effort: str
    placement: Placement


def reasoning_choice(body: dict[str, Any], spec: ModelSpec, exclude: bool = False) -> ReasoningChoice:
    effort = body.get("reasoning_effort")
    mode = spec.reasoning
    if mode == "always":
        enabled = True
    elif mode == "default_on":
        enabled = effort != "none" and body.get("disable_reasoning") is not True
    elif mode == "default_off":
        enabled = effort in ("low", "medium", "high")
    else:
        enabled = False
    fmt = body.get("reasoning_format") or "none"
    json_format = (body.get("response_format") or {}).get("type") in ("json_object", "json_schema")
    placement: Placement
    if fmt in ("parsed", "text_parsed"):
        placement = "field"
    elif fmt == "hidden":
        placement = "hidden"
    elif fmt == "raw":
        placement = "hidden" if json_format else "raw"
    else:
        placement = ("hidden" if json_format else "raw") if spec.default_format == "raw" else "field"
    if exclude:
        placement = "hidden"
    if not enabled:
        placement = "off"
    return ReasoningChoice(enabled, effort if effort in ("low", "medium", "high") else "medium", placement)


def plan_completion(
    body: dict[str, Any],
    spec: ModelSpec,
    scenarios: list[Scenario],
    *,
    exclude_reasoning: bool = False,
    reply_tokens: int | None = None,
) -> Completion:
    messages: list[dict[str, Any]] = body["messages"]
    digest = request_digest(body, spec)
    last_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=-1)
    user_text = content_text(messages[last_user].get("content")) if last_user >= 0 else ""
    since_user = messages[last_user + 1 :]
    last_role = messages[-1]["role"]
    scenario = next((s for s in scenarios if s.applies(user_text, spec.id)), None)
    tools: list[dict[str, Any]] = body.get("tools") or []
    choice = body.get("tool_choice")
    fmt = body.get("response_format") or {}
    system_text = "\n".join(content_text(m.get("content")) for m in messages if m["role"] == "system")
    fields = prompt_fields(system_text, user_text)
    # The user's words (a DSPy prompt's input fields, not its instructions) and the tool results since.
    asked = (fields.question if fields else "") or user_text
    results = [content_text(m.get("content")) for m in since_user if m["role"] == "tool"]
    results += fields.observations if fields else []
    hints = Hints.from_text("\n".join([asked, *results]))

    # --- what kind of reply
    calls: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    if tools and choice != "none":
        if isinstance(choice, dict):
            named = _find_tool(tools, choice["function"]["name"])
            if named is not None:
                wanted = next(
                    (
                        c.arguments
                        for c in (scenario.tool_calls if scenario else ())
                        if _find_tool([named], c.name) is not None
                    ),
                    None,
                )
                calls = [(named, wanted)]
        elif last_role == "user":
            calls = _calls_for_question(tools, scenario, user_text)
            if not calls and choice == "required":
                calls = [(tools[0], None)]
        elif choice == "required":
            calls = [_next_required_call(tools, scenario, user_text, since_user)]
        if body.get("parallel_tool_calls") is False:
            calls = calls[:1]

    reasoning_base = _reasoning_base(scenario, calls, asked)
    if last_role == "tool":
        tool_result: str | None = content_text(messages[-1].get("content"))
    else:
        tool_result = fields.observations[-1] if fields and fields.observations else None
    answer = _answer_text(scenario, tool_result, digest)

    def field_values(declared: PromptFields) -> dict[str, Any]:
        return declared.values(
            reasoning=reasoning_base,
            answer=answer,
            structured=scenario.structured if scenario else None,
            hints=hints,
            mentioned=lambda name: bool(_name_matches(name, asked)),
        )

    content: str | None
    if calls:
        content = None
    elif fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema") or {}
        if fields is not None and isinstance(schema.get("properties"), dict):
            value = field_values(fields.with_schema(schema))
        else:
            value = instance(schema, hints)
            if scenario and scenario.structured is not None:
                value = _fit_to_schema(scenario.structured, value, schema)
        content = json.dumps(value)
    elif fmt.get("type") == "json_object":
        if fields is not None:
            value = field_values(fields)
        elif scenario and scenario.structured is not None:
            value = scenario.structured
        else:
            value = {"answer": _default_text(digest)}
        content = json.dumps(value)
    elif fields is not None and fields.markers:
        content = fields.render(field_values(fields))
    elif last_role == "tool" or (scenario and scenario.reply is not None) or body.get("prediction") is None:
        content = answer
    else:
        content = content_text(body["prediction"].get("content"))

    # --- reasoning
    reasoning = reasoning_choice(body, spec, exclude_reasoning)
    reasoning_text = _scale_reasoning(reasoning_base, reasoning.effort) if reasoning.enabled else ""

    # --- stop sequences (on the text the model writes, docs/api-facts.md#option-ranges)
    finish_reason = "stop"
    if content is not None and reasoning.placement == "raw":
        think = f"<think>\n{reasoning_text}\n</think>\n\n" if spec.raw_style == "think_tags" else reasoning_text
        content = think + content
        raw_reasoning_tokens = len(tokenize(think))
    else:
        raw_reasoning_tokens = 0
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    if content is not None and stops:
        cut = min((i for i in (content.find(s) for s in stops if s) if i >= 0), default=-1)
        if cut >= 0:
            content = content[:cut]

    r_tokens = tokenize(reasoning_text) if reasoning.placement in ("field", "hidden") else []
    c_tokens = tokenize(content) if content is not None else []
    if reply_tokens is not None and content is not None and not fmt.get("type", "text").startswith("json"):
        c_tokens = c_tokens[:raw_reasoning_tokens] + filler(reply_tokens)

    # --- budget
    limit = body.get("max_completion_tokens")
    if limit is None:
        limit = body.get("max_tokens")
    budget = spec.max_output if limit is None or limit == -1 else int(limit)
    minimum = body.get("min_completion_tokens", body.get("min_tokens"))
    if minimum == -1:
        minimum = budget
    if content is not None and isinstance(minimum, int) and minimum > len(r_tokens) + len(c_tokens):
        c_tokens += filler(minimum - len(r_tokens) - len(c_tokens), offset=len(c_tokens))

    planned: list[PlannedToolCall] = []
    for i, (tool, overrides) in enumerate(calls):
        args = _arguments(tool, overrides, hints)
        text = json.dumps(args, indent=spec.arguments_indent)
        call_id = hashlib.sha256(digest + bytes([i % 256])).hexdigest()[:9]
        planned.append(PlannedToolCall(call_id, tool["function"]["name"], text, tokenize(text)))

    if len(r_tokens) > budget or (len(r_tokens) == budget and (c_tokens or planned)):
        r_tokens, c_tokens, planned, finish_reason = r_tokens[:budget], [], [], "length"
    elif len(r_tokens) + len(c_tokens) > budget:
        c_tokens, planned, finish_reason = c_tokens[: budget - len(r_tokens)], [], "length"
    elif planned and len(r_tokens) + sum(len(c.argument_tokens) + 1 for c in planned) > budget:
        planned, finish_reason = [], "length"
    elif planned:
        finish_reason = "tool_calls"

    result = Completion(finish_reason=finish_reason, tool_calls=planned)
    result.has_content = content is not None or not planned
    result.content_pieces = c_tokens
    if reasoning.placement == "field":
        result.reasoning_pieces = r_tokens
    result.reasoning_tokens = len(r_tokens) + min(raw_reasoning_tokens, len(c_tokens))

    prediction = body.get("prediction")
    if prediction is not None:
        predicted = [t.strip() for t in tokenize(content_text(prediction.get("content")))]
        produced = Counter(t.strip() for t in c_tokens)
        accepted = sum(min(n, produced[t]) for t, n in Counter(predicted).items())
        result.accepted_prediction_tokens = accepted
        result.rejected_prediction_tokens = len(predicted) - accepted

    prompt, image_tokens = render_prompt(body, spec)
    result.prompt_token_list = prompt
    result.image_tokens = image_tokens
    result.prompt_tokens = len(prompt) + image_tokens
    result.completion_tokens = (
        len(r_tokens)
        + len(c_tokens)
        + sum(len(c.argument_tokens) + 1 for c in planned)
        + result.rejected_prediction_tokens
    )
    return result


def logprob_entry(token: str, top: int) -> dict[str, Any]:
    """A deterministic logprobs entry for one token (docs/api-facts.md#logprobs shape)."""
    value = -((zlib.crc32(token.encode()) % 2000) / 10000.0)
    alternatives = [{"token": token, "logprob": value, "bytes": list(token.encode())}]
    for k in range(1, top):
        alt = f"{token.strip() or token}~{k}"
        alternatives.append({"token": alt, "logprob": round(value - 1.5 * k, 4), "bytes": list(alt.encode())})
    return {"token": token, "logprob": value, "bytes": list(token.encode()), "top_logprobs": alternatives[:top]}


def _fit_to_schema(wanted: Any, generated: Any, schema: dict[str, Any]) -> Any:
    """A scenario's structured reply, kept only where it fits the request's schema: the reply must validate
    against the schema the caller sent, so keys the schema lacks are dropped and values of the wrong type are
    replaced by the generated instance's."""
    if not isinstance(wanted, dict) or not isinstance(generated, dict):
        return generated
    props = schema.get("properties") or {}
    out = dict(generated)
    for key, value in wanted.items():
        prop = props.get(key)
        if isinstance(prop, dict) and fits(value, prop):
            out[key] = value
    return out
