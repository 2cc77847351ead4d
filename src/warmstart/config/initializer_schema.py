"""The schema of each new-row initializer: the group `warmstart/initializer`.

`warmstart/initializer=subword` picks conf/warmstart/initializer/subword.yaml, which names
`subword_schema` first in its defaults list, so the node `warmstart.initializer` takes only
that initializer's options: `warmstart.initializer.neighbours=8` is accepted with `subword` and
refused while Hydra composes with `uniform`. `name` is fixed by each schema (conf/ does not set
it); `config.initializer.initializer_of` turns the node into the core object, which checks the
values (`core.initializers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from warmstart.config.fields import DOC, key
from warmstart.core.initializer_options import FALLBACKS

Fallback = StrEnum("Fallback", {name: name for name in FALLBACKS})  # type: ignore[misc]
"""`fallback` of pretrained and subword: the initializers that need no tokens (core's list)."""


def fixed(name: str) -> Any:
    """The `name` field: which initializer this is, fixed by the schema (conf/ leaves it out)."""
    return field(
        default=name, metadata={DOC: "the initializer, as `warmstart/initializer=` picks it"}
    )


FALLBACK = "the initializer of the rows this one cannot fill (one that needs no tokens)"
FALLBACK_OPTIONS = (
    "the fallback's options (`{}`: its defaults), each added with `+`: "
    "`+warmstart.initializer.fallback_options.stddev=0.1`"
)


@dataclass
class UniformSchema:
    name: str = fixed("uniform")
    minval: float = key("lowest value of a new row's entries")
    maxval: float = key("highest value of a new row's entries")


@dataclass
class NormalSchema:
    name: str = fixed("normal")
    mean: float = key("mean of a new row's entries")
    stddev: float = key("their standard deviation")


@dataclass
class ZerosSchema:
    name: str = fixed("zeros")


@dataclass
class MeanSchema:
    name: str = fixed("mean")


@dataclass
class MeanCovSchema:
    name: str = fixed("mean_cov")


@dataclass
class ConstantSchema:
    name: str = fixed("constant")
    value: float | None = key("every new row filled with it (required)")


@dataclass
class PretrainedSchema:
    name: str = fixed("pretrained")
    path: str | None = key("a word2vec/GloVe text file, or an `.npy` matrix (required)")
    vocabulary: str | None = key("with an `.npy`: its token list file, one token per line")
    fallback: Fallback = key(FALLBACK)
    fallback_options: dict[str, Any] = key(FALLBACK_OPTIONS)


@dataclass
class SubwordSchema:
    name: str = fixed("subword")
    min_n: int = key("shortest character n-gram compared")
    max_n: int = key("longest character n-gram compared")
    neighbours: int = key("base tokens a new row is composed from, at most")
    max_df: int = key("n-grams in more base tokens than this are ignored (like `ing>`)")
    min_shared: int = key("n-grams a base token must share to be a neighbour")
    fallback: Fallback = key(FALLBACK)
    fallback_options: dict[str, Any] = key(FALLBACK_OPTIONS)


INITIALIZER_SCHEMAS: dict[str, type] = {
    f"{schema.name}_schema": schema  # type: ignore[attr-defined]
    for schema in (
        UniformSchema,
        NormalSchema,
        ZerosSchema,
        MeanSchema,
        MeanCovSchema,
        ConstantSchema,
        PretrainedSchema,
        SubwordSchema,
    )
}
"""The ConfigStore entries of the group `warmstart/initializer`, by the name its files use."""
