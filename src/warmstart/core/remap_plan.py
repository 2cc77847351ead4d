"""The remap plan: which base row each new-vocabulary row comes from, computed once.

A plan wraps the `VocabDiff` of the two vocabularies, so the same matching remaps the
embedding rows, the output layer's kernel columns and its bias, and every count it reports
is the diff's own. Planning also refuses an overlap too small to be a genuine warm start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from warmstart.core.errors import RemapError
from warmstart.core.vocab import as_vocabulary
from warmstart.core.vocab_diff import VocabDiff, diff_tokens

__all__ = ["RemapPlan", "plan_remap", "plan_tokens"]


@dataclass(frozen=True, eq=False)
class RemapPlan:
    """Index arrays that move weights from base-vocabulary order to new-vocabulary order.

    `shared_new[k]` (ascending) receives base row `shared_base[k]`; `added` are the new
    indices to initialise; `removed` are base indices no new token uses. All are read from
    `diff`, the vocabulary diff the plan was made from.
    """

    diff: VocabDiff

    @classmethod
    def from_diff(cls, diff: VocabDiff) -> RemapPlan:
        """The plan implied by a vocabulary diff (keeps the token lists for reports)."""
        return cls(diff)

    @property
    def base_size(self) -> int:
        return len(self.diff.base)

    @property
    def new_size(self) -> int:
        return len(self.diff.new)

    @property
    def shared_new(self) -> np.ndarray:
        return self.diff.shared_new

    @property
    def shared_base(self) -> np.ndarray:
        return self.diff.shared_base

    @property
    def added(self) -> np.ndarray:
        return self.diff.added

    @property
    def removed(self) -> np.ndarray:
        return self.diff.removed

    @property
    def new_vocabulary(self) -> list[str]:
        return self.diff.new

    @property
    def base_vocabulary(self) -> list[str]:
        return self.diff.base

    @property
    def n_shared(self) -> int:
        return self.diff.n_shared

    @property
    def n_moved(self) -> int:
        """Shared tokens whose index changed."""
        return self.diff.n_moved

    @property
    def overlap(self) -> float:
        """Shared tokens / new vocabulary size: the share of rows that are warm-started."""
        return self.diff.overlap

    @property
    def new_to_base(self) -> np.ndarray:
        """Base index of every new row, -1 where the token is new."""
        return self.diff.new_to_base


def plan_remap(base_vocabulary: Any, new_vocabulary: Any, *, min_overlap: float = 0.0) -> RemapPlan:
    """Match the two vocabularies once; raise RemapError if the overlap is below `min_overlap`.

    Vocabularies may be lists, arrays (str or all-bytes) or vocabulary file paths.
    """
    base_tokens = as_vocabulary(base_vocabulary, name="base vocabulary")
    new_tokens = as_vocabulary(new_vocabulary, name="new vocabulary")
    return plan_tokens(base_tokens, new_tokens, min_overlap)


def plan_tokens(base_tokens: list[str], new_tokens: list[str], min_overlap: float) -> RemapPlan:
    """`plan_remap` for two lists already converted by `as_vocabulary`."""
    plan = RemapPlan.from_diff(diff_tokens(base_tokens, new_tokens))
    _check_overlap(plan, min_overlap)
    return plan


def _check_overlap(plan: RemapPlan, min_overlap: float) -> None:
    if plan.overlap >= min_overlap:
        return
    hint = ""
    tokens: Sequence[str] = plan.new_vocabulary
    if sum(t.startswith(("b'", 'b"')) for t in tokens[:100]) > 10:
        hint = " The new tokens look like str(bytes) ('b\\'...\\''): decode bytes, not str() them."
    raise RemapError(
        f"only {plan.n_shared} of {plan.new_size} new-vocabulary tokens "
        f"({plan.overlap:.1%}) are in the base vocabulary, below min_overlap={min_overlap}. "
        "Usual causes: one vocabulary is bytes or str(bytes) and the other str (load both "
        "with warmstart.core.vocab.normalize_vocabularies), a different tokenizer/standardisation, "
        "or special tokens ('' mask, '[UNK]') added to only one side so every index is "
        f"offset. Compare the two vocabularies, or lower min_overlap if the change is "
        f"intended.{hint}"
    )
