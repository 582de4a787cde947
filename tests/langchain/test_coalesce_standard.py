"""LangChain's standard integration suite for ChatCerebras once more, with stream coalescing asked for explicitly
(``coalesce=True`` and a ``coalesce_ms`` window), replayed from the standard suite's own cassettes: coalescing is
client-side, so the requests are the same ones."""

from __future__ import annotations

from typing import Any

import pytest

from tests import recording
from tests.langchain.integration_tests import test_standard as standard
from tests.langchain.integration_tests.test_standard import _image_without_network, _point_at_target  # noqa: F401

pytestmark = pytest.mark.vcr


@pytest.fixture
def vcr_cassette_dir(record_mode: str, default_cassette_name: str) -> str:
    module = standard.__name__.removeprefix("tests.")
    where = recording.provenance("cerebras", record_mode, module, default_cassette_name)
    return str(recording.CASSETTES / where / module)


class TestChatCerebras(standard.TestChatCerebras):
    """The gpt-oss-120b suite (same class name: same cassettes), coalescing every stream."""

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {**super().chat_model_params, "coalesce": True, "coalesce_ms": 2.0}
