"""`subword` rows: a new token's row is composed from base tokens that share its n-grams.

What the base learned about "watch" and "watchable" is the best guess for "unwatchable":
it shares their character n-grams (fastText-style, see `char_ngrams`). Precisely:

- n-grams are those of length `min_n`..`max_n` (default 3..6) of "<token>";
- an n-gram occurring more than `max_df` times in the base vocabulary (default 100; e.g.
  "ing>" or "<un") is too common to point at a neighbour and is ignored, like a stop word;
- a base token is a neighbour of a new token when they share at least `min_shared` (default
  2) distinct remaining n-grams; the `neighbours` (default 5) sharing most are kept, ties
  going to the lower base index (the more frequent token, in a frequency-sorted vocabulary);
- the new row is the weighted mean of those neighbours' base rows, weight = number of
  n-grams shared / sum of that number over the kept neighbours (accumulated in float64).

New tokens without a neighbour are left to the caller's fallback. The search and the
composition are compiled with Numba (`subword_join`, `weighted_rows`); they are imported
on first use, so that no other initializer pays for Numba's import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["SUBWORD_DEFAULTS", "Neighbours", "compose_rows", "find_neighbours"]

SUBWORD_DEFAULTS: dict[str, int] = {
    "min_n": 3,
    "max_n": 6,
    "neighbours": 5,
    "max_df": 100,
    "min_shared": 2,
}
"""The subword initializer's options and their defaults (see the module docstring)."""


@dataclass(frozen=True)
class Neighbours:
    """For each new token that found neighbours: its base neighbours and their weights.

    `found[i]` indexes the new tokens searched; `base[i]` holds base indices, best first,
    -1 padding when fewer than `neighbours` were found; `weights[i]` sums to 1 (0 on padding).
    """

    found: np.ndarray
    base: np.ndarray
    weights: np.ndarray


def find_neighbours(
    base_tokens: Sequence[str],
    new_tokens: Sequence[str],
    *,
    min_n: int,
    max_n: int,
    neighbours: int,
    max_df: int,
    min_shared: int,
) -> Neighbours:
    """The base neighbours of each of `new_tokens` (rules in the module docstring)."""
    from warmstart.core import subword_join

    found, best, shared = subword_join.search(
        base_tokens,
        new_tokens,
        min_n=min_n,
        max_n=max_n,
        neighbours=neighbours,
        max_df=max_df,
        min_shared=min_shared,
    )
    weights = shared.astype(np.float64)
    weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1.0)
    return Neighbours(found=found, base=best, weights=weights)


def compose_rows(
    out: np.ndarray, rows: np.ndarray, base: np.ndarray, found: Neighbours, chunk_rows: int
) -> None:
    """out[rows[i]] = sum_j weights[i, j] * base[base_index[i, j]], for every found row
    (accumulated in float64, in blocks of at most `chunk_rows` rows where a copy is made)."""
    from warmstart.core import weighted_rows

    weighted_rows.compose(out, rows[found.found], base, found.base, found.weights, chunk_rows)
