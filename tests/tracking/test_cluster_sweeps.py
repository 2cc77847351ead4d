"""Sweeps on real engines: Hydra's Ray launcher against a Ray head on 127.0.0.1, and submitit's
local executor (the code path of `hydra/launcher=submitit_slurm`, minus the scheduler)."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from docs_blocks import commands
from mlflow.tracking import MlflowClient
from mlflow_fixtures import free_port
from test_sweep import run_cli, sweep_env, tree

from warmstart.tracking.stage_names import STAGE_TAG

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
# Without it Ray advertises (and binds to) the machine's network address, even for a head
# started with --node-ip-address=127.0.0.1.
LOOPBACK_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
LOOPBACK = re.compile(r"^(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]|\[::1\]):\d+$")
STAGES = ["cold_start", "compare", "train_base", "vocab_diff", "warm_start"]


def group_pids(pgid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "-g", str(pgid)], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


def listening(pids: set[int]) -> list[str]:
    """Local addresses that these processes listen on (TCP)."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        owners = {int(p) for p in re.findall(r"pid=(\d+)", line)}
        if owners & pids:
            found.append(line.split()[3])
    return found


@pytest.fixture(scope="module")
def ray_head() -> Iterator[tuple[str, int]]:
    """One Ray head for this module: 2 CPUs, no dashboard, loopback only; stopped at the end.

    Its environment holds no MLflow or sweep variable, so its workers (which inherit it) learn
    the tracking server and the sweep parent from the launcher's runtime_env, or not at all.
    Yields its address and its process group (every Ray process it starts).
    """
    port = free_port()
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths are long
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "WARMSTART_"))},
        **LOOPBACK_ONLY,
    }
    head = subprocess.Popen(
        [
            str(BIN / "ray"), "start", "--head", "--block", "--node-ip-address=127.0.0.1",
            f"--port={port}", "--num-cpus=2", "--num-gpus=0", "--include-dashboard=false",
            "--disable-usage-stats", f"--temp-dir={temp}",
        ],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not any(a.endswith(f":{port}") for a in listening(group_pids(head.pid))):
            assert head.poll() is None, "ray start exited"
            assert time.monotonic() < deadline, "the Ray head did not come up"
            time.sleep(0.5)
        yield address, head.pid
    finally:
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
            if head.poll() is not None and not group_pids(head.pid):
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(head.pid, sig)
            end = time.monotonic() + wait
            while head.poll() is None or group_pids(head.pid):  # poll() reaps `ray start`
                if time.monotonic() > end:
                    break
                time.sleep(0.5)
        head.wait(10)
        shutil.rmtree(temp, ignore_errors=True)
        assert not group_pids(head.pid), "Ray processes outlived the head"


def check_sweep(uri: str, experiment: str, tmp_path: Path, seeds: int) -> None:
    """What the joblib sweep test checks: one parent, a child per job, stage runs under each,
    distinct versions, nothing left RUNNING, the summary on the parent."""
    client = MlflowClient(uri)
    top, kids = tree(client, experiment)
    assert len(top) == 1, "one sweep parent, no orphan top-level runs"
    parent = top[0]
    assert parent.data.tags[STAGE_TAG] == "sweep" and parent.info.status == "FINISHED"
    jobs = kids[parent.info.run_id]
    assert sorted(int(j.data.tags["warmstart.sweep.job"]) for j in jobs) == list(range(2 * seeds))
    for job in jobs:
        assert job.data.tags[STAGE_TAG] == "pipeline"
        assert sorted(r.data.tags[STAGE_TAG] for r in kids[job.info.run_id]) == STAGES
    every = client.search_runs([parent.info.experiment_id], max_results=1000)
    assert {r.info.status for r in every} == {"FINISHED"}, "no run left RUNNING or FAILED"
    versions = client.search_model_versions(f"name = '{experiment}'")
    assert len({v.version for v in versions}) == len(versions) >= 2 * seeds, "distinct versions"
    local = client.download_artifacts(parent.info.run_id, "sweep/summary.csv", str(tmp_path))
    summary = pd.read_csv(local)
    assert len(summary) == 2 and set(summary["warm_epoch1_val_accuracy_count"]) == {seeds}


def documented_sweep(launcher: str) -> list[str]:
    """The sweep command of docs/operations.md that picks `launcher`, without its server URI
    (the test's own server is in the environment)."""
    (command,) = [c for c in commands("cluster-sweeps") if launcher in c.split()]
    argv = shlex.split(command)
    assert argv[0].startswith("MLFLOW_TRACKING_URI=") and argv[1] == "python"
    assert "experiment=smoke" in argv
    return argv[1:]


def test_the_documented_ray_head_listens_on_loopback_only() -> None:
    (start,) = [c for c in commands("cluster-sweeps") if c.startswith("ray start")]
    assert "--node-ip-address=127.0.0.1" in start.split()
    assert "export RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0" in commands("cluster-sweeps")


def sweep_args(experiment: str, data_cache: Path, tmp_path: Path, seeds: str) -> list[str]:
    return [
        "experiment=smoke", "train.epochs=1", f"paths.cache_dir={data_cache}",
        f"registry.model_name={experiment}", f"seed={seeds}",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    ]  # fmt: skip


def test_ray_sweep_on_a_loopback_head_groups_its_jobs_under_one_parent(
    ray_head, mlflow_server, data_cache, tmp_path
):
    experiment = f"ray-sweep-{uuid.uuid4().hex[:8]}"
    address, group = ray_head
    env = {**sweep_env(mlflow_server.uri, experiment), **LOOPBACK_ONLY}
    # docs/operations.md's command, on this head, plus where this test keeps its files and a
    # second seed.
    command = documented_sweep("hydra/launcher=ray")
    command = [a.replace("127.0.0.1:6379", address) for a in command]
    assert any(a == f"hydra.launcher.ray.init.address={address}" for a in command)
    before = group_pids(group)
    extra = sweep_args(experiment, data_cache, tmp_path, "1,2")[1:]  # experiment=smoke is in
    run_cli([str(BIN / "python"), *command[1:], *extra], env)
    check_sweep(mlflow_server.uri, experiment, tmp_path, seeds=2)
    assert group_pids(group) - before, "the jobs ran in workers the Ray head started"
    # Every Ray process listens on loopback only (head, raylet, object store, workers).
    addresses = listening(group_pids(group))
    assert len(addresses) > 3 and all(LOOPBACK.match(a) for a in addresses), addresses


def test_submitit_local_sweep_groups_its_jobs_under_one_parent(mlflow_server, data_cache, tmp_path):
    experiment = f"submitit-sweep-{uuid.uuid4().hex[:8]}"
    command = documented_sweep("hydra/launcher=submitit_local")
    extra = [
        "hydra.launcher.timeout_min=15",
        *sweep_args(experiment, data_cache, tmp_path, "1")[1:],
    ]
    run_cli([str(BIN / "python"), *command[1:], *extra], sweep_env(mlflow_server.uri, experiment))
    check_sweep(mlflow_server.uri, experiment, tmp_path, seeds=1)
    logs = list((tmp_path / "sweep" / ".submitit").glob("*/*_log.out"))
    assert len(logs) == 2, "two submitit jobs ran"
