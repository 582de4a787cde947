"""LlamaIndex adapter: ``Cerebras``, a ``FunctionCallingLLM`` on the cerebras_adapters core.

Install with ``pip install "cerebras-adapters[llama-index]"`` (needs ``llama-index-core`` only). Migrating from
llama-index-llms-cerebras is one import::

    from cerebras_adapters.llama_index import Cerebras   # was: from llama_index.llms.cerebras import Cerebras

``CerebrasLLM`` is the same class, for code that imports several LLMs named after their provider.
"""

from .llms import Cerebras

CerebrasLLM = Cerebras

__all__ = ["Cerebras", "CerebrasLLM"]
