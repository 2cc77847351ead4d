"""A time window becomes a pyarrow dataset filter only where Arrow compares as the reader does,
so Parquet row groups outside it are skipped by their statistics."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.dataset as ds
from shard_tables import review_table

from warmstart.data.pushdown import window_filter
from warmstart.data.table import Window


def test_the_window_filter_is_given_where_arrow_compares_as_the_reader_does():
    naive, utc = pa.timestamp("us"), pa.timestamp("ns", "UTC")
    years, text = pa.int64(), pa.large_string()
    assert str(window_filter("y", years, Window(2020, 2022))) == (
        "(is_null(y, {nan_is_null=false}) or ((y >= 2020) and (y < 2022)))"
    )
    assert "2024-06-01 00:00:00.000000" in str(window_filter("t", naive, Window("2024-06-01")))
    assert "2024-05-31 22:00:00.000000Z" in str(
        window_filter("t", utc, Window("2024-06-01T00:00+02:00"))
    )
    # Filtered after reading, as one file is: text times, a time_format, a date bound on numbers.
    assert window_filter("t", text, Window("2024-06-01")) is None
    assert window_filter("t", naive, Window("01/06/2024", time_format="%d/%m/%Y")) is None
    assert window_filter("y", years, Window("2024-06-01")) is None
    assert window_filter("y", years, Window()) is None


def test_a_pushed_down_filter_scans_fewer_rows(tmp_path):
    frame = review_table(400).assign(year=[2000 + i // 100 for i in range(400)])
    path = tmp_path / "p.parquet"
    frame.to_parquet(path, index=False, row_group_size=100)  # one row group per year
    dataset = ds.dataset(path, format="parquet")
    expr = window_filter("year", dataset.schema.field("year").type, Window(2002, 2003))
    fragments = list(dataset.get_fragments(filter=expr))
    groups = [g.row_groups[0].id for f in fragments for g in f.split_by_row_group(filter=expr)]
    assert groups == [2]  # the other row groups are skipped by their statistics, never decoded
