"""Character n-grams of many tokens at once, as dense integer ids, in compiled loops.

fastText's scheme: each token is wrapped in boundary markers ("<watch>"), and every run of
`min_n`..`max_n` consecutive characters is one n-gram, so "watch" and "unwatchable" share
"wat", "watc", "watch" but "watch>" only with words that end there. (The markers are
symbols of their own: a "<" inside a token is not a boundary.)

Only the n-grams of one token list matter to a subword search (the new tokens'), so
`NgramIndex` numbers those, length by length, and other token lists are looked up against
it. Tokens are laid end to end as one array of dense character ids ("<", the characters,
">"; a character the indexed tokens lack gets 0 and no n-gram holds it). An n-gram is its
(n-1)-gram prefix plus one character, so its id is found by the exact key `prefix id * A +
character` (A = alphabet size): one table probe per window and length, no string hashing,
exact in any script. A level's table is a dense array while its key space is small, a
bitmap with rank counts while it is moderate (a probe that misses reads a few bits that
stay in the CPU's cache), an open-addressing hash table past that. The loops are compiled
by Numba, and the lookups run on all cores (`cache=True`: the first call on a machine
compiles, for about 10 s; later processes load the machine code).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numba
import numpy as np

__all__ = ["Encoded", "NgramIndex", "encode"]

_BEGIN, _END = 1, 2  # ids of the boundary markers; characters get ids from 3 on
_CODE_POINTS = 0x110000
_DENSE_LIMIT = 1 << 18  # keys of a level kept as a dense int32 table (1 MiB at most)
_BITMAP_LIMIT = 1 << 31  # keys of a level kept as a bitmap (256 MiB of bits at most)
_EMPTY = -1  # a free slot of a hash table
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing's multiplier


@dataclass(frozen=True)
class Encoded:
    """Tokens laid end to end as character ids: token i is `chars[starts[i]:starts[i + 1]]`
    ("<", its characters, ">")."""

    chars: np.ndarray
    starts: np.ndarray


def _alphabet(codes: np.ndarray, newlines_are_joints: bool) -> np.ndarray:
    """Code point -> character id (>= 3) for the characters in `codes`; 0 for any other.

    Spans all of Unicode so any token can be looked up; np.zeros maps untouched pages
    lazily, so its 1 or 4 MiB cost only the pages of code points in use."""
    present = np.zeros(_CODE_POINTS, dtype=bool)
    present[codes] = True
    present[10] &= not newlines_are_joints
    used = np.flatnonzero(present)
    # One byte per character while the alphabet allows: a quarter of the memory traffic.
    dtype = np.uint8 if used.size + _END < 256 else np.int32
    lookup = np.zeros(_CODE_POINTS, dtype=dtype)
    lookup[used] = np.arange(_END + 1, _END + 1 + used.size)
    return lookup


def _joined(tokens: Sequence[str]) -> np.ndarray:
    """The code points of the tokens joined by newlines (one byte each when all are below
    256, as in most Latin-script vocabularies: a quarter of the memory)."""
    text = "\n".join(tokens)
    try:
        return np.frombuffer(text.encode("latin-1"), np.uint8)
    except UnicodeEncodeError:
        return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)


def encode(tokens: Sequence[str], lookup: np.ndarray, codes: np.ndarray | None = None) -> Encoded:
    """`tokens` as character ids through `lookup` (code point -> id), markers added;
    `codes`, if given, are `_joined(tokens)`."""
    codes = _joined(tokens) if codes is None else codes
    chars = np.empty(codes.size + len(tokens) + 1 if len(tokens) else 0, dtype=lookup.dtype)
    starts = np.empty(len(tokens) + 1, dtype=np.int64)
    if _wrap(codes, lookup, chars, starts):  # newlines delimit the tokens
        return Encoded(chars, starts)
    lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    codes = np.frombuffer("".join(tokens).encode("utf-32-le", "surrogatepass"), np.uint32)
    starts[0] = 0
    np.cumsum(lengths + 2, out=starts[1:])
    chars = np.empty(starts[-1], dtype=lookup.dtype)
    chars[starts[:-1]], chars[starts[1:] - 1] = _BEGIN, _END
    body = np.ones(chars.size, dtype=bool)
    body[starts[:-1]] = body[starts[1:] - 1] = False
    chars[body] = lookup[codes]
    return Encoded(chars, starts)


@numba.njit(cache=True, nogil=True)
def _wrap(codes: np.ndarray, lookup: np.ndarray, chars: np.ndarray, starts: np.ndarray) -> bool:
    """Fill `chars` and `starts` from the newline-joined tokens' code points. Returns False,
    leaving them unfinished, when there are more newlines than joints (a token holds one)."""
    tokens, at = starts.size - 1, 0
    if tokens == 0:
        starts[0] = 0
        return codes.size == 0
    starts[0], chars[0] = 0, _BEGIN
    t = 1
    for code in codes:
        at += 1
        if code == 10:
            if t == tokens:
                return False
            chars[at] = _END
            at += 1
            starts[t], chars[at] = at, _BEGIN
            t += 1
        else:
            chars[at] = lookup[code]
    chars[at + 1] = _END
    starts[tokens] = at + 2
    return t == tokens


@numba.njit(cache=True, nogil=True, inline="always")
def _slot(key: int, mask: int) -> int:
    return int((np.uint64(key) * _GOLDEN) >> np.uint64(32)) & mask


@numba.njit(cache=True, nogil=True, inline="always")
def _bits_below(word: np.uint64, bit: int) -> int:
    """Set bits of `word` below position `bit` (a branch-free popcount)."""
    x = word & ((np.uint64(1) << np.uint64(bit)) - np.uint64(1))
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@numba.njit(cache=True, nogil=True, inline="always")
def _find(
    dense: np.ndarray,
    words: np.ndarray,
    ranks: np.ndarray,
    keys: np.ndarray,
    values: np.ndarray,
    key: int,
) -> int:
    """The id of `key` in a level's table (dense, bitmap or hash), 0 if absent."""
    if dense.size:
        return dense[key]
    if words.size:  # (branch-free: whether the bit is set is a coin toss)
        word, bit = words[key >> 6], key & 63
        present = int((word >> np.uint64(bit)) & np.uint64(1))
        return present * (ranks[key >> 6] + _bits_below(word, bit) + 1)
    mask = keys.size - 1
    at = _slot(key, mask)
    while keys[at] != _EMPTY and keys[at] != key:
        at = (at + 1) & mask
    return values[at] if keys[at] == key else 0


