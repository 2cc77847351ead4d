"""`mlflow run . --env-manager uv`: the isolated path, end to end, once.

MLflow builds a fresh environment from conda.yaml with uv (the `uv` the test extra pins, found on
PATH beside this interpreter) and runs the smoke pipeline in it against a temporary SQLite store
and data cache. The environment must hold the runtime lock and nothing else: no test tools.

uv keeps its download cache where it always does (UV_CACHE_DIR, else ~/.cache/uv), so only the
first run on a machine downloads; the environment itself is built in a temporary MLFLOW_ENV_ROOT
every time, so a broken conda.yaml or runtime lock fails here, not on a user's machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from warmstart.config import PROJECT_ROOT

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
EXPERIMENT = "mlflow-run-uv"
TEST_TOOLS = ["pytest", "ruff", "hypothesis", "tf-keras", "uv", "import-linter"]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _runtime_lock() -> dict[str, str]:
    pins = {}
    for line in (PROJECT_ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, ver = line.split("==", 1)
            pins[_norm(name)] = ver.strip()
    return pins


@pytest.fixture(scope="module")
def uv_run(tmp_path_factory):
    if not (BIN / "uv").exists():
        pytest.fail(f"uv is missing from {BIN}: the test extra pins it; run `make test`")
    tmp = tmp_path_factory.mktemp("mlflow-run-uv")
    env_root = tmp / "envs"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env = {
        **clean,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp}/mlflow.db",
        "MLFLOW_ENV_ROOT": str(env_root),
    }
    overrides = f"experiment=smoke paths.cache_dir={tmp}/cache"
    done = subprocess.run(
        [
            str(BIN / "mlflow"),
            "run",
            str(PROJECT_ROOT),
            "--env-manager",
            "uv",
            "-e",
            "main",
            "--experiment-name",
            EXPERIMENT,
            "-P",
            f"overrides={overrides}",
        ],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=1100,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    envs = sorted(env_root.glob("mlflow-*"))
    assert len(envs) == 1, f"expected one environment under {env_root}, found {envs}"
    listing = subprocess.run(
        [
            str(envs[0] / "bin" / "python"),
            "-c",
            "import importlib.metadata as m, json; "
            "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    installed = {_norm(n): v for n, v in json.loads(listing.stdout).items()}
    location = subprocess.run(
        [str(envs[0] / "bin" / "python"), "-c", "import warmstart; print(warmstart.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp,
    ).stdout.strip()
    client = MlflowClient(env["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id]) if experiment else []
    yield {"log": log, "env_dir": envs[0], "installed": installed, "runs": runs, "src": location}
    # The environment is hard links into uv's cache, but its apparent size is gigabytes.
    shutil.rmtree(env_root, ignore_errors=True)


def test_the_run_and_every_stage_it_started_finished(uv_run):
    runs = uv_run["runs"]
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert parent.data.tags.get("mlflow.project.env") == "uv"
    assert parent.data.tags.get("mlflow.project.entryPoint") == "main"
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert children, "the pipeline started no stage runs"
    assert {r.info.status for r in runs} == {"FINISHED"}, [
        (r.info.run_name, r.info.status) for r in runs
    ]


def test_the_stages_ran_in_the_environment_uv_built(uv_run):
    assert f"source {uv_run['env_dir']}/bin/activate" in uv_run["log"]
    # conda.yaml installs the project editable: the environment runs this checkout's source.
    assert Path(uv_run["src"]).resolve().is_relative_to((PROJECT_ROOT / "src").resolve())


def test_the_environment_holds_no_test_tools(uv_run):
    present = [name for name in TEST_TOOLS if name in uv_run["installed"]]
    assert not present, f"test tools in the run environment: {present}"


def test_the_environment_is_exactly_the_runtime_lock(uv_run):
    installed = dict(uv_run["installed"])
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    assert installed.pop("warmstart") == project["version"]
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    pip_version = re.search(r"^PIP_VERSION := (\S+)$", makefile, re.MULTILINE).group(1)
    assert installed.pop("pip") == pip_version
    assert installed == _runtime_lock()
