"""Stage `compare`: base, warm and cold side by side (the runs the pipeline hands it, or, run
on its own, runs read back from MLflow).

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
from warmstart.core.learning_curves import TEST_KEYS, headline_values, summarize
from warmstart.stages._entry import hydra_app
from warmstart.tracking import headline as headline_mod
from warmstart.tracking.runs import stage_run
from warmstart.tracking.stage_names import COMPARE, ROLE_STAGES, STAGE_TAG, compare_run_tag
from warmstart.tracking.stage_result import StageResult, stored_result
from warmstart.tracking.version_format import REUSED_FROM_TAG

ROLES = tuple(ROLE_STAGES)  # base, warm, cold


def headline(table: pd.DataFrame) -> list[Metric]:
    """`core.learning_curves.headline_values` as the metrics of the pipeline's parent run,
    rounded to 4 digits."""
    now = int(time.time() * 1000)
    return [Metric(k, v, now, 0) for k, v in headline_mod.rounded(headline_values(table)).items()]


def curves_of(result: StageResult) -> dict[str, list[float]]:
    """A run's per-epoch curves and, as one-element lists, its test scores (`summarize`)."""
    scores = {k: [float(result.scores[k])] for k in TEST_KEYS if k in result.scores}
    return {**{k: list(v) for k, v in result.curves.items()}, **scores}


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
    results: Mapping[str, StageResult] | None = None,
) -> StageResult:
    """`results` by role (base, warm, cold) are the runs this process trained (the pipeline's);
    a role without one is read back: `compare.<role>_run`, else the newest finished run."""
    compare_cfg = cfg.get("compare") or {}
    given = dict(results or {})
    for role in ROLES:
        if role not in given:
            run_id = compare_cfg.get(f"{role}_run") or latest_run(
                role, compare_cfg.get("parent_run")
            )
            given[role] = stored_result(ROLE_STAGES[role], run_id)
    curves = {role: curves_of(given[role]) for role in ROLES if role in given}
    ids = {role: given[role].run_id for role in curves}
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
    return StageResult(COMPARE, active.info.run_id, table=table, parts=given)


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
