"""Label drift: the output layer remapped by class identity, with the token remap's own core.

Classes play the part tokens play for the embedding: the output kernel's columns (axis 1) and
the bias are remapped by one `RemapPlan` of the base and new label lists, so shared classes
keep their trained column bit for bit, new classes get an initializer (`zeros` by default:
a new class starts with no opinion) and removed classes are dropped.

A binary model has one logit z where a K-class model has K. The sigmoid of z equals the
softmax over [0, z], so a binary layer is first converted exactly to two columns (a zero
column for the first class, the trained one for the second) and then remapped; an update back
to two classes collapses the two columns to their difference, exact again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from warmstart.core.labels import label_names
from warmstart.core.remap import apply_plan
from warmstart.core.remap_plan import plan_tokens
from warmstart.core.vocab_diff import VocabDiff, diff_tokens


@dataclass(frozen=True)
class LabelRemap:
    """The output layer for the new classes, and the diff and initializer that made it."""

    kernel: np.ndarray  # (hidden, 1) for two classes, else (hidden, K)
    bias: np.ndarray
    diff: VocabDiff
    initializer: str

    def summary(self) -> dict[str, Any]:
        """Counts and class lists (kept, added, removed), e.g. for tags and `log_dict`."""
        return label_diff_summary(self.diff) | {"initializer": self.initializer}


def diff_labels(base: Sequence[Any], new: Sequence[Any]) -> VocabDiff:
    """How the classes changed, by their text (`1` and `"1"` are the same class)."""
    return diff_tokens(label_names(base), label_names(new))


def label_diff_summary(diff: VocabDiff) -> dict[str, Any]:
    """Kept, added and removed classes with their counts."""
    shared = [diff.new[j] for j in diff.shared_new]
    return {
        "base_classes": len(diff.base),
        "new_classes": len(diff.new),
        "kept": shared,
        "added": [diff.new[j] for j in diff.added],
        "removed": [diff.base[i] for i in diff.removed],
        "n_kept": len(shared),
        "n_added": int(diff.n_added),
        "n_removed": int(diff.n_removed),
    }


def as_softmax_columns(kernel: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A one-logit layer as the equivalent two-logit one: sigmoid(z) == softmax([0, z])[1]."""
    kernel, bias = np.asarray(kernel), np.asarray(bias)
    if kernel.shape[1] != 1:
        return kernel, bias
    return (
        np.concatenate([np.zeros_like(kernel), kernel], axis=1),
        np.concatenate([np.zeros_like(bias), bias]),
    )


def as_one_logit(kernel: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two softmax logits as the equivalent single logit z = s1 - s0."""
    return kernel[:, 1:2] - kernel[:, 0:1], bias[1:2] - bias[0:1]


def remap_output_layer(
    base_labels: Sequence[Any],
    new_labels: Sequence[Any],
    kernel: np.ndarray,
    bias: np.ndarray,
    *,
    initializer: str = "zeros",
    seed: int | None = None,
) -> LabelRemap:
    """The output layer of a model for `new_labels`, from one trained for `base_labels`."""
    diff = diff_labels(base_labels, new_labels)
    columns, biases = as_softmax_columns(kernel, bias)
    plan = plan_tokens(diff.base, diff.new, 0.0)
    new_kernel = apply_plan(plan, columns, 1, initializer, seed).matrix
    new_bias = apply_plan(plan, biases, 0, initializer, seed).matrix
    if len(new_labels) == 2:
        new_kernel, new_bias = as_one_logit(new_kernel, new_bias)
    return LabelRemap(new_kernel, new_bias, diff, initializer)
