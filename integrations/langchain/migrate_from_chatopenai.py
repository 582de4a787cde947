"""Migrating from ``ChatOpenAI(base_url="https://api.cerebras.ai/v1")``: change the import and drop the URL.

    - from langchain_openai import ChatOpenAI
    - llm = ChatOpenAI(model="gpt-oss-120b", base_url="https://api.cerebras.ai/v1", api_key=...)
    + from cerebras_adapters.langchain import ChatCerebras
    + llm = ChatCerebras(model="gpt-oss-120b")

ChatOpenAI sends OpenAI's parameters and reads OpenAI's response; against Cerebras it drops the reasoning,
``time_info`` and the rate-limit headers, and sends reasoning back in a form Cerebras rejects. The common
ChatOpenAI arguments (``model``, ``api_key``, ``base_url``, ``temperature``, ``max_tokens``, ``timeout``,
``max_retries``, ``streaming``, ``model_kwargs``, ``extra_body``) are accepted as they are.
"""

from __future__ import annotations

from cerebras_adapters.langchain import ChatCerebras


def main() -> str:
    llm = ChatCerebras(model="gpt-oss-120b", temperature=0, max_tokens=512, timeout=30, max_retries=2,
                       model_kwargs={"reasoning_effort": "low"})
    chunks = list(llm.stream("Say hello in French."))
    text = "".join(str(c.content) for c in chunks)
    total = sum(chunks[1:], chunks[0])
    print(text)
    print("usage:", total.usage_metadata, "| time_info:", total.response_metadata.get("time_info"))
    return text


if __name__ == "__main__":
    main()
