"""Champion and challenger: a new version takes the `champion` alias only if it has earned it.

The champion is scored on the same raw test texts through its own pyfunc (which brings its own
vocabulary and classes), so versions with different vocabularies compare fairly. A seeded
paired bootstrap (`core.paired_test`) over those texts gives an interval of the difference
candidate - champion, and `registry.promotion.rule` decides: `non_inferior` (the interval's
lower bound above -margin: not worse, with that confidence; a tie passes), `superior` (lower
bound above 0) or `point` (candidate >= champion + min_delta, by MLflow's
`validate_evaluation_results`, the interval reported beside it). A point comparison alone
promotes noise: on a few thousand texts two equal models differ by a point either way.

The decision and its evidence (rule, both scores, interval, texts, the new-token slice) are
tagged on the run and the version. A rejected version stays registered (it is evidence)
without `champion`; `current` always names the newest. A version that learned nothing is
rejected whatever the comparison says (it is still compared with a champion, as evidence),
even as a model's first version (which then has no champion).

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
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import mlflow
import numpy as np
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
from warmstart.core.paired_test import PairedInterval, paired_bootstrap
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
RULES = ("non_inferior", "superior", "point")
# The evidence beside the decision: `warmstart.promotion.rule`, `.interval_low`, ...
PROMOTION_RULE_TAG = f"{PROMOTION_TAG}.rule"
PROMOTION_SLICE_TAG = f"{PROMOTION_TAG}.slice"  # `.slice.texts`, `.slice.accuracy`, ...
# How far the candidate's score from its predicted labels may be from the logged one.
_SAME_SCORE = 1e-9


@dataclass(frozen=True)
class Rule:
    """`registry.promotion` without the metric: when a candidate earns `champion`."""

    name: str = "non_inferior"
    confidence: float = 0.95
    margin: float = 0.01
    min_delta: float = 0.0
    resamples: int = 1000
    seed: int = 0  # the promotion's own: the same predictions always get the same verdict

    @classmethod
    def of(cls, promotion: Mapping[str, Any] | None) -> Rule:
        """The rule of a `registry.promotion` mapping (missing keys take the defaults)."""
        promotion = promotion or {}
        default = cls()
        rule = cls(
            name=str(promotion.get("rule", default.name)),
            confidence=float(promotion.get("confidence", default.confidence)),
            margin=float(promotion.get("margin", default.margin)),
            min_delta=float(promotion.get("min_delta", default.min_delta)),
            resamples=int(promotion.get("resamples", default.resamples)),
            seed=int(promotion.get("seed", default.seed)),
        )
        if rule.name not in RULES:
            raise ConfigError(
                f"registry.promotion.rule={rule.name!r} is unknown; use " + ", ".join(RULES)
            )
        return rule

    @property
    def words(self) -> str:
        return self.name.replace("_", "-")


@dataclass(frozen=True)
class SliceScores:
    """Both models on the test texts holding a token the candidate's vocabulary added."""

    texts: int
    accuracy: float | None  # None: no text in the slice
    macro_f1: float | None
    champion_accuracy: float | None
    champion_macro_f1: float | None

    def of(self, metric: str) -> tuple[float | None, float | None]:
        """(candidate, champion) by `metric`."""
        if metric == "accuracy":
            return self.accuracy, self.champion_accuracy
        return self.macro_f1, self.champion_macro_f1


