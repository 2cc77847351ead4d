"""One shard's columns read: Parquet through pyarrow datasets (projection and the window
pushed down), csv/tsv/jsonl through pandas; local or in S3 (`object_store`). A shard that is
no table of its format, or lacks a column, is one `DataError` naming that shard.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from warmstart.core.errors import DataError
from warmstart.data.object_store import (
    S3Location,
    is_store_error,
    open_object,
    s3_error,
    s3_filesystem,
)
from warmstart.data.pushdown import window_filter
from warmstart.data.table import Columns, Window, check_columns

Shard = Path | S3Location
OPEN = Window()  # no time window: every row
# What pandas and Arrow raise on a file that is no table of its format.
READ_ERRORS = (ValueError, UnicodeDecodeError, OSError, json.JSONDecodeError, pa.ArrowException)


def read_shard(
    shard: Shard,
    fmt: str,
    columns: Columns,
    window: Window,
    id_column: str | None,
    *,
    push: bool = True,
) -> pd.DataFrame:
    """The shard's configured columns; for Parquet (`push`) only its rows in the window."""
    wanted = [columns.text, columns.label, *filter(None, (columns.time, id_column))]

    def check(found: Sequence[Any]) -> None:
        check_columns(found, shard, columns)
        if id_column is not None:
            has_column(found, shard, id_column, "id_column", " (or null: the text decides)")

    return read_columns(shard, fmt, wanted, check, columns.time, window if push else OPEN)


def read_columns(
    shard: Shard,
    fmt: str,
    wanted: Sequence[str],
    check: Callable[[Sequence[Any]], None],
    time: str | None = None,
    window: Window = OPEN,
) -> pd.DataFrame:
    """The `wanted` columns of a shard whose columns `check` accepts; of a Parquet shard only
    the rows in `window` on column `time`, where the filter can be pushed down."""
    wanted = list(dict.fromkeys(wanted))
    try:
        if fmt == "parquet":
            if isinstance(shard, S3Location):
                dataset = ds.dataset(shard.arrow_path, format="parquet", filesystem=s3_filesystem())
            else:
                dataset = ds.dataset(shard, format="parquet")
            check(dataset.schema.names)
            time_type = dataset.schema.field(time).type if time else None
            expr = window_filter(time, time_type, window)
            return dataset.to_table(columns=wanted, filter=expr).to_pandas().reset_index(drop=True)
        if fmt in ("csv", "tsv"):
            options = {"sep": "," if fmt == "csv" else "\t", "dtype": object, "encoding": "utf-8"}
            with _opened(shard) as source:
                check(pd.read_csv(source, nrows=0, **options).columns)
            with _opened(shard) as source:
                return pd.read_csv(source, usecols=wanted, keep_default_na=False, na_values=[""],
                                   **options)  # fmt: skip
        with _opened(shard) as source:
            frame = pd.read_json(source, lines=True, dtype=False)
        check(frame.columns)
        return frame[wanted]
    except READ_ERRORS as exc:
        if isinstance(shard, S3Location) and is_store_error(exc):
            raise s3_error(exc, shard) from None
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise DataError(
            f"shard {shard} is not a readable {fmt} table ({reason}); replace or remove that "
            f"file, or set data.format to the shards' real format (csv, tsv, parquet, jsonl)"
        ) from None


@contextmanager
def _opened(shard: Shard) -> Iterator[Path | IO[bytes]]:
    """What pandas reads: a local path as it is, an object as a stream (closed after)."""
    if isinstance(shard, S3Location):
        with open_object(shard) as stream:
            yield stream
    else:
        yield shard


def has_column(found: Sequence[Any], path: Shard, column: str, key: str, alt: str = "") -> None:
    names = [str(c) for c in found]
    if column not in names:
        raise DataError(
            f"{path} has no column {column!r}; its columns are {names[:20]}: set data.{key} to "
            f"one of them{alt}"
        )
