"""Learning curves side by side: epochs and seconds until each run reaches the cold run's final
validation accuracy, the numbers a user reads to decide whether a warm start paid."""

from __future__ import annotations

import math

import pandas as pd

from warmstart.core.learning_curves import summarize


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
