"""`python -m warmstart.tracking.versions NAME` lists a model's versions, newest first, and is
what the "cannot resolve source" error points to. Against a real tracking server."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from mlflow_fixtures import Server

from warmstart.core.errors import RegistryError
from warmstart.tracking.resolve import resolve_source
from warmstart.tracking.version_format import (
    PROMOTION_TAG,
    SOURCE_NAME_TAG,
    SOURCE_TAG,
    SOURCE_URI_TAG,
    SOURCE_VERSION_TAG,
    VERDICT_TAG,
)
from warmstart.tracking.versions import COLUMNS, version_lines


def register(name: str, tags: dict[str, str]) -> str:
    """A version of `name` carrying `tags` (its files are never read by the listing)."""
    client = MlflowClient()
    if not client.search_registered_models(f"name = '{name}'"):
        client.create_registered_model(name)
    with mlflow.start_run() as run:
        pass
    return client.create_model_version(name, "s3://bucket/m", run.info.run_id, tags=tags).version


def listing(name: str, uri: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    return subprocess.run(
        [sys.executable, "-m", "warmstart.tracking.versions", name],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_versions_are_listed_newest_first_with_aliases_verdict_decision_and_source(
    tracking: Server,
) -> None:
    name = f"listed-{uuid.uuid4().hex[:6]}"
    base = {VERDICT_TAG: "learned", PROMOTION_TAG: "promoted"}
    register(name, base)  # v1: trained from scratch
    register(name, {**base, SOURCE_TAG: "v1"})  # v2: today's layout
    old = {SOURCE_URI_TAG: "models:/other/4", SOURCE_NAME_TAG: "other", SOURCE_VERSION_TAG: "4"}
    register(name, {PROMOTION_TAG: "rejected", **old})  # v3: lineage in the old separate tags
    client = MlflowClient()
    client.set_registered_model_alias(name, "champion", "2")
    client.set_registered_model_alias(name, "current", "3")
    client.set_registered_model_alias(name, "base", "1")
    header, *rows = version_lines(name)
    assert header.split() == list(COLUMNS)
    assert [row.split()[:5] for row in rows] == [
        ["3", "current", "-", "rejected", "models:/other/4"],
        ["2", "champion", "learned", "promoted", "v1"],
        ["1", "base", "learned", "promoted", "scratch"],
    ]
    assert all(row.split()[5].count("-") == 2 for row in rows)  # the date it was registered
    shown = listing(name, tracking.uri)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert shown.stdout.splitlines() == [header, *rows]


def test_a_model_that_does_not_exist_exits_2_with_one_line_naming_it(tracking: Server) -> None:
    register(f"present-{uuid.uuid4().hex[:6]}", {})
    shown = listing("no-such-model", tracking.uri)
    assert shown.returncode == 2 and shown.stdout == ""
    (line,) = shown.stderr.strip().splitlines()
    assert line.startswith("error: no registered model 'no-such-model' in ")
    # At most ten names, each a model the store holds (the test server is shared: the one
    # registered here need not be among the first ten).
    listed = line.split("; registered models there: ", 1)[1].split(", ")
    held = {m.name for m in MlflowClient(tracking.uri).search_registered_models(max_results=1000)}
    assert 0 < len(listed) <= 10 and set(listed) <= held


def test_the_cannot_resolve_error_names_the_listing_command(
    tracking: Server, tmp_path: Path
) -> None:
    with pytest.raises(RegistryError, match="cannot resolve warm-start source") as raised:
        resolve_source("models:/no-such-model/1", tmp_path)
    assert "python -m warmstart.tracking.versions no-such-model" in str(raised.value)
    assert "mlflow models" not in str(raised.value)
