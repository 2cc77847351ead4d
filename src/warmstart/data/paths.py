"""Configured paths as the user meant them, with a note for errors when they were relative;
an `s3://` URI is a bucket location, never a local path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from warmstart.data.object_store import S3Location, is_s3, s3_location


def user_path(value: Any, key: str) -> tuple[Path, str]:
    """Expand `~`; resolve a relative path against the working directory, noting it for errors."""
    raw = Path(str(value)).expanduser()
    if raw.is_absolute():
        return raw, ""
    cwd = Path.cwd()
    return (
        cwd / raw,
        f" (data.{key}={value!r} is relative, resolved against the current directory {cwd})",
    )


def source_path(value: Any, key: str) -> tuple[Path | S3Location, str]:
    """`user_path`, except that an `s3://` URI stays the bucket location it names."""
    if is_s3(value):
        return s3_location(value, key), ""
    return user_path(value, key)
