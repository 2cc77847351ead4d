"""`warmstart.data.shards`: a directory or a glob of shards reads as one file would; Parquet
shards are read with the window pushed down; a bad shard is one line naming it.

Real files in tmp_path throughout.
"""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest
from shard_tables import files_cfg, review_table, write, write_shards

from warmstart.core.errors import DataError
from warmstart.data import load_splits
from warmstart.data.shard_read import read_shard_batches
from warmstart.data.shards import shard_files, table_rows
from warmstart.data.table import Columns, Window


@pytest.mark.parametrize(
    ("suffix", "named"),
    [(".parquet", "dir"), (".csv", "dir"), (".jsonl", "glob"), (".tsv", "glob")],
)
def test_shards_read_the_same_rows_as_one_concatenated_file(tmp_path, suffix, named):
    frame = review_table(40)
    one = table_rows(files_cfg(write(frame, tmp_path / f"all{suffix}")), "path")
    folder = tmp_path / "shards"
    write_shards(frame, folder, suffix)
    (folder / "_SUCCESS").write_text("")  # engines' markers and checksums are skipped
    (folder / ".part-00000.crc").write_bytes(b"\x00\x01")
    path = folder if named == "dir" else folder / f"part-*{suffix}"
    sharded = table_rows(files_cfg(path), "path")
    pd.testing.assert_frame_equal(sharded.rows, one.rows)
    assert sharded.sharded and not one.sharded and len(sharded.rows) == 40
    # The same rows split the same way when the split is the same rule.
    same = {"split": "stratified", "time_column": "year", "since": "2021"}
    a = load_splits(files_cfg(tmp_path / f"all{suffix}", **same))
    b = load_splits(files_cfg(path, **same))
    assert a.digest() == b.digest() and len(a.train) + len(a.val) + len(a.test) == 30


def test_a_directory_mixing_formats_is_refused_in_one_line(tmp_path):
    frame = review_table(20)
    write(frame, tmp_path / "t" / "a.parquet")
    write(frame, tmp_path / "t" / "b.csv")
    with pytest.raises(DataError, match=r"mixes table formats: csv \(b.csv\), parquet") as raised:
        table_rows(files_cfg(tmp_path / "t"), "path")
    assert "/*.parquet" in str(raised.value) and "\n" not in str(raised.value)
    # data.format reads every shard as that format: the csv one is then named as unreadable.
    with pytest.raises(DataError, match=r"shard .*b\.csv is not a readable parquet table"):
        table_rows(files_cfg(tmp_path / "t", format="parquet"), "path")


def test_a_glob_matching_nothing_and_an_empty_directory_say_what_to_set(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"holds no table files; set data\.path to a directory"):
        shard_files(str(tmp_path / "empty"), "path")
    with pytest.raises(DataError, match="matches no table file; fix the pattern"):
        shard_files(str(tmp_path / "none-*.parquet"), "path")
    assert shard_files(str(write(review_table(3), tmp_path / "one.csv")), "path") is None


TIMES = {
    "int": [2019, 2019, 2021, 2022, 2023, 2021],
    "float": [2019.0, 2019.5, 2021.0, 2022.0, 2023.0, 2021.0],
    "naive-timestamp": pd.to_datetime(
        ["2019-01-01", "2019-06-01", "2021-01-01", "2022-01-01", "2023-01-01", "2021-03-01"]
    ),
}
TIMES["utc-timestamp"] = TIMES["naive-timestamp"].tz_localize("UTC")


@pytest.mark.parametrize("kind", sorted(TIMES))
def test_a_parquet_window_keeps_the_rows_the_reader_keeps_and_still_refuses_null_times(
    tmp_path, kind
):
    frame = review_table(6).assign(when=list(TIMES[kind]))
    frame.loc[:1, "label"] = None  # outside the window: never checked, as in one file
    write_shards(frame, tmp_path / "p", ".parquet", n=2)
    since = "2020" if kind in ("int", "float") else "2020-01-01"
    cfg = files_cfg(tmp_path / "p", time_column="when", since=since, until="2023")
    assert table_rows(cfg, "path").rows["text"].tolist() == frame["text"][[2, 3, 5]].tolist()
    frame.loc[5, "when"] = None  # a row without a time passes the filter, to be refused
    write_shards(frame, tmp_path / "p", ".parquet", n=2)
    with pytest.raises(DataError, match=r"1 of 3 value\(s\) in time column 'when' of .*part-00001"):
        table_rows(cfg, "path")


