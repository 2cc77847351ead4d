"""Champion and challenger: a new version takes the `champion` alias only if it has earned it.

The champion is scored on the same raw test texts through its own pyfunc (which brings its own
vocabulary and classes), so versions with different vocabularies compare fairly. MLflow's
`validate_evaluation_results` with a `MetricThreshold` decides; the decision, both scores, the
metric and the champion compared are tagged on the run and the version. A rejected version
stays registered (it is evidence) without `champion`; `current` always names the newest.

Concurrent promotions of one model (two update jobs finishing together) are made safe by
compare-and-set: the champion is scored outside any lock (seconds), then, holding the champion
lock (`champion_lock`), the champion is read again; only if it is still the one compared with
are the decision recorded and the alias moved, else the lock is released and the candidate is
judged again against the new champion. Guarantee: promotions through this module act as if
they ran one after another in the order they took the lock, so the final champion is the one
that sequential order gives, and every version's tags name the champion it really beat or lost
to. Limits: a move of the alias by other means (the UI, another tool) is not serialized; a
holder stalled longer than the lock's lease (120 s) can be overtaken.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models.evaluation.validation import ModelValidationFailedException
from mlflow.protos.databricks_pb2 import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
    ErrorCode,
)
from mlflow.tracking import MlflowClient

from warmstart.core.errors import ConfigError, TrackingError
from warmstart.core.labels import label_kind, normalize
from warmstart.tracking.champion_lock import champion_lock
from warmstart.tracking.evaluation import (
    PREFIX,
    PROMOTION_METRICS,
    Evaluation,
    quiet_mlflow,
    result_of,
    score,
    threshold,
)
from warmstart.tracking.version_format import (
    CHAMPION_ALIAS,
    PROMOTED,
    PROMOTION_CHAMPION_SCORE_TAG,
    PROMOTION_CHAMPION_VERSION_TAG,
    PROMOTION_METRIC_TAG,
    PROMOTION_REASON_TAG,
    PROMOTION_SCORE_TAG,
    PROMOTION_TAG,
    REJECTED,
    Published,
)
from warmstart.tracking.write_retry import retry_conflicts

# What MLflow answers for a model that does not exist, and for an alias it does not have.
_ABSENT = {ErrorCode.Name(RESOURCE_DOES_NOT_EXIST), ErrorCode.Name(INVALID_PARAMETER_VALUE)}
_ROUNDS = 10  # re-judgements when other promotions keep winning the race


@dataclass
class Decision:
    """Whether `version` took `champion`, and the evidence."""

    promoted: bool
    metric: str
    score: float
    champion_version: str | None
    champion_score: float | None
    reason: str

    @property
    def word(self) -> str:
        return PROMOTED if self.promoted else REJECTED

    def tags(self) -> dict[str, str]:
        tags = {
            PROMOTION_TAG: self.word,
            PROMOTION_METRIC_TAG: self.metric,
            PROMOTION_SCORE_TAG: f"{self.score:.6f}",
            PROMOTION_REASON_TAG: self.reason[:5000],
        }
        if self.champion_version is not None:
            tags[PROMOTION_CHAMPION_VERSION_TAG] = self.champion_version
            tags[PROMOTION_CHAMPION_SCORE_TAG] = f"{self.champion_score:.6f}"
        return tags

    def sentence(self) -> str:
        """The decision in plain words (version description, stage output)."""
        if self.champion_version is None:
            return f"Promoted to champion: the first version ({self.metric} {self.score:.4f})."
        verdict = "Promoted to champion" if self.promoted else "Rejected, champion unchanged"
        return (
            f"{verdict}: {self.metric} {self.score:.4f} against champion "
            f"v{self.champion_version}'s {self.champion_score:.4f} on the same test texts."
        )


def promotion_metric(registry_cfg: Mapping, classes: list) -> tuple[str, float]:
    """`registry.promotion.metric` (`auto`: accuracy, macro_f1 for multi-class) and min_delta."""
    promotion = registry_cfg.get("promotion") or {}
    metric = str(promotion.get("metric", "auto"))
    if metric == "auto":
        metric = "accuracy" if len(classes) <= 2 else "macro_f1"
    if metric not in PROMOTION_METRICS:
        raise ConfigError(
            f"registry.promotion.metric={metric!r} is unknown; use auto, "
            + " or ".join(PROMOTION_METRICS)
        )
    return metric, float(promotion.get("min_delta", 0.0))


def champion_of(name: str) -> str | None:
    """The version holding `champion`, or None when the model (or its alias) does not exist yet;
    any other failure is raised, never taken for "no champion" (which would promote)."""
    try:
        return str(MlflowClient().get_model_version_by_alias(name, CHAMPION_ALIAS).version)
    except MlflowException as exc:
        if exc.error_code in _ABSENT:
            return None
        raise


def champion_score(name: str, version: str, test: pd.DataFrame, metric: str) -> float:
    """The champion's `metric` on `test`'s raw texts, through its own pyfunc."""
    with quiet_mlflow():
        model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    predicted = model.predict(pd.DataFrame({"text": test["text"].tolist()}))["label"].tolist()
    truth = test["label"].tolist()
    kind = label_kind(truth)
    return score(metric, normalize(truth, kind), normalize(predicted, kind))


def _judge(
    published: Published,
    test: pd.DataFrame,
    candidate: Evaluation,
    champion: str | None,
    *,
    metric: str,
    min_delta: float,
) -> Decision:
    """The decision against `champion` (scored on `test`), by MLflow's threshold validation."""
    key = PREFIX + PROMOTION_METRICS[metric]
    mine = float(candidate.metrics[key])
    if champion is None or champion == published.version:
        return Decision(True, metric, mine, None, None, "first version of the model")
    theirs = champion_score(published.name, champion, test, metric)
    try:
        with quiet_mlflow():
            mlflow.validate_evaluation_results(
                {key: threshold(min_delta)}, candidate.result, result_of(metric, theirs)
            )
        return Decision(True, metric, mine, champion, theirs, "passed MLflow validation")
    except ModelValidationFailedException as exc:
        return Decision(False, metric, mine, champion, theirs, exc.message)


