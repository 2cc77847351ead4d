"""Find and read an `aclImdb/{train,test}/{neg,pos}/<id>_<rating>.txt` tree.

Every source that ends up as such a tree (the IMDB archive, a local copy, the synthetic corpus)
is read here, so they all share one code path. Only the labeled `*.txt` reviews are read:
`train/unsup`, `*.feat` and url lists are ignored even where they exist.

Labels are the words `negative` and `positive`, so a prediction says what it means; sorted,
`negative` stays first, so a binary model's one logit (and `probability`) is p(positive).
Versions registered before the words were read with 0 and 1 in the same order
(`LEGACY_NAMES`), which lets a warm start from them keep its trained head.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warmstart.core.errors import DataError

ACL_DIR = "aclImdb"
SPLIT_DIRS = ("train", "test")
CLASSES = (("neg", "negative"), ("pos", "positive"))  # (folder, label), in label order
# The labels this layout had before they were words: 0 was negative and 1 positive.
LEGACY_NAMES = {0: "negative", 1: "positive"}
EXPECTED = [f"{s}/{c}" for s in SPLIT_DIRS for c, _ in CLASSES]


def find_acl_dir(path: Path, note: str = "") -> Path:
    """The aclImdb directory at `path` or `path/aclImdb`, with train|test/pos|neg subdirs."""
    candidates = [path, path / ACL_DIR]
    for cand in candidates:
        if all((cand / sub).is_dir() for sub in EXPECTED):
            return cand
    if not any(path.iterdir()):
        raise DataError(
            f"directory {path} is empty{note}; point data.path at an aclImdb directory "
            f"(with {', '.join(EXPECTED)}) or its parent"
        )
    base = path / ACL_DIR if (path / ACL_DIR).is_dir() else path
    missing = [sub for sub in EXPECTED if not (base / sub).is_dir()]
    raise DataError(
        f"{path} is not an aclImdb directory{note}: expected subdirectories "
        f"{', '.join(EXPECTED)} in it or in its {ACL_DIR}/ subdirectory (missing under {base}: "
        f"{', '.join(missing)}); point data.path at an extracted aclImdb_v1 archive"
    )


def _read_text(path: str) -> str:
    with open(path, "rb") as f:
        return f.read().decode("utf-8", errors="replace")


def read_acl_dir(acl: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) DataFrames of text and label (`negative`, `positive`), rows in path order.

    A plain serial loop: for 50,000 small files it beats a thread pool (GIL hand-offs dominate).
    """
    frames = []
    for split in SPLIT_DIRS:
        texts: list[str] = []
        labels: list[str] = []
        for cls, label in CLASSES:
            cls_dir = acl / split / cls
            names = sorted(
                e.name for e in os.scandir(cls_dir) if e.name.endswith(".txt") and e.is_file()
            )
            if not names:
                other = next(c for c, _ in CLASSES if c != cls)
                raise DataError(
                    f"{cls_dir} holds no reviews: the {split} split has only {other} reviews, "
                    "but a classifier needs both classes; point data.path at a complete "
                    "aclImdb copy"
                )
            base = str(cls_dir)
            texts.extend(_read_text(os.path.join(base, n)) for n in names)
            labels.extend([label] * len(names))
        frames.append(pd.DataFrame({"text": texts, "label": np.asarray(labels, dtype=object)}))
    return frames[0], frames[1]


def legacy_labels_renamed(source: Sequence[Any], new: Sequence[Any]) -> list[Any]:
    """`source`'s classes as `new` names them, when `source` is this layout's old 0/1 and `new`
    its words (0 -> negative, 1 -> positive); any other `source` as it is.

    A version trained on aclImdb-layout data before its labels were words keeps its trained
    head through a warm start on the same kind of data, as it did when both said 0/1. Any
    other change of names is label drift, matched by text.
    """
    if [str(v) for v in source] == [str(k) for k in LEGACY_NAMES] and list(new) == list(
        LEGACY_NAMES.values()
    ):
        return [LEGACY_NAMES[int(v)] for v in source]
    return list(source)
