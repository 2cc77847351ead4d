"""Reading a user's table (csv, tsv, parquet, jsonl) into the `text`, `label` rows of a pool.

One reader for every table source: the format by suffix (or `data.format`), the configured
text/label/time columns, rows outside the `since`/`until` window left out, empty texts dropped
and counted. Times are numbers or ISO 8601 (or `data.time_format`), never guessed. Everything
a user can get wrong in a table is a `DataError` naming the file and the fix (a bound that is
no time at all, a `ConfigError`); nothing here ever suggests deleting the user's own file.
A bad row is named where the user finds it in an editor (`row_places`): the file line for
csv/tsv (the header is line 1, a quoted line break counted) and jsonl, a 1-based row for
parquet.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from warmstart.config.choices import TableFormat
from warmstart.config.time_bounds import (
    TIME_FORMAT_FIX,
    check_time_bound,
    parse_times,
    time_number,
    time_stamp,
)
from warmstart.core.errors import DataError
from warmstart.data.row_values import blank, label_values

# 01/03/2024, 1.3.24: a day and a month in an order only data.time_format can tell.
DAY_MONTH = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}")
FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".jsonl": "jsonl", ".json": "jsonl"}


@dataclass(frozen=True)
class Columns:
    """Which columns hold the text, the label and (optionally) the time of a row."""

    text: str = "text"
    label: str = "label"
    time: str | None = None


@dataclass(frozen=True)
class Window:
    """Rows with `since <= time < until` are kept (either bound may be open); times and bounds
    are numbers or ISO 8601 dates, or dates in `time_format` (a strftime format) when set."""

    since: Any = None
    until: Any = None
    time_format: str | None = None

    @property
    def open(self) -> bool:
        return self.since is None and self.until is None


def table_format(path: Path, forced: str | None) -> str:
    """The format named by `data.format`, else by the file's suffix."""
    if forced:
        return str(forced)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataError(
            f"cannot tell the format of {path} from its suffix {path.suffix!r}; rename it to "
            f"{'/'.join('.' + f for f in TableFormat)} or set data.format={'|'.join(TableFormat)}"
        )
    return fmt


def _record_lines(path: Path, fmt: str) -> list[int]:
    """The file line each data row starts on, as pandas reads them: blank lines skipped,
    for csv/tsv the header first and quoted line breaks inside a record."""
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        if fmt == "jsonl":
            return [n for n, line in enumerate(f, start=1) if line.strip()]
        reader = csv.reader(f, delimiter="," if fmt == "csv" else "\t")
        starts, line = [], 1
        for record in reader:
            if any(record):
                starts.append(line)
            line = reader.line_num + 1
        return starts[1:]  # the header is not a data row


def row_places(path: Path, fmt: str | None, rows: Sequence[int]) -> str:
    """Data rows `rows` (0-based, as read) as a user finds them: `lines 3, 7` of a csv, tsv
    or jsonl file, `rows 1, 5` (1-based) of a parquet file or another table."""
    fmt = fmt or FORMATS.get(path.suffix.lower())
    rows = [int(r) for r in rows]
    if fmt in ("csv", "tsv", "jsonl") and path.is_file():
        starts = _record_lines(path, fmt)
        if all(r < len(starts) for r in rows):
            shown = ", ".join(str(starts[r]) for r in rows)
            return f"line{'s' if len(rows) > 1 else ''} {shown}"
    shown = ", ".join(str(r + 1) for r in rows)
    return f"row{'s' if len(rows) > 1 else ''} {shown}"


def read_table(path: Path, forced: str | None = None) -> pd.DataFrame:
    """The whole table; a file that is not a table of that format is a `DataError`."""
    if not path.is_file():
        raise DataError(f"data file {path} does not exist; set data.path to your table file")
    fmt = table_format(path, forced)
    try:
        if fmt in ("csv", "tsv"):
            frame = pd.read_csv(
                path, sep="," if fmt == "csv" else "\t", dtype=object, keep_default_na=False,
                na_values=[""], encoding="utf-8",
            )  # fmt: skip
        elif fmt == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_json(path, lines=True, dtype=False)
    except (ValueError, UnicodeDecodeError, OSError, json.JSONDecodeError) as exc:
        if isinstance(exc, pd.errors.EmptyDataError):
            raise DataError(f"{path} is empty; give a {fmt} file with a header and rows") from None
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise DataError(
            f"{path} is not a readable {fmt} table ({reason}); check the file, or set "
            f"data.format to its real format (csv, tsv, parquet, jsonl)"
        ) from None
    if frame.empty:
        raise DataError(f"{path} holds no rows; give a {fmt} file with a header and rows")
    return frame


def labeled_rows(
    frame: pd.DataFrame, path: Path, columns: Columns, window: Window, fmt: str | None = None
) -> tuple[pd.DataFrame, int]:
    """(`text`, `label` rows inside the window, number of rows dropped for an empty text).

    `frame` is `read_table`'s, index untouched, and `fmt` its format (None: by suffix), so a
    bad row is named by its line in the file."""
    kept, seen, dropped = part_rows(frame, path, columns, window, fmt)
    return source_rows([kept], path, columns, window, seen), dropped


def check_columns(found: Sequence[Any], path: Path, columns: Columns) -> None:
    """The text, label and time columns are among `found` (a table's columns)."""
    wanted = [columns.text, columns.label, *([columns.time] if columns.time else [])]
    names = [str(c) for c in found]
    for key, name in zip(("text_column", "label_column", "time_column"), wanted, strict=False):
        if name not in names:
            raise DataError(
                f"{path} has no column {name!r}; its columns are {names[:20]}: set "
                f"data.{key} to one of them"
            )


