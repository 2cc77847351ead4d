"""How each built-in initializer writes the rows of tokens the base vocabulary lacks.

The initializer objects (`core.initializers`) check their options and call these. Each filler
writes `out[rows]` in place, in chunks of a few MiB, so a remap never builds a
full random matrix (or a float64 copy of one) only to overwrite most of it. "Rows" are
slices along the vocabulary axis: embedding rows, Dense-kernel columns or bias entries
alike. Random fillers draw from a `numpy.random.Generator`, so a seed reproduces the rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from warmstart.core.arrays import non_finite, object_array
from warmstart.core.errors import RemapError
from warmstart.core.initializer_base import Filled, Initializer, Sources
from warmstart.core.pretrained_vectors import first_positions, pretrained_source
from warmstart.core.subword_rows import compose_rows, find_neighbours

__all__ = [
    "fill_constant",
    "fill_mean",
    "fill_mean_cov",
    "fill_normal",
    "fill_pretrained",
    "fill_subword",
    "fill_uniform",
    "fill_zeros",
    "require_finite",
]

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


def fill_uniform(
    out: np.ndarray, rows: np.ndarray, *, rng: np.random.Generator, minval: float, maxval: float
) -> None:
    dtype = _draw_dtype(out)
    for part, shape in _chunks(out, rows):
        block = rng.random(shape, dtype=dtype)
        block *= maxval - minval
        block += minval
        # float32 rounding can land a hair past a bound; keep [minval, maxval] strict.
        np.clip(block, minval, maxval, out=block)
        out[part] = block


def fill_normal(
    out: np.ndarray, rows: np.ndarray, *, rng: np.random.Generator, mean: float, stddev: float
) -> None:
    dtype = _draw_dtype(out)
    for part, shape in _chunks(out, rows):
        block = rng.standard_normal(shape, dtype=dtype)
        block *= stddev
        block += mean
        out[part] = block


def fill_zeros(out: np.ndarray, rows: np.ndarray) -> None:
    out[rows] = 0


def _base_mean(base: np.ndarray) -> np.ndarray:
    """Row mean accumulated in float64 chunk by chunk (no full-size float64 copy)."""
    total = np.zeros(base.shape[1:], dtype=np.float64)
    step = max(1, _CHUNK_BYTES // max(1, base[:1].size * 8))
    for start in range(0, base.shape[0], step):
        total += base[start : start + step].sum(axis=0, dtype=np.float64)
    return total / base.shape[0]


def fill_mean(out: np.ndarray, rows: np.ndarray, *, base: np.ndarray) -> None:
    out[rows] = _base_mean(base).astype(out.dtype)


def fill_mean_cov(
    out: np.ndarray, rows: np.ndarray, *, base: np.ndarray, rng: np.random.Generator
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


def fill_constant(out: np.ndarray, rows: np.ndarray, *, value: float | None, matrix: Any) -> None:
    """`value`: every row filled with that number; else each row taken from `matrix`."""
    if value is not None:
        out[rows] = value
        return
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


def fill_pretrained(
    out: np.ndarray,
    rows: np.ndarray,
    *,
    base: np.ndarray,
    rng: np.random.Generator,
    tokens: Sequence[str] | None,
    path: str | os.PathLike[str] | None,
    vocabulary: Any,
    vectors: Any,
    fallback: Initializer,
) -> Sources:
    """Rows of tokens the vectors know from the vectors; the rest from `fallback`."""
    if tokens is None:
        raise RemapError(
            "pretrained initializer needs the new vocabulary's tokens; use "
            "remap_embeddings or a plan from plan_remap (which keeps the tokens)."
        )
    pre_tokens, matrix = pretrained_source(path, vocabulary, vectors)
    row_shape = out.shape[1:]
    if len(row_shape) != 1 or matrix.shape[1] != row_shape[0]:
        raise RemapError(
            f"pretrained vectors have dimension {matrix.shape[1]} but the rows to fill have "
            f"shape {row_shape}; use vectors of the embedding's dimension {row_shape}."
        )
    positions = first_positions(pre_tokens, object_array(tokens)[rows])
    found = positions >= 0
    hit_rows, missing = rows[found], rows[~found]
    if hit_rows.size:
        taken = matrix[positions[found]]
        require_finite(taken, "pretrained vectors (rows used)")
        out[hit_rows] = taken
    sources: Sources = [Filled("pretrained", hit_rows)] if hit_rows.size else []
    return sources + fallback.fill(out, missing, base=base, rng=rng, tokens=tokens)


def fill_subword(
    out: np.ndarray,
    rows: np.ndarray,
    *,
    base: np.ndarray,
    rng: np.random.Generator,
    tokens: Sequence[str] | None,
    base_tokens: Sequence[str] | None,
    search: dict[str, int],
    fallback: Initializer,
) -> Sources:
    """Rows of tokens sharing n-grams with base tokens composed from those (`search`: the
    options of `subword_rows.find_neighbours`); the rest from `fallback`."""
    if tokens is None or base_tokens is None:
        raise RemapError(
            "subword initializer needs both vocabularies' tokens; use remap_embeddings or "
            "apply_plan with a plan from plan_remap (which keeps the tokens)."
        )
    if len(base_tokens) != base.shape[0]:
        raise RemapError(
            f"subword initializer got {len(base_tokens)} base tokens for {base.shape[0]} base "
            "rows; pass the vocabulary the base weights were trained with."
        )
    wanted = [tokens[i] for i in rows.tolist()]
    found = find_neighbours(base_tokens, wanted, **search)
    row_bytes = max(1, int(np.prod(out.shape[1:], dtype=np.int64)) * 8)
    compose_rows(out, rows, base, found, chunk_rows=max(1, (4 << 20) // row_bytes))
    sources: Sources = []
    if found.found.size:
        sources.append(Filled("subword", rows[found.found], found.base, found.weights))
    missing = np.ones(rows.size, dtype=bool)
    missing[found.found] = False
    return sources + fallback.fill(out, rows[missing], base=base, rng=rng, tokens=tokens)
