"""Initializers for the rows of tokens the base vocabulary lacks.

Each fills `out[rows]` in place, in chunks of a few MiB, so a remap never builds a full
random matrix (or a float64 copy of one) only to overwrite most of it. "Rows" are slices
along the vocabulary axis: embedding rows, Dense-kernel columns or bias entries alike.
Random initializers draw from a `numpy.random.Generator`, so a seed reproduces the rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warmstart.core.errors import RemapError, VocabularyError
from warmstart.core.vocab import as_vocabulary

__all__ = ["INITIALIZERS", "fill_rows", "load_pretrained_vectors", "make_rng"]

INITIALIZERS: tuple[str, ...] = (
    "uniform",
    "normal",
    "zeros",
    "mean",
    "mean_cov",
    "constant",
    "pretrained",
)
"""Names accepted as `initializer=`; the provenance label of a row is the name that filled it."""

_OPTIONS: dict[str, frozenset[str]] = {
    "uniform": frozenset({"minval", "maxval"}),
    "normal": frozenset({"mean", "stddev"}),
    "zeros": frozenset(),
    "mean": frozenset(),
    "mean_cov": frozenset(),
    "constant": frozenset({"matrix"}),
    "pretrained": frozenset({"path", "vocabulary", "vectors", "fallback", "fallback_options"}),
}

_CHUNK_BYTES = 4 << 20
Sources = list[tuple[str, np.ndarray]]


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A Generator from an int seed (reproducible), an existing Generator, or None (fresh)."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def fill_rows(
    name: str,
    out: np.ndarray,
    rows: np.ndarray,
    *,
    base: np.ndarray,
    rng: np.random.Generator,
    tokens: Sequence[str] | None = None,
    options: dict[str, Any] | None = None,
) -> Sources:
    """Fill `out[rows]` with initializer `name`; return [(source label, rows it filled)].

    `out` and `base` have the vocabulary on axis 0; `tokens` is the full new vocabulary
    (only `pretrained` needs it). `mean`/`mean_cov` derive their statistics from `base`.
    """
    options = dict(options or {})
    if name not in INITIALIZERS:
        raise RemapError(f"unknown initializer {name!r}; use one of {', '.join(INITIALIZERS)}.")
    unknown = set(options) - _OPTIONS[name]
    if unknown:
        accepted = ", ".join(sorted(_OPTIONS[name])) or "none"
        raise RemapError(
            f"initializer {name!r} got unknown option(s) {', '.join(sorted(unknown))}; "
            f"its options are: {accepted}."
        )
    rows = np.asarray(rows, dtype=np.intp)
    if rows.size == 0:
        return []
    if name == "pretrained":
        return _fill_pretrained(out, rows, base=base, rng=rng, tokens=tokens, **options)
    filler = _FILLERS[name]
    filler(out, rows, base=base, rng=rng, **options)
    return [(name, rows)]


# --------------------------------------------------------------------------- helpers


def _chunks(out: np.ndarray, rows: np.ndarray):
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


def _fill_constant(out: np.ndarray, rows: np.ndarray, *, matrix: Any = None, **_: Any) -> None:
    if matrix is None:
        raise RemapError(
            "constant initializer needs matrix=<array for the whole new vocabulary>, as in "
            "Constant(new_embedding); pass initializer_options matrix=..."
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
    _require_finite(taken, "constant initializer matrix (rows of added tokens)")
    out[rows] = taken


_FILLERS: dict[str, Callable[..., None]] = {
    "uniform": _fill_uniform,
    "normal": _fill_normal,
    "zeros": _fill_zeros,
    "mean": _fill_mean,
    "mean_cov": _fill_mean_cov,
    "constant": _fill_constant,
}


def _require_finite(array: np.ndarray, what: str) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        flat_rows = np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1))
        raise RemapError(
            f"{what} holds {int(bad.sum())} NaN/inf value(s), first in row "
            f"{int(flat_rows[0])}; replace them (e.g. np.nan_to_num) or fix the source."
        )


# --------------------------------------------------------------------------- pretrained


def _fill_pretrained(
    out: np.ndarray,
    rows: np.ndarray,
    *,
    base: np.ndarray,
    rng: np.random.Generator,
    tokens: Sequence[str] | None,
    path: str | os.PathLike[str] | None = None,
    vocabulary: Any = None,
    vectors: Any = None,
    fallback: str = "uniform",
    fallback_options: dict[str, Any] | None = None,
) -> Sources:
    if tokens is None:
        raise RemapError(
            "pretrained initializer needs the new vocabulary's tokens; use "
            "remap_embeddings or a plan from plan_remap (which keeps the tokens)."
        )
    if fallback == "pretrained":
        raise RemapError(
            "pretrained initializer cannot fall back to itself; set fallback to one of "
            f"{', '.join(n for n in INITIALIZERS if n != 'pretrained')}."
        )
    if vectors is not None:
        if vocabulary is None:
            raise RemapError("pretrained vectors= needs vocabulary= (one token per row).")
        pre_tokens = as_vocabulary(vocabulary, name="pretrained vocabulary")
        matrix = _check_pretrained_matrix(np.asarray(vectors), len(pre_tokens), "vectors")
    elif path is not None:
        pre_tokens, matrix = load_pretrained_vectors(path, vocabulary)
    else:
        raise RemapError(
            "pretrained initializer needs path= (.npy + vocabulary=, or a word2vec/GloVe "
            "text file) or vectors= with vocabulary=."
        )
    row_shape = out.shape[1:]
    if len(row_shape) != 1 or matrix.shape[1] != row_shape[0]:
        raise RemapError(
            f"pretrained vectors have dimension {matrix.shape[1]} but the rows to fill have "
            f"shape {row_shape}; use vectors of the embedding's dimension {row_shape}."
        )
    positions = _first_positions(pre_tokens, _object_array(tokens)[rows])
    found = positions >= 0
    hit_rows, missing = rows[found], rows[~found]
    if hit_rows.size:
        taken = matrix[positions[found]]
        _require_finite(taken, "pretrained vectors (rows used)")
        out[hit_rows] = taken
    sources: Sources = [("pretrained", hit_rows)] if hit_rows.size else []
    sources += fill_rows(
        fallback, out, missing, base=base, rng=rng, tokens=tokens, options=fallback_options
    )
    return sources


def _object_array(tokens: Sequence[str]) -> np.ndarray:
    array = np.empty(len(tokens), dtype=object)
    array[:] = tokens
    return array


def _first_positions(pre_tokens: list[str], wanted: np.ndarray) -> np.ndarray:
    """Position of each wanted token in `pre_tokens` (first occurrence), -1 if absent."""
    index = pd.Index(_object_array(pre_tokens), dtype=object, copy=False)
    keep = None
    if not index.is_unique:  # some published vector files repeat tokens: keep the first
        keep = np.flatnonzero(~index.duplicated(keep="first"))
        index = index[keep]
    pos = index.get_indexer(pd.Index(wanted, dtype=object)).astype(np.intp)
    if keep is not None:
        pos = np.where(pos >= 0, keep[np.maximum(pos, 0)], -1)
    return pos


def _check_pretrained_matrix(matrix: np.ndarray, n_tokens: int, what: str) -> np.ndarray:
    if matrix.ndim != 2 or matrix.dtype.kind not in "fiu":
        raise RemapError(
            f"pretrained {what} must be a 2-D numeric matrix (tokens x dim), got shape "
            f"{matrix.shape} dtype {matrix.dtype}; save the vectors with np.save(matrix)."
        )
    if matrix.shape[0] != n_tokens:
        raise RemapError(
            f"pretrained {what} has {matrix.shape[0]} rows but its vocabulary has "
            f"{n_tokens} tokens; pass the vocabulary file written with these vectors."
        )
    return matrix


def load_pretrained_vectors(
    path: str | os.PathLike[str], vocabulary: Any = None
) -> tuple[list[str], np.ndarray]:
    """Read pretrained vectors: `.npy` (+ `vocabulary`) or word2vec/GloVe text.

    Text lines are 'token v1 ... vd' (split from the right, so a token may hold spaces);
    an optional first line 'count dim' (word2vec) is recognised and checked.
    `.npy` files are loaded with allow_pickle=False: a vector file must not run code.
    """
    path = Path(path)
    if not path.is_file():
        raise RemapError(
            f"pretrained vector file {str(path)!r} does not exist; set the pretrained path "
            "to an existing .npy or word2vec/GloVe text file."
        )
    if path.suffix == ".npy":
        if vocabulary is None:
            raise RemapError(
                f"pretrained {path.name} is a bare matrix; pass vocabulary= (its token list "
                "or one-token-per-line file) so rows can be matched to tokens."
            )
        try:
            matrix = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise RemapError(
                f"pretrained {path.name} cannot be loaded without pickle ({exc}); save a "
                "plain numeric array with np.save."
            ) from exc
        try:
            tokens = as_vocabulary(vocabulary, name="pretrained vocabulary")
        except VocabularyError as exc:
            raise RemapError(str(exc)) from exc
        return tokens, _check_pretrained_matrix(matrix, len(tokens), path.name)
    return _read_text_vectors(path)


def _read_text_vectors(path: Path) -> tuple[list[str], np.ndarray]:
    lines = path.read_text(encoding="utf-8").replace("\r\n", "\n").split("\n")
    while lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise RemapError(f"pretrained file {path.name} is empty; point to a vector file.")
    header = lines[0].split()
    declared: tuple[int, int] | None = None
    if len(header) == 2 and all(f.isdigit() for f in header):
        declared = (int(header[0]), int(header[1]))
        lines = lines[1:]
    if not lines:
        raise RemapError(f"pretrained file {path.name} has a header but no vectors.")
    dim = declared[1] if declared else len(lines[0].rstrip(" ").split(" ")) - 1
    parts = [line.rstrip(" ").rsplit(" ", dim) for line in lines]
    bad = [i for i, p in enumerate(parts) if len(p) != dim + 1]
    if dim < 1 or bad:
        first = bad[0] if bad else 0
        line_no = first + 1 + (declared is not None)
        raise RemapError(
            f"pretrained file {path.name} line {line_no} does not hold a token and {dim} "
            "values; every line must be 'token v1 ... vd' with the same d (word2vec text "
            "may start with a 'count dim' header)."
        )
    if declared and declared[0] != len(parts):
        raise RemapError(
            f"pretrained file {path.name} header declares {declared[0]} vectors but holds "
            f"{len(parts)}; fix the header line 'count dim' or the truncated file."
        )
    tokens = [p[0] for p in parts]
    try:
        matrix = np.array([p[1:] for p in parts], dtype=np.float64)
    except ValueError as exc:
        raise RemapError(
            f"pretrained file {path.name} holds a non-numeric value ({exc}); every field "
            "after the token must be a number."
        ) from exc
    return tokens, matrix