def part_rows(
    frame: pd.DataFrame, path: Path, columns: Columns, window: Window, fmt: str | None = None
) -> tuple[pd.DataFrame, int, int]:
    """One file's (or shard's) rows in the window with a label and a text: (those rows, index
    and columns as read, the rows in the window, the rows dropped for an empty text). A part
    may hold none; whether the whole source does is `source_rows`' check."""
    check_columns(frame.columns, path, columns)
    frame = frame.rename(columns={c: str(c) for c in frame.columns})
    if columns.time:
        frame = frame[in_window(frame[columns.time], window, path, columns.time, fmt)]
    labels = frame[columns.label]
    if labels.isna().any():
        places = row_places(path, fmt, labels.index[labels.isna()][:5].tolist())
        more = ", ..." if labels.isna().sum() > 5 else ""
        raise DataError(
            f"{path} has {int(labels.isna().sum())} row(s) without a label in column "
            f"{columns.label!r} ({places}{more}); fill them in or remove those rows"
        )
    texts = frame[columns.text]
    empty = texts.isna().to_numpy() | blank(texts.astype(str))
    return (frame[~empty] if empty.any() else frame), len(frame), int(empty.sum())


def source_rows(
    parts: Sequence[pd.DataFrame], path: Path, columns: Columns, window: Window, seen: int
) -> pd.DataFrame:
    """The `text`, `label` rows of a source's parts (`part_rows`, `seen` rows in the window in
    all), labels read as the whole source means them (`label_values`)."""
    if seen == 0:
        raise DataError(
            f"no rows of {path} fall in the window since={window.since} until={window.until} "
            f"(column {columns.time!r}); widen data.since/data.until"
        )
    kept = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if kept.empty:
        raise DataError(
            f"every text in column {columns.text!r} of {path} is empty; set data.text_column "
            "to the column that holds the texts"
        )
    rows = pd.DataFrame(
        {"text": kept[columns.text].astype(str), "label": label_values(kept[columns.label])}
    )
    return rows.reset_index(drop=True)


def in_window(
    values: pd.Series, window: Window, path: Path, column: str, fmt: str | None = None
) -> pd.Series:
    """A mask of rows with `since <= time < until` (see `window_times`)."""
    return window_times(values, window, path, column, fmt)[1]


def window_times(
    values: pd.Series, window: Window, path: Path, column: str, fmt: str | None = None
) -> tuple[pd.Series, pd.Series]:
    """(the column's times, a mask of the rows with `since <= time < until`).

    The times are all numbers or all UTC timestamps (`column_times`); each bound is read the
    same way, so a date bound on a column of numbers (or the reverse) is a `DataError`.
    """
    times = column_times(values, window, path, column, fmt)
    numeric = pd.api.types.is_numeric_dtype(times)
    mask = pd.Series(True, index=values.index)
    for key, bound in (("since", window.since), ("until", window.until)):
        if bound is None:
            continue
        value = time_number(bound) if numeric else time_stamp(bound, window.time_format)
        if value is None:
            held, give = ("numbers", "a number") if numeric else ("dates", "a date (2024-06-01)")
            raise DataError(
                f"data.{key}={bound!r} cannot be compared with column {column!r} of {path}, "
                f"which holds {held}; give data.{key} as {give}"
            )
        mask &= times >= value if key == "since" else times < value
    return times, mask


def column_times(
    values: pd.Series, window: Window, path: Path, column: str, fmt: str | None = None
) -> pd.Series:
    """The time column as numbers or as UTC timestamps (ISO 8601, or `window.time_format`).

    A column of numbers is numbers unless a bound is a date (then years such as 2024 read as
    dates). A value that does not read as the rest do is refused with the counts, never
    dropped or guessed: `01/03/2024` is 1 March or 3 January, only `data.time_format` says.
    """
    for key, bound in (("since", window.since), ("until", window.until)):
        check_time_bound(bound, f"data.{key}", window.time_format)
    dates = parse_times(values, window.time_format)
    kind = f"a date in data.time_format={window.time_format!r}"
    if not window.time_format and not pd.api.types.is_datetime64_any_dtype(values):
        numbers = pd.to_numeric(values, errors="coerce")
        date_bound = any(
            b is not None and time_number(b) is None for b in (window.since, window.until)
        )
        if numbers.notna().all() and not (date_bound and dates.notna().all()):
            return numbers
        if numbers.notna().sum() > dates.notna().sum():  # mostly numbers: the rest are wrong
            dates, kind = numbers, "a number"
        else:
            kind = "an ISO date"
    bad = dates.isna()
    if bad.any():
        raise DataError(_bad_times(values, bad, kind, path, column, window.time_format, fmt))
    return dates


def _bad_times(
    values: pd.Series,
    bad: pd.Series,
    kind: str,
    path: Path,
    column: str,
    time_format: str | None,
    fmt: str | None,
) -> str:
    """One line: how many of how many rows are not `kind`, the first one, and the fix."""
    row, first = row_places(path, fmt, [values.index[bad][0]]), values[bad].iloc[0]
    if time_format:
        fix = "fix those rows, or set data.time_format to the format the column uses"
    elif kind == "a number":
        fix = "fix those rows, or set data.time_column to a column of numbers or ISO 8601 dates"
    else:
        if isinstance(first, str) and DAY_MONTH.fullmatch(first.strip()):
            row = f"{row}, day/month or month/day?"
        fix = f"write them as ISO 8601 (2024-06-01, 2024-06-01T12:00:00) or {TIME_FORMAT_FIX}"
    return (
        f"{int(bad.sum())} of {len(values)} value(s) in time column {column!r} of {path} are "
        f"not {kind}, e.g. {first!r} ({row}); {fix}"
    )
