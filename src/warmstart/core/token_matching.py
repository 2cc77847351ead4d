"""Exact token matching: where each token of a new vocabulary sits in the base one.

This is the cost that dominates a warm start of a large vocabulary, so the usual path is
vectorised: fingerprints of the packed tokens are matched through a hash index and every
match is then verified byte for byte, so the result is exact, never probabilistic. Tokens
that cannot be packed, or a fingerprint collision, fall back to matching the str objects.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from warmstart.core.packed_tokens import BLOCK, PackedTokens, all_unique, pack_tokens, same_tokens
from warmstart.core.vocab import check_vocabulary, raise_if_duplicates, token_index

__all__ = ["match_tokens"]


def match_tokens(base: Sequence[str], new: Sequence[str]) -> np.ndarray:
    """For each token of `new`, its index in `base`, or -1 if `base` lacks it.

    Both are lists of str (see `load_vocabulary`); duplicates raise VocabularyError.
    The result (dtype intp) is exact: fingerprint matches are verified byte for byte.
    """
    for tokens, name in ((base, "base vocabulary"), (new, "new vocabulary")):
        if len(tokens) == 0:
            check_vocabulary(tokens, name=name)
    packed_base = pack_tokens(base)
    if packed_base is not None:
        index = pd.Index(packed_base.fingerprint, copy=False)
        if index.is_unique:
            new_to_base = _match_packed(index, packed_base, new)
            if new_to_base is not None:
                return new_to_base
    return _match_exact(base, new)


def _match_packed(index: pd.Index, base: PackedTokens, new: Sequence[str]) -> np.ndarray | None:
    """Match `new` a block at a time against the unique fingerprints of `base`; None when
    `new` cannot be packed or may hold duplicates (or a fingerprint collision).

    Packing, fingerprinting and verifying one block of new tokens at a time keeps the
    temporaries small: only the result and the fingerprints of absent tokens are full size.
    """
    new_to_base = np.empty(len(new), dtype=np.intp)
    absent: list[np.ndarray] = []
    for first in range(0, len(new), BLOCK):
        block = pack_tokens(new, first, first + BLOCK)
        if block is None:
            return None
        found = index.get_indexer(block.fingerprint).astype(np.intp, copy=False)
        hit = np.flatnonzero(found >= 0)
        # A fingerprint collision cannot hide a true match (base fingerprints are unique),
        # so a match that fails verification simply means "absent".
        found[hit[~same_tokens(block, hit, base, found[hit])]] = -1
        new_to_base[first : first + found.size] = found
        absent.append(block.fingerprint[found < 0])
    return (
        new_to_base
        if _matches_unique(new_to_base, np.concatenate(absent), len(base.lengths))
        else None
    )


def _matches_unique(new_to_base: np.ndarray, absent: np.ndarray, base_size: int) -> bool:
    """Whether the new vocabulary is free of duplicates (False may also mean a collision).

    Equal tokens get equal results, so duplicates are either found tokens sharing a base
    index or absent tokens sharing a fingerprint; checking the two groups separately is
    cheaper than sorting every fingerprint.
    """
    found = new_to_base >= 0
    taken = new_to_base[found]
    seen = np.zeros(base_size, dtype=bool)
    seen[taken] = True
    return int(np.count_nonzero(seen)) == taken.size and all_unique(absent)


def _match_exact(base: Sequence[str], new: Sequence[str]) -> np.ndarray:
    """Reference matcher on object arrays; used when tokens contain '\\n' or collide."""
    base_index = token_index(base)
    new_index = token_index(new)
    raise_if_duplicates(base_index, "base vocabulary")
    raise_if_duplicates(new_index, "new vocabulary")
    return base_index.get_indexer(new_index).astype(np.intp, copy=False)
