"""Reading a user's table (csv, tsv, parquet, jsonl) into the `text`, `label` rows of a pool.

One reader for every table source: the format by suffix (or `data.format`), the configured
text/label/time columns, rows outside the `since`/`until` window left out, empty texts dropped
and counted. Everything a user can get wrong is a `DataError` naming the file and the fix;
nothing here ever suggests deleting the user's own file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from warmstart.core.errors import DataError

FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".jsonl": "jsonl", ".json": "jsonl"}


@dataclass(frozen=True)
class Columns:
    """Which columns hold the text, the label and (optionally) the time of a row."""

    text: str = "text"
    label: str = "label"
    time: str | None = None


@dataclass(frozen=True)
class Window:
    """Rows with `since <= time < until` are kept (either bound may be open)."""

    since: Any = None
    until: Any = None

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
            f".csv/.tsv/.parquet/.jsonl or set data.format=csv|tsv|parquet|jsonl"
        )
    return fmt


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
    frame: pd.DataFrame, path: Path, columns: Columns, window: Window
) -> tuple[pd.DataFrame, int]:
    """(`text`, `label` rows inside the window, number of rows dropped for an empty text)."""
    wanted = [columns.text, columns.label, *([columns.time] if columns.time else [])]
    found = [str(c) for c in frame.columns]
    for key, name in zip(("text_column", "label_column", "time_column"), wanted, strict=False):
        if name not in found:
            raise DataError(
                f"{path} has no column {name!r}; its columns are {found[:20]}: set "
                f"data.{key} to one of them"
            )
    frame = frame.rename(columns={c: str(c) for c in frame.columns})
    if columns.time:
        frame = frame[in_window(frame[columns.time], window, path, columns.time)]
    if frame.empty:
        raise DataError(
            f"no rows of {path} fall in the window since={window.since} until={window.until} "
            f"(column {columns.time!r}); widen data.since/data.until"
        )
    labels = frame[columns.label]
    if labels.isna().any():
        rows = [int(i) for i in labels.index[labels.isna()][:5]]
        raise DataError(
            f"{path} has {int(labels.isna().sum())} row(s) without a label in column "
            f"{columns.label!r} (rows {rows}); fill them in or remove those rows"
        )
    texts = frame[columns.text]
    empty = texts.isna() | (texts.astype(str).str.strip() == "")
    if empty.all():
        raise DataError(
            f"every text in column {columns.text!r} of {path} is empty; set data.text_column "
            "to the column that holds the texts"
        )
    kept = frame[~empty]
    rows = pd.DataFrame(
        {"text": kept[columns.text].astype(str), "label": _label_values(kept[columns.label])}
    )
    return rows.reset_index(drop=True), int(empty.sum())


def _label_values(labels: pd.Series) -> pd.Series:
    """Labels as the data means them: a text column of whole numbers ("0", "2") as integers."""
    if labels.dtype == object and labels.map(lambda v: isinstance(v, str)).all():
        if labels.str.fullmatch(r"-?\d+").all():
            return labels.astype("int64")
        return labels.str.strip()
    return labels


def in_window(values: pd.Series, window: Window, path: Path, column: str) -> pd.Series:
    """A mask of rows with `since <= time < until`; times are numbers or ISO dates."""
    numeric = _numeric_bounds(window)
    if window.open and pd.to_numeric(values, errors="coerce").notna().all():
        numeric = [None, None]
    if numeric is None:
        parsed = pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")
        bounds = [None if b is None else _timestamp(b) for b in (window.since, window.until)]
    else:
        parsed = pd.to_numeric(values, errors="coerce")
        bounds = numeric
    bad = parsed.isna() & values.notna()
    if values.isna().any() or bad.any():
        first = values[bad | values.isna()].iloc[0]
        kind = "a number" if numeric is not None else "an ISO date (2024-06-01)"
        raise DataError(
            f"{path}: column {column!r} holds {int((bad | values.isna()).sum())} value(s) that "
            f"are not {kind}, e.g. {first!r}; fix them or set data.time_column to a time column"
        )
    mask = pd.Series(True, index=values.index)
    if bounds[0] is not None:
        mask &= parsed >= bounds[0]
    if bounds[1] is not None:
        mask &= parsed < bounds[1]
    return mask


def _numeric_bounds(window: Window) -> list[float | None] | None:
    """Both bounds as numbers, or None when a bound is a date (or no bound is set)."""
    out: list[float | None] = []
    for bound in (window.since, window.until):
        if bound is None:
            out.append(None)
            continue
        try:
            out.append(float(bound))
        except (TypeError, ValueError):
            return None
    return None if window.open else out


def _timestamp(bound: Any) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(str(bound))
    except ValueError:
        raise DataError(
            f"data.since/data.until={bound!r} is neither a number nor an ISO date; use e.g. "
            "2024-06-01"
        ) from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
