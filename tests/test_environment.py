"""One source of truth for versions, and the project surface the README promises."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from warmstart.cli import STAGES
from warmstart.config import PROJECT_ROOT


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if "==" in line:
            name, ver = line.split("==", 1)
            pins[_norm(name.split("[")[0])] = ver.strip()  # ray[default] pins ray
    return pins


def _lock(name: str) -> dict[str, str]:
    return _pins((PROJECT_ROOT / name).read_text().splitlines())


# The three locks come from one `make lock`: the runtime (make run, `mlflow run` environments via
# conda.yaml), + the cluster extra (a cluster node), + the test extra (what make test adds).
LOCK_NAME = "requirements-test.lock"
LOCK = _lock(LOCK_NAME)
CLUSTER_LOCK = _lock("requirements-cluster.lock")
RUNTIME_LOCK = _lock("requirements.lock")
PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
CONDA = yaml.safe_load((PROJECT_ROOT / "conda.yaml").read_text())
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
# What a local run must not carry (transitive dependencies may be shared).
CLUSTER_ENGINES = ["ray", "hydra-ray-launcher", "submitit", "hydra-submitit-launcher"]
TEST_TOOLS = ["pytest", "ruff", "hypothesis", "tf-keras", "uv", "import-linter", "mypy"]


def test_lock_pins_the_stack_the_product_promises():
    assert LOCK["tensorflow"] == "2.21.0"
    assert LOCK["keras"] == "3.15.1"
    assert LOCK["mlflow"] == "3.17.2"
    assert LOCK["hydra-core"] == "1.3.8"
    assert LOCK["tf-keras"] == "2.21.0"


def test_package_metadata_pins_exactly_what_the_lock_pins():
    declared = [*PYPROJECT["project"]["dependencies"], *EXTRAS["cluster"], *EXTRAS["test"]]
    assert all("==" in d for d in declared), "pin direct dependencies exactly"
    for name, ver in _pins(declared).items():
        assert LOCK.get(name) == ver, f"pyproject pins {name}=={ver}, lock has {LOCK.get(name)}"


def test_conda_env_installs_the_lock_and_agrees_with_it():
    pip_section = next(d for d in CONDA["dependencies"] if isinstance(d, dict))["pip"]
    assert "-r requirements.lock" in pip_section
    assert "python=3.11" in CONDA["dependencies"]
    for name, ver in _pins(pip_section).items():
        assert LOCK.get(name) == ver, f"conda.yaml pins {name}=={ver}, lock has {LOCK.get(name)}"
        assert RUNTIME_LOCK.get(name) == ver, f"conda.yaml pins {name}=={ver} outside the runtime"


@pytest.mark.parametrize(
    ("smaller", "larger"),
    [("requirements.lock", "requirements-cluster.lock"), ("requirements-cluster.lock", LOCK_NAME)],
)
def test_each_lock_holds_the_one_before_at_the_same_versions(smaller, larger):
    small, large = _lock(smaller), _lock(larger)
    drift = {n: (v, large.get(n)) for n, v in small.items() if large.get(n) != v}
    assert not drift, f"{smaller} vs {larger}: {drift}; run `make lock`"
    assert len(large) > len(small)


def test_each_lock_has_its_own_pins_and_none_of_the_next_extras():
    runtime_pins = _pins(PYPROJECT["project"]["dependencies"])
    cluster_pins = _pins(EXTRAS["cluster"])
    test_pins = _pins(EXTRAS["test"])
    for lock, pins in [
        (RUNTIME_LOCK, runtime_pins),
        (CLUSTER_LOCK, runtime_pins | cluster_pins),
        (LOCK, runtime_pins | cluster_pins | test_pins),
    ]:
        for name, ver in pins.items():
            assert lock.get(name) == ver, (
                f"pyproject pins {name}=={ver}, a lock has {lock.get(name)}"
            )
    for name in CLUSTER_ENGINES:
        assert name in cluster_pins and name not in RUNTIME_LOCK, name
    for name in TEST_TOOLS:
        assert name in test_pins and name not in CLUSTER_LOCK, name


def test_joblib_and_cloudpickle_are_pinned_for_the_ray_launcher_and_locked_everywhere():
    # hydra-ray-launcher needs cloudpickle<3, which joblib 1.6 refuses: the cluster extra pins the
    # pair, and the runtime lock (from the same resolution) has the same two versions.
    cluster_pins = _pins(EXTRAS["cluster"])
    assert "cloudpickle" not in _pins(PYPROJECT["project"]["dependencies"])
    for name in ["cloudpickle", "joblib"]:
        assert RUNTIME_LOCK[name] == CLUSTER_LOCK[name] == LOCK[name] == cluster_pins[name]
    assert int(cluster_pins["cloudpickle"].split(".")[0]) < 3


def test_the_installed_environment_passes_pip_check():
    done = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _make_n(venv: Path, *args: str) -> str:
    """The commands `make` would run for a venv at `venv` (`-n`: printed, none run)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    for name in ("MODEL", "PORT"):
        env.pop(name, None)
    done = subprocess.run(
        ["make", "-n", f"VENV={venv}", *args],
        cwd=PROJECT_ROOT,
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def _stamp(path: Path, mtime: float) -> None:
    path.touch()
    os.utime(path, (mtime, mtime))


def test_make_run_installs_the_runtime_lock_only_and_make_test_adds_the_test_lock(tmp_path):
    run = _make_n(tmp_path, "run")
    assert "-r requirements.lock" in run and "requirements-test.lock" not in run
    test = _make_n(tmp_path, "test")
    assert test.index("-r requirements.lock") < test.index("-r requirements-test.lock")
    # `mlflow run --env-manager uv` needs uv, a test tool
    assert "-r requirements-test.lock" in _make_n(tmp_path, "run", "ENV_MANAGER=uv")


def test_make_installs_again_only_what_a_newer_lock_or_pyproject_changed(tmp_path):
    newest = max(
        (PROJECT_ROOT / name).stat().st_mtime
        for name in ("pyproject.toml", "requirements.lock", LOCK_NAME)
    )
    runtime, test = tmp_path / ".installed-runtime", tmp_path / ".installed-test"
    _stamp(runtime, newest + 10)
    _stamp(test, newest + 20)
    # after `make test`, neither `make run` nor `make test` installs anything
    assert "pip install" not in _make_n(tmp_path, "run")
    assert "pip install" not in _make_n(tmp_path, "test")
    # the runtime was reinstalled since (its lock changed): `make test` re-adds the test lock only
    _stamp(test, newest + 5)
    test_only = _make_n(tmp_path, "test")
    assert "-r requirements-test.lock" in test_only and "-r requirements.lock" not in test_only
    # a lock or pyproject.toml newer than the runtime stamp: `make run` installs the runtime again
    # (older than the runtime's own inputs: `make lock` leaves the test lock the newest file)
    runtime_inputs = ("pyproject.toml", "requirements.lock")
    _stamp(runtime, min((PROJECT_ROOT / name).stat().st_mtime for name in runtime_inputs) - 10)
    assert "-r requirements.lock" in _make_n(tmp_path, "run")


def test_make_test_is_every_check_and_the_whole_suite_and_test_fast_only_leaves_out_slow(tmp_path):
    now = max((PROJECT_ROOT / name).stat().st_mtime for name in ("pyproject.toml", LOCK_NAME))
    _stamp(tmp_path / ".installed-runtime", now + 10)
    _stamp(tmp_path / ".installed-test", now + 20)
    whole = _make_n(tmp_path, "test").splitlines()
    fast = _make_n(tmp_path, "test-fast").splitlines()
    checks = [
        "ruff check src tests benchmarks",
        "ruff format --check src tests benchmarks",
        "lint-imports --cache-dir",
        "bin/mypy",  # core and tracking, as pyproject's [tool.mypy] names them
    ]
    for check in checks:
        assert any(check in line for line in whole), f"make test does not run {check}"
    # the same static checks, then the same pytest command, with only the slow tests left out
    suite = [line for line in whole if " -m pytest " in line]
    assert len(suite) == 1 and " -m " not in suite[0].split(" -m pytest ")[1]
    assert fast == [*whole[:-1], suite[0] + ' -m "not slow"'] and whole[-1] == suite[0]
    assert any(m.startswith("slow:") for m in PYPROJECT["tool"]["pytest"]["ini_options"]["markers"])
    assert "--strict-markers" in PYPROJECT["tool"]["pytest"]["ini_options"]["addopts"]
    assert PYPROJECT["tool"]["mypy"]["files"] == ["src/warmstart/core", "src/warmstart/tracking"]


def test_make_serve_docs_and_ui_check_run_the_commands_the_readme_gives(tmp_path):
    now = max((PROJECT_ROOT / name).stat().st_mtime for name in ("pyproject.toml", LOCK_NAME))
    _stamp(tmp_path / ".installed-runtime", now + 10)
    _stamp(tmp_path / ".installed-test", now + 20)
    bin_dir = tmp_path / "bin"
    assert _make_n(tmp_path, "serve").strip() == (
        f'PATH="{bin_dir}:$PATH" {bin_dir}/mlflow models serve -m '
        '"models:/warmstart-synthetic@champion" --env-manager local --host 127.0.0.1 --port 5001'
    )
    assert '-m "models:/m/3"' in _make_n(tmp_path, "serve", "MODEL=models:/m/3", "PORT=5002")
    assert _make_n(tmp_path, "docs").strip() == (
        f"{bin_dir}/python -m warmstart.config.reference docs/configuration.md"
    )
    assert _make_n(tmp_path, "ui-check").strip() == (
        f'PATH="{bin_dir}:$PATH" {bin_dir}/python -m pytest tests/test_mlflow_ui.py -q'
    )


def test_conda_env_pins_pip_and_python_like_the_makefile_and_pyproject():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    pip_version = re.search(r"^PIP_VERSION := (\S+)$", makefile, re.MULTILINE).group(1)
    assert f"pip={pip_version}" in CONDA["dependencies"]
    assert PYPROJECT["project"]["requires-python"] == ">=3.11.4,<3.12"
    assert set(CONDA["dependencies"][-1]["pip"]) == {"-r requirements.lock", "-e ."}


def test_mlproject_builds_its_environment_from_conda_yaml():
    # One environment file: MLflow reads conda.yaml for conda, virtualenv and uv alike; a
    # python_env.yaml beside it would be ignored (MLproject names conda_env), so none exists.
    project = yaml.safe_load((PROJECT_ROOT / "MLproject").read_text())
    assert project["conda_env"] == "conda.yaml" and "python_env" not in project
    assert not (PROJECT_ROOT / "python_env.yaml").exists()


@pytest.mark.parametrize("name", ["tensorflow", "keras", "mlflow", "hydra-core", "numpy", "pandas"])
def test_installed_environment_is_the_locked_one(name):
    assert version(name) == LOCK[name], "the venv is stale: run `make test` to rebuild it"


def test_every_mlproject_entry_point_takes_one_overrides_string():
    project = yaml.safe_load((PROJECT_ROOT / "MLproject").read_text())
    entries = project["entry_points"]
    assert set(entries) == {
        "main",
        "train_base",
        "vocab_diff",
        "warm_start",
        "cold_start",
        "compare",
        "update",
    }
    for name, entry in entries.items():
        assert entry["parameters"] == {"overrides": {"type": "string", "default": ""}}
        stage = entry["command"].split()[3]
        assert stage in STAGES and stage == ("pipeline" if name == "main" else name)


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one():
    readme = (PROJECT_ROOT / "README.md").read_text()
    first_block = readme.split("```")[1]
    assert "make run" in first_block and "make test" in first_block
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.MULTILINE)
