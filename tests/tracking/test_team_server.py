"""A team setup: `mlflow server` on PostgreSQL with a proxied artifact store, as the README says.

PostgreSQL comes from Debian's packages (.ci/run installs them); the test starts its own
cluster on a unix socket in a temp dir and a loopback TCP port, and skips where the server
binaries are absent.
"""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from compose import compose_config
from docs_blocks import commands
from mlflow.tracking import MlflowClient
from mlflow_fixtures import free_port, start_server

from warmstart.stages import train_base, warm_start
from warmstart.tracking.connection import connect

pytestmark = pytest.mark.slow
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def as_postgres(args: list[str], **kw) -> subprocess.CompletedProcess:
    """Run a PostgreSQL tool as the `postgres` user: the server refuses to run as root."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + args, check=True, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def postgres():
    if not PG_BIN or (os.geteuid() == 0 and not shutil.which("runuser")):
        pytest.skip("PostgreSQL server binaries absent (Debian package postgresql)")
    bin_dir = Path(PG_BIN[-1])
    # pytest's temp dirs are private to root; the cluster lives where `postgres` can reach it.
    root = Path(tempfile.mkdtemp(prefix="warmstart-pg-"))
    root.chmod(0o755)
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"])
    port = free_port()
    as_postgres(
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-l",
            str(root / "pg.log"),
            "-o",
            f"-p {port} -k {sock} -c listen_addresses=127.0.0.1",
            "start",
        ]
    )
    as_postgres(
        [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "mlflow"]
    )
    yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/mlflow"
    as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"])
    shutil.rmtree(root, ignore_errors=True)


def test_base_and_warm_start_through_a_postgres_backed_server(
    postgres, tmp_path, data_cache, monkeypatch
):
    # docs/operations.md's command, its placeholders filled: this cluster for db-host, the
    # loopback for 0.0.0.0 (tests never listen elsewhere), a local folder for the bucket.
    (command,) = commands("team-server")
    argv = shlex.split(command)
    assert argv[:2] == ["mlflow", "server"]
    documented = dict(zip(argv[2::2], argv[3::2], strict=True))
    assert set(documented) == {"--host", "--port", "--backend-store-uri", "--artifacts-destination"}
    scheme = documented["--backend-store-uri"].split("://")[0]
    assert postgres.startswith(f"{scheme}://")
    server = start_server(tmp_path / "server", backend=postgres)
    try:
        name = f"team-{uuid.uuid4().hex[:6]}"
        monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
        monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", name)
        for var in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID"):
            monkeypatch.delenv(var, raising=False)
        cfg = compose_config(
            "experiment=smoke", f"registry.model_name={name}", cache_dir=data_cache
        )
        connect(cfg)
        base = train_base.run(cfg)
        warm = warm_start.run(cfg)
        client = MlflowClient(server.uri)
        versions = sorted(int(v.version) for v in client.search_model_versions(f"name='{name}'"))
        assert versions == [1, 2]
        assert client.get_run(warm.run_id).data.tags["warmstart.source_version"] == "1"
        assert client.get_run(base.run_id).info.status == "FINISHED"
        stored = list((tmp_path / "server" / "artifacts").rglob("embedding.npy"))
        assert len(stored) == 2, "artifacts are proxied into the server's store"
    finally:
        server.stop()
