"""Character n-grams of many tokens at once, as integer keys, without a loop over tokens.

fastText's scheme: each token is wrapped in boundary markers ("<watch>"), and every run of
`min_n`..`max_n` consecutive characters is one n-gram, so "watch" and "unwatchable" share
"wat", "watc", "watch" but "watch>" only with words that end there. Tokens of similar
length are stacked into one 2-D array of dense character ids (zero-padded on the right),
and the n-grams of every length are built by shifting its columns, so a million tokens cost
a handful of array operations.

A key packs the ids of its characters into one int64. With fewer than 2**(63 // max_n)
distinct characters (any alphabetic script: 1,023 for max_n=6) packing is exact: equal keys
mean equal n-grams. Larger alphabets (e.g. CJK vocabularies) use a 64-bit multiplicative
hash instead, where two different n-grams collide with a probability of about 1e-19 per pair.
A window running into the padding holds a zero id, which no real n-gram holds; `valid` says
which windows lie inside their token (lookups of base n-grams need not filter: a padded
window's key is never among the valid keys it is looked up in).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Alphabet", "NgramBlock", "alphabet_of", "ngram_blocks"]

_BEGIN, _END = 1, 2  # ids of the boundary markers; characters get ids from 3 on
_HASH_MULTIPLIER = np.int64(-7046029254386353131)  # 0x9E3779B97F4A7C15 as int64


def _lengths(tokens: Sequence[str]) -> np.ndarray:
    return np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))


@dataclass(frozen=True)
class Alphabet:
    """Dense ids for every character of the tokens it was built from, and how keys pack."""

    lookup: np.ndarray  # code point -> id (>= 3); code point 0 (padding) -> 0
    bits: int  # bits per character in an exact key
    exact: bool  # False: keys are hashed (alphabet too large to pack max_n characters)


def alphabet_of(*token_lists: Sequence[str], max_n: int) -> Alphabet:
    """The alphabet shared by several token lists (keys are comparable only within one)."""
    present = np.zeros(128, dtype=bool)
    for tokens in token_lists:
        codes = np.frombuffer("".join(tokens).encode("utf-32-le", "surrogatepass"), np.uint32)
        if codes.size and int(codes.max()) >= present.size:
            present = np.concatenate([present, np.zeros(int(codes.max()) + 1 - present.size, bool)])
        present[codes] = True
    present[0] = False
    lookup = np.where(present, np.cumsum(present, dtype=np.int64) + _END, 0)
    bits = (int(present.sum()) + _END).bit_length()
    return Alphabet(lookup=lookup, bits=bits, exact=bits * max_n <= 63)


@dataclass(frozen=True)
class NgramBlock:
    """The n-grams of length n of some tokens: `key[r, p]` starts at character p of token
    `token[r]` (the "<" marker is character 0); `valid[r, p]` says it lies inside the token."""

    n: int
    token: np.ndarray  # int64, one per row
    key: np.ndarray  # int64, (rows, windows)
    lengths: np.ndarray  # characters of each row's token

    @property
    def valid(self) -> np.ndarray:
        windows = np.arange(self.key.shape[1])
        return windows[None, :] <= (self.lengths + 2 - self.n)[:, None]


def _buckets(lengths: np.ndarray) -> Iterator[np.ndarray]:
    """Token indices grouped by length class (<=8, <=16, <=32, ...): bounded padding."""
    cls = np.ceil(np.log2(np.maximum(lengths, 8))).astype(np.int64)
    for value in np.unique(cls):
        yield np.flatnonzero(cls == value)


def _ids(tokens: Sequence[str], alphabet: Alphabet, lengths: np.ndarray) -> np.ndarray:
    """(tokens, width + 2) dense ids: "<", the characters, ">", then zeros."""
    chars = np.array(tokens, dtype=str)
    width = chars.dtype.itemsize // 4
    codes = chars.view(np.uint32).reshape(len(tokens), width)
    ids = np.zeros((len(tokens), width + 2), dtype=np.int64)
    ids[:, 0] = _BEGIN
    ids[:, 1 : width + 1] = alphabet.lookup[codes]
    ids[np.arange(len(tokens)), lengths + 1] = _END
    return ids


def ngram_blocks(
    tokens: Sequence[str], alphabet: Alphabet, min_n: int, max_n: int, *, offset: int = 0
) -> Iterator[NgramBlock]:
    """The n-grams of `tokens` in blocks (token indices start at `offset`).

    A token is padded to "<token>"; a token shorter than n - 2 characters has no n-grams of
    length n (e.g. "a" has no 4-grams), so its row holds only invalid windows there.
    """
    lengths = _lengths(tokens)
    whole = len(tokens) > 0 and int(lengths.max()) <= 2 * max(8, int(lengths.min()))
    groups = [np.arange(len(tokens))] if whole else list(_buckets(lengths))
    for rows in groups:
        if rows.size == 0:
            continue
        part = tokens if rows.size == len(tokens) else [tokens[i] for i in rows]
        ids = _ids(part, alphabet, lengths[rows])
        owner = rows + offset  # one array per group: blocks of one group share it
        key = ids
        for n in range(1, max_n + 1):
            if n > 1:
                if key.shape[1] <= 1:
                    break
                if alphabet.exact:
                    key = (key[:, :-1] << alphabet.bits) | ids[:, n - 1 :]
                else:
                    key = key[:, :-1] * _HASH_MULTIPLIER + (ids[:, n - 1 :] + n)
            if n >= min_n:
                yield NgramBlock(n=n, token=owner, key=key, lengths=lengths[rows])
