"""The update job's table: a row per step (from its runs' results), a plot, the training time saved.

Time saved is counted only for steps whose warm model learned and was promoted (the table's
`seconds_saved` is empty for the others): seconds "saved" by a model that learned nothing, or
that never reached production, are no saving.
"""

from __future__ import annotations

from collections.abc import Mapping

import mlflow
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from omegaconf import DictConfig

from warmstart.core.learning_curves import summarize
from warmstart.tracking.evaluation import PREFIX, PROMOTION_METRICS
from warmstart.tracking.stage_result import StageResult, UpdateStep

WARM, COLD, NOTHING = "#dd8452", "#4c72b0", "#c44e52"
# MLflow's evaluator's accuracy on the test split (`tracking.evaluation`), what a step reports.
TEST_ACCURACY = PREFIX + PROMOTION_METRICS["accuracy"]


def curves_table(trained: Mapping[str, StageResult]) -> pd.DataFrame:
    """Warm against cold (`core.learning_curves.summarize`) from the curves the runs logged."""
    return summarize({role: dict(result.curves) for role, result in trained.items()})


def step_row(
    trained: Mapping[str, StageResult],
    *,
    step: int,
    warm_from: str,
    window: str | None,
    generation: int | None,
    cfg: DictConfig,
) -> UpdateStep:
    """The table's row of one update, from its warm (and cold) run's results."""
    warm, cold = trained["warm"], trained.get("cold")
    assert warm.published is not None, "warm_start registers a version"
    files = cfg.data.name == "files"
    row = UpdateStep(
        step=step,
        generation=generation,
        window=window,
        since=cfg.data.get("since") if files else None,
        until=cfg.data.get("until") if files else None,
        version=warm.published.version,
        source=warm.source_version or "",
        warm_from=warm_from,
        promoted=bool(warm.promoted),
        learned=warm.learned is not False,
        cold_learned=None,
        warm_test_accuracy=float(warm.scores[TEST_ACCURACY]),
        cold_test_accuracy=None,
        warm_seconds=warm.seconds,
        cold_seconds=None,
        warm_seconds_to_cold_final=None,
        seconds_saved=None,
    )
    if cold is None:
        return row
    row.cold_test_accuracy = float(cold.scores[TEST_ACCURACY])
    row.cold_seconds = cold.seconds
    row.cold_learned = cold.learned is not False
    table = curves_table(trained).set_index("run")
    reached = table.loc["warm", "seconds_to_cold_final"]
    if pd.notna(reached):
        row.warm_seconds_to_cold_final = float(reached)
        if row.promoted and row.learned and row.cold_learned:
            row.seconds_saved = row.cold_seconds - float(reached)
    return row


def _flags(table: pd.DataFrame, column: str) -> np.ndarray:
    """A yes/no column as booleans; an empty cell (no cold run) is yes."""
    return table[column].astype(object).where(table[column].notna(), True).to_numpy(dtype=bool)


def step_labels(table: pd.DataFrame) -> list[str]:
    """What each step trained on, for the x axis: its newest window, else its rows' `since..until`,
    else its generation (`gen 3`), else the step number."""
    labels = []
    for _, row in table.iterrows():
        window, since, until = row.get("window"), row.get("since"), row.get("until")
        generation = row.get("generation")
        if pd.notna(window) and window:
            labels.append(str(window))
        elif (pd.notna(since) and since) or (pd.notna(until) and until):
            labels.append(f"{since if pd.notna(since) else ''}..{until if pd.notna(until) else ''}")
        elif pd.notna(generation):
            labels.append(f"gen {int(generation)}")
        else:
            labels.append(str(row["step"]))
    return labels


