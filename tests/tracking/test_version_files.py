"""What a version holds: the head apart from the embedding (the matrix stored once), older
versions with the whole model (model.keras) still resolved and served, and an optional
optimizer state stored without pickle and verified like every other file.

Against a real tracking server; predictions are compared with the model that was published.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from compose import compose_config
from faults import tamper
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow_fixtures import Server, tracking_env, versions_of

from warmstart.core.digests import sha256_file
from warmstart.core.errors import RegistryError
from warmstart.modeling import text
from warmstart.modeling.model import build_model, embedding_matrix_of, head_of
from warmstart.tracking.connection import connect
from warmstart.tracking.publish import PACKAGE_DIR, PYFUNC_ENTRY, publish_model
from warmstart.tracking.pyfunc import checked_texts, output_columns, probabilities
from warmstart.tracking.resolve import resolve_source
from warmstart.tracking.version_format import (
    DIGEST_TAGS,
    EMBEDDING,
    HEAD_MODEL,
    KERAS_MODEL,
    LABELS,
    OPTIMIZER_STATE,
    RECORD_TAG,
    SETTINGS,
    VERSION_FILES,
    VOCABULARY,
    read_record,
)

LENGTH = 6
VOCAB = ["", "[UNK]", *(f"word{i}" for i in range(30))]
TEXTS = ["word1 word2 word3", "word7 word7 unknown", "word29"]
CNN = {"family": "cnn", "embedding_dim": 8, "filters": 4, "kernel_size": 3, "hidden_units": 8}


def trained_like_model():
    """A small cnn model with distinct (not initial) weights everywhere."""
    model = build_model(vocab_size=len(VOCAB), sequence_length=LENGTH, model_cfg=CNN)
    rng = np.random.default_rng(3)
    model.set_weights([rng.normal(size=w.shape).astype(w.dtype) for w in model.get_weights()])
    return model


def scores(model) -> np.ndarray:
    vectorizer = text.build_vectorizer(sequence_length=LENGTH, vocabulary=VOCAB)
    return probabilities(model.predict(text.vectorize(vectorizer, TEXTS), verbose=0))


def publish(model, name: str, **extra):
    with mlflow.start_run():
        return publish_model(
            model,
            VOCAB,
            embedding_matrix_of(model),
            sequence_length=LENGTH,
            registered_name=name,
            aliases=(),
            **extra,
        )


def register_files(
    name: str, head: Callable[[Path], str], model, digested: Callable[[str], bool], **extra: str
) -> str:
    """A version written by hand as older releases wrote them: `head(folder)` saves the head (or
    whole model) and names its file; each digested file's sha256 is a tag of its own."""
    with tempfile.TemporaryDirectory() as tmp, mlflow.start_run() as run:
        folder = Path(tmp)
        head_file = head(folder)
        (folder / VOCABULARY).write_text("".join(f"{t}\n" for t in VOCAB), encoding="utf-8")
        np.save(folder / EMBEDDING, embedding_matrix_of(model), allow_pickle=False)
        (folder / LABELS).write_text("0\n1\n")
        settings = {"sequence_length": LENGTH, "label_kind": "int", "family": "cnn"}
        (folder / SETTINGS).write_text(json.dumps(settings))
        files = (head_file, VOCABULARY, EMBEDDING, LABELS, SETTINGS)
        tags = {DIGEST_TAGS[f]: sha256_file(folder / f) for f in files if digested(f)} | extra
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PYFUNC_ENTRY),
            artifacts={f: str(folder / f) for f in files},
            code_paths=[str(PACKAGE_DIR)],
            pip_requirements=["mlflow"],
            tags=tags,
        )
        client = MlflowClient()
        client.create_registered_model(name)
        version = client.create_model_version(
            name, info.model_uri, run_id=run.info.run_id, tags=tags, model_id=info.model_id
        )
    return str(version.version)


def publish_as_before_head_keras(model, name: str) -> str:
    """A version as registered before head.keras: the whole model, and no settings digest."""

    def whole_model(folder: Path) -> str:
        model.save(folder / KERAS_MODEL)
        return KERAS_MODEL

    return register_files(name, whole_model, model, lambda f: f != SETTINGS)


def served(name: str, version: str) -> np.ndarray:
    answer = mlflow.pyfunc.load_model(f"models:/{name}/{version}").predict(
        pd.DataFrame({"text": TEXTS})
    )
    return answer[["p_0", "p_1"]].to_numpy()


