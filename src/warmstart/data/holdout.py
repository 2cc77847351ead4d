"""Held-out rows for sources without a test set of their own: a stratified, seeded draw
(the whole table in memory), or a seeded hash of each row's key (no shuffle, no whole table)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from hashlib import blake2b

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


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


def split_draws(
    keys: Iterable[str] | pa.Array | pa.ChunkedArray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each key's (test, validation) draws in [0, 1): the two halves of its blake2b hash keyed
    by `seed`, so a row's draws depend on its key alone (not on the rows around it, their
    order or the machine), and one hash a row decides both of its splits. Arrow string keys
    are hashed from their buffer, never made Python strings."""
    salt = f"warmstart:split:{seed}".encode()
    encoded = (
        _utf8_views(keys)
        if isinstance(keys, pa.Array | pa.ChunkedArray)
        else (key.encode("utf-8") for key in keys)
    )
    raw = b"".join(blake2b(key, digest_size=16, key=salt).digest() for key in encoded)
    halves = np.frombuffer(raw, dtype=">u8").reshape(-1, 2).astype(np.uint64)
    draws = (halves >> np.uint64(11)).astype(np.float64) / float(2**53)
    return draws[:, 0], draws[:, 1]


def _utf8_views(keys: pa.Array | pa.ChunkedArray) -> Iterator[memoryview]:
    """Each string of `keys` as a view of its UTF-8 bytes in the array's own buffer."""
    array = pc.cast(keys, pa.large_string())
    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    if not len(array):
        return
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset :]
    data = memoryview(array.buffers()[2] or b"")
    for start, end in zip(
        offsets[: len(array)].tolist(), offsets[1 : len(array) + 1].tolist(), strict=True
    ):
        yield data[start:end]


def row_draws(keys: Iterable[str], seed: int, part: str) -> np.ndarray:
    """Each key's draw for `part` (`test`, or `validation`: `split_draws`' halves)."""
    test, validation = split_draws(keys, seed)
    return validation if part == "validation" else test


def hashed_holdout(
    frame: pd.DataFrame, keys: Sequence[str], fraction: float, seed: int, part: str
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """(rest, held out, the rest's positions in `frame`): the rows whose key draws below
    `fraction`, order kept. No shuffle of the table: each row is decided alone, so every
    worker and every rerun agrees, and rows with the same key (a duplicate text, when the
    text is the key) land on the same side."""
    held = row_draws(keys, seed, part) < fraction
    rest = np.flatnonzero(~held)
    return (
        frame.iloc[rest].reset_index(drop=True),
        frame[held].reset_index(drop=True),
        rest,
    )
