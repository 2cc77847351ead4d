"""Initializers by name: check their options, fill the rows, record what filled each row.

The rows are those of tokens the base vocabulary lacks (see `row_fillers` for how each
initializer writes them). "pretrained" fills the rows whose token it knows and "subword" the
rows of tokens that share character n-grams with base tokens (`subword_rows`); both hand the
rest to a fallback initializer, so one remap may use two sources. `fill_rows` returns which
rows each source filled (and, for subword, from which base rows) so the report can say
which embeddings were guessed and how.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from warmstart.core.arrays import object_array
from warmstart.core.errors import RemapError
from warmstart.core.initializer_options import FALLBACKS, check_options
from warmstart.core.pretrained_vectors import first_positions, pretrained_source
from warmstart.core.row_fillers import FILLERS, require_finite
from warmstart.core.subword_rows import SUBWORD_DEFAULTS, compose_rows, find_neighbours

__all__ = [
    "FALLBACKS",
    "INITIALIZERS",
    "Filled",
    "Sources",
    "check_options",
    "fill_rows",
    "make_rng",
]

INITIALIZERS: tuple[str, ...] = (
    "uniform",
    "normal",
    "zeros",
    "mean",
    "mean_cov",
    "constant",
    "pretrained",
    "subword",
)
"""Names accepted as `initializer=`; the provenance label of a row is the name that filled it."""


class Filled(NamedTuple):
    """Rows one source filled; for subword also, per row, its base neighbours and weights."""

    source: str
    rows: np.ndarray
    neighbours: np.ndarray | None = None  # (len(rows), k) base indices, -1 padding
    weights: np.ndarray | None = None  # (len(rows), k), each row sums to 1


Sources = list[Filled]
"""What filled which rows, in the order they were filled."""


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
    base_tokens: Sequence[str] | None = None,
) -> Sources:
    """Fill `out[rows]` with initializer `name`; return what filled which rows.

    `out` and `base` have the vocabulary on axis 0; `tokens` is the full new vocabulary
    (`pretrained` and `subword` need it), `base_tokens` the base one (`subword` needs it).
    `mean`/`mean_cov` derive their statistics from `base`.
    """
    if name not in INITIALIZERS:
        raise RemapError(f"unknown initializer {name!r}; use one of {', '.join(INITIALIZERS)}.")
    options = check_options(name, options)
    rows = np.asarray(rows, dtype=np.intp)
    if rows.size == 0:
        return []
    if name == "pretrained":
        return _fill_pretrained(out, rows, base=base, rng=rng, tokens=tokens, **options)
    if name == "subword":
        return _fill_subword(
            out, rows, base=base, rng=rng, tokens=tokens, base_tokens=base_tokens, **options
        )
    filler = FILLERS[name]
    filler(out, rows, base=base, rng=rng, **options)
    return [Filled(name, rows)]


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
    sources += fill_rows(
        fallback, out, missing, base=base, rng=rng, tokens=tokens, options=fallback_options
    )
    return sources


def _fill_subword(
    out: np.ndarray,
    rows: np.ndarray,
    *,
    base: np.ndarray,
    rng: np.random.Generator,
    tokens: Sequence[str] | None,
    base_tokens: Sequence[str] | None,
    fallback: str = "uniform",
    fallback_options: dict[str, Any] | None = None,
    **search: int,
) -> Sources:
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
    found = find_neighbours(base_tokens, wanted, **(SUBWORD_DEFAULTS | search))
    row_bytes = max(1, int(np.prod(out.shape[1:], dtype=np.int64)) * 8)
    compose_rows(out, rows, base, found, chunk_rows=max(1, (4 << 20) // row_bytes))
    sources: Sources = []
    if found.found.size:
        sources.append(Filled("subword", rows[found.found], found.base, found.weights))
    missing = np.ones(rows.size, dtype=bool)
    missing[found.found] = False
    sources += fill_rows(
        fallback, out, rows[missing], base=base, rng=rng, tokens=tokens, options=fallback_options
    )
    return sources
