"""Reading `data=files` from one table file or from shards: a directory or a glob of files.

Spark, Ray and pandas write a large table as many files of one format. `data.path` (and
`data.test_path`) may name one file (read by `table.read_table`, as ever), a directory (every
file under it; names starting with `.` or `_`, such as Spark's `_SUCCESS` and `.crc` files,
and empty files are skipped) or a glob (`exports/part-*.parquet`). A set of shards has one
format, by suffix or `data.format`: a mix is refused rather than guessed.

Parquet shards are read through pyarrow datasets: only the text, label, time and id columns,
and the time window pushed down as a filter when the column holds numbers or timestamps and
the bounds read as such (no `data.time_format`). Row groups outside the window are skipped
by their statistics, and no row outside it reaches pandas or the row checks. Other windows,
and csv/tsv/jsonl shards (read one by one with pandas, only those columns), are cut after
reading, as one file is. Every shard's rows go through `table.part_rows`, so a bad row is
named by its shard and line; a shard without a column, or one that is no table of its
format, is one `DataError` naming that shard.

Any of the three may be in an S3 bucket instead (`s3://bucket/prefix/`, a glob over the
bucket's keys, one object; `object_store` says how the endpoint and credentials are found): a
shard is then an `S3Location`, read the same way through pyarrow's S3 filesystem, its rows
named by 1-based row rather than by file line.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from warmstart.core.errors import DataError
from warmstart.data.object_store import (
    S3Location,
    is_s3,
    s3_tables,
)
from warmstart.data.paths import source_path, user_path
from warmstart.data.settings import setting
from warmstart.data.shard_read import Shard, has_column, read_columns, read_shard
from warmstart.data.table import (
    FORMATS,
    Columns,
    Window,
    part_rows,
    read_table,
    source_rows,
    table_format,
)

GLOB = re.compile(r"[*?\[]")
# One file or shard: a local path, or an object in a bucket (`str()` is its path or URI).


@dataclass(frozen=True, eq=False)  # DataFrames do not compare as values
class TableRows:
    """A source's `text`, `label` rows, with what the split needs to know about them."""

    rows: pd.DataFrame
    ids: pd.Series | None  # `data.id_column`'s values as text, aligned with rows (None: unset)
    dropped: int  # rows left out for an empty text
    where: Shard  # data.path as given: the file, the directory, the glob or the s3:// URI
    sharded: bool  # a directory or a glob, however many files it holds


def table_rows(cfg: Mapping[str, Any], key: str) -> TableRows:
    """The rows of `data.<key>` (`path` or `test_path`): one file, or every shard in turn."""
    value = setting(cfg, key, required=True)
    where, _ = source_path(value, key)
    columns = Columns(
        text=str(setting(cfg, "text_column", "text")),
        label=str(setting(cfg, "label_column", "label")),
        time=setting(cfg, "time_column"),
    )
    window = Window(setting(cfg, "since"), setting(cfg, "until"), setting(cfg, "time_format"))
    id_column = setting(cfg, "id_column")
    forced = setting(cfg, "format")
    shards = shard_files(value, key)
    if shards is None and isinstance(where, S3Location):  # one object: read as a shard is
        kept, seen, dropped = shard_rows(
            where, table_format(where, forced), columns, window, id_column
        )
        ids = [_ids(kept, where, id_column)]
        parts = [kept]
    elif shards is None:
        frame = read_table(where, forced)
        fmt = table_format(where, forced)
        kept, seen, dropped = part_rows(frame, where, columns, window, fmt)
        ids = [_ids(kept, where, id_column)]
        parts = [kept]
    else:
        fmt = shards_format(shards, forced, where)
        parts, ids, seen, dropped = [], [], 0, 0
        for shard in shards:
            kept, in_window, empty = shard_rows(shard, fmt, columns, window, id_column)
            parts.append(kept)
            ids.append(_ids(kept, shard, id_column))
            seen, dropped = seen + in_window, dropped + empty
    rows = source_rows(parts, where, columns, window, seen)
    keys = None if id_column is None else pd.concat(ids, ignore_index=True)
    return TableRows(rows, keys, dropped, where, shards is not None)


