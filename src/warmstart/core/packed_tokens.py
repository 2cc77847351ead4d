"""Tokens packed into one UTF-8 buffer, with NumPy fingerprints and byte-exact comparison.

Matching a million-token vocabulary one Python string at a time dominates a warm start, so
each vocabulary is packed once: every token gets a 64-bit fingerprint computed with NumPy,
and any pair of tokens can be compared byte for byte without going back to Python objects.
A fingerprint only proposes a match; `same_tokens` is what makes it exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = ["PackedTokens", "all_unique", "pack_tokens", "same_tokens"]

_PAD = 16  # zero bytes after the last token, so every head word can be read

_MASKS = np.array([(1 << (8 * i)) - 1 for i in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)


@dataclass(frozen=True)
class PackedTokens:
    """Tokens as one zero-padded UTF-8 buffer plus per-token start and byte length."""

    buffer: np.ndarray  # uint8, _PAD padding bytes at the end
    starts: np.ndarray  # int64
    lengths: np.ndarray  # int64

    @cached_property
    def words(self) -> np.ndarray:
        """Unaligned little-endian uint64 view: words[i] holds bytes i..i+7."""
        return np.ndarray((self.buffer.size - 7,), dtype="<u8", buffer=self.buffer, strides=(1,))

    @cached_property
    def head(self) -> np.ndarray:
        """Shape (3, n) uint64: byte length, bytes 0-7, bytes 8-15 (bytes past the end zeroed).

        Tokens of at most 16 bytes are equal exactly when their columns are equal. These
        are read once in token order because comparing pairs in random order by unaligned
        reads of the buffer costs several times more (a cache miss per word).
        """
        head = np.empty((3, self.lengths.size), dtype=np.uint64)
        head[0] = self.lengths
        head[1] = _word(self, self.starts, self.lengths)
        head[2] = _word(self, self.starts + 8, self.lengths - 8)
        return head

    @cached_property
    def fingerprint(self) -> np.ndarray:
        """64-bit fingerprint (as int64) per token; equal tokens have equal fingerprints."""
        return _fingerprint(self)


def pack_tokens(tokens: Sequence[str]) -> PackedTokens | None:
    """Pack str tokens into one buffer; None when empty, not all str, or a token holds '\\n'."""
    n = len(tokens)
    if n == 0:
        return None
    try:
        joined = "\n".join(tokens)
    except TypeError:
        return None
    blob = joined.encode("utf-8", "surrogatepass") + b"\0" * _PAD
    del joined
    buffer = np.frombuffer(blob, dtype=np.uint8)
    end = buffer.size - _PAD
    # UTF-8 never uses byte 0x0A inside a multi-byte character, so every 0x0A is a separator.
    seps = np.flatnonzero(buffer[:end] == 10)
    if seps.size != n - 1:
        return None
    starts = np.empty(n, dtype=np.int64)
    starts[0] = 0
    starts[1:] = seps + 1
    lengths = np.empty(n, dtype=np.int64)
    lengths[:-1] = seps - starts[:-1]
    lengths[-1] = end - starts[-1]
    return PackedTokens(buffer, starts, lengths)


def all_unique(values: np.ndarray) -> bool:
    """Whether no value of `values` occurs twice."""
    ordered = np.sort(values)
    return not bool(np.any(ordered[1:] == ordered[:-1]))


def same_tokens(a: PackedTokens, ia: np.ndarray, b: PackedTokens, ib: np.ndarray) -> np.ndarray:
    """Element-wise: is token a[ia[j]] byte-identical to token b[ib[j]]?"""
    diff = np.take(a.head, ia, axis=1)
    diff ^= np.take(b.head, ib, axis=1)
    same = ~diff.any(axis=0)
    del diff
    # Rows cover 16 bytes; compare the rest of longer tokens word by word.
    active = np.flatnonzero(same & (a.lengths[ia] > 16))
    sa, sb, length = a.starts[ia[active]], b.starts[ib[active]], a.lengths[ia[active]]
    k = 16
    while active.size:
        remaining = length - k
        eq = _word(a, sa + k, remaining) == _word(b, sb + k, remaining)
        same[active[~eq]] = False
        keep = eq & (remaining > 8)
        active, sa, sb, length = active[keep], sa[keep], sb[keep], length[keep]
        k += 8
    return same


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
    head = packed.head
    h = head[0] * _M2
    _mix(h, head[1])
    _mix(h, head[2])
    lengths = packed.lengths
    active = np.flatnonzero(lengths > 16)
    k = 16
    while active.size:
        remaining = lengths[active] - k
        hh = h[active]
        _mix(hh, _word(packed, packed.starts[active] + k, remaining))
        h[active] = hh
        active = active[remaining > 8]
        k += 8
    h ^= h >> np.uint64(30)
    h *= _M3
    h ^= h >> np.uint64(27)
    return h.view(np.int64)
