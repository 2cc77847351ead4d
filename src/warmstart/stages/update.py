"""Entry point `update`: the recurring job. New data arrives, the vocabulary is rebuilt, the model
in production (`update.source`, default `models:/NAME@champion`) is warm-started on it,
evaluated, and promoted only if at least as good; `update.cold=true` also trains the cold
baseline. One parent run per update (`update gen 3`), a child per stage; lineage tags chain the
versions v1 -> v2 -> v3.

`update.steps=K` (`experiment=continual`) runs K updates in a row on successive generations of
the embedded corpus, each from the champion the step before left, with cold baselines, under one
parent run holding a per-step table, a plot and the training time warm-starting saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig, open_dict

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
    version: str
    source: str
    promoted: bool
    warm_test_accuracy: float
    cold_test_accuracy: float | None
    warm_seconds: float
    cold_seconds: float | None
    warm_seconds_to_cold_final: float | None
    seconds_saved: float | None


def _step_cfg(cfg: DictConfig, generation: int | None) -> DictConfig:
    step = cfg.copy()
    with open_dict(step):
        step.warmstart.source = str(cfg["update"].source)
        if generation is not None:
            step.data.generation = generation
    return step


def _seconds(run_id: str) -> float:
    return float(sum(history(run_id, "epoch_seconds")))


def one_update(
    cfg: DictConfig,
    *,
    overrides: Sequence[str] = (),
    parent_run_id: str | None = None,
    cold: bool = False,
    step: int = 0,
) -> Step:
    """One update under its own parent run: vocab_diff, warm_start, (cold_start)."""
    generation = cfg.data.get("generation") if cfg.data.name == "synthetic" else None
    name = f"{UPDATE} gen {generation}" if generation is not None else UPDATE
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
    if cfg.data.name != "synthetic":
        from warmstart.core.errors import ConfigError

        raise ConfigError(
            f"update.steps={steps} needs data generations: use data=synthetic "
            "(experiment=continual), or update.steps=1"
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
            fresh = cfg.copy()
            with open_dict(fresh):
                fresh.reuse = False  # a reused base was registered without a champion decision
            train_base.run(fresh, overrides=overrides, parent_run_id=pid)
        for k in range(steps):
            step_cfg = _step_cfg(cfg, int(first) + k)
            rows.append(
                one_update(step_cfg, overrides=overrides, parent_run_id=pid, cold=True, step=k)
            )
        log_continual(pd.DataFrame([asdict(r) for r in rows]))
    return rows


main = hydra_app(run)

if __name__ == "__main__":
    main()
