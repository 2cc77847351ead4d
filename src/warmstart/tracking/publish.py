"""Publishing a trained model as a registered version that always holds a verified set.

A version carries what a later warm start needs (see `version_format`): a few tags a person
reads, and one JSON tag, the record, holding each file's sha256 and the lineage that resolving
reads. It is registered last, after every file is logged and read back verified, so
a version always holds a complete set, and a failed registration leaves no version behind.
The embedding matrix is written once (embedding.npy, beside the head alone), never copied:
publishing a 1M-token version costs about one matrix of memory over the caller's own.
"""

from __future__ import annotations

import contextlib
import functools
import json
import tempfile
import warnings
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import mlflow
import numpy as np
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types import ColSpec, Schema

from warmstart import config as config_mod
from warmstart.core.arrays import non_finite
from warmstart.core.digests import sha256_file
from warmstart.core.errors import RegistryError, TrackingError, VocabularyError
from warmstart.core.labels import label_kind, save_labels
from warmstart.core.vocab import check_vocabulary, save_vocabulary
from warmstart.modeling.model import EMBEDDING_LAYER, head_of, masks_padding, model_family
from warmstart.tracking.model_files import download_model_files
from warmstart.tracking.pyfunc import output_columns
from warmstart.tracking.version_format import (
    EMBEDDING,
    HEAD_MODEL,
    LABELS,
    MODEL_ID_TAG,
    OPTIMIZER_STATE,
    REGISTERED_NAME_TAG,
    REGISTERED_VERSION_TAG,
    SETTINGS,
    VERSION_FILES,
    VOCABULARY,
    Published,
    version_tags,
)
from warmstart.tracking.write_retry import retry_conflicts

PYFUNC_ENTRY = Path(__file__).resolve().with_name("pyfunc_entry.py")
PACKAGE_DIR = PYFUNC_ENTRY.parents[1]  # the warmstart package, shipped with the model


def _pip_requirements() -> list[str]:
    """The lock's pins for what the pyfunc imports, so a served model gets the same stack."""
    wanted = {"tensorflow", "keras", "mlflow", "numpy", "pandas"}
    lock = config_mod.PROJECT_ROOT / "requirements.lock"
    pins = []
    for line in lock.read_text().splitlines():
        name = line.split("==")[0].strip().lower()
        if name in wanted:
            pins.append(line.strip())
    return pins


def publish_model(
    model: keras.Model,
    vocabulary: Sequence[str],
    embedding: np.ndarray,
    *,
    sequence_length: int,
    registered_name: str,
    aliases: Sequence[str],
    lineage: Mapping[str, str] | None = None,
    labels: Sequence[Any] = (0, 1),
    optimizer_state: Mapping[str, np.ndarray] | None = None,
) -> Published:
    """Log the model's head with its vocabulary and embedding, verify them, then register.

    Order matters: files are written, logged, read back from the store and checked against
    their sha256 before `register_model`, so every version holds a complete, verified set.
    `labels` are the model's classes in output order (`labels.txt`, served as `label`).
    `optimizer_state` (name -> numeric array) is stored as optimizer.npz, without pickle.
    `lineage` is a warm start's run tags (source, remap, label diff): the version shows the
    source, initializer and token counts as tags and keeps the rest in its record.
    """
    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("publish_model needs an active run")
    _check_publishable(model, vocabulary, embedding)
    _check_optimizer_state(optimizer_state)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        head_of(model).save(folder / HEAD_MODEL)
        save_vocabulary(vocabulary, folder / VOCABULARY)
        # A contiguous matrix is written straight from its buffer (no copy).
        np.save(folder / EMBEDDING, np.ascontiguousarray(embedding), allow_pickle=False)
        save_labels(labels, folder / LABELS)
        settings = {
            "sequence_length": sequence_length,
            "label_kind": label_kind(labels),
            "family": model_family(model),
            "mask_padding": masks_padding(model),
        }
        (folder / SETTINGS).write_text(json.dumps(settings), encoding="utf-8")
        files = list(VERSION_FILES)
        if optimizer_state is not None:
            _save_optimizer_state(optimizer_state, folder / OPTIMIZER_STATE)
            files.append(OPTIMIZER_STATE)
        digests = {f: sha256_file(folder / f) for f in files}
        tags = version_tags(
            digests,
            lineage or {},
            registered_name=registered_name,
            vocabulary_size=len(vocabulary),
            label_count=len(labels),
        )
        # No input_example: MLflow would load the whole model in this process to validate
        # it (the matrix twice more); the signature still checks what a server is sent.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", ".*An input example was not provided")
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=str(PYFUNC_ENTRY),
                artifacts={f: str(folder / f) for f in files},
                code_paths=[str(PACKAGE_DIR)],
                signature=_signature(labels),
                pip_requirements=_pip_requirements(),
                tags=tags,
            )
    _verify_logged(info.model_id, digests)
    mlflow.set_tag(MODEL_ID_TAG, info.model_id)
    client = MlflowClient()
    with contextlib.suppress(MlflowException):
        client.create_registered_model(registered_name)
    version = None
    try:
        # Concurrent publishers race for the next version number and for alias rows.
        version = retry_conflicts(
            lambda: client.create_model_version(
                registered_name,
                info.model_uri,
                run_id=run.info.run_id,
                tags=tags,
                model_id=info.model_id,
            )
        )
        for alias in aliases:
            retry_conflicts(
                functools.partial(
                    client.set_registered_model_alias, registered_name, alias, version.version
                )
            )
    except BaseException:
        if version is not None:  # no half-registered versions
            with contextlib.suppress(Exception):
                client.delete_model_version(registered_name, version.version)
        raise
    mlflow.set_tags({REGISTERED_NAME_TAG: registered_name, REGISTERED_VERSION_TAG: version.version})
    return Published(registered_name, str(version.version), info.model_id, run.info.run_id, digests)


