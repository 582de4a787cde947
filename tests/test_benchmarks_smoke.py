"""The benchmarks still run: tiny repeats against the real servers, every path and workload reported.

Speed is never asserted here (timed assertions in tests are forbidden); ``python -m benchmarks`` reports it.
Peers that are not installed (the ``bench`` dependency group) must show up as such, never silently vanish.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path

# Before anything imports LiteLLM: it would otherwise fetch its cost map from the network.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import httpx
import pytest

from benchmarks import core_vs_httpx, langchain_chat, llama_index_chat, peers, streams
from benchmarks.__main__ import SUITES
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
    # Imports: measured by the shared import_walls the LlamaIndex smoke test runs; here only their table.
    results = langchain_chat.run(repeats=2, stream_repeats=1, chunks=10, base_url=emulator.base_url, import_runs=0)

    assert [(row.chunks, row.frozen, row.coalesce) for row in results.streams] == [
        (10, True, False),
        (40, True, False),
        (40, False, False),
        (40, False, True),
    ]
    assert 1 <= results.streams[-1].ours_chunks <= 40
    for row in results.streams:
        assert row.events > row.chunks
        assert min(row.ours_ms, row.theirs_ms, row.floor_ms, row.floor_built_ms, row.httpx_ms) > 0
        assert row.speedup > 0 and row.over_floor > 0
    assert results.invoke.repeats == 2
    assert min(results.invoke.ours_ms, results.invoke.theirs_ms, results.invoke.httpx_ms) > 0
    assert set(results.retained) == {"ours", "langchain-cerebras"}
    for row in results.streams:  # full collections are counted per path on the default-GC rows only
        assert set(row.full_gcs) == set(row.net_ms) == (set() if row.frozen else set(langchain_chat.COLLECTED))
        assert all(0 < row.net_ms[key] <= max(row.ours_ms, row.theirs_ms, row.floor_built_ms) for key in row.net_ms)
    assert [row.bound for row in results.streams] == [2.0, 2.0, 2.5, 2.5]
    table = langchain_chat.render(results)
    assert "| 10 chunks (" in table and "| 40 chunks (" in table and ", default GC |" in table
    gc_rows = table.split("full GCs taken out |", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    assert len(gc_rows) == 2 and all(", default GC" in line for line in gc_rows)
    assert ", default GC, ours coalescing (" in table
    assert "| invoke (64-token reply) |" in table
    assert results.imports is None and "language_models" not in table
    seconds = {"ours": 1.2, "reference": 1.0, "base": 1.1, "peer": 1.5}
    with_imports = dataclasses.replace(results, imports=langchain_chat.ImportRow(3, seconds))
    table = langchain_chat.render(with_imports)
    reference = "| `import langchain_core.language_models, httpx` | the issue's reference | 3 | 1.000 | 1.20× | pass |"
    assert reference in table
    peer = "| `from langchain_cerebras import ChatCerebras` | langchain-cerebras `ChatCerebras` | 3 | 1.500 | 0.80× |"
    assert peer in table
    extra = {"langsmith": 0.5, "cerebras_adapters": 0.2, "httpx": 0.3}
    table = langchain_chat.render(dataclasses.replace(results, imports=langchain_chat.ImportRow(3, seconds, extra)))
    assert "`langsmith` 50%, `cerebras_adapters` 20%, `httpx` 30%, the rest 0%. Our own modules are 20% of it" in table


def test_import_profile_names_what_the_code_imports_beyond_the_reference() -> None:
    shares = langchain_chat.import_profile("import json, email.mime.text", "import json", 1)

    assert "email" in shares and "json" not in shares
    assert abs(sum(shares.values()) - 1.0) < 1e-9


def test_llama_index_benchmark_reports_stream_chat_chat_and_import(emulator: EmulatorProcess) -> None:
    pytest.importorskip("llama_index.core")
    results = llama_index_chat.run(repeats=2, stream_repeats=1, chunks=10, import_runs=0, base_url=emulator.base_url)

    stream, chat = results.stream, results.chat
    assert stream.chunks == 10 and stream.events > stream.chunks and stream.repeats == 1
    assert min(stream.ours_ms, stream.floor_ms, stream.httpx_ms, chat.ours_ms, chat.floor_ms, chat.httpx_ms) > 0
    peer_installed = importlib.util.find_spec("llama_index.llms.cerebras") is not None
    assert (stream.theirs_ms is not None) == (chat.theirs_ms is not None) == peer_installed
    assert llama_index_chat.SUITE in SUITES
    imports = llama_index_chat.ImportRow(1, {"ours": 0.2, "floor": 0.25, "peer": 0.4})
    table = llama_index_chat.render(llama_index_chat.Results(stream, chat, imports, results.chat_tokens))
    assert "| 10 chunks (" in table and "| chat (64-token reply) |" in table
    assert "| `import cerebras_adapters.llama_index` | 1 | 0.200 | 0.80× (≤ 1.3×: pass) |" in table


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


def test_streams_suite_runs_every_client_process_and_reports_a_row_per_k() -> None:
    # One row per child process but the proxy's (its start-up alone takes tens of seconds), each a row that exists
    # whichever coalescing options the adapters have; bounds that every finished stream meets, so the sweep reaches
    # K = 2 whatever the machine's speed.
    paths = ("httpx", "core-coalesce", "langchain", "llama-index-coalesce", "litellm")
    settings = streams.Settings(tokens=30, ks=(1, 2), min_tok_s=0, max_lag_ms=1e9, timeout=60, paths=paths)

    results = streams.run(settings)

    assert streams.SUITE in SUITES
    assert results.failures == {} and results.unavailable == {}
    for key in paths:
        runs = results.runs[key]
        assert [run.k for run in runs] == [1, 2], key
        for run in runs:
            assert (run.errors, run.first_error) == (0, None), key
            assert len(run.tok_s) == len(run.lag_ms) == run.k and run.tokens == 30 * run.k
            assert run.full_gcs is not None and run.full_gcs >= 0 and run.longest_gc_ms >= 0, key
    body = streams.section(results).body
    assert "| full GCs / longest, ms |" in body
    for spec in settings.chosen():
        assert f"#### {spec.label}" in body
    assert "<polyline" in streams.render_svg(results)


def test_the_streams_suite_counts_the_full_collections_that_ran_while_it_measured() -> None:
    import gc

    from benchmarks import report

    pauses = report.GCPauses()
    pauses.start()
    gc.collect(1)  # not a full collection
    gc.collect()
    gc.collect()
    count, longest_ms = pauses.stop()
    gc.collect()  # after stop: not counted
    assert count == 2 and longest_ms > 0
    assert pauses.total * 1000 >= longest_ms  # the two collections' time in all
    assert pauses.start().stop() == (0, 0.0)
    pauses.close()


def test_governor_suite_runs_every_contender_on_one_quota_and_reports_a_row_each(redis_server: str) -> None:
    # A tiny workload that outgrows its tiny quota's bucket, so pacing and 429s happen; no figure is asserted, only
    # that every contender ran all its requests against its own fresh quota and the report shows it.
    from dataclasses import replace

    from benchmarks import governor

    settings = replace(governor.QUICK, redis_url=redis_server)

    results = governor.run(settings)

    assert governor.SUITE in SUITES
    assert [r.contender.key for r in results] == [c.key for c in governor.CONTENDERS]
    for r in results:
        assert r.failure == "", (r.contender.key, r.failure)
        assert len(r.records) == settings.requests and r.processes == (2 if r.contender.multi else 1)
        # Every answered request was admitted once on the measured key, and nothing else reached it.
        assert r.server["requests"] == r.completed > 0, (r.contender.key, r.server, r.first_error)
        assert (r.governor is not None) == bool(r.contender.governor)
    table = governor.render(results, settings)
    assert all(f"| {c.label} |" in table for c in governor.CONTENDERS)
    assert "Goal (issue 12" in governor.section(results, settings).body
    assert governor.svg(results, settings).count("<polyline") == len(results)
