"""The label vocabulary: which classes a model predicts, in which order, as the data spells them.

Labels are learned from the training split in a stable order (integers numerically, strings
lexicographically), so the same data always gives the same output columns. A model version
stores them as text (`labels.txt`, one per line) plus their kind (`int` or `str`), so a served
model answers with the class exactly as the data had it; warm starts match classes by their
text, the same identity the token remap uses for words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from warmstart.core.errors import DataError

INT, STR = "int", "str"


def _is_int(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, int | np.integer):
        return True
    return isinstance(value, float | np.floating) and float(value).is_integer()


def label_kind(values: Iterable[Any]) -> str:
    """`int` when every label is a whole number (1 and 1.0 alike), else `str`."""
    return INT if all(_is_int(v) for v in values) else STR


def normalize(values: Iterable[Any], kind: str) -> list[Any]:
    """Labels as Python ints (kind `int`) or str, the form compared, stored and served."""
    return [int(v) for v in values] if kind == INT else [str(v) for v in values]


def learn_labels(values: Iterable[Any]) -> list[Any]:
    """The distinct labels of a training split, sorted (ints numerically, strings by text)."""
    values = list(values)
    kind = label_kind(values)
    labels = sorted(set(normalize(values, kind)))
    for label in labels:
        if kind == STR and ("\n" in label or "\r" in label or label.strip() != label):
            raise DataError(
                f"label {label!r} has a line break or surrounding spaces; clean the label column"
            )
    return labels


def label_names(labels: Sequence[Any]) -> list[str]:
    """The text of each label: its identity in a diff and its `p_<class>` column name."""
    return [str(label) for label in labels]


# Metric names keep letters, digits (any script), `_`, `-` and `.`: MLflow also takes spaces,
# `:` (not on Windows) and `/` (a path: `a//b` and `a/` are refused), none of them worth it.
_UNSAFE = re.compile(r"[^\w.\-]+")
_WORDS = {"&": " and ", "+": " plus ", "%": " pct ", "@": " at "}  # read better than `_`
MAX_METRIC_NAME = 200  # MLflow's keys hold 250 characters; room for `test_precision_`


def metric_safe_names(labels: Sequence[Any]) -> dict[Any, str]:
    """Each label's name in metric keys (`precision_<name>`): `CULTURE & ARTS` ->
    `CULTURE_and_ARTS`, `a/b?` -> `a_b`, a label MLflow takes as it is keeps its text.

    Names never collide: a label already safe keeps its own name, and the others (by their
    text, so the same labels always get the same names) take the first of `name`, `name_2`,
    `name_3`, ... still free. Labels stay as written everywhere else (outputs, reports).
    """
    texts = {label: str(label) for label in labels}
    wanted = {label: _safe(text) for label, text in texts.items()}
    names = {label: text for label, text in texts.items() if wanted[label] == text}
    taken = set(names.values())
    for label in sorted((lab for lab in texts if lab not in names), key=texts.__getitem__):
        name, n = wanted[label], 1
        while name in taken:
            n += 1
            name = f"{wanted[label][: MAX_METRIC_NAME - len(str(n)) - 1]}_{n}"
        names[label] = name
        taken.add(name)
    return {label: names[label] for label in labels}


def _safe(text: str) -> str:
    """`text` with each run of refused characters as one `_` (`&` and a few more as words)."""
    if text and len(text) <= MAX_METRIC_NAME and not _UNSAFE.search(text):
        return text  # `_private` stays `_private`
    for sign, word in _WORDS.items():
        text = text.replace(sign, word)
    return _UNSAFE.sub("_", text).strip("_")[:MAX_METRIC_NAME] or "class"


def encode(values: Iterable[Any], labels: Sequence[Any]) -> np.ndarray:
    """Class indices of `values` (int64); every value must be one of `labels`."""
    index = {name: i for i, name in enumerate(label_names(labels))}
    names = label_names(normalize(list(values), label_kind(labels)))
    unknown = sorted(set(names) - set(index))
    if unknown:
        raise DataError(f"labels {unknown[:5]} are not among the classes {list(index)[:10]}")
    return np.asarray([index[n] for n in names], dtype=np.int64)


def save_labels(labels: Sequence[Any], path: str | Path) -> Path:
    """Write one label per line (UTF-8, `\\n`), as `load_labels` reads them."""
    path = Path(path)
    path.write_text("".join(f"{name}\n" for name in label_names(labels)), encoding="utf-8")
    return path


def load_labels(path: str | Path, kind: str = STR) -> list[Any]:
    """The labels of a `labels.txt`, as ints (kind `int`) or str."""
    names = Path(path).read_text(encoding="utf-8").split("\n")[:-1]
    return normalize(names, kind)