@numba.njit(cache=True, nogil=True)
def _build(
    ids: np.ndarray, chars: np.ndarray, starts: np.ndarray, n: int, alphabet: int, table: tuple
) -> int:
    """Enter the level-n keys of the windows (level n-1 ids in `ids`) in the table and
    return how many it holds. A dense or hash table gives keys not yet in it the next ids
    and sets `ids` to the level-n ids; a bitmap only gets the keys' bits set (its ids are
    ranks, known once every bit is)."""
    dense, words, _, keys, values = table
    mask, size = keys.size - 1, 0
    for t in range(starts.size - 1):
        s, e = starts[t], starts[t + 1]
        for p in range(s, max(s, e - n + 1)):
            prefix, char = ids[p], chars[p + n - 1]
            found = 0
            if prefix > 0 and char > 0:
                key = prefix * alphabet + char
                if dense.size:
                    if dense[key] == 0:
                        size += 1
                        dense[key] = size
                    found = dense[key]
                elif words.size:
                    bit = np.uint64(1) << np.uint64(key & 63)
                    if not words[key >> 6] & bit:
                        size += 1
                        words[key >> 6] |= bit
                    continue
                else:
                    at = _slot(key, mask)
                    while keys[at] != _EMPTY and keys[at] != key:
                        at = (at + 1) & mask
                    if keys[at] != key:
                        size += 1
                        keys[at], values[at] = key, size
                    found = values[at]
            elif words.size:
                continue
            ids[p] = found
        if not words.size:
            for p in range(max(s, e - n + 1), e):
                ids[p] = 0
    return size


