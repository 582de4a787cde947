"""LangChain integration: ``from cerebras_adapters.langchain import ChatCerebras``.

Importing this module imports ``langchain_core`` (the ``langchain`` extra); ``import cerebras_adapters`` alone
does not.
"""

from ._convert import register_content_translator
from .chat_models import ChatCerebras, GovernorRateLimiter

register_content_translator()

__all__ = ["ChatCerebras", "GovernorRateLimiter"]