def decide(
    published: Published,
    test: pd.DataFrame,
    candidate: Evaluation,
    *,
    metric: str,
    min_delta: float,
) -> Decision:
    """Judge against the champion, then record and move the alias only if it has not moved."""
    champion = champion_of(published.name)
    for _ in range(_ROUNDS):
        decision = _judge(published, test, candidate, champion, metric=metric, min_delta=min_delta)
        with champion_lock(published.name, holder=f"version {published.version}"):
            now = champion_of(published.name)
            if now == champion:
                record(published, decision)
                return decision
        champion = now  # another promotion won meanwhile: judge against its version
    raise TrackingError(
        f"the champion of '{published.name}' moved {_ROUNDS} times while version "
        f"{published.version} was judged; rerun the promotion when the other jobs are done"
    )


def record(published: Published, decision: Decision) -> None:
    """Tag run and version; move `champion` if promoted."""
    client = MlflowClient()
    tags = decision.tags()
    mlflow.set_tags(tags)
    for key, value in tags.items():
        retry_conflicts(
            lambda k=key, v=value: client.set_model_version_tag(
                published.name, published.version, k, v
            )
        )
    if decision.promoted:
        retry_conflicts(
            lambda: client.set_registered_model_alias(
                published.name, CHAMPION_ALIAS, published.version
            )
        )


def describe(published: Published, decision: Decision, facts: Mapping[str, str]) -> str:
    """A plain-words version description for the registry UI, set on the version."""
    lines = [f"{key}: {value}" for key, value in facts.items() if value]
    lines.append(decision.sentence())
    text = "\n".join(lines)
    with contextlib.suppress(MlflowException):  # a description is a courtesy, never a failure
        MlflowClient().update_model_version(
            published.name, published.version, description=text[:5000]
        )
    return text
