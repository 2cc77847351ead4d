"""One retry loop for MLflow calls, and which failures are lost races worth retrying.

Concurrent stages sharing one store collide on unique keys and on SQLite's single writer; a
write that lost such a race changed nothing and can simply run again. MLflow retries neither
for experiments or aliases, and gives up on a version number after three tries.

What MLflow 3 reports, read in its SQLAlchemy stores:
- an experiment name taken: error code RESOURCE_ALREADY_EXISTS;
- SQLite busy ("database is locked"): TEMPORARILY_UNAVAILABLE, which MLflow also gives every
  other OperationalError (a lost connection, a missing table), so the message says which;
- a unique key taken when the transaction commits (alias rows): BAD_REQUEST, like any
  refused input, so only the message (IntegrityError, UNIQUE / duplicate key) tells;
- the version number taken three times: INTERNAL_ERROR, "Model Version creation error".
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    RESOURCE_ALREADY_EXISTS,
    TEMPORARILY_UNAVAILABLE,
    ErrorCode,
)

# One DEBUG line per retried failure: how tests (and an operator with the logger at DEBUG, e.g.
# `hydra.verbose=warmstart.tracking`) see that a race was really lost, not just survived.
log = logging.getLogger(__name__)
T = TypeVar("T")
Wait = Callable[[int], float]  # seconds to wait after failed attempt n (0-based)

_ALREADY_EXISTS = ErrorCode.Name(RESOURCE_ALREADY_EXISTS)
_UNAVAILABLE = ErrorCode.Name(TEMPORARILY_UNAVAILABLE)
_BUSY_SIGN = "database is locked"
_UNIQUE_SIGNS = ("IntegrityError", "UNIQUE constraint failed", "duplicate key value")
_VERSION_NUMBER_SIGN = "Model Version creation error"


def retry(
    call: Callable[[], T],
    *,
    retryable: Callable[[Exception], bool],
    attempts: int,
    wait: Wait,
) -> T:
    """`call()`, again after `wait(attempt)` seconds while it raises what `retryable` accepts.

    The last failure, or the first one `retryable` refuses, is raised as is.
    """
    for attempt in range(attempts):
        try:
            return call()
        except Exception as exc:
            if attempt == attempts - 1 or not retryable(exc):
                raise
            log.debug("attempt %d of %d failed, retrying: %s", attempt + 1, attempts, exc)
            time.sleep(wait(attempt))
    raise ValueError(f"attempts must be at least 1, got {attempts}")


def doubling_jitter(attempt: int) -> float:
    """50-200 ms, doubled per attempt: racing writers spread out instead of colliding again."""
    return random.uniform(0.05, 0.2) * 2**attempt


def is_write_conflict(exc: BaseException) -> bool:
    """A store write lost a race with another writer (store busy, unique key taken)."""
    if not isinstance(exc, MlflowException):
        return False
    text = str(exc)
    if exc.error_code == _UNAVAILABLE and _BUSY_SIGN in text:
        return True
    return any(sign in text for sign in (*_UNIQUE_SIGNS, _VERSION_NUMBER_SIGN))


def is_already_created(exc: BaseException) -> bool:
    """Another writer created the resource first: re-read it rather than create it."""
    return isinstance(exc, MlflowException) and exc.error_code == _ALREADY_EXISTS


def retry_conflicts(write: Callable[[], T], attempts: int = 6) -> T:
    """Run `write`, again after a short random back-off each time it loses a write race."""
    return retry(write, retryable=is_write_conflict, attempts=attempts, wait=doubling_jitter)