@contextlib.contextmanager
def kept_if_assessed(published: Published, aliases: Sequence[str]) -> Iterator[None]:
    """Keep a just-registered version only if what follows (evaluation, promotion) succeeds.

    On success the version takes `aliases` (`current` names the newest *assessed* version); on
    any failure it is deleted, so a FAILED run never leaves a registered version behind.
    """
    client = MlflowClient()
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            client.delete_model_version(published.name, published.version)
        raise
    for alias in aliases:
        retry_conflicts(
            functools.partial(
                client.set_registered_model_alias, published.name, alias, published.version
            )
        )


def _signature(labels: Sequence[Any]) -> ModelSignature:
    """`text` in; `label` (typed as the classes are) and one probability per class out."""
    label_type = "long" if label_kind(labels) == "int" else "string"
    columns = output_columns(list(labels))
    return ModelSignature(
        inputs=Schema([ColSpec("string", "text")]),
        outputs=Schema(
            [ColSpec(label_type, "label"), *(ColSpec("double", name) for name in columns[1:])]
        ),
    )


def _check_publishable(model: keras.Model, vocabulary: Sequence[str], embedding: Any) -> None:
    """Refuse, before anything is logged, a set a warm start could not use as is."""

    def refuse(problem: str) -> RegistryError:
        return RegistryError(f"refusing to publish: {problem}; nothing was logged or registered")

    try:
        check_vocabulary(vocabulary)
    except VocabularyError as exc:
        raise refuse(str(exc)) from None
    matrix = np.asarray(embedding)
    if matrix.ndim != 2 or matrix.dtype.kind != "f":
        raise refuse(f"the embedding must be a 2-D float matrix, got {matrix.dtype} {matrix.shape}")
    if matrix.shape[0] != len(vocabulary):
        raise refuse(
            f"the vocabulary has {len(vocabulary)} tokens but the embedding has "
            f"{matrix.shape[0]} rows; publish the vocabulary the embedding was trained with"
        )
    if non_finite(matrix)[0]:
        raise refuse("the embedding holds NaN/inf values; fix the training run (learning rate)")
    # The variable's shape, not get_weights(): that would copy the whole matrix.
    layer_shape = tuple(int(n) for n in model.get_layer(EMBEDDING_LAYER).embeddings.shape)
    if layer_shape != matrix.shape:
        raise refuse(
            f"the embedding has shape {matrix.shape} but the model's embedding layer has "
            f"{layer_shape}; publish the matrix of this model's embedding layer"
        )


def _check_optimizer_state(state: Mapping[str, np.ndarray] | None) -> None:
    """Refuse, before anything is logged, state names a `.npz` cannot hold."""
    for key in state or {}:
        if not isinstance(key, str) or not key:
            raise RegistryError(
                f"refusing to publish: optimizer state name {key!r} is not a non-empty string; "
                "give each array a name; nothing was logged or registered"
            )


def _save_optimizer_state(state: Mapping[str, np.ndarray], path: Path) -> None:
    """`state` as an `.npz` (what `numpy.savez` writes, readable by `numpy.load` without
    pickle), one array at a time: `state` may read each from the optimizer only now."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for key in state:
            array = np.asarray(state[key])
            if array.dtype.kind not in "biuf":
                raise RegistryError(
                    f"refusing to publish: optimizer state {key!r} ({array.dtype}) cannot be "
                    "stored without pickle; give numeric arrays; nothing was logged or registered"
                )
            with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
            del array


def _verify_logged(model_id: str, digests: Mapping[str, str]) -> None:
    """Read the logged files back from the store: register only what arrived intact.

    Downloads stream to disk and hashing reads in chunks: no file is held in memory.
    """
    with tempfile.TemporaryDirectory() as tmp:
        local = download_model_files(model_id, Path(tmp))
        for name, digest in digests.items():
            found = next(local.rglob(name), None)
            if found is None or sha256_file(found) != digest:
                raise TrackingError(
                    f"logged model {model_id} did not store {name} intact; nothing was "
                    "registered: check the artifact store and run the stage again"
                )
