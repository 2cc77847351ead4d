"""One value of a config group: present, an integer, a number in range, a known name, a file.

The group checks (`config.validation`) are built from these. Each takes the group's mapping,
where the group sits (`base.train`, or "" at the top) and the key, and raises one
`ConfigError` naming the full key and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from warmstart.core.errors import ConfigError


def key_name(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def value_of(group: Mapping[str, Any], where: str, key: str, *, optional: bool = False) -> Any:
    """The value of `key`; a missing one is an error unless `optional`."""
    value = group.get(key) if key in group else None
    if value is None and not optional:
        name = key_name(where, key)
        raise ConfigError(f"{name} is missing; set it in conf/ or as {name}=…")
    return value


def check_integer(
    group: Mapping[str, Any], where: str, key: str, minimum: int, *, optional: bool = False
) -> None:
    """An integer >= `minimum`: bools and fractional numbers are refused."""
    value = value_of(group, where, key, optional=optional)
    if value is None:
        return
    try:
        whole = not isinstance(value, bool) and float(value) == int(value) >= minimum
    except (TypeError, ValueError):
        whole = False
    if not whole:
        name = key_name(where, key)
        raise ConfigError(f"{name}={value!r} must be an integer >= {minimum}; fix {name}")


def number_of(group: Mapping[str, Any], where: str, key: str) -> float | None:
    """The value of `key` as a float, or None when it is not a number (bools are not)."""
    value = value_of(group, where, key)
    try:
        return None if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def check_fraction(
    group: Mapping[str, Any], where: str, key: str, *, one: bool, optional: bool = False
) -> None:
    """A number in [0, 1], or in [0, 1) where 1 itself makes no sense (`one=False`)."""
    if optional and group.get(key) is None:
        return
    number = number_of(group, where, key)
    if number is None or not (0.0 <= number < 1.0 or (one and number == 1.0)):
        name, shown = key_name(where, key), "[0, 1]" if one else "[0, 1)"
        raise ConfigError(f"{name}={group[key]!r} must be in {shown}; fix {name}")


def check_positive(group: Mapping[str, Any], where: str, key: str) -> None:
    number = number_of(group, where, key)
    if number is None or not number > 0:
        name = key_name(where, key)
        raise ConfigError(f"{name}={group[key]!r} must be a positive number; fix {name}")


def check_one_of(
    group: Mapping[str, Any], where: str, key: str, names: Iterable[str], use: str
) -> None:
    """A name from `names` (a tuple, or a `StrEnum` of config.choices)."""
    value = value_of(group, where, key)
    if str(value) not in [str(name) for name in names]:
        raise ConfigError(f"{key_name(where, key)}={value!r} is unknown; use {use}")


def check_existing_file(group: Mapping[str, Any], where: str, key: str, what: str) -> None:
    value = value_of(group, where, key)
    if not Path(str(value)).expanduser().is_file():
        name = key_name(where, key)
        raise ConfigError(f"{name}={value!r} is not a file (relative to {Path.cwd()}); {what}")
