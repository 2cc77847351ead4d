"""How a schema field is declared: its type in the dataclass, its one-line meaning here.

`key(doc)` is a setting whose value lives in conf/ (`MISSING` in the schema), `group(schema,
doc)` a nested group of settings. The meaning rides in the field's metadata (`DOC`, and `KIND`
where the type says `Any`), from which `config.reference` writes docs/configuration.md.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from omegaconf import MISSING

DOC = "doc"  # field metadata: the key's one-line meaning, for the generated reference
KIND = "kind"  # field metadata: the accepted values where the type says `Any` (`int | auto`)


def key(doc: str, kind: str | None = None) -> Any:
    """A required field (its value lives in conf/) with its one-line meaning."""
    return field(default=MISSING, metadata={DOC: doc, KIND: kind})


def group(schema: type, doc: str) -> Any:
    """A nested group of keys, typed by `schema`, with its one-line meaning."""
    return field(default_factory=schema, metadata={DOC: doc})
