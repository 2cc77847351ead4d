"""A time window as a pyarrow dataset filter, so Parquet shards skip what lies outside it.

Only where Arrow compares as `table.window_times` does (numbers against numeric bounds,
timestamps against ISO 8601 bounds); anything else is cut after reading, as one file is.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from warmstart.config.time_bounds import time_number, time_stamp
from warmstart.data.table import Window


def window_filter(
    column: str | None, time_type: pa.DataType | None, window: Window
) -> ds.Expression | None:
    """The window as a dataset filter, where Arrow compares as `table.window_times` does: a
    column of numbers with numeric bounds, or of timestamps with ISO 8601 bounds (naive
    times are UTC). Rows without a time pass, so the row checks still refuse them; None
    (filter after reading) for text columns, `data.time_format` or a bound read otherwise."""
    if column is None or time_type is None or window.open or window.time_format:
        return None
    field = ds.field(column)
    keep = field.is_null()
    if pa.types.is_integer(time_type) or pa.types.is_floating(time_type):
        values: list[Any] = [time_number(b) for b in (window.since, window.until)]
        if pa.types.is_floating(time_type):
            keep = keep | field.is_nan()
    elif pa.types.is_timestamp(time_type):
        values = [_stamp(b, time_type) for b in (window.since, window.until)]
    else:
        return None
    inside = None
    for bound, value, since in zip(
        (window.since, window.until), values, (True, False), strict=True
    ):
        if bound is None:
            continue
        if value is None:
            return None  # a date bound on numbers: years read as dates, after reading
        test = field >= value if since else field < value
        inside = test if inside is None else inside & test
    return keep | inside


def _stamp(bound: Any, time_type: pa.TimestampType) -> pa.Scalar | None:
    """An ISO 8601 bound as a timestamp the column compares with (UTC, naive where it is)."""
    stamp = None if bound is None else time_stamp(bound)
    if stamp is None:
        return None
    if time_type.tz:
        return pa.scalar(stamp.to_pydatetime(), pa.timestamp("us", "UTC"))
    return pa.scalar(stamp.tz_convert(None).to_pydatetime(), pa.timestamp("us"))
