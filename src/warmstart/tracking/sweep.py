"""Hydra callback that groups a multirun's jobs under one MLflow sweep parent run.

Hydra knows nothing of MLflow, and `mlflow run` hands its run to the first `start_run()`
through `MLFLOW_RUN_ID`, so in a naive sweep job 0 takes over the project run and jobs 1..n
become unrelated top-level runs. Here the sweep parent is made before any job starts (or is
the `mlflow run` run itself), `MLFLOW_RUN_ID` is withdrawn from the jobs, and every job's
top-level run is created as a child of the parent through `WARMSTART_PARENT_RUN_ID`, which
launchers pass on in the environment (joblib, submitit) or in the runtime_env that
conf/hydra/launcher/ray.yaml declares (Ray). The parent is named for the keys swept
(`sweep initializer, seed`); at the end it gets a table and a plot (mean and spread of the
results per setting across seeds) and a headline over its jobs (best setting, mean warm-cold
gaps), and the terminal a table narrow enough to read.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import sys
from typing import Any

import mlflow
import pandas as pd
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from matplotlib.figure import Figure
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig

from warmstart.core.errors import TrackingError
from warmstart.tracking import headline
from warmstart.tracking.connection import connect, experiment_name, open_experiment
from warmstart.tracking.runs import PARENT_ENV, fit_name
from warmstart.tracking.stage_names import ROLE_STAGES, STAGE_TAG, SWEEP
from warmstart.tracking.version_format import (
    ERROR_TAG,
    REUSED_FROM_TAG,
    SWEEP_JOB_TAG,
    SWEEP_OVERRIDES_TAG,
)

# Result metrics summarised per setting: (role, metric) -> column (roles: ROLE_STAGES).
SUMMARY = {
    ("warm", "val_accuracy_epoch1"): "warm_epoch1_val_accuracy",
    ("cold", "val_accuracy_epoch1"): "cold_epoch1_val_accuracy",
    ("warm", "val_accuracy"): "warm_final_val_accuracy",
    ("cold", "val_accuracy"): "cold_final_val_accuracy",
    ("base", "val_accuracy"): "base_final_val_accuracy",
    ("warm", "test_accuracy"): "warm_test_accuracy",
    ("cold", "test_accuracy"): "cold_test_accuracy",
}


def parallel_launcher(config: DictConfig) -> bool:
    target = str(config.hydra.launcher.get("_target_", ""))
    return "BasicLauncher" not in target


class MlflowSweepCallback(Callback):
    """Makes the sweep parent run at multirun start; summarises and closes it at the end."""

    def __init__(self) -> None:
        self.parent_id: str | None = None
        self.owned = False

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        # Hydra turns a callback's exception into a warning and launches the jobs anyway,
        # which would scatter them as parentless runs: stop the whole multirun instead.
        try:
            self._start(config)
        except Exception as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(1) from None

    def _start(self, config: DictConfig) -> None:
        uri = connect(config)
        if uri.startswith("sqlite:") and parallel_launcher(config):
            raise TrackingError(
                "parallel sweep jobs writing one SQLite file race ('database is locked'); "
                "start a server (`mlflow server --backend-store-uri sqlite:///mlflow.db`) and "
                "set MLFLOW_TRACKING_URI=http://127.0.0.1:5000, or drop hydra/launcher=joblib"
            )
        client = MlflowClient()
        overrides = " ".join(config.hydra.overrides.task)
        tags = {STAGE_TAG: SWEEP, SWEEP_OVERRIDES_TAG: overrides}
        name = sweep_label(list(config.hydra.overrides.task))
        inherited = os.environ.pop("MLFLOW_RUN_ID", None)
        if inherited:  # inside `mlflow run`: its run is the sweep parent, jobs must not take it
            self.parent_id, self.owned = inherited, False
            for key, value in {**tags, "mlflow.runName": name}.items():
                client.set_tag(inherited, key, value)
        else:
            run = client.create_run(
                open_experiment(experiment_name(config)), run_name=name, tags=tags
            )
            self.parent_id, self.owned = run.info.run_id, True
        os.environ[PARENT_ENV] = self.parent_id
        # Hydra skips on_multirun_end when a job raises or exits: never leave the parent RUNNING.
        atexit.register(self._close, "KILLED")
        print(f"sweep: parent run {self.parent_id}")

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self.parent_id is None:
            return
        client = MlflowClient()
        failed: list[mlflow.entities.Run] = []
        try:
            table = sweep_table(self.parent_id)
            if not table.empty:
                summary = summarize(table)
                client.log_text(self.parent_id, table.to_csv(index=False), "sweep/jobs.csv")
                client.log_text(self.parent_id, summary.to_csv(index=False), "sweep/summary.csv")
                client.log_table(self.parent_id, summary, "sweep/summary.json")
                figure = plot(summary)
                client.log_figure(self.parent_id, figure, "sweep/summary.png")
                log_headline(self.parent_id, table, summary)
                print(narrow(summary).to_string(index=False))
                print("sweep: every column in the parent run's sweep/summary.csv")
        finally:
            os.environ.pop(PARENT_ENV, None)
            failed = [r for r in children(self.parent_id) if r.info.status != "FINISHED"]
            self._close("FAILED" if failed else "FINISHED")
        if failed:
            print(
                f"error: {len(failed)} sweep job(s) failed (runs "
                f"{', '.join(r.info.run_id for r in failed)}); see their `{ERROR_TAG}` tags",
                file=sys.stderr,
            )
            raise SystemExit(1)

    def _close(self, status: str) -> None:
        """End the sweep run this callback made, if it is still RUNNING."""
        if not self.owned or self.parent_id is None:
            return
        client = MlflowClient()
        with contextlib.suppress(Exception):
            if client.get_run(self.parent_id).info.status == "RUNNING":
                client.set_terminated(self.parent_id, status)


def children(parent_id: str) -> list[mlflow.entities.Run]:
    run = MlflowClient().get_run(parent_id)
    return MlflowClient().search_runs(
        [run.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent_id}'", max_results=5000
    )


def _setting(overrides: str) -> str:
    """The job's overrides without the seed: what the jobs of one setting share."""
    return " ".join(w for w in overrides.split() if not re.match(r"^\+*seed=", w)) or "(default)"


