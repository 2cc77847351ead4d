# Two commands: `make run` and `make test`. `make run` creates ./.venv from requirements.lock (the
# runtime only); `make test` adds requirements-test.lock on top. Each step reinstalls when its lock
# or pyproject.toml is newer than its stamp, so a fresh clone needs only Python 3.11 and PyPI.
# `make test-fast` is the inner loop: the same static checks, the suite without the `slow` tests.
#
# Versions have one source: the exact pins in pyproject.toml. `make lock` resolves them once into
#   requirements.lock          the runtime set: `make run`, `mlflow run` environments (conda.yaml)
#   requirements-cluster.lock  + the `cluster` extra (Ray, submitit): what a cluster node installs
#   requirements-test.lock     + the `test` extra: what `make test` adds (it runs the launchers too)
# (tests/test_environment.py checks that the three agree with each other and with the pins).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Absolute, for PATH: `mlflow models serve` and `mlflow run` exec uvicorn and python from PATH.
VENV_BIN = $(abspath $(BIN))
RUNTIME_STAMP = $(VENV)/.installed-runtime
TEST_STAMP = $(VENV)/.installed-test
PIP_INSTALL = $(BIN)/pip install --quiet --disable-pip-version-check
PIP_VERSION := 25.3
OVERRIDES ?=
# `mlflow run` creates its run before the stage picks the experiment: name it here too.
EXPERIMENT ?= warmstart
# `make run ENV_MANAGER=uv` runs in an isolated environment built from conda.yaml (the runtime
# lock). MLflow names that environment by a hash of conda.yaml and the lock alone, and it installs
# the project editable from the checkout that built it first; so each checkout keeps its own.
ENV_MANAGER ?= local
export MLFLOW_ENV_ROOT ?= $(CURDIR)/.cache/mlflow-envs
# The store `mlflow run` and the stages share (absolute, so any working directory agrees).
export MLFLOW_TRACKING_URI ?= sqlite:///$(CURDIR)/mlflow.db
# `make serve`: answer REST requests with a registered version from the store `make run` fills.
MODEL ?= models:/warmstart-synthetic@champion
PORT ?= 5001
# `make ui`: the MLflow UI's port.
UI_PORT ?= 5000
LOCK_VENV := /tmp/warmstart-lock
# `make lock` keeps every version the old lock had unless a pin needs otherwise;
# `make lock FRESH=1` re-resolves all indirect dependencies to their newest releases.
LOCK_CONSTRAINTS := $(if $(FRESH),,-c requirements-test.lock)

.PHONY: run test test-fast serve ui lint lock bench bench-check docs ui-check clean

# The runtime: what the demo, the stages and `make serve` need (no test tools, no cluster engines).
$(RUNTIME_STAMP): requirements.lock pyproject.toml
	@if [ ! -x $(BIN)/python ] || ! $(BIN)/python -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then \
		rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check pip==$(PIP_VERSION)
	$(PIP_INSTALL) -r requirements.lock
	$(PIP_INSTALL) --no-deps -e .
	@touch $@

# On top of the runtime (same versions): the cluster engines and the test tools; pip adds only
# what is missing. A newer runtime stamp (the runtime lock changed) re-runs it.
$(TEST_STAMP): $(RUNTIME_STAMP) requirements-test.lock
	$(PIP_INSTALL) -r requirements-test.lock
	@touch $@

# ENV_MANAGER=uv builds its environment with uv, which comes with the test lock.
run: $(if $(filter local,$(ENV_MANAGER)),$(RUNTIME_STAMP),$(TEST_STAMP))
	PATH="$(VENV_BIN):$$PATH" $(BIN)/mlflow run . --env-manager $(ENV_MANAGER) --experiment-name $(EXPERIMENT) -e main -P overrides="$(OVERRIDES)"
	@echo "Results: $(MLFLOW_TRACKING_URI) -- open them with: make ui"

# The whole suite, as CI runs it (.ci/run), after the static checks (`lint`).
test: lint
	PATH="$(VENV_BIN):$$PATH" $(BIN)/python -m pytest -n 2 --dist loadfile

# The inner loop: the static checks, then the suite without the tests marked `slow` (those that
# train real models or start servers, clusters or stage subprocesses). Not a substitute for `test`.
test-fast: lint
	PATH="$(VENV_BIN):$$PATH" $(BIN)/python -m pytest -n 2 --dist loadfile -m "not slow"

# `mlflow models serve --env-manager local` execs uvicorn from PATH: the venv's bin goes first,
# so this works without activating the venv. Stop it with Ctrl-C.
serve: $(RUNTIME_STAMP)
	PATH="$(VENV_BIN):$$PATH" $(BIN)/mlflow models serve -m "$(MODEL)" --env-manager local --host 127.0.0.1 --port $(PORT)

