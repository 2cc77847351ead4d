"""Time bounds as `data.since`/`data.until` and a time column take them: numbers or dates.

A bound is a finite number (a year, a batch index) or a date in ISO 8601 or in
`data.time_format`; anything else (`March`, `01/03/2024` without a format) would filter by a
guessed date, so it is refused with the forms that are taken. The data reader parses the time
column with the same functions, so a bound and a row's time are always read alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from warmstart.config.value_checks import key_name
from warmstart.core.errors import ConfigError

# ISO 8601 as time bounds and time columns take it: a year, a month, a day, or a day and a time
# of day (after T or a blank), with or without a zone. pandas' "ISO8601" parser alone would
# also take "now", "today" and "" (no time at all), so a value must have this shape first.
ISO_TIME = re.compile(
    r"\d{4}(-\d{2}(-\d{2}([T ]\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?)?)?"
)
TIME_FORMS = (
    "ISO 8601 (2024, 2024-06, 2024-06-01, 2024-06-01T12:00:00, with or without a zone such "
    "as Z or +02:00) or a number"
)
TIME_FORMAT_FIX = "set data.time_format to their strftime format (e.g. data.time_format=%d/%m/%Y)"


def time_number(value: Any) -> float | None:
    """`value` as a finite number (a year, a batch index), or None; bools are not numbers."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def parse_times(values: pd.Series, time_format: str | None = None) -> pd.Series:
    """`values` as UTC timestamps, read with `time_format` or else as ISO 8601; NaT where a
    value is not one (never a guess: `01/03/2024` is no ISO date, whatever it means)."""
    if pd.api.types.is_datetime64_any_dtype(values):  # a typed column (parquet) is no text
        return values.dt.tz_localize("UTC") if values.dt.tz is None else values.dt.tz_convert("UTC")
    text = values.astype("string").str.strip()
    if not time_format:
        text = text.where(text.str.fullmatch(ISO_TIME).fillna(False))
    return pd.to_datetime(text, format=time_format or "ISO8601", utc=True, errors="coerce")


def time_stamp(value: Any, time_format: str | None = None) -> pd.Timestamp | None:
    """A bound as a UTC timestamp: in `time_format` when it is set, else (or failing that) in
    ISO 8601; None when it is neither."""
    if value is None or isinstance(value, bool):
        return None
    for fmt in (time_format, None) if time_format else (None,):
        stamp = parse_times(pd.Series([str(value)], dtype=object), fmt).iloc[0]
        if not pd.isna(stamp):
            return stamp
    return None


def check_time_bound(value: Any, name: str, time_format: str | None) -> None:
    """A time bound must be a number or a date as the time column is read; anything else
    (`March`, `01/03/2024` without a format) would filter by a guessed date, so it is refused."""
    if value is None or time_number(value) is not None or time_stamp(value, time_format):
        return
    if time_format:
        fmt_key = f"{name.rpartition('.')[0] or 'data'}.time_format"
        raise ConfigError(
            f"{name}={value!r} is not a date in {fmt_key}={time_format!r}, nor {TIME_FORMS}; "
            f"fix {name}"
        )
    raise ConfigError(
        f"{name}={value!r} is not a time: use {TIME_FORMS}; for dates written another way, "
        f"{TIME_FORMAT_FIX}"
    )


def check_time_format(data: Mapping[str, Any], where: str) -> None:
    """A strftime format that reads back what it writes (`%d/%m/%Y`), not `dd/mm/yyyy`."""
    fmt = data.get("time_format")
    if fmt is None:
        return
    sample = datetime(2024, 6, 1, 12, 30, 45, tzinfo=UTC)
    try:
        fine = isinstance(fmt, str) and "%" in fmt
        fine = fine and bool(datetime.strptime(sample.strftime(fmt), fmt))
    except ValueError:
        fine = False
    if not fine:
        name = key_name(where, "time_format")
        raise ConfigError(
            f"{name}={fmt!r} is not a strftime format; set {name} to one such as %d/%m/%Y or "
            f"%m/%d/%Y %H:%M (or null for ISO 8601 dates and numbers)"
        )
