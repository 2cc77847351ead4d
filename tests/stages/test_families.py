"""Every model family goes the whole way against the session's real tracking server: a base
registers, a warm start on a grown vocabulary reuses its head, registers, and the version
predicts raw text through its pyfunc. A warm start across families is refused before any
training; Adam's state crosses with the warm start when asked to."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from compose import compose_config
from faults import run_of_experiment
from mlflow.tracking import MlflowClient
from mlflow_fixtures import Server, tracking_env, versions_of

from warmstart.core.errors import RemapError
from warmstart.stages import train_base, warm_start
from warmstart.tracking.connection import connect
from warmstart.tracking.resolve import resolve_source

pytestmark = pytest.mark.slow

FAMILIES = ("cnn", "bilstm", "transformer")  # the tutorial's goes this way in every other test
TINY = ("experiment=smoke", "train.epochs=1", "data.n_train=600", "model.embedding_dim=8",
        "model.hidden_units=8")  # fmt: skip


@pytest.fixture(scope="module")
def bases(mlflow_server: Server, data_cache: Path) -> Iterator[dict]:
    """One registered base per family, under a model name of this module's own."""
    name = f"families-{uuid.uuid4().hex[:8]}"
    out = {}
    with tracking_env(mlflow_server.uri, f"{name}-bases"):
        for family in FAMILIES:
            cfg = compose_config(*TINY, f"model={family}", f"registry.model_name={name}-{family}",
                                 cache_dir=data_cache)  # fmt: skip
            connect(cfg)
            out[family] = train_base.run(cfg).published
    yield {"bases": out, "cache": data_cache, "name": name}


def warm_cfg(bases: dict, family: str, *extra: str):
    published = bases["bases"][family]
    return compose_config(
        *TINY,
        f"model={family}",
        f"registry.model_name={published.name}",
        f"warmstart.source=models:/{published.name}/{published.version}",
        *extra,
        cache_dir=bases["cache"],
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_warm_starts_registers_and_predicts_raw_text(family, bases, tracking, tmp_path):
    cfg = warm_cfg(bases, family)
    connect(cfg)
    outcome = warm_start.run(cfg)
    uri = f"models:/{outcome.published.name}/{outcome.published.version}"
    source = resolve_source(uri, tmp_path)
    assert source.family == family
    warm_run = MlflowClient().get_run(outcome.run_id)
    assert warm_run.info.status == "FINISHED"
    assert int(warm_run.data.tags["warmstart.remap.added"]) > 0  # the vocabulary grew
    model = mlflow.pyfunc.load_model(uri)
    out = model.predict(pd.DataFrame({"text": ["a moving, wonderful film", "dull and bad"]}))
    assert list(out.columns) == ["label", "p_negative", "p_positive", "probability"]
    np.testing.assert_allclose(out[["p_negative", "p_positive"]].sum(axis=1), 1.0, atol=1e-6)


def test_a_warm_start_across_families_fails_the_run_with_the_fix(bases, tracking):
    published = bases["bases"]["cnn"]
    cfg = warm_cfg(bases, "cnn", "model=transformer")
    connect(cfg)
    before = versions_of(published.name)
    with pytest.raises(RemapError, match="set model=cnn to warm-start from it"):
        warm_start.run(cfg)
    (run,) = run_of_experiment(MlflowClient(), os.environ["MLFLOW_EXPERIMENT_NAME"])
    assert run.info.status == "FAILED"
    assert versions_of(published.name) == before


def test_adam_state_crosses_the_warm_start_by_role(bases, tracking):
    cfg = warm_cfg(bases, "cnn", "warmstart.optimizer_state=true", "train.epochs=1")
    connect(cfg)
    outcome = warm_start.run(cfg)
    client = MlflowClient()
    path = mlflow.artifacts.download_artifacts(
        run_id=outcome.run_id, artifact_path="remap/optimizer_state.json"
    )
    restored = json.loads(Path(path).read_text())
    # embedding: momentum + velocity; output layer: kernel and bias x 2; conv and hidden x 4
    assert restored == {"vocabulary": 2, "labels": 4, "head": 8, "restarted": 0,
                        "source_iterations": restored["source_iterations"]}  # fmt: skip
    assert restored["source_iterations"] > 0
    assert client.get_run(outcome.run_id).data.params["warmstart.optimizer_state"] == "True"
