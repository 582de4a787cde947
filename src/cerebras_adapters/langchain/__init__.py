"""LangChain integration: ``from cerebras_adapters.langchain import ChatCerebras``.

Importing this module imports ``langchain_core`` (the ``langchain`` extra); ``import cerebras_adapters`` alone
does not.
"""

from .chat_models import ChatCerebras

__all__ = ["ChatCerebras"]
