"""What every source yields before the shared validation split."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True, eq=False)  # DataFrames do not compare as values
class Pool:
    """Labeled texts of one source before the validation split (columns `text`, `label`)."""

    train: pd.DataFrame
    test: pd.DataFrame
    source: str  # recorded as Splits.source
    origin: Path  # named in errors about the content
    dropped_texts: int = 0  # rows left out because their text was empty or null
    # `hash`: validation rows by a seeded hash of `keys` (aligned with train), no shuffle
    split: str = "stratified"
    keys: pd.Series | None = None
