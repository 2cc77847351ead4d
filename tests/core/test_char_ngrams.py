"""Specification of `char_ngrams`: tokens as character ids, and n-gram ids that are exact."""

from __future__ import annotations

import numpy as np
import pytest

from warmstart.core.char_ngrams import NgramIndex, encode

TOKENS = ["watch", "", "wat\nch", "é北<", "\n"]


def decode(encoded, lookup) -> list[str]:
    """The tokens back from their ids (markers checked, then dropped)."""
    by_id = {int(lookup[c]): chr(c) for c in np.flatnonzero(lookup)}
    out = []
    for s, e in zip(encoded.starts[:-1], encoded.starts[1:], strict=True):
        ids = encoded.chars[s:e]
        assert ids[0] == 1 and ids[-1] == 2  # "<" and ">" markers, not the characters
        out.append("".join(by_id[int(i)] for i in ids[1:-1]))
    return out


@pytest.mark.parametrize(
    "tokens",
    [TOKENS, ["watch", "watching"], [""], ["", ""], [], ["a\n", "\nb"]],
    ids=["mixed", "plain", "empty token", "two empty", "none", "newlines at ends"],
)
def test_encoding_keeps_every_token_whole_newlines_included(tokens):
    index = NgramIndex(tokens, 1, 3)
    encoded = encode(tokens, index.lookup)
    assert len(encoded.starts) == len(tokens) + 1 and encoded.chars.size == encoded.starts[-1]
    assert decode(encoded, index.lookup) == tokens


def test_characters_the_index_lacks_get_id_zero():
    index = NgramIndex(["abc"], 1, 3)
    encoded = encode(["axc"], index.lookup)
    assert encoded.chars.tolist()[1:4] == [index.lookup[ord("a")], 0, index.lookup[ord("c")]]


def test_equal_ngrams_get_equal_ids_and_others_differ():
    tokens = ["watch", "swatch", "watcher", "hctaw"]
    index = NgramIndex(tokens, 2, 4)
    seen: dict[tuple[int, str], int] = {}
    for level, n in enumerate(range(2, 5)):
        bounds = zip(index.tokens.starts[:-1], index.tokens.starts[1:], strict=True)
        for t, (s, e) in enumerate(bounds):
            padded = f"<{tokens[t]}>"
            for p in range(e - s):
                gram_id = int(index.own[level, s + p])
                if p + n > len(padded):
                    assert gram_id == 0
                    continue
                assert seen.setdefault((n, padded[p : p + n]), gram_id) == gram_id
    for n in range(2, 5):
        ids = [i for (m, _), i in seen.items() if m == n]
        assert sorted(ids) == list(range(1, index.sizes[n] + 1))  # distinct and dense
