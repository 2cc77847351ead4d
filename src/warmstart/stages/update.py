"""Entry point `update`: the recurring job. New data arrives, the vocabulary is rebuilt, the model
in production (`update.source`, default `models:/NAME@champion`) is warm-started on it,
evaluated, and promoted only if at least as good; `update.cold=true` also trains the cold
baseline. One parent run per update (`update gen 3`), a child per stage; lineage tags chain the
versions v1 -> v2 -> v3.

`update.steps=K` (`experiment=continual`) runs K updates in a row on successive generations of
the embedded corpus, or with `data=files` on successive time windows of the table
(`data.time_column` grouped by `update.period`, see data/windows.py: window 0 for the base,
window k+1 for step k), each from the champion the step before left, with cold baselines, under one
parent run holding a per-step table, a plot and the training time warm-starting saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig, open_dict

from warmstart.core.errors import ConfigError
from warmstart.data.windows import TimeWindow, successive_windows
from warmstart.stages import cold_start, train_base, vocab_diff, warm_start
from warmstart.stages._continual import log_continual
from warmstart.stages._entry import hydra_app
from warmstart.stages.compare import history, summarize
from warmstart.tracking.promotion import champion_of
from warmstart.tracking.runs import stage_run
from warmstart.tracking.version_format import (
    PROMOTED,
    PROMOTION_TAG,
    SOURCE_VERSION_TAG,
    UPDATE,
)


@dataclass
class Step:
    """One update's outcome: the row of the continual table."""

    step: int
    generation: int | None
    window: str | None  # data=files: the time window's period
    version: str
    source: str
    promoted: bool
    warm_test_accuracy: float
    cold_test_accuracy: float | None
    warm_seconds: float
    cold_seconds: float | None
    warm_seconds_to_cold_final: float | None
    seconds_saved: float | None


def _step_cfg(
    cfg: DictConfig, generation: int | None, window: TimeWindow | None = None
) -> DictConfig:
    step = cfg.copy()
    with open_dict(step):
        step.warmstart.source = str(cfg["update"].source)
        if generation is not None:
            step.data.generation = generation
        if window is not None:
            step.data.since, step.data.until = window.since, window.until
    return step


def _base_cfg(cfg: DictConfig, window: TimeWindow | None) -> DictConfig:
    """The base of a continual run: trained afresh (a reused base had no champion decision),
    on the first time window with data=files."""
    fresh = cfg.copy()
    with open_dict(fresh):
        fresh.reuse = False
        if window is not None:
            fresh.base.data.since, fresh.base.data.until = window.since, window.until
    return fresh


def _seconds(run_id: str) -> float:
    return float(sum(history(run_id, "epoch_seconds")))


def one_update(
    cfg: DictConfig,
    *,
    overrides: Sequence[str] = (),
    parent_run_id: str | None = None,
    cold: bool = False,
    step: int = 0,
    window: str | None = None,
) -> Step:
    """One update under its own parent run: vocab_diff, warm_start, (cold_start)."""
    generation = cfg.data.get("generation") if cfg.data.name == "synthetic" else None
    name = f"{UPDATE} gen {generation}" if generation is not None else UPDATE
    if window is not None:
        name = f"{UPDATE} window {window}"
    with stage_run(
        cfg, UPDATE, overrides=overrides, parent_run_id=parent_run_id, run_name=name
    ) as parent:
        pid = parent.info.run_id
        vocab_diff.run(cfg, overrides=overrides, parent_run_id=pid)
        warm = warm_start.run(cfg, overrides=overrides, parent_run_id=pid)
        cold_id = cold_start.run(cfg, overrides=overrides, parent_run_id=pid) if cold else None
        client = MlflowClient()
        warm_run = client.get_run(warm.run_id)
        promoted = warm_run.data.tags.get(PROMOTION_TAG) == PROMOTED
        row = Step(
            step=step,
            generation=generation,
            window=window,
            version=warm.published.version,
            source=warm_run.data.tags.get(SOURCE_VERSION_TAG, ""),
            promoted=promoted,
            warm_test_accuracy=float(warm_run.data.metrics["test_accuracy_score"]),
            cold_test_accuracy=None,
            warm_seconds=_seconds(warm.run_id),
            cold_seconds=None,
            warm_seconds_to_cold_final=None,
            seconds_saved=None,
        )
        if cold_id:
            cold_run = client.get_run(cold_id)
            row.cold_test_accuracy = float(cold_run.data.metrics["test_accuracy_score"])
            row.cold_seconds = _seconds(cold_id)
            curves = {
                role: {k: history(rid, k) for k in ("val_accuracy", "epoch_seconds")}
                for role, rid in (("warm", warm.run_id), ("cold", cold_id))
            }
            table = summarize(curves).set_index("run")
            reached = table.loc["warm", "seconds_to_cold_final"]
            if pd.notna(reached):
                row.warm_seconds_to_cold_final = float(reached)
                row.seconds_saved = row.cold_seconds - float(reached)
        mlflow.log_metrics(
            {
                k: float(v)
                for k, v in asdict(row).items()
                if isinstance(v, int | float) and v is not None
            }
        )
        print(
            f"update: v{row.version} from v{row.source}: "
            f"{'promoted' if promoted else 'rejected'} (test accuracy {row.warm_test_accuracy:.4f})"
        )
        return row


def run(
    cfg: DictConfig, *, overrides: Sequence[str] = (), parent_run_id: str | None = None
) -> list[Step]:
    steps = int(cfg["update"].steps)
    first = cfg["update"].get("first_generation")
    if first is None and cfg.data.name == "synthetic":
        first = int(cfg.data.generation)
    if steps == 1:
        step_cfg = _step_cfg(cfg, first)
        return [
            one_update(
                step_cfg, overrides=overrides, parent_run_id=parent_run_id, cold=cfg["update"].cold
            )
        ]
    windows: list[TimeWindow | None] = [None] * (steps + 1)
    if cfg.data.name == "files":
        windows = list(successive_windows(cfg.data, cfg["update"].get("period"), steps))
    elif cfg.data.name != "synthetic":
        raise ConfigError(
            f"update.steps={steps} needs successive data: use data=synthetic (generations, "
            "experiment=continual) or data=files with data.time_column (time windows), or "
            "update.steps=1"
        )
    rows: list[Step] = []
    with stage_run(
        cfg,
        UPDATE,
        overrides=overrides,
        parent_run_id=parent_run_id,
        run_name=f"continual {steps} updates",
    ) as parent:
        pid = parent.info.run_id
        if champion_of(str(cfg.registry.model_name)) is None:
            train_base.run(_base_cfg(cfg, windows[0]), overrides=overrides, parent_run_id=pid)
        for k in range(steps):
            window = windows[k + 1]
            generation = None if first is None or window else int(first) + k
            step_cfg = _step_cfg(cfg, generation, window)
            rows.append(
                one_update(
                    step_cfg,
                    overrides=overrides,
                    parent_run_id=pid,
                    cold=True,
                    step=k,
                    window=window.label if window else None,
                )
            )
        log_continual(pd.DataFrame([asdict(r) for r in rows]))
    return rows


main = hydra_app(run)

if __name__ == "__main__":
    main()
