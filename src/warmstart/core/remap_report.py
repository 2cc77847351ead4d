"""What a remap did: counts, ratios and the provenance of every new row.

The counts are read from the plan's `VocabDiff`, never copied, so a report cannot drift
from the diff it was made from, and they use its words: `kept` (every shared token; its row
is copied from the base matrix) = `same_row` + `moved`, then `added` and `removed`.
The row provenance ("copied" for a kept token's row, or the initializer that filled the row)
is what lets a reviewer see which embeddings were trained and which were guessed; rows
composed by `subword` also name the base tokens they were composed from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from warmstart.core.arrays import object_array
from warmstart.core.initializers import Sources
from warmstart.core.remap_plan import RemapPlan
from warmstart.core.vocab_diff import VocabDiff

__all__ = ["COPIED", "RemapReport", "RemapResult"]

COPIED = "copied"
"""Provenance label of rows copied from the base matrix."""


@dataclass(frozen=True, eq=False)
class RemapReport:
    """What a remap did: counts, ratios and which initializer filled each new row.

    `row_source[j]` indexes `source_names`; "copied" means copied from the base row.
    `neighbour_rows[i]` (new indices) was composed from base rows `neighbour_base[i]`
    (best first, -1 padding) with weights `neighbour_weights[i]`.
    """

    plan: RemapPlan
    axis: int
    shape: tuple[int, ...]
    dtype: str
    initializer: str
    source_names: tuple[str, ...]
    row_source: np.ndarray
    neighbour_rows: np.ndarray = field(default_factory=lambda: np.empty(0, np.intp))
    neighbour_base: np.ndarray = field(default_factory=lambda: np.empty((0, 0), np.int64))
    neighbour_weights: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))

    @classmethod
    def from_sources(
        cls,
        plan: RemapPlan,
        sources: Sources,
        *,
        axis: int,
        out: np.ndarray,
        initializer: str,
    ) -> RemapReport:
        """The report of `out`, whose rows not listed in `sources` were copied."""
        names = [COPIED, *dict.fromkeys(filled.source for filled in sources)]
        row_source = np.zeros(plan.new_size, dtype=np.uint8)
        for filled in sources:
            row_source[filled.rows] = names.index(filled.source)
        composed = [f for f in sources if f.neighbours is not None and f.weights is not None]
        neighbours = {}
        if composed:
            neighbours = {
                "neighbour_rows": np.concatenate([f.rows for f in composed]),
                "neighbour_base": np.concatenate([f.neighbours for f in composed]),
                "neighbour_weights": np.concatenate([f.weights for f in composed]),
            }
        return cls(
            plan=plan,
            axis=axis,
            shape=tuple(out.shape),
            dtype=str(out.dtype),
            initializer=initializer,
            source_names=tuple(names),
            row_source=row_source,
            **neighbours,
        )

    @property
    def diff(self) -> VocabDiff:
        """The vocabulary diff every count below is read from."""
        return self.plan.diff

    @property
    def kept(self) -> int:
        """Rows copied from the base matrix: one per token in both vocabularies."""
        return self.diff.n_kept

    @property
    def same_row(self) -> int:
        return self.diff.n_same_row

    @property
    def moved(self) -> int:
        return self.diff.n_moved

    @property
    def added(self) -> int:
        return self.diff.n_added

    @property
    def removed(self) -> int:
        return self.diff.n_removed

    @property
    def overlap(self) -> float:
        return self.diff.overlap

    @property
    def retained(self) -> float:
        return self.diff.retained

    @property
    def source_counts(self) -> dict[str, int]:
        """Rows per source label, e.g. {'copied': 9800, 'pretrained': 150, 'uniform': 50}."""
        counts = np.bincount(self.row_source, minlength=len(self.source_names))
        return {name: int(c) for name, c in zip(self.source_names, counts, strict=True)}

    def sources(self) -> pd.Categorical:
        """Per new row, the label of what filled it."""
        return pd.Categorical.from_codes(self.row_source, categories=list(self.source_names))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (no per-row arrays), e.g. for mlflow.log_dict."""
        return {
            "base_size": self.plan.base_size,
            "new_size": self.plan.new_size,
            "axis": self.axis,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "kept": self.kept,
            "same_row": self.same_row,
            "moved": self.moved,
            "added": self.added,
            "removed": self.removed,
            "overlap": self.overlap,
            "retained": self.retained,
            "initializer": self.initializer,
            "sources": self.source_counts,
        }

    def neighbours(self) -> tuple[np.ndarray, np.ndarray]:
        """Per new row, the base tokens it was composed from (best first) and their weights
        (empty lists for rows that were copied or drawn)."""
        tokens = np.empty(self.plan.new_size, dtype=object)
        weights = np.empty(self.plan.new_size, dtype=object)
        tokens[:] = [()] * self.plan.new_size
        weights[:] = [()] * self.plan.new_size
        base = object_array(self.plan.base_vocabulary)
        for row, index, weight in zip(
            self.neighbour_rows, self.neighbour_base, self.neighbour_weights, strict=True
        ):
            used = index >= 0
            tokens[row] = tuple(base[index[used]].tolist())
            weights[row] = tuple(float(w) for w in weight[used])
        return tokens, weights

    def to_frame(self) -> pd.DataFrame:
        """One row per new-vocabulary entry: token, new_index, base_index (-1), source, and
        the base tokens (`neighbours`) and `weights` a subword row was composed from."""
        neighbours, weights = self.neighbours()
        return pd.DataFrame(
            {
                "token": object_array(self.plan.new_vocabulary),
                "new_index": np.arange(self.plan.new_size),
                "base_index": self.plan.new_to_base,
                "source": self.sources(),
                "neighbours": neighbours,
                "weights": weights,
            }
        )


@dataclass(frozen=True, eq=False)
class RemapResult:
    """The remapped array (`matrix`, new vocabulary on the plan's axis) and its report."""

    matrix: np.ndarray
    report: RemapReport
