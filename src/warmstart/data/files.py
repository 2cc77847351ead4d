"""The `files` source: a user's table (csv, tsv, parquet, jsonl) with a text and a label column.

`data.path` is read with `data.text_column`/`data.label_column`, optionally restricted to
`data.since <= data.time_column < data.until`; the test split is `data.test_path` (read the
same way) or a stratified, seeded `data.test_fraction` of the rows. The base stage reads
`base.data.path` (or the same file) through the same keys, so one file with a time column
gives the "before" and "after" of a drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from warmstart.data.holdout import stratified_holdout
from warmstart.data.paths import user_path
from warmstart.data.pool import Pool
from warmstart.data.settings import setting
from warmstart.data.table import Columns, Window, labeled_rows, read_table, table_format


def _rows(cfg: Mapping[str, Any], key: str) -> tuple[pd.DataFrame, int, Path]:
    path, _ = user_path(setting(cfg, key, required=True), key)
    columns = Columns(
        text=str(setting(cfg, "text_column", "text")),
        label=str(setting(cfg, "label_column", "label")),
        time=setting(cfg, "time_column"),
    )
    window = Window(setting(cfg, "since"), setting(cfg, "until"), setting(cfg, "time_format"))
    frame = read_table(path, setting(cfg, "format"))
    fmt = table_format(path, setting(cfg, "format"))
    rows, dropped = labeled_rows(frame, path, columns, window, fmt)
    return rows, dropped, path


def files_pool(cfg: Mapping[str, Any]) -> Pool:
    """The table's rows as a train pool and a test split (the held-out file or fraction)."""
    rows, dropped, path = _rows(cfg, "path")
    source = str(path.resolve())
    if setting(cfg, "test_path"):
        test, dropped_test, test_path = _rows(cfg, "test_path")
        dropped += dropped_test
        source = f"{source} + {test_path.resolve()}"
        train = rows
    else:
        fraction = float(setting(cfg, "test_fraction", 0.2))
        train, test = stratified_holdout(rows, fraction, int(setting(cfg, "split_seed", 123)))
    return Pool(train=train, test=test, source=source, origin=path, dropped_texts=dropped)
