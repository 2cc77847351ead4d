"""Serving a registered version as docs/operations.md writes it, from a shell whose PATH does
not hold the venv: `PATH=<venv>/bin:$PATH mlflow models serve` (the README's `make serve` runs in
tests/test_docs.py).

`mlflow models serve --env-manager local` execs `uvicorn` from PATH, so without the venv's bin in
front it dies with `exec: uvicorn: not found`. Each server runs in a process group of its own and
is stopped with it: nothing outlives the test.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from docs_blocks import commands
from mlflow_fixtures import free_port

from warmstart.config import PROJECT_ROOT

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent  # the venv's bin: where mlflow and uvicorn live
MODEL = "models:/pipeline-test@champion"  # registered by the pipeline_run fixture
TEXTS = ["a wonderful film, moving and brilliant", "awful, boring, a waste of time"]


def _path_without_uvicorn() -> str:
    """The test's PATH minus every directory that holds uvicorn (the venv's bin among them)."""
    kept = [
        d for d in os.environ["PATH"].split(os.pathsep) if d and not (Path(d) / "uvicorn").exists()
    ]
    return os.pathsep.join(kept)


@pytest.fixture
def shell_env(pipeline_run, mlflow_server) -> dict[str, str]:
    """A newcomer's shell: the venv not activated, MLflow pointed at the store with the model."""
    drop = ("VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MODEL", "PORT")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_") and k not in drop}
    env.update(PATH=_path_without_uvicorn(), MLFLOW_TRACKING_URI=mlflow_server.uri)
    assert subprocess.run(["sh", "-c", "command -v uvicorn"], env=env).returncode != 0
    return env


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/ping", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _stop(server: subprocess.Popen, port: int) -> bool:
    """SIGTERM to the server's process group (make, mlflow, uvicorn); True if uvicorn let go of
    the port within 30 s (it shuts down after its parent returns), else the group is killed."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while (server.poll() is None or _listening(port)) and time.monotonic() < deadline:
        time.sleep(0.5)
    stopped = server.poll() is not None and not _listening(port)
    if not stopped:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
    server.wait()
    return stopped


@contextlib.contextmanager
def serving(command: Callable[[int], list[str]], env: dict[str, str], log: Path) -> Iterator[str]:
    """Start `command(port)` on a reserved port (`free_port`: no other test process is given
    it, and no outgoing connection takes it), yield its URL once /ping answers, then stop its
    whole process group and check the port is closed."""
    port = free_port()
    with log.open("w") as out:
        server = subprocess.Popen(
            command(port), cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while not _answers(url) and server.poll() is None:
            assert time.monotonic() < deadline, f"no answer in 180 s:\n{log.read_text()[-3000:]}"
            time.sleep(1)
        if server.poll() is not None:
            pytest.fail(f"the server exited {server.returncode}:\n{log.read_text()[-3000:]}")
        yield url
    finally:
        stopped = _stop(server, port)
    assert stopped, f"the server still held port {port} 30 s after SIGTERM to its group"


def _predict(url: str) -> tuple[int, dict]:
    payload = {"dataframe_split": {"columns": ["text"], "data": [[t] for t in TEXTS]}}
    request = urllib.request.Request(
        f"{url}/invocations", json.dumps(payload).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _assert_labels(url: str) -> None:
    status, body = _predict(url)
    assert status == 200, body
    rows = body["predictions"]
    assert len(rows) == len(TEXTS)
    for row in rows:  # the label is the class with the highest p_<class> (labels.txt's names)
        scores = {key[2:]: value for key, value in row.items() if key.startswith("p_")}
        assert len(scores) >= 2 and str(row["label"]) == max(scores, key=scores.get), row


# `make serve` from a shell without the venv: tests/test_docs.py runs the README's own block
# (test_the_served_model_answers_the_readme_request).


def test_mlflow_models_serve_answers_with_the_venv_bin_put_first_on_path(
    pipeline_run, shell_env, tmp_path
):
    # docs/operations.md's command, on this test's model and port.
    (documented,) = commands("serve-path")
    for part in (
        "PATH=$PWD/.venv/bin:$PATH mlflow models serve",
        "--env-manager local",
        "--host 127.0.0.1",
        "--port 5001",
        "-m models:/warmstart-synthetic@champion",
    ):
        assert part in documented, part  # fmt: skip

    def readme_command(port: int) -> list[str]:
        command = (
            documented.replace("$PWD/.venv/bin", shlex.quote(str(BIN)))
            .replace("models:/warmstart-synthetic@champion", MODEL)
            .replace("--port 5001", f"--port {port}")
        )
        return ["sh", "-c", command]

    with serving(readme_command, shell_env, tmp_path / "mlflow-serve.log") as url:
        _assert_labels(url)
