"""The `files` source: every format, CSV's hard cases, the time window, the test split, and
every bad table as one `DataError` line that names the fix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from warmstart.core.errors import ConfigError, DataError
from warmstart.data import load_splits
from warmstart.data.example_table import example_table

HARD = [
    'a "quoted" word, with a comma',
    "line one\r\nline two (CRLF)",
    "Grüße, café — 日本語 ¡sí!",
    "  leading and trailing spaces  ",
]


def table(n: int = 60) -> pd.DataFrame:
    texts = [f"{HARD[i % len(HARD)]} row {i}" for i in range(n)]
    labels = [("billing", "login", "shipping")[i % 3] for i in range(n)]
    times = [f"2024-{1 + i % 12:02d}-15" for i in range(n)]
    return pd.DataFrame({"text": texts, "label": labels, "created": times, "n": range(n)})


def write(frame: pd.DataFrame, path: Path) -> Path:
    fmt = path.suffix
    if fmt == ".csv":
        frame.to_csv(path, index=False)
    elif fmt == ".tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif fmt == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    return path


def cfg(path: Path, **extra) -> dict:
    return {"name": "files", "path": str(path), "validation_split": 0.2, **extra}


def all_rows(s) -> pd.DataFrame:
    return pd.concat([s.train, s.val, s.test]).sort_values("text").reset_index(drop=True)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".jsonl", ".json"])
def test_every_format_reads_the_same_rows_with_quotes_commas_crlf_and_non_ascii(tmp_path, suffix):
    frame = table()
    if suffix == ".tsv":  # a tab-separated file cannot hold CRLF inside a field unquoted
        frame["text"] = frame["text"].str.replace("\r\n", " ")
    splits = load_splits(cfg(write(frame, tmp_path / f"t{suffix}")))
    got = all_rows(splits)
    want = frame[["text", "label"]].sort_values("text").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert "line one\r\nline two (CRLF) row 1" in set(got["text"]) or suffix == ".tsv"


def test_format_is_forced_by_data_format(tmp_path):
    path = write(table(), tmp_path / "t.csv").rename(tmp_path / "t.data")
    with pytest.raises(DataError, match=r"set data.format="):
        load_splits(cfg(path))
    assert len(all_rows(load_splits(cfg(path, format="csv")))) == 60


def test_integer_labels_stay_integers(tmp_path):
    frame = table().assign(label=[i % 3 for i in range(60)])
    splits = load_splits(cfg(write(frame, tmp_path / "t.csv")))
    assert sorted(set(splits.train["label"].tolist())) == [0, 1, 2]


def test_time_window_since_inclusive_until_exclusive(tmp_path):
    path = write(table(), tmp_path / "t.csv")
    window = load_splits(cfg(path, time_column="created", since="2024-03-15", until="2024-06-15"))
    months = {int(t.split(" ")[-1]) % 12 + 1 for t in all_rows(window)["text"]}
    assert months == {3, 4, 5}
    numeric = load_splits(cfg(path, time_column="n", since=10, until=40))
    assert sorted(int(t.split(" ")[-1]) for t in all_rows(numeric)["text"]) == list(range(10, 40))


def _months(splits) -> set[int]:
    return {int(t.split(" ")[-1]) % 12 + 1 for t in all_rows(splits)["text"]}


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("2024-03", "2024-06"),
        ("2024-03-01", "2024-06-01T00:00:00"),
        ("2024-03-01T00:00:00Z", "2024-06-01T02:00:00+02:00"),
        ("2024-02-29T23:00:00-01:00", "2024-05-31 22:00:00-02:00"),
    ],
)
def test_iso_8601_bounds_with_and_without_a_zone_select_the_same_rows(tmp_path, since, until):
    path = write(table(), tmp_path / "t.csv")
    window = load_splits(cfg(path, time_column="created", since=since, until=until))
    assert _months(window) == {3, 4, 5}


def test_a_year_bound_selects_a_date_column_and_a_numeric_column_alike(tmp_path):
    frame = table().assign(year=[2020 + i % 4 for i in range(60)])
    path = write(frame, tmp_path / "t.csv")
    dates = load_splits(cfg(path, time_column="created", since="2024", until="2025"))
    assert len(all_rows(dates)) == 60
    years = load_splits(cfg(path, time_column="year", since=2021, until="2023"))
    assert sorted(set(all_rows(years)["text"].str.split(" ").str[-1].astype(int) % 4)) == [1, 2]


def test_time_format_reads_day_first_dates_and_bounds_in_it_or_in_iso(tmp_path):
    """With data.time_format=%d/%m/%Y, 01/03/2024 is 1 March, in the column and the bounds."""
    frame = table().assign(created=[f"15/{1 + i % 12:02d}/2024" for i in range(60)])
    path = write(frame, tmp_path / "t.csv")
    fmt = {"time_column": "created", "time_format": "%d/%m/%Y"}
    assert _months(load_splits(cfg(path, **fmt, since="01/03/2024", until="01/06/2024"))) == {
        3, 4, 5,
    }  # fmt: skip
    assert _months(load_splits(cfg(path, **fmt, since="2024-03-01", until="2024-06"))) == {3, 4, 5}


def test_a_typed_datetime_column_needs_no_parsing(tmp_path):
    frame = table().assign(created=lambda f: pd.to_datetime(f["created"]))
    path = write(frame, tmp_path / "t.parquet")
    assert _months(load_splits(cfg(path, time_column="created", since="2024-11"))) == {11, 12}


@pytest.mark.parametrize("bound", ["March", "Mar", "01/03/2024", "now", ""])
def test_a_bound_that_is_no_iso_date_nor_number_is_refused_before_reading(tmp_path, bound):
    """`March` used to be read as the year 1, `01/03/2024` as 3 January: now one line naming
    the accepted forms and the fix. The file does not exist: the check comes first."""
    with pytest.raises(ConfigError) as raised:
        load_splits(cfg(tmp_path / "nowhere.csv", time_column="created", until=bound))
    message = str(raised.value)
    assert message.startswith(f"data.until={bound!r} is not a time: use ISO 8601 (2024, 2024-06")
    assert "or a number; " in message and "set data.time_format" in message
    assert "\n" not in message


def test_a_bound_of_the_other_kind_than_the_column_is_refused(tmp_path):
    path = write(table(), tmp_path / "t.csv")
    with pytest.raises(
        DataError,
        match=r"data\.since='2024-03-01' cannot be compared with "
        r"column 'n' .* which holds numbers; give data\.since as a number",
    ):
        load_splits(cfg(path, time_column="n", since="2024-03-01"))
    with pytest.raises(DataError, match=r"column 'created' .* holds dates; give data\.until as a"):
        load_splits(cfg(path, time_column="created", until=10))


def test_test_fraction_is_stratified_and_seeded_and_test_path_wins(tmp_path):
    path = write(table(90), tmp_path / "t.csv")
    a, b = load_splits(cfg(path, test_fraction=0.2)), load_splits(cfg(path, test_fraction=0.2))
    assert a.test["text"].tolist() == b.test["text"].tolist()
    assert a.test["label"].value_counts().to_dict() == {"billing": 6, "login": 6, "shipping": 6}
    other = load_splits(cfg(path, test_fraction=0.2, split_seed=1))
    assert other.test["text"].tolist() != a.test["text"].tolist()
    held = write(table(30), tmp_path / "held.csv")
    with_file = load_splits(cfg(path, test_path=str(held)))
    assert len(with_file.test) == 30 and len(with_file.train) + len(with_file.val) == 90


def test_empty_texts_are_dropped_and_counted(tmp_path):
    frame = table()
    frame.loc[[0, 5], "text"] = ["", "   "]
    frame.loc[7, "text"] = None
    splits = load_splits(cfg(write(frame, tmp_path / "t.csv")))
    assert splits.dropped_texts == 3 and len(all_rows(splits)) == 57


def test_the_example_table_drifts_in_words_and_classes():
    frame = example_table(n_old=90, n_new=120)
    old, new = frame[frame.created < "2024-06-01"], frame[frame.created >= "2024-06-01"]
    assert set(old.label) == {"billing", "login", "shipping"}
    assert set(new.label) == {"billing", "login", "shipping", "refund"}
    assert "passkey" in " ".join(new.text) and "passkey" not in " ".join(old.text)


def _bad(tmp_path: Path, case: str) -> tuple[dict, str]:
    """A broken table or setting, and the fragment the one-line error must hold."""
    frame = table()
    csv = tmp_path / "t.csv"
    if case == "not_a_table":
        (tmp_path / "t.parquet").write_text("text,label\nhello,a\n")
        return cfg(tmp_path / "t.parquet"), "is not a readable parquet table"
    if case == "bad_json_lines":
        (tmp_path / "t.jsonl").write_text('{"text": "a", "label": 1}\n{not json\n')
        return cfg(tmp_path / "t.jsonl"), "is not a readable jsonl table"
    if case == "missing_text_column":
        write(frame, csv)
        return cfg(csv, text_column="body"), "has no column 'body'; its columns are ['text'"
    if case == "missing_label_column":
        write(frame, csv)
        return cfg(csv, label_column="y"), "set data.label_column to one of them"
    if case == "empty_file":
        csv.write_text("")
        return cfg(csv), "is empty"
    if case == "header_only":
        csv.write_text("text,label\n")
        return cfg(csv), "holds no rows"
    if case == "empty_window":
        write(frame, csv)
        return cfg(csv, time_column="created", since="2030-01-01"), "widen data.since/data.until"
    if case == "all_texts_empty":
        write(frame.assign(text=""), csv)
        return cfg(csv), "every text in column 'text'"
    if case == "null_labels":
        frame.loc[[3, 4], "label"] = None
        write(frame, csv)
        return cfg(csv), "2 row(s) without a label in column 'label' (lines 6, 7)"
    if case == "one_class":
        write(frame.assign(label="billing"), csv)
        return cfg(csv), "one class only"
    if case == "unseen_test_label":
        write(frame, csv)
        held = write(table(6).assign(label="refund"), tmp_path / "held.csv")
        return cfg(csv, test_path=str(held)), "class(es) ['refund'] that the training"
    if case == "unparsable_time":
        frame.loc[2, "created"] = "last tuesday"
        write(frame, csv)
        says = "1 of 60 value(s) in time column 'created' of "
        return cfg(csv, time_column="created", since="2024-02-01"), says
    if case == "unparsable_time_open_window":
        frame.loc[[2, 9], "created"] = ["today", None]
        write(frame, csv)
        return cfg(csv, time_column="created"), "2 of 60 value(s)"
    if case == "ambiguous_time":  # day/month or month/day: refused, not guessed
        write(frame.assign(created=[f"01/{1 + i % 12:02d}/2024" for i in range(60)]), csv)
        says = "60 of 60 value(s) in time column 'created' of "
        return cfg(csv, time_column="created"), says
    if case == "partly_numeric_time":
        frame["n"] = frame["n"].astype(object)
        frame.loc[4, "n"] = "ten"
        write(frame, csv)
        return cfg(csv, time_column="n", since=3), "1 of 60 value(s)"
    if case == "time_not_in_format":
        frame["created"] = [f"15/{1 + i % 12:02d}/2024" for i in range(60)]
        frame.loc[7, "created"] = "2024-08-15"
        write(frame, csv)
        fmt = {"time_column": "created", "time_format": "%d/%m/%Y"}
        return cfg(csv, **fmt), "1 of 60 value(s)"
    if case == "missing_file":
        return cfg(tmp_path / "nope.csv"), "does not exist"
    raise AssertionError(case)


BAD = [
    "not_a_table", "bad_json_lines", "missing_text_column", "missing_label_column", "empty_file",
    "header_only", "empty_window", "all_texts_empty", "null_labels", "one_class",
    "unseen_test_label", "unparsable_time", "unparsable_time_open_window", "ambiguous_time",
    "partly_numeric_time", "time_not_in_format", "missing_file",
]  # fmt: skip
# What a bad time column's line says beyond the counts: the first bad value, where it is in the
# file as an editor shows it (the header is line 1; every 4th text holds a quoted CRLF, so data
# row 7 starts on line 11), the fix.
TIME_SAYS = {
    "unparsable_time": (
        "are not an ISO date, e.g. 'last tuesday' (line 5)",
        "set data.time_format",
    ),
    "unparsable_time_open_window": ("e.g. 'today' (line 5)", "write them as ISO 8601 (2024-06-01"),
    "ambiguous_time": (
        "e.g. '01/01/2024' (line 2, day/month or month/day?)",
        "data.time_format=%d/%m/%Y",
    ),
    "partly_numeric_time": ("are not a number, e.g. 'ten' (line 7)", "fix those rows"),
    "time_not_in_format": (
        "are not a date in data.time_format='%d/%m/%Y', e.g. '2024-08-15' (line 11)",
        "fix those rows",
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_table_is_one_line_naming_the_fix_and_never_says_delete(tmp_path, case):
    settings, says = _bad(tmp_path, case)
    with pytest.raises(DataError) as raised:
        load_splits(settings)
    message = str(raised.value)
    assert says in message, message
    assert "\n" not in message and "delete" not in message
    assert "; " in message or "set data." in message
    for fragment in TIME_SAYS.get(case, ()):
        assert fragment in message, message


@pytest.mark.parametrize(
    ("name", "content", "place"),
    [
        # a quoted line break and a blank line move the row down the file: counted as lines
        ("t.csv", 'text,label\n"two\nlines",a\n\nok,b\nblank,\n', "(line 6)"),
        ("t.tsv", "text\tlabel\nok\ta\nblank\t\n", "(line 3)"),
        ("t.jsonl", '{"text": "ok", "label": "a"}\n\n{"text": "x", "label": null}\n', "(line 3)"),
    ],
)
def test_a_row_without_a_label_is_named_by_its_line_in_the_file(tmp_path, name, content, place):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=r"1 row\(s\) without a label") as raised:
        load_splits(cfg(path))
    assert place in str(raised.value), raised.value


def test_a_parquet_row_without_a_label_is_named_by_its_1_based_row(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"text": ["a", "b", "c"], "label": ["x", "y", None]}).to_parquet(path)
    with pytest.raises(DataError, match=r"without a label in column 'label' \(row 3\);"):
        load_splits(cfg(path))
