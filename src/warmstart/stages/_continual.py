"""The continual simulation's report: a per-step table, a plot, the training time saved."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def plot(table: pd.DataFrame) -> Figure:
    """Warm and cold test accuracy per step (promoted steps filled), and seconds per step."""
    fig = Figure(figsize=(10, 4))
    left, right = fig.subplots(1, 2)
    steps = table["step"].to_numpy()
    left.plot(steps, table["cold_test_accuracy"], "-o", color="#4c72b0", label="cold start")
    left.plot(steps, table["warm_test_accuracy"], "-", color="#dd8452", label="warm start")
    promoted = table["promoted"].to_numpy(dtype=bool)
    left.scatter(
        steps[promoted],
        table["warm_test_accuracy"][promoted],
        color="#dd8452",
        label="promoted",
        zorder=3,
    )
    left.scatter(
        steps[~promoted],
        table["warm_test_accuracy"][~promoted],
        facecolors="none",
        edgecolors="#dd8452",
        label="rejected",
        zorder=3,
    )
    left.set_xlabel("update step (0 first)")
    left.set_ylabel("test accuracy")
    left.legend()
    width = 0.4
    right.bar(steps - width / 2, table["cold_seconds"], width, color="#4c72b0", label="cold")
    right.bar(steps + width / 2, table["warm_seconds"], width, color="#dd8452", label="warm")
    right.set_xlabel("update step (0 first)")
    right.set_ylabel("training seconds")
    right.legend()
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.set_xticks(steps)
    fig.tight_layout()
    return fig


def log_continual(table: pd.DataFrame) -> None:
    """Log table, plot and totals on the active (continual parent) run, and print them."""
    saved = float(np.nansum(table["seconds_saved"].astype(float)))
    totals = {
        "steps": float(len(table)),
        "promoted_steps": float(table["promoted"].sum()),
        "warm_seconds_total": float(table["warm_seconds"].sum()),
        "cold_seconds_total": float(table["cold_seconds"].astype(float).sum()),
        "seconds_saved_total": saved,
        "steps_warm_at_least_cold": float(
            (table["warm_test_accuracy"] >= table["cold_test_accuracy"]).sum()
        ),
    }
    mlflow.log_metrics(totals)
    rounded = table.round(4)
    mlflow.log_text(rounded.to_csv(index=False), "continual/steps.csv")
    mlflow.log_table(rounded, "continual/steps.json")
    mlflow.log_figure(plot(table), "continual/steps.png")
    print(rounded.to_string(index=False))
    print(
        f"continual: {totals['promoted_steps']:.0f}/{len(table)} promoted; warm-starting saved "
        f"{saved:.1f} s of training against retraining from scratch"
    )
