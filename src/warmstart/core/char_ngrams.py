"""Character n-grams of many tokens at once, as dense integer ids, without a loop over tokens.

fastText's scheme: each token is wrapped in boundary markers ("<watch>"), and every run of
`min_n`..`max_n` consecutive characters is one n-gram, so "watch" and "unwatchable" share
"wat", "watc", "watch" but "watch>" only with words that end there. (The markers are
symbols of their own: a "<" inside a token is not a boundary.)

Only the n-grams of one token list matter to a subword search (the new tokens': a few
million distinct n-grams at most), so `NgramIndex` numbers those, length by length, and
other token lists are looked up against it. Tokens of similar length are stacked into 2-D
arrays of dense character ids (zero-padded on the right), and an n-gram is its (n-1)-gram
prefix plus one character, so its number is looked up by the key `prefix number * A +
character` (A = alphabet size): a handful of array operations per length for a million
tokens, no hashing of strings, and exact in any script (equal ids mean equal n-grams). The
shortest level is keyed by its characters directly (A**n keys). A level's keys map to
numbers through a dense table when it is small, through a bitmap with rank counts when it
is large (a membership probe first, the rank only for the few hits), and through a pandas
hash index past that; all three number a level's n-grams in ascending key order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["GramIds", "NgramIndex"]

_BEGIN, _END = 1, 2  # ids of the boundary markers; characters get ids from 3 on
_CODE_POINTS = 0x110000
_DENSE_LIMIT = 1 << 22  # keys of a level kept as a dense int32 table (16 MiB)
_BITMAP_LIMIT = 1 << 32  # keys of a level kept as a bitmap (512 MiB of bits at most)
_DIRECT_LIMIT = 1 << 16  # keys of the shortest level, indexed by its characters
_PART_TOKENS = 1 << 18  # tokens stacked into one array (bounded temporaries)


@dataclass(frozen=True)
class GramIds:
    """The n-grams of length n of some tokens: `number[p, r]` is 1 + the id of the one
    starting at character p of token `token[r]` (the "<" marker is character 0), 0 where
    the index does not hold it (or the window runs past the token's end). Position-major,
    so that every array operation runs over long contiguous rows."""

    n: int
    token: np.ndarray  # int64, one per column
    number: np.ndarray  # int32, (windows, tokens)


def _groups(lengths: np.ndarray) -> list[np.ndarray]:
    """Token indices grouped by length class (<=8, <=16, <=32, ...) and in parts of at most
    _PART_TOKENS: bounded padding and temporaries."""
    if lengths.size and int(lengths.max()) <= 2 * max(8, int(lengths.min())):
        classes = [np.arange(lengths.size)]
    else:
        cls = np.ceil(np.log2(np.maximum(lengths, 8))).astype(np.int64)
        classes = [np.flatnonzero(cls == value) for value in np.unique(cls)]
    return [
        rows[i : i + _PART_TOKENS] for rows in classes for i in range(0, rows.size, _PART_TOKENS)
    ]


def _alphabet(tokens: Sequence[str]) -> np.ndarray:
    """Code point -> character id (>= 3) for the characters of `tokens`; 0 for any other.

    Spans all of Unicode so any token can be looked up; np.zeros maps untouched pages
    lazily, so the 4 MiB cost only the pages of code points in use."""
    codes = np.frombuffer("".join(tokens).encode("utf-32-le", "surrogatepass"), np.uint32)
    present = np.zeros(_CODE_POINTS, dtype=bool)
    present[codes] = True
    present[0] = False
    used = np.flatnonzero(present)
    dtype = np.uint8 if used.size + _END < 256 else np.int32
    lookup = np.zeros(_CODE_POINTS, dtype=dtype)
    lookup[used] = np.arange(_END + 1, _END + 1 + used.size)
    return lookup


def _char_ids(tokens: Sequence[str], lookup: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(width + 2, tokens) character ids: "<", the characters, ">", then zeros (one column
    per token). Characters outside the alphabet get 0, like the padding: no indexed n-gram
    holds them."""
    chars = np.array(tokens, dtype=str)  # width >= 1 even if all tokens are empty
    width = chars.dtype.itemsize // 4
    ids = np.zeros((width + 2, len(tokens)), dtype=lookup.dtype)
    ids[0] = _BEGIN
    ids[1 : width + 1] = lookup[chars.view(np.uint32).reshape(len(tokens), width)].T
    ids[lengths + 1, np.arange(len(tokens))] = _END
    return ids


class _Level:
    """Numbers (1 + id, ascending key order) of the distinct n-grams of one length."""

    def __init__(self, keys: np.ndarray, space: int) -> None:
        self.table = self.mark = self.index = None
        if space > _BITMAP_LIMIT:
            distinct = keys.astype(np.int64)  # a copy: sorted in place
            distinct.sort(kind="quicksort")
            if distinct.size > 1:
                distinct = distinct[np.r_[True, distinct[1:] != distinct[:-1]]]
            self.size, self.index = int(distinct.size), pd.Index(distinct)
            return
        mark = np.zeros(space, dtype=bool)
        mark[keys] = True
        if space <= _DENSE_LIMIT:
            self.table = np.cumsum(mark, dtype=np.int32)
            self.size = int(self.table[-1]) if space else 0
            self.table[~mark] = 0
            return
        words = np.zeros(-(-space // 64), dtype=np.uint64)
        words.view(np.uint8)[: -(-space // 8)] = np.packbits(mark, bitorder="little")
        counts = np.bitwise_count(words).astype(np.int32)
        self.ranks = np.cumsum(counts, dtype=np.int32) - counts  # set bits before each word
        self.size = int(self.ranks[-1] + counts[-1])
        self.mark, self.words = mark, words

    def numbers(self, keys: np.ndarray, where: np.ndarray | None) -> np.ndarray:
        """The number of each key (0 if absent); keys where `where` is False are absent."""
        if self.table is not None:
            return self.table[keys]
        out = np.zeros(keys.shape, dtype=np.int32)
        flat, put = keys.reshape(-1), out.reshape(-1)
        if self.index is not None:
            at = np.flatnonzero(where) if where is not None else np.arange(flat.size)
            put[at] = self.index.get_indexer(flat[at]) + 1
            return out
        at = np.flatnonzero(self.mark[flat])
        key = flat[at]
        word = key >> 6
        below = self.words[word] & ((np.uint64(1) << (key & 63).astype(np.uint64)) - np.uint64(1))
        number = np.bitwise_count(below).astype(np.int32)
        number += self.ranks[word]
        number += 1
        put[at] = number
        return out


class NgramIndex:
    """Dense ids of the distinct n-grams (lengths `min_n`..`max_n`) of `tokens`.

    `sizes[n]` is how many distinct n-grams of length n they hold. `numbered(tokens)`
    yields, length by length, the indexed n-grams of any token list; `own` holds what it
    would yield for `tokens` itself.
    """

    def __init__(self, tokens: Sequence[str], min_n: int, max_n: int) -> None:
        self.min_n, self.max_n = min_n, max_n
        self.lookup_table = _alphabet(tokens)
        self.alphabet = int(self.lookup_table.max(initial=_END)) + 1
        self.first = 1
        while self.first < min_n and self.alphabet ** (self.first + 1) <= _DIRECT_LIMIT:
            self.first += 1
        self.levels: dict[int, _Level] = {}
        self.sizes: dict[int, int] = {}
        self.own: list[list[GramIds]] = []  # what numbered(tokens) would yield
        parts = self._parts(tokens)
        previous: list[np.ndarray] = [np.empty(0, np.int32)] * len(parts)
        for n in range(self.first, max_n + 1):
            keys, valid = [], []
            for (_, chars), prev in zip(parts, previous, strict=True):
                keys.append(self._keys(n, chars, prev))
                valid.append(self._valid(n, chars, prev))
            inside = [k[v] for k, v in zip(keys, valid, strict=True)]
            level = _Level(np.concatenate(inside or [np.empty(0, np.int32)]), self._space(n))
            self.levels[n], self.sizes[n] = level, level.size
            previous = [level.numbers(k, v) for k, v in zip(keys, valid, strict=True)]
            if n >= min_n:
                self.own.append(
                    [
                        GramIds(n, rows, prev)
                        for (rows, _), prev in zip(parts, previous, strict=True)
                    ]
                )

    def _parts(self, tokens: Sequence[str], offset: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        parts = []
        for rows in _groups(lengths):
            if rows.size and int(rows[-1]) - int(rows[0]) + 1 == rows.size:
                part = tokens[int(rows[0]) : int(rows[-1]) + 1]  # contiguous: a cheap slice
            else:
                part = [tokens[i] for i in rows]
            parts.append((rows + offset, _char_ids(part, self.lookup_table, lengths[rows])))
        return parts

    def _space(self, n: int) -> int:
        if n == self.first:
            return self.alphabet**n
        return (self.sizes[n - 1] + 1) * self.alphabet

    def _keys(self, n: int, chars: np.ndarray, prev: np.ndarray) -> np.ndarray:
        """The level-n key of every window of `chars` (int64 where int32 could overflow)."""
        cols = max(chars.shape[0] - n + 1, 0)
        dtype = np.int32 if self._space(n) < 1 << 31 else np.int64
        if n == self.first:
            key = chars[:cols].astype(dtype)
            for j in range(1, n):
                key *= self.alphabet
                key += chars[j : j + cols]
            return key
        key = np.multiply(prev[:cols], self.alphabet, dtype=dtype)
        key += chars[n - 1 : n - 1 + cols]
        return key

    def _valid(self, n: int, chars: np.ndarray, prev: np.ndarray) -> np.ndarray:
        """Windows inside their token (no zero character; prefix indexed)."""
        cols = max(chars.shape[0] - n + 1, 0)
        inside = chars[n - 1 : n - 1 + cols] > 0
        if n == self.first:
            for j in range(n - 1):
                inside &= chars[j : j + cols] > 0
        else:
            inside &= prev[:cols] > 0
        return inside

    def numbered(self, tokens: Sequence[str]) -> Iterator[list[GramIds]]:
        """For n = min_n..max_n, the indexed n-grams of `tokens`, one block per part."""
        parts = self._parts(tokens)
        previous: list[np.ndarray] = [np.empty(0, np.int32)] * len(parts)
        for n in range(self.first, self.max_n + 1):
            level, blocks = self.levels[n], []
            for i, (rows, chars) in enumerate(parts):
                keys = self._keys(n, chars, previous[i])
                where = self._valid(n, chars, previous[i]) if level.index is not None else None
                previous[i] = level.numbers(keys, where)
                blocks.append(GramIds(n, rows, previous[i]))
            if n >= self.min_n:
                yield blocks
