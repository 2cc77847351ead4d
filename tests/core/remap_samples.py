"""Small vocabularies and embeddings shared by the remap, report and pretrained tests."""

from __future__ import annotations

import numpy as np

BASE = ["", "[UNK]", "the", "a", "movie", "film", "bad"]
NEW = ["", "[UNK]", "film", "the", "great", "a", "plot", "movie"]


def embeddings(n: int, dim: int = 4, dtype=np.float32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(dtype)
