"""`warmstart.data.splits`: split sizes, the tutorial's validation split, limits, digests.

Real files in tmp_path throughout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from acl_trees import imdb_cfg, leftovers, make_tree, synthetic_cfg
from shard_tables import files_cfg, review_table, write, write_shards

from warmstart.core.errors import ConfigError, DataError
from warmstart.data import MARKER, Splits, load_splits
from warmstart.data.files import split_rule


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "src")


def test_synthetic_splits_sizes_and_columns(tmp_path: Path) -> None:
    splits = load_splits(synthetic_cfg(tmp_path / "cache"))
    assert isinstance(splits, Splits)
    assert splits.name == "synthetic"
    assert (len(splits.train), len(splits.val), len(splits.test)) == (160, 40, 80)
    for df in (splits.train, splits.val, splits.test):
        assert list(df.columns) == ["text", "label"]
        # words that say what they mean, sorted with negative first (p(positive) is the logit)
        assert set(df["label"].tolist()) == {"negative", "positive"}
        assert all(isinstance(v, str) for v in df["label"].tolist())
        assert all(isinstance(t, str) and t for t in df["text"].tolist())
        assert list(df.index) == list(range(len(df)))
    key_dir = Path(splits.source).parent
    assert Path(splits.source).name == "aclImdb"
    assert key_dir.parent == tmp_path / "cache"
    assert "gen0" in key_dir.name and "200" in key_dir.name and "80" in key_dir.name
    assert (key_dir / MARKER).is_file()
    assert not leftovers(tmp_path / "cache")


def test_digest_is_content_sensitive(tmp_path: Path) -> None:
    base = load_splits(synthetic_cfg(tmp_path / "cache"))
    assert len(base.digest()) == 64
    assert load_splits(synthetic_cfg(tmp_path / "cache", split_seed=5)).digest() != base.digest()
    assert load_splits(synthetic_cfg(tmp_path / "cache", generation=1)).digest() != base.digest()
    edited = base.train.copy()
    edited.loc[0, "text"] = edited.loc[0, "text"] + " "
    changed = Splits(edited, base.val, base.test, base.source, base.name)
    assert changed.digest() != base.digest()
    flipped = base.test.copy()
    flipped.loc[0, "label"] = {"negative": "positive", "positive": "negative"}[
        flipped.loc[0, "label"]
    ]
    assert Splits(base.train, base.val, flipped, "x", "y").digest() != base.digest()
    # Where the data came from does not matter, only the content.
    assert Splits(base.train, base.val, base.test, "elsewhere", "imdb").digest() == base.digest()


def test_local_path_wins_for_synthetic_too(tmp_path: Path, tree: Path) -> None:
    splits = load_splits(synthetic_cfg(tmp_path / "cache", path=str(tree)))
    assert len(splits.test) == 20
    assert not (tmp_path / "cache").exists()


def test_validation_split_matches_keras_seeded_shuffle(tmp_path: Path, tree: Path) -> None:
    """Same files in validation as the tutorial's text_dataset_from_directory(seed=123)."""
    import keras  # pinned in requirements.lock: missing, this fails, never skips

    splits = load_splits(imdb_cfg(tmp_path / "cache", path=str(tree)))
    _, val_ds = keras.utils.text_dataset_from_directory(
        str(tree / "train"),
        batch_size=1000,
        validation_split=0.2,
        subset="both",
        seed=123,
    )
    texts = [t.decode("utf-8") for batch, _ in val_ds for t in batch.numpy()]
    assert sorted(texts) == sorted(splits.val["text"].tolist())


def test_split_fraction_seed_and_test_order(tmp_path: Path) -> None:
    acl = make_tree(tmp_path / "src", n=50)
    cfg = imdb_cfg(tmp_path / "cache", path=str(acl))
    splits = load_splits(cfg)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (80, 20, 100)
    assert not set(splits.train["text"]) & set(splits.val["text"])
    # test/ stays in path order: neg before pos, file names sorted as strings
    assert splits.test["label"].tolist() == ["negative"] * 50 + ["positive"] * 50
    names = sorted(p.name for p in (acl / "test" / "neg").iterdir())  # "10_3.txt" < "1_2.txt"
    assert names[:2] == ["0_1.txt", "10_3.txt"]
    expected = [(acl / "test" / "neg" / n).read_text() for n in names]
    assert splits.test["text"].iloc[:50].tolist() == expected
    other = load_splits({**cfg, "split_seed": 1})
    assert set(other.val["text"]) != set(splits.val["text"])
    again = load_splits(cfg)
    assert again.val["text"].tolist() == splits.val["text"].tolist()
    no_val = load_splits({**cfg, "validation_split": 0.0})
    assert len(no_val.val) == 0 and len(no_val.train) == 100
    assert list(no_val.val.columns) == ["text", "label"]


