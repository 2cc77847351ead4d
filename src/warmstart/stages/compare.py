"""Stage `compare`: base, warm and cold side by side, read back from MLflow.

Logs a learning-curve plot and a summary table (epoch-1 val accuracy, best val accuracy, and
epochs and seconds until each run first reaches the cold run's final val accuracy) on its own
run and on the pipeline's parent run, where a user opens the pipeline.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import mlflow
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig

from warmstart.core.errors import TrackingError
from warmstart.stages._entry import hydra_app
from warmstart.tracking import headline as headline_mod
from warmstart.tracking.runs import stage_run
from warmstart.tracking.stage_names import COMPARE, ROLE_STAGES, STAGE_TAG, compare_run_tag
from warmstart.tracking.version_format import REUSED_FROM_TAG

ROLES = tuple(ROLE_STAGES)  # base, warm, cold
# Test scores in the summary: the run's own, and the TF-IDF baseline's on the same texts.
TEST_KEYS = ("test_accuracy", "test_macro_f1", "baseline_test_macro_f1")


def history(run_id: str, key: str) -> list[float]:
    """A metric's values ordered by step (epoch)."""
    points = MlflowClient().get_metric_history(run_id, key)
    return [p.value for p in sorted(points, key=lambda p: (p.step, p.timestamp))]


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


def headline(table: pd.DataFrame) -> list[Metric]:
    """Warm against cold for the pipeline's parent run, rounded to 4 digits: epoch-1 and final
    val accuracy, the epoch-1 gap, the epochs and seconds warm saved reaching the cold run's
    final val accuracy (against cold's whole training), and both test macro-F1s beside the
    TF-IDF baseline's (does the neural model earn its keep?)."""
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
    now = int(time.time() * 1000)
    return [Metric(k, v, now, 0) for k, v in headline_mod.rounded(values).items()]


def plot(curves: Mapping[str, Mapping[str, Sequence[float]]]) -> Figure:
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    styles = {
        "base": ("#8c8c8c", "base"),
        "warm": ("#dd8452", "warm start"),
        "cold": ("#4c72b0", "cold start"),
    }
    for name, curve in curves.items():
        color, label = styles.get(name, (None, name))
        epochs = np.arange(len(curve["val_accuracy"]))  # MLflow's step: epoch index, 0 first
        ax.plot(epochs, curve["val_accuracy"], "-o", color=color, label=f"{label} (val)", ms=3)
        if curve.get("accuracy"):
            ax.plot(
                epochs, curve["accuracy"], "--", color=color, alpha=0.5, label=f"{label} (train)"
            )
    ax.set_xlabel("step (epoch index, 0 first)")
    ax.set_ylabel("accuracy")
    ax.set_title("warm start vs cold start")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def latest_run(role: str, parent_run_id: str | None) -> str:
    """The newest finished run in `role` in the experiment (under `parent_run_id` if given);
    a run that reused an earlier one stands for it, so the earlier one (with the curves) is read."""
    stage = ROLE_STAGES[role]
    query = f"tags.`{STAGE_TAG}` = '{stage}' and attributes.status = 'FINISHED'"
    if parent_run_id:
        query += f" and tags.`mlflow.parentRunId` = '{parent_run_id}'"
    runs = mlflow.search_runs(
        filter_string=query,
        order_by=["attributes.start_time DESC"],
        max_results=1,
        output_format="list",
    )
    if not runs:
        raise TrackingError(
            f"no finished '{stage}' run to compare in this experiment; run the pipeline, or "
            f"set compare.{role}_run=RUN_ID"
        )
    return runs[0].data.tags.get(REUSED_FROM_TAG, runs[0].info.run_id)


def run(
    cfg: DictConfig,
    *,
    overrides: Sequence[str] = (),
    parent_run_id: str | None = None,
    run_ids: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    compare_cfg = cfg.get("compare") or {}
    ids = dict(run_ids or {})
    for role in ROLES:
        ids.setdefault(
            role,
            compare_cfg.get(f"{role}_run") or latest_run(role, compare_cfg.get("parent_run")),
        )
    curves = {
        role: {
            key: history(run_id, key)
            for key in ("val_accuracy", "accuracy", "epoch_seconds", *TEST_KEYS)
        }
        for role, run_id in ids.items()
    }
    table = summarize(curves)
    table.insert(1, "run_id", [ids[name] for name in table["run"]])
    figure = plot(curves)
    with stage_run(cfg, COMPARE, overrides=overrides, parent_run_id=parent_run_id) as active:
        mlflow.set_tags({compare_run_tag(k): v for k, v in ids.items()})
        targets = [active.info.run_id] + ([parent_run_id] if parent_run_id else [])
        for target in targets:
            MlflowClient().log_figure(target, figure, "compare/learning_curves.png")
            MlflowClient().log_table(target, table, "compare/summary.json")
            MlflowClient().log_text(
                target, table.round(4).to_csv(index=False), "compare/summary.csv"
            )
        if parent_run_id:
            MlflowClient().log_batch(parent_run_id, metrics=headline(table))
    print(printed(table))
    return table


# What the terminal shows (the whole table is compare/summary.csv): fits 100 columns.
PRINTED = {
    "run": "run",
    "epochs": "epochs",
    "epoch1_val_accuracy": "val acc ep1",
    "final_val_accuracy": "val acc final",
    "test_macro_f1": "test F1",
    "baseline_test_macro_f1": "TF-IDF F1",
    "seconds": "seconds",
    "epochs_to_cold_final": "epochs to cold's final",
}


def printed(table: pd.DataFrame) -> str:
    """The few columns a person reads, rounded, under 100 characters a line."""
    shown = table[[c for c in PRINTED if c in table]]
    formats = {c: "{:.0f}" for c in ("epochs", "epochs_to_cold_final")} | {"seconds": "{:.1f}"}

    def cell(column: str, value: object) -> str:
        if not isinstance(value, float | int) or isinstance(value, bool):
            return str(value)
        return "-" if pd.isna(value) else formats.get(column, "{:.3f}").format(value)

    text = {PRINTED[c]: [cell(c, v) for v in shown[c]] for c in shown}
    return pd.DataFrame(text).to_string(index=False)


main = hydra_app(run)

if __name__ == "__main__":
    main()
