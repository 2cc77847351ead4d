"""`warmstart.data`: reading, splitting, caching, safe extraction and download of aclImdb data.

Real files in tmp_path throughout: crafted trees and tarballs, `file://` downloads.
"""

from __future__ import annotations

import concurrent.futures
import io
import multiprocessing
import tarfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import IMDB_ARCHIVE_SHA256

from warmstart.core.errors import ConfigError, DataError
from warmstart.data import MARKER, Splits, load_splits, sha256_file

# --------------------------------------------------------------------------- helpers


def make_tree(root: Path, n: int = 10, *, extra: bool = False) -> Path:
    """A tiny aclImdb tree with `n` reviews per class and split; returns the aclImdb dir."""
    acl = root / "aclImdb"
    for split in ("train", "test"):
        for cls, ratings in (("neg", (1, 2, 3, 4)), ("pos", (7, 8, 9, 10))):
            d = acl / split / cls
            d.mkdir(parents=True)
            for i in range(n):
                text = f"{split} {cls} review number {i}.<br /><br />It was {cls}!"
                (d / f"{i}_{ratings[i % 4]}.txt").write_text(text, encoding="utf-8")
    (acl / "README").write_text("tiny test tree\n")
    (acl / "imdb.vocab").write_text("the\na\n")
    if extra:  # what the official archive has beyond the labeled reviews
        unsup = acl / "train" / "unsup"
        unsup.mkdir()
        for i in range(5):
            (unsup / f"{i}_0.txt").write_text(f"unlabeled {i}")
        (acl / "train" / "labeledBow.feat").write_text("0 0:1\n")
        (acl / "train" / "urls_pos.txt").write_text("http://example.invalid\n")
        (acl / "train" / "urls_unsup.txt").write_text("http://example.invalid\n")
    return acl


def make_tar(
    path: Path, acl: Path, extra: tuple[tuple[tarfile.TarInfo, bytes | None], ...] = ()
) -> Path:
    """A .tar.gz of `acl` (as aclImdb/...), with crafted `extra` members appended."""
    with tarfile.open(path, "w:gz") as tf:
        tf.add(acl, arcname="aclImdb")
        for info, payload in extra:
            tf.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return path


