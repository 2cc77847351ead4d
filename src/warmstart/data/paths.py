"""Configured paths as the user meant them, with a note for errors when they were relative."""

from __future__ import annotations

from pathlib import Path
from typing import Any


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
