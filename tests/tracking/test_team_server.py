"""A team setup: `mlflow server` on PostgreSQL with its artifacts proxied into an S3 bucket, as
docs/operations.md says.

PostgreSQL comes from Debian's packages (.ci/run installs them); the test starts its own
cluster on a unix socket in a temp dir and a loopback TCP port, and skips where the server
binaries are absent. The bucket is moto's S3-compatible server on the loopback (the test lock
has moto): the tracking server alone holds its credentials and endpoint, as a team's would.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
from compose import compose_config
from docs_blocks import commands
from mlflow.tracking import MlflowClient
from mlflow_fixtures import free_port, start_server
from servers import s3_client, s3_server_env, start_s3

from warmstart.stages import train_base, warm_start
from warmstart.tracking.connection import connect
from warmstart.tracking.version_format import DIGEST_TAGS, source_tag

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


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = start_s3(tmp_path_factory.mktemp("s3"))
    yield server
    server.stop()


def bucket_objects(s3, bucket: str, prefix: str) -> dict[str, bytes]:
    """Every object under `prefix` in `bucket`: key -> content, as S3 returns them."""
    client = s3_client(s3)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    return {k: client.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


def test_base_and_warm_start_through_a_postgres_backed_server_with_artifacts_in_s3(
    postgres, s3, tmp_path, data_cache, monkeypatch
):
    # docs/operations.md's command, its placeholders filled: this cluster for db-host, the
    # loopback for 0.0.0.0 (tests never listen elsewhere), and its bucket URI as written, the
    # bucket served by moto on the loopback.
    (command,) = commands("team-server")
    argv = shlex.split(command)
    assert argv[:2] == ["mlflow", "server"]
    documented = dict(zip(argv[2::2], argv[3::2], strict=True))
    assert set(documented) == {"--host", "--port", "--backend-store-uri", "--artifacts-destination"}
    scheme = documented["--backend-store-uri"].split("://")[0]
    assert postgres.startswith(f"{scheme}://")
    destination = urlparse(documented["--artifacts-destination"])
    assert destination.scheme == "s3"
    bucket, prefix = destination.netloc, destination.path.strip("/") + "/"
    s3_client(s3).create_bucket(Bucket=bucket)
    server = start_server(
        tmp_path / "server",
        backend=postgres,
        artifacts=destination.geturl(),
        env=s3_server_env(s3),
    )
    try:
        name = f"team-{uuid.uuid4().hex[:6]}"
        monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
        monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", name)
        for var in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_S3_ENDPOINT_URL"):
            monkeypatch.delenv(var, raising=False)
        # The clients hold no bucket credentials: they upload through the server and download
        # through it or (MLflow's default for a bucket) from URLs the server presigns. A client
        # that called S3 with its own boto3 would fail here on a closed loopback port.
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        cfg = compose_config(
            "experiment=smoke", f"registry.model_name={name}", cache_dir=data_cache
        )
        connect(cfg)
        base = train_base.run(cfg)
        warm = warm_start.run(cfg)
        client = MlflowClient(server.uri)
        versions = sorted(int(v.version) for v in client.search_model_versions(f"name='{name}'"))
        assert versions == [1, 2]
        warm_tags = client.get_run(warm.run_id).data.tags
        assert warm_tags["warmstart.source_version"] == "1"
        assert client.get_run(base.run_id).info.status == "FINISHED"
        # Version 1's files are objects in the bucket, under the documented prefix, with the
        # sha256 it was published with; resolving them for the warm start verified exactly those.
        stored = bucket_objects(s3, bucket, prefix)
        model = f"/models/{base.published.model_id}/artifacts/"
        files = {k.rsplit("/", 1)[1]: body for k, body in stored.items() if model in k}
        assert base.published.digests and set(base.published.digests) <= set(files)
        for file, digest in base.published.digests.items():
            assert hashlib.sha256(files[file]).hexdigest() == digest, file
            if file in DIGEST_TAGS:
                assert warm_tags[source_tag(DIGEST_TAGS[file])] == digest, file
        assert sum(k.endswith("/embedding.npy") for k in stored) == 2, "both versions' files"
        assert not (tmp_path / "server" / "artifacts").exists(), "nothing kept on the server"
    finally:
        server.stop()
