"""Connecting to the tracking store and opening the experiment, failing fast with the fix.

A stage checks the server before it spends minutes on data and training, never shows a
credential from the URI, and opens its experiment safely when processes race to create it.
The experiment is marked as model training (`mlflow.experimentKind`), which MLflow 3's UI
reads to open it on its training runs rather than on the GenAI traces overview.
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
from warmstart.tracking import headline
from warmstart.tracking.write_retry import is_already_created, is_write_conflict, retry

_EXPERIMENT_ATTEMPTS = 5
# MLflow's own experiment tag and value for classic model training (the UI's "Machine learning"
# kind; its GenAI kind is "genai_development"). MLflow 3.17 has no API for it, only the tag.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
TRAINING_KIND = "custom_model_development"
# The UI's own switch between its GenAI and model-training pages (a URL parameter).
UI_TRAINING_VIEW = "workflowType=machine_learning"


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
            mark_training(os.environ["MLFLOW_EXPERIMENT_ID"])
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
            tags = {EXPERIMENT_KIND_TAG: TRAINING_KIND, headline.VIEW_TAG: headline.view_state()}
            return client.create_experiment(name, tags=tags)
        if experiment.lifecycle_stage != "active":
            raise TrackingError(
                f"experiment '{name}' is deleted; restore it (`mlflow experiments restore "
                f"--experiment-id {experiment.experiment_id}`) or choose another name "
                "(MLFLOW_EXPERIMENT_NAME or tracking.experiment_name)"
            )
        mark_training(experiment.experiment_id, experiment.tags)
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


def mark_training(experiment_id: str, tags: Mapping[str, str] | None = None) -> None:
    """Mark the experiment as model training unless it already has a kind (one a user chose
    stays), and give it the headline's runs-list view; `tags` are its tags when the caller has
    just read them."""
    client = MlflowClient()
    if tags is None:
        tags = client.get_experiment(experiment_id).tags
    if not tags.get(EXPERIMENT_KIND_TAG):
        client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, TRAINING_KIND)
    headline.ensure_view(experiment_id, tags)


def ui_link(experiment_id: str, run_id: str | None = None, uri: str | None = None) -> str:
    """Where a browser shows the experiment's training runs (or one run) in MLflow's UI.

    MLflow 3.17's UI ignores the experiment's kind tag when it chooses its pages: it follows
    its sidebar switch, GenAI by default, unless the link carries `UI_TRAINING_VIEW`; the
    experiment's link opens the runs list with the headline's columns (`headline.VIEW`). A local
    store has no web address: the link then assumes `mlflow ui` on its default port.
    """
    uri = uri or mlflow.get_tracking_uri()
    base = uri.rstrip("/") if uri.startswith(("http://", "https://")) else "http://127.0.0.1:5000"
    base = str(config_mod.redact("uri", base))
    if run_id:
        return f"{base}/#/experiments/{experiment_id}/runs/{run_id}?{UI_TRAINING_VIEW}"
    view = f"viewStateShareKey={headline.VIEW}"
    return f"{base}/#/experiments/{experiment_id}/runs?{UI_TRAINING_VIEW}&{view}"
