"""The vectorizer's tokens made and counted in Arrow's C++ kernels, not one Python object each.

`text.standardize` and TextVectorization's whitespace split, step for step: ASCII lowercase
(`tf.strings.lower`), `<br />` to a space, ASCII punctuation deleted, a split on ASCII
whitespace; bytes beyond ASCII pass untouched, as in TensorFlow. Counting a shard's tokens
this way holds its token lists in Arrow buffers and hands Python one entry per distinct token
(`text.learn_vocabulary`); a text's token count is the length of its list.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PUNCTUATION = "[" + "".join("\\" + c for c in string.punctuation) + "]"  # RE2, each escaped
_PYTHON_ONLY_RE2 = "[\\x1c-\\x1f]"  # separators Python's str.split splits on, TF not


def as_arrow(texts: Sequence[str] | pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """`texts` as an Arrow string array (as given when it already is one)."""
    if isinstance(texts, pa.Array | pa.ChunkedArray):
        return texts
    return pa.array(list(texts), type=pa.large_string())


def token_lists(texts: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Each text's tokens, as the vectorizer makes them (a list array, one list a text)."""
    lowered = pc.ascii_lower(texts)
    no_html = pc.replace_substring(lowered, "<br />", " ")
    stripped = pc.replace_substring_regex(no_html, PUNCTUATION, "")
    # Arrow keeps an empty token before leading and after trailing whitespace (Python's split
    # does not); trimmed first, only a text without tokens still gives one: `[""]`.
    return pc.ascii_split_whitespace(pc.ascii_trim_whitespace(stripped))


def counted(lists: pa.Array | pa.ChunkedArray) -> dict[bytes, int]:
    """Every distinct token of `lists` (UTF-8 bytes) and how often it occurs."""
    flat = pc.list_flatten(lists)
    if len(flat) == 0:
        return {}
    pairs = pc.value_counts(flat)
    tokens = pairs.field("values").cast(pa.large_binary()).to_pylist()
    found = dict(zip(tokens, pairs.field("counts").to_pylist(), strict=True))
    found.pop(b"", None)  # a text without tokens (no token is empty)
    return found


def lengths(lists: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Tokens per text (`[""]`, a text without tokens, has none)."""
    sizes = np.asarray(pc.list_value_length(lists).to_numpy(zero_copy_only=False), np.int64)
    first = pc.list_element(lists, 0) if len(lists) else pa.array([], pa.large_string())
    empty = np.asarray(pc.equal(first, "").to_numpy(zero_copy_only=False), dtype=bool)
    return np.where(empty & (sizes == 1), 0, sizes)


def python_only(texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Texts whose tokens Python counts otherwise (Unicode lowercase and spaces, `\\x1c-\\x1f`):
    not ASCII, or holding one of those separators."""
    odd = pc.or_(
        pc.invert(pc.string_is_ascii(texts)), pc.match_substring_regex(texts, _PYTHON_ONLY_RE2)
    )
    return np.asarray(odd.to_numpy(zero_copy_only=False), dtype=bool)


def texts_at(texts: pa.Array | pa.ChunkedArray, mask: np.ndarray) -> list[Any]:
    """The Python strings of the texts `mask` selects (few: the odd ones)."""
    if not mask.any():
        return []
    return texts.filter(pa.array(mask)).to_pylist()
