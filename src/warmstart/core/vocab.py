"""Vocabularies as checked `list[str]`: read, convert, normalise, write and validate them.

A vocabulary is a `list[str]` whose position is the token id, exactly what
`TextVectorization.get_vocabulary()` returns (mask token `''` at 0, OOV `'[UNK]'` at 1).
Everything is normalised to `str` up front because a `b'the'` never equals `'the'`:
silently mixing bytes and str is the classic way to get a warm start with zero overlap.
Matching tokens lives in `token_matching`, describing differences in `vocab_diff`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warmstart.core.arrays import object_array
from warmstart.core.errors import VocabularyError
from warmstart.core.packed_tokens import all_unique, fingerprint_tokens

__all__ = [
    "VocabularyLike",
    "as_vocabulary",
    "check_vocabulary",
    "load_vocabulary",
    "normalize_vocabularies",
    "raise_if_duplicates",
    "save_vocabulary",
    "token_index",
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
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VocabularyError(
            f"{name} file {str(path)!r} is not valid UTF-8 at byte {exc.start}; re-export it "
            "as UTF-8 (TextVectorization writes UTF-8)."
        ) from exc
    del raw  # one copy of the file at a time: bytes, then str, then the tokens
    if text == "":
        return []
    # Only the line terminator is removed: an empty first line is the mask token ''.
    text = text.replace("\r\n", "\n")  # the same object when there is none
    tokens = text.split("\n")
    del text
    if tokens[-1] == "" and len(tokens) > 1:  # the file's final line terminator, no token
        tokens.pop()
    return tokens


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
    fingerprints = fingerprint_tokens(tokens)  # block by block: no full-size buffer kept
    if fingerprints is not None and all_unique(fingerprints):
        return
    raise_if_duplicates(token_index(tokens), name)


def token_index(tokens: Sequence[str]) -> pd.Index:
    """`tokens` as an object Index (hash lookups, duplicate detection), sharing the array."""
    return pd.Index(object_array(tokens), dtype=object, copy=False)


def raise_if_duplicates(index: pd.Index, name: str) -> None:
    """Raise VocabularyError naming the first duplicated tokens of `index`, if any."""
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
