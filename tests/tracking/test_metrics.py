"""MetricsLogger sends an epoch as its logs stood when the epoch closed (the next epoch's begin
or training's end), every finite number at step = epoch index, and nothing else."""

from __future__ import annotations

import time
import uuid

import numpy as np
from mlflow.tracking import MlflowClient

from warmstart.tracking.metrics import MetricsLogger


def test_an_epoch_sends_its_logs_as_they_stood_at_its_close_each_finite_number_at_its_step(
    tracking,
):
    client = MlflowClient(tracking.uri)
    run_id = client.create_run(client.create_experiment(f"close-{uuid.uuid4().hex}")).info.run_id
    logger = MetricsLogger(run_id, send_interval=60)  # after its first write, a long pause

    def history(key: str) -> list[tuple[int, float]]:
        return sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))

    logger.on_epoch_end(2, {"loss": 1.0})
    logger.on_epoch_begin(3)  # epoch 2 is written at once, then the sender pauses
    deadline = time.monotonic() + 30
    while history("loss") != [(2, 1.0)]:
        assert time.monotonic() < deadline, "epoch 2 was never written"
        time.sleep(0.05)
    logs = {"loss": 0.5, "val_loss": float("nan"), "learning_rate": np.float32(0.25), "note": "x"}
    logger.on_epoch_end(3, logs)
    logs["epoch_seconds"] = 0.125  # EpochTimer closes the epoch after every callback's end
    logger.on_epoch_begin(4)  # epoch 3 closes: queued, written after the pause
    logs["late"] = 1.0  # changed after the close, before the write: not epoch 3's
    logger.on_epoch_end(4, {"loss": 0.25})
    logger.on_train_end()  # the last epoch closes with training
    logger.flush()  # ends the pause

    assert set(client.get_run(run_id).data.metrics) == {"loss", "learning_rate", "epoch_seconds"}
    assert history("loss") == [(2, 1.0), (3, 0.5), (4, 0.25)]
    assert history("learning_rate") == [(3, 0.25)]
    assert history("epoch_seconds") == [(3, 0.125)]
