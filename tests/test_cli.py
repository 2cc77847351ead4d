"""How `mlflow run -P overrides="..."` strings become Hydra overrides."""

from __future__ import annotations

import pytest

from warmstart.cli import split_overrides


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
