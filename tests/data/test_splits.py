"""`warmstart.data.splits`: split sizes, the tutorial's validation split, limits, digests.

Real files in tmp_path throughout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from acl_trees import imdb_cfg, leftovers, make_tree, synthetic_cfg

from warmstart.core.errors import ConfigError, DataError
from warmstart.data import MARKER, Splits, load_splits


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
