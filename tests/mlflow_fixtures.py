"""Real MLflow services for tests: an `mlflow server` on loopback with a SQLite backend.

Imported by conftest.py. Nothing is mocked: stages talk HTTP to a real tracking server and
model registry, which stores artifacts on local disk through the server (proxied artifacts).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

MLFLOW = str(Path(sys.executable).with_name("mlflow"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    uri: str
    root: Path
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def wait_healthy(uri: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"mlflow server not healthy after {timeout}s:\n{log.read_text()[-3000:]}")


def start_server(
    root: Path, port: int | None = None, extra: list[str] | None = None, backend: str | None = None
) -> Server:
    """Start `mlflow server` on 127.0.0.1 with `backend` (default: SQLite under `root`)."""
    root.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = root / f"server-{port}.log"
    cmd = [
        MLFLOW,
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        backend or f"sqlite:///{root}/mlflow.db",
        "--artifacts-destination",
        str(root / "artifacts"),
        "--workers",
        "1",
        *(extra or []),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    process = subprocess.Popen(cmd, stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env)
    uri = f"http://127.0.0.1:{port}"
    wait_healthy(uri, process, log)
    return Server(uri, root, process, log)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("mlflow-server"))
    yield server
    server.stop()


@pytest.fixture
def tracking(mlflow_server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    """Point MLflow at the test server, in an experiment of this test's own."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", f"test-{uuid.uuid4().hex[:10]}")
    for var in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID"):
        monkeypatch.delenv(var, raising=False)
    return mlflow_server


SMOKE = ("experiment=smoke", "registry.model_name=pipeline-test", "train.tensorboard=true")


@pytest.fixture(scope="session")
def data_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One corpus cache for the session: the embedded corpus is generated once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def pipeline_run(mlflow_server: Server, data_cache: Path) -> dict:
    """Run `main` once, in-process, as `mlflow run . -e main` would, in experiment
    `pipeline-test`; tests then read the store like a user would."""
    import mlflow
    from compose import compose_config
    from mlflow.tracking import MlflowClient

    from warmstart.stages import pipeline
    from warmstart.tracking import connect

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
        mp.setenv("MLFLOW_EXPERIMENT_NAME", "pipeline-test")
        for var in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID"):
            mp.delenv(var, raising=False)
        cfg = compose_config(*SMOKE, cache_dir=data_cache)
        connect(cfg)
        ids = pipeline.run(cfg, overrides=list(SMOKE))
    mlflow.set_tracking_uri(mlflow_server.uri)
    client = MlflowClient(mlflow_server.uri)
    return {
        "ids": ids,
        "client": client,
        "cfg": cfg,
        "runs": {k: client.get_run(v) for k, v in ids.items()},
    }
