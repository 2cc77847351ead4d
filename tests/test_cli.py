"""How `mlflow run -P overrides="..."` strings become Hydra overrides, and how a command line
Hydra cannot compose is reported."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hydra.errors import ConfigCompositionException

from warmstart.cli import main as cli_main
from warmstart.cli import split_overrides
from warmstart.config import PROJECT_ROOT


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", []),
        ("  seed=1   train.epochs=2 ", ["seed=1", "train.epochs=2"]),
        (
            "warmstart.source=models:/NAME@base vocab.max_tokens=10200",
            ["warmstart.source=models:/NAME@base", "vocab.max_tokens=10200"],
        ),
        ("tracking.experiment_name='my exp'", ["tracking.experiment_name='my exp'"]),
        ("a='x,y' b=\"c = d\"", ["a='x,y'", 'b="c = d"']),
        ("-m seed=1,2", ["-m", "seed=1,2"]),
        ("data.path=/a/b=c/d.tar.gz", ["data.path=/a/b=c/d.tar.gz"]),
    ],
)
def test_split_keeps_quoted_values_whole_and_quotes_for_hydra(text, words):
    assert split_overrides(text) == words


def test_unbalanced_quote_is_one_clear_error():
    with pytest.raises(SystemExit, match="unbalanced ' quote"):
        split_overrides("a='x")


# --------------------------------------------------------------------------- one-line errors
# A command line Hydra cannot compose ends in one `error:` line that names the fix, exit 2,
# for every stage and through `python -m warmstart.cli` (what `mlflow run` calls).
COMPOSITION_ERRORS = [
    (
        "pipeline",
        "train.epoch=3",
        "error: unknown key 'train.epoch' (did you mean train.epochs?); "
        "a new key needs '+': +train.epoch=3",
    ),
    ("train_base", "seeed=7", "error: unknown key 'seeed' (did you mean seed?); "),
    (
        "warm_start",
        "train.epochs=abc",
        "error: bad value in train.epochs=abc (Value 'abc' of type 'str' could not be "
        "converted to Integer); give train.epochs a whole number (now train.epochs=",
    ),
    (
        "cold_start",
        "train.tensorboard=maybe",
        "error: bad value in train.tensorboard=maybe (Value 'maybe' is not a valid bool (type "
        "str)); give train.tensorboard true or false (now train.tensorboard=false)",
    ),
    (
        "vocab_diff",
        "model=cnnn",
        "error: unknown option 'cnnn' for model (did you mean cnn?); "
        "choose one of model=bilstm, cnn, transformer, tutorial",
    ),
    (
        "compare",
        "train.epochs=[",
        "error: cannot parse override 'train.epochs=[' (no viable alternative at input '['); "
        "write it as key=value, +new_key=value, ~key",
    ),
    ("update", "+seed=1", "error: seed already exists; set it without '+': seed=1"),
    (
        "train_base",
        "train.strategy=tpu",
        "error: bad value in train.strategy=tpu (Invalid value 'tpu', expected one of [default, "
        "mirrored, multi_worker]); give train.strategy one of its names: default, mirrored, "
        "multi_worker (now train.strategy=default)",
    ),
]


def _stage_error(capsys, argv: list[str]) -> tuple[int, list[str]]:
    with pytest.raises(SystemExit) as exited:
        cli_main(argv)
    return exited.value.code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize(("stage", "override", "says"), COMPOSITION_ERRORS)
def test_a_command_line_hydra_cannot_compose_is_one_error_line_naming_the_fix(
    stage, override, says, capsys, monkeypatch
):
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    code, lines = _stage_error(capsys, [stage, override])
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith(says), lines
    assert "HYDRA_FULL_ERROR" not in os.environ  # set only while composing, never left behind


def test_hydra_full_error_still_shows_hydras_whole_error(monkeypatch):
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    with pytest.raises(ConfigCompositionException, match=r"Could not override 'train\.epoch'"):
        cli_main(["pipeline", "train.epoch=3"])
    assert os.environ["HYDRA_FULL_ERROR"] == "1"  # the user's own setting stays


@pytest.mark.parametrize("value", ["smok", "[own_data,contnual]"])
def test_an_unknown_experiment_is_refused_not_skipped(value, capsys, monkeypatch, tmp_path):
    """Hydra skips a missing option of the optional `experiment` group: a typo would run the
    defaults without a word."""
    code, lines = _stage_error(capsys, ["vocab_diff", f"experiment={value}",
                                        f"hydra.run.dir={tmp_path}"])  # fmt: skip
    assert code == 2  # a usage error, refused before Hydra sets up the job
    assert len(lines) == 1 and lines[0].startswith("error: unknown experiment "), lines
    assert "(did you mean " in lines[0] and "; choose one of experiment=" in lines[0]
    assert "smoke" in lines[0] and "continual" in lines[0]


def test_the_real_command_prints_nothing_of_hydras_but_the_error_line():
    done = subprocess.run(
        [sys.executable, "-m", "warmstart.cli", "train_base", "train.epoch=3 seed=1"],
        capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT,
    )  # fmt: skip
    assert done.returncode == 2
    said = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert said == [
        "error: unknown key 'train.epoch' (did you mean train.epochs?); "
        "a new key needs '+': +train.epoch=3"
    ], done.stderr
    for hydra_says in ("HYDRA_FULL_ERROR", "Traceback", "full_key", "Could not override"):
        assert hydra_says not in done.stderr
