"""Sending earlier reasoning back to the model in the form it accepts.

This module owns the replay rule (docs/api-facts.md#reasoning-replay): never send ``reasoning_content`` (400
``wrong_api_format``); gpt-oss (and gemma) take the assistant ``reasoning`` field (RT-06); GLM and Qwen take
``<think>…</think>`` prepended to ``content`` (RT-05), and on zai-glm-4.7 the server strips it unless
``clear_thinking=False`` is sent. Which form a model takes is its ``ModelInfo.reasoning_replay``, i.e. its
family's unless its catalog row says otherwise, so a model the catalog does not list (``zai-glm-5``) gets its
family's form; an id of no known family gets the ``reasoning`` field. Adapters call this; they must not
re-implement it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .catalog import Catalog, default_catalog

__all__ = ["replay_reasoning", "split_think_tags"]

_REASONING_KEYS = ("reasoning_content", "reasoning", "thinking")


def replay_reasoning(
    model: str, messages: Iterable[Mapping[str, Any]], *, route: str = "cerebras", catalog: Catalog | None = None
) -> list[dict[str, Any]]:
    """Return ``messages`` with assistant reasoning moved to where ``model`` accepts it.

    Assistant messages may carry reasoning as ``reasoning_content`` (LiteLLM, OpenAI-style frameworks),
    ``reasoning`` or ``thinking``; the result carries it as the ``reasoning`` field (gpt-oss, gemma, unknown
    models, and every model on the OpenRouter route) or as ``<think>…</think>`` in ``content`` (GLM, Qwen).
    Other messages are passed through unchanged (as new dicts).
    """
    info = (catalog or default_catalog()).get(model)
    style = "reasoning_field" if route != "cerebras" or info is None else info.reasoning_replay
    out: list[dict[str, Any]] = []
    for message in messages:
        msg = dict(message)
        if msg.get("role") == "assistant":
            reasoning = None
            for key in _REASONING_KEYS:
                value = msg.pop(key, None)
                if value and reasoning is None:
                    reasoning = _text(value)
            if reasoning:
                if style == "think_tags":
                    content = _text(msg.get("content")) or ""
                    msg["content"] = f"<think>{reasoning}</think>{content}"
                elif style == "reasoning_field":
                    msg["reasoning"] = reasoning
                # "none": the model does not reason, so there is nothing it could take back
        out.append(msg)
    return out


def split_think_tags(content: str) -> tuple[str | None, str]:
    """Split ``<think>…</think>`` reasoning (raw format on GLM/Qwen) off the front of ``content``."""
    stripped = content.lstrip()
    if not stripped.startswith("<think>"):
        return None, content
    end = stripped.find("</think>")
    if end < 0:
        return stripped[len("<think>") :], ""
    return stripped[len("<think>") : end], stripped[end + len("</think>") :].lstrip("\n")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(p.get("text", "") if isinstance(p, Mapping) else str(p) for p in value)
    return str(value)