def member(
    name: str, kind: bytes = tarfile.REGTYPE, payload: bytes = b"x", **kw: Any
) -> tuple[tarfile.TarInfo, bytes | None]:
    """A crafted tar member (regular file, link, fifo, device, ...) and its payload."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(payload) if kind == tarfile.REGTYPE else 0
    for key, value in kw.items():
        setattr(info, key, value)
    return info, payload if kind == tarfile.REGTYPE else None


def imdb_cfg(cache: Path, **kw: Any) -> dict[str, Any]:
    cfg = {
        "name": "imdb",
        "path": None,
        "path_sha256": None,
        "url": "file:///nonexistent/aclImdb_v1.tar.gz",
        "sha256": "0" * 64,
        "cache_dir": str(cache),
        "validation_split": 0.2,
        "split_seed": 123,
        "max_reviews": None,
    }
    cfg.update(kw)
    return cfg


def synthetic_cfg(cache: Path, **kw: Any) -> dict[str, Any]:
    cfg = {
        "name": "synthetic",
        "path": None,
        "generation": 0,
        "n_train": 200,
        "n_test": 80,
        "corpus_seed": 7,
        "cache_dir": str(cache),
        "validation_split": 0.2,
        "split_seed": 123,
        "max_reviews": None,
    }
    cfg.update(kw)
    return cfg


def leftovers(cache: Path) -> list[str]:
    """Anything in the cache that looks like an unfinished extraction or download."""
    return [str(p) for p in cache.rglob("*") if ".tmp-" in p.name or p.name.endswith(".part")]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "src")


@pytest.fixture
def archive(tmp_path: Path, tree: Path) -> Path:
    return make_tar(tmp_path / "corpus.tar.gz", tree)


# --------------------------------------------------------------------------- synthetic


def test_synthetic_splits_sizes_and_columns(tmp_path: Path) -> None:
    splits = load_splits(synthetic_cfg(tmp_path / "cache"))
    assert isinstance(splits, Splits)
    assert splits.name == "synthetic"
    assert (len(splits.train), len(splits.val), len(splits.test)) == (160, 40, 80)
    for df in (splits.train, splits.val, splits.test):
        assert list(df.columns) == ["text", "label"]
        assert set(df["label"].tolist()) == {0, 1}
        assert df["label"].dtype == np.int64
        assert all(isinstance(t, str) and t for t in df["text"].tolist())
        assert list(df.index) == list(range(len(df)))
    key_dir = Path(splits.source).parent
    assert Path(splits.source).name == "aclImdb"
    assert key_dir.parent == tmp_path / "cache"
    assert "gen0" in key_dir.name and "200" in key_dir.name and "80" in key_dir.name
    assert (key_dir / MARKER).is_file()
    assert not leftovers(tmp_path / "cache")


def test_synthetic_is_deterministic_and_cached(tmp_path: Path) -> None:
    cfg = synthetic_cfg(tmp_path / "cache")
    first = load_splits(cfg)
    marker = Path(first.source).parent / MARKER
    stamp = marker.stat().st_mtime_ns
    second = load_splits(cfg)
    assert marker.stat().st_mtime_ns == stamp  # reused, not generated again
    pd.testing.assert_frame_equal(first.train, second.train)
    assert first.digest() == second.digest()
    # A fresh cache regenerates the same corpus, hence the same content digest.
    assert load_splits(synthetic_cfg(tmp_path / "other")).digest() == first.digest()


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
    flipped.loc[0, "label"] = 1 - flipped.loc[0, "label"]
    assert Splits(base.train, base.val, flipped, "x", "y").digest() != base.digest()
    # Where the data came from does not matter, only the content.
    assert Splits(base.train, base.val, base.test, "elsewhere", "imdb").digest() == base.digest()


def test_interrupted_synthetic_generation_is_not_trusted(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    good = load_splits(synthetic_cfg(cache))
    key_dir = Path(good.source).parent
    # Simulate a crash mid-way: marker gone, part of the tree missing, a stray temp dir.
    (key_dir / MARKER).unlink()
    for p in list((key_dir / "aclImdb" / "test" / "pos").iterdir())[:30]:
        p.unlink()
    (cache / f".{key_dir.name}.tmp-crashed").mkdir()
    again = load_splits(synthetic_cfg(cache))
    assert again.digest() == good.digest()
    assert (key_dir / MARKER).is_file()


def _digest_of_synthetic(cache: str) -> str:
    return load_splits(synthetic_cfg(Path(cache), n_train=1500, n_test=600)).digest()


def test_stages_started_together_share_one_cache_safely(tmp_path: Path) -> None:
    # Several stages starting at once (a sweep, concurrent warm starts) must neither fail
    # on nor delete the corpus another one is generating or reading.
    caches = [str(tmp_path / f"cache{i}") for i in range(2)]
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(4, mp_context=spawn) as pool:
        digests = list(pool.map(_digest_of_synthetic, [c for c in caches for _ in range(4)]))
    assert len(set(digests)) == 1
    for cache in caches:
        built = [p for p in Path(cache).iterdir() if not p.name.startswith(".")]
        assert len(built) == 1 and (built[0] / MARKER).is_file()
        assert leftovers(Path(cache)) == []


def test_local_path_wins_for_synthetic_too(tmp_path: Path, tree: Path) -> None:
    splits = load_splits(synthetic_cfg(tmp_path / "cache", path=str(tree)))
    assert len(splits.test) == 20
    assert not (tmp_path / "cache").exists()


# --------------------------------------------------------------------------- splitting


def test_validation_split_matches_keras_seeded_shuffle(tmp_path: Path, tree: Path) -> None:
    """Same files in validation as the tutorial's text_dataset_from_directory(seed=123)."""
    keras = pytest.importorskip("keras")
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
    assert splits.test["label"].tolist() == [0] * 50 + [1] * 50
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
    assert splits.test["label"].value_counts().to_dict() == {0: 20, 1: 20}
    pool = pd.concat([splits.train, splits.val])
    assert pool["label"].value_counts().to_dict() == {0: 20, 1: 20}
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


