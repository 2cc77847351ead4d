"""Tables in an S3 bucket: `data.path=s3://bucket/prefix/` (every shard under it), a glob over
the bucket's listing (`s3://bucket/exports/part-*.parquet`) or one object, read through
pyarrow's S3 filesystem (Parquet with projection and the window pushed down, as local shards).

Where the bucket is served, and as whom, comes from the standard AWS variables, so a setup
that already reaches the bucket with the AWS CLI or MLflow reaches it here:

- endpoint: `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL` (the service's own variable wins,
  as in AWS's SDKs), else `MLFLOW_S3_ENDPOINT_URL` (what an MLflow artifact store in MinIO or
  another S3-compatible server already sets), else AWS's S3 itself. A URL with its scheme
  (`http://127.0.0.1:9000`); without one, https.
- region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the AWS SDK's own guess.
- credentials: the AWS SDK's chain: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (and
  `AWS_SESSION_TOKEN`), else the profile files (`AWS_PROFILE`), else the machine's role.
- attempts per request: `AWS_MAX_ATTEMPTS` (default 3; retries wait between attempts).

An endpoint that does not answer, credentials it refuses, a bucket that does not exist, or a
prefix holding no table file are each one `DataError` naming the URI and what to set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, TYPE_CHECKING, Any

from warmstart.core.errors import DataError

if TYPE_CHECKING:
    import pyarrow.fs as pafs

SCHEME = "s3://"
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL")
GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True, order=True)
class S3Location:
    """An object or a prefix in a bucket; `str()` is its `s3://` URI. Path-like where the
    table readers ask (`name`, `suffix`), so a shard may be a local `Path` or one of these."""

    bucket: str
    key: str

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.key}"

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix

    @property
    def arrow_path(self) -> str:
        """The path pyarrow's S3 filesystem names it by: `bucket/key`."""
        return f"{self.bucket}/{self.key}"

    def is_file(self) -> bool:
        """Whether a local file of this name exists: never, so errors name a bad row by its
        1-based row (`table.row_places` counts lines in local files only)."""
        return False

    def resolve(self) -> S3Location:
        """Already absolute (a source's `where` is resolved before it is recorded)."""
        return self


def is_s3(value: Any) -> bool:
    return str(value).startswith(SCHEME)


def s3_location(value: Any, key: str) -> S3Location:
    """`s3://bucket/key` as a location; a URI without a bucket is refused."""
    bucket, _, rest = str(value)[len(SCHEME) :].partition("/")
    if not bucket:
        raise DataError(
            f"data.{key}={value!r} names no bucket; write it as s3://<bucket>/<prefix>/ "
            "(every shard under the prefix), s3://<bucket>/<prefix>/part-*.parquet or "
            "s3://<bucket>/<key>.parquet"
        )
    return S3Location(bucket, rest)


def s3_endpoint() -> str | None:
    """The first endpoint variable set (see the module docstring); None: AWS's S3."""
    return next((os.environ[v] for v in ENDPOINT_VARIABLES if os.environ.get(v)), None)


def s3_filesystem() -> pafs.S3FileSystem:
    """pyarrow's S3 filesystem as the AWS variables describe it (read on every call, so a
    changed environment is seen; building one takes about a millisecond)."""
    import pyarrow.fs as pafs

    try:
        attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or 3)
    except ValueError:
        raise DataError(
            f"AWS_MAX_ATTEMPTS={os.environ['AWS_MAX_ATTEMPTS']!r} is no whole number; set it "
            "to the attempts per S3 request (e.g. 3) or unset it"
        ) from None
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
    return pafs.S3FileSystem(
        region=region,
        endpoint_override=s3_endpoint(),
        retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=max(1, attempts)),
    )


def s3_tables(value: Any, key: str, skipped: Callable[[str, int], bool]) -> list[S3Location] | None:
    """The objects `data.<key>` names, in the order their paths on disk would sort: a glob's
    matches, or every object under a prefix that `skipped(relative name, size)` does not
    refuse; None when it names one object."""
    where = s3_location(value, key)
    fs = s3_filesystem()
    if GLOB.search(where.key):
        base = GLOB.split(where.key, 1)[0].rpartition("/")[0]
        pattern = _glob_pattern(where.key)
        listed = _listing(fs, S3Location(where.bucket, base), where)
        found = [o for o, size in listed if pattern.match(o.key) and not skipped(o.name, size)]
        if not found:
            raise DataError(
                f"data.{key}={value!r} matches no table object in bucket {where.bucket!r}"
                f"{_endpoint_note()}; fix the pattern, or set data.{key} to a prefix of shards "
                "(s3://bucket/prefix/) or to one object"
            )
        return found
    if where.key and not where.key.endswith("/"):
        info = _call(lambda: fs.get_file_info(where.arrow_path), where)
        if info.is_file:
            return None
    prefix = where.key.rstrip("/")
    listed = _listing(fs, S3Location(where.bucket, prefix), where)
    start = len(prefix) + 1 if prefix else 0
    found = [o for o, size in listed if not skipped(o.key[start:], size)]
    if not found:
        raise DataError(
            f"{where} holds no table files (no object of that key, none under that prefix)"
            f"{_endpoint_note()}; set data.{key} to a prefix of csv, tsv, parquet or jsonl "
            "shards (s3://bucket/prefix/), a glob of them, or one object"
        )
    return found


