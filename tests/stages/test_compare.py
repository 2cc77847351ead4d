"""The comparison table: what a user reads to decide whether warm start paid."""

from __future__ import annotations

import pandas as pd

from warmstart.core.learning_curves import summarize
from warmstart.stages.compare import headline, printed


def test_the_headline_rounds_to_4_digits_and_counts_the_seconds_warm_saved():
    curves = {
        "warm": {"val_accuracy": [0.812345, 0.86], "epoch_seconds": [1.25, 1.0]},
        "cold": {"val_accuracy": [0.5, 0.8123], "epoch_seconds": [2.0, 2.123456]},
    }
    values = {m.key: m.value for m in headline(summarize(curves))}
    assert values["warm_epoch1_val_accuracy"] == 0.8123
    assert values["epoch1_gap"] == 0.3123
    assert values["epochs_saved"] == 1  # warm reached cold's final 0.8123 at epoch 1 of 2
    assert values["seconds_saved"] == round(4.123456 - 1.25, 4)


def test_the_headline_claims_no_epochs_or_seconds_saved_when_warm_never_reaches_cold():
    curves = {
        "warm": {"val_accuracy": [0.7, 0.75], "epoch_seconds": [1.0, 1.0]},
        "cold": {"val_accuracy": [0.5, 0.8], "epoch_seconds": [1.0, 1.0]},
    }
    values = {m.key: m.value for m in headline(summarize(curves))}
    assert values["epoch1_gap"] == 0.2
    assert "epochs_saved" not in values and "seconds_saved" not in values


def test_the_printed_summary_is_the_few_columns_a_person_reads_in_100_characters():
    table = pd.DataFrame({
        "run": ["base", "warm", "cold"], "run_id": ["0" * 32] * 3, "epochs": [8, 5, 7],
        "epoch1_val_accuracy": [0.941, 0.942, 0.727], "best_val_accuracy": [0.968, 0.959, 0.965],
        "final_val_accuracy": [0.967, 0.959, 0.965], "test_macro_f1": [0.9615, 0.972, 0.971],
        "baseline_test_macro_f1": [0.9645, 0.979, 0.979], "seconds": [8.54, 4.83, 6.74],
        "epochs_to_cold_final": [4.0, float("nan"), 6.0],
    })  # fmt: skip
    text = printed(table)
    lines = text.splitlines()
    assert max(len(line) for line in lines) < 100 and "0" * 32 not in text
    assert lines[0].split()[:3] == ["run", "epochs", "val"]
    assert lines[2].split() == ["warm", "5", "0.942", "0.959", "0.972", "0.979", "4.8", "-"]
