"""The MLflow run of one stage: its config and tags in, its end status out, never left RUNNING.

A run that fails is ended FAILED (KILLED on Ctrl-C/SIGTERM) with the reason in a tag, so the
UI never shows a dead stage as running; no secret reaches its params or tags. A top-level run or
a sweep job is named for what sets it apart, its stage and the overrides the user gave
(`pipeline initializer=zeros seed=2`), since every one of them would otherwise read `pipeline`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import mlflow
from mlflow.entities import RunStatus
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig

from warmstart import config as config_mod
from warmstart.tracking.stage_names import STAGE_TAG
from warmstart.tracking.version_format import (
    ERROR_TAG,
    OVERRIDES_TAG,
    SWEEP_JOB_TAG,
    SWEEP_OVERRIDES_TAG,
)
from warmstart.tracking.write_retry import retry

# Set by the sweep callback: each multirun job's top-level run becomes a child of this run.
PARENT_ENV = "WARMSTART_PARENT_RUN_ID"
_TAG_CHARS = 5000  # what a long tag (overrides, an error) keeps
NAME_CHARS = 60  # a run name the runs list shows without cutting
# Overrides that say where a run writes or how Hydra runs it, not what the run is.
_UNNAMED = ("hydra.", "hydra/", "paths.", "tracking.", "registry.", "description")


def _shown_overrides(overrides: Sequence[str]) -> list[tuple[str, str]]:
    """(short key, value) of each override that says what the run is, secrets redacted.

    A key or group is shortened to its last part (`warmstart/initializer` -> `initializer`,
    `warmstart.initializer.neighbours` -> `neighbours`) unless two overrides would then read
    alike.
    """
    pairs = []
    for item in overrides:
        key, sep, value = item.partition("=")
        key = key.lstrip("+~")
        if not sep or item.startswith("-") or key.startswith(_UNNAMED):
            continue
        pairs.append((key, str(config_mod.redact(key, value))))
    short = [key.replace("/", ".").rsplit(".", 1)[-1] for key, _ in pairs]
    return [
        (name if short.count(name) == 1 else key, value)
        for name, (key, value) in zip(short, pairs, strict=True)
    ]


def fit_name(name: str, limit: int = NAME_CHARS) -> str:
    """`name` cut to `limit` characters, with an ellipsis where it was cut."""
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def run_label(stage: str, overrides: Sequence[str]) -> str:
    """The stage and the overrides the user gave, short keys, at most `NAME_CHARS` characters:
    `pipeline initializer=zeros seed=2`, or just `pipeline` without overrides."""
    words = [f"{key}={value}" for key, value in _shown_overrides(overrides)]
    return fit_name(" ".join([stage, *words]))


class StageInterrupted(BaseException):
    """Raised by the SIGTERM handler so the active run ends KILLED, like Ctrl-C."""


def _log_params(params: Mapping[str, Any]) -> None:
    """Log the flattened config; an unset value shows as empty, not as "None".

    MLflow splits the call into batches of 100 and its store truncates values over 6000
    characters (MLFLOW_TRUNCATE_LONG_VALUES).
    """
    mlflow.log_params({k: "" if v is None else v for k, v in params.items()})


@contextlib.contextmanager
def stage_run(
    cfg: DictConfig,
    stage: str,
    *,
    overrides: Sequence[str] = (),
    parent_run_id: str | None = None,
    run_name: str | None = None,
    extra_tags: Mapping[str, str] | None = None,
) -> Iterator[mlflow.ActiveRun]:
    """A run for one stage with its config (validated), overrides and stage tag; ended FAILED
    on error.

    Outside any parent, the first run resumes the run `mlflow run` created (MLFLOW_RUN_ID);
    in a multirun job, the run is a child of the sweep parent (`PARENT_ENV`). Without
    `run_name`, a run outside a parent is named by `run_label` (a sweep job too).
    """
    if run_name is None and parent_run_id is None:
        run_name = run_label(stage, overrides)
    if parent_run_id is None and os.environ.get(PARENT_ENV):
        parent_run_id = os.environ[PARENT_ENV]
        job = config_mod.multirun_job()
        if job is not None:
            number, job_overrides = job
            job_tags = {SWEEP_JOB_TAG: str(number), SWEEP_OVERRIDES_TAG: job_overrides}
            extra_tags = {**job_tags, **(extra_tags or {})}
    tags = {
        STAGE_TAG: stage,
        OVERRIDES_TAG: config_mod.redact_overrides(overrides)[:_TAG_CHARS],
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
        config_mod.validate(cfg)  # after logging: a FAILED run shows the values it refused
        yield run
    except (KeyboardInterrupt, StageInterrupted) as exc:
        log_stage_failure(exc)
        _end(run, RunStatus.to_string(RunStatus.KILLED))
        raise
    except BaseException as exc:
        log_stage_failure(exc)
        _end(run, RunStatus.to_string(RunStatus.FAILED))
        raise
    else:
        _end(run, RunStatus.to_string(RunStatus.FINISHED))


def _end(run: mlflow.ActiveRun, status: str) -> None:
    """End `run` with `status`, retrying briefly: a run must not stay RUNNING."""

    def end() -> None:
        active = mlflow.active_run()
        if active is not None and active.info.run_id == run.info.run_id:
            mlflow.end_run(status)
        else:
            MlflowClient().set_terminated(run.info.run_id, status)

    # The store may be restarting: try again, then give up quietly.
    with contextlib.suppress(Exception):
        retry(end, retryable=lambda _: True, attempts=3, wait=lambda attempt: 1 + attempt)


def log_stage_failure(exc: BaseException) -> None:
    """Record why the active run failed (one line), if a run is active."""
    if mlflow.active_run() is not None:
        with contextlib.suppress(Exception):
            message = config_mod.redact("error", f"{type(exc).__name__}: {exc}")
            mlflow.set_tag(ERROR_TAG, message[:_TAG_CHARS])