# The MLflow UI over the store `make run` fills, on the loopback. Open the link `make run`
# printed (its `workflowType=machine_learning` opens the training view). Stop it with Ctrl-C.
ui: $(RUNTIME_STAMP)
	@echo "MLflow UI on http://127.0.0.1:$(UI_PORT) -- open the link make run printed"
	PATH="$(VENV_BIN):$$PATH" $(BIN)/mlflow ui --backend-store-uri $(MLFLOW_TRACKING_URI) --host 127.0.0.1 --port $(UI_PORT)

# The static checks `test` and `test-fast` begin with: lint, format, the layer contracts, and
# the types of core and tracking (mypy; its settings: pyproject.toml's [tool.mypy]).
lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports --cache-dir .cache/import-linter
	$(BIN)/mypy

# Re-resolve the pins: edit the direct ones in pyproject.toml, then `make lock`. One resolution
# of everything (runtime + cluster + test, pip's dry run), then one venv filled in three steps
# under it and frozen after each: so each lock is a superset of the one before, at the same
# versions, and each passes `pip check`. `--all` keeps setuptools and wheel (tensorflow and
# astunparse need them); pip is PIP_VERSION.
LOCK_PIP = $(LOCK_VENV)/bin/pip
LOCK_FREEZE = $(LOCK_PIP) freeze --all --exclude pip --exclude-editable
LOCK_NOTE = '\# Generated by `make lock` from the pins in pyproject.toml; do not edit.'
lock:
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet pip==$(PIP_VERSION)
	# venv seeds an old setuptools; drop it so the one tensorflow needs is resolved like the rest.
	$(LOCK_PIP) uninstall --quiet --yes setuptools
	$(LOCK_PIP) install --quiet --dry-run --ignore-installed --report $(LOCK_VENV)/resolution.json \
		$(LOCK_CONSTRAINTS) -e '.[cluster,test]'
	# ... as exact pins, ordered like `pip freeze` (to compare at the end).
	$(LOCK_VENV)/bin/python -c 'import json, sys; pins = {p["metadata"]["name"]: p["metadata"]["version"] for p in json.load(sys.stdin)["install"]}; [print(f"{n}=={pins[n]}") for n in sorted(pins, key=str.lower) if n not in ("warmstart", "pip")]' \
		< $(LOCK_VENV)/resolution.json > $(LOCK_VENV)/resolution.txt
	$(LOCK_PIP) install --quiet -c $(LOCK_VENV)/resolution.txt -e .
	$(LOCK_PIP) check
	{ printf '%s\n' $(LOCK_NOTE) \
		'# Runtime, every package exact, for Python 3.11: what `make run` and `mlflow run` install' \
		'# (conda.yaml). requirements-cluster.lock and requirements-test.lock add to it.'; \
	  $(LOCK_FREEZE); } > requirements.lock.new
	$(LOCK_PIP) install --quiet -c $(LOCK_VENV)/resolution.txt -e '.[cluster]'
	$(LOCK_PIP) check
	{ printf '%s\n' $(LOCK_NOTE) \
		'# Runtime + the cluster extra (Ray, submitit), every package exact, for Python 3.11: what' \
		'# the driver and every node of a cluster sweep install. requirements.lock at the same versions.'; \
	  $(LOCK_FREEZE); } > requirements-cluster.lock.new
	$(LOCK_PIP) install --quiet -c $(LOCK_VENV)/resolution.txt -e '.[cluster,test]'
	$(LOCK_PIP) check
	{ printf '%s\n' $(LOCK_NOTE) \
		'# Runtime + cluster + test extras, every package exact, for Python 3.11: what `make test`' \
		'# adds to ./.venv. requirements-cluster.lock at the same versions.'; \
	  $(LOCK_FREEZE); } > requirements-test.lock.new
	# The three steps installed exactly the resolution, nothing else.
	$(LOCK_FREEZE) | diff - $(LOCK_VENV)/resolution.txt
	mv requirements.lock.new requirements.lock
	mv requirements-cluster.lock.new requirements-cluster.lock
	mv requirements-test.lock.new requirements-test.lock

bench: $(RUNTIME_STAMP)
	$(BIN)/python benchmarks/bench_remap.py

# Every benchmark's --check at its small size, one at a time (about 7 minutes on 2 cores; the
# full sizes: docs/benchmarks.md). Needs the test lock (tf_keras, the test server helpers) and
# the IMDB archive at ../shared/data (bench_folder_vs_imdb): absent, that check fails.
bench-check: $(TEST_STAMP)
	PATH="$(VENV_BIN):$$PATH" $(BIN)/python benchmarks/check_all.py

# docs/configuration.md: every setting, generated from the config schema.
docs: $(RUNTIME_STAMP)
	$(BIN)/python -m warmstart.config.reference docs/configuration.md

# The MLflow UI as a browser shows it (Debian's chromium; .ci/run installs it).
ui-check: $(TEST_STAMP)
	PATH="$(VENV_BIN):$$PATH" $(BIN)/python -m pytest tests/test_mlflow_ui.py -q

clean:
	rm -rf $(VENV) outputs multirun mlruns mlartifacts .pytest_cache
