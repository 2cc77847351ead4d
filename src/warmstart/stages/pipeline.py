"""Entry point `main`: the whole story under one parent run, which carries the headline
(metrics, champion and decision tags, a one-sentence description over the learning curves).

pipeline -> base (registers vN) -> vocab_diff (vN vs new) -> warm (from vN, registers)
         -> cold -> compare (plot + table on the parent)
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig, open_dict

from warmstart.stages import cold_start, compare, train_base, vocab_diff, warm_start
from warmstart.stages._entry import hydra_app
from warmstart.tracking import headline
from warmstart.tracking.connection import ui_link
from warmstart.tracking.headline import warm_sentence
from warmstart.tracking.runs import stage_run
from warmstart.tracking.stage_names import PIPELINE
from warmstart.tracking.version_format import PROMOTION_TAG, Published


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
        table = compare.run(
            new_cfg,
            overrides=overrides,
            parent_run_id=pid,
            run_ids={"base": base.run_id, "warm": warm.run_id, "cold": cold},
        )
        _headline(cfg, pid, table, base.published, warm.published)
        print(f"pipeline: run {pid}, open {ui_link(parent.info.experiment_id, pid)}")
        return {"pipeline": pid, "base": base.run_id, "warm": warm.run_id, "cold": cold}


def _headline(
    cfg: DictConfig, pid: str, table: pd.DataFrame, base: Published, warm: Published
) -> None:
    """The parent's tags (champion, decision) and its description: the headline in one
    sentence over the learning curves (compare logged the metrics and the picture)."""
    version = MlflowClient().get_model_version(warm.name, warm.version)
    decision = version.tags.get(PROMOTION_TAG)
    outcome = {"promoted": f"v{warm.version} was promoted to champion"}.get(
        str(decision), f"v{warm.version} was {decision or 'not judged'}"
    )
    values = {m.key: m.value for m in compare.headline(table)}
    sentence = warm_sentence(values, warm=f"v{warm.version}", source=f"v{base.version}",
                             outcome=outcome)  # fmt: skip
    image = headline.picture(pid, "compare/learning_curves.png", "learning curves")
    headline.write(
        pid,
        metrics={},
        tags=headline.champion_tags(warm.name, decision),
        description=headline.note(sentence, user=cfg.get("description"), image=image),
    )


main = hydra_app(run)

if __name__ == "__main__":
    main()
