"""MLflow adapter: connecting, stage runs, metrics, datasets, publishing and resolving models.

Guarantees the stages rely on:
- a run that fails is ended FAILED (KILLED on Ctrl-C/SIGTERM), never left RUNNING;
- epoch metrics survive a tracking-server restart (buffered and retried, flushed at the end);
- a model version is registered last, after every file is logged and read back verified, so
  a version always holds what a warm start needs, and a failed registration leaves no version;
- no secret (passwords, tokens, credentials in URIs) reaches params, tags or artifacts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import mlflow
import numpy as np
import pandas as pd
from mlflow.entities import RunStatus
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types import ColSpec, Schema

from . import config as config_mod
from .data import sha256_file
from .errors import RegistryError, TrackingError, VocabularyError, WarmstartError
from .model import EMBEDDING_LAYER
from .serving import EMBEDDING, KERAS_MODEL, SETTINGS, VOCABULARY
from .vocab import check_vocabulary, load_vocabulary, save_vocabulary

STAGE_TAG = "warmstart.stage"
# Set by the sweep callback: each multirun job's top-level run becomes a child of this run.
PARENT_ENV = "WARMSTART_PARENT_RUN_ID"
TAG_PREFIX = "warmstart."
DIGEST_TAGS = {
    VOCABULARY: "warmstart.vocabulary_sha256",
    EMBEDDING: "warmstart.embedding_sha256",
    KERAS_MODEL: "warmstart.keras_model_sha256",
}
PACKAGE_DIR = Path(__file__).resolve().parent


class StageInterrupted(BaseException):
    """Raised by the SIGTERM handler so the active run ends KILLED, like Ctrl-C."""


# ---------------------------------------------------------------- connecting


def tracking_uri(cfg: Mapping) -> str:
    """`MLFLOW_TRACKING_URI` if set, else the config's (an absolute SQLite URI by default)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or str(cfg["tracking"]["uri"])


def experiment_name(cfg: Mapping) -> str:
    return os.environ.get("MLFLOW_EXPERIMENT_NAME") or str(cfg["tracking"]["experiment_name"])


def connect(cfg: Mapping) -> str:
    """Point MLflow at the store and experiment; fail fast if a server does not answer."""
    uri = tracking_uri(cfg)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    shown = config_mod.redact("uri", uri)
    if uri.startswith(("http://", "https://")):
        timeout = float(cfg["tracking"].get("connect_timeout", 10))
        try:
            with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout) as reply:
                reply.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise TrackingError(
                f"MLflow tracking server {shown} did not answer within {timeout:g}s ({exc}); "
                "start it, fix MLFLOW_TRACKING_URI / tracking.uri, or unset it to use the "
                "local SQLite store"
            ) from None
    elif uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    try:
        if os.environ.get("MLFLOW_EXPERIMENT_ID") and not os.environ.get("MLFLOW_EXPERIMENT_NAME"):
            # `mlflow run` names its experiment by id: children must land beside their parent.
            mlflow.set_experiment(experiment_id=os.environ["MLFLOW_EXPERIMENT_ID"])
        else:
            mlflow.set_experiment(experiment_name(cfg))
    except MlflowException as exc:
        raise TrackingError(
            f"MLflow store {shown} refused to open experiment '{experiment_name(cfg)}': "
            f"{exc.message}; check the credentials (MLFLOW_TRACKING_USERNAME/PASSWORD) and URI"
        ) from None
    return uri


# ---------------------------------------------------------------- runs


def _log_params(params: Mapping[str, Any]) -> None:
    items = [(k, "" if v is None else str(v)[:6000]) for k, v in params.items()]
    for start in range(0, len(items), 100):  # the tracking API takes 100 params per call
        mlflow.log_params(dict(items[start : start + 100]))


@contextlib.contextmanager
def stage_run(
    cfg: Mapping,
    stage: str,
    *,
    overrides: Sequence[str] = (),
    parent_run_id: str | None = None,
    run_name: str | None = None,
    extra_tags: Mapping[str, str] | None = None,
) -> Iterator[mlflow.ActiveRun]:
    """A run for one stage with its config, overrides and stage tag; ended FAILED on error.

    Outside any parent, the first run resumes the run `mlflow run` created (MLFLOW_RUN_ID);
    in a multirun job, the run is a child of the sweep parent (`PARENT_ENV`).
    """
    if parent_run_id is None and os.environ.get(PARENT_ENV):
        parent_run_id = os.environ[PARENT_ENV]
        extra_tags = {**config_mod.job_tags(), **(extra_tags or {})}
    tags = {
        STAGE_TAG: stage,
        "warmstart.overrides": config_mod.redact_overrides(overrides)[:5000],
        **(extra_tags or {}),
    }
    run = mlflow.start_run(
        run_name=run_name or stage,
        parent_run_id=parent_run_id,
        nested=parent_run_id is not None,
        tags=tags,
    )
    try:
        if run.data.tags.get("mlflow.runName") != (run_name or stage) and parent_run_id is None:
            mlflow.set_tag("mlflow.runName", run_name or stage)
        mlflow.set_tags(tags)  # a resumed `mlflow run` run did not get them at start
        if cfg.get("description"):
            mlflow.set_tag("mlflow.note.content", str(cfg["description"]))
        _log_params(config_mod.flatten(cfg))
        mlflow.log_text(config_mod.to_yaml(cfg), "config.yaml")
        yield run
    except (KeyboardInterrupt, StageInterrupted):
        _end(run, RunStatus.to_string(RunStatus.KILLED))
        raise
    except BaseException:
        _end(run, RunStatus.to_string(RunStatus.FAILED))
        raise
    else:
        _end(run, RunStatus.to_string(RunStatus.FINISHED))


