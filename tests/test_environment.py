"""One source of truth for versions, and the project surface the README promises."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version

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


# Both locks come from `make lock`: the test lock is everything ./.venv installs, the runtime lock
# the subset an `mlflow run` environment installs (conda.yaml).
LOCK = _lock("requirements-test.lock")
RUNTIME_LOCK = _lock("requirements.lock")
PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
CONDA = yaml.safe_load((PROJECT_ROOT / "conda.yaml").read_text())


def test_lock_pins_the_stack_the_product_promises():
    assert LOCK["tensorflow"] == "2.21.0"
    assert LOCK["keras"] == "3.15.1"
    assert LOCK["mlflow"] == "3.17.2"
    assert LOCK["hydra-core"] == "1.3.8"
    assert LOCK["tf-keras"] == "2.21.0"


def test_package_metadata_pins_exactly_what_the_lock_pins():
    declared = [
        *PYPROJECT["project"]["dependencies"],
        *PYPROJECT["project"]["optional-dependencies"]["test"],
    ]
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


def test_runtime_lock_is_the_test_lock_minus_the_test_tools():
    drift = {n: (v, LOCK.get(n)) for n, v in RUNTIME_LOCK.items() if LOCK.get(n) != v}
    assert not drift, f"runtime lock vs test lock (runtime, test): {drift}; run `make lock`"
    runtime_pins = _pins(PYPROJECT["project"]["dependencies"])
    test_pins = _pins(PYPROJECT["project"]["optional-dependencies"]["test"])
    for name, ver in runtime_pins.items():
        assert RUNTIME_LOCK.get(name) == ver, f"pyproject pins {name}=={ver}, runtime lock differs"
    # What a run must not carry: the test extra's own tools (transitive ones may be shared).
    for name in ["pytest", "ruff", "hypothesis", "tf-keras", "uv", "import-linter"]:
        assert name in test_pins and name not in RUNTIME_LOCK, name


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
