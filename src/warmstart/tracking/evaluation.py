"""Held-out test evaluation with MLflow's own classifier evaluator, on the model's predictions.

`mlflow.models.evaluate(model_type="classifier")` computes and logs the metrics (accuracy,
precision, recall, F1, confusion matrix; per-class table for multi-class) and links them to the
logged model (`model_id`). Its evaluator asks only sklearn-like models for probabilities, so
for this project's pyfunc it gets the predictions as data (`label`, `p_<class>`, `probability`,
the pyfunc's own columns) and this module adds, through its public `extra_metrics` and
`custom_artifacts`, what it would otherwise skip: per-class precision/recall/F1, macro F1 and,
for binary models, ROC and precision-recall curves and their areas, under MLflow's names.
Base, warm and cold runs all go through here, so their metric keys are identical.
"""

from __future__ import annotations

import contextlib
import logging
import numbers
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mlflow.metrics import MetricValue
from mlflow.models import EvaluationResult, MetricThreshold, make_metric
from mlflow.tracking import MlflowClient
from sklearn import metrics as sk

from warmstart.config.choices import PromotionMetric
from warmstart.core.labels import label_kind, metric_safe_names, normalize

PREFIX = "test_"  # evaluated on the test split: test_accuracy_score, test_macro_f1, ...
EVALUATION_DIR = "evaluation"  # where the logged model keeps a copy of the artifacts
# `registry.promotion.metric` -> the evaluator's metric key (without PREFIX); `auto` picks one.
PROMOTION_METRICS: dict[str, str] = {
    PromotionMetric.accuracy: "accuracy_score",
    PromotionMetric.macro_f1: "macro_f1",
}


@contextlib.contextmanager
def quiet_mlflow() -> Iterator[None]:
    """MLflow's evaluator narrates (first-row trials, inferred labels, SHAP absent, active
    model set): keep a stage's output to its own few lines; errors still show."""
    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # notes on integer columns and local sources
            yield
    finally:
        logger.setLevel(level)


@dataclass
class Evaluation:
    """What one evaluation logged: metrics by key (PREFIX included), MLflow's result, time."""

    metrics: dict[str, float]
    result: EvaluationResult
    seconds: float


