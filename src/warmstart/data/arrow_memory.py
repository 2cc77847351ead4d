"""The allocator Arrow's buffers come from while a table streams.

A streamed pass allocates and frees a batch's buffers thousands of times. Arrow's default
pool (mimalloc) gives freed memory back to the system soon after, so each new batch pays for
touching fresh pages again; on a virtual machine whose host backs guest memory lazily that
cost dominates (here: 28 µs a page, preparation of 100,000 rows 4.4-5.3 s against 1.6-1.7 s on
the C library's allocator, which keeps and reuses what it freed). `ARROW_DEFAULT_MEMORY_POOL`,
Arrow's own setting, still wins when it is set.
"""

from __future__ import annotations

import os

import pyarrow as pa

POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"


def use_reusing_pool() -> str:
    """Make the C library's allocator Arrow's default unless the user named one; returns
    the pool's name."""
    if not os.environ.get(POOL_VARIABLE) and pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())
    return pa.default_memory_pool().backend_name
