"""The `folder` source: `data.path/<class>/*.txt`, Keras' `text_dataset_from_directory` layout.

Each sub-folder is a class (any number, named as the labels will be). With `train/` and `test/`
sub-folders, those are the splits (an extracted aclImdb: `data.path=.../aclImdb`, classes
`neg`/`pos`); without, a stratified, seeded `data.test_fraction` is held out. Files are read
in path order (classes sorted, names sorted), as the IMDB reader does, so the tutorial's
validation split comes out the same.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from warmstart.core.errors import DataError
from warmstart.data.holdout import stratified_holdout
from warmstart.data.paths import user_path
from warmstart.data.pool import Pool
from warmstart.data.settings import setting


def _read(path: str) -> str:
    with open(path, "rb") as f:
        return f.read().decode("utf-8", errors="replace")


def read_class_folders(root: Path) -> tuple[pd.DataFrame, int]:
    """(`text`, `label` rows, empty files skipped) of every `root/<class>/*.txt`."""
    classes = sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))
    if len(classes) < 2:
        raise DataError(
            f"{root} has {len(classes)} class sub-folder(s) ({classes}); a classifier needs at "
            "least two: put each class's .txt files in a folder named after the class"
        )
    texts: list[str] = []
    labels: list[str] = []
    for cls in classes:
        folder = os.path.join(root, cls)
        names = sorted(
            e.name for e in os.scandir(folder) if e.name.endswith(".txt") and e.is_file()
        )
        texts.extend(_read(os.path.join(folder, n)) for n in names)
        labels.extend([cls] * len(names))
    frame = pd.DataFrame({"text": texts, "label": labels})
    empty = frame["text"].str.strip() == ""
    if empty.all():
        raise DataError(f"{root} holds no non-empty .txt files; add texts to its class folders")
    return frame[~empty].reset_index(drop=True), int(empty.sum())


def folder_pool(cfg: Mapping[str, Any]) -> Pool:
    """The class folders as a train pool and a test split (`test/` or a held-out fraction)."""
    root, note = user_path(setting(cfg, "path", required=True), "path")
    if not root.is_dir():
        raise DataError(
            f"data.path {str(root)!r} is not a directory{note}; point it at a folder with one "
            "sub-folder of .txt files per class (optionally under train/ and test/)"
        )
    if (root / "train").is_dir():
        train, dropped = read_class_folders(root / "train")
        test, dropped_test = (
            read_class_folders(root / "test") if (root / "test").is_dir() else (train.iloc[:0], 0)
        )
        dropped += dropped_test
        if not (root / "test").is_dir():
            fraction = float(setting(cfg, "test_fraction", 0.2))
            train, test = stratified_holdout(train, fraction, int(setting(cfg, "split_seed", 123)))
    else:
        rows, dropped = read_class_folders(root)
        fraction = float(setting(cfg, "test_fraction", 0.2))
        train, test = stratified_holdout(rows, fraction, int(setting(cfg, "split_seed", 123)))
    return Pool(
        train=train, test=test, source=str(root.resolve()), origin=root, dropped_texts=dropped
    )
