"""Successive time windows of a table, for continual updates over `data=files`.

The rows inside `data.since`/`data.until` (of one table or all its shards) are grouped into
periods by `data.time_column`: each distinct value (`update.period=null`: a number such as a
year or a batch index, or a date), or each calendar period of a date
(`update.period=D|W|M|Q|Y`). Window i runs from the first time seen in period i up to
(excluding) the first time of period i+1, the last one up to
`data.until`. The bounds are the column's own values (read as the filter reads them: numbers,
ISO 8601 or `data.time_format`), so they read back through the ordinary
`data.since`/`data.until` filter unchanged: a window is just those two settings.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from warmstart.config.validation import check_update, history_length
from warmstart.core.errors import ConfigError, DataError
from warmstart.data.paths import source_path
from warmstart.data.settings import setting
from warmstart.data.shards import time_parts
from warmstart.data.table import Window, window_times


@dataclass(frozen=True)
class TimeWindow:
    """One period: its name (`2024-03`, `7`) and the `since`/`until` that select its rows."""

    label: str
    since: str
    until: str | None


def time_windows(data_cfg: Mapping[str, Any], period: str | None) -> list[TimeWindow]:
    """The successive windows of `data.path`, oldest first."""
    if period is not None:
        check_update({"steps": 1, "period": period})
    column = setting(data_cfg, "time_column")
    if not column:
        raise ConfigError(
            "continual updates over data=files cut the table into time windows: set "
            "data.time_column=<the column holding each row's time>"
        )
    value = setting(data_cfg, "path", required=True)
    path, _ = source_path(value, "path")
    until = setting(data_cfg, "until")
    window = Window(setting(data_cfg, "since"), until, setting(data_cfg, "time_format"))
    kept: list[tuple[pd.Series, pd.Series]] = []
    for where, fmt, part in time_parts(value, setting(data_cfg, "format"), column):
        times, keep = window_times(part, window, where, column, fmt)
        kept.append((part[keep], times[keep]))
    values = pd.concat([v for v, _ in kept], ignore_index=True)
    times = pd.concat([t for _, t in kept], ignore_index=True)
    if pd.api.types.is_numeric_dtype(times):
        if period is not None:
            raise ConfigError(
                f"update.period={period} groups dates, but column {column!r} of {path} holds "
                "numbers; set update.period=null (each distinct number is a period)"
            )
        keys = times
    else:
        if period is None:
            keys = times
        else:
            with warnings.catch_warnings():  # "dropping the time zone": periods are UTC dates
                warnings.simplefilter("ignore", UserWarning)
                keys = times.dt.tz_localize(None).dt.to_period(period)
    order = pd.DataFrame({"raw": values.astype(str), "time": times, "key": keys})
    firsts = order.sort_values("time", kind="stable").groupby("key", sort=True).first()
    starts = firsts["raw"].tolist()
    labels = [str(k) for k in firsts.index]
    ends = [*starts[1:], None if until is None else str(until)]
    return [TimeWindow(lab, s, e) for lab, s, e in zip(labels, starts, ends, strict=True)]


def successive_windows(
    data_cfg: Mapping[str, Any], period: str | None, steps: int
) -> list[TimeWindow]:
    """The first `steps + 1` windows: one for the base, then one per update step."""
    windows = time_windows(data_cfg, period)
    if len(windows) < steps + 1:
        found = ", ".join(w.label for w in windows[:6]) + (", …" if len(windows) > 6 else "")
        raise DataError(
            f"{setting(data_cfg, 'path')}: column {setting(data_cfg, 'time_column')!r} holds "
            f"{len(windows)} period(s) ({found}; update.period={period}) but update.steps="
            f"{steps} needs {steps + 1} (the first for the base, one per step); lower "
            "update.steps, or set update.period to a finer period (Y, Q, M, W, D or null)"
        )
    return windows[: steps + 1]


def history_window(windows: Sequence[TimeWindow], index: int, history: str) -> TimeWindow:
    """The rows the step whose newest window is `windows[index]` trains on (`update.history`):
    that window alone, the last N ending at it, or all from window 0. Windows are contiguous
    (each ends where the next begins), so a span of them is one since/until."""
    length = history_length(history)
    first = 0 if length is None else max(0, index - length + 1)
    return TimeWindow(windows[index].label, windows[first].since, windows[index].until)
