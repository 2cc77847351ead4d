"""The data tests' S3-compatible server: moto's, on 127.0.0.1, started once per session."""

from __future__ import annotations

import pytest
from servers import start_s3


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """moto's S3 server (benchmarks/servers.py), in memory; each test makes its own bucket."""
    server = start_s3(tmp_path_factory.mktemp("s3"))
    yield server
    server.stop()
