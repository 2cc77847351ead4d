"""New rows as weighted sums of base rows, compiled: how `subword` writes the rows it found.

`compose` writes out[targets[i]] = sum_j weights[i, j] * base[index[i, j]] for every row i
(index -1: padding, skipped), accumulating in float64 whatever the matrices' type, with the
rows shared out to every core. It is Numba-compiled, like the search that finds the
neighbours (`subword_join`), and imported on first use only (from `subword_rows`).
"""

from __future__ import annotations

import numba
import numpy as np

from warmstart.core.numba_lock import one_at_a_time

__all__ = ["compose"]

# Matrix types the compiled loop reads and writes directly; any other goes through float64.
_COMPILED = (np.dtype(np.float32), np.dtype(np.float64))


@one_at_a_time
def compose(
    out: np.ndarray,
    targets: np.ndarray,
    base: np.ndarray,
    index: np.ndarray,
    weights: np.ndarray,
    chunk_rows: int,
) -> None:
    """out[targets[i]] = sum_j weights[i, j] * base[index[i, j]] (accumulated in float64).
    Straight into `out` when it is a float32/float64 array in C order; otherwise through
    float64 blocks of `chunk_rows` rows."""
    flat = base.reshape(base.shape[0], -1)
    if flat.dtype not in _COMPILED:
        flat = flat.astype(np.float64)  # e.g. float16: summed in float64 all the same
    if out.dtype in _COMPILED and out.flags.c_contiguous:
        _compose(flat, index, weights, targets, out.reshape(out.shape[0], -1))
        return
    for start in range(0, targets.size, chunk_rows):
        stop = start + chunk_rows
        block = np.empty((min(stop, targets.size) - start, flat.shape[1]), dtype=np.float64)
        _compose(
            flat,
            index[start:stop],
            weights[start:stop],
            np.arange(block.shape[0]),
            block,
        )
        out[targets[start:stop]] = block.reshape((-1, *out.shape[1:])).astype(out.dtype)


@numba.njit(cache=True, nogil=True, parallel=True)
def _compose(
    flat: np.ndarray,
    index: np.ndarray,
    weights: np.ndarray,
    targets: np.ndarray,
    out: np.ndarray,
) -> None:
    """out[targets[i]] = the weighted sum of row i's neighbours' base rows."""
    for i in numba.prange(index.shape[0]):
        row = targets[i]
        for d in range(flat.shape[1]):
            acc = 0.0
            for j in range(index.shape[1]):
                if index[i, j] >= 0:
                    acc += weights[i, j] * flat[index[i, j], d]
            out[row, d] = acc
