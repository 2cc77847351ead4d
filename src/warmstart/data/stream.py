"""A sharded `data=files` table read shard by shard, each row's split decided on its own.

A table of millions of rows in Parquet shards is never held whole: `ShardedTable.read` gives
one shard's `text`, `label` rows and, per row, the split it belongs to (`TRAIN`, `VALIDATION`,
`TEST`), decided by the seeded hash of its key exactly as the in-memory hash split decides it
(`data.holdout.hashed_holdout`: the test draw first, then the validation draw of the rest), so
a streamed run and an in-memory one of the same shards train on the same rows. A shard is read
as `data.shards` reads it (projection, window pushdown, the row checks naming the shard).

`data.stream` says when: `auto` streams a directory or a glob of shards (whatever its size),
`always` refuses a single file, `never` reads the shards into memory as before. Streaming needs
the hash split (no global shuffle) and no `data.max_reviews` (a balanced cap draws over the
whole table): both are refused with the key to change.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from warmstart.config.choices import SplitRule, StreamMode
from warmstart.core.errors import ConfigError, DataError
from warmstart.data.holdout import split_draws
from warmstart.data.paths import source_path, user_path
from warmstart.data.row_values import label_values
from warmstart.data.settings import setting
from warmstart.data.shard_read import read_shard_batches
from warmstart.data.shards import _ids, shard_files, shard_rows, shards_format
from warmstart.data.table import Columns, Window, part_rows

TRAIN, VALIDATION, TEST = 0, 1, 2
PARTS = ("train", "validation", "test")
STREAM_KEY = "stream"


@dataclass(frozen=True)
class ShardSet:
    """The shards one key (`path` or `test_path`) names, in path order, and their format."""

    where: str  # as the user wrote it: a directory, a glob or a prefix
    shards: tuple[Any, ...]
    fmt: str


@dataclass(frozen=True)
class ShardRows:
    """One shard's kept rows (`text`, `label`), the split of each and the draw that put it
    there (uniform in its split's share: a sample's order, no second hash)."""

    rows: pd.DataFrame
    parts: np.ndarray  # uint8: TRAIN, VALIDATION or TEST per row
    draws: np.ndarray  # float64 in [0, 1)
    seen: int  # rows in the time window, kept or not
    dropped: int  # rows left out for an empty text


@dataclass(frozen=True)
class ShardedTable:
    """What to read and how each row's split is decided; holds no rows."""

    name: str
    pool: ShardSet  # data.path: train and validation (and test, unless `held`)
    held: ShardSet | None  # data.test_path: every row a test row
    columns: Columns
    window: Window
    id_column: str | None
    test_fraction: float
    validation_split: float
    seed: int
    sample_rows: int  # rows of each split held in memory for evaluation (`data.sample_rows`)
    cache_dir: Path | None  # where the split rows are kept for the epochs (`data.cache_dir`)

    @property
    def source(self) -> str:
        held = f" + {self.held.where}" if self.held else ""
        return f"{self.pool.where}{held}"

    def shard_sets(self) -> tuple[ShardSet, ...]:
        return (self.pool,) if self.held is None else (self.pool, self.held)

    def shards(self) -> Iterator[tuple[ShardSet, Any]]:
        for shard_set in self.shard_sets():
            for shard in shard_set.shards:
                yield shard_set, shard

    def read(self, shard_set: ShardSet, shard: Any) -> Iterator[ShardRows]:
        """One shard's rows and their splits, `BATCH_ROWS` rows at a time (the same on every
        read, worker and rerun); a bad row is named by its place in the shard."""
        fmt = shard_set.fmt
        for frame in read_shard_batches(shard, fmt, self.columns, self.window, self.id_column):
            try:
                kept, seen, dropped = part_rows(frame, shard, self.columns, self.window, fmt)
            except DataError:
                if fmt == "parquet":  # named as the whole shard holds it, not the filtered
                    shard_rows(shard, fmt, self.columns, self.window, self.id_column)
                raise
            yield self._split(shard_set, shard, kept, seen, dropped)

    def _split(
        self, shard_set: ShardSet, shard: Any, kept: pd.DataFrame, seen: int, dropped: int
    ) -> ShardRows:
        ids = _ids(kept, shard, self.id_column)
        rows = pd.DataFrame(
            {
                "text": kept[self.columns.text].astype(str),
                "label": label_values(kept[self.columns.label]),
            }
        ).reset_index(drop=True)
        keys = pa.array(rows["text"]) if ids is None else ids.tolist()  # texts: not copied
        test, validation = split_draws(keys, self.seed)
        if shard_set is not self.pool:  # data.test_path: all test; a draw orders the sample
            parts = np.full(len(rows), TEST, np.uint8)
            return ShardRows(rows, parts, test, seen, dropped)
        parts = np.full(len(rows), TRAIN, dtype=np.uint8)
        if self.held is None:
            parts[test < self.test_fraction] = TEST
        rest = parts == TRAIN
        parts[rest & (validation < self.validation_split)] = VALIDATION
        draws = np.where(rest, validation, test)
        return ShardRows(rows, parts, draws, seen, dropped)


