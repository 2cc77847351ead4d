"""Shared fixtures: a real MLflow server (mlflow_fixtures) and the shared IMDB archive."""

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
