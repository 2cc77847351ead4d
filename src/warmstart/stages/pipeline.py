"""Entry point `main`: the whole story under one parent run, which carries the headline
(metrics, champion and decision tags, a one-sentence description over the learning curves).

pipeline -> train_base (registers vN) -> vocab_diff (vN vs new)
         -> warm_start (from vN, registers vN+1) -> cold_start -> compare (plot + table)
"""

from __future__ import annotations

from collections.abc import Sequence

from omegaconf import DictConfig, open_dict

from warmstart.stages import cold_start, compare, train_base, vocab_diff, warm_start
from warmstart.stages._entry import hydra_app
from warmstart.tracking import headline
from warmstart.tracking.connection import ui_link
from warmstart.tracking.headline import warm_sentence
from warmstart.tracking.runs import stage_run
from warmstart.tracking.stage_names import PIPELINE
from warmstart.tracking.stage_result import StageResult


def run(
    cfg: DictConfig, *, overrides: Sequence[str] = (), parent_run_id: str | None = None
) -> StageResult:
    """The whole story; `parts` holds each child stage's result by role (base, vocab_diff,
    warm, cold, compare)."""
    with stage_run(cfg, PIPELINE, overrides=overrides, parent_run_id=parent_run_id) as parent:
        pid = parent.info.run_id
        base = train_base.run(cfg, overrides=overrides, parent_run_id=pid)
        assert base.published is not None, "train_base registers a version"
        new_cfg = cfg.copy()
        with open_dict(new_cfg):
            # Warm-start from exactly the version this pipeline registered, not a moving alias.
            new_cfg.warmstart.source = f"models:/{base.published.name}/{base.published.version}"
        diff = vocab_diff.run(new_cfg, overrides=overrides, parent_run_id=pid)
        warm = warm_start.run(new_cfg, overrides=overrides, parent_run_id=pid)
        cold = cold_start.run(new_cfg, overrides=overrides, parent_run_id=pid)
        trained = {"base": base, "warm": warm, "cold": cold}
        table = compare.run(new_cfg, overrides=overrides, parent_run_id=pid, results=trained)
        _headline(cfg, pid, table, base, warm)
        print(f"pipeline: run {pid}, open {ui_link(parent.info.experiment_id, pid)}")
        parts = {**trained, "vocab_diff": diff, "compare": table}
        return StageResult(PIPELINE, pid, published=warm.published, parts=parts)


def _headline(
    cfg: DictConfig, pid: str, compared: StageResult, base: StageResult, warm: StageResult
) -> None:
    """The parent's tags (champion, decision) and its description: the headline in one
    sentence over the learning curves (compare logged the metrics and the picture)."""
    assert base.published is not None and warm.published is not None
    decision = warm.decision_word
    version = warm.published.version
    outcome = {"promoted": f"v{version} was promoted to champion"}.get(
        str(decision), f"v{version} was {decision or 'not judged'}"
    )
    assert compared.table is not None, "compare hands back its table"
    values = {m.key: m.value for m in compare.headline(compared.table)}
    sentence = warm_sentence(values, warm=f"v{version}", source=f"v{base.published.version}",
                             outcome=outcome)  # fmt: skip
    image = headline.picture(pid, "compare/learning_curves.png", "learning curves")
    headline.write(
        pid,
        metrics={},
        tags=headline.champion_tags(warm.published.name, decision),
        description=headline.note(sentence, user=cfg.get("description"), image=image),
    )


main = hydra_app(run)

if __name__ == "__main__":
    main()