def test_parquet_row_groups_outside_the_window_are_never_read(tmp_path):
    frame = review_table(400).assign(year=[2000 + i // 100 for i in range(400)])
    path = tmp_path / "p" / "part-0.parquet"
    path.parent.mkdir()
    frame.to_parquet(path, index=False, row_group_size=100)  # one row group per year
    group = pq.ParquetFile(path).metadata.row_group(0)
    chunks = [group.column(c) for c in range(group.num_columns)]
    starts = [c.dictionary_page_offset or c.data_page_offset for c in chunks]
    start, end = (
        min(starts),
        max(s + c.total_compressed_size for s, c in zip(starts, chunks, strict=True)),
    )
    data = bytearray(path.read_bytes())
    data[start:end] = b"\xff" * (end - start)  # year 2000's pages: garbage
    path.write_bytes(bytes(data))
    cfg = files_cfg(path.parent, time_column="year", since="2001")
    got = table_rows(cfg, "path").rows
    assert got["text"].tolist() == frame["text"][100:].tolist()
    # streamed, a batch at a time: the same rows, with the window's edge inside a batch
    columns, window = Columns(time="year"), Window("2001", "2003")
    batches = list(read_shard_batches(path, "parquet", columns, window, None, rows=64))
    assert pd.concat(batches)["text"].tolist() == frame["text"][100:300].tolist()
    assert batches[-1].index[-1] == 199  # rows numbered as the window reads them
    with pytest.raises(DataError, match=r"part-0\.parquet is not a readable parquet table"):
        table_rows({**cfg, "since": None, "time_column": None}, "path")


def test_a_bad_row_inside_a_filtered_parquet_shard_is_named_by_its_row_in_the_shard(tmp_path):
    frame = review_table(6).assign(year=[2019, 2019, 2021, 2021, 2022, 2023])
    frame.loc[4, "label"] = None
    write(frame, tmp_path / "p" / "part-0.parquet")
    with pytest.raises(DataError, match=r"part-0.parquet has 1 row\(s\) without a label .*row 5\)"):
        table_rows(files_cfg(tmp_path / "p", time_column="year", since="2020"), "path")


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_a_shard_without_a_column_is_one_line_naming_that_shard(tmp_path, suffix):
    shards = write_shards(review_table(40), tmp_path / "s", suffix)
    write(review_table(10).drop(columns="label"), shards[2])
    with pytest.raises(DataError) as raised:
        table_rows(files_cfg(tmp_path / "s"), "path")
    message = str(raised.value)
    assert f"{shards[2]} has no column 'label'" in message and "data.label_column" in message
    assert "\n" not in message
    with pytest.raises(DataError, match=r"part-00000.* has no column 'key'.*data.id_column"):
        table_rows(files_cfg(tmp_path / "s", id_column="key"), "path")


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_an_unreadable_shard_is_one_line_naming_that_shard(tmp_path, suffix):
    shards = write_shards(review_table(40), tmp_path / "s", suffix)
    shards[1].write_bytes(b"\xff\xfe not a table \x00\x81" * 20 + b'\n{"broken')
    with pytest.raises(DataError) as raised:
        table_rows(files_cfg(tmp_path / "s"), "path")
    message = str(raised.value)
    assert message.startswith(f"shard {shards[1]} is not a readable {suffix[1:]} table (")
    assert "replace or remove that file" in message and "\n" not in message


def test_test_path_may_be_shards_too(tmp_path):
    frame = review_table(60)
    write_shards(frame[:40], tmp_path / "train", ".parquet", n=2)
    write_shards(frame[40:], tmp_path / "test", ".parquet", n=3)
    splits = load_splits(files_cfg(tmp_path / "train", test_path=str(tmp_path / "test")))
    assert splits.test["text"].tolist() == frame["text"][40:].tolist()
    assert len(splits.train) + len(splits.val) == 40
    assert str(tmp_path / "test") in splits.source
