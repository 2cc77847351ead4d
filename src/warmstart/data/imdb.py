"""The IMDB source: an aclImdb tree from a local copy or a verified download.

`data.path` (a local aclImdb directory or archive) is read in place or extracted into the cache;
otherwise `data.url` is downloaded into the cache and checked against `data.sha256`. An archive
is only extracted once its checksum is known, so the cache is keyed by content.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from warmstart.core.digests import sha256_file
from warmstart.core.errors import DataError
from warmstart.data.acl_layout import find_acl_dir
from warmstart.data.archive import YOUR_FILE, extract_cached
from warmstart.data.cache import download_verified
from warmstart.data.paths import user_path
from warmstart.data.settings import setting


def local_copy(cfg: Mapping[str, Any], value: Any) -> tuple[Path, str]:
    """(aclImdb dir, recorded source) of `data.path`: a directory as is, an archive extracted."""
    path, note = user_path(value, "path")
    expected_sha = setting(cfg, "path_sha256")
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
    cache_dir, _ = user_path(setting(cfg, "cache_dir", required=True), "cache_dir")
    return extract_cached(path, got, cache_dir, YOUR_FILE), str(path.resolve())


def downloaded_copy(cfg: Mapping[str, Any], cache_dir: Path) -> tuple[Path, str]:
    """(aclImdb dir, url) of the verified download of `data.url`, extracted into the cache."""
    url = str(setting(cfg, "url", required=True))
    sha = str(setting(cfg, "sha256", required=True)).lower()
    archive = download_verified(url, sha, cache_dir)
    return extract_cached(archive, sha, cache_dir), url