# --------------------------------------------------------------------------- local copies


def test_directory_itself_or_its_parent(tmp_path: Path, tree: Path) -> None:
    cache = tmp_path / "cache"
    direct = load_splits(imdb_cfg(cache, path=str(tree)))
    parent = load_splits(imdb_cfg(cache, path=str(tree.parent)))
    assert direct.source == parent.source == str(tree)
    assert direct.name == "imdb"
    assert direct.digest() == parent.digest()
    assert (len(direct.train), len(direct.val), len(direct.test)) == (16, 4, 20)
    assert not cache.exists()  # a directory is read in place: nothing written


def test_archive_is_extracted_once_and_matches_directory(
    tmp_path: Path, tree: Path, archive: Path
) -> None:
    cache = tmp_path / "cache"
    from_tar = load_splits(imdb_cfg(cache, path=str(archive)))
    assert from_tar.source == str(archive)
    assert from_tar.digest() == load_splits(imdb_cfg(cache, path=str(tree))).digest()
    (target,) = (cache / "extracted").iterdir()
    assert (target / MARKER).is_file()
    stamp = (target / MARKER).stat().st_mtime_ns
    again = load_splits(imdb_cfg(cache, path=str(archive), path_sha256=sha256_file(archive)))
    assert again.digest() == from_tar.digest()
    assert (target / MARKER).stat().st_mtime_ns == stamp  # not extracted again
    assert not leftovers(cache)


def test_unsup_feat_and_url_files_are_skipped(tmp_path: Path) -> None:
    acl = make_tree(tmp_path / "src", extra=True)
    archive = make_tar(tmp_path / "official.tar.gz", acl)
    cache = tmp_path / "cache"
    splits = load_splits(imdb_cfg(cache, path=str(archive)))
    assert len(splits.train) + len(splits.val) == 20
    assert not any("unlabeled" in t for t in splits.train["text"])
    names = {p.name for p in (cache / "extracted").rglob("*")}
    assert "unsup" not in names
    assert not any(n.endswith(".feat") or n.startswith("urls_") for n in names)
    assert "README" in names
    # An extracted official tree with unsup/ is read without it as well.
    assert load_splits(imdb_cfg(cache, path=str(acl))).digest() == splits.digest()


def test_interrupted_extraction_is_not_trusted(tmp_path: Path, archive: Path) -> None:
    cache = tmp_path / "cache"
    good = load_splits(imdb_cfg(cache, path=str(archive)))
    (target,) = (cache / "extracted").iterdir()
    # A crash after a partial extraction: no marker, files missing, a leftover temp dir.
    (target / MARKER).unlink()
    for p in (target / "aclImdb" / "test" / "pos").iterdir():
        p.unlink()
    (target / "aclImdb" / "bogus.txt").write_text("left over")
    stale = target.parent / f".{target.name}.tmp-abc123"
    (stale / "aclImdb" / "train" / "pos").mkdir(parents=True)
    again = load_splits(imdb_cfg(cache, path=str(archive)))
    assert again.digest() == good.digest()
    assert (target / MARKER).is_file()
    assert not (target / "aclImdb" / "bogus.txt").exists()  # rebuilt, not patched


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


# --------------------------------------------------------------------------- bad inputs


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


def test_single_class_validation_split(tmp_path: Path) -> None:
    acl = make_tree(tmp_path / "src", n=2)
    with pytest.raises(DataError, match=r"validation split .*single class"):
        load_splits(imdb_cfg(tmp_path / "cache", path=str(acl), validation_split=0.25))


UNSAFE = {
    "dotdot": (member("aclImdb/../../evil.txt"), "outside the target"),
    "absolute": (member("/tmp/warmstart-evil.txt"), "absolute path"),
    "symlink": (
        member("aclImdb/train/pos/9_9.txt", tarfile.SYMTYPE, linkname="/etc/passwd"),
        "symbolic link",
    ),
    "hardlink": (
        member("aclImdb/train/pos/9_9.txt", tarfile.LNKTYPE, linkname="aclImdb/README"),
        "hard link",
    ),
    "fifo": (member("aclImdb/train/pos/fifo", tarfile.FIFOTYPE), "device file or fifo"),
    "chardev": (
        member("aclImdb/dev", tarfile.CHRTYPE, devmajor=1, devminor=3),
        "device file or fifo",
    ),
}


