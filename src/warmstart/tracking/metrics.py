"""The Keras callback that sends epoch metrics to MLflow in the background, losing none.

Training never waits for the tracking server: an epoch's metrics are queued when the next
epoch begins (or training ends), so every value the epoch's callbacks added is in them, the
whole-epoch `epoch_seconds` included (`modeling.fit.EpochTimer`), and a sender thread writes
them, at most once every `SEND_INTERVAL` seconds (the epochs that end meanwhile go out
together); while the server is slow or restarting they stay buffered and go out on a later
attempt, or at `flush()`, which is the one place that waits (and raises if it must). The
training thread only hands over a copy of the epoch's logs (about 1 us); the sender picks
the numeric values and builds MLflow's metrics.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from numbers import Real

import keras
import mlflow
from mlflow.tracking import MlflowClient

from warmstart.core.errors import TrackingError
from warmstart.tracking.write_retry import retry

_RETRY_PAUSE = 1.0  # seconds the sender waits after a failed write before trying again
# Seconds between two writes: epochs that end meanwhile go out together. A write costs the
# training process a few milliseconds of CPU whatever it holds (SQLite: about 5 ms), 5% of a
# 0.1 s epoch if every epoch sent its own; the UI's live curves lag by at most this.
SEND_INTERVAL = 1.0


_Epoch = tuple[int, int, dict]  # a closed epoch: index (the step), end time in ms, its logs


def _metrics_of(epoch: int, timestamp: int, logs: Mapping) -> list[mlflow.entities.Metric]:
    """An epoch's logs as metrics at step `epoch`: every finite number; the rest is dropped."""
    return [
        mlflow.entities.Metric(str(key), float(value), timestamp, epoch)
        for key, value in logs.items()
        if isinstance(value, Real) and math.isfinite(float(value))
    ]


class MetricsLogger(keras.callbacks.Callback):
    """Logs every numeric metric Keras reports at `step` = epoch index (0 first)."""

    def __init__(self, run_id: str, send_interval: float = SEND_INTERVAL) -> None:
        super().__init__()
        self.run_id = run_id
        self.send_interval = send_interval
        self._pending: list[_Epoch] = []  # closed epochs not yet written, oldest first
        self._lock = threading.Lock()  # guards _pending
        self._sending = threading.Lock()  # one writer at a time: the thread or flush()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = MlflowClient()
        self._closing: tuple[int, int, Mapping] | None = None  # an epoch ended, not yet queued

    def on_epoch_end(self, epoch: int, logs: Mapping | None = None) -> None:
        self._queue_closed_epoch()  # called without an epoch begin between: keep both
        self._closing = (epoch, int(time.time() * 1000), logs if logs is not None else {})

    def on_epoch_begin(self, epoch: int, logs: Mapping | None = None) -> None:
        self._queue_closed_epoch()

    def on_train_end(self, logs: Mapping | None = None) -> None:
        self._queue_closed_epoch()

    def _queue_closed_epoch(self) -> None:
        """Queue the epoch that ended, read now: every callback has added its values."""
        if self._closing is None:
            return
        epoch, now, logs = self._closing
        self._closing = None
        with self._lock:  # a copy: what a callback changes later is not this epoch's
            self._pending.append((epoch, now, dict(logs)))
        self._ensure_sender()
        self._wake.set()

    def _ensure_sender(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="metrics-sender", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self._send()
            except Exception:  # kept; tried again after a pause, at the next epoch or flush()
                self._stop.wait(_RETRY_PAUSE)
                with self._lock:
                    if self._pending:
                        self._wake.set()
            else:
                self._stop.wait(self.send_interval)  # what ends meanwhile waits for one write

    def _send(self) -> None:
        """Send every buffered epoch (MLflow splits the metrics per call); on failure keep them."""
        with self._sending:
            with self._lock:
                epochs = list(self._pending)
            metrics = [metric for closed in epochs for metric in _metrics_of(*closed)]
            if metrics:
                self._client.log_batch(self.run_id, metrics=metrics)
            with self._lock:
                del self._pending[: len(epochs)]

    def _stop_sender(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def flush(self, attempts: int = 30, wait: float = 2.0) -> None:
        """Stop the sender and send what is buffered; raise if the server stays unreachable."""
        self._queue_closed_epoch()
        self._stop_sender()
        try:
            retry(self._send, retryable=lambda _: True, attempts=attempts, wait=lambda _: wait)
        except Exception:
            raise TrackingError(
                f"the metrics of {len(self._pending)} epochs could not be logged: the tracking "
                "server stayed unreachable; restart it and run the stage again"
            ) from None
