"""Splits logged as MLflow datasets against a real server: MLflow builds each dataset once per
data content per process, and every run still shows the same complete inputs."""

from __future__ import annotations

import json

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

from warmstart.data import Splits
from warmstart.tracking import datasets


def _splits(seed: int) -> Splits:
    def frame(n: int) -> pd.DataFrame:
        return pd.DataFrame(
            {"text": [f"review {seed} {i}" for i in range(n)], "label": [i % 2 for i in range(n)]}
        )

    return Splits(frame(40), frame(10), frame(20), source="/tmp/reviews.csv", name="files")


def test_each_data_content_is_built_once_and_every_run_shows_it(tracking, monkeypatch):
    built = []
    real = mlflow.data.from_pandas

    def counted(*args, **kwargs):
        built.append(kwargs["name"])
        return real(*args, **kwargs)

    monkeypatch.setattr(mlflow.data, "from_pandas", counted)
    same_a, same_b, other = _splits(1), _splits(1), _splits(2)  # a and b: equal, not identical
    runs = []
    for splits in (same_a, same_a, same_b, other):
        with mlflow.start_run() as run:
            datasets.log_splits(splits)
        runs.append(MlflowClient().get_run(run.info.run_id))
    assert built == ["files-training", "files-validation", "files-test"] * 2  # 1 and 2 only
    for run, splits in zip(runs, (same_a, same_a, same_b, other), strict=True):
        inputs = run.inputs.dataset_inputs
        assert [i.tags[0].value for i in inputs] == ["training", "validation", "test"]
        assert all(json.loads(i.dataset.schema)["mlflow_colspec"] for i in inputs)
        assert run.data.tags["warmstart.data_digest"] == splits.digest()
        assert run.data.params["data.training_rows"] == "40"
        assert run.data.params["data.dropped_empty_texts"] == "0"
    digests = [[i.dataset.digest for i in r.inputs.dataset_inputs] for r in runs]
    assert digests[0] == digests[1] == digests[2] != digests[3]
