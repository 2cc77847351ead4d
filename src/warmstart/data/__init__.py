"""The review data as train/validation/test DataFrames: IMDB (aclImdb) or the synthetic corpus.

Both sources end up as an `aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt` tree read by one
reader, so the synthetic corpus exercises exactly the code path of the real data. Archives are
verified (when a checksum is known), extracted safely into the cache and only trusted once a
completion marker exists, so an interrupted run never leaves a half tree that is later read.
Unlabeled reviews (`train/unsup`), `*.feat` and url lists are never extracted or read.
The validation split follows the tutorial (`text_dataset_from_directory` with
`validation_split=0.2, seed=123`): files in path order, a seeded shuffle, the last 20% held out.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import itertools
import json
import os
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from warmstart.core.errors import ConfigError, DataError
from warmstart.data import synthetic

try:
    import fcntl
except ImportError:  # Windows: no flock; concurrent builders of one entry are not serialised
    fcntl = None  # type: ignore[assignment]

ACL_DIR = "aclImdb"
SPLIT_DIRS = ("train", "test")
CLASSES = (("neg", 0), ("pos", 1))
MARKER = ".warmstart-complete"
_EXPECTED = [f"{s}/{c}" for s in SPLIT_DIRS for c, _ in CLASSES]
_STALE_TMP_SECONDS = 6 * 3600
_CHUNK = 1 << 20
# tarfile's extraction filters (and their errors) exist from Python 3.11.4 on.
_FILTER_ERRORS: tuple[type[Exception], ...] = (
    (tarfile.FilterError,) if hasattr(tarfile, "FilterError") else ()
)


@dataclass(frozen=True, eq=False)  # DataFrames do not compare or hash as values; use digest()
class Splits:
    """Train/validation/test reviews (columns `text`, `label` with 0=neg, 1=pos)."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    source: str
    name: str

    def digest(self) -> str:
        """sha256 hex of the texts and labels of all three splits, in order.

        Lets runs record exactly which data they saw, independent of where it was read from.
        """
        h = hashlib.sha256()
        for part, df in (("train", self.train), ("val", self.val), ("test", self.test)):
            h.update(f"{part}:{len(df)}\n".encode())
            for text, label in zip(df["text"].tolist(), df["label"].tolist(), strict=True):
                raw = text.encode("utf-8")
                h.update(f"{int(label)}:{len(raw)}:".encode())
                h.update(raw)
        return h.hexdigest()


# --------------------------------------------------------------------------- configuration


def _get(cfg: Mapping[str, Any], key: str, default: Any = None, *, required: bool = False) -> Any:
    if key in cfg and cfg[key] is not None:
        return cfg[key]
    if required:
        raise ConfigError(f"data.{key} is missing; set it in conf/data/*.yaml or as data.{key}=…")
    return default


def _user_path(value: Any, key: str) -> tuple[Path, str]:
    """Expand `~`; resolve a relative path against the working directory, noting it for errors."""
    raw = Path(str(value)).expanduser()
    if raw.is_absolute():
        return raw, ""
    cwd = Path.cwd()
    return (
        cwd / raw,
        f" (data.{key}={value!r} is relative, resolved against the current directory {cwd})",
    )


def _positive_int(cfg: Mapping[str, Any], key: str, minimum: int) -> int:
    """An integer setting >= `minimum` (bools and fractional numbers are refused)."""
    value = _get(cfg, key, required=True)
    try:
        number = int(value)
        ok = not isinstance(value, bool) and float(value) == number and number >= minimum
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(f"data.{key}={value!r} must be an integer >= {minimum}; fix data.{key}")
    return number


# --------------------------------------------------------------------------- entry point


