"""Held-out evaluation on a real tracking server: classes whose text MLflow refuses in a
metric name are logged under safe names, and keep their own text everywhere else."""

from __future__ import annotations

import re
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from compose import compose_config
from mlflow.tracking import MlflowClient
from mlflow_fixtures import Server
from sklearn import metrics as sk

from warmstart.core.labels import metric_safe_names
from warmstart.tracking.connection import connect
from warmstart.tracking.evaluation import PREFIX, evaluate
from warmstart.tracking.pyfunc import output_columns

CLASSES = ["CULTURE & ARTS", "a/b?", "x"]
TRUTH = ["CULTURE & ARTS"] * 4 + ["a/b?"] * 4 + ["x"] * 4
GUESS = ["CULTURE & ARTS"] * 3 + ["x"] + ["a/b?"] * 2 + ["CULTURE & ARTS"] * 2 + ["x"] * 4


def predictions() -> pd.DataFrame:
    """The pyfunc's columns for GUESS: the label and a probability per class."""
    rows = [{f"p_{c}": 0.8 if c == guess else 0.1 for c in CLASSES} for guess in GUESS]
    return pd.DataFrame(rows).assign(label=GUESS)[output_columns(CLASSES)]


def test_per_class_metrics_of_labels_mlflow_refuses_are_logged_under_safe_names(
    tracking: Server, tmp_path: Path
) -> None:
    connect(compose_config())
    test = pd.DataFrame({"text": [f"text {i}" for i in range(len(TRUTH))], "label": TRUTH})
    dataset = mlflow.data.from_pandas(test, name="test")
    with mlflow.start_run() as run:
        evaluation = evaluate(test, predictions(), CLASSES, dataset=dataset)
    logged = MlflowClient().get_run(run.info.run_id).data.metrics
    names = metric_safe_names(CLASSES)
    assert names == {"CULTURE & ARTS": "CULTURE_and_ARTS", "a/b?": "a_b", "x": "x"}
    for label, name in names.items():
        for kind, scorer in (("precision", sk.precision_score), ("recall", sk.recall_score)):
            want = scorer(TRUTH, GUESS, labels=[label], average="macro", zero_division=0)
            assert (
                logged[f"{PREFIX}{kind}_{name}"]
                == evaluation.metrics[f"{PREFIX}{kind}_{name}"]
                == pytest.approx(want)
            )
        assert f"{PREFIX}f1_{name}" in logged
    assert logged[f"{PREFIX}macro_f1"] == pytest.approx(
        sk.f1_score(TRUTH, GUESS, average="macro", zero_division=0)
    )
    assert not [key for key in logged if re.search(r"[&?]|a/b", key)]
    # MLflow's own per-class table (a report) names the classes as the data wrote them.
    table = MlflowClient().download_artifacts(
        run.info.run_id, "per_class_metrics.csv", str(tmp_path)
    )
    assert sorted(pd.read_csv(table)["positive_class"]) == CLASSES
