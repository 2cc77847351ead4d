"""Initializers by name: check their options, fill the rows, record what filled each row.

The rows are those of tokens the base vocabulary lacks (see `row_fillers` for how each
initializer writes them). "pretrained" fills the rows whose token it knows and hands the
rest to a fallback initializer, so one remap may use two sources; `fill_rows` returns
which rows each source filled so the report can say which embeddings were guessed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from warmstart.core.arrays import object_array
from warmstart.core.errors import RemapError
from warmstart.core.pretrained_vectors import first_positions, pretrained_source
from warmstart.core.row_fillers import FILLERS, require_finite

__all__ = ["INITIALIZERS", "Sources", "fill_rows", "make_rng"]

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

Sources = list[tuple[str, np.ndarray]]
"""(provenance label, rows it filled) pairs, in the order they were filled."""


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
    filler = FILLERS[name]
    filler(out, rows, base=base, rng=rng, **options)
    return [(name, rows)]


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
    sources: Sources = [("pretrained", hit_rows)] if hit_rows.size else []
    sources += fill_rows(
        fallback, out, missing, base=base, rng=rng, tokens=tokens, options=fallback_options
    )
    return sources
