"""Learning curves side by side: how soon each run reaches the cold run's final accuracy.

Pure arithmetic on per-epoch values, shared by `compare` (one pipeline) and `update` (one step
of the recurring job), whichever process holds the curves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

# Test scores in the summary: the run's own, and the TF-IDF baseline's on the same texts.
TEST_KEYS = ("test_accuracy", "test_macro_f1", "baseline_test_macro_f1")


def summarize(curves: Mapping[str, Mapping[str, Sequence[float]]]) -> pd.DataFrame:
    """One row per run; `target` is the cold run's final val accuracy.

    `curves[name]` holds `val_accuracy` and `epoch_seconds` per epoch (and may hold
    `test_accuracy` as a one-element list).
    """
    target = float(curves["cold"]["val_accuracy"][-1]) if "cold" in curves else np.nan
    rows = []
    for name, curve in curves.items():
        val = np.asarray(curve["val_accuracy"], dtype=float)
        seconds = np.cumsum(np.asarray(curve.get("epoch_seconds", [np.nan] * len(val)), float))
        reached = np.flatnonzero(val >= target) if not np.isnan(target) else np.array([], int)
        first = int(reached[0]) if reached.size else None
        rows.append(
            {
                "run": name,
                "epochs": len(val),
                "epoch1_val_accuracy": float(val[0]),
                "best_val_accuracy": float(val.max()),
                "final_val_accuracy": float(val[-1]),
                **{key: float(curve[key][-1]) if curve.get(key) else np.nan for key in TEST_KEYS},
                "cold_final_val_accuracy": target,
                "seconds": float(seconds[-1]) if len(seconds) else np.nan,
                "epochs_to_cold_final": None if first is None else first + 1,
                "seconds_to_cold_final": None if first is None else float(seconds[first]),
            }
        )
    return pd.DataFrame(rows)


def headline_values(table: pd.DataFrame) -> dict[str, float]:
    """Warm against cold from `summarize`'s table: epoch-1 and final val accuracy, the epoch-1
    gap, the epochs and seconds warm saved reaching the cold run's final val accuracy (against
    cold's whole training), and both test macro-F1s beside the TF-IDF baseline's (does the
    neural model earn its keep?)."""
    rows = table.set_index("run")
    values: dict[str, float] = {}
    for role in ("warm", "cold"):
        if role in rows.index:
            values[f"{role}_epoch1_val_accuracy"] = float(rows.loc[role, "epoch1_val_accuracy"])
            values[f"{role}_final_val_accuracy"] = float(rows.loc[role, "final_val_accuracy"])
            if pd.notna(rows.loc[role, "test_macro_f1"]):
                values[f"{role}_test_macro_f1"] = float(rows.loc[role, "test_macro_f1"])
    baseline = rows.get("baseline_test_macro_f1", pd.Series(dtype=float)).dropna()
    if len(baseline):
        values["baseline_test_macro_f1"] = float(baseline.iloc[-1])
    if {"warm", "cold"} <= set(rows.index):
        values["epoch1_gap"] = (
            values["warm_epoch1_val_accuracy"] - values["cold_epoch1_val_accuracy"]
        )
        reached = rows.loc["warm", "epochs_to_cold_final"]
        if pd.notna(reached):
            values["epochs_saved"] = float(rows.loc["cold", "epochs"] - reached)
            seconds = rows.loc["warm", "seconds_to_cold_final"]
            if pd.notna(seconds) and pd.notna(rows.loc["cold", "seconds"]):
                values["seconds_saved"] = float(rows.loc["cold", "seconds"] - seconds)
    return values
