"""Class labels as metric names: what MLflow takes keeps its text, the rest is made safe and
never two classes share a name."""

from __future__ import annotations

import re

import pytest

from warmstart.core.labels import MAX_METRIC_NAME, metric_safe_names

# MLflow's own rule for metric names (mlflow.utils.validation), without `:` (not on Windows).
MLFLOW_NAME = re.compile(r"[/\w.\- ]+")


def test_refused_characters_become_readable_and_safe_labels_keep_their_text():
    names = metric_safe_names(["CULTURE & ARTS", "a/b?", "x", "C++", "50%", "Grüße", "_own", 3])
    assert names == {
        "CULTURE & ARTS": "CULTURE_and_ARTS",
        "a/b?": "a_b",
        "x": "x",
        "C++": "C_plus_plus",
        "50%": "50_pct",
        "Grüße": "Grüße",
        "_own": "_own",
        3: "3",
    }


@pytest.mark.parametrize(
    "labels",
    [
        ["a b", "a?b", "a_b"],  # two sanitize to a label that is already safe
        ["a_b", "a?b", "a b", "a_b_2"],  # the first free suffix is taken by a label too
        ["", "???", "!!!"],  # nothing readable left: a placeholder, still distinct
    ],
)
def test_labels_that_sanitize_alike_get_distinct_names_whatever_their_order(labels):
    names = metric_safe_names(labels)
    assert len(set(names.values())) == len(labels)
    assert all(MLFLOW_NAME.fullmatch(f"test_precision_{n}") for n in names.values())
    assert metric_safe_names(list(reversed(labels))) == names  # the same labels, the same names
    for safe in {"a_b", "a_b_2"} & set(labels):
        assert names[safe] == safe  # a safe label is never renamed to make room


def test_the_collision_case_spelled_out():
    assert metric_safe_names(["a b", "a?b", "a_b"]) == {
        "a b": "a_b_2",
        "a?b": "a_b_3",
        "a_b": "a_b",
    }
    assert metric_safe_names(["", "???", "!!!"]) == {
        "": "class",
        "???": "class_3",
        "!!!": "class_2",
    }


def test_a_long_label_is_cut_to_a_name_mlflow_stores():
    long = "word & " * 100
    names = metric_safe_names([long, long + "!"])
    assert all(len(n) <= MAX_METRIC_NAME for n in names.values())
    assert len(set(names.values())) == 2 and names[long].startswith("word_and_word")
