"""How each built-in initializer writes the rows of tokens the base vocabulary lacks.

Each filler writes `out[rows]` in place, in chunks of a few MiB, so a remap never builds a
full random matrix (or a float64 copy of one) only to overwrite most of it. "Rows" are
slices along the vocabulary axis: embedding rows, Dense-kernel columns or bias entries
alike. Random fillers draw from a `numpy.random.Generator`, so a seed reproduces the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from warmstart.core.arrays import non_finite
from warmstart.core.errors import RemapError

__all__ = ["FILLERS", "require_finite"]

_CHUNK_BYTES = 4 << 20


def require_finite(array: np.ndarray, what: str) -> None:
    """Refuse NaN/inf in values about to be written, naming `what` they came from."""
    count, first_row = non_finite(array)
    if count:
        raise RemapError(
            f"{what} holds {count} NaN/inf value(s), first in row {first_row}; replace them "
            "(e.g. np.nan_to_num) or fix the source."
        )


def _chunks(out: np.ndarray, rows: np.ndarray) -> Iterator[tuple[np.ndarray, tuple[int, ...]]]:
    """Yield (row indices, block shape) pieces of about _CHUNK_BYTES each."""
    row_bytes = max(1, int(np.prod(out.shape[1:], dtype=np.int64)) * 4)
    step = max(1, _CHUNK_BYTES // row_bytes)
    for start in range(0, rows.size, step):
        part = rows[start : start + step]
        yield part, (part.size, *out.shape[1:])


def _draw_dtype(out: np.ndarray) -> type[np.floating]:
    """Draw in float64 only for float64 output; float32 otherwise (float16 is cast)."""
    return np.float64 if out.dtype == np.float64 else np.float32


def _fill_uniform(
    out: np.ndarray,
    rows: np.ndarray,
    *,
    rng: np.random.Generator,
    minval: float = -0.05,
    maxval: float = 0.05,
    **_: Any,
) -> None:
    if not minval < maxval:
        raise RemapError(
            f"uniform initializer needs minval < maxval, got minval={minval}, "
            f"maxval={maxval}; swap or widen them."
        )
    dtype = _draw_dtype(out)
    for part, shape in _chunks(out, rows):
        block = rng.random(shape, dtype=dtype)
        block *= maxval - minval
        block += minval
        # float32 rounding can land a hair past a bound; keep [minval, maxval] strict.
        np.clip(block, minval, maxval, out=block)
        out[part] = block


def _fill_normal(
    out: np.ndarray,
    rows: np.ndarray,
    *,
    rng: np.random.Generator,
    mean: float = 0.0,
    stddev: float = 0.05,
    **_: Any,
) -> None:
    if not stddev >= 0:
        raise RemapError(f"normal initializer needs stddev >= 0, got {stddev}; pass e.g. 0.05.")
    dtype = _draw_dtype(out)
    for part, shape in _chunks(out, rows):
        block = rng.standard_normal(shape, dtype=dtype)
        block *= stddev
        block += mean
        out[part] = block


def _fill_zeros(out: np.ndarray, rows: np.ndarray, **_: Any) -> None:
    out[rows] = 0


def _base_mean(base: np.ndarray) -> np.ndarray:
    """Row mean accumulated in float64 chunk by chunk (no full-size float64 copy)."""
    total = np.zeros(base.shape[1:], dtype=np.float64)
    step = max(1, _CHUNK_BYTES // max(1, base[:1].size * 8))
    for start in range(0, base.shape[0], step):
        total += base[start : start + step].sum(axis=0, dtype=np.float64)
    return total / base.shape[0]


def _fill_mean(out: np.ndarray, rows: np.ndarray, *, base: np.ndarray, **_: Any) -> None:
    out[rows] = _base_mean(base).astype(out.dtype)


def _fill_mean_cov(
    out: np.ndarray, rows: np.ndarray, *, base: np.ndarray, rng: np.random.Generator, **_: Any
) -> None:
    n = base.shape[0]
    if n < 2:
        raise RemapError(
            "mean_cov initializer needs at least 2 base rows to estimate a covariance, got "
            f"{n}; use initializer='mean' or 'uniform'."
        )
    mean = _base_mean(base).reshape(-1)
    dim = mean.size
    scatter = np.zeros((dim, dim), dtype=np.float64)
    step = max(1, _CHUNK_BYTES // (dim * 8))
    for start in range(0, n, step):
        centred = base[start : start + step].reshape(-1, dim).astype(np.float64)
        centred -= mean
        scatter += centred.T @ centred
    cov = scatter / (n - 1)
    # eigh tolerates a singular covariance (fewer rows than dims): clip tiny negatives.
    eigvals, eigvecs = np.linalg.eigh(cov)
    factor = eigvecs * np.sqrt(np.clip(eigvals, 0.0, None))
    for part, shape in _chunks(out, rows):
        z = rng.standard_normal((part.size, dim))
        block = z @ factor.T
        block += mean
        out[part] = block.reshape(shape)


def _fill_constant(
    out: np.ndarray, rows: np.ndarray, *, matrix: Any = None, value: Any = None, **_: Any
) -> None:
    """`value`: every row filled with that number; `matrix`: each row taken from it."""
    if value is not None:
        out[rows] = value
        return
    if matrix is None:
        raise RemapError(
            "constant initializer needs value=<number> (warmstart.initializer_options.value=…) "
            "or matrix=<array for the whole new vocabulary>, as in Constant(new_embedding)."
        )
    matrix = np.asarray(matrix)
    if matrix.shape != out.shape:
        raise RemapError(
            f"constant initializer matrix has shape {matrix.shape} but the remapped array "
            f"needs {out.shape} (one entry per new-vocabulary token, vocabulary on axis 0 "
            "for embeddings); pass a matrix for the WHOLE new vocabulary."
        )
    if matrix.dtype.kind not in "fiu":
        raise RemapError(
            f"constant initializer matrix has dtype {matrix.dtype}; pass a numeric array."
        )
    taken = matrix[rows]
    require_finite(taken, "constant initializer matrix (rows of added tokens)")
    out[rows] = taken


FILLERS: dict[str, Callable[..., None]] = {
    "uniform": _fill_uniform,
    "normal": _fill_normal,
    "zeros": _fill_zeros,
    "mean": _fill_mean,
    "mean_cov": _fill_mean_cov,
    "constant": _fill_constant,
}
"""Filler of each initializer except "pretrained", which falls back to one of these."""
