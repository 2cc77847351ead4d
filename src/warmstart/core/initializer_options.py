"""The options each initializer takes, and one check of their names, types and values.

Options reach an initializer from Python (`remap_embeddings(..., stddev=0.1)`) or from the
config (`warmstart.initializer_options.*`); both go through `check_options`, so a misspelt
name, a string where a number belongs or an impossible value fails with one line naming
the fix before any row is written (and, from the config, before any training).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from typing import Any

from warmstart.core.errors import RemapError

__all__ = ["FALLBACKS", "check_options"]

FALLBACKS: tuple[str, ...] = ("uniform", "normal", "zeros", "mean", "mean_cov", "constant")
"""Initializers that need no tokens: what `pretrained` and `subword` fall back to."""

Check = Callable[[str, str, Any], None]


def _fail(name: str, key: str, value: Any, need: str) -> None:
    raise RemapError(f"initializer {name!r} option {key}={value!r} {need}")


def _number(name: str, key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        _fail(name, key, value, f"must be a finite number; pass e.g. {key}=0.05.")


def _non_negative(name: str, key: str, value: Any) -> None:
    _number(name, key, value)
    if value < 0:
        _fail(name, key, value, f"must be >= 0; pass e.g. {key}=0.05.")


def _count(name: str, key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        _fail(name, key, value, f"must be a whole number >= 1; pass e.g. {key}=3.")


def _fallback(name: str, key: str, value: Any) -> None:
    if value not in FALLBACKS:
        _fail(
            name, key, value, f"is not a fallback initializer; use one of {', '.join(FALLBACKS)}."
        )


def _mapping(name: str, key: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        _fail(name, key, value, "must be a mapping of the fallback's options, e.g. {stddev: 0.1}.")


def _path(name: str, key: str, value: Any) -> None:
    if not isinstance(value, str | os.PathLike):
        _fail(name, key, value, "must be a file path.")


def _anything(name: str, key: str, value: Any) -> None:
    """Arrays and token lists: checked where they are used (shape, dtype, length)."""


_FALLING_BACK: dict[str, Check] = {"fallback": _fallback, "fallback_options": _mapping}

OPTIONS: dict[str, dict[str, Check]] = {
    "uniform": {"minval": _number, "maxval": _number},
    "normal": {"mean": _number, "stddev": _non_negative},
    "zeros": {},
    "mean": {},
    "mean_cov": {},
    "constant": {"value": _number, "matrix": _anything},
    "pretrained": {"path": _path, "vocabulary": _anything, "vectors": _anything, **_FALLING_BACK},
    "subword": {
        "min_n": _count,
        "max_n": _count,
        "neighbours": _count,
        "max_df": _count,
        "min_shared": _count,
        **_FALLING_BACK,
    },
}
"""Per initializer: its option names and the check of each value."""


def check_options(name: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """A checked copy of `options` for initializer `name` (a known name).

    An option set to None is left out, i.e. takes the initializer's default.
    """
    options = {k: v for k, v in (options or {}).items() if v is not None}
    accepted = OPTIONS[name]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        names = ", ".join(sorted(accepted)) or "none"
        raise RemapError(
            f"initializer {name!r} got unknown option(s) {', '.join(unknown)}; "
            f"its options are: {names}."
        )
    for key, value in options.items():
        accepted[key](name, key, value)
    _check_together(name, options)
    if "fallback_options" in options:
        options["fallback_options"] = check_options(
            options.get("fallback", "uniform"), options["fallback_options"]
        )
    return options


def _check_together(name: str, options: dict[str, Any]) -> None:
    """Constraints between options (missing ones take the initializer's defaults)."""
    if name == "uniform" and not options.get("minval", -0.05) < options.get("maxval", 0.05):
        raise RemapError(
            f"uniform initializer needs minval < maxval, got minval={options.get('minval', -0.05)}"
            f", maxval={options.get('maxval', 0.05)}; swap or widen them."
        )
    if name == "constant" and ("value" in options) == ("matrix" in options):
        raise RemapError(
            "constant initializer needs exactly one of value=<number> (every new row filled "
            "with it; from the config: warmstart.initializer_options.value=0.01) or "
            "matrix=<array for the whole new vocabulary>, as in Constant(new_embedding)."
        )
    if name == "subword" and options.get("min_n", 3) > options.get("max_n", 6):
        raise RemapError(
            f"subword initializer needs min_n <= max_n, got min_n={options.get('min_n', 3)}, "
            f"max_n={options.get('max_n', 6)}; e.g. min_n=3 max_n=6."
        )
