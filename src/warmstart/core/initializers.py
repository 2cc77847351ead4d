"""The initializers of new tokens' rows: small objects whose fields are their options.

`Normal(stddev=0.1)` checks its options when it is made (one place: its `__post_init__`)
and fills rows with `fill` (the writing is `row_fillers`'). `Pretrained` fills the rows of
tokens its vectors know and `Subword` the rows of tokens sharing character n-grams with base
tokens (`subword_rows`); both hand the rest to a `fallback` that needs no tokens, so one remap
may use two sources. By name and keywords (`"normal", stddev=0.1`, as `remap_embeddings` and
the config spell them): `initializer_options.initializer_named`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from warmstart.core.errors import RemapError
from warmstart.core.initializer_base import (
    Filled,
    Initializer,
    Plain,
    Rng,
    Sources,
    check_count,
    check_number,
    check_path,
    make_rng,
    option_error,
)
from warmstart.core.row_fillers import (
    fill_constant,
    fill_mean,
    fill_mean_cov,
    fill_normal,
    fill_pretrained,
    fill_subword,
    fill_uniform,
    fill_zeros,
)
from warmstart.core.subword_rows import SUBWORD_DEFAULTS

__all__ = [
    "PLAIN",
    "Constant",
    "Filled",
    "Initializer",
    "Mean",
    "MeanCov",
    "Normal",
    "Plain",
    "Pretrained",
    "Sources",
    "Subword",
    "Uniform",
    "Zeros",
    "make_rng",
]


@dataclass(frozen=True)
class Uniform(Plain):
    """Entries drawn uniformly from [minval, maxval] (Keras' default for embeddings)."""

    name: ClassVar[str] = "uniform"
    minval: float = -0.05
    maxval: float = 0.05

    def __post_init__(self) -> None:
        check_number(self, "minval")
        check_number(self, "maxval")
        if not self.minval < self.maxval:
            raise RemapError(
                f"uniform initializer needs minval < maxval, got minval={self.minval}, "
                f"maxval={self.maxval}; swap or widen them."
            )

    def write(self, out: np.ndarray, rows: np.ndarray, *, base: np.ndarray, rng: Rng) -> None:
        fill_uniform(out, rows, rng=rng, minval=self.minval, maxval=self.maxval)


@dataclass(frozen=True)
class Normal(Plain):
    """Entries drawn from a normal distribution of `mean` and `stddev`."""

    name: ClassVar[str] = "normal"
    mean: float = 0.0
    stddev: float = 0.05

    def __post_init__(self) -> None:
        check_number(self, "mean")
        check_number(self, "stddev", minimum=0)

    def write(self, out: np.ndarray, rows: np.ndarray, *, base: np.ndarray, rng: Rng) -> None:
        fill_normal(out, rows, rng=rng, mean=self.mean, stddev=self.stddev)


@dataclass(frozen=True)
class Zeros(Plain):
    """Zero rows: a new token starts with no meaning."""

    name: ClassVar[str] = "zeros"

    def write(self, out: np.ndarray, rows: np.ndarray, *, base: np.ndarray, rng: Rng) -> None:
        fill_zeros(out, rows)


@dataclass(frozen=True)
class Mean(Plain):
    """Every new row is the mean of the base rows: an average token."""

    name: ClassVar[str] = "mean"

    def write(self, out: np.ndarray, rows: np.ndarray, *, base: np.ndarray, rng: Rng) -> None:
        fill_mean(out, rows, base=base)


@dataclass(frozen=True)
class MeanCov(Plain):
    """Rows drawn from a normal distribution of the base rows' mean and covariance."""

    name: ClassVar[str] = "mean_cov"

    def write(self, out: np.ndarray, rows: np.ndarray, *, base: np.ndarray, rng: Rng) -> None:
        fill_mean_cov(out, rows, base=base, rng=rng)


@dataclass(frozen=True)
class Constant(Plain):
    """Every new row filled with `value`, or each taken from `matrix` (an array for the whole
    new vocabulary, in the remapped array's layout; compared by identity, not shown)."""

    name: ClassVar[str] = "constant"
    value: float | None = None
    matrix: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.value is not None:
            check_number(self, "value")
        if (self.value is None) == (self.matrix is None):
            raise RemapError(
                "constant initializer needs exactly one of value=<number> (every new row filled "
                "with it; from the config: warmstart.initializer.value=0.01) or "
                "matrix=<array for the whole new vocabulary>, as in Constant(matrix=new_embedding)."
            )

    def write(self, out: np.ndarray, rows: np.ndarray, *, base: np.ndarray, rng: Rng) -> None:
        fill_constant(out, rows, value=self.value, matrix=self.matrix)


PLAIN: tuple[type[Plain], ...] = (Uniform, Normal, Zeros, Mean, MeanCov, Constant)
"""The initializers that need no tokens: what `Pretrained` and `Subword` may fall back to."""


def _check_fallback(owner: Pretrained | Subword) -> None:
    if not isinstance(owner.fallback, Plain):
        names = ", ".join(kind.__name__ + "()" for kind in PLAIN)
        raise option_error(owner, "fallback", f"is not a fallback initializer; use one of {names}.")


@dataclass(frozen=True)
class Pretrained(Initializer):
    """Rows of tokens the pretrained vectors know, from them; the rest from `fallback`.

    The vectors: a word2vec/GloVe text file or an `.npy` matrix with its `vocabulary` (a
    token-list file or a list) at `path`, or an in-memory `vectors` array with `vocabulary`.
    """

    name: ClassVar[str] = "pretrained"
    path: str | os.PathLike[str] | None = None
    vocabulary: Any = None
    vectors: Any = field(default=None, compare=False, repr=False)
    fallback: Plain = field(default_factory=Uniform)

    def __post_init__(self) -> None:
        check_path(self, "path")  # which vectors: read and checked when rows are filled
        _check_fallback(self)

    def _fill(
        self,
        out: np.ndarray,
        rows: np.ndarray,
        *,
        base: np.ndarray,
        rng: Rng,
        tokens: Sequence[str] | None,
        **_: Any,
    ) -> Sources:
        return fill_pretrained(
            out,
            rows,
            base=base,
            rng=rng,
            tokens=tokens,
            path=self.path,
            vocabulary=self.vocabulary,
            vectors=self.vectors,
            fallback=self.fallback,
        )


@dataclass(frozen=True)
class Subword(Initializer):
    """Rows composed from base tokens sharing the new token's character n-grams; the rest from
    `fallback` (the options and their defaults: `subword_rows`)."""

    name: ClassVar[str] = "subword"
    min_n: int = SUBWORD_DEFAULTS["min_n"]
    max_n: int = SUBWORD_DEFAULTS["max_n"]
    neighbours: int = SUBWORD_DEFAULTS["neighbours"]
    max_df: int = SUBWORD_DEFAULTS["max_df"]
    min_shared: int = SUBWORD_DEFAULTS["min_shared"]
    fallback: Plain = field(default_factory=Uniform)

    def __post_init__(self) -> None:
        for key in SUBWORD_DEFAULTS:
            check_count(self, key)
        if self.min_n > self.max_n:
            raise RemapError(
                f"subword initializer needs min_n <= max_n, got min_n={self.min_n}, "
                f"max_n={self.max_n}; e.g. min_n=3 max_n=6."
            )
        _check_fallback(self)

    def _fill(
        self,
        out: np.ndarray,
        rows: np.ndarray,
        *,
        base: np.ndarray,
        rng: Rng,
        tokens: Sequence[str] | None,
        base_tokens: Sequence[str] | None,
    ) -> Sources:
        search = {key: getattr(self, key) for key in SUBWORD_DEFAULTS}
        return fill_subword(
            out,
            rows,
            base=base,
            rng=rng,
            tokens=tokens,
            base_tokens=base_tokens,
            search=search,
            fallback=self.fallback,
        )
