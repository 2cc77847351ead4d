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
            pins[_norm(name)] = ver.strip()
    return pins


LOCK = _pins((PROJECT_ROOT / "requirements.lock").read_text().splitlines())
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
