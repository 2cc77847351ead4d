"""Champion and challenger: a new version takes the `champion` alias only if it has earned it.

The champion is scored on the same raw test texts through its own pyfunc (which brings its own
vocabulary and classes), so versions with different vocabularies compare fairly. A seeded
paired bootstrap (`core.paired_test`) over those texts gives an interval of the difference
candidate - champion, and `registry.promotion.rule` decides (`tracking.decision`: the rules,
and the `Decision` record with its evidence).

The decision and its evidence (rule, both scores, interval, texts, the new-token slice) are
tagged on the run; the version shows the decision, the verdict and any warning as tags and
keeps the evidence in its record (`promotion_record`). A rejected version stays
registered (it is evidence) without `champion`; `current` always names the newest. A version
that learned nothing is rejected whatever the comparison says (it is still compared with a
champion, as evidence), even as a model's first version (which then has no champion).

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

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
    ErrorCode,
)
from mlflow.tracking import MlflowClient

from warmstart.core.errors import ConfigError, TrackingError
from warmstart.core.labels import label_kind, normalize
from warmstart.core.paired_test import paired_bootstrap
from warmstart.data.acl_layout import legacy_labels_renamed
from warmstart.tracking.aliases import CHAMPION_ALIAS
from warmstart.tracking.champion_lock import champion_lock
from warmstart.tracking.decision import Decision, Rule, SliceScores, passes
from warmstart.tracking.evaluation import PREFIX, PROMOTION_METRICS, Evaluation, quiet_mlflow, score
from warmstart.tracking.promotion_record import record
from warmstart.tracking.version_format import Published

# What MLflow answers for a model that does not exist, and for an alias it does not have.
_ABSENT = {ErrorCode.Name(RESOURCE_DOES_NOT_EXIST), ErrorCode.Name(INVALID_PARAMETER_VALUE)}
_ROUNDS = 10  # re-judgements when other promotions keep winning the race
# How far the candidate's score from its predicted labels may be from the logged one.
_SAME_SCORE = 1e-9


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


def champion_predictions(name: str, version: str, test: pd.DataFrame) -> list:
    """The champion's predicted labels for `test`'s raw texts, through its own pyfunc."""
    with quiet_mlflow():
        model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    return model.predict(pd.DataFrame({"text": test["text"].tolist()}))["label"].tolist()


def in_test_names(theirs: list, test: pd.DataFrame) -> list:
    """A champion registered before the aclImdb layout's labels were words answers 0/1 where
    the test texts say negative/positive: name its answers as the warm start names its classes
    (`legacy_labels_renamed`), so it is judged on what it predicts, not on how it spells it."""
    answers = sorted({str(v) for v in theirs})
    if not set(answers) <= {"0", "1"}:
        return theirs
    names = dict(
        zip(["0", "1"], legacy_labels_renamed([0, 1], sorted(set(test["label"]))), strict=True)
    )
    return [names[str(v)] for v in theirs]


def _same_kind(*columns: Sequence) -> list[list]:
    """The columns' labels in one form (ints if every label is whole, else str), comparable."""
    kind = label_kind(v for column in columns for v in column)
    return [normalize(column, kind) for column in columns]


def _slice(mask: np.ndarray, truth: list, mine: list, theirs: list) -> SliceScores:
    """Both models' accuracy and macro-F1 on the texts `mask` selects."""
    where = np.flatnonzero(mask)
    if where.size == 0:
        return SliceScores(0, None, None, None, None)
    t, a, b = ([column[i] for i in where] for column in (truth, mine, theirs))
    return SliceScores(
        texts=int(where.size),
        accuracy=score("accuracy", t, a),
        macro_f1=score("macro_f1", t, a),
        champion_accuracy=score("accuracy", t, b),
        champion_macro_f1=score("macro_f1", t, b),
    )


