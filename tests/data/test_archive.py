"""`warmstart.data.archive`: extraction once per content, skipped members, unsafe archives.

Real crafted tarballs in tmp_path throughout.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from acl_trees import imdb_cfg, leftovers, make_tar, make_tree, member

from warmstart.core.digests import sha256_file
from warmstart.core.errors import DataError
from warmstart.data import MARKER, load_splits
from warmstart.data.archive import acl_member_filter


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "src")


@pytest.fixture
def archive(tmp_path: Path, tree: Path) -> Path:
    return make_tar(tmp_path / "corpus.tar.gz", tree)


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


def test_a_users_own_file_given_as_imdb_gets_one_line_pointing_to_data_files_not_delete(
    tmp_path: Path,
) -> None:
    """Issue 10's first try: `data=imdb data.path=tickets.csv` must not say "delete it"."""
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("text,label\nprinter is broken,hardware\n")
    with pytest.raises(DataError) as caught:
        load_splits(imdb_cfg(tmp_path / "cache", path=str(tickets)))
    message = str(caught.value)
    assert "\n" not in message and "delete" not in message
    assert "data=files" in message and "data=folder" in message


def test_archive_without_acl_layout(tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "docs").mkdir(parents=True)
    (other / "docs" / "a.txt").write_text("a")
    with tarfile.open(tmp_path / "other.tar.gz", "w:gz") as tf:
        tf.add(other, arcname="stuff")
    with pytest.raises(DataError, match="aclImdb layout"):
        load_splits(imdb_cfg(tmp_path / "cache", path=str(tmp_path / "other.tar.gz")))


def test_member_filter_skips_unread_members_and_applies_the_data_filter(tmp_path: Path) -> None:
    keep = acl_member_filter(tmp_path / "a.tar.gz")
    for name in ("aclImdb/train/unsup/0_0.txt", "aclImdb/train/labeledBow.feat", "./"):
        assert keep(member(name)[0], str(tmp_path)) is None
    info, _ = member("aclImdb/train/pos/0_9.txt", mode=0o4777)
    kept = keep(info, str(tmp_path))
    assert kept is not None and kept.name == info.name
    assert kept.mode == 0o755  # the standard data filter drops setuid and group/other write
    with pytest.raises(DataError, match="symbolic link"):
        keep(member("aclImdb/x", tarfile.SYMTYPE, linkname="y")[0], str(tmp_path))
