"""Array helpers the pure core and its callers share: one finite check, one object array.

Each caller words its own error (weights, pretrained vectors, a matrix to publish), but the
scan that finds bad values is this one, so its speed and its notion of "row" are the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Scan at most this many bytes of `isfinite` mask at once: bounded extra memory on huge matrices.
_CHUNK_BYTES = 64 * 2**20


def non_finite(array: np.ndarray) -> tuple[int, int]:
    """(how many NaN/inf values, index of the first row holding one), or (0, -1).

    A finite total proves every element finite, so the common case costs one sum; summing
    float32 in float32 halves the time of a float64 sum. Only an overflowing or NaN total
    pays for the exact chunked scan.
    """
    array = np.asarray(array)
    if array.size == 0 or array.dtype.kind not in "fc":
        return 0, -1
    total_dtype = np.promote_types(array.dtype, np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(array, dtype=total_dtype)):
            return 0, -1
    # Slice the array itself and reshape only each mask: reshaping a strided view (e.g. a
    # Dense kernel with its vocabulary axis moved first) would copy the whole array.
    rows = array.reshape(1) if array.ndim == 0 else array
    step = max(1, _CHUNK_BYTES // max(1, rows[:1].nbytes))
    count, first_row = 0, -1
    for start in range(0, rows.shape[0], step):
        bad = ~np.isfinite(rows[start : start + step])
        found = int(bad.sum())
        if found and first_row < 0:
            first_row = start + int(np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1))[0])
        count += found
    return count, first_row


def object_array(items: Sequence[object]) -> np.ndarray:
    """A 1-D object array of `items`, never reinterpreted as nested sequences or bytes."""
    array = np.empty(len(items), dtype=object)
    array[:] = list(items) if not isinstance(items, list | np.ndarray) else items
    return array