def test_max_reviews_is_balanced_and_deterministic(tmp_path: Path) -> None:
    acl = make_tree(tmp_path / "src", n=50)
    cfg = imdb_cfg(tmp_path / "cache", path=str(acl), max_reviews=40)
    splits = load_splits(cfg)
    assert len(splits.train) + len(splits.val) == 40
    assert len(splits.val) == 8
    assert len(splits.test) == 40
    assert splits.test["label"].value_counts().to_dict() == {"negative": 20, "positive": 20}
    pool = pd.concat([splits.train, splits.val])
    assert pool["label"].value_counts().to_dict() == {"negative": 20, "positive": 20}
    assert load_splits(cfg).digest() == splits.digest()
    assert (
        load_splits({**cfg, "max_reviews": 1000}).digest()
        == load_splits({**cfg, "max_reviews": None}).digest()
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("validation_split", 1.0),
        ("validation_split", -0.1),
        ("max_reviews", 1),
        ("max_reviews", 2.5),
        ("name", "mnist"),
    ],
)
def test_bad_settings_are_config_errors(tmp_path: Path, tree: Path, key: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=key.split("_")[0]):
        load_splits(imdb_cfg(tmp_path / "cache", path=str(tree), **{key: value}))


def test_single_class_validation_split(tmp_path: Path) -> None:
    acl = make_tree(tmp_path / "src", n=2)
    with pytest.raises(DataError, match=r"validation split .*single class"):
        load_splits(imdb_cfg(tmp_path / "cache", path=str(acl), validation_split=0.25))


# --- held-out rows by a seeded hash (data.split=hash; the default for a set of shards) ---------


def hashed(path: Path, **extra: Any) -> Splits:
    return load_splits(files_cfg(path, split="hash", test_fraction=0.2, **extra))


def members(splits: Splits) -> tuple[set[str], set[str], set[str]]:
    return tuple(set(df["text"]) for df in (splits.train, splits.val, splits.test))  # type: ignore[return-value]


def test_hash_split_is_the_same_in_one_file_or_four_shards_in_any_order(tmp_path: Path) -> None:
    frame = review_table(400)
    one = hashed(write(frame, tmp_path / "one.csv"))
    write_shards(frame, tmp_path / "four", ".parquet", n=4)
    parts = write_shards(frame, tmp_path / "tmp", ".csv", n=3)
    reversed_shards = tmp_path / "reversed"
    reversed_shards.mkdir()
    for i, shard in enumerate(reversed(parts)):  # the last rows in the first file
        shard.rename(reversed_shards / f"part-{i}.csv")
    four, again = hashed(tmp_path / "four"), hashed(tmp_path / "four")
    shuffled = hashed(reversed_shards)
    assert members(one) == members(four) == members(again) == members(shuffled)
    assert four.digest() == again.digest()  # a rerun agrees row for row
    assert members(hashed(tmp_path / "four", split_seed=7)) != members(four)


def test_hash_split_fractions_hold_and_no_row_is_shuffled(tmp_path: Path) -> None:
    frame = review_table(2000)
    splits = hashed(write(frame, tmp_path / "t.parquet"))
    assert abs(len(splits.test) / 2000 - 0.2) < 0.03
    assert abs(len(splits.val) / (2000 - len(splits.test)) - 0.2) < 0.03
    order = {text: i for i, text in enumerate(frame["text"])}
    for df in (splits.train, splits.val, splits.test):  # table order kept within each split
        positions = [order[t] for t in df["text"]]
        assert positions == sorted(positions)


def test_hash_split_keeps_duplicate_texts_together_unless_an_id_column_decides(
    tmp_path: Path,
) -> None:
    frame = review_table(300)
    frame["text"] = [f"the same {i % 60}" for i in range(300)]  # each text 5 times
    by_text = hashed(write(frame, tmp_path / "t.csv"))
    train, val, test = members(by_text)
    assert not (train & test) and not (train & val) and not (val & test)
    by_id = hashed(tmp_path / "t.csv", id_column="id")
    train, val, test = members(by_id)
    assert train & test  # the same text under different ids: split by id
    # An id is hashed as its text: 7 in Parquet and "7" in a csv split alike.
    numbered = frame.assign(id=range(300))
    a = hashed(write(numbered, tmp_path / "n.parquet"), id_column="id")
    b = hashed(write(numbered, tmp_path / "n.csv"), id_column="id")
    assert a.digest() == b.digest()


def test_auto_splits_one_file_stratified_and_a_set_of_shards_by_hash(tmp_path: Path) -> None:
    frame = review_table(200)
    file = write(frame, tmp_path / "t.csv")
    write_shards(frame, tmp_path / "s", ".csv", n=2)
    auto_file = load_splits(files_cfg(file))  # data.split unset is auto
    assert auto_file.digest() == load_splits(files_cfg(file, split="stratified")).digest()
    assert auto_file.digest() == load_splits(files_cfg(file, split="auto")).digest()
    assert auto_file.digest() != hashed(file).digest()
    auto_shards = load_splits(files_cfg(tmp_path / "s", split="auto"))
    assert auto_shards.digest() == hashed(tmp_path / "s").digest()
    assert split_rule({"split": "auto"}, sharded=True) == "hash"
    assert split_rule({}, sharded=False) == "stratified"
    assert split_rule({"split": "stratified"}, sharded=True) == "stratified"


def test_hash_validation_split_survives_max_reviews(tmp_path: Path) -> None:
    frame = review_table(300)
    capped = hashed(write(frame, tmp_path / "t.csv"), max_reviews=90)
    assert len(capped.train) + len(capped.val) == 90 and len(capped.test) <= 90
    full_val = members(hashed(tmp_path / "t.csv"))[1]
    assert members(capped)[1] <= full_val  # a row in validation is so whatever the cap


def test_an_unknown_split_rule_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"data.split='random' is unknown; use auto, stratified, hash"
    ):
        load_splits(files_cfg(write(review_table(20), tmp_path / "t.csv"), split="random"))