def plot(table: pd.DataFrame) -> Figure:
    """Warm and cold test accuracy per step (promoted steps filled, learned-nothing ones crossed),
    and seconds per step (learned-nothing bars hatched)."""
    fig = Figure(figsize=(10, 4))
    left, right = fig.subplots(1, 2)
    steps = table["step"].to_numpy()
    warm = table["warm_test_accuracy"].to_numpy(dtype=float)
    cold = table["cold_test_accuracy"].to_numpy(dtype=float)
    left.plot(steps, cold, "-o", color=COLD, label="cold start")
    left.plot(steps, warm, "-", color=WARM, label="warm start")
    promoted = table["promoted"].to_numpy(dtype=bool)
    learned, cold_learned = _flags(table, "learned"), _flags(table, "cold_learned")
    left.scatter(steps[promoted], warm[promoted], color=WARM, label="promoted", zorder=3)
    left.scatter(
        steps[~promoted],
        warm[~promoted],
        facecolors="none",
        edgecolors=WARM,
        label="rejected",
        zorder=3,
    )
    if (~learned).any() or (~cold_learned).any():
        nothing = np.concatenate([steps[~learned], steps[~cold_learned]])
        accuracy = np.concatenate([warm[~learned], cold[~cold_learned]])
        left.scatter(
            nothing, accuracy, marker="x", s=90, color=NOTHING, label="learned nothing", zorder=4
        )
    left.set_xlabel("update (data it trained on)")
    left.set_ylabel("test accuracy")
    left.legend()
    width = 0.4
    for offset, column, color, ok in (
        (-width / 2, "cold_seconds", COLD, cold_learned),
        (width / 2, "warm_seconds", WARM, learned),
    ):
        bars = right.bar(steps + offset, table[column].astype(float), width, color=color)
        for bar, fine in zip(bars, ok, strict=True):
            if not fine:
                bar.set_hatch("xx")
                bar.set_edgecolor(NOTHING)
    keys = [Patch(color=COLD, label="cold"), Patch(color=WARM, label="warm")]
    if (~learned).any() or (~cold_learned).any():
        keys.append(
            Patch(facecolor="white", edgecolor=NOTHING, hatch="xx", label="learned nothing")
        )
    right.set_xlabel("update (data it trained on)")
    right.set_ylabel("training seconds")
    right.legend(handles=keys)
    labels = step_labels(table)
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.set_xticks(steps, labels, rotation=30 if max(map(len, labels)) > 8 else 0)
    fig.tight_layout()
    return fig


def saved_seconds(table: pd.DataFrame) -> pd.Series:
    """Each step's seconds saved, NaN unless its warm model learned and was promoted."""
    counted = table["promoted"].to_numpy(dtype=bool) & _flags(table, "learned")
    return table["seconds_saved"].astype(float).where(counted)


def summary_line(table: pd.DataFrame) -> str:
    """The run in one line: promotions, learned-nothing steps, the time saved where it counts."""
    n = len(table)
    parts = [f"{int(table['promoted'].sum())}/{n} promoted"]
    nothing = int((~_flags(table, "learned")).sum())
    if nothing:
        parts.append(f"{nothing} of {n} steps learned nothing")
    saved = saved_seconds(table)
    if saved.notna().any():
        parts.append(
            f"warm-starting saved {saved.sum():.1f} s of training against retraining from "
            f"scratch over {int(saved.notna().sum())} promoted step(s) that learned"
        )
    else:
        parts.append(
            "no training time saved to report (it counts only where a promoted warm model that "
            "learned reached the final accuracy of a cold one that learned)"
        )
    return "continual: " + "; ".join(parts)


def log_continual(table: pd.DataFrame) -> None:
    """Log table, plot and totals on the active (continual parent) run, and print them."""
    table = table.assign(seconds_saved=saved_seconds(table))
    totals = {
        "steps": float(len(table)),
        "promoted_steps": float(table["promoted"].sum()),
        "learned_nothing_steps": float((~_flags(table, "learned")).sum()),
        "saved_steps": float(table["seconds_saved"].notna().sum()),
        "warm_seconds_total": float(table["warm_seconds"].sum()),
        "cold_seconds_total": float(table["cold_seconds"].astype(float).sum()),
        "seconds_saved_total": float(np.nansum(table["seconds_saved"])),
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
    print(summary_line(table))
