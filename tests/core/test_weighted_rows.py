"""Specification of `weighted_rows.compose`: each target row is the weighted sum of its base
rows, summed in float64 in the order given, whatever the matrices' type or memory layout."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from warmstart.core import numba_lock
from warmstart.core.weighted_rows import compose

BASE_ROWS, DIM = 9, 4
TARGETS = np.array([5, 0, 3, 6, 2])  # rows of `out` written, in no particular order
INDEX = np.array([[1, 4, -1], [0, -1, -1], [8, 7, 6], [2, 2, 5], [3, -1, -1]])
WEIGHTS = np.array(
    [[0.5, 0.5, 9.0], [1.0, 0.0, 0.0], [0.2, 0.3, 0.5], [0.25, 0.25, 0.5], [1.0, 7.0, 7.0]]
)  # the weights beside -1 (padding) are never read


def reference(base: np.ndarray) -> np.ndarray:
    """Each target's row, one neighbour at a time in float64, padding skipped."""
    rows = base.reshape(base.shape[0], -1).astype(np.float64)
    out = np.zeros((len(TARGETS), rows.shape[1]))
    for i, (index, weights) in enumerate(zip(INDEX, WEIGHTS, strict=True)):
        for b, w in zip(index, weights, strict=True):
            if b >= 0:
                out[i] += w * rows[b]
    return out.reshape((-1, *base.shape[1:]))


def base_matrix(dtype, shape=(BASE_ROWS, DIM)) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


def assert_composed(out: np.ndarray, base: np.ndarray, untouched: float) -> None:
    np.testing.assert_array_equal(out[TARGETS], reference(base).astype(out.dtype))
    others = np.setdiff1d(np.arange(out.shape[0]), TARGETS)
    assert others.size and (out[others] == untouched).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_are_written_straight_into_a_float_matrix(dtype):
    base = base_matrix(dtype)
    out = np.full((8, DIM), -3.0, dtype=dtype)
    compose(out, TARGETS, base, INDEX, WEIGHTS, chunk_rows=1)
    assert_composed(out, base, untouched=-3.0)


@pytest.mark.parametrize("chunk_rows", [1, 2, 5, 100])
def test_other_matrices_are_written_through_float64_blocks_of_any_size(chunk_rows):
    """float16 (summed in float64 all the same), and float32 in Fortran order: no block size
    changes a row, and the last block may be short."""
    for base, out in (
        (base_matrix(np.float16), np.full((8, DIM), -3.0, dtype=np.float16)),
        (base_matrix(np.float32), np.full((8, DIM), -3.0, dtype=np.float32, order="F")),
    ):
        compose(out, TARGETS, base, INDEX, WEIGHTS, chunk_rows=chunk_rows)
        assert_composed(out, base, untouched=-3.0)


def test_rows_of_more_than_one_dimension_are_composed_whole():
    base = base_matrix(np.float32, shape=(BASE_ROWS, 2, 3))
    out = np.zeros((7, 2, 3), dtype=np.float32)
    compose(out, TARGETS, base, INDEX, WEIGHTS, chunk_rows=2)
    assert_composed(out, base, untouched=0.0)


def test_a_composition_waits_its_turn_at_the_numba_lock():
    base = base_matrix(np.float64)
    out = np.zeros((8, DIM))
    compose(out, TARGETS, base, INDEX, WEIGHTS, chunk_rows=1)  # compiled (or loaded) first
    done = threading.Event()
    thread = threading.Thread(
        target=lambda: (compose(out, TARGETS, base, INDEX, WEIGHTS, chunk_rows=1), done.set())
    )
    with numba_lock.LOCK:
        thread.start()
        time.sleep(0.5)  # unlocked, it takes well under a millisecond
        assert not done.is_set()
    thread.join(60)
    assert done.is_set()
