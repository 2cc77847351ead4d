"""A cluster launcher chosen without the `cluster` extra stops the stage with one line that names
the install; with the extra (the test lock has it), or with a local launcher, nothing changes."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from warmstart.config import PROJECT_ROOT
from warmstart.stages._launchers import CLUSTER_LAUNCHERS, install_command, missing_cluster_extra

# Runs the real stage entry point in a fresh interpreter where the launcher's modules cannot be
# imported (a None entry in sys.modules is how Python marks a module as unimportable), the
# state of a venv that `make run` built.
WITHOUT = """
import runpy, sys
for module in sys.argv[1].split(","):
    sys.modules[module] = None
sys.argv = ["pipeline", *sys.argv[2:]]
runpy.run_module("warmstart.stages.pipeline", run_name="__main__")
"""


@pytest.mark.slow  # a stage subprocess per launcher
@pytest.mark.parametrize("launcher", ["ray", "submitit_local", "submitit_slurm"])
def test_a_cluster_launcher_without_the_extra_stops_with_the_install_command(launcher, tmp_path):
    blocked = CLUSTER_LAUNCHERS[launcher.split("_")[0]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp_path}/mlflow.db"
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT, ",".join(blocked), "-m", f"hydra/launcher={launcher}",
         "experiment=smoke"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith(f"error: hydra/launcher={launcher} needs the cluster extra")
    assert "pip install -r requirements-cluster.lock`" in lines[0]
    assert not (tmp_path / "mlflow.db").exists()  # stopped before any run was made


def test_the_install_command_names_this_interpreter_and_the_cluster_lock():
    python, dash_m, pip, install, dash_r, lock = shlex.split(install_command())
    assert (dash_m, pip, install, dash_r) == ("-m", "pip", "install", "-r")
    assert Path(python).resolve() == Path(sys.executable).resolve()
    assert (Path.cwd() / lock).resolve() == PROJECT_ROOT / "requirements-cluster.lock"
    assert (PROJECT_ROOT / "requirements-cluster.lock").is_file()


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
        ["hydra/launcher=basic"],
        ["-m", "hydra/launcher=ray"],  # installed here: make test installs the cluster extra
        ["hydra/launcher=submitit_slurm"],
    ],
)
def test_local_launchers_and_installed_cluster_ones_pass(overrides):
    assert missing_cluster_extra(overrides) is None
