"""The `files` source: every format, CSV's hard cases, the time window, the test split, and
every bad table as one `DataError` line that names the fix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from warmstart.core.errors import DataError
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
        return cfg(csv), "2 row(s) without a label"
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
        return cfg(csv, time_column="created", since="2024-02-01"), "'last tuesday'"
    if case == "missing_file":
        return cfg(tmp_path / "nope.csv"), "does not exist"
    raise AssertionError(case)


BAD = [
    "not_a_table", "bad_json_lines", "missing_text_column", "missing_label_column", "empty_file",
    "header_only", "empty_window", "all_texts_empty", "null_labels", "one_class",
    "unseen_test_label", "unparsable_time", "missing_file",
]  # fmt: skip


@pytest.mark.parametrize("case", BAD)
def test_bad_table_is_one_line_naming_the_fix_and_never_says_delete(tmp_path, case):
    settings, says = _bad(tmp_path, case)
    with pytest.raises(DataError) as raised:
        load_splits(settings)
    message = str(raised.value)
    assert says in message, message
    assert "\n" not in message and "delete" not in message
    assert "; " in message or "set data." in message
