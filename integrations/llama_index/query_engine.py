"""A LlamaIndex query engine on Cerebras: a ``VectorStoreIndex`` over a few in-memory documents, answered by
``cerebras_adapters.llama_index.Cerebras``. The embeddings are a local stand-in (``MockEmbedding``: no network, no
key); swap in a real embedding model for real retrieval.

    python integrations/llama_index/query_engine.py [model]

With CEREBRAS_API_KEY set it runs live; otherwise against the contract emulator, started in-process.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from llama_index.core import Document, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding

from cerebras_adapters.llama_index import Cerebras

DOCUMENTS = [
    Document(text="Cerebras builds the wafer-scale engine, a processor the size of a whole silicon wafer."),
    Document(text="The capital of France is Paris, on the Seine."),
    Document(text="Cerebras Inference serves gpt-oss-120b, GLM and Gemma models."),
]
QUESTION = "What is the capital of France?"


def run(model: str, **connection: Any) -> str:
    llm = Cerebras(model=model, reasoning_effort="low", **connection)
    index = VectorStoreIndex.from_documents(DOCUMENTS, embed_model=MockEmbedding(embed_dim=16))
    engine = index.as_query_engine(llm=llm, similarity_top_k=2, streaming=True)
    response = engine.query(QUESTION)
    answer = ""
    for token in response.response_gen:  # tokens as Cerebras streams them
        answer += token
        print(token, end="", flush=True)
    print()
    return answer


def main(model: str = "gpt-oss-120b") -> str:
    if os.environ.get("CEREBRAS_API_KEY"):
        return run(model)
    from cerebras_adapters.testing import EmulatorServer

    with EmulatorServer() as emulator:
        return run(model, api_base=emulator.base_url, api_key="csk-demo")


if __name__ == "__main__":
    main(*sys.argv[1:2])
