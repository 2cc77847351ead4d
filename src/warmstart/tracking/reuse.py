"""Run reuse: when a finished run of a stage can stand in for training it again.

Two runs are interchangeable when their resolved config, data and code agree; a sweep over
warm-start settings then trains its base once and points the other jobs at that run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from warmstart import config as config_mod
from warmstart.modeling.multi_worker import MULTI_WORKER
from warmstart.tracking.stage_names import STAGE_TAG
from warmstart.tracking.stage_result import StageResult, stored_result
from warmstart.tracking.version_format import (
    MODEL_ID_TAG,
    REGISTERED_NAME_TAG,
    REGISTERED_VERSION_TAG,
    REUSE_KEY_TAG,
    REUSED_FROM_TAG,
    Published,
)

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the warmstart package
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
    active = mlflow.active_run()
    if active is None:
        raise RuntimeError("find_reusable needs an active run")
    experiment = mlflow.get_experiment(active.info.experiment_id)
    runs = mlflow.search_runs(
        [experiment.experiment_id],
        f"tags.`{REUSE_KEY_TAG}` = '{key}' and tags.`{STAGE_TAG}` = '{stage}' "
        "and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        output_format="list",
    )
    client = MlflowClient()
    for run in runs:
        tags = run.data.tags
        if REUSED_FROM_TAG in tags or REGISTERED_VERSION_TAG not in tags:
            continue
        with contextlib.suppress(MlflowException):
            client.get_model_version(tags[REGISTERED_NAME_TAG], tags[REGISTERED_VERSION_TAG])
            return run
    return None


def reuse_finished(cfg: Mapping, stage: str, key: str, role: str) -> StageResult | None:
    """Record `key` on the active run, then the newest finished run of `stage` with it, read
    back (`stage_result.stored_result`), tagged as reused from and announced (None: train,
    because there is none, `reuse=false`, or a multi-worker chief, whose workers are already
    training with it)."""
    mlflow.set_tag(REUSE_KEY_TAG, key)
    if not cfg.get("reuse", True) or cfg["train"].get("strategy") == MULTI_WORKER:
        return None
    previous = find_reusable(stage, key)
    if previous is None:
        return None
    published = Published.from_run_tags(previous.info.run_id, previous.data.tags)
    mlflow.set_tags(  # the run names the version it stands for, as the run it reuses does
        {
            REUSED_FROM_TAG: previous.info.run_id,
            REGISTERED_NAME_TAG: published.name,
            REGISTERED_VERSION_TAG: published.version,
            MODEL_ID_TAG: published.model_id,
        }
    )
    print(
        f"{role}: reused run {previous.info.run_id} (models:/{published.name}/"
        f"{published.version}, same config, data and code); set reuse=false to train again"
    )
    return stored_result(stage, previous.info.run_id, published, reused=True)
