"""Stage `warm`: continue from a registered model on a new vocabulary.

Resolves `warmstart.source` (any version, alias, model id or run), verifies its files, remaps
the embedding to the vocabulary this config builds (shared tokens keep their trained rows, new
ones get `warmstart.initializer`), keeps the trained classifier head (its output layer remapped
by class when the labels changed, see `_warm_head`), trains, and registers a new version that
records where it came from and both diffs.
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import mlflow
import numpy as np
from omegaconf import DictConfig, OmegaConf, open_dict

from warmstart.config.schema import AUTO
from warmstart.core.errors import RemapError
from warmstart.core.remap import remap_embeddings
from warmstart.core.remap_plan import RemapPlan
from warmstart.modeling import optimizer_state
from warmstart.modeling.fit import strategy
from warmstart.modeling.heads import check_same_family
from warmstart.modeling.model import embedding_matrix_of, embedding_row
from warmstart.stages._entry import hydra_app
from warmstart.stages._evaluate import assess, warm_facts
from warmstart.stages._tracked_fit import new_model, prepare, train_tracked
from warmstart.stages._warm_head import warm_head
from warmstart.tracking.publish import kept_if_assessed, publish_model
from warmstart.tracking.resolve import ResolvedSource, resolve_source
from warmstart.tracking.reuse import reuse_finished, reuse_key
from warmstart.tracking.runs import stage_run
from warmstart.tracking.stage_names import WARM_START
from warmstart.tracking.version_format import (
    CHECKED_TOKEN_TAG,
    REMAP_TAG,
    Published,
    remap_count_tag,
)

CHECK_TOKEN = "the"  # the tutorial checks this token's row survives the remap


@dataclass
class WarmStartOutcome:
    run_id: str
    published: Published


def initializer_options(warm_cfg: Mapping) -> dict:
    """The initializer's options from config: `initializer_options` (None = default), and
    for `pretrained` its file and vocabulary, for `pretrained`/`subword` the `fallback`
    (an explicit `initializer_options` key wins)."""
    name = warm_cfg.get("initializer")
    options = {}
    if name == "pretrained":
        options["path"] = warm_cfg.get("pretrained_path")
        options["vocabulary"] = warm_cfg.get("pretrained_vocabulary")
    if name in ("pretrained", "subword"):
        options["fallback"] = warm_cfg.get("fallback")
    options.update(warm_cfg.get("initializer_options") or {})
    return {k: v for k, v in options.items() if v is not None}


def check_token(source: ResolvedSource, vocabulary: list[str]) -> str:
    """The shared token whose row is checked after the remap, `the` as in the tutorial."""
    shared = set(source.vocabulary)
    if CHECK_TOKEN in shared and CHECK_TOKEN in vocabulary:
        return CHECK_TOKEN
    token = next((t for t in vocabulary[2:] if t in shared), None)
    if token is None:
        raise RemapError("no token is shared by the source and new vocabularies; check data/vocab")
    return token


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


def restore_optimizer(
    saved: dict[str, np.ndarray],
    plan: RemapPlan,
    label_plan: RemapPlan | None,
    model: keras.Model,
) -> None:
    """Restore the source's Adam state into the compiled warm model, and record it."""
    counts = optimizer_state.restore(model, saved, vocabulary_plan=plan, label_plan=label_plan)
    mlflow.log_dict(
        {**counts, "source_iterations": int(saved[optimizer_state.ITERATIONS])},
        "remap/optimizer_state.json",
    )


def reused(cfg: DictConfig, source: ResolvedSource, data_digest: str) -> WarmStartOutcome | None:
    """A finished warm run with the same resolved config, data, code and source model, which
    this one need not repeat: re-running `make run` or a sweep then registers no identical
    version and moves no alias. None when there is none (or `reuse=false`)."""
    key = reuse_key(cfg, WARM_START, f"{data_digest}:{source.model_id}")
    previous = reuse_finished(cfg, WARM_START, key, role="warm")
    return None if previous is None else WarmStartOutcome(*previous)


def with_source_length(cfg: DictConfig, source: ResolvedSource) -> DictConfig:
    """`vocab.sequence_length=auto` under a Transformer source: its positions fix the length."""
    if cfg.vocab.sequence_length != AUTO or source.family != "transformer":
        return cfg
    pinned = cfg.copy()
    with open_dict(pinned):
        pinned.vocab.sequence_length = source.sequence_length
    return pinned


def run(
    cfg: DictConfig, *, overrides: Sequence[str] = (), parent_run_id: str | None = None
) -> WarmStartOutcome:
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
            head, label_tags, label_plan = warm_head(cfg, source, trained_head, data)
        remapped = remap_embeddings(
            source.vocabulary,
            data.vocabulary,
            source.embedding,
            initializer=str(warm_cfg.initializer),
            seed=int(cfg.seed),
            min_overlap=float(warm_cfg.min_overlap),
            **initializer_options(OmegaConf.to_container(warm_cfg, resolve=True)),
        )
        report = remapped.report.to_dict()
        counts = {k: v for k, v in report.items() if not isinstance(v, dict | list)}
        mlflow.log_dict(report, "remap/report.json")
        mlflow.log_table(remapped.report.to_frame(), "remap/new_rows.json")
        mlflow.set_tags({remap_count_tag(k): str(v) for k, v in counts.items()})
        token = check_token(source, data.vocabulary)
        trained_row = source.embedding[source.vocabulary.index(token)].copy()
        source.embedding = trained_row[None]  # the source matrix is not needed any more: free it
        plan, matrix = remapped.report.plan, remapped.matrix
        del remapped
        model = new_model(cfg, data, embedding_matrix=matrix, head=head)
        del matrix  # the model's variable holds the rows now
        if not np.array_equal(embedding_row(model, data.vocabulary.index(token)), trained_row):
            raise RemapError(
                f"the row of {token!r} changed in the remap; this is a bug, please report"
            )
        mlflow.set_tag(CHECKED_TOKEN_TAG, token)
        if warm_cfg.optimizer_state and saved is None:
            raise no_optimizer_state(source)  # after the source's own checks, before training
        on_compiled = None
        if saved is not None:
            on_compiled = functools.partial(restore_optimizer, saved, plan, label_plan)
        result = train_tracked(model, data, cfg, on_compiled)
        lineage = {
            **source.lineage_tags(),
            REMAP_TAG: json.dumps(counts)[:5000],
            **label_tags,
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
        with kept_if_assessed(published, aliases=("warm", "current")):
            assess(cfg, data, model, published, warm_facts(source, counts, result),
                   verdict=result.verdict, added_tokens=plan.added)  # fmt: skip
        return WarmStartOutcome(active.info.run_id, published)


main = hydra_app(run)

if __name__ == "__main__":
    main()
