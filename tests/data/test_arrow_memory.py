"""A streamed pass allocates Arrow buffers from a pool that reuses what it freed."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest

from warmstart.data.arrow_memory import POOL_VARIABLE, use_reusing_pool


@pytest.fixture
def arrow_pool() -> Iterator[pa.MemoryPool]:
    """Arrow's default pool, put back after the test."""
    before = pa.default_memory_pool()
    yield before
    pa.set_memory_pool(before)


def test_the_c_allocator_becomes_arrows_default(arrow_pool, monkeypatch) -> None:
    monkeypatch.delenv(POOL_VARIABLE, raising=False)
    pa.set_memory_pool(pa.mimalloc_memory_pool())
    assert use_reusing_pool() == "system"
    assert pa.default_memory_pool().backend_name == "system"


def test_a_pool_the_user_named_stands(arrow_pool, monkeypatch) -> None:
    monkeypatch.setenv(POOL_VARIABLE, "mimalloc")
    pa.set_memory_pool(pa.mimalloc_memory_pool())
    assert use_reusing_pool() == "mimalloc"
    assert pa.default_memory_pool().backend_name == "mimalloc"
