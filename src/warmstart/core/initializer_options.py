"""Initializers by name, with their options as keywords: the spelling of the config and of
`remap_embeddings(..., "normal", stddev=0.1)`.

`initializer_named` turns that spelling into the initializer object, which checks the values
itself (`core.initializers`); here only the names are checked: the initializer's and its
options'. An option set to None keeps its default, as a config `null` does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from warmstart.core.errors import RemapError
from warmstart.core.initializers import PLAIN, Initializer, Pretrained, Subword

__all__ = ["FALLBACKS", "INITIALIZERS", "initializer_named"]

_KINDS: tuple[type[Initializer], ...] = (*PLAIN, Pretrained, Subword)
INITIALIZERS: dict[str, type[Initializer]] = {kind.name: kind for kind in _KINDS}
"""Each initializer by its name; a row's provenance label is the name of what filled it."""

FALLBACKS: tuple[str, ...] = tuple(kind.name for kind in PLAIN)
"""Initializers that need no tokens: what `pretrained` and `subword` fall back to."""


def initializer_named(name: str, **options: Any) -> Initializer:
    """The initializer `name` with `options` (an option set to None keeps its default).

    For `pretrained` and `subword`, `fallback` may be a name and `fallback_options` its
    options: `initializer_named("subword", fallback="normal", fallback_options={"stddev": 1})`.
    """
    kind = INITIALIZERS.get(str(name))
    if kind is None:
        raise RemapError(f"unknown initializer {name!r}; use one of {', '.join(INITIALIZERS)}.")
    options = {key: value for key, value in options.items() if value is not None}
    accepted = [f.name for f in dataclasses.fields(kind)]  # type: ignore[arg-type]
    if "fallback" in accepted:
        accepted.append("fallback_options")
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise RemapError(
            f"initializer {name!r} got unknown option(s) {', '.join(unknown)}; "
            f"its options are: {', '.join(sorted(accepted)) or 'none'}."
        )
    if "fallback" in accepted:
        _fallback_by_name(name, options)
    return kind(**options)


def _fallback_by_name(name: str, options: dict[str, Any]) -> None:
    """`fallback` (default uniform) and `fallback_options` as the fallback's object."""
    fallback = options.get("fallback", "uniform")
    fallback_options = options.pop("fallback_options", {})
    if not isinstance(fallback_options, Mapping):
        raise RemapError(
            f"initializer {name!r} option fallback_options={fallback_options!r} must be a "
            "mapping of the fallback's options, e.g. {stddev: 0.1}."
        )
    if isinstance(fallback, Initializer):
        if fallback_options:
            raise RemapError(
                f"initializer {name!r} got fallback_options with a fallback object; give them "
                "to the object instead, e.g. fallback=Normal(stddev=0.1)."
            )
        return
    if fallback not in FALLBACKS:
        raise RemapError(
            f"initializer {name!r} option fallback={fallback!r} is not a fallback "
            f"initializer; use one of {', '.join(FALLBACKS)}."
        )
    options["fallback"] = initializer_named(str(fallback), **fallback_options)
