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
an inverted index: the new tokens' n-grams get dense ids (`char_ngrams.NgramIndex`), the
base tokens' n-grams are looked up length by length (counted, then kept where usable as
posting lists), and each (new, base) pair sharing a usable n-gram is expanded once and
counted by sorting packed keys, a few thousand new tokens at a time. The cost grows with
the n-gram occurrences of the two vocabularies and those pairs, never with the
vocabularies' product; `max_df` bounds the pairs. Measured in benchmarks/bench_remap.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from warmstart.core.char_ngrams import GramIds, NgramIndex

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
_PAIR_CHUNK = 1 << 21  # (new, base) candidate pairs counted at once (cache-sized sorts)
_NARROW_BITS = 24  # base indices this wide leave 8 bits of a uint32 pair key to new tokens
_PACKED_BITS = 63  # widest (new, shared, base) sort key packed into one int64


@dataclass(frozen=True)
class Neighbours:
    """For each new token that found neighbours: its base neighbours and their weights.

    `found[i]` indexes the new tokens searched; `base[i]` holds base indices, best first,
    -1 padding when fewer than `neighbours` were found; `weights[i]` sums to 1 (0 on padding).
    """

    found: np.ndarray
    base: np.ndarray
    weights: np.ndarray


def _sorted_distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values; sorts `values` (a temporary) in place.

    Sort-based on purpose: NumPy 2.4's hash-based `np.unique` is ~50x slower on millions of
    int64 keys than one in-place (SIMD) sort.
    """
    values.sort(kind="quicksort")
    if values.size < 2:
        return values
    keep = np.empty(values.size, dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, length) of each run of equal values in sorted `values`."""
    if values.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    first = np.empty(values.size, dtype=bool)
    first[0] = True
    np.not_equal(values[1:], values[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return starts, np.diff(starts, append=values.size)


def _usable_pairs(
    blocks: list[GramIds], keep: np.ndarray, offset: int, bits: int, *, token_major: bool
) -> np.ndarray:
    """Distinct (n-gram, token) pairs of one length's n-grams that `keep` (over numbers)
    selects, sorted; packed as token << bits | n-gram if `token_major`, else n-gram << bits
    | token, where n-gram = `offset` + id."""
    pairs = []
    for block in blocks if keep.any() else ():
        flat = block.number.reshape(-1)
        hit = np.flatnonzero(keep[flat])
        gram = flat[hit].astype(np.int64)
        gram += offset - 1
        token = block.token[hit % block.number.shape[1]]
        if token_major:
            token <<= bits
            token |= gram
            pairs.append(token)
        else:
            gram <<= bits
            gram |= token
            pairs.append(gram)
    return _sorted_distinct(np.concatenate(pairs or [np.empty(0, np.int64)]))


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
    index = NgramIndex(new_tokens, min_n, max_n)
    lengths = range(min_n, max_n + 1)
    total = sum(index.sizes[n] for n in lengths)
    if len(base_tokens) == 0 or total == 0:
        return _top(*(np.empty(0, np.int64),) * 3, neighbours)
    base_bits = max(1, (len(base_tokens) - 1).bit_length())
    gram_bits = max(1, (total - 1).bit_length())
    # Length by length: count each new n-gram in the base (every window counts), keep the
    # usable ones (1..max_df occurrences) and their (n-gram, base token) pairs.
    keeps, base_pairs, offset = [], [], 0
    for n, blocks in zip(lengths, index.numbered(base_tokens), strict=True):
        counts = np.zeros(index.sizes[n] + 1, dtype=np.int64)
        for block in blocks:
            counts += np.bincount(block.number.reshape(-1), minlength=counts.size)
        keep = (counts > 0) & (counts <= max_df)
        keep[0] = False  # number 0: not one of the new n-grams
        base_pairs.append(_usable_pairs(blocks, keep, offset, base_bits, token_major=False))
        keeps.append(keep)
        offset += index.sizes[n]
    postings = _Postings(np.concatenate(base_pairs), base_bits, total)
    del base_pairs
    queries, offset = [], 0
    for n, blocks, keep in zip(lengths, index.own, keeps, strict=True):
        queries.append(_usable_pairs(blocks, keep, offset, gram_bits, token_major=True))
        offset += index.sizes[n]
    query = np.concatenate(queries)
    query.sort(kind="quicksort")
    query_token, query_gram = query >> gram_bits, query & ((1 << gram_bits) - 1)
    fan = postings.count[query_gram]
    found = [
        _top(
            *postings.shared(query_token[a:b], query_gram[a:b], fan[a:b], min_shared),
            neighbours,
            int(query_token[a]),
        )
        for a, b in _chunks(query_token, fan, postings.span)
    ]
    return Neighbours(
        found=np.concatenate([f.found for f in found] or [np.empty(0, np.int64)]),
        base=np.concatenate([f.base for f in found] or [np.empty((0, neighbours), np.int64)]),
        weights=np.concatenate([f.weights for f in found] or [np.empty((0, neighbours))]),
    )


class _Postings:
    """Per usable n-gram, the base tokens holding it (ascending), and the pair counting."""

    def __init__(self, pairs: np.ndarray, bits: int, total: int) -> None:
        self.bits = bits
        # Pairs are counted on packed (new, base) keys: uint32 when they fit, else uint64.
        narrow = bits <= _NARROW_BITS
        self.dtype = np.uint32 if narrow else np.uint64
        self.span = 1 << (32 - bits) if narrow else 1 << 20
        self.token = (pairs & ((1 << bits) - 1)).astype(self.dtype)
        self.count = np.bincount(pairs >> bits, minlength=total)
        self.start = np.cumsum(self.count) - self.count

    def shared(
        self, query_token: np.ndarray, query_gram: np.ndarray, fan: np.ndarray, min_shared: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(new, base, shared) for pairs of these queries' tokens sharing >= min_shared
        n-grams, sorted by new then base; the new tokens span fewer than `span` values."""
        first = int(query_token[0]) if query_token.size else 0
        size = int(fan.sum())
        local = (query_token - first).astype(self.dtype) << self.dtype(self.bits)
        key = np.repeat(local, fan)
        # The i-th pair of a query takes entry i of its n-gram's posting list.
        before = np.cumsum(fan)
        before -= fan
        at = np.repeat(self.start[query_gram] - before, fan)
        at += np.arange(size, dtype=np.int64)
        key |= self.token[at]
        del at
        key.sort(kind="quicksort")
        key, shared = _repeated(key, min_shared)
        new = (key >> self.dtype(self.bits)).astype(np.int64)
        base = (key & self.dtype((1 << self.bits) - 1)).astype(np.int64)
        return new, base, shared


def _chunks(query_token: np.ndarray, fan: np.ndarray, span: int) -> Iterator[tuple[int, int]]:
    """Slices of the queries (sorted by token) holding whole tokens, fewer than `span`
    distinct token values and about _PAIR_CHUNK pairs (more only for a single token)."""
    cum = np.cumsum(fan)
    size, start = query_token.size, 0
    while start < size:
        before = int(cum[start - 1]) if start else 0
        stop = min(
            int(np.searchsorted(cum, before + _PAIR_CHUNK, side="right")),
            int(np.searchsorted(query_token, query_token[start] + span, side="left")),
        )
        if stop < size:
            stop = int(np.searchsorted(query_token, query_token[stop], side="left"))
        if stop <= start:
            stop = int(np.searchsorted(query_token, query_token[start], side="right"))
        yield start, stop
        start = stop


def _repeated(key: np.ndarray, least: int) -> tuple[np.ndarray, np.ndarray]:
    """The values of sorted `key` occurring at least `least` times, and how often.

    For least >= 2 only the repeats are materialised (in the usual case most candidate
    pairs share a single n-gram, so this skips most of the array)."""
    if least <= 1 or key.size < 2:
        starts, counts = _runs(key)
        keep = counts >= least
        return key[starts[keep]], counts[keep]
    again = np.flatnonzero(key[1:] == key[:-1])  # key[i + 1] repeats key[i]
    values = key[again]
    starts, counts = _runs(values)
    counts += 1
    keep = counts >= least
    return values[starts[keep]], counts[keep]


def _top(
    new: np.ndarray, base: np.ndarray, shared: np.ndarray, k: int, first: int = 0
) -> Neighbours:
    """Keep the k base tokens sharing most per new token (`new` + `first`; new >= 0)."""
    most = int(shared.max(initial=0))
    # Order: new ascending, shared descending, base ascending; one packed sort if it fits.
    rank_bits, base_bits = most.bit_length(), int(base.max(initial=0)).bit_length()
    if int(new.max(initial=0)).bit_length() + rank_bits + base_bits <= _PACKED_BITS:
        key = new << (rank_bits + base_bits)
        key |= (most - shared) << base_bits
        key |= base
        key.sort(kind="quicksort")
        new, base = key >> (rank_bits + base_bits), key & ((1 << base_bits) - 1)
        shared = most - ((key >> base_bits) & ((1 << rank_bits) - 1))
    else:
        order = np.lexsort((base, most - shared, new))
        new, base, shared = new[order], base[order], shared[order]
    starts, sizes = _runs(new)
    rank = np.arange(new.size) - np.repeat(starts, sizes)
    top = rank < k
    group = np.repeat(np.arange(starts.size), sizes)[top]
    found_base = np.full((starts.size, k), -1, dtype=np.int64)
    weights = np.zeros((starts.size, k), dtype=np.float64)
    found_base[group, rank[top]] = base[top]
    weights[group, rank[top]] = shared[top]
    weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1.0)
    return Neighbours(found=new[starts] + first, base=found_base, weights=weights)


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
        term = np.empty_like(acc)
        for j in range(index.shape[1]):
            np.multiply(weight[:, j, None], flat[np.maximum(index[:, j], 0)], out=term)
            acc += term
        out[targets[start:stop]] = acc.reshape((-1, *out.shape[1:])).astype(out.dtype)