def sweep_table(parent_id: str) -> pd.DataFrame:
    """One row per job: its overrides, setting, seed and the results of its stage runs."""
    client = MlflowClient()
    rows = []
    for job in children(parent_id):
        tags = job.data.tags
        row = {
            "job": int(tags.get(SWEEP_JOB_TAG, -1)),
            "run_id": job.info.run_id,
            "status": job.info.status,
            "overrides": tags.get(SWEEP_OVERRIDES_TAG, ""),
            "seed": job.data.params.get("seed"),
        }
        row["setting"] = _setting(row["overrides"])
        stage_runs = {tags.get(STAGE_TAG): job}
        for child in children(job.info.run_id):
            reused = child.data.tags.get(REUSED_FROM_TAG)
            # A reused base holds no metrics of its own: read the run it points to.
            stage_runs[child.data.tags.get(STAGE_TAG)] = client.get_run(reused) if reused else child
        for (role, metric), column in SUMMARY.items():
            run = stage_runs.get(ROLE_STAGES[role])
            if run is None:
                continue
            if metric.endswith("_epoch1"):
                points = client.get_metric_history(run.info.run_id, metric.removesuffix("_epoch1"))
                first = [p.value for p in points if p.step == 0]
                if first:
                    row[column] = first[0]
            elif metric in run.data.metrics:
                row[column] = run.data.metrics[metric]
        rows.append(row)
    return pd.DataFrame(rows).sort_values("job") if rows else pd.DataFrame()


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation and count per setting, across seeds."""
    metrics = [c for c in SUMMARY.values() if c in table.columns]
    grouped = table.groupby("setting")[metrics].agg(["mean", "std", "count"])
    grouped.columns = [f"{metric}_{stat}" for metric, stat in grouped.columns]
    return grouped.reset_index()


def plot(summary: pd.DataFrame) -> Figure:
    """Warm and cold epoch-1 and final val accuracy per setting, with the spread as error bars."""
    panels = [("epoch1", "after epoch 1"), ("final", "after the last epoch")]
    fig = Figure(figsize=(12, 0.6 * len(summary) + 2.5))
    axes = fig.subplots(1, 2, sharey=True)
    y = range(len(summary))
    for ax, (key, title) in zip(axes, panels, strict=True):
        for offset, (role, color) in enumerate((("warm", "#dd8452"), ("cold", "#4c72b0"))):
            column = f"{role}_{key}_val_accuracy"
            if f"{column}_mean" not in summary:
                continue
            ax.errorbar(
                summary[f"{column}_mean"],
                [v + 0.15 * offset for v in y],
                xerr=summary[f"{column}_std"].fillna(0),
                fmt="o",
                color=color,
                label=role,
            )
        ax.set_title(f"val accuracy {title}")
        ax.grid(alpha=0.3)
    axes[0].set_yticks(list(y), summary["setting"])
    axes[0].legend()
    fig.tight_layout()
    return fig


def sweep_label(overrides: list[str]) -> str:
    """`sweep` and the short names of the keys the multirun sweeps: `sweep initializer, seed`."""
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception:  # Hydra refuses them itself, with its own message
        return "sweep"
    keys = [
        o.key_or_group.replace("/", ".").rsplit(".", 1)[-1] for o in parsed if o.is_sweep_override()
    ]
    return fit_name(f"sweep {', '.join(keys)}" if keys else "sweep")


# What a person reads of the summary: per setting, warm against cold (the CSV keeps the rest).
NARROW = {
    "warm_epoch1_val_accuracy_mean": "warm ep1",
    "cold_epoch1_val_accuracy_mean": "cold ep1",
    "warm_final_val_accuracy_mean": "warm final",
    "cold_final_val_accuracy_mean": "cold final",
}


def narrow(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary's setting, job count, warm and cold means and the epoch-1 gap, 4 digits."""
    columns = {k: v for k, v in NARROW.items() if k in summary}
    table = summary[["setting", *columns]].rename(columns=columns)
    counts = [c for c in summary if c.endswith("_count")]
    if counts:
        table.insert(1, "jobs", summary[counts].max(axis=1).astype(int))
    if {"warm ep1", "cold ep1"} <= set(table):
        table["ep1 gap"] = table["warm ep1"] - table["cold ep1"]
    return table.round(headline.DIGITS)