def load_splits(data_cfg: Mapping[str, Any]) -> Splits:
    """Load the data described by the `data` config group.

    `data.path` (a local aclImdb directory or archive) wins over both the download and the
    synthetic generator, so an offline copy can always be used.
    """
    name = str(_get(data_cfg, "name", required=True))
    if name not in ("imdb", "synthetic"):
        raise ConfigError(f"data.name={name!r} is unknown; use data=imdb or data=synthetic")
    raw_split = _get(data_cfg, "validation_split", 0.2)
    try:
        validation_split = float(raw_split)
    except (TypeError, ValueError):
        validation_split = -1.0
    if not 0.0 <= validation_split < 1.0:
        raise ConfigError(
            f"data.validation_split={raw_split!r} must be in [0, 1); fix data.validation_split"
        )
    split_seed = (
        123 if _get(data_cfg, "split_seed") is None else _positive_int(data_cfg, "split_seed", 0)
    )
    max_reviews = _get(data_cfg, "max_reviews")
    if max_reviews is not None:
        max_reviews = _positive_int(data_cfg, "max_reviews", 2)

    path = _get(data_cfg, "path")
    if path is not None and str(path) != "":
        acl, source = _local_copy(data_cfg, path)
    else:
        cache_dir, _ = _user_path(_get(data_cfg, "cache_dir", required=True), "cache_dir")
        if name == "synthetic":
            acl = _synthetic_copy(data_cfg, cache_dir)
            source = str(acl)
        else:
            url = str(_get(data_cfg, "url", required=True))
            sha = str(_get(data_cfg, "sha256", required=True)).lower()
            archive = _download(url, sha, cache_dir)
            acl = _extract_cached(archive, sha, cache_dir)
            source = url

    train_pool, test = read_acl_dir(acl)
    if max_reviews is not None:
        train_pool = _limit_balanced(train_pool, max_reviews, split_seed)
        test = _limit_balanced(test, max_reviews, split_seed)
    train, val = split_train_val(train_pool, validation_split, split_seed)
    for split_name, df in (("train", train), ("validation", val), ("test", test)):
        if len(df):
            _require_both_classes(df, split_name, acl)
    return Splits(train=train, val=val, test=test, source=source, name=name)


def _local_copy(cfg: Mapping[str, Any], value: Any) -> tuple[Path, str]:
    path, note = _user_path(value, "path")
    expected_sha = _get(cfg, "path_sha256")
    if not path.exists():
        raise DataError(
            f"data.path {str(path)!r} does not exist{note}; set data.path to an aclImdb directory "
            "or a .tar.gz of it (or unset data.path to use the download / generator)"
        )
    if path.is_dir():
        if expected_sha is not None:
            raise DataError(
                f"data.path_sha256 is set but data.path {str(path)!r} is a directory{note}; "
                "a checksum applies to an archive file: unset data.path_sha256 or point data.path "
                "at the .tar.gz"
            )
        acl = find_acl_dir(path, note)
        return acl, str(acl.resolve())
    got = sha256_file(path)
    if expected_sha is not None and got != str(expected_sha).lower():
        raise DataError(
            f"checksum mismatch for {path}{note}: expected sha256 {expected_sha}, got {got}; "
            "fix data.path_sha256 or replace the file with an intact copy"
        )
    cache_dir, _ = _user_path(_get(cfg, "cache_dir", required=True), "cache_dir")
    return _extract_cached(path, got, cache_dir), str(path.resolve())


def _synthetic_copy(cfg: Mapping[str, Any], cache_dir: Path) -> Path:
    generation = _positive_int(cfg, "generation", 0)
    n_train = _positive_int(cfg, "n_train", 2)
    n_test = _positive_int(cfg, "n_test", 2)
    seed = _positive_int(cfg, "corpus_seed", 0)
    key = f"gen{generation}-train{n_train}-test{n_test}-seed{seed}-v{synthetic.FORMAT_VERSION}"

    def build(tmp: Path) -> None:
        synthetic.write_corpus(
            tmp, generation=generation, n_train=n_train, n_test=n_test, seed=seed
        )

    target = _complete_dir(cache_dir / key, build, {"generator": key})
    return target / ACL_DIR