@dataclass
class Decision:
    """Whether `version` took `champion`, and the evidence."""

    promoted: bool
    metric: str
    score: float
    champion_version: str | None
    champion_score: float | None
    reason: str
    rule: Rule
    texts: int
    interval: PairedInterval | None = None  # None: nothing compared (no champion)
    slice: SliceScores | None = None
    learned: bool = True  # False: rejected whatever the comparison says (`reason` says why)

    @property
    def word(self) -> str:
        return PROMOTED if self.promoted else REJECTED

    def tags(self) -> dict[str, str]:
        tags = {
            PROMOTION_TAG: self.word,
            PROMOTION_RULE_TAG: self.rule.name,
            PROMOTION_METRIC_TAG: self.metric,
            PROMOTION_SCORE_TAG: f"{self.score:.6f}",
            PROMOTION_REASON_TAG: self.reason[:5000],
            f"{PROMOTION_TAG}.texts": str(self.texts),
        }
        if self.champion_version is not None:
            tags[PROMOTION_CHAMPION_VERSION_TAG] = self.champion_version
            tags[PROMOTION_CHAMPION_SCORE_TAG] = f"{self.champion_score:.6f}"
        if self.interval is not None:
            interval = self.interval
            tags.update(
                {
                    f"{PROMOTION_TAG}.difference": f"{interval.difference:.6f}",
                    f"{PROMOTION_TAG}.interval_low": f"{interval.low:.6f}",
                    f"{PROMOTION_TAG}.interval_high": f"{interval.high:.6f}",
                    f"{PROMOTION_TAG}.confidence": f"{interval.confidence:g}",
                    f"{PROMOTION_TAG}.resamples": str(interval.resamples),
                    f"{PROMOTION_TAG}.seed": str(interval.seed),
                }
            )
            if self.rule.name == "non_inferior":
                tags[f"{PROMOTION_TAG}.margin"] = f"{self.rule.margin:g}"
            if self.rule.name == "point":
                tags[f"{PROMOTION_TAG}.min_delta"] = f"{self.rule.min_delta:g}"
        if self.slice is not None:
            for field in fields(self.slice):
                value = getattr(self.slice, field.name)
                if value is not None:
                    text = str(value) if field.name == "texts" else f"{value:.6f}"
                    tags[f"{PROMOTION_SLICE_TAG}.{field.name}"] = text
        return tags

    def to_dict(self) -> dict[str, Any]:
        """Plain values (str, float, int, bool, None) for a JSON artifact."""
        interval = self.interval
        return {
            "decision": self.word,
            "promoted": self.promoted,
            "learned": self.learned,
            "rule": self.rule.name,
            "metric": self.metric,
            "score": float(self.score),
            "champion_version": self.champion_version,
            "champion_score": None if self.champion_score is None else float(self.champion_score),
            "texts": int(self.texts),
            "difference": None if interval is None else interval.difference,
            "interval_low": None if interval is None else interval.low,
            "interval_high": None if interval is None else interval.high,
            "confidence": self.rule.confidence,
            "margin": self.rule.margin,
            "min_delta": self.rule.min_delta,
            "resamples": self.rule.resamples,
            "seed": self.rule.seed,
            "slice": None if self.slice is None else dict(vars(self.slice)),
            "reason": self.reason,
            "sentence": self.sentence(),
        }

    def sentence(self) -> str:
        """The decision in plain words (version description, stage output)."""
        if self.interval is None:
            if self.promoted:
                return (
                    f"Promoted to champion: the first version ({self.metric} {self.score:.4f} "
                    f"on {self.texts:,} test texts)."
                )
            return f"Rejected ({self.metric} {self.score:.4f}): {self.reason.rstrip('.')}."
        interval = self.interval
        verdict = "Promoted to champion" if self.promoted else "Rejected, champion unchanged"
        verdict += f" ({self.rule.words if self.learned else self.reason.rstrip('.')})"
        bounds = (
            f"{interval.confidence * 100:g}% interval [{interval.low:+.4f}, {interval.high:+.4f}]"
        )
        if not self.learned:
            test = bounds  # the rule was not asked
        elif self.rule.name == "point":
            word = "at least" if self.promoted else "below"
            test = f"{word} min_delta {self.rule.min_delta:g} ({bounds})"
        else:
            floor = -self.rule.margin if self.rule.name == "non_inferior" else 0.0
            test = f"{bounds} {'above' if self.promoted else 'not above'} {floor + 0.0:g}"
        text = (
            f"{verdict}: {self.metric} {self.score:.4f} against champion "
            f"v{self.champion_version}'s {self.champion_score:.4f} on {self.texts:,} test "
            f"texts; difference {interval.difference:+.4f}, {test}."
        )
        if self.slice is not None:
            mine, theirs = self.slice.of(self.metric)
            if mine is None or theirs is None:
                text += " New-token slice: no test text has a new token."
            else:
                text += (
                    f" New-token slice ({self.slice.texts:,} texts): {mine:.4f} vs {theirs:.4f}."
                )
        return text


def passes(rule: Rule, interval: PairedInterval) -> tuple[bool, str]:
    """Whether `interval` (candidate - champion) earns promotion under `rule`, and why."""
    low = f"lower bound {interval.low:+.6f}"
    if rule.name == "non_inferior":
        ok = interval.low > -rule.margin
        return ok, f"{low} {'>' if ok else '<='} -margin {-rule.margin:g}: " + (
            "not worse than the champion" if ok else "may be worse than the champion"
        )
    if rule.name == "superior":
        ok = interval.low > 0
        return ok, f"{low} {'>' if ok else '<='} 0: " + (
            "better than the champion" if ok else "not shown better than the champion"
        )
    if rule.name != "point":
        raise ConfigError(f"registry.promotion.rule={rule.name!r} is unknown; use {RULES}")
    key = PREFIX + PROMOTION_METRICS[interval.metric]
    try:
        with quiet_mlflow():
            mlflow.validate_evaluation_results(
                {key: threshold(rule.min_delta)},
                result_of(interval.metric, interval.candidate),
                result_of(interval.metric, interval.champion),
            )
        return True, "passed MLflow validation"
    except ModelValidationFailedException as exc:
        return False, exc.message


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
    theirs = champion_predictions(published.name, champion, test)
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
) -> Decision:
    """Judge against the champion, then record and move the alias only if it has not moved.

    `predicted` is the candidate's `label` column for `test` (same order); `rule` a `Rule` or
    the `registry.promotion` mapping; `min_delta`, when given, replaces the rule's (as
    `promotion_metric` returns it); `learned_nothing` the verdict's reason when training
    learned nothing (then rejected, even as the first version, though still compared with a
    champion as evidence); `new_token_mask` marks the test texts holding a token the
    candidate's vocabulary added over the champion's (both scored on them apart).
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
