VENV ?= .venv
PY := $(VENV)/bin/python
# Running needs the app alone; the tests, linters and benchmarks add the dev extra.
APP_STAMP := $(VENV)/.installed-app
DEV_STAMP := $(VENV)/.installed-dev
PYTEST_WORKERS ?= 4

.PHONY: test check lint typecheck unit unit-fast bench run clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(APP_STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $(APP_STAMP)

$(DEV_STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(APP_STAMP) $(DEV_STAMP)

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(DEV_STAMP)
	$(VENV)/bin/mypy --strict bot commands

# Every test, spread over worker processes: most of a test's time is spent waiting on sockets,
# so more workers than cores pays. PYTEST_WORKERS=0 runs them in this process. The tests marked
# serial time leases and throttles in wall-clock seconds, so they run afterwards, alone.
unit: $(DEV_STAMP)
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) -m "not serial"
	$(VENV)/bin/pytest -m serial

# The edit loop: lint, types, and the tests that start no process or browser and need no PostgreSQL.
unit-fast: $(DEV_STAMP)
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) -m "not external and not serial"

test: lint typecheck unit

check: lint typecheck unit-fast

# Not part of test: it measures, it does not assert (docs/benchmarks.md records the last run).
bench: $(DEV_STAMP)
	$(PY) -m bench.run --write docs/benchmarks.md

# Serves the Slack workspace configured in .env or the environment; without Slack credentials it
# starts the sandbox (local Slack, demo PostDICOM, the app) with its console on http://127.0.0.1:3000/.
run: $(APP_STAMP)
	@exec $(VENV)/bin/pacsbot run

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