@numba.njit(cache=True, nogil=True, parallel=True)
def _number(
    ids: np.ndarray, chars: np.ndarray, starts: np.ndarray, n: int, alphabet: int, table: tuple
) -> None:
    """Level n from level n-1 in place, for every token (in parallel): `ids[p]` becomes the
    id of the n-gram starting at p (0: not indexed, or past its token's end).

    (The table's arrays are unpacked here, once: passing them on per window would cost a
    reference count update each, more than the probe itself.)"""
    dense, words, ranks, keys, values = table
    for t in numba.prange(starts.size - 1):
        s, e = starts[t], starts[t + 1]
        for p in range(s, max(s, e - n + 1)):
            prefix, char = ids[p], chars[p + n - 1]
            key = prefix * alphabet + char
            found = _find(dense, words, ranks, keys, values, key) if prefix and char else 0
            ids[p] = found
        for p in range(max(s, e - n + 1), e):
            ids[p] = 0


class _Level:
    """The table of one n-gram length: key -> id (1-based). A dense array for small key
    spaces; a bitmap with per-word rank counts (ids in key order) for larger ones, so a
    probe that misses reads a few cache-resident bits; a hash table past that."""

    def __init__(self, space: int, windows: int) -> None:
        int32, none = np.zeros(0, np.int32), np.zeros(0, np.uint64)
        dense, words, keys, values = int32, none, np.zeros(1, np.int64), int32
        if space <= _DENSE_LIMIT:
            dense = np.zeros(space, dtype=np.int32)
        elif space <= _BITMAP_LIMIT:
            words = np.zeros(-(-space // 64), dtype=np.uint64)
        else:
            capacity = 1 << max(4, (2 * windows).bit_length())  # load factor <= 1/2
            keys = np.full(capacity, _EMPTY, dtype=np.int64)
            values = np.zeros(capacity, dtype=np.int32)
        self.form = "dense" if dense.size else "bitmap" if words.size else "hash"
        self.size = 0
        self.table = (dense, words, int32, keys, values)

    def build(self, ids: np.ndarray, tokens: Encoded, n: int, alphabet: int) -> None:
        """Enter the n-grams of `tokens` (level n-1 ids in `ids`); set `ids` to theirs."""
        self.size = _build(ids, tokens.chars, tokens.starts, n, alphabet, self.table)
        dense, words, _, keys, values = self.table
        if self.form == "bitmap":
            counts = np.bitwise_count(words).astype(np.int32)
            self.table = (dense, words, np.cumsum(counts, dtype=np.int32) - counts, keys, values)
            self.number(ids, tokens, n, alphabet)

    def number(self, ids: np.ndarray, tokens: Encoded, n: int, alphabet: int) -> None:
        _number(ids, tokens.chars, tokens.starts, n, alphabet, self.table)


class NgramIndex:
    """Dense ids of the distinct n-grams (lengths `min_n`..`max_n`) of `tokens`.

    `sizes[n]` is how many distinct n-grams of length n they hold (ids 1..sizes[n]);
    `own[n - min_n, p]` is the id of the n-gram of length n starting at character position
    p of `self.tokens`. `numbered(other)` yields the same for another token list, level by
    level.
    """

    def __init__(self, tokens: Sequence[str], min_n: int, max_n: int) -> None:
        self.min_n, self.max_n = min_n, max_n
        codes = _joined(tokens)
        joints = np.count_nonzero(codes == 10) == max(len(tokens) - 1, 0)
        self.lookup = _alphabet(codes, newlines_are_joints=joints)
        self.alphabet = int(self.lookup.max(initial=_END)) + 1
        self.tokens = encode(tokens, self.lookup, codes)
        self.levels: dict[int, _Level] = {}
        self.sizes: dict[int, int] = {1: self.alphabet - 1}
        self.own = np.empty((max_n - min_n + 1, self.tokens.chars.size), dtype=np.int32)
        ids = self.tokens.chars.astype(np.int32)
        for n in range(1, max_n + 1):
            if n > 1:
                level = _Level((self.sizes[n - 1] + 1) * self.alphabet, ids.size)
                level.build(ids, self.tokens, n, self.alphabet)
                self.levels[n], self.sizes[n] = level, level.size
            if n >= min_n:
                self.own[n - min_n] = ids

    def numbered(self, tokens: Encoded) -> Iterator[np.ndarray]:
        """For n = min_n..max_n, the ids of the indexed n-grams of `tokens` per character
        position (0 elsewhere): one array, overwritten level by level."""
        ids = tokens.chars.astype(np.int32)
        for n in range(1, self.max_n + 1):
            if n > 1:
                self.levels[n].number(ids, tokens, n, self.alphabet)
            if n >= self.min_n:
                yield ids
