"""Stage `cold_start` (role `cold`): the baseline, same vocabulary, architecture, seed, epochs
and batch size as the warm run, from a fresh initialisation. Not registered: it exists to be
compared."""

from __future__ import annotations

from collections.abc import Sequence

from omegaconf import DictConfig

from warmstart.stages._entry import hydra_app
from warmstart.stages._evaluate import assess, trained_result
from warmstart.stages._tracked_fit import new_model, prepare, train_tracked, train_untracked
from warmstart.tracking.runs import stage_run
from warmstart.tracking.stage_names import COLD_START
from warmstart.tracking.stage_result import StageResult


def run(
    cfg: DictConfig, *, overrides: Sequence[str] = (), parent_run_id: str | None = None
) -> StageResult:
    with stage_run(cfg, COLD_START, overrides=overrides, parent_run_id=parent_run_id) as active:
        data = prepare(cfg)
        model = new_model(cfg, data)
        result = train_tracked(model, data, cfg)
        assessed = assess(cfg, data, model, verdict=result.verdict)
        print(f"cold: run {active.info.run_id}")
        return trained_result(COLD_START, active.info.run_id, result, assessed)


main = hydra_app(run, worker=train_untracked)

if __name__ == "__main__":
    main()
