"""Stage `warm_start`: continue from a registered model on a new vocabulary.

Resolves `warmstart.source` (any version, alias, model id or run) and verifies its files;
`modeling.warm_start.warm_start_model` remaps the embedding to the vocabulary this config builds
(shared tokens keep their trained rows, new ones get `warmstart.initializer`) and keeps the
trained classifier head (its output layer remapped by class when the labels changed); this
stage logs both diffs, trains, and registers a new version that records where it came from.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import keras
import mlflow
import numpy as np
from omegaconf import DictConfig, open_dict

from warmstart.config.initializer import initializer_of
from warmstart.config.schema import AUTO
from warmstart.core.errors import RemapError
from warmstart.modeling import optimizer_state
from warmstart.modeling.fit import strategy
from warmstart.modeling.heads import check_same_family
from warmstart.modeling.model import embedding_matrix_of
from warmstart.modeling.warm_start import WarmStart, warm_start_model
from warmstart.stages._entry import hydra_app
from warmstart.stages._evaluate import assess, trained_result, warm_facts
from warmstart.stages._tracked_fit import prepare, train_tracked
from warmstart.tracking.aliases import CURRENT_ALIAS
from warmstart.tracking.publish import kept_if_assessed, publish_model
from warmstart.tracking.resolve import ResolvedSource, resolve_source
from warmstart.tracking.reuse import reuse_finished, reuse_key
from warmstart.tracking.runs import stage_run
from warmstart.tracking.stage_names import WARM_START
from warmstart.tracking.stage_result import StageResult
from warmstart.tracking.version_format import (
    CHECKED_TOKEN_TAG,
    REMAP_TAG,
    label_diff_tags,
    remap_count_tag,
)


def read_optimizer_state(source: ResolvedSource) -> dict[str, np.ndarray] | None:
    """The optimizer state the source was registered with (None: it has none)."""
    if source.optimizer_state_path is None:
        return None
    with np.load(source.optimizer_state_path, allow_pickle=False) as saved:
        return dict(saved)


def no_optimizer_state(source: ResolvedSource) -> RemapError:
    return RemapError(
        f"{source.uri} was registered without optimizer state (before warmstart kept it); "
        "set warmstart.optimizer_state=false, or warm-start from a newer version"
    )


def reused(cfg: DictConfig, source: ResolvedSource, data_digest: str) -> StageResult | None:
    """A finished warm run with the same resolved config, data, code and source model, which
    this one need not repeat: re-running `make run` or a sweep then registers no identical
    version and moves no alias. None when there is none (or `reuse=false`)."""
    key = reuse_key(cfg, WARM_START, f"{data_digest}:{source.model_id}")
    return reuse_finished(cfg, WARM_START, key, role="warm")


def with_source_length(cfg: DictConfig, source: ResolvedSource) -> DictConfig:
    """`vocab.sequence_length=auto` under a Transformer source: its positions fix the length."""
    if cfg.vocab.sequence_length != AUTO or source.family != "transformer":
        return cfg
    pinned = cfg.copy()
    with open_dict(pinned):
        pinned.vocab.sequence_length = source.sequence_length
    return pinned


def log_warm_start(warm: WarmStart) -> dict[str, object]:
    """The remap and the label diff on the active run: reports, new rows, count tags, the row
    checked; the counts, for the version's lineage and description."""
    report = warm.report.to_dict()
    counts = {k: v for k, v in report.items() if not isinstance(v, dict | list)}
    mlflow.log_dict(report, "remap/report.json")
    mlflow.log_table(warm.report.to_frame(), "remap/new_rows.json")
    mlflow.set_tags({remap_count_tag(k): str(v) for k, v in counts.items()})
    mlflow.log_dict(warm.labels.summary, "remap/labels.json")
    mlflow.set_tags(label_diff_tags(warm.labels.summary))
    mlflow.set_tag(CHECKED_TOKEN_TAG, warm.checked_token)
    return counts


def optimizer_restorer(
    warm: WarmStart, saved: Mapping[str, np.ndarray]
) -> Callable[[keras.Model], None]:
    """`fit`'s `on_compiled`: the source's Adam state into the compiled model, recorded."""

    def restore(model: keras.Model) -> None:
        counts = warm.restore_optimizer(saved)
        iterations = int(saved[optimizer_state.ITERATIONS])
        mlflow.log_dict({**counts, "source_iterations": iterations}, "remap/optimizer_state.json")

    return restore


def run(
    cfg: DictConfig, *, overrides: Sequence[str] = (), parent_run_id: str | None = None
) -> StageResult:
    warm_cfg = cfg.warmstart
    with stage_run(cfg, WARM_START, overrides=overrides, parent_run_id=parent_run_id) as active:
        with tempfile.TemporaryDirectory() as tmp:
            source = resolve_source(str(warm_cfg.source), Path(tmp))
            mlflow.set_tags(source.lineage_tags())
            check_same_family(source.family, cfg.model, source.uri)
            with strategy(cfg.train).scope():
                trained_head = source.load_head()
            saved = read_optimizer_state(source) if warm_cfg.optimizer_state else None
            cfg = with_source_length(cfg, source)
            data = prepare(cfg)
            previous = reused(cfg, source, data.splits.digest())
            if previous is not None:
                return previous
            with strategy(cfg.train).scope():
                warm = warm_start_model(
                    source,
                    trained_head,
                    data.vocabulary,
                    data.labels,
                    model_cfg=cfg.model,
                    sequence_length=data.sequence_length,
                    initializer=initializer_of(warm_cfg),
                    label_initializer=str(warm_cfg.get("label_initializer", "zeros")),
                    seed=int(cfg.seed),
                    min_overlap=float(warm_cfg.min_overlap),
                )
        counts = log_warm_start(warm)
        if warm_cfg.optimizer_state and saved is None:
            raise no_optimizer_state(source)  # after the source's own checks, before training
        on_compiled = None if saved is None else optimizer_restorer(warm, saved)
        model = warm.model
        result = train_tracked(model, data, cfg, on_compiled)
        lineage = {
            **source.lineage_tags(),
            REMAP_TAG: json.dumps(counts)[:5000],
            **label_diff_tags(warm.labels.summary),
        }
        published = publish_model(
            model,
            data.vocabulary,
            embedding_matrix_of(model),
            sequence_length=data.sequence_length,
            registered_name=str(cfg.registry.model_name),
            labels=data.labels,
            aliases=(),
            optimizer_state=optimizer_state.capture(model),
            lineage=lineage,
        )
        print(
            f"warm: run {active.info.run_id} from {source.uri}, "
            f"registered models:/{published.name}/{published.version}"
        )
        origin = f"v{source.version}" if source.version else source.model_id
        mlflow.set_tag("mlflow.runName", f"{WARM_START} {origin}->v{published.version}")
        facts = warm_facts(source, counts, warm.labels.summary, result)
        with kept_if_assessed(published, aliases=("warm", CURRENT_ALIAS)):
            assessed = assess(cfg, data, model, published, facts, verdict=result.verdict,
                              added_tokens=warm.plan.added)  # fmt: skip
        return trained_result(
            WARM_START, active.info.run_id, result, assessed, published, source.version
        )


main = hydra_app(run)

if __name__ == "__main__":
    main()