def _listing(
    fs: pafs.S3FileSystem, prefix: S3Location, where: S3Location
) -> list[tuple[S3Location, int]]:
    """Every object under `prefix` with its size; a bucket that does not exist is refused."""
    import pyarrow.fs as pafs

    selector = pafs.FileSelector(prefix.arrow_path, recursive=True, allow_not_found=True)
    infos = _call(lambda: fs.get_file_info(selector), where)
    if not infos and _call(lambda: fs.get_file_info(where.bucket), where).type == (
        pafs.FileType.NotFound
    ):
        raise DataError(
            f"bucket {where.bucket!r} of {where} does not exist{_endpoint_note()}; fix the "
            "bucket's name, or set AWS_ENDPOINT_URL to the S3 server that holds it"
        )
    objects = [
        (S3Location(where.bucket, i.path.partition("/")[2]), int(i.size or 0))
        for i in infos
        if i.is_file
    ]
    return sorted(objects, key=lambda item: item[0].key.split("/"))  # as local paths sort


def _glob_pattern(pattern: str) -> re.Pattern[str]:
    """A glob over keys as `glob.glob(recursive=True)` reads a path: `*` and `?` stay within
    one `/`-separated part, `**` spans any number of them, `[...]` is a character class, and
    a wildcard never starts a part with `.` (hidden names are matched only when spelled)."""
    out, i = [], 0
    while i < len(pattern):
        start = i == 0 or pattern[i - 1] == "/"
        visible = "(?!\\.)" if start else ""
        if pattern.startswith("**/", i) and start:
            out.append("(?:(?!\\.)[^/]*/)*")
            i += 3
            continue
        if pattern[i:] == "**" and start:  # every name below, at any depth
            out.append("(?:(?!\\.)[^/]*/)*(?!\\.)[^/]*")
            break
        char = pattern[i]
        end = pattern.find("]", i + 2) if char == "[" else -1
        if char == "*":
            out.append(visible + "[^/]*")
        elif char == "?":
            out.append(visible + "[^/]")
        elif end != -1:
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            out.append(visible + "[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def open_object(where: S3Location) -> IO[bytes]:
    """The object as a stream of bytes (for pandas' csv and json readers)."""
    fs = s3_filesystem()
    return _call(lambda: fs.open_input_stream(where.arrow_path), where)


def _call(call: Any, where: S3Location) -> Any:
    try:
        return call()
    except OSError as exc:
        raise s3_error(exc, where) from None


def s3_error(exc: BaseException, where: S3Location) -> DataError:
    """pyarrow's error reaching `where` as one line: what went wrong and what to set."""
    text = str(exc)
    reason = re.sub(r"\s*\(Request ID: [^)]*\)", "", text.splitlines()[0] if text else "")[:200]
    reason = reason or type(exc).__name__
    if "NETWORK_CONNECTION" in text or "curlCode" in text:
        return DataError(
            f"cannot reach the S3 endpoint for {where}{_endpoint_note()} ({reason}); start that "
            "server, or set AWS_ENDPOINT_URL to the S3 server's URL (e.g. http://host:9000)"
        )
    if any(s in text for s in ("ACCESS_DENIED", "INVALID_ACCESS_KEY_ID", "SIGNATURE")):
        return DataError(
            f"the S3 server refused access to {where}{_endpoint_note()} ({reason}); set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) to a key allowed to "
            "list and read that bucket"
        )
    if "NO_SUCH_BUCKET" in text:
        return DataError(
            f"bucket {where.bucket!r} of {where} does not exist{_endpoint_note()}; fix the "
            "bucket's name, or set AWS_ENDPOINT_URL to the S3 server that holds it"
        )
    if isinstance(exc, FileNotFoundError):
        return DataError(
            f"{where} does not exist{_endpoint_note()}; set data.path to an object, a prefix "
            "or a glob that the bucket holds"
        )
    return DataError(
        f"cannot read {where}{_endpoint_note()} ({reason}); check the URI and the AWS_* "
        "variables (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
    )


def is_store_error(exc: BaseException) -> bool:
    """An error of the S3 service (not of the bytes it returned)."""
    return isinstance(exc, OSError) and "AWS Error" in str(exc)


def _endpoint_note() -> str:
    endpoint = s3_endpoint()
    return f" at {endpoint}" if endpoint else " (AWS's S3: no AWS_ENDPOINT_URL set)"
