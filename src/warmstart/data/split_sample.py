"""A bounded sample of a streamed split: the `limit` rows with the smallest draws.

A row's draw is its hash (`data.holdout`), so the sample is the same on every read, worker and
rerun, and as random as the split itself. While the table streams only each candidate's draw
and place (cached file, row) is kept, never its text: a pass over millions of rows moves no
text into the sample, and the rows are read back from the split cache once, at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from warmstart.data.split_cache import CachedPart, SplitCache


@dataclass
class SplitSample:
    """Where the `limit` rows with the smallest draws seen so far are, in the order they came."""

    limit: int
    parts: list[CachedPart] = field(default_factory=list)
    draws: np.ndarray = field(default_factory=lambda: np.zeros(0))
    places: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))

    def add(self, cached: CachedPart, draws: np.ndarray) -> None:
        """Offer the rows of `cached` (their draws in file order)."""
        rows = np.arange(len(draws))
        if len(self.draws) >= self.limit:  # only rows that can displace one are looked at
            below = draws < self.draws.max()
            rows, draws = rows[below], draws[below]
        if not len(rows):
            return
        self.parts.append(cached)
        part = np.full(len(rows), len(self.parts) - 1)
        draws = np.concatenate([self.draws, draws])
        places = np.concatenate([self.places, np.column_stack([part, rows])])
        if len(draws) > self.limit:
            keep = np.sort(np.argpartition(draws, self.limit - 1)[: self.limit])
            draws, places = draws[keep], places[keep]
        self.draws, self.places = draws, places

    def frame(self) -> pd.DataFrame:
        """The sampled rows (`text`, `label`), read back from the split cache in table order."""
        pieces = []
        for part in np.unique(self.places[:, 0]):
            rows = self.places[self.places[:, 0] == part, 1]
            pieces.append(SplitCache.read(self.parts[part]).take(pa.array(rows)))
        if not pieces:
            return pd.DataFrame({"text": [], "label": []})
        return pa.concat_tables(pieces).to_pandas()
