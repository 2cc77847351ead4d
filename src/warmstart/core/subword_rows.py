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

New tokens without a neighbour are left to the caller's fallback. The search is a join on
an inverted index (the new tokens' n-grams in a pandas hash index; per n-gram, the base
tokens holding it), so its cost grows with the n-gram occurrences of the two vocabularies
and the (new, base) pairs sharing a usable n-gram, never with the vocabularies' product;
`max_df` bounds those pairs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from warmstart.core.char_ngrams import NgramBlock, alphabet_of, ngram_blocks

__all__ = ["SUBWORD_DEFAULTS", "Neighbours", "compose_rows", "find_neighbours"]

SUBWORD_DEFAULTS: dict[str, int] = {
    "min_n": 3,
    "max_n": 6,
    "neighbours": 5,
    "max_df": 100,
    "min_shared": 2,
}
"""The subword initializer's options and their defaults (see the module docstring)."""

_BASE_CHUNK = 200_000  # base tokens whose n-grams are looked up at once (bounded memory)


@dataclass(frozen=True)
class Neighbours:
    """For each new token that found neighbours: its base neighbours and their weights.

    `found[i]` indexes the new tokens searched; `base[i]` holds base indices, best first,
    -1 padding when fewer than `neighbours` were found; `weights[i]` sums to 1 (0 on padding).
    """

    found: np.ndarray
    base: np.ndarray
    weights: np.ndarray


