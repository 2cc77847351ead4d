"""Stage `base`: train the tutorial's classifier from scratch and register it.

It trains on the config overlaid with `base.*` (e.g. older data, 10,000 tokens), registers a
version carrying the vocabulary and embedding, and points the aliases `base` and `latest` at it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from omegaconf import DictConfig

from ..config import with_overlay
from ..model import build_model, embedding_matrix_of
from ..tracking import Published, publish_model, stage_run
from ._entry import hydra_app
from ._training import prepare, train_tracked


@dataclass
class BaseOutcome:
    run_id: str
    published: Published


def run(
    cfg: DictConfig, *, overrides: Sequence[str] = (), parent_run_id: str | None = None
) -> BaseOutcome:
    base_cfg = with_overlay(cfg, "base")
    with stage_run(base_cfg, "base", overrides=overrides, parent_run_id=parent_run_id) as active:
        data = prepare(base_cfg)
        model = build_model(
            vocab_size=len(data.vocabulary),
            sequence_length=int(base_cfg.vocab.sequence_length),
            model_cfg=base_cfg.model,
        )
        train_tracked(model, data, base_cfg)
        published = publish_model(
            model,
            data.vocabulary,
            embedding_matrix_of(model),
            sequence_length=int(base_cfg.vocab.sequence_length),
            registered_name=str(cfg.registry.model_name),
            aliases=("base", "latest"),
        )
        uri = f"models:/{published.name}/{published.version}"
        print(f"base: run {active.info.run_id}, registered {uri}")
        return BaseOutcome(active.info.run_id, published)


main = hydra_app(run)

if __name__ == "__main__":
    main()
