"""The `subword` search, compiled: a join of two vocabularies on their character n-grams.

The rule it computes is `subword_rows`'. It is a join on an inverted index: the new tokens'
n-grams get dense ids (`char_ngrams.NgramIndex`), the base tokens' n-grams are looked up
length by length (counted, then kept where usable as posting lists of base tokens), and
each new token walks the lists of its usable n-grams, counting hits per base token in one
dense counter. The cost grows with the n-gram occurrences of the two vocabularies and the
(new, base) pairs sharing a usable n-gram, never with the vocabularies' product; `max_df`
bounds the pairs. The loops are compiled by Numba and run on every core; this module (and
Numba with it) is imported on first use only. Measured in benchmarks/bench_remap.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np

from warmstart.core.char_ngrams import Encoded, NgramIndex, encode
from warmstart.core.numba_lock import one_at_a_time

__all__ = ["search"]

_SLICES = 0  # slices of the tokens the threads share out (0: as many as suit the threads)
_NARROW_COUNTS = 256  # tokens with fewer n-grams than this count hits in one byte


@one_at_a_time
def search(
    base_tokens: Sequence[str],
    new_tokens: Sequence[str],
    *,
    min_n: int,
    max_n: int,
    neighbours: int,
    max_df: int,
    min_shared: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each new token that has neighbours (its index in `found`): its best base tokens
    (-1 padding) and how many n-grams each shares (the rule: `subword_rows`)."""
    index = NgramIndex(new_tokens, min_n, max_n)
    sizes = np.array([index.sizes[n] for n in range(min_n, max_n + 1)], dtype=np.int64)
    if len(base_tokens) == 0 or sizes.sum() == 0:
        return np.empty(0, np.int64), *(np.empty((0, neighbours), np.int64),) * 2
    parts = _SLICES or numba.get_num_threads()
    span, postings = _postings(index, encode(base_tokens, index.lookup), max_df, parts)
    offsets = np.cumsum(sizes) - sizes  # level -> global id of its first n-gram
    most = index.own.shape[0] * int(np.diff(index.tokens.starts).max())  # n-grams of a token
    kept, best, shared = _search(
        np.zeros(0, dtype=np.uint8 if most < _NARROW_COUNTS else np.int32),
        most,
        parts,
        index.own,
        index.tokens.starts,
        offsets,
        span,
        postings,
        len(base_tokens),
        neighbours,
        min_shared,
    )
    found = np.flatnonzero(kept)
    return found, best[found], shared[found]


def _postings(
    index: NgramIndex, base: Encoded, max_df: int, parts: int
) -> tuple[np.ndarray, np.ndarray]:
    """Posting lists of the usable n-grams (1..max_df occurrences in the base, every window
    counted): n-gram g (global id: levels end to end, from 0) holds the distinct base
    tokens `postings[span[g]:span[g + 1]]`; an empty list if it is not usable.

    Each thread takes one of `parts` slices of the base tokens: it counts its windows per n-gram,
    then writes its tokens into its own part of each list. Holes (`len(base)`) stay where
    a token holds an n-gram twice."""
    bounds = _slices(base.starts, parts)
    wide = np.zeros(0, dtype=np.int32 if base.chars.size < 1 << 31 else np.int64)
    # Room for every level's lists: each window at most once. Pages never written are never
    # mapped in, so the unused tail costs address space only.
    postings = np.empty((index.max_n - index.min_n + 1) * base.chars.size, dtype=np.int32)
    starts, filled = [], 0
    for level, ids in enumerate(index.numbered(base)):
        cursor = _windows(ids, base.starts, bounds, index.sizes[index.min_n + level] + 1, wide)
        start, total = _lay_out(cursor, max_df)
        if total:  # (often none at the shortest length: every n-gram too common)
            lists = postings[filled : filled + total]
            lists.fill(base.starts.size - 1)  # holes: len(base)
            _fill(ids, base.starts, bounds, cursor, lists)
        starts.append(start[1:] + filled)
        filled += total
    return np.concatenate([*starts, [filled]]), postings[:filled]


def _slices(starts: np.ndarray, parts: int) -> np.ndarray:
    """Token bounds of `parts` slices holding about as many characters each."""
    cut = np.searchsorted(starts, np.linspace(0, starts[-1], parts + 1))
    cut[0], cut[-1] = 0, starts.size - 1
    return np.maximum.accumulate(cut)


@numba.njit(cache=True, nogil=True, parallel=True)
def _windows(
    ids: np.ndarray, starts: np.ndarray, bounds: np.ndarray, size: int, wide: np.ndarray
) -> np.ndarray:
    """Per slice of tokens, the windows of each n-gram (of `wide`'s type: wide enough to
    count the base's characters)."""
    windows = np.zeros((bounds.size - 1, size), dtype=wide.dtype)
    for part in numba.prange(bounds.size - 1):
        for p in range(starts[bounds[part]], starts[bounds[part + 1]]):
            windows[part, ids[p]] += 1
    return windows