def _end(run: mlflow.ActiveRun, status: str) -> None:
    """End `run` with `status`, retrying briefly: a run must not stay RUNNING."""
    for attempt in range(3):
        try:
            active = mlflow.active_run()
            if active is not None and active.info.run_id == run.info.run_id:
                mlflow.end_run(status)
            else:
                MlflowClient().set_terminated(run.info.run_id, status)
            return
        except Exception:  # the store may be restarting: try again, then give up quietly
            time.sleep(1 + attempt)


def log_stage_failure(exc: BaseException) -> None:
    """Record why the active run failed (one line), if a run is active."""
    if mlflow.active_run() is not None:
        with contextlib.suppress(Exception):
            mlflow.set_tag("warmstart.error", f"{type(exc).__name__}: {exc}"[:5000])


# ---------------------------------------------------------------- metrics and data


class MetricsLogger(keras.callbacks.Callback):
    """Logs each epoch's metrics at `step` = epoch index (0 first, as Keras autologging).

    Metrics a failed call could not write stay buffered and go out with the next epoch or
    at `flush()`, so a tracking-server restart during training loses nothing.
    """

    KEYS = (
        "loss",
        "accuracy",
        "tutorial_accuracy",
        "val_loss",
        "val_accuracy",
        "val_tutorial_accuracy",
        "epoch_seconds",
    )

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self._pending: list[mlflow.entities.Metric] = []
        self._client = MlflowClient()

    def on_epoch_end(self, epoch: int, logs: Mapping | None = None) -> None:
        now = int(time.time() * 1000)
        for key in self.KEYS:
            if logs and key in logs:
                self._pending.append(mlflow.entities.Metric(key, float(logs[key]), now, epoch))
        self._send()

    def _send(self) -> bool:
        if not self._pending:
            return True
        try:
            for start in range(0, len(self._pending), 1000):
                self._client.log_batch(self.run_id, metrics=self._pending[start : start + 1000])
        except Exception:
            return False
        self._pending.clear()
        return True

    def flush(self, attempts: int = 30, wait: float = 2.0) -> None:
        """Send what is buffered; raise if the server stays unreachable (nothing is dropped)."""
        for _ in range(attempts):
            if self._send():
                return
            time.sleep(wait)
        raise TrackingError(
            f"{len(self._pending)} epoch metrics could not be logged: the tracking server "
            "stayed unreachable; restart it and run the stage again"
        )


def log_splits(splits: Any) -> None:
    """Log train/val/test as MLflow datasets with their digests and sizes."""
    parts = (("training", splits.train), ("validation", splits.val), ("test", splits.test))
    with warnings.catch_warnings():
        # MLflow hints about integer columns and ambiguous local sources: not actionable here.
        warnings.simplefilter("ignore", UserWarning)
        for context, frame in parts:
            dataset = mlflow.data.from_pandas(
                frame, name=f"{splits.name}-{context}", targets="label", source=str(splits.source)
            )
            mlflow.log_input(dataset, context=context)
    mlflow.set_tag("warmstart.data_digest", splits.digest())
    mlflow.log_params({f"data.{context}_rows": len(frame) for context, frame in parts})


def log_table(frame: pd.DataFrame, artifact_file: str) -> None:
    """A pandas table as an MLflow table artifact (JSON, shown in the UI)."""
    mlflow.log_table(frame.reset_index(drop=True), artifact_file)


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
            python_model=str(PACKAGE_DIR / "pyfunc_model.py"),
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
        version = client.create_model_version(
            registered_name,
            info.model_uri,
            run_id=run.info.run_id,
            tags=tags,
            model_id=info.model_id,
        )
        for alias in aliases:
            client.set_registered_model_alias(registered_name, alias, version.version)
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


# ---------------------------------------------------------------- reuse

# Settings that change where or how a run is recorded, not what it computes.
_NOT_SEMANTIC = ("tracking.", "compare.", "paths.", "description", "reuse", "base.")


def code_version() -> str:
    """sha256 over the package's source files: any code change invalidates reuse."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def reuse_key(cfg: Mapping, stage: str, data_digest: str, ignore: tuple[str, ...] = ()) -> str:
    """What makes two runs of `stage` interchangeable: resolved config, data and code.

    `ignore` names config prefixes the stage does not read (the base stage ignores
    `warmstart.*`, so a sweep over warm-start settings shares one base run).
    """
    skip = _NOT_SEMANTIC + ignore
    settings = {k: v for k, v in config_mod.flatten(cfg).items() if not k.startswith(skip)}
    payload = json.dumps(
        [stage, settings, data_digest, code_version()], sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def find_reusable(stage: str, key: str) -> mlflow.entities.Run | None:
    """The newest finished, not itself reused, run of `stage` with `key` whose version exists."""
    experiment = mlflow.get_experiment(mlflow.active_run().info.experiment_id)
    runs = mlflow.search_runs(
        [experiment.experiment_id],
        f"tags.`warmstart.reuse_key` = '{key}' and tags.`{STAGE_TAG}` = '{stage}' "
        "and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        output_format="list",
    )
    client = MlflowClient()
    for run in runs:
        tags = run.data.tags
        if "warmstart.reused_from" in tags or "warmstart.registered_version" not in tags:
            continue
        with contextlib.suppress(MlflowException):
            client.get_model_version(
                tags["warmstart.registered_name"], tags["warmstart.registered_version"]
            )
            return run
    return None


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