def sharded_table(cfg: Mapping[str, Any]) -> ShardedTable | None:
    """The streamed table `data` describes, or None when it is read into memory."""
    mode = StreamMode(str(setting(cfg, STREAM_KEY, StreamMode.auto)))
    if str(cfg.get("name")) != "files" or mode == StreamMode.never:
        return None
    pool = _shard_set(cfg, "path")
    if pool is None:
        if mode == StreamMode.always:
            raise ConfigError(
                f"data.stream=always streams shards, but data.path={setting(cfg, 'path')!r} is one "
                "file; set data.path to a directory or a glob of shards, or data.stream=auto"
            )
        return None
    if str(setting(cfg, "split", SplitRule.auto)) == SplitRule.stratified:
        raise ConfigError(
            "a streamed table is split by a hash of each row (data.split=hash); a stratified "
            "split draws over the whole table: set data.split=auto or hash, or data.stream=never"
        )
    if setting(cfg, "max_reviews") is not None:
        raise ConfigError(
            "data.max_reviews draws a balanced cap over the whole table, which a streamed "
            "table never holds; set data.max_reviews=null, or data.stream=never"
        )
    held = _shard_set(cfg, "test_path") if setting(cfg, "test_path") else None
    if setting(cfg, "test_path") and held is None:
        raise ConfigError(
            f"data.test_path={setting(cfg, 'test_path')!r} is one file while data.path is "
            "shards; a streamed table reads both as shards: set data.test_path to a directory "
            "or a glob"
        )
    return ShardedTable(
        name=str(cfg["name"]),
        pool=pool,
        held=held,
        columns=Columns(
            text=str(setting(cfg, "text_column", "text")),
            label=str(setting(cfg, "label_column", "label")),
            time=setting(cfg, "time_column"),
        ),
        window=Window(setting(cfg, "since"), setting(cfg, "until"), setting(cfg, "time_format")),
        id_column=setting(cfg, "id_column"),
        test_fraction=float(setting(cfg, "test_fraction", 0.2)),
        validation_split=float(setting(cfg, "validation_split", 0.2)),
        seed=int(setting(cfg, "split_seed", 123)),
        sample_rows=int(setting(cfg, "sample_rows", 20_000)),
        cache_dir=_cache_dir(cfg),
    )


def _cache_dir(cfg: Mapping[str, Any]) -> Path | None:
    value = setting(cfg, "cache_dir")
    return None if value in (None, "") else user_path(value, "cache_dir")[0]


def _shard_set(cfg: Mapping[str, Any], key: str) -> ShardSet | None:
    value = setting(cfg, key, required=True)
    shards = shard_files(value, key)
    if shards is None:
        return None
    where = source_path(value, key)[0]
    fmt = shards_format(shards, setting(cfg, "format"), where)
    return ShardSet(where=str(where), shards=tuple(shards), fmt=fmt)