def log_headline(parent_id: str, table: pd.DataFrame, summary: pd.DataFrame) -> None:
    """The sweep parent's headline over its jobs: job count, the mean warm-cold gaps, the best
    setting by mean warm final val accuracy, a sentence and the summary plot."""
    metrics: dict[str, float] = {"sweep_jobs": float(len(table))}
    gaps = {}
    for point in ("epoch1", "final"):
        warm, cold = f"warm_{point}_val_accuracy", f"cold_{point}_val_accuracy"
        if {warm, cold} <= set(table):
            gaps[point] = float((table[warm] - table[cold]).mean())
            metrics[f"sweep_mean_{point}_gap"] = gaps[point]
    tags, parts = {}, [f"{len(table)} jobs in {len(summary)} settings"]
    if gaps:
        parts.append(
            "warm start led cold by "
            + " and ".join(f"{gap:+.4f} at {point}" for point, gap in gaps.items())
            + " on average"
        )
    best_column = "warm_final_val_accuracy_mean"
    if best_column in summary and summary[best_column].notna().any():
        best = summary.loc[summary[best_column].idxmax()]
        tags["warmstart.sweep.best_setting"] = str(best["setting"])
        metrics["sweep_best_warm_final_val_accuracy"] = float(best[best_column])
        parts.append(
            f"best setting {best['setting']} (warm final val accuracy "
            f"{best[best_column]:.4f} on average)"
        )
    sentence = "Sweep of " + "; ".join(parts) + "."
    image = headline.picture(parent_id, "sweep/summary.png", "warm and cold per setting")
    headline.write(
        parent_id, metrics=metrics, tags=tags, description=headline.note(sentence, image=image)
    )
