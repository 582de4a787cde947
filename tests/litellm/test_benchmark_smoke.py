"""The LiteLLM benchmark still runs: tiny repeats against the emulator, every workload reported.

Speed is never asserted here; ``python -m benchmarks.litellm_provider`` reports it (docs/litellm.md).
"""

from __future__ import annotations

from benchmarks import litellm_provider
from cerebras_adapters.testing import EmulatorServer


def test_litellm_benchmark_reports_every_workload_with_positive_timings(
    cerebras_emulator_server: EmulatorServer,
) -> None:
    rows = litellm_provider.run(repeats=2, stream_repeats=2, chunks=40, base_url=cerebras_emulator_server.base_url)

    assert [row.workload for row in rows] == list(litellm_provider.WORKLOADS)
    for row in rows:
        assert row.repeats == 2
        assert row.built_in_ms > 0 and row.ours_ms > 0
        assert row.goal == litellm_provider.GOALS[row.workload]
    assert [row.chunks for row in rows if row.chunks] == [40, 40, 40, 40]


def test_litellm_benchmark_table_marks_a_missed_goal() -> None:
    row = litellm_provider.Row("stream, default settings", 5, 1000, 100.0, 90.0, 1.3, 1.1)

    table = litellm_provider.render([row])

    assert "| stream, default settings (1000 chunks) | 5 | 100.0 | 90.0 | 1.11× | ≥ 1.3× | **miss** | 1.10× |" in table
