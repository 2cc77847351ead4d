"""Hydra multiruns grouped in MLflow: one sweep parent, a child per job, a summary at the end."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pandas as pd
import pytest
from compose import compose_config
from mlflow.tracking import MlflowClient

from warmstart.config import PROJECT_ROOT
from warmstart.stages import train_base
from warmstart.tracking.connection import connect
from warmstart.tracking.stage_names import STAGE_TAG

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def run_cli(
    args: list[str], env: dict[str, str], timeout: float = 900
) -> subprocess.CompletedProcess:
    done = subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=timeout, cwd=PROJECT_ROOT
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done


def sweep_env(uri: str, experiment: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return {
        **env,
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_EXPERIMENT_NAME": experiment,
        "PATH": f"{BIN}:{env['PATH']}",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


def tree(client: MlflowClient, experiment: str) -> tuple[list, dict[str, list]]:
    """Top-level runs, and the children of every run, of an experiment."""
    exp = client.get_experiment_by_name(experiment)
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    top = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    kids: dict[str, list] = {}
    for r in runs:
        if "mlflow.parentRunId" in r.data.tags:
            kids.setdefault(r.data.tags["mlflow.parentRunId"], []).append(r)
    return top, kids


def test_two_by_two_sweep_is_one_parent_with_a_job_child_each_and_a_summary(
    mlflow_server, data_cache, tmp_path
):
    experiment = f"sweep-{uuid.uuid4().hex[:8]}"
    done = run_cli(
        [
            str(BIN / "python"),
            "-m",
            "warmstart.stages.pipeline",
            "-m",
            "experiment=smoke",
            f"paths.cache_dir={data_cache}",
            f"registry.model_name={experiment}",
            "warmstart.initializer=uniform,zeros",
            "seed=1,2",
            f"hydra.sweep.dir={tmp_path}",
        ],
        sweep_env(mlflow_server.uri, experiment),
    )
    client = MlflowClient(mlflow_server.uri)
    top, kids = tree(client, experiment)
    assert len(top) == 1, "one sweep parent, no orphan top-level runs"
    parent = top[0]
    assert parent.data.tags[STAGE_TAG] == "sweep" and parent.info.status == "FINISHED"
    jobs = kids[parent.info.run_id]
    assert sorted(int(j.data.tags["warmstart.sweep.job"]) for j in jobs) == [0, 1, 2, 3]
    assert all(j.data.tags[STAGE_TAG] == "pipeline" for j in jobs)
    for job in jobs:
        stages = sorted(r.data.tags[STAGE_TAG] for r in kids[job.info.run_id])
        assert stages == ["cold_start", "compare", "train_base", "vocab_diff", "warm_start"]
    # A base run per seed is trained; the other job with that seed reuses it.
    bases = [r for j in jobs for r in kids[j.info.run_id] if r.data.tags[STAGE_TAG] == "train_base"]
    assert sum("warmstart.reused_from" in b.data.tags for b in bases) == 2
    local = client.download_artifacts(parent.info.run_id, "sweep/summary.csv", str(tmp_path))
    summary = pd.read_csv(local)
    assert len(summary) == 2 and set(summary["warm_epoch1_val_accuracy_count"]) == {2}
    assert set(summary["base_final_val_accuracy_count"]) == {2}, "reused bases count too"
    assert {"warm_epoch1_val_accuracy_mean", "warm_epoch1_val_accuracy_std"} <= set(summary.columns)
    # Named for what they are; the parent carries a headline over its jobs.
    assert parent.info.run_name == "sweep initializer, seed"
    names = {j.info.run_name for j in jobs}
    assert "pipeline experiment=smoke initializer=zeros seed=2" in names and len(names) == 4
    metrics = parent.data.metrics
    assert metrics["sweep_jobs"] == 4 and "sweep_mean_epoch1_gap" in metrics
    best = parent.data.tags["warmstart.sweep.best_setting"]
    assert best in set(summary["setting"]) and best in parent.data.tags["mlflow.note.content"]
    # The terminal gets a narrow table; the CSV keeps every column.
    header = next(line for line in done.stdout.splitlines() if line.lstrip().startswith("setting"))
    assert header.split() == ["setting", "jobs", "warm", "ep1", "cold", "ep1", "warm", "final",
                              "cold", "final", "ep1", "gap"]  # fmt: skip


def test_sweep_inside_mlflow_run_uses_the_project_run_as_parent(
    mlflow_server, data_cache, tmp_path
):
    experiment = f"mlrun-sweep-{uuid.uuid4().hex[:8]}"
    overrides = (
        f"-m experiment=smoke paths.cache_dir={data_cache} seed=1,2 "
        f"registry.model_name={experiment} hydra.sweep.dir={tmp_path}"
    )
    run_cli(
        [
            str(BIN / "mlflow"),
            "run",
            str(PROJECT_ROOT),
            "--env-manager",
            "local",
            "-e",
            "train_base",
            "-P",
            f"overrides={overrides}",
        ],
        sweep_env(mlflow_server.uri, experiment),
    )
    client = MlflowClient(mlflow_server.uri)
    top, kids = tree(client, experiment)
    assert len(top) == 1, [r.data.tags.get(STAGE_TAG) for r in top]
    parent = top[0]
    assert parent.data.tags[STAGE_TAG] == "sweep"
    assert parent.data.tags.get("mlflow.project.entryPoint") == "train_base"
    assert parent.info.status == "FINISHED"
    jobs = kids[parent.info.run_id]
    assert sorted(j.data.tags["warmstart.sweep.job"] for j in jobs) == ["0", "1"]
    assert all(j.data.tags[STAGE_TAG] == "train_base" for j in jobs)


# A parallel sweep against a server (every run kept, distinct versions) is docs/operations.md's
# own command: tests/test_docs_pages.py::test_a_parallel_sweep_runs_through_the_local_server.


def test_parallel_sweep_on_a_bare_sqlite_file_stops_before_the_first_job(data_cache, tmp_path):
    env = sweep_env(f"sqlite:///{tmp_path}/mlflow.db", "bare")
    done = subprocess.run(
        [
            str(BIN / "python"),
            "-m",
            "warmstart.stages.train_base",
            "-m",
            "experiment=smoke",
            f"paths.cache_dir={data_cache}",
            "seed=1,2",
            "hydra/launcher=joblib",
            f"hydra.sweep.dir={tmp_path / 'sweep'}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode != 0
    assert "mlflow server" in done.stderr and "MLFLOW_TRACKING_URI" in done.stderr
    assert not (tmp_path / "sweep" / "0").exists(), "no job may start"


def test_reuse_is_on_by_default_visible_as_a_tag_and_can_be_turned_off(tracking, data_cache):
    cfg = compose_config("experiment=smoke", "registry.model_name=reuse-test", cache_dir=data_cache)
    connect(cfg)
    first = train_base.run(cfg)
    again = train_base.run(cfg)
    client = MlflowClient()
    reused = client.get_run(
        client.search_runs(
            [client.get_run(first.run_id).info.experiment_id],
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )[0].info.run_id
    )
    assert reused.data.tags["warmstart.reused_from"] == first.run_id
    assert again.published.version == first.published.version
    # A reused run's result is the earlier run's, read back once: the same curves and scores
    # as the run that trained handed over in memory, its own decision not made again.
    assert again.reused and not first.reused and again.run_id == first.run_id
    assert again.curves["val_accuracy"] == pytest.approx(first.curves["val_accuracy"])
    assert again.scores["test_accuracy_score"] == pytest.approx(first.scores["test_accuracy_score"])
    assert again.promoted == first.promoted and again.learned == first.learned
    assert again.decision is None and first.decision is not None
    off = compose_config(
        "experiment=smoke", "registry.model_name=reuse-test", "reuse=false", cache_dir=data_cache
    )
    fresh = train_base.run(off)
    assert fresh.run_id != first.run_id
    assert int(fresh.published.version) == int(first.published.version) + 1
    assert "warmstart.reused_from" not in client.get_run(fresh.run_id).data.tags


def test_a_failing_job_fails_the_sweep_but_not_the_other_jobs_and_leaves_nothing_running(
    mlflow_server, data_cache, tmp_path
):
    experiment = f"failing-{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        [str(BIN / "python"), "-m", "warmstart.stages.train_base", "-m", "experiment=smoke",
         f"paths.cache_dir={data_cache}", f"registry.model_name={experiment}",
         "data.validation_split=0.2,1.5", f"hydra.sweep.dir={tmp_path}"],
        env=sweep_env(mlflow_server.uri, experiment), capture_output=True, text=True,
        timeout=900, cwd=PROJECT_ROOT,
    )  # fmt: skip
    assert done.returncode == 1
    assert "data.validation_split" in done.stderr and "1 sweep job(s) failed" in done.stderr
    client = MlflowClient(mlflow_server.uri)
    top, kids = tree(client, experiment)
    assert len(top) == 1 and top[0].info.status == "FAILED"
    jobs = sorted(kids[top[0].info.run_id], key=lambda r: r.data.tags["warmstart.sweep.job"])
    assert [j.info.status for j in jobs] == ["FINISHED", "FAILED"]
    assert "validation_split" in jobs[1].data.tags["warmstart.error"]
    assert len(client.search_model_versions(f"name = '{experiment}'")) == 1