# --------------------------------------------------------------------------- files and cache


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _make_cache_dir(path: Path) -> Path:
    """Create a cache directory, or fail with the config key that moves it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot create the cache directory {path}: {e}; fix data.cache_dir") from e
    return path


def _complete_dir(target: Path, build: Callable[[Path], None], info: dict[str, str]) -> Path:
    """Return `target`, building it first unless its completion marker exists.

    The tree is built in a temporary sibling directory and renamed into place only after it is
    complete (marker included): a crash leaves a `.tmp-` directory that is never trusted.
    Builders of one target take turns under a lock file, so stages started together build it
    once and none deletes a tree another is reading.
    """
    if (target / MARKER).is_file():
        return target
    parent = _make_cache_dir(target.parent)
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


def find_acl_dir(path: Path, note: str = "") -> Path:
    """The aclImdb directory at `path` or `path/aclImdb`, with train|test/pos|neg subdirs."""
    candidates = [path, path / ACL_DIR]
    for cand in candidates:
        if all((cand / sub).is_dir() for sub in _EXPECTED):
            return cand
    if not any(path.iterdir()):
        raise DataError(
            f"directory {path} is empty{note}; point data.path at an aclImdb directory "
            f"(with {', '.join(_EXPECTED)}) or its parent"
        )
    base = path / ACL_DIR if (path / ACL_DIR).is_dir() else path
    missing = [sub for sub in _EXPECTED if not (base / sub).is_dir()]
    raise DataError(
        f"{path} is not an aclImdb directory{note}: expected subdirectories "
        f"{', '.join(_EXPECTED)} in it or in its {ACL_DIR}/ subdirectory (missing under {base}: "
        f"{', '.join(missing)}); point data.path at an extracted aclImdb_v1 archive"
    )


# --------------------------------------------------------------------------- download


def _download(url: str, sha: str, cache_dir: Path) -> Path:
    """The verified archive in `cache_dir`, downloaded only if no verified copy is there."""
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
    _make_cache_dir(cache_dir)
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


# --------------------------------------------------------------------------- extraction


def _skipped(parts: tuple[str, ...]) -> bool:
    """Members the project never reads: unlabeled reviews, bag-of-words and url lists."""
    base = parts[-1] if parts else ""
    if base.endswith(".feat") or (base.startswith("urls_") and base.endswith(".txt")):
        return True
    return any(pair == ("train", "unsup") for pair in itertools.pairwise(parts))


def _checked_parts(member: tarfile.TarInfo, archive: Path) -> tuple[str, ...]:
    """The member's path parts, or a DataError if extracting it could escape or be unsafe."""
    name = member.name
    fix = "use an intact aclImdb archive (re-download it or fix data.path)"
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or (len(name) > 1 and name[1] == ":"):
        raise DataError(f"{archive}: archive member {name!r} has an absolute path; {fix}")
    if ".." in posix.parts:
        raise DataError(
            f"{archive}: archive member {name!r} points outside the target ('..'); {fix}"
        )
    if member.issym() or member.islnk():
        kind = "a symbolic link" if member.issym() else "a hard link"
        raise DataError(
            f"{archive}: archive member {name!r} is {kind} to {member.linkname!r}; {fix}"
        )
    if member.isdev():
        raise DataError(f"{archive}: archive member {name!r} is a device file or fifo; {fix}")
    if not (member.isfile() or member.isdir()):
        raise DataError(f"{archive}: archive member {name!r} has an unsupported type; {fix}")
    return posix.parts


def _safe_members(tf: tarfile.TarFile, archive: Path) -> Iterator[tarfile.TarInfo]:
    for member in tf:  # streams: each member is extracted right after its header is read
        parts = _checked_parts(member, archive)
        if parts and not _skipped(parts):
            yield member


def _safe_extract(archive: Path, dest: Path) -> None:
    """Extract the aclImdb members of `archive` into `dest`, refusing anything unsafe.

    Our own checks run on every member; the tarfile 'data' filter (where available) is a second
    line of defence. Unlabeled reviews and derived files are never written.
    """
    fix = "delete it and download again, or point data.path at an intact copy"
    kwargs: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    try:
        with tarfile.open(archive, "r:*") as tf:
            tf.extractall(dest, members=_safe_members(tf, archive), **kwargs)
    except (
        tarfile.ReadError,
        tarfile.CompressionError,
        EOFError,
        zlib.error,
        gzip.BadGzipFile,
    ) as e:
        raise DataError(f"archive {archive} is truncated or corrupt ({e}); {fix}") from e
    except _FILTER_ERRORS as e:
        raise DataError(f"{archive}: unsafe archive member refused ({e}); {fix}") from e
    except OSError as e:
        raise DataError(
            f"could not extract {archive} into {dest}: {e}; check free space and permissions "
            "of data.cache_dir"
        ) from e


