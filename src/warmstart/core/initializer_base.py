"""What every initializer is: an object whose fields are its options, checked when it is made.

An initializer fills the rows of tokens the base vocabulary lacks and says what filled which
rows (`Filled`), so the remap report can tell trained embeddings from guessed ones. Its
options are checked once, in its `__post_init__`, with the checks below: a misspelt name, a
string where a number belongs or an impossible value fails with one line naming the fix
before any row is written (and, from the config, before any training).
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np

from warmstart.core.errors import RemapError

__all__ = [
    "Filled",
    "Initializer",
    "Plain",
    "Rng",
    "Sources",
    "check_count",
    "check_number",
    "check_path",
    "make_rng",
    "option_error",
]


class Filled(NamedTuple):
    """Rows one source filled; for subword also, per row, its base neighbours and weights."""

    source: str
    rows: np.ndarray
    neighbours: np.ndarray | None = None  # (len(rows), k) base indices, -1 padding
    weights: np.ndarray | None = None  # (len(rows), k), each row sums to 1


Sources = list[Filled]
"""What filled which rows, in the order they were filled."""

Rng = np.random.Generator


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A Generator from an int seed (reproducible), an existing Generator, or None (fresh)."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


class Initializer(ABC):
    """Fills `out[rows]`, the rows of new tokens; `name` labels the rows it filled.

    `out` and `base` have the vocabulary on axis 0; `tokens` is the whole new vocabulary and
    `base_tokens` the base one (only initializers that read tokens need them).
    """

    name: ClassVar[str]

    def fill(
        self,
        out: np.ndarray,
        rows: np.ndarray,
        *,
        base: np.ndarray,
        rng: Rng,
        tokens: Sequence[str] | None = None,
        base_tokens: Sequence[str] | None = None,
    ) -> Sources:
        """Fill `out[rows]`; what filled which rows (nothing when there are no rows, so a file
        an initializer reads is not even opened)."""
        rows = np.asarray(rows, dtype=np.intp)
        if rows.size == 0:
            return []
        return self._fill(out, rows, base=base, rng=rng, tokens=tokens, base_tokens=base_tokens)

    @abstractmethod
    def _fill(
        self,
        out: np.ndarray,
        rows: np.ndarray,
        *,
        base: np.ndarray,
        rng: Rng,
        tokens: Sequence[str] | None,
        base_tokens: Sequence[str] | None,
    ) -> Sources: ...


class Plain(Initializer):
    """An initializer that needs no tokens: it writes every row it is given, so it may be a
    fallback."""

    def _fill(
        self, out: np.ndarray, rows: np.ndarray, *, base: np.ndarray, rng: Rng, **_: Any
    ) -> Sources:
        self.write(out, rows, base=base, rng=rng)
        return [Filled(self.name, rows)]

    @abstractmethod
    def write(self, out: np.ndarray, rows: np.ndarray, *, base: np.ndarray, rng: Rng) -> None:
        """Write `out[rows]`."""


def option_error(owner: Initializer, key: str, need: str) -> RemapError:
    """`initializer 'normal' option stddev=-1 must be ...`: the option, its value, the fix."""
    return RemapError(f"initializer {owner.name!r} option {key}={getattr(owner, key)!r} {need}")


def check_number(owner: Initializer, key: str, *, minimum: float | None = None) -> None:
    """Option `key` of `owner` is a finite number (not a bool), at least `minimum` if given."""
    value = getattr(owner, key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise option_error(owner, key, f"must be a finite number; pass e.g. {key}=0.05.")
    if minimum is not None and value < minimum:
        raise option_error(owner, key, f"must be >= {minimum:g}; pass e.g. {key}=0.05.")


def check_count(owner: Initializer, key: str) -> None:
    """Option `key` of `owner` is a whole number >= 1."""
    value = getattr(owner, key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise option_error(owner, key, f"must be a whole number >= 1; pass e.g. {key}=3.")


def check_path(owner: Initializer, key: str) -> None:
    """Option `key` of `owner` is a file path or None (unset)."""
    value: Any = getattr(owner, key)
    if value is not None and not isinstance(value, str | os.PathLike):
        raise option_error(owner, key, "must be a file path.")
