"""Train/validation/test splits of a source's reviews, as the tutorial makes them.

The validation split follows the tutorial (`text_dataset_from_directory` with
`validation_split=0.2, seed=123`): files in path order, a seeded shuffle, the last 20% held out.
`data.max_reviews` caps each split by a seeded, class-balanced draw before that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warmstart.config.validation import check_data
from warmstart.core.errors import DataError
from warmstart.data.acl_layout import CLASSES
from warmstart.data.settings import setting
from warmstart.data.sources import read_pool


@dataclass(frozen=True, eq=False)  # DataFrames do not compare or hash as values; use digest()
class Splits:
    """Train/validation/test reviews (columns `text`, `label` with 0=neg, 1=pos)."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    source: str
    name: str

    def digest(self) -> str:
        """sha256 hex of the texts and labels of all three splits, in order.

        Lets runs record exactly which data they saw, independent of where it was read from.
        """
        h = hashlib.sha256()
        for part, df in (("train", self.train), ("val", self.val), ("test", self.test)):
            h.update(f"{part}:{len(df)}\n".encode())
            for text, label in zip(df["text"].tolist(), df["label"].tolist(), strict=True):
                raw = text.encode("utf-8")
                h.update(f"{int(label)}:{len(raw)}:".encode())
                h.update(raw)
        return h.hexdigest()


def load_splits(data_cfg: Mapping[str, Any]) -> Splits:
    """Load the data described by the `data` config group.

    The source's test reviews stay in path order; its train pool is capped (if asked) and split
    into train and validation; every non-empty split must hold both classes.
    """
    check_data(data_cfg)
    name = str(data_cfg["name"])
    validation_split = float(setting(data_cfg, "validation_split", 0.2))
    split_seed = int(setting(data_cfg, "split_seed", 123))  # the tutorial's seed
    max_reviews = setting(data_cfg, "max_reviews")

    pool = read_pool(data_cfg, name)
    train_pool, test = pool.train, pool.test
    if max_reviews is not None:
        train_pool = _limit_balanced(train_pool, int(max_reviews), split_seed)
        test = _limit_balanced(test, int(max_reviews), split_seed)
    train, val = split_train_val(train_pool, validation_split, split_seed)
    for split_name, df in (("train", train), ("validation", val), ("test", test)):
        if len(df):
            _require_both_classes(df, split_name, pool.origin)
    return Splits(train=train, val=val, test=test, source=pool.source, name=name)


def split_train_val(
    df: pd.DataFrame, validation_split: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded shuffle, then the last `validation_split` share is validation (as Keras does)."""
    order = np.random.RandomState(seed).permutation(len(df))
    shuffled = df.iloc[order].reset_index(drop=True)
    n_val = int(validation_split * len(df))
    if n_val == 0:
        return shuffled, shuffled.iloc[:0].reset_index(drop=True)
    train = shuffled.iloc[:-n_val].reset_index(drop=True)
    val = shuffled.iloc[-n_val:].reset_index(drop=True)
    return train, val


def _limit_balanced(df: pd.DataFrame, limit: int, seed: int) -> pd.DataFrame:
    """At most `limit` rows, half per class where possible, chosen by a seeded draw, order kept."""
    if len(df) <= limit:
        return df
    labels = df["label"].to_numpy()
    idx = {lab: np.flatnonzero(labels == lab) for _, lab in CLASSES}
    quota = {1: limit // 2, 0: limit - limit // 2}
    short = {lab: max(0, quota[lab] - len(idx[lab])) for lab in quota}
    quota = {lab: min(len(idx[lab]), quota[lab] + short[1 - lab]) for lab in quota}
    rng = np.random.RandomState(seed)
    keep = np.concatenate([np.sort(rng.permutation(idx[lab])[: quota[lab]]) for lab in (0, 1)])
    return df.iloc[np.sort(keep)].reset_index(drop=True)


def _require_both_classes(df: pd.DataFrame, split: str, origin: Path) -> None:
    present = set(df["label"].unique().tolist())
    for cls, label in CLASSES:
        if label not in present:
            raise DataError(
                f"the {split} split read from {origin} has no {cls} reviews (single class); "
                "use more data (raise data.max_reviews) or fix the dataset"
            )
