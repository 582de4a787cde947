"""A crude, deterministic tokenizer and the block-based prefix cache built on it.

The emulator needs token counts that behave like real ones (grow with the text, split a stream into
pieces), not the exact counts of any real tokenizer. A token here is a word, number or single punctuation
mark together with the whitespace before it, so ``"".join(tokenize(s)) == s`` always holds and a stream of
tokens re-assembles to the exact text.

Prompt caching (docs/api-facts.md#prompt-caching): automatic, prefix-based and block-based. The emulator hashes the
rendered prompt in blocks of ``block_tokens`` tokens, chained so a block's hash covers everything before it,
and reports ``cached_tokens`` as the number of tokens in the leading blocks already seen for the same key and
model.

It must not pretend to be a real tokenizer: tests may rely on counts growing with text, never on their values.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import OrderedDict

__all__ = ["FILLER_TOKENS", "PrefixCache", "count_tokens", "filler", "tokenize"]

_TOKEN_RE = re.compile(r"\s*\w+|\s*[^\w\s]|\s+")


def tokenize(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    return len(_TOKEN_RE.findall(text))


_FILLER_TEXT = (
    " The emulator streams this sentence as filler text, one token at a time, so long replies cost almost"
    " nothing to produce. Every request with the same body receives the same words in the same order."
)
FILLER_TOKENS: tuple[str, ...] = tuple(tokenize(_FILLER_TEXT))


def filler(n: int, offset: int = 0) -> list[str]:
    """``n`` deterministic filler tokens (cycling one paragraph), starting at ``offset``."""
    if n <= 0:
        return []
    period = len(FILLER_TOKENS)
    reps = (offset + n) // period + 1
    return list((FILLER_TOKENS * reps)[offset % period : offset % period + n])


class PrefixCache:
    """Per (key, model) set of chained block hashes with a time-to-live and a size bound."""

    def __init__(self, block_tokens: int = 128, ttl: float = 3600.0, max_entries: int = 200_000) -> None:
        self.block_tokens = block_tokens
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, float] = OrderedDict()

    def clear(self) -> None:
        self._entries.clear()

    def lookup_and_store(self, scope: str, tokens: list[str]) -> int:
        """Return how many leading tokens were cached, then remember every full block of ``tokens``."""
        block = self.block_tokens
        now = time.monotonic()
        digest = hashlib.sha256(scope.encode())
        cached = 0
        hitting = True
        entries = self._entries
        for start in range(0, len(tokens) - block + 1, block):
            digest.update("\x1f".join(tokens[start : start + block]).encode())
            key = digest.digest()
            expires = entries.get(key)
            if hitting and expires is not None and expires > now:
                cached += block
            else:
                hitting = False
            entries[key] = now + self.ttl
            entries.move_to_end(key)
        while len(entries) > self.max_entries:
            entries.popitem(last=False)
        return cached
