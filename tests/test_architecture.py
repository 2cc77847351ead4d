"""The import contracts in pyproject.toml bite: `lint-imports` fails on a copy that breaks them.

Each case copies src/warmstart and the project's own pyproject.toml (so the real contracts are
the ones tested) to a temporary directory, adds one forbidden import, and runs `lint-imports`
against the copy (PYTHONPATH first, so the copy shadows the editable install).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from warmstart.config import PROJECT_ROOT

LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))
LAYERS = "Layers: cli > stages > tracking > modeling > data > config > core"
PURE_CORE = "warmstart.core stays pure: no MLflow, Keras, TensorFlow, Hydra or OmegaConf"


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _a_module_of(package: Path) -> Path:
    """A plain module of the package (not __init__), whatever the others have renamed."""
    modules = sorted(p for p in package.glob("*.py") if p.name != "__init__.py")
    return modules[0] if modules else package / "__init__.py"


def _dotted(root: Path, module: Path) -> str:
    parts = module.relative_to(root / "src").with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.fixture
def copy(tmp_path):
    shutil.copytree(
        PROJECT_ROOT / "src" / "warmstart",
        tmp_path / "src" / "warmstart",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(
    ("package", "statement", "contract", "reported"),
    [
        pytest.param("core", "import mlflow", PURE_CORE, ["mlflow"], id="core-mlflow"),
        pytest.param("core", "from keras import layers", PURE_CORE, ["keras"], id="core-keras"),
        pytest.param("core", "import omegaconf", PURE_CORE, ["omegaconf"], id="core-omegaconf"),
        # Indirect: core -> config (a higher layer) -> hydra; allow_indirect_imports is false.
        pytest.param(
            "core",
            "from warmstart import config",
            PURE_CORE,
            ["warmstart.config", "warmstart.config -> hydra"],
            id="core-config-hydra-indirect",
        ),
        pytest.param(
            "core", "from warmstart import config", LAYERS, ["warmstart.config"], id="core-config"
        ),
        pytest.param(
            "data",
            "from warmstart.stages import pipeline",
            LAYERS,
            ["warmstart.stages.pipeline"],
            id="data-stages",
        ),
        pytest.param(
            "modeling",
            "import warmstart.tracking",
            LAYERS,
            ["warmstart.tracking"],
            id="modeling-tracking",
        ),
        pytest.param("stages", "import warmstart.cli", LAYERS, ["warmstart.cli"], id="stages-cli"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(copy, package, statement, contract, reported):
    module = _a_module_of(copy / "src" / "warmstart" / package)
    # At the end of the module, where it cannot be mistaken for the module's own imports.
    module.write_text(module.read_text() + f"\n{statement}  # added by the test\n")
    done = _lint_imports(copy)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-3000:]
    assert f"{contract} BROKEN" in out, out[-3000:]
    broken = out.split("Broken contracts", 1)[-1]
    # The report names the added import (first hop) and, for a chain, the hops after it.
    assert f"{_dotted(copy, module)} -> {reported[0]}" in broken, broken[-3000:]
    for hop in reported[1:]:
        assert hop in broken, broken[-3000:]


def test_a_module_outside_every_layer_breaks_the_exhaustive_layers_contract(copy):
    (copy / "src" / "warmstart" / "helpers.py").write_text("HELP = 1\n")
    done = _lint_imports(copy)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-3000:]
    assert f"{LAYERS} BROKEN" in out and "- warmstart.helpers" in out, out[-3000:]


def test_the_real_tree_keeps_every_contract():
    done = subprocess.run(
        [LINT_IMPORTS, "--config", str(PROJECT_ROOT / "pyproject.toml"), "--no-cache"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert "0 broken" in out, out[-3000:]