def _judge(
    published: Published,
    test: pd.DataFrame,
    predicted: list,
    mine: float,
    champion: str | None,
    *,
    metric: str,
    rule: Rule,
    mask: np.ndarray | None,
    learned_nothing: str | None,
) -> Decision:
    """The decision against `champion`, both scored on `test` (paired, by `rule`); a model
    that learned nothing is compared (evidence) but rejected whatever the rule says."""
    texts = len(test)
    nothing = f"learned nothing: {learned_nothing}" if learned_nothing else None
    if champion is None or champion == published.version:
        if nothing:
            return Decision(False, metric, mine, None, None, nothing, rule, texts, learned=False)
        return Decision(True, metric, mine, None, None, "first version of the model", rule, texts)
    theirs = in_test_names(champion_predictions(published.name, champion, test), test)
    truth, predicted, theirs = _same_kind(test["label"].tolist(), predicted, theirs)
    interval = paired_bootstrap(
        truth,
        predicted,
        theirs,
        metric=metric,
        confidence=rule.confidence,
        resamples=rule.resamples,
        seed=rule.seed,
    )
    promoted, reason = (False, nothing) if nothing else passes(rule, interval)
    found = None if mask is None else _slice(mask, truth, predicted, theirs)
    return Decision(
        promoted,
        metric,
        mine,
        champion,
        interval.champion,
        reason,
        rule,
        texts,
        interval,
        found,
        learned=nothing is None,
    )


def _checked_mask(mask: np.ndarray | None, texts: int) -> np.ndarray | None:
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != np.bool_ or mask.shape != (texts,):
        raise ValueError(
            f"new_token_mask has dtype {mask.dtype} and shape {mask.shape}; pass one bool per "
            f"test text ({texts})"
        )
    return mask


def _own_score(test: pd.DataFrame, predicted: list, candidate: Evaluation, metric: str) -> float:
    """The candidate's logged score, checked against its predicted labels: the interval must
    be about the predictions that were evaluated."""
    if len(predicted) != len(test):
        raise ValueError(
            f"{len(predicted)} predicted labels for {len(test)} test texts; pass the candidate's "
            "`label` column for the test texts, in their order"
        )
    logged = float(candidate.metrics[PREFIX + PROMOTION_METRICS[metric]])
    truth, labels = _same_kind(test["label"].tolist(), predicted)
    own = score(metric, truth, labels)
    if not math.isclose(own, logged, rel_tol=0.0, abs_tol=_SAME_SCORE):
        raise ValueError(
            f"the predicted labels score {metric} {own:.6f} but the evaluation logged "
            f"{logged:.6f}; pass the `label` column of the predictions that were evaluated"
        )
    return logged


def decide(
    published: Published,
    test: pd.DataFrame,
    candidate: Evaluation,
    *,
    predicted: Sequence,
    metric: str,
    rule: Rule | Mapping[str, Any] | None = None,
    min_delta: float | None = None,
    learned_nothing: str | None = None,
    new_token_mask: np.ndarray | None = None,
    test_rows: int | None = None,
) -> Decision:
    """Judge against the champion, then record and move the alias only if it has not moved.

    `predicted` is the candidate's `label` column for `test` (same order); `rule` a `Rule` or
    the `registry.promotion` mapping; `min_delta`, when given, replaces the rule's (as
    `promotion_metric` returns it); `learned_nothing` the verdict's reason when training
    learned nothing (then rejected, even as the first version, though still compared with a
    champion as evidence); `new_token_mask` marks the test texts holding a token the
    candidate's vocabulary added over the champion's (both scored on them apart);
    `test_rows` the whole test split's size when `test` is a sample of it (a streamed table).
    """
    rule = rule if isinstance(rule, Rule) else Rule.of(rule)
    if min_delta is not None:
        rule = replace(rule, min_delta=float(min_delta))
    predicted = list(predicted)
    mine = _own_score(test, predicted, candidate, metric)
    mask = _checked_mask(new_token_mask, len(test))
    champion = champion_of(published.name)
    for _ in range(_ROUNDS):
        decision = _judge(
            published,
            test,
            predicted,
            mine,
            champion,
            metric=metric,
            rule=rule,
            mask=mask,
            learned_nothing=learned_nothing,
        )
        if test_rows is not None:
            decision = replace(decision, test_rows=int(test_rows))
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
