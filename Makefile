VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck unit bench run clean

$(PY):
	python3 -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict bot commands

unit: $(STAMP)
	$(VENV)/bin/pytest

test: lint typecheck unit

# Not part of test: it measures, it does not assert (docs/benchmarks.md records the last run).
bench: $(STAMP)
	$(PY) -m bench.run --write docs/benchmarks.md

# Serves the Slack workspace configured in .env or the environment; without Slack credentials it
# starts the sandbox (local Slack, demo PostDICOM, the app) with its console on http://127.0.0.1:3000/.
run: $(STAMP)
	@exec $(VENV)/bin/pacsbot run

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
