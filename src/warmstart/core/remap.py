"""Remap trained weights from a base vocabulary to a new one, token by token.

`remap_embeddings` is the NumPy counterpart of `tf_keras.utils.warmstart_embedding_matrix`:
a row of a token present in both vocabularies is copied bit for bit from its base row
wherever the token moved; rows of new tokens come from an initializer. The matching is
computed once as a `RemapPlan`, so the same plan also remaps the output layer's kernel
columns (axis=1) and its bias, keeping embedding, head and vocabulary consistent.

Memory: the output is allocated once and filled in place, chunk by chunk; no full-size
temporary (random matrix, gathered copy or float64 upcast) is ever built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from warmstart.core.errors import RemapError
from warmstart.core.initializers import INITIALIZERS, fill_rows, make_rng
from warmstart.core.vocab import VocabDiff, as_vocabulary, diff_tokens

__all__ = [
    "INITIALIZERS",
    "RemapPlan",
    "RemapReport",
    "RemapResult",
    "apply_plan",
    "plan_remap",
    "remap_embeddings",
]

COPIED = "copied"
"""Provenance label of rows copied from the base matrix."""

_CHUNK_BYTES = 8 << 20


@dataclass(frozen=True, eq=False)
class RemapPlan:
    """Index arrays that move weights from base-vocabulary order to new-vocabulary order.

    `shared_new[k]` (ascending) receives base row `shared_base[k]`; `added` are the new
    indices to initialise; `removed` are base indices no new token uses.
    """

    base_size: int
    new_size: int
    shared_new: np.ndarray
    shared_base: np.ndarray
    added: np.ndarray
    removed: np.ndarray
    new_vocabulary: list[str] | None = None
    base_vocabulary: list[str] | None = None

    @classmethod
    def from_diff(cls, diff: VocabDiff) -> RemapPlan:
        """The plan implied by a vocabulary diff (keeps the token lists for reports)."""
        return cls(
            base_size=len(diff.base),
            new_size=len(diff.new),
            shared_new=diff.shared_new,
            shared_base=diff.shared_base,
            added=diff.added,
            removed=diff.removed,
            new_vocabulary=diff.new,
            base_vocabulary=diff.base,
        )

    @property
    def n_shared(self) -> int:
        return int(self.shared_new.size)

    @cached_property
    def n_moved(self) -> int:
        """Shared tokens whose index changed."""
        return int(np.count_nonzero(self.shared_new != self.shared_base))

    @property
    def overlap(self) -> float:
        """Shared tokens / new vocabulary size: the share of rows that are warm-started."""
        return self.n_shared / self.new_size

    @cached_property
    def new_to_base(self) -> np.ndarray:
        """Base index of every new row, -1 where the token is new."""
        out = np.full(self.new_size, -1, dtype=np.intp)
        out[self.shared_new] = self.shared_base
        return out


@dataclass(frozen=True, eq=False)
class RemapReport:
    """What a remap did: counts, ratios and which initializer filled each new row.

    `row_source[j]` indexes `source_names`; "copied" means copied from the base row.
    """

    plan: RemapPlan
    axis: int
    shape: tuple[int, ...]
    dtype: str
    initializer: str
    source_names: tuple[str, ...]
    row_source: np.ndarray

    @property
    def copied(self) -> int:
        return self.plan.n_shared

    @property
    def added(self) -> int:
        return int(self.plan.added.size)

    @property
    def dropped(self) -> int:
        return int(self.plan.removed.size)

    @property
    def moved(self) -> int:
        return self.plan.n_moved

    @property
    def overlap(self) -> float:
        return self.plan.overlap

    @property
    def retained(self) -> float:
        return self.plan.n_shared / self.plan.base_size

    @property
    def source_counts(self) -> dict[str, int]:
        """Rows per source label, e.g. {'copied': 9800, 'pretrained': 150, 'uniform': 50}."""
        counts = np.bincount(self.row_source, minlength=len(self.source_names))
        return {name: int(c) for name, c in zip(self.source_names, counts, strict=True)}

    def sources(self) -> pd.Categorical:
        """Per new row, the label of what filled it."""
        return pd.Categorical.from_codes(self.row_source, categories=list(self.source_names))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (no per-row arrays), e.g. for mlflow.log_dict."""
        return {
            "base_size": self.plan.base_size,
            "new_size": self.plan.new_size,
            "axis": self.axis,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "copied": self.copied,
            "added": self.added,
            "dropped": self.dropped,
            "moved": self.moved,
            "overlap": self.overlap,
            "retained": self.retained,
            "initializer": self.initializer,
            "sources": self.source_counts,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per new-vocabulary entry: token, new_index, base_index (-1), source."""
        tokens = self.plan.new_vocabulary
        frame = pd.DataFrame(
            {
                "new_index": np.arange(self.plan.new_size),
                "base_index": self.plan.new_to_base,
                "source": self.sources(),
            }
        )
        if tokens is not None:
            token_array = np.empty(len(tokens), dtype=object)
            token_array[:] = tokens
            frame.insert(0, "token", token_array)
        return frame


@dataclass(frozen=True, eq=False)
class RemapResult:
    """The remapped array (`matrix`, new vocabulary on the plan's axis) and its report."""

    matrix: np.ndarray
    report: RemapReport


def plan_remap(base_vocabulary: Any, new_vocabulary: Any, *, min_overlap: float = 0.0) -> RemapPlan:
    """Match the two vocabularies once; raise RemapError if the overlap is below `min_overlap`.

    Vocabularies may be lists, arrays (str or all-bytes) or vocabulary file paths.
    """
    base_tokens = as_vocabulary(base_vocabulary, name="base vocabulary")
    new_tokens = as_vocabulary(new_vocabulary, name="new vocabulary")
    return _plan_tokens(base_tokens, new_tokens, min_overlap)


def _plan_tokens(base_tokens: list[str], new_tokens: list[str], min_overlap: float) -> RemapPlan:
    plan = RemapPlan.from_diff(diff_tokens(base_tokens, new_tokens))
    _check_overlap(plan, min_overlap)
    return plan


def remap_embeddings(
    base_vocabulary: Any,
    new_vocabulary: Any,
    base_embeddings: np.ndarray,
    initializer: str = "uniform",
    seed: int | np.random.Generator | None = None,
    min_overlap: float = 0.0,
    **initializer_options: Any,
) -> RemapResult:
    """Warm-start an embedding matrix for `new_vocabulary` from one trained on `base_vocabulary`.

    Shared tokens keep their trained row (bit-identical), new tokens get `initializer`
    rows (see `warmstart.initializers.INITIALIZERS`), removed tokens are dropped.
    `.matrix` has shape (len(new_vocabulary), dim) and the dtype of `base_embeddings`.
    """
    base_embeddings = _as_float_array(base_embeddings)
    if base_embeddings.ndim != 2:
        raise RemapError(
            f"base_embeddings has shape {base_embeddings.shape}; an embedding matrix must be "
            "2-D (vocabulary x dim): pass layer.get_weights()[0] of the Embedding layer, or "
            "use apply_plan for kernels and biases."
        )
    base_tokens = as_vocabulary(base_vocabulary, name="base vocabulary")
    if len(base_tokens) != base_embeddings.shape[0]:
        raise RemapError(
            f"base vocabulary has {len(base_tokens)} tokens but base_embeddings has "
            f"{base_embeddings.shape[0]} rows; pass the vocabulary the matrix was trained with "
            "(including the mask '' and '[UNK]' tokens, as get_vocabulary() returns it)."
        )
    new_tokens = as_vocabulary(new_vocabulary, name="new vocabulary")
    plan = _plan_tokens(base_tokens, new_tokens, min_overlap)
    return apply_plan(plan, base_embeddings, 0, initializer, seed, **initializer_options)


def apply_plan(
    plan: RemapPlan,
    tensor: np.ndarray,
    axis: int = 0,
    initializer: str = "uniform",
    seed: int | np.random.Generator | None = None,
    **initializer_options: Any,
) -> RemapResult:
    """Remap `tensor` along `axis` (its vocabulary axis) with a plan from `plan_remap`.

    axis=0 for an embedding (V, dim) or a bias (V,); axis=1 for a Dense kernel (hidden, V).
    The result keeps `tensor`'s dtype and layout, with `plan.new_size` entries on `axis`.
    """
    if initializer not in INITIALIZERS:
        raise RemapError(
            f"unknown initializer {initializer!r}; use one of {', '.join(INITIALIZERS)}."
        )
    tensor = _as_float_array(tensor)
    if tensor.ndim == 0:
        raise RemapError("cannot remap a scalar; pass an array with a vocabulary axis.")
    if not -tensor.ndim <= axis < tensor.ndim:
        raise RemapError(
            f"axis {axis} is out of range for an array of shape {tensor.shape}; use the axis "
            "that indexes tokens (0 for embeddings and biases, 1 for a Dense kernel)."
        )
    axis %= tensor.ndim
    if tensor.shape[axis] != plan.base_size:
        raise RemapError(
            f"array has {tensor.shape[axis]} entries on axis {axis} but the base vocabulary "
            f"has {plan.base_size} tokens; pass the weights trained with that vocabulary, or "
            "the axis that indexes tokens (1 for a Dense kernel of shape (hidden, V))."
        )
    src = np.moveaxis(tensor, axis, 0)
    _check_finite(src, axis)

    shape = list(tensor.shape)
    shape[axis] = plan.new_size
    out = np.empty(shape, dtype=tensor.dtype)
    # One sequential pass over the output: new row j <- base row new_to_base[j]. Rows of
    # new tokens (-1, clipped to 0) get a placeholder the initializer overwrites next.
    np.take(tensor, plan.new_to_base, axis=axis, out=out, mode="clip")
    dst = np.moveaxis(out, axis, 0)

    options = dict(initializer_options)
    if initializer == "constant" and options.get("matrix") is not None:
        options["matrix"] = _constant_in_layout(options["matrix"], out.shape, axis)
    sources = fill_rows(
        initializer,
        dst,
        plan.added,
        base=src,
        rng=make_rng(seed),
        tokens=plan.new_vocabulary,
        options=options,
    )
    names = [COPIED, *dict.fromkeys(name for name, _ in sources)]
    row_source = np.zeros(plan.new_size, dtype=np.uint8)
    for name, rows in sources:
        row_source[rows] = names.index(name)
    report = RemapReport(
        plan=plan,
        axis=axis,
        shape=tuple(out.shape),
        dtype=str(out.dtype),
        initializer=initializer,
        source_names=tuple(names),
        row_source=row_source,
    )
    return RemapResult(matrix=out, report=report)


# --------------------------------------------------------------------------- helpers


def _as_float_array(tensor: Any) -> np.ndarray:
    array = np.asarray(tensor)
    if array.dtype.kind != "f":
        raise RemapError(
            f"weights have dtype {array.dtype}; they must be floating point (float16/32/64): "
            "pass the trained weight array, e.g. layer.get_weights()[0], not token ids."
        )
    return array


def _check_finite(src: np.ndarray, axis: int) -> None:
    """Refuse NaN/inf weights: they would silently poison every warm-started model."""
    # A finite total proves every element finite; an overflowing total only costs the
    # exact scan below. Summing float32 in float32 halves the time of a float64 sum.
    total_dtype = np.promote_types(src.dtype, np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(src, dtype=total_dtype)):
            return
    bad_total, first_row = 0, -1
    step = max(1, _CHUNK_BYTES // max(1, src[:1].nbytes))
    for start in range(0, src.shape[0], step):
        bad = ~np.isfinite(src[start : start + step])
        count = int(bad.sum())
        if count and first_row < 0:
            first_row = start + int(np.flatnonzero(bad.reshape(bad.shape[0], -1).any(1))[0])
        bad_total += count
    if bad_total:
        raise RemapError(
            f"base weights hold {bad_total} NaN/inf value(s), first at index {first_row} of "
            f"axis {axis}; fix the training run or load an earlier checkpoint (np.nan_to_num "
            "would only hide the problem)."
        )


def _constant_in_layout(matrix: Any, out_shape: tuple[int, ...], axis: int) -> np.ndarray:
    matrix = np.asarray(matrix)
    if matrix.shape != tuple(out_shape):
        raise RemapError(
            f"constant initializer matrix has shape {matrix.shape} but the remapped array "
            f"has shape {tuple(out_shape)}; pass a matrix for the WHOLE new vocabulary "
            "(as in Constant(new_embedding)), in the layout of the output."
        )
    return np.moveaxis(matrix, axis, 0)


def _check_overlap(plan: RemapPlan, min_overlap: float) -> None:
    if plan.overlap >= min_overlap:
        return
    hint = ""
    tokens: Sequence[str] | None = plan.new_vocabulary
    if tokens is not None and sum(t.startswith(("b'", 'b"')) for t in tokens[:100]) > 10:
        hint = " The new tokens look like str(bytes) ('b\\'...\\''): decode bytes, not str() them."
    raise RemapError(
        f"only {plan.n_shared} of {plan.new_size} new-vocabulary tokens "
        f"({plan.overlap:.1%}) are in the base vocabulary, below min_overlap={min_overlap}. "
        "Usual causes: one vocabulary is bytes or str(bytes) and the other str (load both "
        "with warmstart.vocab.normalize_vocabularies), a different tokenizer/standardisation, "
        "or special tokens ('' mask, '[UNK]') added to only one side so every index is "
        f"offset. Compare the two vocabularies, or lower min_overlap if the change is "
        f"intended.{hint}"
    )
