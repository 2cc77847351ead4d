"""What base, warm and cold runs share: data and vocabulary preparation, tracked training.

Warm and cold runs go through exactly this code with the same config, so their params and
metric keys are identical and the MLflow UI compares them directly.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import keras
import mlflow

from .. import text
from ..data import Splits, load_splits
from ..tracking import MetricsLogger, log_splits
from ..training import Arrays, FitResult, fit, to_arrays


@dataclass
class Prepared:
    """A stage's data, vectorized with a vocabulary learned from its training split."""

    splits: Splits
    vectorizer: keras.layers.TextVectorization
    vocabulary: list[str]
    train: Arrays
    val: Arrays
    test: Arrays


def prepare(cfg: Mapping, *, log: bool = True) -> Prepared:
    """Load the splits, learn the vocabulary on train, vectorize every split once."""
    keras.utils.set_random_seed(int(cfg["seed"]))
    splits = load_splits(cfg["data"])
    vectorizer = text.adapt_vectorizer(
        splits.train["text"].tolist(),
        max_tokens=int(cfg["vocab"]["max_tokens"]),
        sequence_length=int(cfg["vocab"]["sequence_length"]),
    )
    vocabulary = text.vocabulary_of(vectorizer)
    if log:
        log_splits(splits)
        mlflow.log_param("vocab.size", len(vocabulary))
        mlflow.log_text("".join(f"{t}\n" for t in vocabulary), "vocabulary.txt")
    return Prepared(
        splits=splits,
        vectorizer=vectorizer,
        vocabulary=vocabulary,
        train=to_arrays(vectorizer, splits.train),
        val=to_arrays(vectorizer, splits.val),
        test=to_arrays(vectorizer, splits.test),
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
