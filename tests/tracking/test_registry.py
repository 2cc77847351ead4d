"""The registry adapter's guarantees, checked against a real tracking server and registry.

publish_model refuses inconsistent sets before logging anything, registers last, rolls back a
version whose aliasing fails, stores verified pickle-free files, and survives concurrent
publishers; resolve_source reads a published version back bit for bit.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import mlflow
import numpy as np
import pytest
import yaml
from compose import compose_config
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow_fixtures import RACE_SECONDS, RETRIES, Server, logged, race, versions_of

from warmstart.core.digests import sha256_file
from warmstart.core.errors import RegistryError
from warmstart.modeling.model import build_model
from warmstart.tracking.connection import connect
from warmstart.tracking.publish import publish_model
from warmstart.tracking.resolve import resolve_source
from warmstart.tracking.version_format import (
    KERAS_MODEL,
    RECORD_TAG,
    VERSION_FILES,
    VERSION_TAGS,
    read_record,
)
from warmstart.tracking.write_retry import retry_conflicts

MODEL_CFG = {"embedding_dim": 16, "hidden_units": 16}
VOCAB = ["", "[UNK]", *(f"word{i}" for i in range(18))]


def tiny_model(vocab_size: int = len(VOCAB)):
    return build_model(vocab_size=vocab_size, sequence_length=8, model_cfg=MODEL_CFG)


def matrix_of(model) -> np.ndarray:
    return np.asarray(model.get_layer("embedding").get_weights()[0])


def experiment_id() -> str:
    return mlflow.get_experiment_by_name(os.environ["MLFLOW_EXPERIMENT_NAME"]).experiment_id


# ---------------------------------------------------------------- publishing


BAD_PUBLISH = {
    "rows_differ": (VOCAB[:-3], None, "the vocabulary has 17 tokens but the embedding has 20"),
    "nan": (VOCAB, "nan", "NaN/inf"),
    "duplicates": ([*VOCAB[:-1], "word3"], None, "duplicated token"),
    "empty_vocabulary": ([], None, "is empty"),
    "not_the_model_matrix": (VOCAB, "dim8", "model's embedding layer has"),
}


@pytest.mark.parametrize("case", list(BAD_PUBLISH))
def test_publish_refuses_an_inconsistent_set_and_logs_or_registers_nothing(
    case: str, tracking: Server
) -> None:
    vocabulary, poison, fragment = BAD_PUBLISH[case]
    model = tiny_model()
    matrix = matrix_of(model)
    if poison == "nan":
        matrix[4, 2] = np.nan
    elif poison == "dim8":
        matrix = matrix[:, :8]
    name = f"publish-{case}-{uuid.uuid4().hex[:6]}"
    connect(compose_config())
    with mlflow.start_run(), pytest.raises(RegistryError, match=fragment) as raised:
        publish_model(
            model, vocabulary, matrix, sequence_length=8, registered_name=name, aliases=()
        )
    assert "nothing was logged or registered" in str(raised.value)
    assert versions_of(name) == []
    assert MlflowClient().search_logged_models([experiment_id()]) == []


def test_a_registration_that_fails_late_leaves_no_half_registered_version(
    tracking: Server,
) -> None:
    """The alias is the very last step; when the registry refuses it, the version goes too."""
    name = f"rollback-{uuid.uuid4().hex[:6]}"
    model = tiny_model()
    connect(compose_config())
    with mlflow.start_run(), pytest.raises(MlflowException, match="reserved"):
        publish_model(
            model,
            VOCAB,
            matrix_of(model),
            sequence_length=8,
            registered_name=name,
            aliases=("current", "v1"),
        )
    assert versions_of(name) == []


def test_a_published_version_holds_verified_files_and_no_pickle(
    tracking: Server, tmp_path: Path
) -> None:
    name = f"complete-{uuid.uuid4().hex[:6]}"
    model = tiny_model()
    connect(compose_config())
    with mlflow.start_run():
        published = publish_model(
            model,
            VOCAB,
            matrix_of(model),
            sequence_length=8,
            registered_name=name,
            aliases=("base",),
        )
    version = MlflowClient().get_model_version(name, published.version)
    local = Path(
        mlflow.artifacts.download_artifacts(
            f"models:/{name}/{published.version}", dst_path=str(tmp_path / "model")
        )
    )
    record = read_record(version.tags)
    for filename in VERSION_FILES:  # every file of the version, digested in its record
        (stored,) = local.rglob(filename)
        assert sha256_file(stored) == record.files[filename] == published.digests[filename]
    assert set(version.tags) <= set(VERSION_TAGS) and RECORD_TAG in version.tags
    assert not list(local.rglob(KERAS_MODEL))  # the matrix is stored once, in embedding.npy
    files = [p.name for p in local.rglob("*") if p.is_file()]
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".cloudpickle"))], files
    flavor = yaml.safe_load((local / "MLmodel").read_text())["flavors"]["python_function"]
    assert flavor["model_code_path"].endswith(".py")  # models-from-code: source, not a pickle
    assert "python_model" not in flavor  # no cloudpickled PythonModel instance
    source = resolve_source(f"models:/{name}@base", tmp_path / "resolved")
    assert source.vocabulary == VOCAB and np.array_equal(source.embedding, matrix_of(model))
    assert source.optimizer_state_path is None  # published without one


def test_racing_alias_writes_all_succeed_and_the_alias_names_one_of_them(
    tracking: Server,
) -> None:
    """Unretried, two writers inserting one alias row fail with IntegrityError. Rounds go on
    until a writer really lost such a race (the retry loop logs each one), for at most
    RACE_SECONDS: a run whose writers never met fails instead of passing for one that survived
    them. (Whether writers meet is up to the server's scheduling: a round or two usually
    suffices; 8 rounds of 6 writers once did not, under the whole suite's load.)"""
    client = MlflowClient()
    lost: list[str] = []
    rounds, deadline = 0, time.monotonic() + RACE_SECONDS
    while not lost and time.monotonic() < deadline:
        rounds += 1
        name = f"race-{uuid.uuid4().hex[:8]}"
        client.create_registered_model(name)
        versions = [client.create_model_version(name, "s3://bucket/m").version for _ in range(6)]
        writes = [(name, a, v) for v in versions for a in ("warm", "current")]
        attempts: list[int] = []

        def write(writes: list = writes, attempts: list = attempts) -> None:
            model, alias, version = writes.pop()  # each writer takes its own (atomic under GIL)

            def attempt() -> None:
                attempts.append(1)
                client.set_registered_model_alias(model, alias, version)

            retry_conflicts(attempt)

        writers = len(writes)
        with logged(RETRIES) as retried:
            results = race(write, writers=writers)
        assert not [r for r in results if isinstance(r, Exception)], results
        assert len(attempts) == writers + len(retried), (attempts, retried)  # one per lost race
        for alias in ("warm", "current"):
            assert client.get_model_version_by_alias(name, alias).version in versions
        lost += retried
    assert lost, f"in {rounds} rounds of 12 racing alias writes none lost a race: retry untested"


def test_a_version_whose_assessment_fails_is_withdrawn_and_one_that_passes_takes_its_aliases(
    tracking: Server,
) -> None:
    """Registered first, evaluated and judged after: a failure there (the evaluator refusing
    a metric name, the server going away) deletes the version, so a FAILED run leaves none
    behind; success gives it `base`/`current` only then."""
    from warmstart.tracking.publish import kept_if_assessed

    name = f"assessed-{uuid.uuid4().hex[:6]}"
    connect(compose_config())
    client = MlflowClient()
    model = tiny_model()
    with mlflow.start_run():
        kept = publish_model(model, VOCAB, matrix_of(model), sequence_length=8,
                             registered_name=name, aliases=())  # fmt: skip
        with kept_if_assessed(kept, aliases=("base", "current")):
            assert versions_of(name) == ["1"]
    assert client.get_model_version_by_alias(name, "current").version == "1"
    with mlflow.start_run(), pytest.raises(RuntimeError, match="evaluation broke"):
        failed = publish_model(model, VOCAB, matrix_of(model), sequence_length=8,
                               registered_name=name, aliases=())  # fmt: skip
        with kept_if_assessed(failed, aliases=("base", "current")):
            assert versions_of(name) == ["1", "2"]
            raise RuntimeError("evaluation broke")
    assert versions_of(name) == ["1"]
    assert client.get_model_version_by_alias(name, "current").version == "1"
