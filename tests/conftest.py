"""Shared fixtures: a real MLflow server (mlflow_fixtures) and the shared IMDB archive; how
`make test` hands files to its workers (scheduling)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path

import pytest
from mlflow_fixtures import (  # noqa: F401
    data_cache,
    mlflow_server,
    pipeline_once,
    pipeline_run,
    tracking,
)
from scheduling import pytest_xdist_make_scheduler  # noqa: F401  (make test's file order)

# --- data fixtures (warmstart.data) -------------------------------------------------------------
# The labeled IMDB archive lives next to the repository (never copied into it).
IMDB_ARCHIVE = Path(__file__).resolve().parents[2] / "shared/data/aclImdb_v1_labeled.tar.gz"
IMDB_ARCHIVE_SHA256 = "b2198ce684af4f49165a36c9d4311dd396898ea978ab18a13f125df5e9425c5e"


@pytest.fixture(scope="session")
def imdb_archive() -> Path:
    """Path of the shared labeled aclImdb archive; skips the test where it is absent."""
    if not IMDB_ARCHIVE.is_file():
        pytest.skip(f"{IMDB_ARCHIVE} is absent (the shared IMDB archive is not on this machine)")
    return IMDB_ARCHIVE


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """moto's S3 server on 127.0.0.1 (benchmarks/servers.py), in memory, started once per
    session; each test makes its own bucket. (Here, not in tests/data/conftest.py: a second
    `conftest` module would shadow this one for the tests that import from it.)"""
    from servers import start_s3

    server = start_s3(tmp_path_factory.mktemp("s3"))
    yield server
    server.stop()