@numba.njit(cache=True, nogil=True)
def _lay_out(windows: np.ndarray, max_df: int) -> tuple[np.ndarray, int]:
    """Room for the lists of the usable n-grams, end to end, each slice's part after the
    previous slice's and as long as its windows (an upper bound of its distinct tokens).
    Returns where each list starts and their total length, and turns `windows` into each
    part's first slot (-1: not usable)."""
    parts, size = windows.shape
    start = np.zeros(size, dtype=np.int64)
    filled = 0
    for gram in range(size):
        total = 0
        for part in range(parts):
            total += windows[part, gram]
        start[gram] = filled
        for part in range(parts):
            room = windows[part, gram]
            windows[part, gram] = filled if gram > 0 and total <= max_df else -1
            if windows[part, gram] >= 0:
                filled += room
    return start, filled


@numba.njit(cache=True, nogil=True, parallel=True)
def _fill(
    ids: np.ndarray, starts: np.ndarray, bounds: np.ndarray, at: np.ndarray, postings: np.ndarray
) -> None:
    """Each slice writes its tokens, once each, into the lists of their usable n-grams from
    its own first slot on (`at[part, gram]`; -1: not usable). Where a token holds an
    n-gram twice its second window's slot stays a hole."""
    for part in numba.prange(bounds.size - 1):
        last = np.full(at.shape[1], -1, dtype=np.int32)
        for t in range(bounds[part], bounds[part + 1]):
            for p in range(starts[t], starts[t + 1]):
                gram = ids[p]
                if at[part, gram] >= 0 and last[gram] != t:
                    last[gram] = t
                    postings[at[part, gram]] = t
                    at[part, gram] += 1


@numba.njit(cache=True, nogil=True, parallel=True)
def _search(
    count: np.ndarray,
    most: int,
    parts: int,
    own: np.ndarray,
    starts: np.ndarray,
    offsets: np.ndarray,
    span: np.ndarray,
    postings: np.ndarray,
    n_base: int,
    k: int,
    min_shared: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per new token: walk the lists of its distinct usable n-grams, counting hits per base
    token, then keep the k sharing most (ties: lower base index) of those sharing at least
    `min_shared`. Returns how many each token kept, the neighbours and their counts.
    Holes in the lists hold `n_base`, counted like a token and never kept.

    `count` only gives the hit counter's type: as narrow as `most` (the most n-grams a
    token can have) allows, so that it stays in the CPU's cache. A token's lists are found
    first and walked after, so that the cache misses of finding them overlap. The tokens
    are searched in `parts` slices, one thread each at a time."""
    tokens, levels = starts.size - 1, own.shape[0]
    kept = np.zeros(tokens, dtype=np.int64)
    best = np.full((tokens, k), -1, dtype=np.int64)
    shared = np.zeros((tokens, k), dtype=np.int64)
    parts = max(1, min(tokens, parts))
    for part in numba.prange(parts):
        hits = np.zeros(n_base + 1, dtype=count.dtype)
        touched = np.empty(n_base + 1, dtype=np.int32)
        seen = np.full(span.size, -1, dtype=np.int32)
        lists = np.empty((most, 2), dtype=np.int64)
        for t in range(part * tokens // parts, (part + 1) * tokens // parts):
            m = 0
            for level in range(levels):
                for p in range(starts[t], starts[t + 1]):
                    gram = offsets[level] + own[level, p] - 1
                    if own[level, p] and span[gram] < span[gram + 1] and seen[gram] != t:
                        seen[gram] = t  # (an n-gram may occur twice in a token)
                        lists[m, 0], lists[m, 1] = span[gram], span[gram + 1]
                        m += 1
            touches = 0
            for i in range(m):
                for j in range(lists[i, 0], lists[i, 1]):
                    b = postings[j]
                    if hits[b] == 0:
                        touched[touches] = b
                        touches += 1
                    hits[b] += 1
            hits[n_base] = 0
            _keep(t, touched[:touches], hits, k, min_shared, kept, best, shared)
    return kept, best, shared


@numba.njit(cache=True, nogil=True)
def _keep(
    t: int,
    touched: np.ndarray,
    hits: np.ndarray,
    k: int,
    min_shared: int,
    kept: np.ndarray,
    best: np.ndarray,
    shared: np.ndarray,
) -> None:
    """Keep token t's k best of the touched base tokens (count down, then base index up),
    by insertion; zero their hit counts."""
    for b in touched:
        c = hits[b]
        hits[b] = 0
        if c < min_shared or c == 0:  # (holes are zeroed before)
            continue
        if kept[t] == k:  # full: (c, b) must beat the last one kept
            if c < shared[t, k - 1] or (c == shared[t, k - 1] and b > best[t, k - 1]):
                continue
            at = k - 1
        else:
            at = kept[t]
            kept[t] += 1
        while at > 0 and (
            c > shared[t, at - 1] or (c == shared[t, at - 1] and b < best[t, at - 1])
        ):
            shared[t, at] = shared[t, at - 1]
            best[t, at] = best[t, at - 1]
            at -= 1
        shared[t, at] = c
        best[t, at] = b
