"""Which MLflow failures count as lost write races, and the one retry loop that uses it.

The error codes are the ones MLflow 3's stores return (checked against a real server in
test_a_real_duplicate_experiment_is_recognised_by_its_code); the racing writers themselves are
exercised in test_tracking.py (experiments) and test_registry.py (aliases), which count the
retries this loop logs (one DEBUG line each, checked here) and fail if no writer lost a race.
"""

from __future__ import annotations

import uuid

import pytest
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    BAD_REQUEST,
    INTERNAL_ERROR,
    RESOURCE_ALREADY_EXISTS,
    TEMPORARILY_UNAVAILABLE,
)
from mlflow.tracking import MlflowClient
from mlflow_fixtures import RETRIES, Server, logged

from warmstart.tracking.write_retry import (
    is_already_created,
    is_write_conflict,
    retry,
    retry_conflicts,
)


def test_retry_conflicts_retries_lost_races_only() -> None:
    calls = []

    def loses_twice() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise MlflowException("(sqlite3.IntegrityError) UNIQUE constraint failed: x")
        return "written"

    with logged(RETRIES) as retried:
        assert retry_conflicts(loses_twice) == "written" and len(calls) == 3
    # One line per lost race, naming it: what the race tests count.
    assert len(retried) == 2 and all("UNIQUE constraint failed" in m for m in retried), retried
    calls.clear()

    def refused() -> None:
        calls.append(1)
        raise MlflowException("PERMISSION_DENIED: no")

    with logged(RETRIES) as retried, pytest.raises(MlflowException, match="PERMISSION_DENIED"):
        retry_conflicts(refused)
    assert len(calls) == 1 and retried == []


@pytest.mark.parametrize(
    ("message", "code", "conflict"),
    [
        ("(sqlite3.OperationalError) database is locked", TEMPORARILY_UNAVAILABLE, True),
        ("(sqlite3.OperationalError) no such table: runs", TEMPORARILY_UNAVAILABLE, False),
        ("database is locked", BAD_REQUEST, False),  # the code says it was not the store
        ("(sqlite3.IntegrityError) UNIQUE constraint failed: aliases", BAD_REQUEST, True),
        ('duplicate key value violates unique constraint "aliases_pk"', BAD_REQUEST, True),
        (
            "Model Version creation error (name=m). Giving up after 3 attempts.",
            INTERNAL_ERROR,
            True,
        ),
        ("Invalid value 'x' for parameter 'alias'", BAD_REQUEST, False),
        ("Experiment(name=x) already exists.", RESOURCE_ALREADY_EXISTS, False),
    ],
)
def test_write_conflicts_are_told_by_code_and_only_then_by_message(
    message: str, code: int, conflict: bool
) -> None:
    assert is_write_conflict(MlflowException(message, error_code=code)) is conflict


def test_only_an_existing_resource_counts_as_already_created() -> None:
    assert is_already_created(MlflowException("x", error_code=RESOURCE_ALREADY_EXISTS))
    assert not is_already_created(MlflowException("already exists", error_code=BAD_REQUEST))
    assert not is_already_created(ValueError("already exists"))


def test_a_real_duplicate_experiment_is_recognised_by_its_code(tracking: Server) -> None:
    client = MlflowClient()
    name = f"dup-{uuid.uuid4().hex[:8]}"
    client.create_experiment(name)
    with pytest.raises(MlflowException) as raised:
        client.create_experiment(name)
    assert is_already_created(raised.value)


def test_retry_waits_between_attempts_and_raises_the_last_failure() -> None:
    waits: list[int] = []
    calls: list[int] = []

    def always_fails() -> None:
        calls.append(1)
        raise OSError(f"failure {len(calls)}")

    with pytest.raises(OSError, match="failure 3"):
        retry(
            always_fails, retryable=lambda _: True, attempts=3, wait=lambda n: waits.append(n) or 0
        )
    assert len(calls) == 3 and waits == [0, 1]  # no wait after the last attempt
