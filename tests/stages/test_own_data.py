"""Your own data end to end, against the session's real tracking server: the README's example
command (a table whose newer rows bring new words and a fourth class), the embedded corpus's
multi-class mode, and bad tables failing the run with nothing registered."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from compose import compose_config
from docs_blocks import commands
from faults import run_of_experiment, stage_env
from mlflow.tracking import MlflowClient
from mlflow_fixtures import versions_of

from warmstart.config import PROJECT_ROOT
from warmstart.core.errors import DataError
from warmstart.data import load_splits
from warmstart.data.example_table import example_table
from warmstart.stages import pipeline, train_base
from warmstart.tracking.connection import connect
from warmstart.tracking.version_format import (
    TOKENS_NEW_TAG,
    label_diff_tag,
    read_record,
    remap_count_tag,
)

pytestmark = pytest.mark.slow


def readme_example() -> list[str]:
    """The shell lines of README's "Your own data" example (after activating the venv)."""
    return [line for line in commands("own-data") if not line.startswith("source ")]


def epoch1(client: MlflowClient, run_id: str) -> float:
    (first, *_) = sorted(client.get_metric_history(run_id, "val_accuracy"), key=lambda m: m.step)
    return first.value


def test_readme_example_warm_starts_across_new_words_and_a_new_class(mlflow_server, tmp_path):
    experiment = f"own-data-{uuid.uuid4().hex[:6]}"
    bin_dir = Path(sys.executable).parent
    env = stage_env(mlflow_server.uri, experiment, PATH=f"{bin_dir}:{os.environ['PATH']}",
                    PWD=str(tmp_path))  # fmt: skip
    make, run = readme_example()
    subprocess.run(shlex.split(make), cwd=tmp_path, env=env, check=True, capture_output=True)
    command = (
        run.replace("$PWD", str(tmp_path))
        .replace("mlflow run .", f"mlflow run {PROJECT_ROOT}")
        .replace("--experiment-name warmstart", f"--experiment-name {experiment}")
    )
    assert experiment in command  # the README names the experiment (else runs land in Default)
    done = subprocess.run(shlex.split(command), cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    client = MlflowClient(mlflow_server.uri)
    runs = {r.data.tags.get("warmstart.stage"): r for r in run_of_experiment(client, experiment)}
    assert all(r.info.status == "FINISHED" for r in runs.values())
    warm, cold = runs["warm_start"], runs["cold_start"]
    # Warm starts where cold ends: its first epoch is as good as cold's best one.
    cold_best = max(m.value for m in client.get_metric_history(cold.info.run_id, "val_accuracy"))
    warm_first, cold_first = epoch1(client, warm.info.run_id), epoch1(client, cold.info.run_id)
    assert warm_first >= max(cold_first, cold_best - 0.01)
    assert set(warm.data.metrics) == set(cold.data.metrics) and "macro_f1" in warm.data.metrics

    version = client.get_model_version("warmstart-own-data", warm.data.tags[
        "warmstart.registered_version"])  # fmt: skip
    record = read_record(version.tags)  # the label and vocabulary diffs, in one record
    assert record.labels["added"] == ["refund"] and record.labels["removed"] == []
    assert record.remap["added"] > 0 and int(version.tags[TOKENS_NEW_TAG]) > 0  # new words
    assert int(warm.data.tags[remap_count_tag("added")]) > 0
    assert runs["vocab_diff"].data.metrics["labels_n_added"] == 1

    mlflow.set_tracking_uri(mlflow_server.uri)
    model = mlflow.pyfunc.load_model(f"models:/warmstart-own-data/{version.version}")
    new = example_table(n_old=0, n_new=200, seed=5)
    out = model.predict(pd.DataFrame({"text": new["text"]}))
    classes = ["billing", "login", "refund", "shipping"]
    assert list(out.columns) == ["label", *(f"p_{c}" for c in classes)]
    assert set(out["label"]) == set(classes)
    assert (out["label"] == new["label"]).mean() > 0.8


def test_embedded_corpus_multiclass_mode_adds_a_class(tracking, data_cache):
    overrides = ["experiment=smoke", "data.num_classes=4", "data.n_train=300", "data.n_test=80",
                 "base.data.n_train=300", "train.epochs=1", "reuse=false",
                 f"registry.model_name=topics-{uuid.uuid4().hex[:6]}"]  # fmt: skip
    cfg = compose_config(*overrides, cache_dir=data_cache)
    connect(cfg)
    ids = pipeline.run(cfg, overrides=overrides).run_ids
    client = MlflowClient()
    warm = client.get_run(ids["warm"])
    assert json.loads(warm.data.tags[label_diff_tag("added")]) == ["science"]
    assert warm.data.params["labels.count"] == "4"
    assert client.get_run(ids["base"]).data.params["labels.count"] == "3"


BAD = {
    "missing_column": ("data.text_column=body", "has no column 'body'; its columns are"),
    "one_class": ("data.label_column=one", "one class only"),
    "unparsable_time": ("data.time_column=created", "are not an ISO date"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_table_fails_the_run_with_one_line_and_registers_nothing(tracking, tmp_path, case):
    frame = example_table(n_old=60, n_new=0).assign(one="x")
    frame.loc[3, "created"] = "soon"
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    name = f"bad-{uuid.uuid4().hex[:6]}"
    override, says = BAD[case]
    cfg = compose_config("data=files", f"data.path={path}", override,
                         f"registry.model_name={name}")  # fmt: skip
    connect(cfg)
    with pytest.raises(DataError) as raised:
        train_base.run(cfg)
    assert says in str(raised.value) and "\n" not in str(raised.value)
    (run,) = run_of_experiment(MlflowClient(), os.environ["MLFLOW_EXPERIMENT_NAME"])
    assert run.info.status == "FAILED" and versions_of(name) == []
    assert re.search("one|column|date", run.data.tags.get("warmstart.error", ""))


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_directory_of_shards_streams_through_the_whole_pipeline(tracking, tmp_path, suffix):
    """Shards as an engine writes them (a timestamp window pushed down into Parquet, or cut
    after reading CSV), streamed: the base on the rows before the window's end, warm and cold
    after it, each split by hash; the gate scores a bounded sample and says so."""
    frame = example_table(n_old=300, n_new=240, seed=2)
    if suffix == ".parquet":
        frame["created"] = pd.to_datetime(frame["created"])  # a timestamp: pushed down
    shards = tmp_path / "shards"
    shards.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 4)):
        part, path = frame.iloc[rows], shards / f"part-{i:05d}{suffix}"
        part.to_parquet(path, index=False) if suffix == ".parquet" else part.to_csv(
            path, index=False
        )
    (shards / "_SUCCESS").write_text("")  # as Spark leaves it
    name = f"shards-{uuid.uuid4().hex[:6]}"
    overrides = [
        "experiment=own_data", f"data.path={shards}", "data.sample_rows=30", "train.epochs=2",
        "vocab.sequence_length=32", f"registry.model_name={name}",
    ]  # fmt: skip
    cfg = compose_config(*overrides)
    connect(cfg)
    result = pipeline.run(cfg, overrides=overrides)
    client = MlflowClient()
    runs = {role: client.get_run(run_id) for role, run_id in result.run_ids.items()}
    assert all(run.info.status == "FINISHED" for run in runs.values())
    assert len(versions_of(name)) == 2  # base and warm
    base, warm = runs["base"], runs["warm"]
    # The base trained on the rows of one concatenated file before the window's end, by hash.
    one = tmp_path / f"one{suffix}"
    frame.to_parquet(one, index=False) if suffix == ".parquet" else frame.to_csv(one, index=False)
    same = {"name": "files", "path": str(one), "time_column": "created", "until": "2024-06-01",
            "split": "hash", "validation_split": 0.2}  # fmt: skip
    whole = load_splits(same)
    assert base.data.tags["warmstart.data_digest"] == whole.digest()
    assert base.data.params["data.split"] == "auto" and base.data.params["data.stream"] == "auto"
    assert base.data.params["data.test_rows"] == str(len(whole.test))
    assert base.data.params["data.test_sample_rows"] == "30" < base.data.params["data.test_rows"]
    # The gate scored 30 of the test texts and says so; Keras' test scores read them all.
    decision = result.parts["warm"].decision
    assert decision is not None and decision.texts == 30
    test_rows = int(warm.data.params["data.test_rows"])
    assert f"on a sample of 30 of {test_rows:,} test texts" in decision.sentence()
    assert json.loads(warm.data.tags[label_diff_tag("added")]) == ["refund"]
