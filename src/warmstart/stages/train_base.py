"""Stage `train_base` (role `base`): train the configured classifier from scratch and register it.

It trains on the config overlaid with `base.*` (e.g. older data, 10,000 tokens), registers a
version carrying the vocabulary and embedding, and points the aliases `base` and `current` at it
(MLflow reserves `latest`).
With `reuse=true`, a finished base run with the same resolved config, data digest and code is
reused instead (its run id in the tag `warmstart.reused_from`): a sweep over warm-start
settings trains its base once.
"""

from __future__ import annotations

from collections.abc import Sequence

import mlflow
from omegaconf import DictConfig

from warmstart.config import with_overlay
from warmstart.modeling import optimizer_state
from warmstart.modeling.model import embedding_matrix_of
from warmstart.stages._entry import hydra_app
from warmstart.stages._evaluate import assess, base_facts, trained_result
from warmstart.stages._tracked_fit import new_model, prepare, train_tracked, train_untracked
from warmstart.tracking.aliases import CURRENT_ALIAS
from warmstart.tracking.publish import kept_if_assessed, publish_model
from warmstart.tracking.reuse import reuse_finished, reuse_key
from warmstart.tracking.runs import stage_run
from warmstart.tracking.stage_names import TRAIN_BASE
from warmstart.tracking.stage_result import StageResult


def run(
    cfg: DictConfig, *, overrides: Sequence[str] = (), parent_run_id: str | None = None
) -> StageResult:
    base_cfg = with_overlay(cfg, "base")
    with stage_run(
        base_cfg, TRAIN_BASE, overrides=overrides, parent_run_id=parent_run_id
    ) as active:
        data = prepare(base_cfg)
        key = reuse_key(base_cfg, TRAIN_BASE, data.splits.digest(), ignore=("warmstart.",))
        previous = reuse_finished(base_cfg, TRAIN_BASE, key, role="base")
        if previous is not None:
            return previous
        model = new_model(base_cfg, data)
        result = train_tracked(model, data, base_cfg)
        published = publish_model(
            model,
            data.vocabulary,
            embedding_matrix_of(model),
            sequence_length=data.sequence_length,
            registered_name=str(cfg.registry.model_name),
            labels=data.labels,
            aliases=(),
            optimizer_state=optimizer_state.capture(model),
        )
        uri = f"models:/{published.name}/{published.version}"
        print(f"base: run {active.info.run_id}, registered {uri}")
        mlflow.set_tag("mlflow.runName", f"{TRAIN_BASE} v{published.version}")
        with kept_if_assessed(published, aliases=("base", CURRENT_ALIAS)):
            assessed = assess(base_cfg, data, model, published, base_facts(data, result),
                              verdict=result.verdict)  # fmt: skip
        return trained_result(TRAIN_BASE, active.info.run_id, result, assessed, published)


def train_worker(cfg: DictConfig) -> None:
    """A non-chief worker's share of the base training (train.strategy=multi_worker)."""
    train_untracked(with_overlay(cfg, "base"))


main = hydra_app(run, worker=train_worker)

if __name__ == "__main__":
    main()