class _GramIndex:
    """The distinct n-grams of the new tokens (all lengths: their keys never collide),
    numbered; finds base n-grams among them through pandas' hash-table lookup, which is an
    order of magnitude faster than a binary search over millions of keys."""

    def __init__(self, blocks: list[NgramBlock]) -> None:
        keys = _unique(np.concatenate([b.key[b.valid] for b in blocks] or [np.empty(0, np.int64)]))
        self.index = pd.Index(keys)
        self.size = keys.size

    def numbers(self, keys: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        """1 + the number of each key (flat) among the new n-grams; 0 where it is absent,
        or where `where` (same shape as `keys`) is False: keys known to be absent."""
        flat = keys.reshape(-1)
        if where is None:
            return (self.index.get_indexer(flat) + 1).astype(np.int32)
        out = np.zeros(flat.size, dtype=np.int32)
        at = np.flatnonzero(where)
        out[at] = self.index.get_indexer(flat[at]) + 1
        return out


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sorts `values` in place: callers pass a temporary).

    Sort-based on purpose: NumPy 2.4's hash-based `np.unique` is ~50x slower on millions of
    int64 keys than one in-place sort, and pandas' hash-table counting ~4x slower.
    """
    values.sort(kind="quicksort")
    if values.size < 2:
        return values
    keep = np.empty(values.size, dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _counted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, how often each occurs); sorts `values` in place."""
    values.sort(kind="quicksort")
    if values.size == 0:
        return values, np.empty(0, np.int64)
    first = np.empty(values.size, dtype=bool)
    first[0] = True
    np.not_equal(values[1:], values[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.empty(starts.size, dtype=np.int64)
    counts[:-1] = starts[1:] - starts[:-1]
    counts[-1] = values.size - starts[-1]
    return values[starts], counts


def _distinct_pairs(token: np.ndarray, ngram: np.ndarray, n_tokens: int) -> np.ndarray:
    """Distinct (ngram, token) pairs as ngram * n_tokens + token, sorted by ngram then token."""
    return _unique(ngram.astype(np.int64) * n_tokens + token)


def _usable_occurrences(
    index: _GramIndex, blocks: Iterator[NgramBlock], max_df: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(token, n-gram number) of each occurrence of an indexed n-gram occurring 1..max_df
    times in `blocks`, and that usable mask over the numbers.

    Two passes over the looked-up numbers: counting first (a bincount, with absent keys in
    bin 0) and only then materialising the occurrences of the rare n-grams, so the many
    occurrences of common n-grams ("ing", "<th") never become index arrays.
    """
    looked_up = []
    counts = np.zeros(index.size + 1, dtype=np.int64)
    previous: tuple[np.ndarray, int, np.ndarray] | None = None
    for block in blocks:
        rows, width = block.key.shape
        where = None
        if previous is not None and previous[0] is block.token and previous[1] == block.n - 1:
            # An n-gram can only be new if its first n - 1 characters are a new n-gram too.
            where = previous[2].reshape(rows, -1)[:, :width] > 0
        number = index.numbers(block.key, where)
        counts += np.bincount(number, minlength=index.size + 1)
        looked_up.append((block.token, width, number))
        previous = (block.token, block.n, number)
    usable = (counts > 0) & (counts <= max_df)
    usable[0] = False
    tokens, grams = [], []
    for token, width, number in looked_up:
        hit = np.flatnonzero(usable[number])
        tokens.append(token[hit // width])
        grams.append(number[hit].astype(np.int64) - 1)
    empty = np.empty(0, np.int64)
    return np.concatenate(tokens or [empty]), np.concatenate(grams or [empty]), usable[1:]


def _new_occurrences(
    index: _GramIndex, blocks: list[NgramBlock], usable: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(token, n-gram number) of each valid occurrence of a usable n-gram in `blocks`."""
    tokens, grams = [], []
    for block in blocks:
        number = index.numbers(block.key, block.valid).astype(np.int64) - 1
        hit = np.flatnonzero(number >= 0)
        hit = hit[usable[number[hit]]]
        tokens.append(block.token[hit // block.key.shape[1]])
        grams.append(number[hit])
    empty = np.empty(0, np.int64)
    return np.concatenate(tokens or [empty]), np.concatenate(grams or [empty])


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
    n_base, n_new = len(base_tokens), len(new_tokens)
    alphabet = alphabet_of(base_tokens, new_tokens, max_n=max_n)
    new_blocks = list(ngram_blocks(new_tokens, alphabet, min_n, max_n))
    index = _GramIndex(new_blocks)
    base_token, base_gram, usable = _usable_occurrences(
        index,
        (
            block
            for start in range(0, n_base, _BASE_CHUNK)
            for block in ngram_blocks(
                base_tokens[start : start + _BASE_CHUNK], alphabet, min_n, max_n, offset=start
            )
        ),
        max_df,
    )
    base_pairs = _distinct_pairs(base_token, base_gram, n_base)
    postings = np.bincount(base_pairs // n_base, minlength=index.size)
    posting_start = np.cumsum(postings) - postings
    posting_token = base_pairs % n_base

    new_token, new_gram = _new_occurrences(index, new_blocks, usable)
    new_pairs = _distinct_pairs(new_token, new_gram, n_new)
    query_gram, query_token = new_pairs // n_new, new_pairs % n_new
    fan = postings[query_gram]
    total = int(fan.sum())
    pair_new = np.repeat(query_token, fan)
    # The i-th pair of a query takes entry i of its n-gram's posting list.
    at = np.repeat(posting_start[query_gram] - (np.cumsum(fan) - fan), fan)
    at += np.arange(total, dtype=np.int64)
    pair_base = posting_token[at]

    pair_new *= n_base
    pair_new += pair_base
    pairs, shared = _counted(pair_new)
    strong = shared >= min_shared
    pairs, shared = pairs[strong], shared[strong]
    return _top(pairs // n_base, pairs % n_base, shared, neighbours)


def _top(new: np.ndarray, base: np.ndarray, shared: np.ndarray, k: int) -> Neighbours:
    """Keep the k base tokens sharing most per new token; `new` ascending, `base` within."""
    most = int(shared.max(initial=0))
    # Stable sort: new ascending, shared descending; ties keep base ascending.
    order = np.argsort(new * (most + 1) + (most - shared), kind="stable")
    new, base, shared = new[order], base[order], shared[order]
    first = np.flatnonzero(np.r_[True, new[1:] != new[:-1]]) if new.size else new
    sizes = np.diff(np.r_[first, new.size])
    rank = np.arange(new.size) - np.repeat(first, sizes)
    top = rank < k
    group = np.repeat(np.arange(first.size), sizes)[top]
    found_base = np.full((first.size, k), -1, dtype=np.int64)
    weights = np.zeros((first.size, k), dtype=np.float64)
    found_base[group, rank[top]] = base[top]
    weights[group, rank[top]] = shared[top]
    weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1.0)
    return Neighbours(found=new[first], base=found_base, weights=weights)


def compose_rows(
    out: np.ndarray, rows: np.ndarray, base: np.ndarray, found: Neighbours, chunk_rows: int
) -> None:
    """out[rows[i]] = sum_j weights[i, j] * base[base_index[i, j]], for every found row."""
    flat = base.reshape(base.shape[0], -1)
    targets = rows[found.found]
    for start in range(0, targets.size, chunk_rows):
        stop = start + chunk_rows
        index, weight = found.base[start:stop], found.weights[start:stop]
        acc = np.zeros((index.shape[0], flat.shape[1]), dtype=np.float64)
        for j in range(index.shape[1]):
            acc += weight[:, j, None] * flat[np.maximum(index[:, j], 0)]
        out[targets[start:stop]] = acc.reshape((-1, *out.shape[1:])).astype(out.dtype)
