"""The commands of docs/ that need no service of their own run here, in a fresh workspace:
the stages one by one, a parallel sweep through the documented local server, and the
troubleshooting page's mistakes with exactly the one line each prints. (tests/test_docs.py
runs the README's and checks every block has a test.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from docs_blocks import (
    MLFLOW_INFO,
    Workspace,
    block,
    commands,
    free_port,
    stop,
    wait_for_http,
)
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.slow


def test_the_stages_run_one_by_one(tmp_path: Path) -> None:
    done = Workspace(tmp_path).run("stages")
    listing = [line for line in done.stdout.splitlines() if line.strip()]
    assert any("champion" in line for line in listing), done.stdout[-2000:]


def test_a_parallel_sweep_runs_through_the_local_server(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    port = free_port()
    # MLflow's background job workers off (a dozen processes this project does not use).
    server = workspace.start(
        "local-server",
        replace={"--port 5000": f"--port {port}"},
        env={"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", server)
        workspace.run("parallel-sweep", replace={":5000": f":{port}"})
        client = MlflowClient(f"http://127.0.0.1:{port}")
        runs = client.search_runs([client.get_experiment_by_name("warmstart").experiment_id])
        assert {r.info.status for r in runs} == {"FINISHED"}  # every run kept, none left open
        (sweep,) = [r for r in runs if r.data.tags.get("warmstart.stage") == "sweep"]
        jobs = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == sweep.info.run_id]
        assert len(jobs) == 2
        # The jobs really ran at once (each started before the other ended): a sweep that ran
        # them one after the other would pass the checks below without proving them.
        starts, ends = [r.info.start_time for r in jobs], [r.info.end_time for r in jobs]
        assert max(starts) < min(ends), (starts, ends)
        # Two jobs registering at once: distinct version numbers, each from its own run.
        versions = client.search_model_versions("name = 'warmstart-smoke'")
        assert sorted(int(v.version) for v in versions) == [1, 2]
        assert {v.run_id for v in versions} == {r.info.run_id for r in jobs}
    finally:
        stop(server)


def test_the_troubleshooting_errors_are_one_line_each(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    shown = [line for line in block("errors", kind="output").text.splitlines() if line.strip()]
    got = []
    for command in commands("errors"):
        done = workspace.shell(command, timeout=300)
        lines = [
            line
            for line in done.stderr.splitlines()
            if line.strip() and not MLFLOW_INFO.match(line)
        ]
        assert done.returncode != 0 and len(lines) == 1, (command, done.stderr[-3000:])
        got.append(lines[0].replace(str(workspace.root), "/home/you/warmstart"))
    assert got == shown


def test_the_warm_start_runs_from_python_without_mlflow(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    done = workspace.run("python-warm-start")
    assert done.stdout.strip().splitlines()[-1] == "4 kept, 2 added"
    assert not list(workspace.root.glob("mlflow.db")) and not list(workspace.root.glob("mlruns"))
