"""Resolving a warm-start source to verified files: any version, alias, logged model or run.

Every file is checked against the sha256 its version's record (`version_format.read_record`,
either layout) holds before anything is loaded, and loading uses no pickle: a missing or
altered file is an error, never a fallback.
A version holds its head (head.keras) and its embedding (embedding.npy) apart, so a warm
start reads the matrix once; versions from before that hold the whole model (model.keras).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from warmstart.core.digests import sha256_file
from warmstart.core.errors import ModelFileError, RegistryError, WarmstartError
from warmstart.core.labels import load_labels
from warmstart.core.vocab import load_vocabulary
from warmstart.modeling.heads import PRE_FAMILIES
from warmstart.modeling.model import assemble, head_of, load_model
from warmstart.tracking.model_files import download_model_files
from warmstart.tracking.version_format import (
    DIGEST_TAGS,
    EMBEDDING,
    HEAD_FILES,
    HEAD_MODEL,
    KERAS_MODEL,
    LABELS,
    LEGACY_LABELS,
    MODEL_ID_TAG,
    OPTIMIZER_STATE,
    SETTINGS,
    SOURCE_MODEL_ID_TAG,
    SOURCE_NAME_TAG,
    SOURCE_RUN_ID_TAG,
    SOURCE_URI_TAG,
    SOURCE_VERSION_TAG,
    VOCABULARY,
    read_record,
    source_tag,
)

LIST_VERSIONS = "python -m warmstart.tracking.versions"  # lists a model's versions

_VERSION = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)/?$")
_ALIAS = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[^/@]+)/?$")
_MODEL_ID = re.compile(r"^models:/(?P<model_id>m-[0-9a-f]+)/?$")
_RUN = re.compile(r"^runs:/(?P<run_id>[0-9a-f]+)(?:/(?P<path>.*))?$")


@dataclass
class ResolvedSource:
    """A verified warm-start source: vocabulary, embedding, trained head and lineage.

    `embedding` is read from the verified embedding.npy at each access (`embedding_path`, in
    the download directory), so a caller holds the matrix only as long as it keeps it: the warm
    start drops it before it builds the new model. `head_path` is the version's head.keras; a
    version from before it has `keras_model_path` (the whole model) instead.
    `optimizer_state_path` is its optimizer.npz, if published. `digests` maps each verified
    file's name to its sha256.
    """

    uri: str
    model_id: str
    run_id: str
    name: str | None
    version: str | None
    vocabulary: list[str]
    embedding_path: Path
    keras_model_path: Path | None
    digests: dict[str, str]
    tags: dict[str, str] = field(default_factory=dict)
    labels: list = field(default_factory=lambda: list(LEGACY_LABELS))
    family: str = PRE_FAMILIES  # versions from before model families are the tutorial's
    head_path: Path | None = None
    sequence_length: int | None = None
    optimizer_state_path: Path | None = None
    mask_padding: bool | None = None  # None: a version from before the setting

    @property
    def embedding(self) -> np.ndarray:
        """The trained embedding (rows = `vocabulary`), read from its verified file."""
        try:
            return np.load(self.embedding_path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise RegistryError(f"{self.uri}: cannot read its embedding: {exc}") from None

    def _load(self, path: Path) -> Any:
        try:
            return load_model(str(path))
        except ModelFileError as exc:
            raise RegistryError(f"{self.uri}: {exc}") from None

    def load_head(self) -> Any:
        """The verified trained head (any family), loaded with `safe_mode`, without the
        embedding: the head file alone, or for an older version the head of its model."""
        if self.head_path is not None:
            return self._load(self.head_path)
        assert self.keras_model_path is not None  # resolve_source requires one of the two
        return head_of(self._load(self.keras_model_path))

    def load_keras_model(self) -> Any:
        """The verified Keras model (token ids -> logits): the head on the embedding."""
        if self.head_path is None and self.keras_model_path is not None:
            return self._load(self.keras_model_path)
        if self.sequence_length is None:
            raise RegistryError(
                f"{self.uri} (model {self.model_id}) has no sequence_length in its "
                f"{SETTINGS}; re-register the model with train_base or warm_start"
            )
        return assemble(
            self.load_head(),
            self.embedding,
            sequence_length=self.sequence_length,
            family=self.family,
            mask_padding=self.mask_padding,
        )

    def lineage_tags(self) -> dict[str, str]:
        """Tags a warm run records so a chain v1 -> v2 -> v3 can be walked (its version keeps
        them in its record: `version_format.version_tags`)."""
        return {
            SOURCE_URI_TAG: self.uri,
            SOURCE_NAME_TAG: self.name or "",
            SOURCE_VERSION_TAG: self.version or "",
            SOURCE_MODEL_ID_TAG: self.model_id,
            SOURCE_RUN_ID_TAG: self.run_id,
            **{source_tag(DIGEST_TAGS[f]): v for f, v in self.digests.items() if f in DIGEST_TAGS},
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
    hint = (
        f"list registered models in the MLflow UI, or a model's versions with `{LIST_VERSIONS} "
        "NAME`, and set warmstart.source"
    )
    try:
        if m := _VERSION.match(uri):
            name, version = m["name"], m["version"]
            hint = f"list its versions with `{LIST_VERSIONS} {name}` and set warmstart.source"
            model_id = model_id_of(client.get_model_version(name, version))
        elif m := _ALIAS.match(uri):
            name = m["name"]
            hint = f"list its versions with `{LIST_VERSIONS} {name}` and set warmstart.source"
            mv = client.get_model_version_by_alias(name, m["alias"])
            version, model_id = str(mv.version), model_id_of(mv)
        elif m := _MODEL_ID.match(uri):
            model_id = m["model_id"]
        elif m := _RUN.match(uri):
            run = client.get_run(m["run_id"])
            model_id = run.data.tags.get(MODEL_ID_TAG)
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
    expected = read_record(logged.tags).files
    has_head = any(expected.get(f) for f in HEAD_FILES)
    if not (has_head and expected.get(VOCABULARY) and expected.get(EMBEDDING)):
        raise RegistryError(
            f"{uri} (model {model_id}) carries no vocabulary/embedding digests: it was not "
            "published by warmstart; warm-start from a version that train_base or warm_start "
            "registered"
        )
    try:
        local = download_model_files(model_id, download_dir)
    except MlflowException as exc:
        raise _registry_error(uri, exc, "check the artifact store is reachable") from None
    files = _verified_files(uri, model_id, local, expected)
    try:
        _check_embedding_header(files[EMBEDDING])
        vocabulary = load_vocabulary(files[VOCABULARY])
        settings = _settings(files, local)
        labels = _labels(files, settings)
        family = str(settings.get("family", PRE_FAMILIES))
        length = settings.get("sequence_length")
        sequence_length = None if length is None else int(length)
        mask = settings.get("mask_padding")
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
        embedding_path=files[EMBEDDING],
        keras_model_path=files.get(KERAS_MODEL),
        digests=dict(expected),
        tags=dict(logged.tags),
        labels=labels,
        family=family,
        head_path=files.get(HEAD_MODEL),
        sequence_length=sequence_length,
        optimizer_state_path=files.get(OPTIMIZER_STATE),
        mask_padding=None if mask is None else bool(mask),
    )


def _check_embedding_header(path: Path) -> None:
    """What resolving checks of the embedding without reading it (the warm start reads it when
    it remaps): a .npy file of numbers, not Python objects."""
    with open(path, "rb") as f:
        major, _ = np.lib.format.read_magic(f)
        read = (
            np.lib.format.read_array_header_1_0
            if major == 1
            else np.lib.format.read_array_header_2_0
        )
        _, _, dtype = read(f)
    if dtype.hasobject:
        raise ValueError(
            f"{EMBEDDING} holds Python objects, which are never loaded (allow_pickle=False)"
        )


def _settings(files: dict[str, Path], local: Path) -> dict:
    """The version's settings.json: verified when digested (versions with head.keras), else
    as found ({} for a version from before it existed)."""
    found = files.get(SETTINGS) or next(local.rglob(SETTINGS), None)
    return json.loads(found.read_text(encoding="utf-8")) if found else {}


def _labels(files: dict[str, Path], settings: dict) -> list:
    """The version's classes; a version from before labels.txt existed is binary (0, 1)."""
    if LABELS not in files:
        return list(LEGACY_LABELS)
    return load_labels(files[LABELS], settings.get("label_kind", "str"))


def _verified_files(
    uri: str, model_id: str, local: Path, expected: dict[str, str]
) -> dict[str, Path]:
    """Each digested file of the downloaded version, refused if missing or altered."""
    files: dict[str, Path] = {}
    for filename, digest in expected.items():
        found = next(local.rglob(filename), None)
        if found is None:
            raise RegistryError(
                f"{uri} (model {model_id}) has no {filename}; it cannot be warm-started from: "
                "register a complete version with train_base"
            )
        got = sha256_file(found)
        if got != digest:
            raise RegistryError(
                f"{filename} of {uri} (model {model_id}) was altered after publishing: sha256 "
                f"{got[:12]}… != recorded {digest[:12]}…; re-register the model, do not "
                "warm-start from a tampered artifact"
            )
        files[filename] = found
    return files
