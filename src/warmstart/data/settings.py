"""Hand-written checks of the `data` config values, gathered until typed schemas replace them.

Each accessor reads one key lazily, so a setting is only required where it is used (a local
`data.path` directory needs no cache directory, for example).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from warmstart.core.errors import ConfigError

NAMES = ("imdb", "synthetic")


def setting(
    cfg: Mapping[str, Any], key: str, default: Any = None, *, required: bool = False
) -> Any:
    """The value of `data.<key>`; None counts as unset."""
    if key in cfg and cfg[key] is not None:
        return cfg[key]
    if required:
        raise ConfigError(f"data.{key} is missing; set it in conf/data/*.yaml or as data.{key}=…")
    return default


def positive_int(cfg: Mapping[str, Any], key: str, minimum: int) -> int:
    """An integer setting >= `minimum` (bools and fractional numbers are refused)."""
    value = setting(cfg, key, required=True)
    try:
        number = int(value)
        ok = not isinstance(value, bool) and float(value) == number and number >= minimum
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(f"data.{key}={value!r} must be an integer >= {minimum}; fix data.{key}")
    return number


def dataset_name(cfg: Mapping[str, Any]) -> str:
    """`data.name`, one of NAMES."""
    name = str(setting(cfg, "name", required=True))
    if name not in NAMES:
        raise ConfigError(f"data.name={name!r} is unknown; use data=imdb or data=synthetic")
    return name


def validation_split(cfg: Mapping[str, Any]) -> float:
    """`data.validation_split` in [0, 1), 0.2 when unset."""
    raw_split = setting(cfg, "validation_split", 0.2)
    try:
        share = float(raw_split)
    except (TypeError, ValueError):
        share = -1.0
    if not 0.0 <= share < 1.0:
        raise ConfigError(
            f"data.validation_split={raw_split!r} must be in [0, 1); fix data.validation_split"
        )
    return share


def split_seed(cfg: Mapping[str, Any]) -> int:
    """`data.split_seed`, the tutorial's 123 when unset."""
    return 123 if setting(cfg, "split_seed") is None else positive_int(cfg, "split_seed", 0)


def max_reviews(cfg: Mapping[str, Any]) -> int | None:
    """`data.max_reviews` (at least 2, one per class), or None for all reviews."""
    if setting(cfg, "max_reviews") is None:
        return None
    return positive_int(cfg, "max_reviews", 2)