def test_new_and_older_versions_load_the_same_head_and_serve_the_same_scores(
    tracking: Server, tmp_path: Path
) -> None:
    connect(compose_config())
    model = trained_like_model()
    expected = scores(model)
    name = f"layout-{uuid.uuid4().hex[:6]}"
    new = publish(model, name).version
    old = publish_as_before_head_keras(model, f"{name}-old")
    sources = {
        "new": resolve_source(f"models:/{name}/{new}", tmp_path / "new"),
        "old": resolve_source(f"models:/{name}-old/{old}", tmp_path / "old"),
    }
    assert sources["new"].head_path is not None and sources["new"].keras_model_path is None
    assert sources["old"].head_path is None and sources["old"].keras_model_path is not None
    assert sources["new"].sequence_length == LENGTH and sources["new"].family == "cnn"
    for source in sources.values():
        head = source.load_head()
        assert head.name == "head" and len(head.layers) == len(head_of(model).layers)
        for got, want in zip(head.get_weights(), head_of(model).get_weights(), strict=True):
            assert np.array_equal(got, want)
        np.testing.assert_allclose(scores(source.load_keras_model()), expected, atol=1e-6)
    np.testing.assert_allclose(served(name, new), expected, atol=1e-6)
    np.testing.assert_allclose(served(f"{name}-old", old), expected, atol=1e-6)


def test_an_optimizer_state_round_trips_through_resolve_with_its_digest_checked(
    tracking: Server, tmp_path: Path
) -> None:
    connect(compose_config())
    rng = np.random.default_rng(0)
    state = {
        "embedding/m": rng.normal(size=(len(VOCAB), 8)).astype("float32"),
        "embedding/v": rng.random(size=(len(VOCAB), 8)).astype("float32"),
        "iterations": np.array(17, dtype="int64"),
    }
    name = f"optimizer-{uuid.uuid4().hex[:6]}"
    published = publish(trained_like_model(), name, optimizer_state=state)
    version = MlflowClient().get_model_version(name, published.version)
    recorded = read_record(version.tags).files[OPTIMIZER_STATE]
    assert recorded == published.digests[OPTIMIZER_STATE]
    source = resolve_source(f"models:/{name}/{published.version}", tmp_path / "good")
    assert source.optimizer_state_path is not None
    assert sha256_file(source.optimizer_state_path) == recorded
    assert source.digests[OPTIMIZER_STATE] == recorded
    with np.load(source.optimizer_state_path, allow_pickle=False) as stored:
        assert sorted(stored.files) == sorted(state)
        for key, value in state.items():
            assert stored[key].dtype == value.dtype and np.array_equal(stored[key], value)
    tamper(tracking.root / "artifacts", published.model_id, OPTIMIZER_STATE)
    with pytest.raises(RegistryError, match=r"optimizer\.npz of .* was altered after publishing"):
        resolve_source(f"models:/{name}/{published.version}", tmp_path / "tampered")


# ------------------------------------------------- every digested file, tampered in turn

# The files of a version registered with an optimizer state: every one its record digests.
# Each is tampered with below; test_the_record_digests_every_file_tampered_with_below fails if
# the record gains a file this list lacks (or loses one).
RECORDED = (*VERSION_FILES, OPTIMIZER_STATE)


@pytest.fixture(scope="module")
def complete_version(mlflow_server: Server) -> Iterator[dict]:
    """One version holding every file a version can (an optimizer state among them), shared
    by the tamper cases: each alters one stored file and puts it back."""
    name = f"tamper-{uuid.uuid4().hex[:6]}"
    state = {"embedding/m": np.ones((len(VOCAB), 8), "float32"), "iterations": np.array(3)}
    with tracking_env(mlflow_server.uri, f"{name}-runs"):
        connect(compose_config())
        published = publish(trained_like_model(), name, optimizer_state=state)
    client = MlflowClient(mlflow_server.uri)
    version = client.get_model_version(name, published.version)
    yield {
        "uri": f"models:/{name}/{published.version}",
        "model_id": published.model_id,
        "files": read_record(version.tags).files,
        "store": mlflow_server.root / "artifacts",
    }


def stored_copies(store: Path, model_id: str, filename: str) -> list[Path]:
    """Every copy of `filename` the artifact store holds for logged model `model_id`."""
    return [p for p in store.rglob(filename) if model_id in p.parts]


def test_the_record_digests_every_file_tampered_with_below(complete_version: dict) -> None:
    files = complete_version["files"]
    assert sorted(files) == sorted(RECORDED) == sorted(
        ["head.keras", "vocabulary.txt", "embedding.npy", "settings.json", "labels.txt",
         "optimizer.npz"]
    )  # fmt: skip
    for filename, digest in files.items():  # each digest is the stored file's own
        copies = stored_copies(complete_version["store"], complete_version["model_id"], filename)
        assert copies and {sha256_file(p) for p in copies} == {digest}, filename


@pytest.mark.parametrize("filename", RECORDED)
def test_a_tampered_file_is_refused_naming_that_file(
    filename: str, complete_version: dict, tracking: Server, tmp_path: Path
) -> None:
    uri, model_id = complete_version["uri"], complete_version["model_id"]
    assert filename in complete_version["files"]
    copies = stored_copies(complete_version["store"], model_id, filename)
    originals = {path: path.read_bytes() for path in copies}
    try:
        tamper(complete_version["store"], model_id, filename)
        assert all(path.read_bytes() != original for path, original in originals.items())
        with pytest.raises(RegistryError) as raised:
            resolve_source(uri, tmp_path / "tampered")
    finally:
        for path, original in originals.items():
            path.write_bytes(original)
    expected = rf"^{re.escape(filename)} of {re.escape(uri)} \(model {model_id}\) was altered "
    assert re.match(expected + "after publishing", str(raised.value)), str(raised.value)
    others = set(complete_version["files"]) - {filename}
    assert not any(f"{other} of" in str(raised.value) for other in others)
    # Put back, the version resolves again: the refusal was that file's alone.
    assert resolve_source(uri, tmp_path / "restored").digests == complete_version["files"]


