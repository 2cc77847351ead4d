"""What base, warm and cold runs share: data and vocabulary preparation, tracked training.

Warm and cold runs go through exactly this code with the same config, so their params and
metric keys are identical and the MLflow UI compares them directly.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import mlflow

from warmstart.config import to_container
from warmstart.data import Splits, load_splits
from warmstart.modeling import text
from warmstart.modeling.fit import Arrays, FitResult, fit, strategy, to_arrays
from warmstart.modeling.model import build_model
from warmstart.tracking import MetricsLogger, log_splits


@dataclass
class Prepared:
    """A stage's data, vectorized with a vocabulary learned from its training split."""

    splits: Splits
    vectorizer: keras.layers.TextVectorization
    vocabulary: list[str]
    train: Arrays
    val: Arrays
    test: Arrays


# The pipeline prepares the same new data for vocab_diff, warm and cold in one process:
# reading 50,000 reviews and adapting a vocabulary once, not three times, keeps its wall time
# near plain Keras. Keyed by the resolved data, vocab and seed settings; holds two entries
# (the base's and the update's).
_PREPARED: dict[str, Prepared] = {}


def _prepared_key(cfg: Mapping) -> str:
    parts = {k: to_container(cfg[k]) if k != "seed" else cfg[k] for k in ("data", "vocab", "seed")}
    return json.dumps(parts, sort_keys=True, default=str)


def prepare(cfg: Mapping, *, log: bool = True) -> Prepared:
    """Load the splits, learn the vocabulary on train, vectorize every split once."""
    keras.utils.set_random_seed(int(cfg["seed"]))
    key = _prepared_key(cfg)
    data = _PREPARED.get(key)
    if data is None:
        splits = load_splits(cfg["data"])
        vectorizer = text.adapt_vectorizer(
            splits.train["text"].tolist(),
            max_tokens=int(cfg["vocab"]["max_tokens"]),
            sequence_length=int(cfg["vocab"]["sequence_length"]),
        )
        data = Prepared(
            splits=splits,
            vectorizer=vectorizer,
            vocabulary=text.vocabulary_of(vectorizer),
            train=to_arrays(vectorizer, splits.train),
            val=to_arrays(vectorizer, splits.val),
            test=to_arrays(vectorizer, splits.test),
        )
        while len(_PREPARED) >= 2:
            _PREPARED.pop(next(iter(_PREPARED)))
        _PREPARED[key] = data
    if log:
        log_splits(data.splits)
        mlflow.log_param("vocab.size", len(data.vocabulary))
        mlflow.log_text("".join(f"{t}\n" for t in data.vocabulary), "vocabulary.txt")
    return data


def new_model(cfg: Mapping, data: Prepared, **warm: Any) -> keras.Model:
    """The configured model for `data`'s vocabulary, built in the `train.strategy` scope.

    `warm` takes `embedding_matrix` and `head` for a warm start (see `model.build_model`).
    """
    with strategy(cfg["train"]).scope():
        return build_model(
            vocab_size=len(data.vocabulary),
            sequence_length=int(cfg["vocab"]["sequence_length"]),
            model_cfg=cfg["model"],
            **warm,
        )


def train_tracked(model: keras.Model, data: Prepared, cfg: Mapping) -> FitResult:
    """Fit with per-epoch metrics and TensorBoard logs kept with the active run."""
    run = mlflow.active_run()
    assert run is not None, "train_tracked runs inside a stage run"
    keras.utils.set_random_seed(int(cfg["seed"]))
    metrics = MetricsLogger(run.info.run_id)
    with tempfile.TemporaryDirectory() as tmp:
        callbacks: list[keras.callbacks.Callback] = [metrics]
        if cfg["train"].get("tensorboard", True):
            callbacks.append(keras.callbacks.TensorBoard(log_dir=str(Path(tmp) / "tensorboard")))
        result = fit(
            model,
            train=data.train,
            val=data.val,
            test=data.test,
            train_cfg=cfg["train"],
            callbacks=callbacks,
        )
        metrics.flush()
        if cfg["train"].get("tensorboard", True):
            mlflow.log_artifacts(str(Path(tmp) / "tensorboard"), "tensorboard")
    mlflow.log_metrics(result.test)
    return result
