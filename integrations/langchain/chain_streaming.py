"""A prompt | model | parser chain, streamed token by token.

Run: ``python integrations/langchain/chain_streaming.py`` (live with CEREBRAS_API_KEY; point CEREBRAS_BASE_URL
at ``cerebras-adapters emulator`` to run offline).
"""

from __future__ import annotations

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from cerebras_adapters.langchain import ChatCerebras


def main(route: str = "cerebras") -> str:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are a concise assistant."), ("human", "Tell me a short joke about {topic}.")]
    )
    chain = prompt | ChatCerebras(model="gpt-oss-120b", reasoning_effort="low", route=route) | StrOutputParser()
    pieces = []
    for piece in chain.stream({"topic": "cats"}):
        print(piece, end="", flush=True)
        pieces.append(piece)
    print()
    return "".join(pieces)


if __name__ == "__main__":
    main()