def score(metric: str, y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    """`registry.promotion.metric` on labels (accuracy or macro F1), as the evaluator scores it."""
    if metric == "macro_f1":
        return float(sk.f1_score(y_true, y_pred, average="macro", zero_division=0))
    return float(sk.accuracy_score(y_true, y_pred))


def result_of(metric: str, value: float) -> EvaluationResult:
    """An evaluation result holding one score: the champion's side of a comparison."""
    return EvaluationResult(metrics={PREFIX + PROMOTION_METRICS[metric]: value}, artifacts={})


def threshold(min_delta: float) -> MetricThreshold:
    """At least as good as the baseline (`min_delta=0`), or better by `min_delta`."""
    if min_delta > 0:
        return MetricThreshold(min_absolute_change=float(min_delta), greater_is_better=True)
    return MetricThreshold(min_relative_change=0.0, greater_is_better=True)


def _per_class_metrics(classes: Sequence[Any]) -> list:
    """precision/recall/F1 of each class, and macro F1, as MLflow extra metrics.

    A class's metrics are named by `metric_safe_names` (`precision_CULTURE_and_ARTS`): MLflow
    refuses `&`, `?` and the like in a metric name, which used to fail the run after training.
    """
    names = metric_safe_names(classes)

    def one(kind: str, cls: Any):
        scorer = {"precision": sk.precision_score, "recall": sk.recall_score, "f1": sk.f1_score}
        key = f"{kind}_{names[cls]}"

        def fn(predictions: pd.Series, targets: pd.Series) -> MetricValue:
            value = scorer[kind](
                targets, predictions, labels=[cls], average="macro", zero_division=0
            )
            return MetricValue(aggregate_results={key: float(value)})

        return make_metric(eval_fn=fn, greater_is_better=True, name=key)

    def macro(predictions: pd.Series, targets: pd.Series) -> MetricValue:
        return MetricValue(aggregate_results={"macro_f1": score("macro_f1", targets, predictions)})

    found = [one(kind, cls) for cls in classes for kind in ("precision", "recall", "f1")]
    return [*found, make_metric(eval_fn=macro, greater_is_better=True, name="macro_f1")]


def _binary_curves(classes: Sequence[Any], y_true: np.ndarray, positive: np.ndarray):
    """ROC and precision-recall areas (extra metrics) and plots (custom artifacts)."""
    truth = y_true == classes[1]

    def area(kind: str):
        def fn(predictions: pd.Series, targets: pd.Series) -> MetricValue | None:
            if len(targets) < len(truth):  # MLflow's first-row trial: one class, no curve
                return None
            if kind == "roc_auc":
                value = sk.roc_auc_score(truth, positive)
            else:
                precision, recall, _ = sk.precision_recall_curve(truth, positive)
                value = sk.auc(recall, precision)
            return MetricValue(aggregate_results={kind: float(value)})

        return make_metric(eval_fn=fn, greater_is_better=True, name=kind)

    def plots(eval_df: pd.DataFrame, builtin: dict, artifacts_dir: str) -> dict[str, str]:
        out = {}
        fpr, tpr, _ = sk.roc_curve(truth, positive)
        precision, recall, _ = sk.precision_recall_curve(truth, positive)
        for name, x, y, xlabel, ylabel in (
            ("roc_curve_plot", fpr, tpr, "false positive rate", "true positive rate"),
            ("precision_recall_curve_plot", recall, precision, "recall", "precision"),
        ):
            fig = Figure(figsize=(5, 4))
            ax = fig.subplots()
            ax.plot(x, y)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            ax.set_title(f"{name.removesuffix('_plot').replace('_', ' ')} (positive: {classes[1]})")
            ax.grid(alpha=0.3)
            path = Path(artifacts_dir) / f"drawn_{name}.png"
            fig.savefig(path)
            out[f"{PREFIX}{name}"] = str(path)
        return out

    return [area("roc_auc"), area("precision_recall_auc")], [plots]


def evaluate(
    test: pd.DataFrame,
    predicted: pd.DataFrame,
    classes: Sequence[Any],
    *,
    dataset: mlflow.data.dataset.Dataset,
    model_id: str | None = None,
) -> Evaluation:
    """Evaluate `predicted` (the pyfunc's columns) against `test` in the active run.

    `dataset` is the test split as logged (name and digest), so the evaluation refers to the
    same input instead of logging a copy; `model_id` links the metrics to the logged model and
    gets a copy of the artifacts under `evaluation/`.
    """
    start = time.perf_counter()
    classes = list(classes)
    y_true = np.asarray(normalize(test["label"].tolist(), label_kind(classes)))
    frame = predicted.reset_index(drop=True).rename(columns={"label": "prediction"})
    frame.insert(0, "target", y_true)
    extra, artifacts = _per_class_metrics(classes), []
    config: dict[str, Any] = {"metric_prefix": PREFIX, "label_list": classes}
    if len(classes) == 2:
        config["pos_label"] = classes[1]
        curves, artifacts = _binary_curves(classes, y_true, frame["probability"].to_numpy())
        extra += curves
    else:
        config["average"] = "macro"
    # mlflow adds its dataset constructors at import (setattr): typing cannot see them
    data = mlflow.data.from_pandas(  # type: ignore[attr-defined]
        frame,
        targets="target",
        predictions="prediction",
        name=dataset.name,
        digest=dataset.digest,
        source=dataset.source,
    )
    with quiet_mlflow():
        result = mlflow.models.evaluate(
            data=data,
            model_type="classifier",
            evaluator_config=config,
            extra_metrics=extra,
            custom_artifacts=artifacts,
            model_id=model_id,
        )
    if model_id:
        _attach_artifacts(model_id)
    values = {k: float(v) for k, v in result.metrics.items() if isinstance(v, numbers.Real)}
    return Evaluation(values, result, time.perf_counter() - start)


def _attach_artifacts(model_id: str) -> None:
    """Copy the run's evaluation artifacts to the logged model, beside its files."""
    run = mlflow.active_run()
    assert run is not None, "evaluate runs inside a stage run"
    client = MlflowClient()
    names = [f.path for f in client.list_artifacts(run.info.run_id) if f.path.startswith(PREFIX)]
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            local = client.download_artifacts(run.info.run_id, name, tmp)
            client.log_model_artifact(model_id, local, EVALUATION_DIR)
