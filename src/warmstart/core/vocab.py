"""Vocabularies: load them, check them, match their tokens and describe how they differ.

A vocabulary is a `list[str]` whose position is the token id, exactly what
`TextVectorization.get_vocabulary()` returns (mask token `''` at 0, OOV `'[UNK]'` at 1).
Everything is normalised to `str` up front because a `b'the'` never equals `'the'`:
silently mixing bytes and str is the classic way to get a warm start with zero overlap.

Token matching is the cost that dominates a warm start of a large vocabulary, so it is
vectorised: each vocabulary is packed into one UTF-8 buffer, every token gets a 64-bit
fingerprint computed with NumPy, fingerprints are matched through a hash index, and each
match is then verified byte for byte, so the result is exact, never probabilistic.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warmstart.core.errors import VocabularyError

__all__ = [
    "VocabDiff",
    "VocabularyLike",
    "as_vocabulary",
    "check_vocabulary",
    "diff_tokens",
    "diff_vocabularies",
    "load_vocabulary",
    "match_tokens",
    "normalize_vocabularies",
    "save_vocabulary",
]

VocabularyLike = Sequence[str] | Sequence[bytes] | np.ndarray | str | os.PathLike[str]
"""A list/tuple/array of tokens, or the path of a one-token-per-line text file."""

_SHOW = 5  # how many offending tokens an error message names


# --------------------------------------------------------------------------- loading


def load_vocabulary(source: VocabularyLike | Any, *, name: str = "vocabulary") -> list[str]:
    """Return `source` as a checked `list[str]` (non-empty, no duplicates).

    `source` is a path (str or PathLike) to a text file with one token per line, or a
    sequence/array of tokens (str, or all-bytes which is decoded as UTF-8), or anything with
    a `.numpy()` method (a tf string tensor) giving such an array.
    """
    tokens = as_vocabulary(source, name=name)
    check_vocabulary(tokens, name=name)
    return tokens


def as_vocabulary(source: VocabularyLike | Any, *, name: str = "vocabulary") -> list[str]:
    """Convert `source` to `list[str]` without the emptiness/duplicate checks.

    A list that already holds only `str` is returned as is (not copied), so matching a
    million-token vocabulary pays no conversion.
    """
    if isinstance(source, str | os.PathLike):
        return _read_vocabulary_file(Path(source), name)
    if isinstance(source, bytes | bytearray):
        raise VocabularyError(
            f"{name} is a single bytes object, not a sequence of tokens; pass a list of "
            "tokens or the path of a vocabulary file (as str or pathlib.Path)."
        )
    if hasattr(source, "numpy") and not isinstance(source, np.ndarray):
        source = source.numpy()  # a tf.Tensor/Variable, without importing tensorflow
    if isinstance(source, np.ndarray):
        return _from_array(source, name)
    if isinstance(source, list):
        tokens = source
    elif isinstance(source, Iterable):
        tokens = list(source)
    else:
        raise VocabularyError(
            f"{name} has unsupported type {type(source).__name__}; pass a list of str, a "
            "NumPy array of str/bytes, or the path of a one-token-per-line text file."
        )
    return _to_str_tokens(tokens, name)


def normalize_vocabularies(
    base: VocabularyLike | Any, new: VocabularyLike | Any
) -> tuple[list[str], list[str]]:
    """Load and check both vocabularies the same way, so bytes-vs-str never means no overlap.

    Each side is decoded to `str` independently, so a base vocabulary read back as bytes
    (e.g. from a tf tensor) matches a new vocabulary of `str` token for token.
    """
    return load_vocabulary(base, name="base vocabulary"), load_vocabulary(
        new, name="new vocabulary"
    )


def save_vocabulary(tokens: Sequence[str], path: str | os.PathLike[str]) -> Path:
    """Write one token per line (UTF-8, '\\n'), the format `load_vocabulary` reads back.

    A token containing a newline cannot be stored that way and raises VocabularyError.
    """
    tokens = load_vocabulary(list(tokens))
    text = "\n".join(tokens)
    if text.count("\n") != len(tokens) - 1:
        raise VocabularyError(
            "a token contains a line break, which a one-token-per-line file cannot hold; "
            "remove or replace line breaks in tokens before saving."
        )
    out = Path(path)
    out.write_text(text + "\n", encoding="utf-8", newline="")
    return out


def _read_vocabulary_file(path: Path, name: str) -> list[str]:
    if not path.is_file():
        raise VocabularyError(
            f"{name} file {str(path)!r} does not exist or is not a file; pass the path of "
            "the one-token-per-line file written by TextVectorization (or a list of tokens)."
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VocabularyError(
            f"{name} file {str(path)!r} is not valid UTF-8 at byte {exc.start}; re-export it "
            "as UTF-8 (TextVectorization writes UTF-8)."
        ) from exc
    if text == "":
        return []
    # Only the line terminator is removed: an empty first line is the mask token ''.
    text = text.replace("\r\n", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n")


def _from_array(array: np.ndarray, name: str) -> list[str]:
    if array.ndim != 1:
        raise VocabularyError(
            f"{name} array has shape {array.shape}; a vocabulary must be 1-D, so pass "
            "array.ravel() or the single column that holds the tokens."
        )
    kind = array.dtype.kind
    if kind == "U" or kind == "T":  # fixed-width str or numpy 2 StringDType
        return array.astype(object).tolist()
    if kind in "SO":
        return _to_str_tokens(array.tolist(), name)
    raise VocabularyError(
        f"{name} array has dtype {array.dtype}, not strings; pass the token strings "
        "(e.g. TextVectorization.get_vocabulary()), not token ids or embeddings."
    )


def _to_str_tokens(tokens: list[Any], name: str) -> list[str]:
    try:
        "".join(tokens)  # C-speed proof that every token is a str
    except TypeError:
        pass
    else:
        return tokens
    kinds = set(map(type, tokens))
    if all(issubclass(t, bytes) for t in kinds):
        return _decode_all(tokens, name)
    is_bytes = np.fromiter((isinstance(t, bytes) for t in tokens), bool, len(tokens))
    is_str = np.fromiter((isinstance(t, str) for t in tokens), bool, len(tokens))
    other = np.flatnonzero(~(is_bytes | is_str))
    if other.size:
        first = int(other[0])
        raise VocabularyError(
            f"{name} has {other.size} token(s) that are neither str nor bytes (first at index "
            f"{first}: {tokens[first]!r}); pass token strings, not ids, numbers or None."
        )
    if is_str.any():
        first_b, first_s = int(np.argmax(is_bytes)), int(np.argmax(is_str))
        raise VocabularyError(
            f"{name} mixes {int(is_bytes.sum())} bytes and {int(is_str.sum())} str tokens "
            f"(first bytes at index {first_b}: {tokens[first_b]!r}, first str at index "
            f"{first_s}: {tokens[first_s]!r}); decode the bytes with .decode('utf-8') so "
            "every token is str, or build the vocabulary from one source."
        )
    raise AssertionError("unreachable")  # pragma: no cover


def _decode_all(tokens: list[bytes], name: str) -> list[str]:
    try:
        return list(map(bytes.decode, tokens))  # all bytes: explicit UTF-8 decoding
    except UnicodeDecodeError:
        bad = next(i for i, t in enumerate(tokens) if not _is_utf8(t))
        raise VocabularyError(
            f"{name} token at index {bad} ({tokens[bad]!r}) is not valid UTF-8; decode the "
            "bytes vocabulary yourself with the right encoding and pass str tokens."
        ) from None


def _is_utf8(token: bytes) -> bool:
    try:
        token.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --------------------------------------------------------------------------- checks


def check_vocabulary(tokens: Sequence[str], *, name: str = "vocabulary") -> None:
    """Raise VocabularyError if `tokens` is empty or holds a token more than once."""
    if len(tokens) == 0:
        raise VocabularyError(
            f"{name} is empty; pass the vocabulary the embedding was trained with (a "
            "TextVectorization vocabulary holds at least the mask '' and OOV '[UNK]' tokens)."
        )
    packed = _pack(tokens)
    if packed is not None and _unique(packed.fingerprint):
        return
    _raise_if_duplicates(_object_index(tokens), name)


def _raise_if_duplicates(index: pd.Index, name: str) -> None:
    if index.is_unique:
        return
    dup_mask = index.duplicated(keep=False)
    positions = np.flatnonzero(dup_mask)
    groups = pd.Series(positions, index=index[positions]).groupby(level=0, sort=False)
    shown = [f"{tok!r} at {list(map(int, pos))}" for tok, pos in list(groups)[:_SHOW]]
    more = groups.ngroups - len(shown)
    extra = f" and {more} more" if more > 0 else ""
    raise VocabularyError(
        f"{name} has {groups.ngroups} duplicated token(s): {', '.join(shown)}{extra}; each "
        "token must map to one row, so remove the duplicates (e.g. "
        "list(dict.fromkeys(tokens)) keeps first occurrences) or, for distinct OOV tokens, "
        "give them distinct names such as '[UNK1]'."
    )


# --------------------------------------------------------------------------- matching


def match_tokens(base: Sequence[str], new: Sequence[str]) -> np.ndarray:
    """For each token of `new`, its index in `base`, or -1 if `base` lacks it.

    Both are lists of str (see `load_vocabulary`); duplicates raise VocabularyError.
    The result (dtype intp) is exact: fingerprint matches are verified byte for byte.
    """
    for tokens, name in ((base, "base vocabulary"), (new, "new vocabulary")):
        if len(tokens) == 0:
            check_vocabulary(tokens, name=name)
    pb, pn = _pack(base), _pack(new)
    if pb is not None and pn is not None:
        index = pd.Index(pb.fingerprint)
        if index.is_unique:
            new_to_base = index.get_indexer(pn.fingerprint).astype(np.intp, copy=False)
            hit = np.flatnonzero(new_to_base >= 0)
            same = _same_tokens(pn, hit, pb, new_to_base[hit])
            # A fingerprint collision cannot hide a true match (base fingerprints are
            # unique), so a match that fails verification simply means "absent".
            new_to_base[hit[~same]] = -1
            if _matches_unique(new_to_base, pn.fingerprint, len(base)):
                return new_to_base
    return _match_exact(base, new)


def _matches_unique(new_to_base: np.ndarray, fingerprint: np.ndarray, base_size: int) -> bool:
    """Whether the new vocabulary is free of duplicates (False may also mean a collision).

    Equal tokens get equal results, so duplicates are either found tokens sharing a base
    index or absent tokens sharing a fingerprint; checking the two groups separately is
    cheaper than sorting every fingerprint.
    """
    found = new_to_base >= 0
    taken = new_to_base[found]
    seen = np.zeros(base_size, dtype=bool)
    seen[taken] = True
    return int(np.count_nonzero(seen)) == taken.size and _unique(fingerprint[~found])


def _match_exact(base: Sequence[str], new: Sequence[str]) -> np.ndarray:
    """Reference matcher on object arrays; used when tokens contain '\\n' or collide."""
    base_index = _object_index(base)
    new_index = _object_index(new)
    _raise_if_duplicates(base_index, "base vocabulary")
    _raise_if_duplicates(new_index, "new vocabulary")
    return base_index.get_indexer(new_index).astype(np.intp, copy=False)


def _object_index(tokens: Sequence[str]) -> pd.Index:
    array = np.empty(len(tokens), dtype=object)
    array[:] = tokens
    return pd.Index(array, dtype=object, copy=False)


_PAD = 16  # zero bytes after the last token, so every head word can be read


@dataclass(frozen=True)
class _Packed:
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
        return _fingerprint(self)


_MASKS = np.array([(1 << (8 * i)) - 1 for i in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)


def _pack(tokens: Sequence[str]) -> _Packed | None:
    """Pack str tokens into one buffer; None when a token holds '\\n' (the separator)."""
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
    return _Packed(buffer, starts, lengths)


def _word(packed: _Packed, starts: np.ndarray, remaining: np.ndarray) -> np.ndarray:
    """The next <= 8 bytes of each token, bytes past its end zeroed (all if remaining <= 0)."""
    word = packed.words[starts]
    word &= _MASKS[np.clip(remaining, 0, 8)]
    return word


def _mix(h: np.ndarray, word: np.ndarray) -> None:
    h ^= word
    h *= _M1
    h ^= h >> np.uint64(31)


def _fingerprint(packed: _Packed) -> np.ndarray:
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


def _unique(values: np.ndarray) -> bool:
    ordered = np.sort(values)
    return not bool(np.any(ordered[1:] == ordered[:-1]))


def _same_tokens(a: _Packed, ia: np.ndarray, b: _Packed, ib: np.ndarray) -> np.ndarray:
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


# --------------------------------------------------------------------------- diff


@dataclass(frozen=True, eq=False)
class VocabDiff:
    """How `new` differs from `base`, position by position.

    `new_to_base[j]` is the base index of new token j (-1 if it is new); `removed` are
    the base indices of tokens `new` dropped. The rest is derived from those two arrays.
    """

    base: list[str]
    new: list[str]
    new_to_base: np.ndarray
    removed: np.ndarray

    @cached_property
    def shared_new(self) -> np.ndarray:
        """New indices (ascending) of tokens present in both vocabularies."""
        return np.flatnonzero(self.new_to_base >= 0)

    @cached_property
    def shared_base(self) -> np.ndarray:
        """Base index of each token in `shared_new`."""
        return self.new_to_base[self.shared_new]

    @cached_property
    def added(self) -> np.ndarray:
        """New indices of tokens the base vocabulary lacks."""
        return np.flatnonzero(self.new_to_base < 0)

    @cached_property
    def _moved_mask(self) -> np.ndarray:
        return self.shared_new != self.shared_base

    @property
    def kept(self) -> np.ndarray:
        """Indices of tokens kept at the same index in both vocabularies."""
        return self.shared_new[~self._moved_mask]

    @property
    def moved_new(self) -> np.ndarray:
        """New indices of shared tokens whose index changed."""
        return self.shared_new[self._moved_mask]

    @property
    def moved_base(self) -> np.ndarray:
        """Base indices of shared tokens whose index changed."""
        return self.shared_base[self._moved_mask]

    @property
    def n_shared(self) -> int:
        return int(self.shared_new.size)

    @property
    def n_kept(self) -> int:
        return self.n_shared - self.n_moved

    @property
    def n_moved(self) -> int:
        return int(np.count_nonzero(self._moved_mask))

    @property
    def n_added(self) -> int:
        return int(self.added.size)

    @property
    def n_removed(self) -> int:
        return int(self.removed.size)

    @property
    def overlap(self) -> float:
        """Share of the new vocabulary found in the base (how much gets warm-started)."""
        return self.n_shared / len(self.new)

    @property
    def retained(self) -> float:
        """Share of the base vocabulary that survives into the new one."""
        return self.n_shared / len(self.base)

    def to_dict(self) -> dict[str, int | float]:
        """JSON-serialisable counts and ratios (e.g. for mlflow.log_metrics/log_dict)."""
        shared = self.n_shared
        return {
            "base_size": len(self.base),
            "new_size": len(self.new),
            "shared": shared,
            "kept": self.n_kept,
            "moved": self.n_moved,
            "added": self.n_added,
            "removed": self.n_removed,
            "overlap_of_new": self.overlap,
            "retained_of_base": self.retained,
            "added_share_of_new": self.n_added / len(self.new),
            "removed_share_of_base": self.n_removed / len(self.base),
            "moved_share_of_shared": self.n_moved / shared if shared else 0.0,
        }

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """Token-level tables "kept", "moved", "added", "removed" (e.g. for mlflow.log_table)."""
        new = _object_index(self.new)
        base = _object_index(self.base)
        kept, moved_new, moved_base = self.kept, self.moved_new, self.moved_base
        return {
            "kept": pd.DataFrame({"token": new[kept].to_numpy(), "index": kept}),
            "moved": pd.DataFrame(
                {
                    "token": new[moved_new].to_numpy(),
                    "base_index": moved_base,
                    "new_index": moved_new,
                }
            ),
            "added": pd.DataFrame({"token": new[self.added].to_numpy(), "new_index": self.added}),
            "removed": pd.DataFrame(
                {"token": base[self.removed].to_numpy(), "base_index": self.removed}
            ),
        }


def diff_vocabularies(base: VocabularyLike | Any, new: VocabularyLike | Any) -> VocabDiff:
    """Compare two vocabularies (any form `load_vocabulary` accepts) token by token."""
    return diff_tokens(
        as_vocabulary(base, name="base vocabulary"), as_vocabulary(new, name="new vocabulary")
    )


def diff_tokens(base_tokens: list[str], new_tokens: list[str]) -> VocabDiff:
    """`diff_vocabularies` for two lists already converted by `as_vocabulary`."""
    new_to_base = match_tokens(base_tokens, new_tokens)
    found = np.zeros(len(base_tokens), dtype=bool)
    found[new_to_base[new_to_base >= 0]] = True
    return VocabDiff(base_tokens, new_tokens, new_to_base, np.flatnonzero(~found))
