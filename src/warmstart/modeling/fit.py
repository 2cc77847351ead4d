"""Fit and evaluate a model on vectorized splits; framework-facing, tracking-agnostic.

Callers pass extra Keras callbacks (the MLflow one lives in `tracking`), so the same code
trains with or without tracking and the benchmark can measure tracking's overhead.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from warmstart.config.choices import Strategy
from warmstart.config.schema import AUTO
from warmstart.core.errors import ConfigError
from warmstart.core.labels import encode
from warmstart.core.verdict import Verdict
from warmstart.modeling import multi_worker, text
from warmstart.modeling.feed import StreamedSplit
from warmstart.modeling.model import compile_model, num_classes


@dataclass
class Arrays:
    """Token ids and labels of one split, vectorized once."""

    ids: np.ndarray
    labels: np.ndarray


@dataclass
class FitResult:
    """Per-epoch history (epoch 0 first), epoch wall times and held-out test metrics.

    `batch_size` is the one trained with (`train.batch_size=auto` resolved). With early
    stopping, `best_epoch` (0 first) is the epoch whose weights the model keeps and
    `stopped_epoch` the last one trained; without it both are the last epoch.
    """

    history: dict[str, list[float]]
    epoch_seconds: list[float]
    test: dict[str, float] = field(default_factory=dict)
    batch_size: int = 0
    best_epoch: int = 0
    stopped_epoch: int = 0
    verdict: Verdict | None = None  # did it learn (core.verdict), set by the tracked stage


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each whole epoch, what a user waits for: its steps, its validation and every
    callback's end-of-epoch work (logging, checkpoints, early stopping).

    It goes first in the callback list and an epoch ends when the next one begins (or training
    ends), so the work later callbacks do at an epoch's end is inside it. The time is added to
    that epoch's logs then: a callback that reads `epoch_seconds` reads the logs at the next
    epoch's begin (`tracking.metrics.MetricsLogger` does), not at the epoch's end.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0
        self._open: dict | None = None  # the logs of the epoch not yet closed

    def on_epoch_begin(self, epoch: int, logs: Mapping | None = None) -> None:
        self._close()
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._open = logs if logs is not None else {}

    def on_train_end(self, logs: Mapping | None = None) -> None:
        self._close()

    def _close(self) -> None:
        if self._open is None:
            return
        elapsed = time.perf_counter() - self._start
        self.seconds.append(elapsed)
        self._open["epoch_seconds"] = elapsed
        self._open = None


def strategy(train_cfg: Mapping) -> tf.distribute.Strategy:
    """The `tf.distribute` strategy named by `train.strategy`; build and compile under its scope.

    `default`: one device (CPU or the first GPU). `mirrored`: every local GPU (or the devices
    in `train.devices`). `multi_worker`: several machines, described by the TF_CONFIG variable.
    One instance per setting and process, so building and compiling share it.
    """
    devices = train_cfg.get("devices")
    return _strategy(str(train_cfg.get("strategy", "default")), tuple(devices or ()))


@functools.cache
def _strategy(name: str, devices: tuple[str, ...]) -> tf.distribute.Strategy:
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices=list(devices) or None)
    if name == multi_worker.MULTI_WORKER:
        return multi_worker.new_strategy()
    *others, last = Strategy
    raise ConfigError(f"train.strategy={name!r} is unknown; use {', '.join(others)} or {last}")


AUTO_BATCH_ROWS = 100  # train.batch_size=auto: about this many steps per epoch ...
AUTO_BATCH_BOUNDS = (16, 256)  # ... with a batch between these (powers of two)


def auto_batch_size(rows: int) -> int:
    """`train.batch_size=auto`: rows/100 rounded to a power of two, within 16..256.

    A small table then still gets tens of steps per epoch (900 rows -> 16, 56 steps), where
    the tutorial's 1024 gave one step and learned nothing; a large one keeps batches of 256.
    """
    low, high = AUTO_BATCH_BOUNDS
    target = max(rows, 1) / AUTO_BATCH_ROWS
    return int(min(max(2 ** round(math.log2(max(target, 1.0))), low), high))


def batch_size_of(train_cfg: Mapping, rows: int) -> int:
    """`train.batch_size` for a training split of `rows` rows (`auto` resolved)."""
    value = train_cfg["batch_size"]
    return auto_batch_size(rows) if value == AUTO else int(value)


def early_stopping(train_cfg: Mapping) -> keras.callbacks.EarlyStopping | None:
    """`train.early_stopping` as Keras' callback, keeping the best epoch's weights (None: off)."""
    stopping = train_cfg.get("early_stopping") or {}
    if not stopping.get("enabled", False):
        return None
    return keras.callbacks.EarlyStopping(
        monitor=str(stopping["monitor"]),
        patience=int(stopping["patience"]),
        min_delta=float(stopping["min_delta"]),
        mode="min" if str(stopping["monitor"]).endswith("loss") else "max",
        restore_best_weights=True,
    )


def to_arrays(
    vectorizer: keras.layers.TextVectorization, frame: pd.DataFrame, labels: Sequence = (0, 1)
) -> Arrays:
    """Vectorize a split's texts once; labels as class indices in `labels`' order, float32
    for the binary logit loss, int32 for the sparse categorical one."""
    index = encode(frame["label"].tolist(), labels)
    return Arrays(
        ids=text.vectorize(vectorizer, frame["text"].tolist()),
        labels=index.astype("float32" if len(labels) == 2 else "int32"),
    )


def fit(
    model: keras.Model,
    *,
    train: Arrays | StreamedSplit,
    val: Arrays | StreamedSplit,
    test: Arrays | StreamedSplit | None,
    train_cfg: Mapping,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    on_compiled: Callable[[keras.Model], None] | None = None,
) -> FitResult:
    """Compile, train for at most `train.epochs` (early stopping may end it sooner, keeping
    the best epoch's weights), then evaluate once on the held-out test split.

    The settings are typed by the config schema and checked by `warmstart.config.validate`.
    `on_compiled` runs in the strategy's scope right after compiling, e.g. to restore a
    source's optimizer state (`modeling.optimizer_state`).
    """
    epochs = int(train_cfg["epochs"])
    batch_size = batch_size_of(train_cfg, _rows(train))
    stopper = early_stopping(train_cfg)
    with strategy(train_cfg).scope():
        compile_model(model, float(train_cfg["learning_rate"]), num_classes=num_classes(model))
        if on_compiled is not None:
            on_compiled(model)
    timer = EpochTimer()
    multi = train_cfg.get("strategy") == multi_worker.MULTI_WORKER
    with contextlib.ExitStack() as running:
        if multi:
            running.enter_context(multi_worker.keras_fit_scope(model, strategy(train_cfg)))
        # A streamed split's shuffle seed, drawn from the seeded numpy state (repeatable).
        inputs = _Inputs(batch_size, int(np.random.randint(2**31 - 1)), multi)
        history = model.fit(
            **inputs.training(train, val),
            epochs=epochs,
            verbose=0,
            callbacks=[timer, *callbacks, *([stopper] if stopper else [])],
        )
        last = len(timer.seconds) - 1
        result = FitResult(
            history={
                **{k: [float(v) for v in vs] for k, vs in history.history.items()},
                "epoch_seconds": list(timer.seconds),  # closed after History saw the epoch
            },
            epoch_seconds=timer.seconds,
            batch_size=batch_size,
            best_epoch=int(stopper.best_epoch) if stopper else last,
            stopped_epoch=last,
        )
        if test is not None:
            scores = model.evaluate(**inputs.scoring(test), verbose=0, return_dict=True)
            result.test = {f"test_{k}": float(v) for k, v in scores.items()}
    return result


def _rows(split: Arrays | StreamedSplit) -> int:
    return split.rows if isinstance(split, StreamedSplit) else len(split.labels)


@dataclass(frozen=True)
class _Inputs:
    """`model.fit` / `model.evaluate` arguments for in-memory arrays or a streamed split."""

    batch_size: int
    seed: int
    multi: bool

    def _workers(self) -> tuple[int, int]:
        return multi_worker.worker_index() if self.multi else (0, 1)

    def training(self, train: Arrays | StreamedSplit, val: Arrays | StreamedSplit) -> dict:
        if isinstance(train, Arrays) and isinstance(val, Arrays):
            return {
                "x": train.ids,
                "y": train.labels,
                "validation_data": (val.ids, val.labels),
                "batch_size": self.batch_size,
                "shuffle": True,
            }
        assert isinstance(train, StreamedSplit) and isinstance(val, StreamedSplit)
        worker, workers = self._workers()
        out: dict[str, Any] = {
            "x": train.dataset(self.batch_size, seed=self.seed, worker=worker, workers=workers),
            "validation_data": val.dataset(self.batch_size, worker=worker, workers=workers),
            "shuffle": False,  # the stream shuffles itself (`feed`)
        }
        if workers > 1:
            out["steps_per_epoch"] = train.steps(self.batch_size, workers)
            out["validation_steps"] = val.steps(self.batch_size, workers)
        return out

    def scoring(self, test: Arrays | StreamedSplit) -> dict:
        if isinstance(test, Arrays):
            return {"x": test.ids, "y": test.labels, "batch_size": self.batch_size}
        worker, workers = self._workers()
        out: dict[str, Any] = {"x": test.dataset(self.batch_size, worker=worker, workers=workers)}
        if workers > 1:
            out["steps"] = test.steps(self.batch_size, workers)
        return out
