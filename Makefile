# One entry point for a fresh clone: each target bootstraps its own environment with uv.
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(shell python3 -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1; command -v uv || echo python3 -m uv)
endif

.PHONY: demo test lint bench sync record docs test-crewai

sync:
	$(UV) sync --locked --inexact --group dev --group bench

# The demo: live with CEREBRAS_API_KEY (or OPENROUTER_API_KEY), otherwise on the built-in contract emulator.
demo: sync
	$(UV) run --no-sync cerebras-adapters demo

# The test command: redis-server installed where missing (the tests start one on loopback), unit + contract tests
# (network blocked except loopback), the adapter suites on the newest framework releases (compat/newest.txt, see
# compat-newest below), then ruff, mypy --strict and the docs build.
test: sync
	sh scripts/ensure-redis.sh
	$(UV) run --no-sync pytest
	UV="$(UV)" $(UV) run --no-sync python scripts/compat.py test newest -q
	$(MAKE) --no-print-directory test-crewai
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

# The framework versions we claim (docs/testing.md, "Versions we test"): the adapter suites on pinned sets in
# compat/, each in its own environment (.venv-compat-lowest / .venv-compat-newest). `lowest` is every framework
# at its pyproject.toml floor; `newest` is the newest releases as of the last `make compat-refresh` (the test
# command runs it). compat-refresh re-resolves compat/newest.txt; committing it is how the newest set moves.
.PHONY: compat-lowest compat-newest compat-refresh
compat-lowest: sync
	UV="$(UV)" $(UV) run --no-sync python scripts/compat.py test lowest -q

compat-newest: sync
	UV="$(UV)" $(UV) run --no-sync python scripts/compat.py test newest -q

compat-refresh: sync
	UV="$(UV)" $(UV) run --no-sync python scripts/compat.py lock newest

# CrewAI drives the LiteLLM provider in its own locked environment (pyproject's crewai group: its mcp 1.x excludes
# litellm[proxy]); run by the test command. docs/real-clients.md#crewai.
test-crewai:
	UV_PROJECT_ENVIRONMENT=.venv-crewai $(UV) sync --locked --no-default-groups --group crewai
	LITELLM_LOCAL_MODEL_COST_MAP=True .venv-crewai/bin/python -m pytest tests/realclients/test_crewai.py -q
