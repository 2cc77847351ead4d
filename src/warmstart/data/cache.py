"""The data cache: trees are trusted only once complete, builders take turns, downloads verified.

A tree is built in a temporary sibling directory and renamed into place with a completion
marker, so an interrupted run never leaves a half tree that a later run reads. Stages started
together serialise on a lock file per entry, so an entry is built once and no builder deletes
a tree another process is reading.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from tqdm import tqdm

from warmstart.core.digests import sha256_file
from warmstart.core.errors import DataError

try:
    import fcntl
except ImportError:  # Windows: no flock; concurrent builders of one entry are not serialised
    fcntl = None  # type: ignore[assignment]

MARKER = ".warmstart-complete"
_STALE_TMP_SECONDS = 6 * 3600
_CHUNK = 1 << 20


def make_cache_dir(path: Path) -> Path:
    """Create a cache directory, or fail with the config key that moves it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot create the cache directory {path}: {e}; fix data.cache_dir") from e
    return path


def complete_dir(target: Path, build: Callable[[Path], None], info: dict[str, str]) -> Path:
    """Return `target`, building it first unless its completion marker exists.

    The tree is built in a temporary sibling directory and renamed into place only after it is
    complete (marker included): a crash leaves a `.tmp-` directory that is never trusted.
    Builders of one target take turns under a lock file, so stages started together build it
    once and none deletes a tree another is reading.
    """
    if (target / MARKER).is_file():
        return target
    parent = make_cache_dir(target.parent)
    with _exclusive(parent / f".{target.name}.lock"):
        if (target / MARKER).is_file():  # built while this process waited
            return target
        _remove_stale_tmp(parent, target.name)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
        os.chmod(tmp, 0o755)  # mkdtemp's 0700 would make the shared cache private
        try:
            build(tmp)
            (tmp / MARKER).write_text(json.dumps(info, sort_keys=True) + "\n", encoding="utf-8")
            if target.exists():  # an incomplete tree from an interrupted older version
                shutil.rmtree(target)
            os.rename(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return target


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path`, removed on release so the cache stays clean.

    The OS drops the lock if the process dies. A waiter that wakes on a file its holder has
    already unlinked retries on the current one, so no two holders ever overlap.
    """
    if fcntl is None:
        yield
        return
    while True:
        handle = open(lock_path, "a+b")  # noqa: SIM115 - held open across the yield
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            current = os.stat(lock_path).st_ino == os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        handle.close()
    try:
        yield
    finally:
        lock_path.unlink(missing_ok=True)
        handle.close()


def _remove_stale_tmp(parent: Path, name: str) -> None:
    """Delete leftovers of interrupted builds (old enough not to belong to a running one)."""
    now = time.time()
    for leftover in parent.glob(f".{name}.tmp-*"):
        with contextlib.suppress(OSError):
            if now - leftover.stat().st_mtime > _STALE_TMP_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)


def download_verified(url: str, sha: str, cache_dir: Path) -> Path:
    """The verified archive in `cache_dir`, downloaded only if no verified copy is there.

    The download goes to a `.part` file that is hashed while written and renamed into place
    only when its sha256 matches, so the cache never holds an unverified archive.
    """
    name = Path(urllib.parse.urlparse(url).path).name or "aclImdb_v1.tar.gz"
    dest = cache_dir / name
    if dest.is_file():
        got = sha256_file(dest)
        if got == sha:
            return dest
        raise DataError(
            f"checksum mismatch for the cached download {dest}: expected sha256 {sha}, got {got}; "
            "delete the cached file to download it again (or fix data.sha256)"
        )
    make_cache_dir(cache_dir)
    fd, part_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=cache_dir)
    part = Path(part_name)
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"Downloading {name}") as bar:
                while chunk := resp.read(_CHUNK):
                    out.write(chunk)
                    h.update(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError, ValueError) as e:
        part.unlink(missing_ok=True)
        reason = getattr(e, "reason", e)
        raise DataError(
            f"could not download {url}: {reason}; check the network connection, or fetch the "
            "archive elsewhere and set data.path=<path to aclImdb_v1.tar.gz> (works offline)"
        ) from e
    got = h.hexdigest()
    if got != sha:
        part.unlink(missing_ok=True)
        raise DataError(
            f"checksum mismatch for the download of {url}: expected sha256 {sha}, got {got}; "
            "the file was discarded: retry the download, or fix data.sha256 if the archive changed"
        )
    os.replace(part, dest)
    return dest
