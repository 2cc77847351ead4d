"""`train.strategy=multi_worker` with two real worker processes on 127.0.0.1 (CPU only), and
`train.strategy=mirrored` on one CPU device: tracked as one run, registered once, or FAILED."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from compose import compose_config
from docs_blocks import commands
from mlflow.tracking import MlflowClient
from mlflow_fixtures import free_port

from warmstart.config import PROJECT_ROOT, with_overlay
from warmstart.data import load_splits
from warmstart.data.synthetic.shards import write_corpus_shards
from warmstart.stages import train_base
from warmstart.tracking.connection import connect
from warmstart.tracking.stage_names import STAGE_TAG

pytestmark = pytest.mark.slow
PYTHON = str(Path(sys.executable))


def documented_worker() -> tuple[dict, list[str]]:
    """(TF_CONFIG, the stage's arguments after `python`) of docs/operations.md's command."""
    (command,) = commands("multi-worker")
    tf_config, python, *stage_args = shlex.split(command)
    assert tf_config.startswith("TF_CONFIG=") and python == "python"
    assert "train.strategy=multi_worker" in stage_args
    return json.loads(tf_config.removeprefix("TF_CONFIG=")), stage_args


SHARDS = [  # the smoke preset's training, on a table of 4 Parquet shards (streamed)
    "data=files", "train.epochs=3", "train.batch_size=64", "vocab.sequence_length=48",
    "train.tensorboard=false",
]  # fmt: skip


def start_workers(
    server, data_cache, name: str, tmp: Path, *extra: str, preset: tuple = ("experiment=smoke",)
) -> list:
    """Two `train_base` processes, each with its TF_CONFIG; worker 0 is the chief: the command
    of docs/operations.md, its hosts on the loopback, plus where this test keeps its files."""
    documented, stage_args = documented_worker()
    hosts = documented["cluster"]["worker"]
    assert len(hosts) == 2 and documented["task"] == {"type": "worker", "index": 0}
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(
        MLFLOW_TRACKING_URI=server.uri,
        MLFLOW_EXPERIMENT_NAME=name,
        CUDA_VISIBLE_DEVICES="",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    args = [
        PYTHON, *stage_args, *preset, f"paths.cache_dir={data_cache}",
        f"registry.model_name={name}", f"hydra.run.dir={tmp}/run", *extra,
    ]  # fmt: skip
    workers = []
    for index in range(2):
        task = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        log = (tmp / f"worker{index}.log").open("w")
        workers.append(
            subprocess.Popen(
                args,
                env={**env, "TF_CONFIG": json.dumps(task)},
                cwd=PROJECT_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    return workers


def wait_all(workers: list, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    codes = []
    for worker in workers:
        try:
            codes.append(worker.wait(max(1.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            worker.kill()
            codes.append(worker.wait())
    return codes


def logs(tmp: Path) -> str:
    return "\n".join(p.read_text()[-3000:] for p in sorted(tmp.glob("worker*.log")))


def test_two_workers_on_four_shards_each_read_two_and_the_chief_tracks_and_registers_once(
    mlflow_server, data_cache, tmp_path
):
    name = f"multi-worker-{uuid.uuid4().hex[:8]}"
    shards = write_corpus_shards(tmp_path / "table", rows=1600, rows_per_shard=400)
    preset = (*SHARDS, f"data.path={tmp_path / 'table'}")
    workers = start_workers(mlflow_server, data_cache, name, tmp_path, preset=preset)
    codes = wait_all(workers, timeout=400)
    assert codes == [0, 0], logs(tmp_path)
    for index, own in enumerate((shards[0::2], shards[1::2])):  # each worker its own files
        said = (tmp_path / f"worker{index}.log").read_text()
        names = ", ".join(path.name for path in own)
        assert f"worker {index} of 2 reads 2 of 4 shards for training: {names}" in said
    client = MlflowClient(mlflow_server.uri)
    runs = client.search_runs([client.get_experiment_by_name(name).experiment_id])
    assert len(runs) == 1, "only the chief creates a run"
    run = runs[0]
    assert run.info.status == "FINISHED" and run.data.tags[STAGE_TAG] == "train_base"
    assert run.data.params["train.strategy"] == "multi_worker"
    assert len(client.get_metric_history(run.info.run_id, "val_accuracy")) == 3
    versions = client.search_model_versions(f"name = '{name}'")
    assert [v.run_id for v in versions] == [run.info.run_id], "one version, the chief's"
    # It predicts like any other version: its score on raw test text is the logged one.
    mlflow.set_tracking_uri(mlflow_server.uri)
    model = mlflow.pyfunc.load_model(f"models:/{name}/{versions[0].version}")
    cfg = compose_config(*preset, cache_dir=data_cache)
    test = load_splits(with_overlay(cfg, "base").data).test  # the same hash split, in memory
    assert len(test) == int(run.data.params["data.test_rows"])
    out = model.predict(pd.DataFrame({"text": test["text"]}))
    accuracy = float((out["label"].to_numpy() == test["label"].to_numpy()).mean())
    assert accuracy > 0.6
    assert accuracy == pytest.approx(run.data.metrics["test_accuracy"], abs=0.03)


def test_a_dead_worker_fails_the_chiefs_run_and_registers_nothing(
    mlflow_server, data_cache, tmp_path
):
    name = f"multi-worker-dies-{uuid.uuid4().hex[:8]}"
    chief, worker = start_workers(mlflow_server, data_cache, name, tmp_path, "train.epochs=200")
    client = MlflowClient(mlflow_server.uri)
    deadline = time.monotonic() + 300
    run_id = None
    while time.monotonic() < deadline and chief.poll() is None:  # until an epoch is logged
        experiment = client.get_experiment_by_name(name)
        runs = client.search_runs([experiment.experiment_id]) if experiment else []
        if runs and client.get_metric_history(runs[0].info.run_id, "val_accuracy"):
            run_id = runs[0].info.run_id
            break
        time.sleep(0.5)
    assert run_id is not None, logs(tmp_path)
    worker.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    code = wait_all([chief], timeout=180)[0]
    assert code != 0 and time.monotonic() - killed < 120, "the chief fails, and soon"
    assert client.get_run(run_id).info.status == "FAILED"
    assert "Unavailable" in client.get_run(run_id).data.tags["warmstart.error"]
    assert client.search_model_versions(f"name = '{name}'") == []


def test_mirrored_strategy_on_one_cpu_device_trains_and_registers(tracking, data_cache):
    cfg = compose_config(
        "experiment=smoke",
        f"registry.model_name=mirrored-{uuid.uuid4().hex[:8]}",
        "train.strategy=mirrored",
        "train.devices=[/cpu:0]",
        "train.epochs=1",
        "reuse=false",
        cache_dir=data_cache,
    )
    connect(cfg)
    outcome = train_base.run(cfg)
    run = MlflowClient().get_run(outcome.run_id)
    assert run.info.status == "FINISHED" and run.data.params["train.strategy"] == "mirrored"
    assert "test_accuracy" in run.data.metrics and outcome.published.version == "1"


def test_a_stage_that_cannot_train_on_several_workers_refuses_with_one_line(tmp_path):
    done = subprocess.run(
        [PYTHON, "-m", "warmstart.stages.pipeline", "experiment=smoke",
         "train.strategy=multi_worker", f"hydra.run.dir={tmp_path}"],
        env={**os.environ, "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"},  # never reached
        capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "error: train.strategy=multi_worker trains the train_base and cold_start stages; "
        "run this one with train.strategy=default or mirrored"
    )
