"""Warm-start a trained model onto a new vocabulary (and classes): the whole step, no tracking.

Shared tokens keep their trained rows (bit-identical, checked on one token after the build),
new ones get the initializer's rows, removed ones are dropped; the trained head is kept, its
output layer remapped by class when the labels changed (`core.label_remap`); a source's Adam
state can follow the same two plans once the model is compiled. The stage `warm_start` calls
this and only logs what it returns; anyone can call it without MLflow.

Memory: the source's matrix is loaded when the remap begins and dropped before the model is
built, so the build holds the new matrix and the model's variable, not the old matrix too
(`benchmarks/bench_scale.py` measures it at a million tokens).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import keras
import numpy as np

from warmstart.core.errors import RemapError
from warmstart.core.label_remap import diff_labels, label_diff_summary, remap_output_layer
from warmstart.core.labels import label_names
from warmstart.core.remap import remap_embeddings
from warmstart.core.remap_plan import RemapPlan
from warmstart.core.remap_report import RemapReport
from warmstart.data.acl_layout import legacy_labels_renamed
from warmstart.modeling import optimizer_state
from warmstart.modeling.model import build_model, embedding_row
from warmstart.modeling.output_layer import head_for_classes, output_weights

CHECK_TOKEN = "the"  # the tutorial checks this token's row survives the remap


class Source(Protocol):
    """What a warm start needs of a trained model (`tracking.resolve.ResolvedSource` is one):
    `embedding` is read once, when the remap begins."""

    vocabulary: list[str]
    labels: list

    @property
    def embedding(self) -> np.ndarray: ...


@dataclass(frozen=True)
class LabelChange:
    """How the classes moved: the diff's summary (counts and class lists) and, when they
    changed, the plan the output layer followed (None: same classes, head kept as it is)."""

    summary: dict[str, Any]
    plan: RemapPlan | None


@dataclass(frozen=True, eq=False)
class WarmStart:
    """A warm-started model (built, not compiled) and how it was made."""

    model: keras.Model
    report: RemapReport  # the vocabulary remap: counts, new rows, the plan
    labels: LabelChange
    checked_token: str  # the shared token whose row was checked bit-identical after the build

    @property
    def plan(self) -> RemapPlan:
        return self.report.plan

    def restore_optimizer(self, state: Mapping[str, np.ndarray]) -> dict[str, int]:
        """Put the source's Adam `state` into the compiled model through both plans; how many
        tensors each role restored (`modeling.optimizer_state.restore`)."""
        return optimizer_state.restore(
            self.model, state, vocabulary_plan=self.plan, label_plan=self.labels.plan
        )


def check_token(source_vocabulary: Sequence[str], vocabulary: Sequence[str]) -> str:
    """The shared token whose row is checked after the remap, `the` as in the tutorial."""
    shared = set(source_vocabulary)
    if CHECK_TOKEN in shared and CHECK_TOKEN in vocabulary:
        return CHECK_TOKEN
    token = next((t for t in vocabulary[2:] if t in shared), None)
    if token is None:
        raise RemapError("no token is shared by the source and new vocabularies; check data/vocab")
    return token


def warm_head(
    head: keras.Layer,
    source_labels: Sequence,
    labels: Sequence,
    *,
    initializer: str = "zeros",
    seed: int = 0,
) -> tuple[keras.Layer, LabelChange]:
    """The head to warm-start with: `head` itself when the classes are the same, else a copy
    whose output layer is remapped by class (new classes get `initializer` columns).

    A version of aclImdb-layout data from before its labels were words (0/1) is read as
    negative/positive (`data.acl_layout.legacy_labels_renamed`).
    """
    source_labels = legacy_labels_renamed(source_labels, labels)
    if label_names(source_labels) == label_names(labels):
        return head, LabelChange(label_diff_summary(diff_labels(source_labels, labels)), None)
    kernel, bias = output_weights(head)
    remapped = remap_output_layer(
        source_labels, labels, kernel, bias, initializer=initializer, seed=seed
    )
    new_head = head_for_classes(head, len(labels), remapped.kernel, remapped.bias)
    return new_head, LabelChange(remapped.summary(), RemapPlan.from_diff(remapped.diff))


def warm_start_model(
    source: Source,
    head: keras.Layer,
    vocabulary: Sequence[str],
    labels: Sequence,
    *,
    model_cfg: Mapping,
    sequence_length: int,
    initializer: Any = "uniform",
    label_initializer: str = "zeros",
    seed: int = 0,
    min_overlap: float = 0.5,
) -> WarmStart:
    """`source`'s trained rows and `head` on `vocabulary` and `labels`, as a built model.

    `initializer` fills the rows of new tokens: an initializer object of `core.initializers`
    or its name (`uniform`). Build it in the `tf.distribute` strategy's scope the model will
    train in. Raises `RemapError` when too few tokens are shared (`min_overlap`) or when a
    shared row did not survive.
    """
    head, label_change = warm_head(
        head, source.labels, labels, initializer=label_initializer, seed=seed
    )
    token = check_token(source.vocabulary, vocabulary)
    matrix = source.embedding  # loaded here, dropped before the build
    trained_row = matrix[list(source.vocabulary).index(token)].copy()
    remapped = remap_embeddings(
        source.vocabulary,
        vocabulary,
        matrix,
        initializer=initializer,
        seed=seed,
        min_overlap=min_overlap,
    )
    del matrix
    report, new_matrix = remapped.report, remapped.matrix
    del remapped
    model = build_model(
        vocab_size=len(vocabulary),
        sequence_length=sequence_length,
        model_cfg=model_cfg,
        num_classes=len(labels),
        embedding_matrix=new_matrix,
        head=head,
    )
    del new_matrix  # the model's variable holds the rows now
    if not np.array_equal(embedding_row(model, list(vocabulary).index(token)), trained_row):
        raise RemapError(f"the row of {token!r} changed in the remap; this is a bug, please report")
    return WarmStart(model, report, label_change, token)
