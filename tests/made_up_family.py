"""A made-up model family ("acme") for the client and its twin for the emulator, added at runtime.

Adding a family is one ``Family(...)`` on the client's side and, because the emulator is an independent model
of the server, one ``ModelSpec(...)`` on the emulator's: nothing else. ``made_up_family()`` adds both and takes
them away again.

The two descriptions agree on everything but one fact, on purpose: the client's family says ``tool_choice`` is
"auto" or "none" only (as gpt-oss's does), while the emulated ``acme-1`` has since learned to take "required".
That is the "service moved faster than the library" case ``validation="warn"`` / ``"off"`` exist for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cerebras_adapters.families import Family, register_family, unregister_family
from cerebras_adapters.testing._models import ModelSpec, add_model, remove_model

MODEL = "acme-1"

ACME = Family(
    name="acme",
    prefixes=("acme-",),
    reasoning="toggleable",
    reasoning_efforts=("none", "low", "high"),
    reasoning_replay="think_tags",
    tool_choice_modes=("auto", "none"),
    developer_role=True,
)

ACME_1 = ModelSpec(
    id=MODEL,
    openrouter_id=None,
    hugging_face_id="acme/acme-1",
    display_name="Acme 1",
    created=1_800_000_000,
    context_length=65536,
    max_output=8192,
    price_in=0.5,
    price_out=1.0,
    reasoning="default_on",
    efforts=("none", "low", "high"),
    developer_role=True,
)


@contextmanager
def made_up_family() -> Iterator[Family]:
    register_family(ACME)
    add_model(ACME_1)
    try:
        yield ACME
    finally:
        remove_model(MODEL)
        unregister_family(ACME.name)
