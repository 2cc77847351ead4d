"""Tables written as engines write them: one file, or shards of one format in a directory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def review_table(n: int = 40) -> pd.DataFrame:
    """`n` rows of three classes, a year per row (2020..2023) and an id, texts with commas."""
    return pd.DataFrame(
        {
            "text": [f"review {i}, of words w{i % 7} and w{i % 5}" for i in range(n)],
            "label": [("billing", "login", "shipping")[i % 3] for i in range(n)],
            "year": [2020 + i % 4 for i in range(n)],
            "id": [f"r{i}" for i in range(n)],
        }
    )


def write(frame: pd.DataFrame, path: Path) -> Path:
    """`frame` as a csv, tsv, parquet or jsonl file, by `path`'s suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix in (".csv", ".tsv"):
        frame.to_csv(path, index=False, sep="," if path.suffix == ".csv" else "\t")
    elif path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    return path


def write_shards(frame: pd.DataFrame, folder: Path, suffix: str, n: int = 4) -> list[Path]:
    """`frame` cut into `n` consecutive shards `part-0000i<suffix>` (as Spark names them)."""
    cuts = np.array_split(np.arange(len(frame)), n)
    return [
        write(frame.iloc[rows], folder / f"part-{i:05d}{suffix}") for i, rows in enumerate(cuts)
    ]


def files_cfg(path: Path | str, **extra: object) -> dict:
    return {"name": "files", "path": str(path), "validation_split": 0.2, **extra}
