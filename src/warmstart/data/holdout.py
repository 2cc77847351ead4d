"""A stratified, seeded test split for sources without a test set of their own."""

from __future__ import annotations

import numpy as np
import pandas as pd


def stratified_holdout(
    frame: pd.DataFrame, fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rest, test): `fraction` of each class's rows, drawn with `seed`, file order kept.

    Each class gives round(fraction * its rows) rows, so every class with enough rows is in
    both parts and the class balance of the test split is that of the data.
    """
    if fraction <= 0:
        return frame.reset_index(drop=True), frame.iloc[:0].reset_index(drop=True)
    rng = np.random.RandomState(seed)
    keys = frame["label"].astype(str).to_numpy()
    test_rows: list[np.ndarray] = []
    for cls in sorted(set(keys.tolist())):
        rows = np.flatnonzero(keys == cls)
        n_test = round(fraction * len(rows))
        test_rows.append(rng.permutation(rows)[:n_test])
    in_test = np.zeros(len(frame), dtype=bool)
    in_test[np.concatenate(test_rows)] = True
    return (
        frame[~in_test].reset_index(drop=True),
        frame[in_test].reset_index(drop=True),
    )
