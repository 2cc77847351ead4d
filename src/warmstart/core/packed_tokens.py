"""Tokens packed into one UTF-8 buffer, with NumPy fingerprints and byte-exact comparison.

Matching a million-token vocabulary one Python string at a time dominates a warm start, so
each vocabulary is packed once: every token gets a 64-bit fingerprint computed with NumPy,
and any pair of tokens can be compared byte for byte without going back to Python objects.
A fingerprint only proposes a match; `same_tokens` is what makes it exact.

Memory: everything runs block by block (`BLOCK` tokens), so the temporaries are a few MB
whatever the vocabulary size; only the buffer, starts, lengths and fingerprints are full
size. Freed full-size temporaries would stay resident (the allocator keeps them) and add to
the peak of the remap that follows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = [
    "BLOCK",
    "PackedTokens",
    "all_unique",
    "fingerprint_tokens",
    "pack_tokens",
    "same_tokens",
]

BLOCK = 1 << 16  # tokens per block: vectorised, yet temporaries stay at a few MB
_JOIN = 1 << 12  # tokens per str.join within a block
_PAD = 16  # bytes after the last token, so every word of a token can be read

_MASKS = np.array([(1 << (8 * i)) - 1 for i in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)


@dataclass(frozen=True)
class PackedTokens:
    """Tokens as one padded UTF-8 buffer plus per-token start and byte length."""

    buffer: np.ndarray  # uint8, _PAD padding bytes at the end (never read unmasked)
    starts: np.ndarray  # int64
    lengths: np.ndarray  # int64

    @cached_property
    def words(self) -> np.ndarray:
        """Unaligned little-endian uint64 view: words[i] holds bytes i..i+7."""
        return np.ndarray((self.buffer.size - 7,), dtype="<u8", buffer=self.buffer, strides=(1,))

    @cached_property
    def fingerprint(self) -> np.ndarray:
        """64-bit fingerprint (as int64) per token; equal tokens have equal fingerprints."""
        return _fingerprint(self)


def pack_tokens(
    tokens: Sequence[str], start: int = 0, stop: int | None = None
) -> PackedTokens | None:
    """Pack str tokens[start:stop] into one buffer; None when that is empty, not all str, or
    a token holds '\\n'.

    Tokens are joined and encoded a block at a time: one non-ASCII token then widens only
    its block's joined str, never a string of the whole vocabulary. A range (rather than a
    slice of the list) spares touching every token object once more.
    """
    stop = len(tokens) if stop is None else min(stop, len(tokens))
    n = stop - start
    if n <= 0:
        return None
    pieces: list[bytes] = []
    starts = np.empty(n, dtype=np.int64)
    lengths = np.empty(n, dtype=np.int64)
    offset = 0
    for first in range(0, n, BLOCK):
        count = min(BLOCK, n - first)
        piece = _encoded(tokens, start + first, start + first + count)
        if piece is None:
            return None
        # UTF-8 never uses byte 0x0A inside a multi-byte character, so every 0x0A is a separator.
        seps = np.flatnonzero(np.frombuffer(piece, dtype=np.uint8) == 10)
        if seps.size != count - 1:
            return None
        own_starts = starts[first : first + count]
        own_starts[0] = 0
        own_starts[1:] = seps + 1
        own_lengths = lengths[first : first + count]
        own_lengths[:-1] = seps - own_starts[:-1]
        own_lengths[-1] = len(piece) - own_starts[-1]
        own_starts += offset
        offset += len(piece) + 1  # the block's tokens, then a '\n' before the next block
        pieces.append(piece)
    buffer = np.zeros(offset - 1 + _PAD, dtype=np.uint8)
    at = 0
    for piece in pieces:
        buffer[at : at + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
        at += len(piece) + 1
    return PackedTokens(buffer, starts, lengths)


def _encoded(tokens: Sequence[str], first: int, last: int) -> bytes | None:
    """'\\n'.join(tokens[first:last]) as UTF-8, or None if a token is not a str.

    Joined _JOIN tokens at a time: each join then finds the token objects its slice just
    touched still in cache (a vocabulary in random memory order misses it otherwise).
    """
    try:
        return b"\n".join(
            [
                "\n".join(tokens[i : min(i + _JOIN, last)]).encode("utf-8", "surrogatepass")
                for i in range(first, last, _JOIN)
            ]
        )
    except TypeError:
        return None


def fingerprint_tokens(tokens: Sequence[str]) -> np.ndarray | None:
    """Fingerprints of `tokens` (as `pack_tokens(tokens).fingerprint`), packed a block at a
    time so no full-size buffer is kept; None when `pack_tokens` would return None."""
    out = np.empty(len(tokens), dtype=np.int64)
    for first in range(0, len(tokens), BLOCK):
        packed = pack_tokens(tokens, first, first + BLOCK)
        if packed is None:
            return None
        out[first : first + packed.lengths.size] = _fingerprint(packed)
    return out if len(tokens) else None


def all_unique(values: np.ndarray) -> bool:
    """Whether no value of `values` occurs twice."""
    ordered = np.sort(values)
    return not bool(np.any(ordered[1:] == ordered[:-1]))


def same_tokens(a: PackedTokens, ia: np.ndarray, b: PackedTokens, ib: np.ndarray) -> np.ndarray:
    """Element-wise: is token a[ia[j]] byte-identical to token b[ib[j]]?"""
    same = np.empty(ia.size, dtype=bool)
    for first in range(0, ia.size, BLOCK):
        last = first + BLOCK
        same[first:last] = _same_block(a, ia[first:last], b, ib[first:last])
    return same


def _same_block(a: PackedTokens, ia: np.ndarray, b: PackedTokens, ib: np.ndarray) -> np.ndarray:
    length = a.lengths[ia]
    sa, sb = a.starts[ia], b.starts[ib]
    same = length == b.lengths[ib]
    # Equal lengths first, so one mask (of a's length) serves both sides of every word: the
    # first 16 bytes of every pair, then the rest of longer tokens word by word.
    same &= _same_word(a, sa, b, sb, length)
    same &= _same_word(a, sa + 8, b, sb + 8, length - 8)
    active = np.flatnonzero(same & (length > 16))
    sa, sb, length = sa[active], sb[active], length[active]
    k = 16
    while active.size:
        remaining = length - k
        eq = _same_word(a, sa + k, b, sb + k, remaining)
        same[active[~eq]] = False
        keep = eq & (remaining > 8)
        active, sa, sb, length = active[keep], sa[keep], sb[keep], length[keep]
        k += 8
    return same


def _same_word(
    a: PackedTokens, sa: np.ndarray, b: PackedTokens, sb: np.ndarray, remaining: np.ndarray
) -> np.ndarray:
    """Whether the next <= 8 bytes of tokens of equal length agree."""
    diff = a.words[sa]
    diff ^= b.words[sb]
    diff &= _MASKS[np.clip(remaining, 0, 8)]
    return diff == 0


def _word(packed: PackedTokens, starts: np.ndarray, remaining: np.ndarray) -> np.ndarray:
    """The next <= 8 bytes of each token, bytes past its end zeroed (all if remaining <= 0)."""
    word = packed.words[starts]
    word &= _MASKS[np.clip(remaining, 0, 8)]
    return word


def _mix(h: np.ndarray, word: np.ndarray) -> None:
    h ^= word
    h *= _M1
    h ^= h >> np.uint64(31)


def _fingerprint(packed: PackedTokens) -> np.ndarray:
    """64-bit fingerprint per token (length-seeded multiply-xorshift over 8-byte words)."""
    out = np.empty(packed.lengths.size, dtype=np.uint64)
    for first in range(0, out.size, BLOCK):
        last = first + BLOCK
        out[first:last] = _fingerprint_block(
            packed, packed.starts[first:last], packed.lengths[first:last]
        )
    return out.view(np.int64)


def _fingerprint_block(packed: PackedTokens, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    h = lengths.astype(np.uint64) * _M2
    _mix(h, _word(packed, starts, lengths))
    _mix(h, _word(packed, starts + 8, lengths - 8))
    active = np.flatnonzero(lengths > 16)
    k = 16
    while active.size:
        remaining = lengths[active] - k
        hh = h[active]
        _mix(hh, _word(packed, starts[active] + k, remaining))
        h[active] = hh
        active = active[remaining > 8]
        k += 8
    h ^= h >> np.uint64(30)
    h *= _M3
    h ^= h >> np.uint64(27)
    return h
