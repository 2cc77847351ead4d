"""A short mutual exclusion around moving `champion`, built from one atomic MLflow call.

MLflow has no compare-and-set for aliases, but creating a registered model is atomic: the
store's unique name lets exactly one of several concurrent `create_registered_model` calls
succeed (the others get RESOURCE_ALREADY_EXISTS), and deleting a registered model removes it.
So the lock is a registered model named `champion_lock_model(name)`, held while a promotion
re-reads the champion, records its decision and moves the alias (a few calls, well under a
second), then deleted. A holder that died leaves it behind: it is broken once older than
`LEASE_SECONDS` (the server's creation time against this machine's clock).
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Iterator

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST, ErrorCode
from mlflow.tracking import MlflowClient

from warmstart.core.errors import TrackingError
from warmstart.tracking.aliases import champion_lock_model
from warmstart.tracking.write_retry import (
    is_already_created,
    is_write_conflict,
    retry_conflicts,
)

# One DEBUG line when a promotion finds the lock taken: how tests see promotions really collide.
log = logging.getLogger(__name__)
LEASE_SECONDS = 120.0  # a live holder needs under a second; a dead one is broken after this
WAIT_SECONDS = 300.0  # give up waiting (a stuck lock is broken well before)


def _try_create(client: MlflowClient, lock: str, holder: str) -> bool:
    try:
        client.create_registered_model(
            lock,
            description=(
                f"Transient lock held by {holder} while warmstart moves the champion alias; "
                f"safe to delete when older than {LEASE_SECONDS:g} s."
            ),
        )
        return True
    except MlflowException as exc:
        if is_already_created(exc) or is_write_conflict(exc):
            return False
        raise


def _break_if_stale(client: MlflowClient, lock: str) -> None:
    with contextlib.suppress(MlflowException):  # gone already: the next try takes it
        created = client.get_registered_model(lock).creation_timestamp / 1000.0
        if time.time() - created > LEASE_SECONDS:
            client.delete_registered_model(lock)


@contextlib.contextmanager
def champion_lock(name: str, holder: str) -> Iterator[None]:
    """Hold the champion lock of model `name` for the body; `holder` is named in the lock."""
    client = MlflowClient()
    lock = champion_lock_model(name)
    deadline = time.monotonic() + WAIT_SECONDS
    waited = False
    while not _try_create(client, lock, holder):
        if not waited:
            log.debug("the champion lock %s is taken; %s waits", lock, holder)
            waited = True
        if time.monotonic() > deadline:
            raise TrackingError(
                f"the champion lock of '{name}' ({lock}) stayed taken for {WAIT_SECONDS:g} s; "
                "if no promotion is running, delete that registered model and retry"
            )
        _break_if_stale(client, lock)
        time.sleep(random.uniform(0.05, 0.25))
    try:
        yield
    finally:
        _release(client, lock)


def _release(client: MlflowClient, lock: str) -> None:
    """Delete the lock, again while the store is busy with the waiters' attempts (a lock left
    behind would hold every later promotion for the lease)."""
    try:
        retry_conflicts(lambda: client.delete_registered_model(lock))
    except MlflowException as exc:
        if exc.error_code != ErrorCode.Name(RESOURCE_DOES_NOT_EXIST):  # broken after the lease
            raise
