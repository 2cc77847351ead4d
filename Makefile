# Two commands: `make run` and `make test`. Both create ./.venv from requirements.lock when it
# is missing or older than the lock, so a fresh clone needs only Python 3.11 and PyPI.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-lock
PIP_VERSION := 25.3
OVERRIDES ?=
# The store `mlflow run` and the stages share (absolute, so any working directory agrees).
export MLFLOW_TRACKING_URI ?= sqlite:///$(CURDIR)/mlflow.db

.PHONY: run test lint lock bench clean

$(STAMP): requirements.lock pyproject.toml
	@if [ ! -x $(BIN)/python ] || ! $(BIN)/python -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then \
		rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check pip==$(PIP_VERSION)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

run: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mlflow run . --env-manager local -e main -P overrides="$(OVERRIDES)"
	@echo "Results: $(MLFLOW_TRACKING_URI) -- open them with: $(BIN)/mlflow ui --backend-store-uri $(MLFLOW_TRACKING_URI)"

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# Re-resolve the pins: edit the direct ones in pyproject.toml, then `make lock`.
lock:
	rm -rf /tmp/warmstart-lock && $(PYTHON) -m venv /tmp/warmstart-lock
	/tmp/warmstart-lock/bin/pip install --quiet pip==$(PIP_VERSION) && /tmp/warmstart-lock/bin/pip install --quiet -e '.[test]'
	{ sed -n '1,3p' requirements.lock; /tmp/warmstart-lock/bin/pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_remap.py

clean:
	rm -rf $(VENV) outputs multirun mlruns mlartifacts .pytest_cache
