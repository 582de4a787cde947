"""The benchmarks still run: tiny repeats against the real servers, every path and workload reported.

Speed is never asserted here (timed assertions in tests are forbidden); ``python -m benchmarks`` reports it.
Peers that are not installed (the ``bench`` dependency group) must show up as such, never silently vanish.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path

# Before anything imports LiteLLM: it would otherwise fetch its cost map from the network.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import httpx
import pytest

from benchmarks import core_vs_httpx, langchain_chat, peers
from benchmarks.emulator import EmulatorProcess
from benchmarks.loopback import LoopbackServer
from benchmarks.report import Section, Suite, run_cli, write_sections


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


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess() as running:
        yield running


TINY = peers.Settings(
    repeats=2,
    stream_repeats=2,
    chunks=20,
    concurrent=4,
    concurrent_tokens=8,
    concurrent_repeats=2,
    import_runs=1,
    import_only=frozenset({"httpx"}),  # the others take up to seconds each (LiteLLM ~3 s)
    warmup=0,
)


def test_emulator_process_answers_on_loopback_with_the_requested_reply_length(emulator: EmulatorProcess) -> None:
    body = {"model": "gpt-oss-120b", "messages": [{"role": "user", "content": "hi"}]}
    headers = {"Authorization": "Bearer csk-bench", "x-emulator-reply-tokens": "7"}
    with httpx.Client() as http:
        warm = http.get(f"{emulator.base_url}/tcp_warming")
        reply = http.post(f"{emulator.base_url}/chat/completions", json=body, headers=headers).json()

    assert emulator.base_url.startswith("http://127.0.0.1:")
    assert warm.status_code == 200
    assert reply["usage"]["completion_tokens"] - reply["usage"]["completion_tokens_details"]["reasoning_tokens"] == 7


def test_peers_benchmark_reports_every_path_on_every_workload(emulator: EmulatorProcess) -> None:
    results = peers.run(TINY, base_url=emulator.base_url)

    rounds = {
        "sync call": 2,
        "sync stream": 2,
        "async call": 2,
        "async stream": 2,
        "concurrent streams": 2,
        "import": 1,
    }
    assert list(rounds) == list(peers.WORKLOADS)
    for contender in peers.CONTENDERS:
        missing = contender.unavailable()
        for workload, repeats in rounds.items():
            cell = results.cell(contender.key, workload)
            if missing is not None:
                assert cell.note == missing
            elif workload == "import" and contender.key not in (TINY.import_only or ()):
                assert cell.note == "not measured in this run"
            else:
                assert cell.note is None, (contender.key, workload, cell.note)
                assert len(cell.samples) == repeats and all(s > 0 for s in cell.samples)
                assert (results.ratio(contender.key, workload) or 0) > 0


def test_only_peers_that_are_not_installed_lack_figures() -> None:
    # The bench dependency group brings the SDK and langchain-cerebras; dev brings openai and LiteLLM.
    for contender in peers.CONTENDERS:
        installed = all(importlib.util.find_spec(module.split(".")[0]) for module in contender.needs)
        assert (contender.unavailable() is None) == installed, contender.key


def test_peers_table_has_a_row_per_path_and_a_column_per_workload() -> None:
    results = peers.Results(TINY, peers.CONTENDERS)
    results.cells["httpx", "sync call"] = peers.Cell((0.001, 0.003))
    results.cells["core", "sync call"] = peers.Cell((0.003,))
    results.cells["openai", "sync call"] = peers.Cell(note="not installed")
    table = peers.render(results)

    lines = table.splitlines()
    assert lines[0].count("|") == len(peers.WORKLOADS) + 2
    assert "20 chunks" in lines[0] and "4 concurrent async streams (8 chunks)" in lines[0]
    for contender in peers.CONTENDERS:
        assert sum(line.startswith(f"| {contender.label} |") for line in lines) == 1
    assert "| raw httpx | 2.00 (1.00×) |" in table
    assert "| **cerebras-adapters** core | 3.00 (1.50×) |" in table
    assert "] not installed" in table


def test_langchain_benchmark_reports_both_lengths_and_invoke(emulator: EmulatorProcess) -> None:
    pytest.importorskip("langchain_cerebras")  # the bench dependency group
    results = langchain_chat.run(repeats=2, stream_repeats=1, chunks=10, base_url=emulator.base_url)

    assert [(row.chunks, row.frozen) for row in results.streams] == [(10, True), (40, True), (40, False)]
    for row in results.streams:
        assert row.events > row.chunks
        assert min(row.ours_ms, row.theirs_ms, row.floor_ms, row.floor_built_ms, row.httpx_ms) > 0
        assert row.speedup > 0 and row.over_floor > 0
    assert results.invoke.repeats == 2
    assert min(results.invoke.ours_ms, results.invoke.theirs_ms, results.invoke.httpx_ms) > 0
    assert set(results.retained) == {"ours", "langchain-cerebras"}
    table = langchain_chat.render(results)
    assert "| 10 chunks (" in table and "| 40 chunks (" in table and ", default GC |" in table
    assert "| invoke (64-token reply) |" in table


def test_naming_a_suite_runs_only_that_suite(capsys: pytest.CaptureFixture[str]) -> None:
    ran: list[str] = []

    def suite(slug: str) -> Suite:
        def measure(args: argparse.Namespace) -> Section:
            ran.append(slug)
            return Section(slug, slug.upper(), "body")

        return Suite(slug, slug.upper(), measure)

    assert run_cli(["b"], [suite("a"), suite("b"), suite("c")], prog="bench") == 0
    assert ran == ["b"]
    assert "## B" in capsys.readouterr().out
    assert run_cli([], [suite("a"), suite("b")], prog="bench") == 0
    assert ran == ["b", "a", "b"]