def publish_in_the_old_tag_layout(model, name: str) -> str:
    """A version as registered before the record: today's files, each digest a tag of its own
    (`warmstart.head_sha256`, ...) on the logged model and the version."""

    def head(folder: Path) -> str:
        head_of(model).save(folder / HEAD_MODEL)
        return HEAD_MODEL

    # layout-1 lineage, one tag each
    return register_files(
        name, head, model, lambda f: True, **{"warmstart.source_uri": "models:/older/1"}
    )


def test_a_version_in_the_old_tag_layout_resolves_verified_and_refuses_a_tampered_file(
    tracking: Server, tmp_path: Path
) -> None:
    connect(compose_config())
    model = trained_like_model()
    name = f"old-tags-{uuid.uuid4().hex[:6]}"
    version = publish_in_the_old_tag_layout(model, name)
    stored = MlflowClient().get_model_version(name, version)
    assert RECORD_TAG not in stored.tags  # the old layout, as registered then
    uri = f"models:/{name}/{version}"
    source = resolve_source(uri, tmp_path / "good")
    assert source.digests == {f: stored.tags[DIGEST_TAGS[f]] for f in VERSION_FILES}
    np.testing.assert_allclose(scores(source.load_keras_model()), scores(model), atol=1e-6)
    tamper(tracking.root / "artifacts", source.model_id, VOCABULARY)
    with pytest.raises(RegistryError, match=r"vocabulary\.txt of .* was altered after publishing"):
        resolve_source(uri, tmp_path / "tampered")


@pytest.mark.parametrize(
    ("state", "problem"),
    [
        ({"slots": np.array([{"m": 1}], dtype=object)}, "cannot be stored without pickle"),
        ({"": np.zeros(3)}, "is not a non-empty string"),
    ],
    ids=["object_array", "empty_name"],
)
def test_publish_refuses_optimizer_state_it_cannot_store_without_pickle(
    state: dict, problem: str, tracking: Server
) -> None:
    connect(compose_config())
    name = f"optimizer-bad-{uuid.uuid4().hex[:6]}"
    with pytest.raises(RegistryError, match=problem) as raised:
        publish(trained_like_model(), name, optimizer_state=state)
    assert "nothing was logged or registered" in str(raised.value)
    assert versions_of(name) == []
    experiment = mlflow.get_experiment_by_name(os.environ["MLFLOW_EXPERIMENT_NAME"])
    assert MlflowClient().search_logged_models([experiment.experiment_id]) == []


def test_checked_texts_names_every_null_or_blank_row_and_passes_the_rest_as_str() -> None:
    good = pd.DataFrame({"text": ["fine", 5, "  padded  ", "ünïcode"]})
    assert checked_texts(good).tolist() == ["fine", "5", "  padded  ", "ünïcode"]
    bad = pd.DataFrame({"text": ["ok", None, "", " \t\n", np.nan, pd.NA, "also ok"]})
    rows = r"5 text\(s\) are null or empty \(rows \[1, 2, 3, 4, 5\]\)"
    with pytest.raises(MlflowException, match=rows) as raised:
        checked_texts(bad)
    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"
    assert raised.value.get_http_status_code() == 400  # what a model server answers
    many = pd.DataFrame({"text": ["a review"] * 200_000 + [" "]})
    with pytest.raises(MlflowException, match=r"rows \[200000\]"):
        checked_texts(many)


@pytest.mark.parametrize("dtype", [object, "string"])
def test_an_empty_request_is_an_empty_prediction_with_the_output_columns(
    tracking: Server, dtype
) -> None:
    """No rows in, no rows out (Keras cannot predict on none): the columns a client reads are
    there and nothing is raised. A frame without any column (`{"dataframe_records": []}`)
    has no rows either; MLflow's signature check refuses it before the model, so the model's
    own predict is asked directly."""
    connect(compose_config())
    name = f"empty-{uuid.uuid4().hex[:6]}"
    version = publish(trained_like_model(), name).version
    model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    columns = output_columns([0, 1])
    assert columns == ["label", "p_0", "p_1", "probability"]
    answer = model.predict(pd.DataFrame({"text": pd.Series([], dtype=dtype)}))
    assert isinstance(answer, pd.DataFrame) and len(answer) == 0
    assert list(answer.columns) == columns
    bare = model.unwrap_python_model().predict(None, pd.DataFrame())
    assert len(bare) == 0 and list(bare.columns) == columns
    one = model.predict(pd.DataFrame({"text": TEXTS[:1]}))  # rows are still answered
    assert list(one.columns) == columns and len(one) == 1
