"""The comparison table: what a user reads to decide whether warm start paid."""

from __future__ import annotations

import math

import pandas as pd

from warmstart.stages.compare import headline, printed, summarize


def test_summary_counts_epochs_and_seconds_until_the_cold_final_accuracy():
    curves = {
        "warm": {
            "val_accuracy": [0.80, 0.84, 0.86],
            "epoch_seconds": [2.0, 1.0, 1.0],
            "test_accuracy": [0.85],
            "test_macro_f1": [0.84],
            "baseline_test_macro_f1": [0.9],
        },
        "cold": {"val_accuracy": [0.50, 0.70, 0.84], "epoch_seconds": [1.5, 1.0, 1.0]},
    }
    table = summarize(curves).set_index("run")
    assert table.loc["warm", "epoch1_val_accuracy"] == 0.80
    assert table.loc["warm", "best_val_accuracy"] == 0.86
    assert table.loc["warm", "epochs_to_cold_final"] == 2
    assert table.loc["warm", "seconds_to_cold_final"] == 3.0
    assert table.loc["cold", "epochs_to_cold_final"] == 3
    assert table.loc["warm", "test_accuracy"] == 0.85
    assert math.isnan(table.loc["cold", "test_accuracy"])
    assert table.loc["warm", "test_macro_f1"] == 0.84
    assert table.loc["warm", "baseline_test_macro_f1"] == 0.9


def test_a_run_that_never_reaches_the_target_has_no_epoch_count():
    curves = {
        "base": {"val_accuracy": [0.5, 0.6], "epoch_seconds": [1, 1]},
        "cold": {"val_accuracy": [0.7, 0.8], "epoch_seconds": [1, 1]},
    }
    table = summarize(curves).set_index("run")
    assert pd.isna(table.loc["base", "epochs_to_cold_final"])
    assert table.loc["base", "cold_final_val_accuracy"] == 0.8


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
