"""Extract an aclImdb archive into the cache safely, once per archive content.

One `filter=` callable decides every member: it refuses anything that could escape the target
or is not a plain file or directory (with a message naming the member and the fix), skips what
the project never reads (unlabeled reviews, bag-of-words and url lists) and hands the rest to
the standard library's `data` filter, which also normalises permissions. Members are checked
as the archive streams, each right before it is written.
"""

from __future__ import annotations

import gzip
import itertools
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from warmstart.core.errors import DataError
from warmstart.data.acl_layout import find_acl_dir
from warmstart.data.cache import complete_dir

MemberFilter = Callable[[tarfile.TarInfo, str], tarfile.TarInfo | None]


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


def acl_member_filter(archive: Path) -> MemberFilter:
    """The `filter=` for extracting `archive`: refuse unsafe members, skip unread ones.

    Returns the member as `tarfile.data_filter` passes it, or None to skip it; raises
    DataError for a member that is unsafe to extract (its errors name `archive`).
    """

    def keep(member: tarfile.TarInfo, dest_path: str) -> tarfile.TarInfo | None:
        parts = _checked_parts(member, archive)
        if not parts or _skipped(parts):
            return None
        return tarfile.data_filter(member, dest_path)

    return keep


# What to do about an archive that cannot be read depends on whose it is: a download in the
# cache can be fetched again; a user's `data.path` is theirs, never to be deleted.
REDOWNLOAD = "delete it and download again, or point data.path at an intact copy"
YOUR_FILE = (
    "point data.path at an intact aclImdb .tar.gz or directory (a table of your own: "
    "data=files; one folder per class: data=folder)"
)


def safe_extract(archive: Path, dest: Path, fix: str = REDOWNLOAD) -> None:
    """Extract the aclImdb members of `archive` into `dest`, refusing anything unsafe."""
    try:
        with tarfile.open(archive, "r:*") as tf:
            tf.extractall(dest, filter=acl_member_filter(archive))
    except (
        tarfile.ReadError,
        tarfile.CompressionError,
        EOFError,
        zlib.error,
        gzip.BadGzipFile,
    ) as e:
        reason = " ".join(str(e).split())  # tarfile lists one line per method it tried
        raise DataError(f"archive {archive} is truncated or corrupt ({reason}); {fix}") from e
    except tarfile.FilterError as e:
        raise DataError(f"{archive}: unsafe archive member refused ({e}); {fix}") from e
    except OSError as e:
        raise DataError(
            f"could not extract {archive} into {dest}: {e}; check free space and permissions "
            "of data.cache_dir"
        ) from e


def extract_cached(archive: Path, sha: str, cache_dir: Path, fix: str = REDOWNLOAD) -> Path:
    """The aclImdb directory of `archive`, extracted once per archive content into the cache.

    `fix` is what an unreadable archive's error tells the user to do (see REDOWNLOAD).
    """
    stem = archive.name.split(".")[0] or "archive"
    target = cache_dir / "extracted" / f"{stem}-{sha[:16]}"

    def build(tmp: Path) -> None:
        safe_extract(archive, tmp, fix)
        if not any(tmp.iterdir()):
            raise DataError(
                f"archive {archive} holds no aclImdb files; point data.path at an aclImdb archive"
            )
        try:
            find_acl_dir(tmp)
        except DataError as e:
            raise DataError(f"archive {archive} does not have the aclImdb layout: {e}") from None

    done = complete_dir(target, build, {"archive": str(archive), "sha256": sha})
    return find_acl_dir(done)
