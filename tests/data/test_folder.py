"""The `folder` source: class folders with or without train/test, and an aclImdb tree read
as class folders giving IMDB's own splits."""

from __future__ import annotations

import pytest
from acl_trees import make_tree

from warmstart.core.errors import DataError
from warmstart.data import load_splits


def _folders(root, classes=("billing", "login", "refund"), n=20):
    for cls in classes:
        (root / cls).mkdir(parents=True)
        for i in range(n):
            (root / cls / f"{i:03d}.txt").write_text(f"{cls} ticket {i} é", encoding="utf-8")
    return root


def test_class_folders_without_test_hold_out_a_stratified_fraction(tmp_path):
    splits = load_splits({"name": "folder", "path": str(_folders(tmp_path / "d")),
                          "test_fraction": 0.25})  # fmt: skip
    assert splits.test["label"].value_counts().to_dict() == {"billing": 5, "login": 5, "refund": 5}
    assert len(splits.train) + len(splits.val) == 45
    assert splits.train["text"].str.contains("é").all()


def test_train_and_test_subfolders_are_the_splits(tmp_path):
    _folders(tmp_path / "d" / "train", n=10)
    _folders(tmp_path / "d" / "test", n=4)
    splits = load_splits({"name": "folder", "path": str(tmp_path / "d")})
    assert len(splits.test) == 12 and len(splits.train) + len(splits.val) == 30


@pytest.mark.parametrize("classes", [(), ("only",)])
def test_fewer_than_two_class_folders_is_one_line_naming_the_fix(tmp_path, classes):
    root = tmp_path / "d"
    root.mkdir()
    _folders(root / "x", classes) if classes else None
    path = root / "x" if classes else root
    with pytest.raises(DataError, match=r"class sub-folder.*needs at least two: put each"):
        load_splits({"name": "folder", "path": str(path)})


def test_an_acl_tree_as_folders_gives_imdbs_splits_on_a_capped_subset(tmp_path):
    """Same texts in the same order in every split; labels neg/pos (the folders) for
    negative/positive (the acl layout's words)."""
    acl = make_tree(tmp_path, n=40)
    imdb = load_splits({"name": "imdb", "path": str(acl), "max_reviews": 50})
    folder = load_splits({"name": "folder", "path": str(acl), "max_reviews": 50})
    for a, b in ((imdb.train, folder.train), (imdb.val, folder.val), (imdb.test, folder.test)):
        assert a["text"].tolist() == b["text"].tolist() and len(a)
        assert (
            a["label"].map({"negative": "neg", "positive": "pos"}).tolist() == b["label"].tolist()
        )