def shard_rows(
    shard: Shard,
    fmt: str,
    columns: Columns,
    window: Window,
    id_column: str | None,
    *,
    frame: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, int, int]:
    """`part_rows` of one shard (`frame`: as `read_shard` read it, when the caller has);
    a bad row in a filtered read is named as the shard holds it."""
    if frame is None:
        frame = read_shard(shard, fmt, columns, window, id_column)
    try:
        return part_rows(frame, shard, columns, window, fmt)
    except DataError:
        if fmt != "parquet":
            raise
        whole = read_shard(shard, fmt, columns, window, id_column, push=False)
        part_rows(whole, shard, columns, window, fmt)  # raises, naming the row in the shard
        raise


def shard_files(value: Any, key: str) -> list[Shard] | None:
    """The shards `data.<key>` names, sorted by path: a glob's files, or every file under a
    directory (or an S3 prefix); None when it names one file or object (or nothing:
    `read_table` says so)."""
    if is_s3(value):
        return s3_tables(value, key, lambda relative, size: _hidden(relative) or size == 0)
    path, note = user_path(value, key)
    if GLOB.search(str(value)):
        found = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
        files = [p for p in found if p.is_file() and not _skipped(p, p.name)]
        if not files:
            raise DataError(
                f"data.{key}={value!r} matches no table file{note}; fix the pattern, or set "
                f"data.{key} to a directory of shards or to one file"
            )
        return files
    if not path.is_dir():
        return None
    under = sorted(p for p in path.rglob("*") if p.is_file())
    files = [p for p in under if not _skipped(p, p.relative_to(path).as_posix())]
    if not files:
        raise DataError(
            f"directory {path} holds no table files{note}; set data.{key} to a directory of "
            "csv, tsv, parquet or jsonl shards, a glob of them, or one file"
        )
    return files


def _skipped(path: Path, relative: str) -> bool:
    """Engines' markers and checksums (`_SUCCESS`, `.part-0.crc`) and empty files."""
    return _hidden(relative) or path.stat().st_size == 0


def _hidden(relative: str) -> bool:
    """A name (or a folder on its way) starting with `.` or `_`: an engine's, not a shard."""
    return any(part.startswith((".", "_")) for part in relative.split("/"))


def shards_format(shards: Sequence[Shard], forced: str | None, where: Shard) -> str:
    """`data.format`, else the one format the shards' suffixes name."""
    if forced:
        return str(forced)
    by_format: dict[str, list[Shard]] = {}
    for shard in shards:
        by_format.setdefault(FORMATS.get(shard.suffix.lower(), ""), []).append(shard)
    if "" in by_format:
        return table_format(by_format[""][0], None)  # its one line names the file and the fix
    if len(by_format) > 1:
        mix = ", ".join(f"{fmt} ({files[0].name})" for fmt, files in sorted(by_format.items()))
        raise DataError(
            f"{where} mixes table formats: {mix}; a source has one format: set data.path to a "
            f"glob of one of them (e.g. {str(where).rstrip('/')}/*.parquet) or move the others out"
        )
    return next(iter(by_format))


def time_parts(
    value: Any, forced: str | None, column: str
) -> list[tuple[Shard, str | None, pd.Series]]:
    """`data.path`'s time column, per file or shard: (where, its format, the raw values), for
    the time windows of continual updates (`data.windows`)."""
    shards = shard_files(value, "path")
    where, _ = source_path(value, "path")
    if shards is None and isinstance(where, S3Location):
        shards = [where]  # one object: its time column, as a shard's is read
    if shards is None:
        path, _ = user_path(value, "path")
        frame = read_table(path, forced)
        has_column(frame.columns, path, column, "time_column")
        return [(path, forced, frame[column])]
    fmt = shards_format(shards, forced, where)
    parts: list[tuple[Shard, str | None, pd.Series]] = []
    for shard in shards:
        check = partial(has_column, path=shard, column=column, key="time_column")
        parts.append((shard, fmt, read_columns(shard, fmt, [column], check)[column]))
    return parts


def _ids(kept: pd.DataFrame, path: Shard, id_column: str | None) -> pd.Series | None:
    """`data.id_column`'s values as text (2 and "2" alike across formats); every row has one."""
    if id_column is None:
        return None
    if id_column not in kept.columns:
        raise DataError(
            f"{path} has no column {id_column!r}; its columns are {list(kept.columns)[:20]}: "
            "set data.id_column to one of them (or null: the text decides the split)"
        )
    ids = kept[id_column]
    if ids.isna().any():
        raise DataError(
            f"{path} has {int(ids.isna().sum())} row(s) without an id in column {id_column!r}; "
            "fill them in, or set data.id_column=null (the text decides the split)"
        )
    return ids.map(_id_text)


def _id_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
