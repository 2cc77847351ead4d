"""The initializer chosen on the command line, as a user types it: an option it does not have
ends in one `error:` line before anything runs, the spelling from before the group still runs
with one `deprecated:` line, and `warmstart/initializer=constant` against a real server fills
the new rows with the value (every bad option: tests/config/test_initializer_config.py).

The warm stage in the last test starts from the session pipeline's base version and trains one
epoch at a learning rate (1e-12) far too small to move a float32 0.01, so the registered
embedding still shows exactly what the initializer wrote.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest
from faults import finish, run_of_experiment, stage_command, stage_env, start_stage
from mlflow.tracking import MlflowClient
from mlflow_fixtures import Server
from omegaconf import OmegaConf

from warmstart.tracking.resolve import resolve_source


def test_an_option_the_initializer_does_not_have_is_one_error_line(tmp_path: Path) -> None:
    done = subprocess.run(
        stage_command("warm_start", "warmstart/initializer=uniform",
                      "warmstart.initializer.neighbours=8"),
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: unknown key 'warmstart.initializer.neighbours'")
    assert done.stderr.count("\n") == 1 and done.stdout == ""


def test_the_old_spelling_runs_with_one_deprecated_line(tmp_path: Path) -> None:
    done = subprocess.run(
        stage_command("warm_start", "warmstart.initializer=subword",
                      "+warmstart.initializer_options.neighbours=8", "--cfg", "job"),
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        "deprecated: warmstart.initializer=subword +warmstart.initializer_options.neighbours=8 "
        "is the old spelling, read until the next release; write warmstart/initializer=subword "
        "warmstart.initializer.neighbours=8\n"
    )
    node = OmegaConf.create(done.stdout).warmstart.initializer
    assert (node.name, node.neighbours, node.min_n) == ("subword", 8, 3)


@pytest.mark.slow
def test_constant_value_from_the_command_line_fills_every_new_row(
    pipeline_run: dict, mlflow_server: Server, data_cache: Path, tmp_path: Path
) -> None:
    name = f"constant-cli-{uuid.uuid4().hex[:8]}"
    experiment = f"{name}-runs"
    base_uri = f"models:/{pipeline_run['cfg'].registry.model_name}@base"
    common = [
        "experiment=smoke",
        f"registry.model_name={name}",
        f"warmstart.source={base_uri}",
        "warmstart/initializer=constant",
        f"paths.cache_dir={data_cache}",
    ]
    env = stage_env(mlflow_server.uri, experiment)
    good = start_stage(
        "warm_start",
        [*common, "warmstart.initializer.value=0.01", "train.epochs=1",
         "train.learning_rate=1e-12"],
        env,
    )  # fmt: skip
    code, stderr = finish(good, 300)
    assert code == 0, stderr[-3000:]

    client = MlflowClient(mlflow_server.uri)
    (run,) = run_of_experiment(client, experiment)
    report = json.loads(
        Path(
            client.download_artifacts(run.info.run_id, "remap/report.json", str(tmp_path))
        ).read_text()
    )
    assert report["added"] > 0 and report["sources"] == {
        "copied": report["kept"], "constant": report["added"],
    }  # fmt: skip

    base = resolve_source(base_uri, tmp_path / "base")
    warm = resolve_source(f"models:/{name}/1", tmp_path / "warm")
    known = set(base.vocabulary)
    added = [i for i, token in enumerate(warm.vocabulary) if token not in known]
    assert len(added) == report["added"]
    np.testing.assert_array_equal(warm.embedding[added], np.float32(0.01))
    shared = [i for i, token in enumerate(warm.vocabulary) if token in known][2:]
    at_base = [base.vocabulary.index(warm.vocabulary[i]) for i in shared]
    # Shared rows are the base's (a step of 1e-12 only shows on values near zero).
    np.testing.assert_allclose(warm.embedding[shared], base.embedding[at_base], atol=1e-9)