def _extract_cached(archive: Path, sha: str, cache_dir: Path) -> Path:
    """The aclImdb directory of `archive`, extracted once per archive content into the cache."""
    stem = archive.name.split(".")[0] or "archive"
    target = cache_dir / "extracted" / f"{stem}-{sha[:16]}"

    def build(tmp: Path) -> None:
        _safe_extract(archive, tmp)
        if not any(tmp.iterdir()):
            raise DataError(
                f"archive {archive} holds no aclImdb files; point data.path at an aclImdb archive"
            )
        try:
            find_acl_dir(tmp)
        except DataError as e:
            raise DataError(f"archive {archive} does not have the aclImdb layout: {e}") from None

    done = _complete_dir(target, build, {"archive": str(archive), "sha256": sha})
    return find_acl_dir(done)


# --------------------------------------------------------------------------- reading


def _read_text(path: str) -> str:
    with open(path, "rb") as f:
        return f.read().decode("utf-8", errors="replace")


def read_acl_dir(acl: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) DataFrames of text and label, rows in path order (neg before pos).

    A plain serial loop: for 50,000 small files it beats a thread pool (GIL hand-offs dominate).
    """
    frames = []
    for split in SPLIT_DIRS:
        texts: list[str] = []
        labels: list[int] = []
        for cls, label in CLASSES:
            cls_dir = acl / split / cls
            names = sorted(
                e.name for e in os.scandir(cls_dir) if e.name.endswith(".txt") and e.is_file()
            )
            if not names:
                other = CLASSES[1 - label][0]
                raise DataError(
                    f"{cls_dir} holds no reviews: the {split} split has only {other} reviews, "
                    "but a classifier needs both classes; point data.path at a complete "
                    "aclImdb copy"
                )
            base = str(cls_dir)
            texts.extend(_read_text(os.path.join(base, n)) for n in names)
            labels.extend([label] * len(names))
        frames.append(pd.DataFrame({"text": texts, "label": np.asarray(labels, dtype=np.int64)}))
    return frames[0], frames[1]


def split_train_val(
    df: pd.DataFrame, validation_split: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded shuffle, then the last `validation_split` share is validation (as Keras does)."""
    order = np.random.RandomState(seed).permutation(len(df))
    shuffled = df.iloc[order].reset_index(drop=True)
    n_val = int(validation_split * len(df))
    if n_val == 0:
        return shuffled, shuffled.iloc[:0].reset_index(drop=True)
    train = shuffled.iloc[:-n_val].reset_index(drop=True)
    val = shuffled.iloc[-n_val:].reset_index(drop=True)
    return train, val


def _limit_balanced(df: pd.DataFrame, limit: int, seed: int) -> pd.DataFrame:
    """At most `limit` rows, half per class where possible, chosen by a seeded draw, order kept."""
    if len(df) <= limit:
        return df
    labels = df["label"].to_numpy()
    idx = {lab: np.flatnonzero(labels == lab) for _, lab in CLASSES}
    quota = {1: limit // 2, 0: limit - limit // 2}
    short = {lab: max(0, quota[lab] - len(idx[lab])) for lab in quota}
    quota = {lab: min(len(idx[lab]), quota[lab] + short[1 - lab]) for lab in quota}
    rng = np.random.RandomState(seed)
    keep = np.concatenate([np.sort(rng.permutation(idx[lab])[: quota[lab]]) for lab in (0, 1)])
    return df.iloc[np.sort(keep)].reset_index(drop=True)


def _require_both_classes(df: pd.DataFrame, split: str, acl: Path) -> None:
    present = set(df["label"].unique().tolist())
    for cls, label in CLASSES:
        if label not in present:
            raise DataError(
                f"the {split} split read from {acl} has no {cls} reviews (single class); "
                "use more data (raise data.max_reviews) or fix the dataset"
            )
