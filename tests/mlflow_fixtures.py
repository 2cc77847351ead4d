"""Real MLflow services for tests: an `mlflow server` on loopback with a SQLite backend.

Imported by conftest.py. Nothing is mocked: stages talk HTTP to a real tracking server and
model registry, which stores artifacts on local disk through the server (proxied artifacts).
The server processes start in benchmarks/servers.py, which the benchmarks share.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from servers import Server, start_server
from servers import free_port as free_port  # the tests import it from here, like the fixtures


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("mlflow-server"))
    yield server
    server.stop()


@contextlib.contextmanager
def tracking_env(uri: str, experiment: str) -> Iterator[None]:
    """MLflow pointed at `uri` and `experiment`, with no run or experiment id inherited: the
    `tracking` fixture's environment, for module- and session-scoped fixtures."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.setenv("MLFLOW_EXPERIMENT_NAME", experiment)
        for var in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID"):
            mp.delenv(var, raising=False)
        yield


@pytest.fixture
def tracking(mlflow_server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    """Point MLflow at the test server, in an experiment of this test's own."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", f"test-{uuid.uuid4().hex[:10]}")
    for var in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID"):
        monkeypatch.delenv(var, raising=False)
    # An earlier in-process stage may have set MLflow's global URI (which wins over the
    # environment) to a server that is gone by now.
    mlflow.set_tracking_uri(mlflow_server.uri)
    return mlflow_server


SMOKE = ("experiment=smoke", "registry.model_name=pipeline-test", "train.tensorboard=true")


@pytest.fixture(scope="session")
def data_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One corpus cache for the session: the embedded corpus is generated once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def pipeline_once(mlflow_server: Server, data_cache: Path) -> dict:
    """Run `main` once, in-process, as `mlflow run . -e main` would, in experiment
    `pipeline-test`; tests then read the store like a user would."""
    import mlflow
    from compose import compose_config
    from mlflow.tracking import MlflowClient

    from warmstart.stages import pipeline
    from warmstart.tracking.connection import connect

    with tracking_env(mlflow_server.uri, "pipeline-test"):
        cfg = compose_config(*SMOKE, cache_dir=data_cache)
        connect(cfg)
        result = pipeline.run(cfg, overrides=list(SMOKE))
    ids = result.run_ids
    mlflow.set_tracking_uri(mlflow_server.uri)
    client = MlflowClient(mlflow_server.uri)
    return {
        "result": result,
        "ids": ids,
        "client": client,
        "cfg": cfg,
        "runs": {k: client.get_run(v) for k, v in ids.items()},
    }


@pytest.fixture
def pipeline_run(pipeline_once: dict, mlflow_server: Server) -> dict:
    """The session's one `main` run, with MLflow's global URI pointed back at its server: a
    test of another file may have pointed it elsewhere since the run was made (CI once read
    a run from a stranger's SQLite store)."""
    import mlflow

    mlflow.set_tracking_uri(mlflow_server.uri)
    return pipeline_once


def versions_of(name: str) -> list[str]:
    return sorted(v.version for v in MlflowClient().search_model_versions(f"name = '{name}'"))


RETRIES = "warmstart.tracking.write_retry"  # its logger: one DEBUG line per retried write


@contextlib.contextmanager
def logged(logger: str) -> Iterator[list[str]]:
    """The messages `logger` emits at DEBUG and above while the body runs, from any thread:
    how a race test counts the collisions that really happened, so a run whose writers never
    met cannot pass for one that survived them."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    target, handler = logging.getLogger(logger), Collect(logging.DEBUG)
    level = target.level
    target.setLevel(logging.DEBUG)
    target.addHandler(handler)
    try:
        yield messages
    finally:
        target.removeHandler(handler)
        target.setLevel(level)


RACE_SECONDS = 120.0  # race tests go round until a writer loses a race, at most this long


def race(write, writers: int) -> list:
    """Start `writers` threads calling `write()` at the same instant; their results or errors."""
    gate = threading.Barrier(writers)
    results: list = [None] * writers

    def one(i: int) -> None:
        gate.wait()
        try:
            results[i] = write()
        except Exception as exc:  # collected: the test asserts there are none
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
