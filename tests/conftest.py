"""Shared fixtures: a real MLflow server (mlflow_fixtures) and the shared IMDB archive."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from mlflow_fixtures import mlflow_server, tracking  # noqa: F401
