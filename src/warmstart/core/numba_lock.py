"""One Python thread at a time in Numba's compiled, parallel loops.

Numba's default thread pool (workqueue) is not documented as safe to enter from two Python
threads at once, so the entry points that run parallel loops (`subword_join.search`,
`weighted_rows.compose`) share this lock: calls in one process take turns, and each uses
every core anyway.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["LOCK", "one_at_a_time"]

T = TypeVar("T")

LOCK = threading.Lock()


def one_at_a_time(fn: Callable[..., T]) -> Callable[..., T]:
    """`fn`, run while holding `LOCK`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        with LOCK:
            return fn(*args, **kwargs)

    return wrapper
