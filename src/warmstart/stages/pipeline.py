"""Entry point `main`: the whole story under one parent run.

pipeline -> base (registers vN) -> vocab_diff (vN vs new) -> warm (from vN, registers)
         -> cold -> compare (plot + table on the parent)
"""

from __future__ import annotations

from collections.abc import Sequence

from omegaconf import DictConfig, open_dict

from warmstart.stages import cold_start, compare, train_base, vocab_diff, warm_start
from warmstart.stages._entry import hydra_app
from warmstart.tracking.runs import stage_run
from warmstart.tracking.version_format import PIPELINE


def run(
    cfg: DictConfig, *, overrides: Sequence[str] = (), parent_run_id: str | None = None
) -> dict[str, str]:
    with stage_run(cfg, PIPELINE, overrides=overrides, parent_run_id=parent_run_id) as parent:
        pid = parent.info.run_id
        base = train_base.run(cfg, overrides=overrides, parent_run_id=pid)
        new_cfg = cfg.copy()
        with open_dict(new_cfg):
            # Warm-start from exactly the version this pipeline registered, not a moving alias.
            new_cfg.warmstart.source = f"models:/{base.published.name}/{base.published.version}"
        vocab_diff.run(new_cfg, overrides=overrides, parent_run_id=pid)
        warm = warm_start.run(new_cfg, overrides=overrides, parent_run_id=pid)
        cold = cold_start.run(new_cfg, overrides=overrides, parent_run_id=pid)
        compare.run(
            new_cfg,
            overrides=overrides,
            parent_run_id=pid,
            run_ids={"base": base.run_id, "warm": warm.run_id, "cold": cold},
        )
        print(f"pipeline: run {pid} in MLflow at {_shown_uri()}")
        return {"pipeline": pid, "base": base.run_id, "warm": warm.run_id, "cold": cold}


def _shown_uri() -> str:
    import mlflow

    from warmstart.config import redact

    return str(redact("uri", mlflow.get_tracking_uri()))


main = hydra_app(run)

if __name__ == "__main__":
    main()
