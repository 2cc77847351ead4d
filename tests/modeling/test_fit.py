"""Training without tracking: epochs timed, test split evaluated, strategies chosen in config."""

from __future__ import annotations

import numpy as np
import pytest

from warmstart.core.errors import ConfigError
from warmstart.modeling.fit import Arrays, fit, strategy
from warmstart.modeling.model import build_model

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
