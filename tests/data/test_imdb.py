"""`warmstart.data.imdb` and the aclImdb reader: local copies, checksums, bad inputs, real data.

Real files in tmp_path throughout; the real archive where it is present.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from acl_trees import imdb_cfg, make_tar, make_tree
from conftest import IMDB_ARCHIVE_SHA256

from warmstart.core.digests import sha256_file
from warmstart.core.errors import DataError
from warmstart.core.labels import learn_labels
from warmstart.data import load_splits
from warmstart.data.acl_layout import legacy_labels_renamed, read_acl_dir


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "src")


@pytest.fixture
def archive(tmp_path: Path, tree: Path) -> Path:
    return make_tar(tmp_path / "corpus.tar.gz", tree)


def test_reviews_are_labeled_negative_and_positive_with_negative_first(tree: Path) -> None:
    train, test = read_acl_dir(tree)
    for frame, split in ((train, "train"), (test, "test")):
        by_folder = frame.groupby("label")["text"].apply(set).to_dict()
        neg = {(tree / split / "neg" / n).read_text() for n in sorted(
            p.name for p in (tree / split / "neg").iterdir())}  # fmt: skip
        assert by_folder["negative"] == neg  # the neg/ folder's reviews say negative
        assert set(by_folder) == {"negative", "positive"}
    # sorted, negative is class 0: a binary model's logit and `probability` are p(positive)
    assert learn_labels(train["label"]) == ["negative", "positive"]


@pytest.mark.parametrize("old", [[0, 1], ["0", "1"]])  # labels.txt read as int or as text
def test_a_version_of_the_old_0_1_labels_is_read_as_negative_positive(old) -> None:
    assert legacy_labels_renamed(old, ["negative", "positive"]) == ["negative", "positive"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ([0, 1], ["bad", "good"]),  # other words: label drift, matched by text
        ([0, 1, 2], ["negative", "positive"]),  # not the layout's old labels
        (["negative", "positive"], ["negative", "positive"]),  # already words
        ([1, 0], ["negative", "positive"]),  # not in the layout's order
    ],
)
def test_any_other_change_of_label_names_is_left_to_the_label_diff(old, new) -> None:
    assert legacy_labels_renamed(old, new) == old


def test_directory_itself_or_its_parent(tmp_path: Path, tree: Path) -> None:
    cache = tmp_path / "cache"
    direct = load_splits(imdb_cfg(cache, path=str(tree)))
    parent = load_splits(imdb_cfg(cache, path=str(tree.parent)))
    assert direct.source == parent.source == str(tree)
    assert direct.name == "imdb"
    assert direct.digest() == parent.digest()
    assert (len(direct.train), len(direct.val), len(direct.test)) == (16, 4, 20)
    assert not cache.exists()  # a directory is read in place: nothing written


def test_relative_and_home_paths(
    tmp_path: Path, archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rel = load_splits(imdb_cfg(Path("cache"), path="corpus.tar.gz"))
    assert rel.source == str(archive.resolve())
    assert (tmp_path / "cache" / "extracted").is_dir()
    with pytest.raises(DataError, match="relative, resolved against the current directory"):
        load_splits(imdb_cfg(tmp_path / "cache", path="missing/corpus.tar.gz"))
    monkeypatch.setenv("HOME", str(tmp_path))
    home = load_splits(imdb_cfg(tmp_path / "cache", path="~/corpus.tar.gz"))
    assert home.digest() == rel.digest()


def test_path_sha256_mismatch(tmp_path: Path, archive: Path) -> None:
    cache = tmp_path / "cache"
    got = sha256_file(archive)
    with pytest.raises(DataError) as err:
        load_splits(imdb_cfg(cache, path=str(archive), path_sha256="ab" * 32))
    message = str(err.value)
    assert "ab" * 32 in message and got in message and "path_sha256" in message
    assert "\n" not in message
    assert not cache.exists()


def test_path_sha256_with_a_directory_is_refused(tmp_path: Path, tree: Path) -> None:
    with pytest.raises(DataError, match="path_sha256"):
        load_splits(imdb_cfg(tmp_path / "cache", path=str(tree), path_sha256="00" * 32))


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"does not exist.*data\.path"):
        load_splits(imdb_cfg(tmp_path / "cache", path=str(tmp_path / "nope.tar.gz")))


def test_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="is empty"):
        load_splits(imdb_cfg(tmp_path / "cache", path=str(tmp_path / "empty")))


def test_non_acl_directory_names_expected_subdirs(tmp_path: Path) -> None:
    other = tmp_path / "photos"
    (other / "train" / "cats").mkdir(parents=True)
    (other / "notes.txt").write_text("hello")
    with pytest.raises(DataError) as err:
        load_splits(imdb_cfg(tmp_path / "cache", path=str(other)))
    message = str(err.value)
    assert "not an aclImdb directory" in message
    for sub in ("train/pos", "train/neg", "test/pos", "test/neg"):
        assert sub in message


@pytest.mark.parametrize(("split", "cls"), [("train", "neg"), ("test", "pos")])
def test_single_class_split(tmp_path: Path, tree: Path, split: str, cls: str) -> None:
    for p in (tree / split / cls).iterdir():
        p.unlink()
    other = "pos" if cls == "neg" else "neg"
    with pytest.raises(DataError, match=f"the {split} split has only {other} reviews"):
        load_splits(imdb_cfg(tmp_path / "cache", path=str(tree)))


@pytest.fixture(scope="module")
def imdb_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("imdb-cache")


@pytest.mark.imdb
def test_real_imdb_archive(imdb_archive: Path, imdb_cache: Path) -> None:
    start = time.perf_counter()
    splits = load_splits(imdb_cfg(imdb_cache, path=str(imdb_archive)))
    first = time.perf_counter() - start
    assert (len(splits.train), len(splits.val), len(splits.test)) == (20_000, 5_000, 25_000)
    for df in (splits.train, splits.val, splits.test):
        assert set(df["label"].unique().tolist()) == {"negative", "positive"}
    assert splits.test["label"].value_counts().to_dict() == {"negative": 12_500, "positive": 12_500}
    assert Path(splits.source).resolve() == imdb_archive.resolve()
    (target,) = (imdb_cache / "extracted").iterdir()
    assert not (target / "aclImdb" / "train" / "unsup").exists()
    # The second load reuses the extraction; with the published checksum of this copy.
    start = time.perf_counter()
    again = load_splits(
        imdb_cfg(imdb_cache, path=str(imdb_archive), path_sha256=IMDB_ARCHIVE_SHA256)
    )
    second = time.perf_counter() - start
    assert again.digest() == splits.digest()
    assert second < max(10.0, first / 2)
    print(f"first load (extract + read) {first:.1f} s, cached load {second:.1f} s")


@pytest.mark.imdb
def test_real_imdb_wrong_checksum(imdb_archive: Path, imdb_cache: Path) -> None:
    with pytest.raises(DataError, match=IMDB_ARCHIVE_SHA256):
        load_splits(imdb_cfg(imdb_cache, path=str(imdb_archive), path_sha256="0" * 64))
