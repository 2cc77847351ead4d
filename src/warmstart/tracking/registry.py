"""MLflow model-registry adapter: publish a trained model as a verified version, resolve one.

A version carries what a later warm start needs — the Keras model, its vocabulary and its
embedding matrix — with their sha256 as tags. It is registered last, after every file is
logged and read back verified, so a version always holds a complete set, and a failed
registration leaves no version behind. Resolving any version, alias, logged model or run
checks every file against those digests before anything is loaded, and loads without pickle.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types import ColSpec, Schema

from warmstart import config as config_mod
from warmstart.core.digests import sha256_file
from warmstart.core.errors import RegistryError, TrackingError, VocabularyError, WarmstartError
from warmstart.core.vocab import check_vocabulary, load_vocabulary, save_vocabulary
from warmstart.modeling.model import EMBEDDING_LAYER
from warmstart.tracking import retry_conflicts
from warmstart.tracking.pyfunc import EMBEDDING, KERAS_MODEL, SETTINGS, VOCABULARY

DIGEST_TAGS = {
    VOCABULARY: "warmstart.vocabulary_sha256",
    EMBEDDING: "warmstart.embedding_sha256",
    KERAS_MODEL: "warmstart.keras_model_sha256",
}
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the warmstart package


# ---------------------------------------------------------------- publishing


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


@dataclass
class Published:
    """A registered version and what identifies it."""

    name: str
    version: str
    model_id: str
    run_id: str
    digests: dict[str, str]


def publish_model(
    model: keras.Model,
    vocabulary: Sequence[str],
    embedding: np.ndarray,
    *,
    sequence_length: int,
    registered_name: str,
    aliases: Sequence[str],
    lineage: Mapping[str, str] | None = None,
) -> Published:
    """Log the model with its vocabulary and embedding, verify them, then register a version.

    Order matters: files are written, logged, read back from the store and checked against
    their sha256 before `register_model`, so every version holds a complete, verified set.
    """
    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("publish_model needs an active run")
    _check_publishable(model, vocabulary, embedding)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model.save(folder / KERAS_MODEL)
        save_vocabulary(vocabulary, folder / VOCABULARY)
        np.save(folder / EMBEDDING, np.ascontiguousarray(embedding), allow_pickle=False)
        (folder / SETTINGS).write_text(json.dumps({"sequence_length": sequence_length}))
        digests = {DIGEST_TAGS[f]: sha256_file(folder / f) for f in DIGEST_TAGS}
        tags = {**digests, **(lineage or {}), "warmstart.vocabulary_size": str(len(vocabulary))}
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PACKAGE_DIR / "tracking" / "pyfunc_entry.py"),
            artifacts={f: str(folder / f) for f in (KERAS_MODEL, VOCABULARY, EMBEDDING, SETTINGS)},
            code_paths=[str(PACKAGE_DIR)],
            signature=ModelSignature(
                inputs=Schema([ColSpec("string", "text")]),
                outputs=Schema([ColSpec("double", "probability")]),
            ),
            input_example=pd.DataFrame({"text": ["A moving, beautifully acted film.", "Dull."]}),
            pip_requirements=_pip_requirements(),
            tags=tags,
        )
    _verify_logged(info.model_id, digests)
    mlflow.set_tag("warmstart.model_id", info.model_id)
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
                lambda alias=alias: client.set_registered_model_alias(
                    registered_name, alias, version.version
                )
            )
    except BaseException:
        if version is not None:  # no half-registered versions
            with contextlib.suppress(Exception):
                client.delete_model_version(registered_name, version.version)
        raise
    mlflow.set_tags(
        {
            "warmstart.registered_name": registered_name,
            "warmstart.registered_version": version.version,
        }
    )
    return Published(registered_name, str(version.version), info.model_id, run.info.run_id, digests)


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
    if not np.isfinite(matrix).all():
        raise refuse("the embedding holds NaN/inf values; fix the training run (learning rate)")
    layer_shape = tuple(model.get_layer(EMBEDDING_LAYER).get_weights()[0].shape)
    if layer_shape != matrix.shape:
        raise refuse(
            f"the embedding has shape {matrix.shape} but the model's embedding layer has "
            f"{layer_shape}; publish the matrix of this model's embedding layer"
        )


def _verify_logged(model_id: str, digests: Mapping[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(mlflow.artifacts.download_artifacts(f"models:/{model_id}", dst_path=tmp))
        for name, tag in DIGEST_TAGS.items():
            found = next(local.rglob(name), None)
            if found is None or sha256_file(found) != digests[tag]:
                raise TrackingError(
                    f"logged model {model_id} did not store {name} intact; nothing was "
                    "registered: check the artifact store and run the stage again"
                )


# ---------------------------------------------------------------- resolving


_VERSION = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)/?$")
_ALIAS = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[^/@]+)/?$")
_MODEL_ID = re.compile(r"^models:/(?P<model_id>m-[0-9a-f]+)/?$")
_RUN = re.compile(r"^runs:/(?P<run_id>[0-9a-f]+)(?:/(?P<path>.*))?$")


@dataclass
class ResolvedSource:
    """A verified warm-start source: vocabulary, embedding, trained model and lineage."""

    uri: str
    model_id: str
    run_id: str
    name: str | None
    version: str | None
    vocabulary: list[str]
    embedding: np.ndarray
    keras_model_path: Path
    digests: dict[str, str]
    tags: dict[str, str] = field(default_factory=dict)

    def lineage_tags(self) -> dict[str, str]:
        """Tags a warm run and its version record so a chain v1 -> v2 -> v3 can be walked."""
        return {
            "warmstart.source_uri": self.uri,
            "warmstart.source_name": self.name or "",
            "warmstart.source_version": self.version or "",
            "warmstart.source_model_id": self.model_id,
            "warmstart.source_run_id": self.run_id,
            **{
                f"warmstart.source_{k.removeprefix('warmstart.')}": v
                for k, v in self.digests.items()
            },
        }


def _registry_error(uri: str, exc: MlflowException, hint: str) -> RegistryError:
    return RegistryError(
        f"cannot resolve warm-start source {uri}: {exc.message.splitlines()[0]}; {hint}"
    )


def model_id_of(version: Any) -> str | None:
    """The logged model behind a registry version (older stores only keep it in `source`)."""
    if version.model_id:
        return version.model_id
    m = _MODEL_ID.match(version.source or "")
    return m["model_id"] if m else None


def resolve_source(uri: str, download_dir: Path) -> ResolvedSource:
    """Resolve `models:/NAME/VERSION`, `models:/NAME@ALIAS`, `models:/MODEL_ID` or `runs:/RUN_ID`.

    Downloads the version's files and checks each against the sha256 recorded when it was
    published; a missing or altered file is an error, never a silent fallback.
    """
    client = MlflowClient()
    name = version = None
    hint = "list versions with `mlflow models` / the MLflow UI and set warmstart.source"
    try:
        if m := _VERSION.match(uri):
            name, version = m["name"], m["version"]
            model_id = model_id_of(client.get_model_version(name, version))
        elif m := _ALIAS.match(uri):
            name = m["name"]
            mv = client.get_model_version_by_alias(name, m["alias"])
            version, model_id = str(mv.version), model_id_of(mv)
        elif m := _MODEL_ID.match(uri):
            model_id = m["model_id"]
        elif m := _RUN.match(uri):
            run = client.get_run(m["run_id"])
            model_id = run.data.tags.get("warmstart.model_id")
            if not model_id:
                raise RegistryError(
                    f"run {m['run_id']} logged no warmstart model; use a base or warm run, "
                    "or a registered version (models:/NAME/VERSION)"
                )
        else:
            raise RegistryError(
                f"warmstart.source={uri!r} is not a model URI; use models:/NAME/VERSION, "
                "models:/NAME@ALIAS, models:/MODEL_ID or runs:/RUN_ID"
            )
        if not model_id:
            raise RegistryError(
                f"{uri} has no MLflow 3 logged model behind it; register it with warmstart "
                "(run train_base or warm_start) and use that version"
            )
        logged = client.get_logged_model(model_id)
    except MlflowException as exc:
        raise _registry_error(uri, exc, hint) from None
    expected = {tag: logged.tags.get(tag) for tag in DIGEST_TAGS.values()}
    if not all(expected.values()):
        raise RegistryError(
            f"{uri} (model {model_id}) carries no vocabulary/embedding digests: it was not "
            "published by warmstart; warm-start from a version that train_base or warm_start "
            "registered"
        )
    try:
        local = Path(
            mlflow.artifacts.download_artifacts(f"models:/{model_id}", dst_path=str(download_dir))
        )
    except MlflowException as exc:
        raise _registry_error(uri, exc, "check the artifact store is reachable") from None
    files: dict[str, Path] = {}
    for filename, tag in DIGEST_TAGS.items():
        found = next(local.rglob(filename), None)
        if found is None:
            raise RegistryError(
                f"{uri} (model {model_id}) has no {filename}; it cannot be warm-started from: "
                "register a complete version with train_base"
            )
        got = sha256_file(found)
        if got != expected[tag]:
            raise RegistryError(
                f"{filename} of {uri} (model {model_id}) was altered after publishing: sha256 "
                f"{got[:12]}… != recorded {expected[tag][:12]}…; re-register the model, do not "
                "warm-start from a tampered artifact"
            )
        files[filename] = found
    try:
        embedding = np.load(files[EMBEDDING], allow_pickle=False)
        vocabulary = load_vocabulary(files[VOCABULARY])
    except (ValueError, OSError, WarmstartError) as exc:
        raise RegistryError(
            f"cannot read the files of {uri} (model {model_id}): {exc}; re-register the model "
            "with train_base or warm_start, do not warm-start from it"
        ) from None
    return ResolvedSource(
        uri=uri,
        model_id=model_id,
        run_id=logged.source_run_id or "",
        name=name,
        version=version,
        vocabulary=vocabulary,
        embedding=embedding,
        keras_model_path=files[KERAS_MODEL],
        digests={k: v for k, v in expected.items() if v},
        tags=dict(logged.tags),
    )
