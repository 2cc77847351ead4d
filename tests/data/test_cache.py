"""`warmstart.data.cache`: reuse, interrupted builds, concurrent builders, verified downloads.

Real files in tmp_path throughout; downloads are `file://` URLs.
"""

from __future__ import annotations

import concurrent.futures
import fcntl
import multiprocessing
import os
import time
from pathlib import Path

import pandas as pd
import pytest
from acl_trees import imdb_cfg, leftovers, make_tar, make_tree, synthetic_cfg

from warmstart.core.digests import sha256_file
from warmstart.core.errors import DataError
from warmstart.data import MARKER, load_splits


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "src")


@pytest.fixture
def archive(tmp_path: Path, tree: Path) -> Path:
    return make_tar(tmp_path / "corpus.tar.gz", tree)


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


def waiting_on(lock: Path) -> int:
    """How many processes are blocked on the lock of file `lock`, as the kernel lists them."""
    st = os.stat(lock)
    where = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino} "
    return sum(" -> " in line and where in line for line in Path("/proc/locks").open())


def test_stages_started_together_share_one_cache_safely(tmp_path: Path) -> None:
    """Several stages starting at once (a sweep, concurrent warm starts) must neither fail on
    nor delete the corpus another one is generating or reading. The test holds each entry's
    lock until two builders are blocked on it (the kernel's lock list shows them), so they
    really collide: one builds while the other waits, then reads what it built."""
    caches = [tmp_path / f"cache{i}" for i in range(2)]
    scratch = load_splits(synthetic_cfg(tmp_path / "scratch", n_train=1500, n_test=600))
    key = Path(scratch.source).parent.name  # the entry's name in any cache
    locks = [cache / f".{key}.lock" for cache in caches]
    held = []
    for cache, lock in zip(caches, locks, strict=True):
        cache.mkdir()
        held.append(lock.open("a+b"))
        fcntl.flock(held[-1], fcntl.LOCK_EX)
    spawn = multiprocessing.get_context("spawn")
    try:
        with concurrent.futures.ProcessPoolExecutor(4, mp_context=spawn) as pool:
            # Interleaved, so the pool's four first tasks are two per cache.
            jobs = [pool.submit(_digest_of_synthetic, str(c)) for _ in range(4) for c in caches]
            deadline = time.monotonic() + 300
            while [waiting_on(lock) for lock in locks] != [2, 2]:
                done = [j for j in jobs if j.done()]
                assert not done, f"a builder went past the held lock: {done[0].result()}"
                assert time.monotonic() < deadline, [waiting_on(lock) for lock in locks]
                time.sleep(0.2)
            for handle in held:
                handle.close()  # releases the lock: the builders race for it now
            digests = [j.result(timeout=300) for j in jobs]
    finally:
        for handle in held:
            handle.close()
    assert len(set(digests)) == 1
    for cache in caches:
        built = [p for p in Path(cache).iterdir() if not p.name.startswith(".")]
        assert len(built) == 1 and (built[0] / MARKER).is_file()
        assert leftovers(Path(cache)) == []


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
