"""How a new vocabulary differs from a base one: kept, added and removed tokens.

One vocabulary everywhere (printed line, metrics, tables, remap report, version description):
`kept` is every token in both vocabularies, each of which keeps its trained row; it splits into
`same_row` (at the same index in both) and `moved` (at another index). `added` tokens are new,
`removed` ones are dropped. `VocabDiff` is the single description of that difference: the
remap plan and report read their counts from it, so a diff logged by the vocab-diff stage and
the remap that follows can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from warmstart.core.arrays import object_array
from warmstart.core.token_matching import match_tokens
from warmstart.core.vocab import VocabularyLike, as_vocabulary

__all__ = ["VocabDiff", "diff_tokens", "diff_vocabularies"]


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
    def same_row(self) -> np.ndarray:
        """Indices of kept tokens at the same index in both vocabularies."""
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
        """Tokens in both vocabularies: the kept ones (`n_kept`)."""
        return int(self.shared_new.size)

    @property
    def n_kept(self) -> int:
        """Tokens that keep their trained row: `n_same_row + n_moved`."""
        return self.n_shared

    @property
    def n_same_row(self) -> int:
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
        kept = self.n_kept
        return {
            "base_size": len(self.base),
            "new_size": len(self.new),
            "kept": kept,
            "same_row": self.n_same_row,
            "moved": self.n_moved,
            "added": self.n_added,
            "removed": self.n_removed,
            "overlap_of_new": self.overlap,
            "retained_of_base": self.retained,
            "added_share_of_new": self.n_added / len(self.new),
            "removed_share_of_base": self.n_removed / len(self.base),
            "moved_share_of_kept": self.n_moved / kept if kept else 0.0,
        }

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """Token-level tables "same_row", "moved" (together the kept tokens), "added" and
        "removed" (e.g. for mlflow.log_table)."""
        new = object_array(self.new)
        base = object_array(self.base)
        same, moved_new, moved_base = self.same_row, self.moved_new, self.moved_base
        return {
            "same_row": pd.DataFrame({"token": new[same], "index": same}),
            "moved": pd.DataFrame(
                {"token": new[moved_new], "base_index": moved_base, "new_index": moved_new}
            ),
            "added": pd.DataFrame({"token": new[self.added], "new_index": self.added}),
            "removed": pd.DataFrame({"token": base[self.removed], "base_index": self.removed}),
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
