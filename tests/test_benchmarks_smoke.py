"""The benchmarks still run: tiny repeats against the real loopback server, every workload reported.

Speed is never asserted here (timed assertions in tests are forbidden); ``python -m benchmarks`` reports it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from benchmarks import core_vs_httpx
from benchmarks.loopback import LoopbackServer
from benchmarks.report import Section, write_sections


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


def test_core_benchmark_reports_every_workload_with_positive_timings(server: LoopbackServer) -> None:
    rows = core_vs_httpx.run(repeats=2, chunks=20, stream_repeats=2, warmup=1, base_url=server.base_url)

    assert [row.workload for row in rows] == list(core_vs_httpx.WORKLOADS)
    for row in rows:
        assert row.repeats == 2
        assert row.raw_ms > 0 and row.ours_ms > 0
        assert row.paired_ratio is not None and row.paired_ratio > 0
        assert row.bound == core_vs_httpx.BOUNDS[row.workload]
    assert [row.chunks for row in rows] == [0, 20, 0, 20]


def test_core_benchmark_table_has_a_row_per_workload() -> None:
    bounds = core_vs_httpx.BOUNDS
    rows = [
        core_vs_httpx.Row(workload, 2, 20 if workload.endswith("stream") else 0, 1.0, 1.5, bounds[workload])
        for workload in core_vs_httpx.WORKLOADS
    ]
    table = core_vs_httpx.render(rows)

    for workload in core_vs_httpx.WORKLOADS:
        assert f"| {workload}" in table
    assert "| sync stream (20 chunks) | 2 | 1.000 | 1.500 | 1.50× | ≤ 2× | pass | – |" in table
    assert "| sync non-streamed | 2 | 1.000 | 1.500 | 1.50× | ≤ 1.2× | **FAIL** | – |" in table


def test_loopback_stream_ends_without_done_and_its_last_chunk_carries_usage(server: LoopbackServer) -> None:
    url, headers = f"{server.base_url}/chat/completions", {"x-bench-chunks": "5"}
    with httpx.Client() as http, http.stream("POST", url, json={"stream": True}, headers=headers) as response:
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["transfer-encoding"] == "chunked"
        events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]

    assert len(events) == 5 and "[DONE]" not in events
    last = json.loads(events[-1])
    assert last["choices"][0]["finish_reason"] == "stop"
    assert "usage" in last and "time_info" in last
    assert json.loads(events[0])["choices"][0]["delta"] == {"role": "assistant"}


def test_writing_a_section_replaces_only_that_section(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    write_sections([Section("a", "Suite A", "first"), Section("b", "Suite B", "other")], doc)
    write_sections([Section("a", "Suite A", "second")], doc)

    text = doc.read_text()
    assert "second" in text and "first" not in text and "other" in text
    assert text.index("## Suite A") < text.index("## Suite B")
