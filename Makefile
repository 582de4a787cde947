# One entry point for a fresh clone: each target bootstraps its own environment with uv.
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(shell python3 -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1; command -v uv || echo python3 -m uv)
endif

.PHONY: demo test lint bench sync record docs

sync:
	$(UV) sync --locked --inexact --group dev --group bench

# The demo: live with CEREBRAS_API_KEY (or OPENROUTER_API_KEY), otherwise on the built-in contract emulator.
demo: sync
	$(UV) run --no-sync cerebras-adapters demo

# The test command: unit + contract tests (network blocked except loopback), then ruff and mypy --strict.
test: sync
	$(UV) run --no-sync pytest
	$(UV) run --no-sync ruff check src tests benchmarks
	$(UV) run --no-sync mypy src
	NO_MKDOCS_2_WARNING=1 $(UV) run --no-sync mkdocs build --strict --quiet

docs: sync
	NO_MKDOCS_2_WARNING=1 $(UV) run --no-sync mkdocs build --strict

lint: sync
	$(UV) run --no-sync ruff check src tests benchmarks
	$(UV) run --no-sync mypy src

bench:
	$(UV) sync --locked --group dev --group bench
	$(UV) run --no-sync python -m benchmarks

# Property-based fuzzing of the whole request surface (tests/test_fuzz_requests.py) with the "deep" hypothesis
# profile: ~50x the examples the test command runs, fresh randomness each run (a failure prints its reproduction).
.PHONY: fuzz
fuzz: sync
	HYPOTHESIS_PROFILE=deep $(UV) run --no-sync pytest tests/test_fuzz_requests.py -q

# Re-record every cassette: live for each route whose key is set (CEREBRAS_API_KEY / OPENROUTER_API_KEY),
# against the contract emulator otherwise. CI only ever replays.
record: sync
	$(UV) run --no-sync python -m tests.record
