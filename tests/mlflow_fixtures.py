"""Real MLflow services for tests: an `mlflow server` on loopback with a SQLite backend.

Imported by conftest.py. Nothing is mocked: stages talk HTTP to a real tracking server and
model registry, which stores artifacts on local disk through the server (proxied artifacts).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import mlflow
import pytest
from mlflow.tracking import MlflowClient

MLFLOW = str(Path(sys.executable).with_name("mlflow"))


# Lock files that reserve ports among every test process on this machine (xdist workers,
# other sessions, benchmarks): one `<port>.lock` each, locked while its process lives.
PORT_LOCKS = Path(tempfile.gettempdir()) / "warmstart-test-ports"
_reserved: dict[int, IO[bytes]] = {}  # this process's ports and their locked files


def port_range() -> range:
    """The ports tests serve on: the 10,000 just below the kernel's ephemeral range, which it
    never gives to an outgoing connection (a port picked inside it can be taken by one)."""
    try:
        ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        low = int(ephemeral[0])
    except (OSError, ValueError, IndexError):
        low = 32768  # Linux's default start
    return range(max(1024, low - 10_000), low)


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port on 127.0.0.1 that no other test process is given while this one lives.

    Picked in `port_range()`, reserved by an exclusive lock on its file in PORT_LOCKS, held
    until this process exits (so two xdist workers never share a port, and a server restarted
    on its port finds it still reserved), and bound once to check nothing else holds it.
    """
    PORT_LOCKS.mkdir(exist_ok=True)
    ports = port_range()
    start = random.randrange(len(ports))
    for i in range(len(ports)):
        port = ports[(start + i) % len(ports)]
        if port in _reserved:
            continue
        try:
            handle = (PORT_LOCKS / f"{port}.lock").open("a+b")
        except OSError:  # another user's lock file: theirs
            continue
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # reserved by another process
            handle.close()
            continue
        if _bindable(port):
            _reserved[port] = handle
            return port
        handle.close()
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1} on 127.0.0.1")


@dataclass
class Server:
    """An `mlflow server` in a process group of its own, so `stop()` ends its workers too."""

    uri: str
    root: Path
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def wait_healthy(uri: str, process: subprocess.Popen, log: Path, timeout: float = 300) -> None:
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
    root: Path,
    port: int | None = None,
    *,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    backend: str | None = None,
) -> Server:
    """`mlflow server` on 127.0.0.1, restartable on `port`, with `backend` (default: SQLite
    under `root`) and artifacts proxied into `root/artifacts`.

    MLflow's background job workers are off: a dozen processes that slow start-up on a
    small machine and that this project does not use.
    """
    root.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = root / f"server-{port}.log"
    cmd = [
        MLFLOW, "server", "--host", "127.0.0.1", "--port", str(port),
        "--backend-store-uri", backend or f"sqlite:///{root}/mlflow.db",
        "--artifacts-destination", str(root / "artifacts"), "--workers", "1", *args,
    ]  # fmt: skip
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    clean.update(MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false", **(env or {}))
    process = subprocess.Popen(
        cmd, stdout=log.open("ab"), stderr=subprocess.STDOUT, env=clean, start_new_session=True
    )
    server = Server(f"http://127.0.0.1:{port}", root, process, log)
    try:
        wait_healthy(server.uri, process, log)
    except BaseException:
        server.stop()
        raise
    return server


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
def pipeline_run(mlflow_server: Server, data_cache: Path) -> dict:
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
        ids = pipeline.run(cfg, overrides=list(SMOKE))
    mlflow.set_tracking_uri(mlflow_server.uri)
    client = MlflowClient(mlflow_server.uri)
    return {
        "ids": ids,
        "client": client,
        "cfg": cfg,
        "runs": {k: client.get_run(v) for k, v in ids.items()},
    }


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
