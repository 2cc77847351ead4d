"""Connecting to the tracking store and opening the experiment, failing fast with the fix.

A stage checks the server before it spends minutes on data and training, never shows a
credential from the URI, and opens its experiment safely when processes race to create it.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from warmstart import config as config_mod
from warmstart.core.errors import TrackingError
from warmstart.tracking.write_retry import is_already_created, is_write_conflict, retry

_EXPERIMENT_ATTEMPTS = 5


def tracking_uri(cfg: Mapping) -> str:
    """`MLFLOW_TRACKING_URI` if set, else the config's (an absolute SQLite URI by default)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or str(cfg["tracking"]["uri"])


def experiment_name(cfg: Mapping) -> str:
    return os.environ.get("MLFLOW_EXPERIMENT_NAME") or str(cfg["tracking"]["experiment_name"])


def connect(cfg: Mapping) -> str:
    """Point MLflow at the store and experiment; fail fast if a server does not answer."""
    uri = tracking_uri(cfg)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    shown = config_mod.redact("uri", uri)
    if uri.startswith(("http://", "https://")):
        timeout = float(cfg["tracking"].get("connect_timeout", 10))
        try:
            with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout) as reply:
                reply.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise TrackingError(
                f"MLflow tracking server {shown} did not answer within {timeout:g}s ({exc}); "
                "start it, fix MLFLOW_TRACKING_URI / tracking.uri, or unset it to use the "
                "local SQLite store"
            ) from None
    elif uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    try:
        if os.environ.get("MLFLOW_EXPERIMENT_ID") and not os.environ.get("MLFLOW_EXPERIMENT_NAME"):
            # `mlflow run` names its experiment by id: children must land beside their parent.
            mlflow.set_experiment(experiment_id=os.environ["MLFLOW_EXPERIMENT_ID"])
        else:
            mlflow.set_experiment(experiment_id=open_experiment(experiment_name(cfg)))
    except MlflowException as exc:
        raise TrackingError(
            f"MLflow store {shown} refused to open experiment '{experiment_name(cfg)}': "
            f"{exc.message}; check the credentials (MLFLOW_TRACKING_USERNAME/PASSWORD) and URI"
        ) from None
    return uri


def _lost_creation_race(exc: Exception) -> bool:
    return is_already_created(exc) or is_write_conflict(exc)


def open_experiment(name: str) -> str:
    """The id of experiment `name`, created if missing; safe when processes race to create it.

    `mlflow.set_experiment(name)` loses such a race quietly: it returns without activating
    the experiment, so the loser's runs would land in the Default experiment.
    """
    client = MlflowClient()

    def find_or_create() -> str:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            return client.create_experiment(name)
        if experiment.lifecycle_stage != "active":
            raise TrackingError(
                f"experiment '{name}' is deleted; restore it (`mlflow experiments restore "
                f"--experiment-id {experiment.experiment_id}`) or choose another name "
                "(MLFLOW_EXPERIMENT_NAME or tracking.experiment_name)"
            )
        return experiment.experiment_id

    try:
        # The winner's experiment is visible at once: read it again without waiting.
        return retry(
            find_or_create,
            retryable=_lost_creation_race,
            attempts=_EXPERIMENT_ATTEMPTS,
            wait=lambda _: 0.0,
        )
    except MlflowException as exc:
        if not _lost_creation_race(exc):
            raise
    raise TrackingError(f"experiment '{name}' could not be created or found; retry the stage")
