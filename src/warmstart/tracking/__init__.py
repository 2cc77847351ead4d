"""MLflow tracking adapter: connecting, stage runs, epoch metrics, datasets, run reuse.

Guarantees the stages rely on:
- a run that fails is ended FAILED (KILLED on Ctrl-C/SIGTERM), never left RUNNING;
- epoch metrics survive a tracking-server restart (buffered and retried, flushed at the end);
- no secret (passwords, tokens, credentials in URIs) reaches params or tags.
- concurrent stages sharing a store do not fail on each other's writes (lost races retried).
Publishing to and resolving from the model registry live in `registry`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import keras
import mlflow
from mlflow.entities import RunStatus
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from warmstart import config as config_mod
from warmstart.core.errors import TrackingError

STAGE_TAG = "warmstart.stage"
# Set by the sweep callback: each multirun job's top-level run becomes a child of this run.
PARENT_ENV = "WARMSTART_PARENT_RUN_ID"
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the warmstart package
T = TypeVar("T")


class StageInterrupted(BaseException):
    """Raised by the SIGTERM handler so the active run ends KILLED, like Ctrl-C."""


# ---------------------------------------------------------------- connecting


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


def is_write_conflict(exc: BaseException) -> bool:
    """A store write lost a race with another writer (unique key taken, SQLite busy).

    Such a write changed nothing and can be retried; MLflow passes these through unretried
    for experiments and aliases, and gives up on versions after three tries.
    """
    text = str(exc)
    return isinstance(exc, MlflowException) and any(
        sign in text
        for sign in (
            "IntegrityError",
            "UNIQUE constraint failed",
            "duplicate key value",
            "database is locked",
            "Model Version creation error",
        )
    )


def retry_conflicts(write: Callable[[], T], attempts: int = 6) -> T:
    """Run `write`, again after a short random back-off each time it loses a write race."""
    for attempt in range(attempts):
        try:
            return write()
        except MlflowException as exc:
            if attempt == attempts - 1 or not is_write_conflict(exc):
                raise
            time.sleep(random.uniform(0.05, 0.2) * 2**attempt)
    raise AssertionError("unreachable")


def open_experiment(name: str) -> str:
    """The id of experiment `name`, created if missing; safe when processes race to create it.

    `mlflow.set_experiment(name)` loses such a race quietly: it returns without activating
    the experiment, so the loser's runs would land in the Default experiment.
    """
    client = MlflowClient()
    for _ in range(5):
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            if experiment.lifecycle_stage != "active":
                raise TrackingError(
                    f"experiment '{name}' is deleted; restore it (`mlflow experiments restore "
                    f"--experiment-id {experiment.experiment_id}`) or choose another name "
                    "(MLFLOW_EXPERIMENT_NAME or tracking.experiment_name)"
                )
            return experiment.experiment_id
        try:
            return client.create_experiment(name)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS" and not is_write_conflict(exc):
                raise
    raise TrackingError(f"experiment '{name}' could not be created or found; retry the stage")


# ---------------------------------------------------------------- runs


def _log_params(params: Mapping[str, Any]) -> None:
    items = [(k, "" if v is None else str(v)[:6000]) for k, v in params.items()]
    for start in range(0, len(items), 100):  # the tracking API takes 100 params per call
        mlflow.log_params(dict(items[start : start + 100]))


@contextlib.contextmanager
def stage_run(
    cfg: Mapping,
    stage: str,
    *,
    overrides: Sequence[str] = (),
    parent_run_id: str | None = None,
    run_name: str | None = None,
    extra_tags: Mapping[str, str] | None = None,
) -> Iterator[mlflow.ActiveRun]:
    """A run for one stage with its config, overrides and stage tag; ended FAILED on error.

    Outside any parent, the first run resumes the run `mlflow run` created (MLFLOW_RUN_ID);
    in a multirun job, the run is a child of the sweep parent (`PARENT_ENV`).
    """
    if parent_run_id is None and os.environ.get(PARENT_ENV):
        parent_run_id = os.environ[PARENT_ENV]
        extra_tags = {**config_mod.job_tags(), **(extra_tags or {})}
    tags = {
        STAGE_TAG: stage,
        "warmstart.overrides": config_mod.redact_overrides(overrides)[:5000],
        **(extra_tags or {}),
    }
    run = mlflow.start_run(
        run_name=run_name or stage,
        parent_run_id=parent_run_id,
        nested=parent_run_id is not None,
        tags=tags,
    )
    try:
        if run.data.tags.get("mlflow.runName") != (run_name or stage) and parent_run_id is None:
            mlflow.set_tag("mlflow.runName", run_name or stage)
        mlflow.set_tags(tags)  # a resumed `mlflow run` run did not get them at start
        if cfg.get("description"):
            mlflow.set_tag("mlflow.note.content", str(cfg["description"]))
        _log_params(config_mod.flatten(cfg))
        mlflow.log_text(config_mod.to_yaml(cfg), "config.yaml")
        yield run
    except (KeyboardInterrupt, StageInterrupted) as exc:
        log_stage_failure(exc)
        _end(run, RunStatus.to_string(RunStatus.KILLED))
        raise
    except BaseException as exc:
        log_stage_failure(exc)
        _end(run, RunStatus.to_string(RunStatus.FAILED))
        raise
    else:
        _end(run, RunStatus.to_string(RunStatus.FINISHED))


def _end(run: mlflow.ActiveRun, status: str) -> None:
    """End `run` with `status`, retrying briefly: a run must not stay RUNNING."""
    for attempt in range(3):
        try:
            active = mlflow.active_run()
            if active is not None and active.info.run_id == run.info.run_id:
                mlflow.end_run(status)
            else:
                MlflowClient().set_terminated(run.info.run_id, status)
            return
        except Exception:  # the store may be restarting: try again, then give up quietly
            time.sleep(1 + attempt)


def log_stage_failure(exc: BaseException) -> None:
    """Record why the active run failed (one line), if a run is active."""
    if mlflow.active_run() is not None:
        with contextlib.suppress(Exception):
            message = config_mod.redact("error", f"{type(exc).__name__}: {exc}")
            mlflow.set_tag("warmstart.error", message[:5000])


# ---------------------------------------------------------------- metrics and data


class MetricsLogger(keras.callbacks.Callback):
    """Logs each epoch's metrics at `step` = epoch index (0 first, as Keras autologging).

    Metrics a failed call could not write stay buffered and go out with the next epoch or
    at `flush()`, so a tracking-server restart during training loses nothing.
    """

    KEYS = (
        "loss",
        "accuracy",
        "tutorial_accuracy",
        "val_loss",
        "val_accuracy",
        "val_tutorial_accuracy",
        "epoch_seconds",
    )

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self._pending: list[mlflow.entities.Metric] = []
        self._client = MlflowClient()

    def on_epoch_end(self, epoch: int, logs: Mapping | None = None) -> None:
        now = int(time.time() * 1000)
        for key in self.KEYS:
            if logs and key in logs:
                self._pending.append(mlflow.entities.Metric(key, float(logs[key]), now, epoch))
        self._send()

    def _send(self) -> bool:
        if not self._pending:
            return True
        try:
            for start in range(0, len(self._pending), 1000):
                self._client.log_batch(self.run_id, metrics=self._pending[start : start + 1000])
        except Exception:
            return False
        self._pending.clear()
        return True

    def flush(self, attempts: int = 30, wait: float = 2.0) -> None:
        """Send what is buffered; raise if the server stays unreachable (nothing is dropped)."""
        for _ in range(attempts):
            if self._send():
                return
            time.sleep(wait)
        raise TrackingError(
            f"{len(self._pending)} epoch metrics could not be logged: the tracking server "
            "stayed unreachable; restart it and run the stage again"
        )


def log_splits(splits: Any) -> None:
    """Log train/val/test as MLflow datasets with their digests and sizes."""
    parts = (("training", splits.train), ("validation", splits.val), ("test", splits.test))
    with warnings.catch_warnings():
        # MLflow hints about integer columns and ambiguous local sources: not actionable here.
        warnings.simplefilter("ignore", UserWarning)
        for context, frame in parts:
            dataset = mlflow.data.from_pandas(
                frame, name=f"{splits.name}-{context}", targets="label", source=str(splits.source)
            )
            mlflow.log_input(dataset, context=context)
    mlflow.set_tag("warmstart.data_digest", splits.digest())
    mlflow.log_params({f"data.{context}_rows": len(frame) for context, frame in parts})


# ---------------------------------------------------------------- reuse

# Settings that change where or how a run is recorded, not what it computes.
_NOT_SEMANTIC = ("tracking.", "compare.", "paths.", "description", "reuse", "base.")


def code_version() -> str:
    """sha256 over the package's source files: any code change invalidates reuse."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def reuse_key(cfg: Mapping, stage: str, data_digest: str, ignore: tuple[str, ...] = ()) -> str:
    """What makes two runs of `stage` interchangeable: resolved config, data and code.

    `ignore` names config prefixes the stage does not read (the base stage ignores
    `warmstart.*`, so a sweep over warm-start settings shares one base run).
    """
    skip = _NOT_SEMANTIC + ignore
    settings = {k: v for k, v in config_mod.flatten(cfg).items() if not k.startswith(skip)}
    payload = json.dumps(
        [stage, settings, data_digest, code_version()], sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def find_reusable(stage: str, key: str) -> mlflow.entities.Run | None:
    """The newest finished, not itself reused, run of `stage` with `key` whose version exists."""
    experiment = mlflow.get_experiment(mlflow.active_run().info.experiment_id)
    runs = mlflow.search_runs(
        [experiment.experiment_id],
        f"tags.`warmstart.reuse_key` = '{key}' and tags.`{STAGE_TAG}` = '{stage}' "
        "and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        output_format="list",
    )
    client = MlflowClient()
    for run in runs:
        tags = run.data.tags
        if "warmstart.reused_from" in tags or "warmstart.registered_version" not in tags:
            continue
        with contextlib.suppress(MlflowException):
            client.get_model_version(
                tags["warmstart.registered_name"], tags["warmstart.registered_version"]
            )
            return run
    return None