@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_unsafe_archive_members_are_refused(tmp_path: Path, tree: Path, case: str) -> None:
    (info, payload), why = UNSAFE[case]
    archive = make_tar(tmp_path / f"{case}.tar.gz", tree, ((info, payload),))
    cache = tmp_path / "cache"
    with pytest.raises(DataError) as err:
        load_splits(imdb_cfg(cache, path=str(archive)))
    message = str(err.value)
    assert repr(info.name) in message and why in message
    assert "\n" not in message
    # Nothing trusted, nothing half-extracted left behind, nothing written outside the cache.
    assert not any((cache / "extracted").iterdir())
    assert not Path("/tmp/warmstart-evil.txt").exists()
    assert not (tmp_path.parent / "evil.txt").exists()


def test_truncated_archive(tmp_path: Path, archive: Path) -> None:
    raw = archive.read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(raw[: len(raw) // 2])
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="truncated or corrupt"):
        load_splits(imdb_cfg(cache, path=str(cut)))
    assert not any((cache / "extracted").iterdir())
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"this is not an archive" * 100)
    with pytest.raises(DataError, match="truncated or corrupt"):
        load_splits(imdb_cfg(cache, path=str(garbage)))


def test_archive_without_acl_layout(tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "docs").mkdir(parents=True)
    (other / "docs" / "a.txt").write_text("a")
    with tarfile.open(tmp_path / "other.tar.gz", "w:gz") as tf:
        tf.add(other, arcname="stuff")
    with pytest.raises(DataError, match="aclImdb layout"):
        load_splits(imdb_cfg(tmp_path / "cache", path=str(tmp_path / "other.tar.gz")))


# --------------------------------------------------------------------------- download


def test_download_verifies_and_reuses_cached_copy(tmp_path: Path, archive: Path) -> None:
    cache = tmp_path / "cache"
    sha = sha256_file(archive)
    cfg = imdb_cfg(cache, url=archive.as_uri(), sha256=sha)
    first = load_splits(cfg)
    assert first.source == archive.as_uri()
    cached = cache / archive.name
    assert sha256_file(cached) == sha
    stamp = cached.stat().st_mtime_ns
    archive.unlink()  # a second download would now fail: the cached copy must be used
    time.sleep(0.01)
    second = load_splits(cfg)
    assert second.digest() == first.digest()
    assert cached.stat().st_mtime_ns == stamp
    assert not leftovers(cache)


def test_download_with_wrong_checksum_is_not_kept(tmp_path: Path, archive: Path) -> None:
    cache = tmp_path / "cache"
    got = sha256_file(archive)
    cfg = imdb_cfg(cache, url=archive.as_uri(), sha256="cd" * 32)
    with pytest.raises(DataError) as err:
        load_splits(cfg)
    message = str(err.value)
    assert "cd" * 32 in message and got in message and "data.sha256" in message
    assert not (cache / archive.name).exists()
    assert not leftovers(cache)
    # With the right checksum the next run downloads and works.
    assert len(load_splits({**cfg, "sha256": got}).test) == 20


def test_cached_download_with_other_checksum(tmp_path: Path, archive: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / archive.name).write_bytes(b"tampered")
    cfg = imdb_cfg(cache, url=archive.as_uri(), sha256=sha256_file(archive))
    with pytest.raises(DataError, match="delete the cached file"):
        load_splits(cfg)


def test_download_failure_names_offline_fix(tmp_path: Path) -> None:
    cfg = imdb_cfg(tmp_path / "cache", url=(tmp_path / "absent.tar.gz").as_uri())
    with pytest.raises(DataError, match=r"could not download .*data\.path="):
        load_splits(cfg)
    assert not leftovers(tmp_path / "cache")


# --------------------------------------------------------------------------- the real data


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
        assert set(df["label"].unique().tolist()) == {0, 1}
    assert splits.test["label"].value_counts().to_dict() == {0: 12_500, 1: 12_500}
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
