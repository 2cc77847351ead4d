"""Successive time windows of a table (continual updates over data=files), on small files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from warmstart.core.errors import ConfigError, DataError
from warmstart.data.files import files_pool
from warmstart.data.windows import successive_windows, time_windows


def _write(tmp_path: Path, times: list) -> Path:
    path = tmp_path / "rows.csv"
    pd.DataFrame(
        {"text": [f"text {i}" for i in range(len(times))], "label": [0, 1] * (len(times) // 2),
         "when": times}
    ).to_csv(path, index=False)  # fmt: skip
    return path


def _cfg(path: Path, **extra) -> dict:
    return {"name": "files", "path": str(path), "time_column": "when", **extra}


def test_each_distinct_number_is_a_window_and_its_bounds_select_its_rows(tmp_path):
    path = _write(tmp_path, [2021, 2020, 2022, 2020, 2021, 2022])  # file order is not time
    windows = time_windows(_cfg(path), None)
    assert [(w.label, w.since, w.until) for w in windows] == [
        ("2020", "2020", "2021"), ("2021", "2021", "2022"), ("2022", "2022", None),
    ]  # fmt: skip
    pool = files_pool(_cfg(path, since=windows[1].since, until=windows[1].until, test_fraction=0))
    assert sorted(pool.train["text"]) == ["text 0", "text 4"]


def test_dates_group_by_calendar_month_within_since_and_until(tmp_path):
    days = ["2024-03-20", "2024-01-09", "2024-01-02", "2024-02-14", "2024-03-01", "2024-04-02"]
    path = _write(tmp_path, days)
    windows = time_windows(_cfg(path, since="2024-01-05", until="2024-04-01"), "M")
    assert [(w.label, w.since, w.until) for w in windows] == [
        ("2024-01", "2024-01-09", "2024-02-14"),
        ("2024-02", "2024-02-14", "2024-03-01"),
        ("2024-03", "2024-03-01", "2024-04-01"),
    ]
    march = files_pool(_cfg(path, since="2024-03-01", until="2024-04-01", test_fraction=0))
    assert sorted(march.train["text"]) == ["text 0", "text 4"]


def test_too_few_periods_for_the_steps_is_one_line_naming_the_fix(tmp_path):
    path = _write(tmp_path, ["2024-01-02", "2024-01-20", "2024-02-03", "2024-02-10"])
    assert len(successive_windows(_cfg(path), "M", 1)) == 2
    with pytest.raises(DataError) as err:
        successive_windows(_cfg(path), "M", 2)
    message = str(err.value)
    assert "\n" not in message
    assert "2 period(s) (2024-01, 2024-02" in message and "needs 3" in message
    assert "lower update.steps" in message and "update.period" in message


def test_no_time_column_or_a_date_period_on_numbers_is_refused_with_the_fix(tmp_path):
    path = _write(tmp_path, [1, 2, 3, 4])
    with pytest.raises(ConfigError, match=r"set data\.time_column="):
        time_windows({"name": "files", "path": str(path)}, None)
    with pytest.raises(ConfigError, match=r"set update\.period=null"):
        time_windows(_cfg(path), "M")
    with pytest.raises(ConfigError, match=r"update\.period='H' is unknown; use null"):
        time_windows(_cfg(path), "H")
    with pytest.raises(DataError, match=r"no column 'stamp'.*set data\.time_column"):
        time_windows(_cfg(path, time_column="stamp"), None)


def test_day_first_dates_with_time_format_group_by_month_and_read_back(tmp_path):
    """Windows of a `%d/%m/%Y` column keep the column's own spelling as bounds, and those
    bounds select the same rows through data.since/data.until."""
    path = _write(tmp_path, ["02/03/2024", "20/01/2024", "01/02/2024", "09/01/2024"])
    fmt = {"time_format": "%d/%m/%Y"}
    windows = time_windows(_cfg(path, **fmt), "M")
    assert [(w.label, w.since, w.until) for w in windows] == [
        ("2024-01", "09/01/2024", "01/02/2024"),
        ("2024-02", "01/02/2024", "02/03/2024"),
        ("2024-03", "02/03/2024", None),
    ]
    january = files_pool(_cfg(path, **fmt, since="09/01/2024", until="01/02/2024", test_fraction=0))
    assert sorted(january.train["text"]) == ["text 1", "text 3"]


def test_a_bound_or_a_column_that_is_no_time_is_refused_where_windows_are_cut(tmp_path):
    """`time_windows` reads no validated config: the bounds are checked again here."""
    path = _write(tmp_path, ["2024-01-02", "2024-01-20", "01/02/2024", "2024-02-10"])
    with pytest.raises(ConfigError, match=r"data\.since='March' is not a time: use ISO 8601"):
        time_windows(_cfg(path, since="March"), "M")
    with pytest.raises(DataError, match=r"1 of 4 value\(s\) .* e\.g\. '01/02/2024' \(line 4, day"):
        time_windows(_cfg(path), "M")


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_the_windows_of_a_directory_of_shards_are_those_of_one_file(tmp_path, suffix):
    days = ["2024-03-20", "2024-01-09", "2024-01-02", "2024-02-14", "2024-03-01", "2024-04-02"]
    one = _write(tmp_path, days)
    frame = pd.read_csv(one)
    for i, start in enumerate(range(0, 6, 2)):  # each shard holds rows of several months
        part = tmp_path / "shards" / f"part-{i}{suffix}"
        part.parent.mkdir(exist_ok=True)
        rows = frame.iloc[start : start + 2]
        if suffix == ".parquet":
            rows.to_parquet(part, index=False)
        else:
            rows.to_csv(part, index=False)
    cfg = {"since": "2024-01-05", "until": "2024-04-01"}
    assert time_windows(_cfg(tmp_path / "shards", **cfg), "M") == time_windows(
        _cfg(one, **cfg), "M"
    )
    with pytest.raises(DataError, match=r"part-0\S* has no column 'stamp'.*set data\.time_column"):
        time_windows(_cfg(tmp_path / "shards", time_column="stamp"), None)
