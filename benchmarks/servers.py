"""Real `mlflow server` processes on 127.0.0.1 with a SQLite backend, for tests and benchmarks,
and moto's S3-compatible server on 127.0.0.1 for an artifact store in a bucket.

The tests' fixtures (tests/mlflow_fixtures.py) and the benchmarks that need a tracking server
(bench_reliability, bench_scale) start theirs here, so that benchmarks never import from tests.
Ports are reserved across every process of this machine, so servers started at the same time
(xdist workers, other sessions, a benchmark) never collide.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

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


def wait_healthy(
    uri: str,
    process: subprocess.Popen,
    log: Path,
    timeout: float = 300,
    *,
    path: str = "/health",
    what: str = "mlflow server",
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{uri}{path}", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{what} not healthy after {timeout}s:\n{log.read_text()[-3000:]}")


def start_server(
    root: Path,
    port: int | None = None,
    *,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    backend: str | None = None,
    artifacts: str | None = None,
) -> Server:
    """`mlflow server` on 127.0.0.1, restartable on `port`, with `backend` (default: SQLite
    under `root`) and artifacts proxied into `artifacts` (default: `root/artifacts`; a bucket
    needs its credentials and endpoint in `env`, see `s3_server_env`).

    MLflow's background job workers are off: a dozen processes that slow start-up on a
    small machine and that this project does not use.
    """
    root.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = root / f"server-{port}.log"
    cmd = [
        MLFLOW, "server", "--host", "127.0.0.1", "--port", str(port),
        "--backend-store-uri", backend or f"sqlite:///{root}/mlflow.db",
        "--artifacts-destination", artifacts or str(root / "artifacts"), "--workers", "1", *args,
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


# What moto's server accepts from any client (it checks no signature against a real account).
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def start_s3(root: Path, port: int | None = None) -> Server:
    """moto's S3-compatible server (`python -m moto.server`) on 127.0.0.1, in memory: the
    bucket an `mlflow server --artifacts-destination s3://...` writes to, with no cloud.

    A process of its own (not moto's in-process thread), like the tracking server it serves:
    its requests never wait on this process's GIL.
    """
    root.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = root / f"s3-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(f"http://127.0.0.1:{port}", root, process, log)
    try:  # S3's ListBuckets on the root path: 200 once the server answers
        wait_healthy(server.uri, process, log, timeout=60, path="/", what="moto server")
    except BaseException:
        server.stop()
        raise
    return server


def s3_server_env(s3: Server) -> dict[str, str]:
    """The environment an `mlflow server` needs to proxy artifacts into `s3`'s buckets."""
    return {"MLFLOW_S3_ENDPOINT_URL": s3.uri, **S3_CREDENTIALS}


def s3_client(s3: Server) -> Any:
    """A boto3 S3 client of `s3`, to look into its buckets (boto3 comes with the test lock)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=s3.uri,
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=S3_CREDENTIALS["AWS_DEFAULT_REGION"],
    )
