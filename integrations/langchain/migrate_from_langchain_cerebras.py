"""Migrating from langchain-cerebras: change the import, keep the code.

    - from langchain_cerebras import ChatCerebras
    + from cerebras_adapters.langchain import ChatCerebras

The constructor arguments langchain-cerebras takes (``model``, ``api_key`` / ``cerebras_api_key``,
``base_url`` / ``cerebras_api_base``, ``cerebras_proxy``, ``temperature``, ``max_tokens``, ``timeout``,
``max_retries``, ``reasoning_effort``, ``streaming``, ``model_kwargs``, ``disabled_params``) mean the same here, and
so do the attributes code reads back (``llm.cerebras_api_key``, ``llm.cerebras_api_base``, ``llm.max_tokens``). An
argument neither knows goes to ``model_kwargs`` with a warning, as there. What changes is what you get: reasoning
in one place on every path, ``time_info`` and rate limits in ``response_metadata``, every Cerebras option as a
field, and reasoning sent back correctly on the next turn.
"""

from __future__ import annotations

import os

from langchain_core.messages import HumanMessage

from cerebras_adapters.langchain import ChatCerebras


def main() -> str:
    # Code written for langchain-cerebras 0.8.2, unchanged but for the import above.
    llm = ChatCerebras(
        model="gpt-oss-120b",
        cerebras_api_key=os.environ.get("CEREBRAS_API_KEY"),
        temperature=0.2,
        max_tokens=512,
        reasoning_effort="low",
    )
    print("sending to", llm.cerebras_api_base, "with max_tokens", llm.max_tokens)
    first = llm.invoke([HumanMessage("What is 2+2?")])
    second = llm.invoke([HumanMessage("What is 2+2?"), first, HumanMessage("And times three?")])
    print(first.content, "|", second.content)
    print("reasoning:", first.additional_kwargs.get("reasoning_content"))
    return str(second.content)


if __name__ == "__main__":
    main()
