"""Training without tracking: epochs timed, test split evaluated, strategies chosen in config."""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest

from warmstart.core.errors import ConfigError
from warmstart.modeling.fit import Arrays, auto_batch_size, batch_size_of, fit, strategy
from warmstart.modeling.model import EMBEDDING_LAYER, HEAD_LAYER, build_model

MODEL = {"embedding_dim": 8, "hidden_units": 4}


def arrays(n: int, seed: int) -> Arrays:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n).astype("float32")
    ids = rng.integers(2, 50, (n, 12))
    ids[:, 0] = np.where(labels == 1, 3, 4)  # a learnable signal
    return Arrays(ids=ids, labels=labels)


@pytest.mark.parametrize("name", ["default", "mirrored"])
def test_fit_under_a_configured_strategy_times_epochs_and_evaluates_test(name):
    train_cfg = {
        "epochs": 3,
        "batch_size": 32,
        "learning_rate": 0.01,
        "strategy": name,
        "devices": ["/cpu:0"] if name == "mirrored" else None,
    }
    with strategy(train_cfg).scope():
        model = build_model(vocab_size=50, sequence_length=12, model_cfg=MODEL)
    result = fit(
        model, train=arrays(256, 0), val=arrays(64, 1), test=arrays(64, 2), train_cfg=train_cfg
    )
    assert len(result.history["val_accuracy"]) == 3 == len(result.epoch_seconds)
    assert all(s > 0 for s in result.epoch_seconds)
    assert set(result.test) == {
        "test_loss",
        "test_accuracy",
        "test_tutorial_accuracy",
        "test_macro_f1",
    }
    assert result.history["loss"][-1] < result.history["loss"][0]


def test_unknown_strategy_names_the_valid_ones():
    with pytest.raises(ConfigError, match="default, mirrored or multi_worker"):
        strategy({"strategy": "tpu_pod"})


@pytest.mark.parametrize(
    ("rows", "batch"), [(0, 16), (240, 16), (720, 16), (4000, 32), (9052, 128), (20000, 256)]
)
def test_auto_batch_size_gives_small_tables_tens_of_steps_and_large_ones_batches_of_256(
    rows, batch
):
    assert auto_batch_size(rows) == batch
    assert batch_size_of({"batch_size": "auto"}, rows) == batch
    assert batch_size_of({"batch_size": 1024}, rows) == 1024


def test_early_stopping_ends_training_and_keeps_the_best_epochs_weights():
    """A rate so high the validation loss gets worse after the first epochs: training stops
    `patience` epochs after the best one, and the model holds the best epoch's weights."""
    train_cfg = {
        "epochs": 30,
        "batch_size": 16,
        "learning_rate": 0.5,
        "strategy": "default",
        "early_stopping": {"enabled": True, "monitor": "val_loss", "patience": 2, "min_delta": 0},
    }
    model = build_model(vocab_size=50, sequence_length=12, model_cfg=MODEL)
    val = arrays(64, 1)
    result = fit(model, train=arrays(256, 0), val=val, test=None, train_cfg=train_cfg)
    losses = result.history["val_loss"]
    assert result.stopped_epoch == len(losses) - 1 < 29
    assert result.best_epoch == int(np.argmin(losses))
    assert result.stopped_epoch - result.best_epoch == 2
    kept = model.evaluate(val.ids, val.labels, verbose=0, return_dict=True)["loss"]
    assert kept == pytest.approx(min(losses), rel=1e-4)


def test_without_early_stopping_every_epoch_trains_and_the_last_is_kept():
    train_cfg = {"epochs": 3, "batch_size": 32, "learning_rate": 0.01, "strategy": "default"}
    model = build_model(vocab_size=50, sequence_length=12, model_cfg=MODEL)
    result = fit(model, train=arrays(128, 0), val=arrays(32, 1), test=None, train_cfg=train_cfg)
    assert result.best_epoch == result.stopped_epoch == 2 and result.batch_size == 32


class SlowEpochEnd(keras.callbacks.Callback):
    """End-of-epoch work a tracking callback might do; reads each epoch's logs when the next
    one begins, as MetricsLogger does."""

    PAUSE = 0.3

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[float] = []
        self._logs: dict | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        time.sleep(self.PAUSE)
        self._logs = logs

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.on_train_end()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._logs is not None:
            self.seen.append(self._logs["epoch_seconds"])
            self._logs = None


def test_an_epoch_is_timed_whole_with_every_callbacks_end_of_epoch_work():
    train_cfg = {"epochs": 3, "batch_size": 32, "learning_rate": 0.01, "strategy": "default"}
    model = build_model(vocab_size=50, sequence_length=12, model_cfg=MODEL)
    slow = SlowEpochEnd()
    result = fit(
        model,
        train=arrays(64, 0),
        val=arrays(32, 1),
        test=None,
        train_cfg=train_cfg,
        callbacks=[slow],
    )
    assert len(result.epoch_seconds) == 3
    assert all(s >= SlowEpochEnd.PAUSE for s in result.epoch_seconds), result.epoch_seconds
    assert slow.seen == result.epoch_seconds == result.history["epoch_seconds"]


def with_int64_input(model: keras.Model) -> keras.Model:
    """The model as it was before int32 ids: the same layers behind an int64 input."""
    ids = keras.Input(shape=model.inputs[0].shape[1:], dtype="int64", name="token_ids")
    return keras.Model(ids, model.get_layer(HEAD_LAYER)(model.get_layer(EMBEDDING_LAYER)(ids)))


def test_int32_ids_train_and_predict_exactly_as_int64_ids_did():
    train_cfg = {"epochs": 1, "batch_size": 32, "learning_rate": 0.01, "strategy": "default"}
    train, val = arrays(128, 0), arrays(32, 1)
    assert train.ids.dtype == np.int64
    runs = []
    for dtype in ("int64", "int32"):
        keras.utils.set_random_seed(0)
        model = build_model(vocab_size=50, sequence_length=12, model_cfg=MODEL)
        if dtype == "int64":
            model = with_int64_input(model)
        ids = train.ids.astype(dtype)
        fit(model, train=Arrays(ids, train.labels), val=Arrays(val.ids.astype(dtype), val.labels),
            test=None, train_cfg=train_cfg)  # fmt: skip
        assert model.inputs[0].dtype == dtype
        runs.append((model.get_weights(), model.predict(ids, verbose=0)))
    (weights64, logits64), (weights32, logits32) = runs
    for before, after in zip(weights64, weights32, strict=True):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(logits64, logits32)
