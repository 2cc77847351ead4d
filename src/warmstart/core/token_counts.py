"""Exact token counts, and the vocabulary Keras' `TextVectorization.adapt` learns from them.

Counting is plain Python (a `Counter` filled batch by batch) so a vocabulary can be learned in
one pass over rows streamed from disk, without holding the texts or a TF dataset of them.
The order is Keras' own (`IndexLookup.finalize_state`: `np.lexsort((tokens, counts))[::-1]`):
most frequent first, equal counts by the token's UTF-8 bytes, greatest first. Python compares
`bytes` the same way, so the result is the adapted vocabulary, id for id.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

MASK_TOKEN = ""
OOV_TOKEN = "[UNK]"
SPECIAL_TOKENS = (MASK_TOKEN, OOV_TOKEN)  # ids 0 and 1; they count towards `max_tokens`
_SPECIAL_BYTES = frozenset(t.encode("utf-8") for t in SPECIAL_TOKENS)


def ranked_tokens(counts: Mapping[bytes, int], limit: int | None = None) -> list[bytes]:
    """The counted tokens in Keras' vocabulary order, at most `limit` of them (None: all).

    Keras drops its own mask and OOV tokens from the counts before ranking; so does this.
    """
    items = ((count, token) for token, count in counts.items() if token not in _SPECIAL_BYTES)
    # nlargest(n) is sorted(..., reverse=True)[:n]; the tokens are unique, so no tie is left.
    ranked = sorted(items, reverse=True) if limit is None else heapq.nlargest(max(limit, 0), items)
    return [token for _, token in ranked]


def vocabulary_from_counts(counts: Mapping[bytes, int], max_tokens: int | None) -> list[str]:
    """The vocabulary `TextVectorization(max_tokens=...).adapt` learns from these counts:
    mask and OOV first, then at most `max_tokens - 2` tokens (None: every token)."""
    limit = None if max_tokens is None else max_tokens - len(SPECIAL_TOKENS)
    return [*SPECIAL_TOKENS, *(t.decode("utf-8") for t in ranked_tokens(counts, limit))]


def tokens_seen(
    counts: Mapping[bytes, int], min_count: int, correction: Mapping[bytes, int] | None = None
) -> int:
    """How many tokens occur at least `min_count` times; `correction` (added per token, may be
    negative) turns one tokenization's counts into another's where a few texts split apart."""
    if not correction:
        return sum(1 for count in counts.values() if count >= min_count)
    tokens = counts.keys() | correction.keys()
    return sum(1 for t in tokens if counts.get(t, 0) + correction.get(t, 0) >= min_count)
