"""What base, warm and cold runs share: data and vocabulary preparation, tracked training.

Warm and cold runs go through exactly this code with the same config, so their params and
metric keys are identical and the MLflow UI compares them directly.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import keras
import mlflow

from warmstart.core.labels import label_names
from warmstart.modeling.fit import FitResult, fit, strategy
from warmstart.modeling.model import build_model
from warmstart.modeling.prepare import Prepared, prepare_data
from warmstart.stages._evaluate import judge_training
from warmstart.tracking.datasets import log_splits
from warmstart.tracking.metrics import MetricsLogger


def prepare(cfg: Mapping, *, log: bool = True) -> Prepared:
    """The stage's prepared data (see `modeling.prepare`), logged to the active run."""
    data = prepare_data(cfg["data"], cfg["vocab"], int(cfg["seed"]))
    if log:
        log_splits(data.splits)
        mlflow.log_param("vocab.size", len(data.vocabulary))
        mlflow.log_param("resolved.sequence_length", data.sequence_length)
        mlflow.log_text("".join(f"{t}\n" for t in data.vocabulary), "vocabulary.txt")
        mlflow.log_param("labels.count", len(data.labels))
        mlflow.log_text("".join(f"{c}\n" for c in label_names(data.labels)), "labels.txt")
    return data


def new_model(cfg: Mapping, data: Prepared, **warm: Any) -> keras.Model:
    """The configured model for `data`'s vocabulary, built in the `train.strategy` scope.

    `warm` takes `embedding_matrix` and `head` for a warm start (see `model.build_model`).
    """
    with strategy(cfg["train"]).scope():
        return build_model(
            vocab_size=len(data.vocabulary),
            sequence_length=data.sequence_length,
            model_cfg=cfg["model"],
            num_classes=len(data.labels),
            **warm,
        )


def train_untracked(cfg: Mapping) -> None:
    """A non-chief worker of `train.strategy=multi_worker`: the chief's training, no tracking.

    It prepares the same data (same config and seed) and takes part in every step, epoch and
    evaluation; the chief logs and registers the result.
    """
    data = prepare(cfg, log=False)
    model = new_model(cfg, data)
    keras.utils.set_random_seed(int(cfg["seed"]))  # in the chief's order (train_tracked)
    fit(model, train=data.train, val=data.val, test=data.test, train_cfg=cfg["train"])


def train_tracked(
    model: keras.Model,
    data: Prepared,
    cfg: Mapping,
    on_compiled: Callable[[keras.Model], None] | None = None,
) -> FitResult:
    """Fit with per-epoch metrics and TensorBoard logs kept with the active run
    (`on_compiled`: see `modeling.fit.fit`)."""
    run = mlflow.active_run()
    assert run is not None, "train_tracked runs inside a stage run"
    keras.utils.set_random_seed(int(cfg["seed"]))
    metrics = MetricsLogger(run.info.run_id)
    with tempfile.TemporaryDirectory() as tmp:
        callbacks: list[keras.callbacks.Callback] = [metrics]
        if cfg["train"].get("tensorboard", False):
            callbacks.append(keras.callbacks.TensorBoard(log_dir=str(Path(tmp) / "tensorboard")))
        result = fit(
            model,
            train=data.train,
            val=data.val,
            test=data.test,
            train_cfg=cfg["train"],
            callbacks=callbacks,
            on_compiled=on_compiled,
        )
        metrics.flush()
        if cfg["train"].get("tensorboard", False):
            mlflow.log_artifacts(str(Path(tmp) / "tensorboard"), "tensorboard")
    mlflow.log_param("resolved.batch_size", result.batch_size)
    mlflow.log_metrics(
        {**result.test, "best_epoch": result.best_epoch, "stopped_epoch": result.stopped_epoch}
    )
    result.verdict = judge_training(model, data, result)
    return result
