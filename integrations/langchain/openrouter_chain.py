"""The same chain on the OpenRouter route, pinned to the Cerebras provider: one switch, same behaviour.

Run with OPENROUTER_API_KEY set (OPENROUTER_BASE_URL can point at the emulator's ``/api/v1``).
"""

from __future__ import annotations

from chain_streaming import main as run_chain


def main() -> str:
    return run_chain(route="openrouter")


if __name__ == "__main__":
    main()
