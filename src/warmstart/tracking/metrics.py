"""The Keras callback that sends epoch metrics to MLflow and survives a server restart."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping

import keras
import mlflow
from mlflow.tracking import MlflowClient

from warmstart.core.errors import TrackingError
from warmstart.tracking.write_retry import retry


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
        with contextlib.suppress(Exception):  # kept for the next epoch or flush()
            self._send()

    def _send(self) -> None:
        """Send every buffered metric (MLflow splits them per call); on failure keep them all."""
        if self._pending:
            self._client.log_batch(self.run_id, metrics=list(self._pending))
            self._pending.clear()

    def flush(self, attempts: int = 30, wait: float = 2.0) -> None:
        """Send what is buffered; raise if the server stays unreachable (nothing is dropped)."""
        try:
            retry(self._send, retryable=lambda _: True, attempts=attempts, wait=lambda _: wait)
        except Exception:
            raise TrackingError(
                f"{len(self._pending)} epoch metrics could not be logged: the tracking server "
                "stayed unreachable; restart it and run the stage again"
            ) from None
