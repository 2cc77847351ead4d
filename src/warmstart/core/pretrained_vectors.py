"""Pretrained word vectors: read them, check them and find the rows of given tokens.

Vectors come as a `.npy` matrix with its vocabulary, as word2vec/GloVe text, or as an
in-memory matrix; all are checked for shape before any row is used, so a mismatched file
fails with a message naming the fix instead of warm-starting rows from the wrong tokens.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warmstart.core.errors import RemapError, VocabularyError
from warmstart.core.vocab import as_vocabulary, token_index

__all__ = ["first_positions", "load_pretrained_vectors", "pretrained_source"]


def pretrained_source(
    path: str | os.PathLike[str] | None, vocabulary: Any, vectors: Any
) -> tuple[list[str], np.ndarray]:
    """(tokens, matrix) from in-memory `vectors` + `vocabulary`, or from the file at `path`."""
    if vectors is not None:
        if vocabulary is None:
            raise RemapError("pretrained vectors= needs vocabulary= (one token per row).")
        tokens = as_vocabulary(vocabulary, name="pretrained vocabulary")
        return tokens, _check_pretrained_matrix(np.asarray(vectors), len(tokens), "vectors")
    if path is not None:
        return load_pretrained_vectors(path, vocabulary)
    raise RemapError(
        "pretrained initializer needs path= (.npy + vocabulary=, or a word2vec/GloVe "
        "text file) or vectors= with vocabulary=."
    )


def load_pretrained_vectors(
    path: str | os.PathLike[str], vocabulary: Any = None
) -> tuple[list[str], np.ndarray]:
    """Read pretrained vectors: `.npy` (+ `vocabulary`) or word2vec/GloVe text.

    Text lines are 'token v1 ... vd' (split from the right, so a token may hold spaces);
    an optional first line 'count dim' (word2vec) is recognised and checked.
    `.npy` files are loaded with allow_pickle=False: a vector file must not run code.
    """
    path = Path(path)
    if not path.is_file():
        raise RemapError(
            f"pretrained vector file {str(path)!r} does not exist; set the pretrained path "
            "to an existing .npy or word2vec/GloVe text file."
        )
    if path.suffix == ".npy":
        if vocabulary is None:
            raise RemapError(
                f"pretrained {path.name} is a bare matrix; pass vocabulary= (its token list "
                "or one-token-per-line file) so rows can be matched to tokens."
            )
        try:
            matrix = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise RemapError(
                f"pretrained {path.name} cannot be loaded without pickle ({exc}); save a "
                "plain numeric array with np.save."
            ) from exc
        try:
            tokens = as_vocabulary(vocabulary, name="pretrained vocabulary")
        except VocabularyError as exc:
            raise RemapError(str(exc)) from exc
        return tokens, _check_pretrained_matrix(matrix, len(tokens), path.name)
    return _read_text_vectors(path)


def first_positions(pre_tokens: list[str], wanted: np.ndarray) -> np.ndarray:
    """Position of each wanted token in `pre_tokens` (first occurrence), -1 if absent."""
    index = token_index(pre_tokens)
    keep = None
    if not index.is_unique:  # some published vector files repeat tokens: keep the first
        keep = np.flatnonzero(~index.duplicated(keep="first"))
        index = index[keep]
    pos = index.get_indexer(pd.Index(wanted, dtype=object)).astype(np.intp)
    if keep is not None:
        pos = np.where(pos >= 0, keep[np.maximum(pos, 0)], -1)
    return pos


def _check_pretrained_matrix(matrix: np.ndarray, n_tokens: int, what: str) -> np.ndarray:
    if matrix.ndim != 2 or matrix.dtype.kind not in "fiu":
        raise RemapError(
            f"pretrained {what} must be a 2-D numeric matrix (tokens x dim), got shape "
            f"{matrix.shape} dtype {matrix.dtype}; save the vectors with np.save(matrix)."
        )
    if matrix.shape[0] != n_tokens:
        raise RemapError(
            f"pretrained {what} has {matrix.shape[0]} rows but its vocabulary has "
            f"{n_tokens} tokens; pass the vocabulary file written with these vectors."
        )
    return matrix


def _read_text_vectors(path: Path) -> tuple[list[str], np.ndarray]:
    lines = path.read_text(encoding="utf-8").replace("\r\n", "\n").split("\n")
    while lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise RemapError(f"pretrained file {path.name} is empty; point to a vector file.")
    header = lines[0].split()
    declared: tuple[int, int] | None = None
    if len(header) == 2 and all(f.isdigit() for f in header):
        declared = (int(header[0]), int(header[1]))
        lines = lines[1:]
    if not lines:
        raise RemapError(f"pretrained file {path.name} has a header but no vectors.")
    dim = declared[1] if declared else len(lines[0].rstrip(" ").split(" ")) - 1
    parts = [line.rstrip(" ").rsplit(" ", dim) for line in lines]
    bad = [i for i, p in enumerate(parts) if len(p) != dim + 1]
    if dim < 1 or bad:
        first = bad[0] if bad else 0
        line_no = first + 1 + (declared is not None)
        raise RemapError(
            f"pretrained file {path.name} line {line_no} does not hold a token and {dim} "
            "values; every line must be 'token v1 ... vd' with the same d (word2vec text "
            "may start with a 'count dim' header)."
        )
    if declared and declared[0] != len(parts):
        raise RemapError(
            f"pretrained file {path.name} header declares {declared[0]} vectors but holds "
            f"{len(parts)}; fix the header line 'count dim' or the truncated file."
        )
    tokens = [p[0] for p in parts]
    try:
        matrix = np.array([p[1:] for p in parts], dtype=np.float64)
    except ValueError as exc:
        raise RemapError(
            f"pretrained file {path.name} holds a non-numeric value ({exc}); every field "
            "after the token must be a number."
        ) from exc
    return tokens, matrix
