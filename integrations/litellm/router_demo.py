"""Run the LiteLLM Router recipe (router.yaml) and print what happened, as JSON.

    python integrations/litellm/router_demo.py

With CEREBRAS_API_KEY and OPENROUTER_API_KEY set it runs live; otherwise against the contract emulator started
in-process, where it also shows a 429 from Cerebras being answered by the OpenRouter fallback. The function
behind it is ``cerebras_adapters.litellm.demo.router_demo`` (what ``cerebras-adapters demo`` calls).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is imported

from cerebras_adapters.litellm.demo import router_demo

CONFIG = Path(__file__).with_name("router.yaml")


def main() -> None:
    if os.environ.get("CEREBRAS_API_KEY") and os.environ.get("OPENROUTER_API_KEY"):
        result = router_demo(config=CONFIG)
    else:
        from cerebras_adapters.testing import EmulatorServer

        with EmulatorServer(tokens_per_second=3000) as emulator:
            result = router_demo(
                emulator.base_url,
                openrouter_base_url=emulator.openrouter_base_url,
                api_key="csk-demo",
                openrouter_api_key="sk-or-demo",
                inject_429=lambda: emulator.fail_next(1, "429"),
                config=CONFIG,
            )
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
