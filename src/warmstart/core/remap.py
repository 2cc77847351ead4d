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

import dataclasses
from typing import Any

import numpy as np

from warmstart.core.arrays import non_finite
from warmstart.core.errors import RemapError
from warmstart.core.initializer_options import initializer_named
from warmstart.core.initializers import Constant, Initializer, make_rng
from warmstart.core.remap_plan import RemapPlan, plan_tokens
from warmstart.core.remap_report import RemapReport, RemapResult
from warmstart.core.vocab import as_vocabulary

__all__ = ["apply_plan", "remap_embeddings"]


def remap_embeddings(
    base_vocabulary: Any,
    new_vocabulary: Any,
    base_embeddings: np.ndarray,
    initializer: Initializer | str = "uniform",
    seed: int | np.random.Generator | None = None,
    min_overlap: float = 0.0,
    **initializer_options: Any,
) -> RemapResult:
    """Warm-start an embedding matrix for `new_vocabulary` from one trained on `base_vocabulary`.

    Shared tokens keep their trained row (bit-identical), new tokens get `initializer`
    rows, removed tokens are dropped. `initializer` is an object of `core.initializers`
    (`Normal(stddev=0.1)`) or its name with its options as keywords (`"normal", stddev=0.1`).
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
    plan = plan_tokens(base_tokens, new_tokens, min_overlap)
    return apply_plan(plan, base_embeddings, 0, initializer, seed, **initializer_options)


def apply_plan(
    plan: RemapPlan,
    tensor: np.ndarray,
    axis: int = 0,
    initializer: Initializer | str = "uniform",
    seed: int | np.random.Generator | None = None,
    **initializer_options: Any,
) -> RemapResult:
    """Remap `tensor` along `axis` (its vocabulary axis) with a plan from `plan_remap`.

    axis=0 for an embedding (V, dim) or a bias (V,); axis=1 for a Dense kernel (hidden, V).
    The result keeps `tensor`'s dtype and layout, with `plan.new_size` entries on `axis`.
    `initializer` as for `remap_embeddings`.
    """
    filler = _initializer(initializer, initializer_options)
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

    if isinstance(filler, Constant) and filler.matrix is not None:
        filler = dataclasses.replace(
            filler, matrix=_constant_in_layout(filler.matrix, out.shape, axis)
        )
    sources = filler.fill(
        dst,
        plan.added,
        base=src,
        rng=make_rng(seed),
        tokens=plan.new_vocabulary,
        base_tokens=plan.base_vocabulary,
    )
    report = RemapReport.from_sources(plan, sources, axis=axis, out=out, initializer=filler.name)
    return RemapResult(matrix=out, report=report)


def _initializer(initializer: Initializer | str, options: dict[str, Any]) -> Initializer:
    """The initializer object: `initializer` itself, or the one it names with `options`."""
    if isinstance(initializer, Initializer):
        if options:
            raise RemapError(
                f"got the {initializer.name} initializer object and options "
                f"{', '.join(sorted(options))}; give options to the object, e.g. "
                "Normal(stddev=0.1), or pass the name: initializer='normal', stddev=0.1."
            )
        return initializer
    return initializer_named(initializer, **options)


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
    bad_total, first_row = non_finite(src)
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
