"""A promotion's verdict and its evidence: the rule it was judged by, and the record it leaves.

`registry.promotion.rule` decides on the paired interval of the difference candidate -
champion: `non_inferior` (the interval's lower bound above -margin: not worse, with that
confidence; a tie passes), `superior` (lower bound above 0) or `point` (candidate >= champion +
min_delta, by MLflow's `validate_evaluation_results`, the interval reported beside it). A
point comparison alone promotes noise: on a few thousand texts two equal models differ by a
point either way. The `Decision` carries the evidence (rule, both scores, interval, texts, the
new-token slice) as run tags, as a plain sentence and as a JSON-ready dict (a version keeps
that dict in its record, with only the decision word as a tag); judging against the
champion and recording the decision is `tracking.promotion`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import mlflow
from mlflow.models.evaluation.validation import ModelValidationFailedException

from warmstart.config.choices import PromotionRule
from warmstart.core.errors import ConfigError
from warmstart.core.paired_test import PairedInterval
from warmstart.tracking.evaluation import (
    PREFIX,
    PROMOTION_METRICS,
    quiet_mlflow,
    result_of,
    threshold,
)
from warmstart.tracking.evidence_tags import (
    PROMOTION_CHAMPION_SCORE_TAG,
    PROMOTION_CHAMPION_VERSION_TAG,
    PROMOTION_CONFIDENCE_TAG,
    PROMOTION_DIFFERENCE_TAG,
    PROMOTION_INTERVAL_HIGH_TAG,
    PROMOTION_INTERVAL_LOW_TAG,
    PROMOTION_MARGIN_TAG,
    PROMOTION_METRIC_TAG,
    PROMOTION_MIN_DELTA_TAG,
    PROMOTION_REASON_TAG,
    PROMOTION_RESAMPLES_TAG,
    PROMOTION_RULE_TAG,
    PROMOTION_SCORE_TAG,
    PROMOTION_SEED_TAG,
    PROMOTION_TEXTS_TAG,
    promotion_slice_tag,
)
from warmstart.tracking.version_format import PROMOTED, PROMOTION_TAG, REJECTED

RULES = tuple(str(rule) for rule in PromotionRule)


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
    test_rows: int | None = None  # the whole test split, when `texts` is a sample of it

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
            PROMOTION_TEXTS_TAG: str(self.texts),
        }
        if self.champion_version is not None:
            tags[PROMOTION_CHAMPION_VERSION_TAG] = self.champion_version
            tags[PROMOTION_CHAMPION_SCORE_TAG] = f"{self.champion_score:.6f}"
        if self.interval is not None:
            interval = self.interval
            tags.update(
                {
                    PROMOTION_DIFFERENCE_TAG: f"{interval.difference:.6f}",
                    PROMOTION_INTERVAL_LOW_TAG: f"{interval.low:.6f}",
                    PROMOTION_INTERVAL_HIGH_TAG: f"{interval.high:.6f}",
                    PROMOTION_CONFIDENCE_TAG: f"{interval.confidence:g}",
                    PROMOTION_RESAMPLES_TAG: str(interval.resamples),
                    PROMOTION_SEED_TAG: str(interval.seed),
                }
            )
            if self.rule.name == "non_inferior":
                tags[PROMOTION_MARGIN_TAG] = f"{self.rule.margin:g}"
            if self.rule.name == "point":
                tags[PROMOTION_MIN_DELTA_TAG] = f"{self.rule.min_delta:g}"
        if self.slice is not None:
            for field in fields(self.slice):
                value = getattr(self.slice, field.name)
                if value is not None:
                    text = str(value) if field.name == "texts" else f"{value:.6f}"
                    tags[promotion_slice_tag(field.name)] = text
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
            "test_rows": self.test_rows,
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

    def evidence(self) -> dict[str, Any]:
        """What a version's record keeps of the decision: all but the sentence (which is in
        the version's description)."""
        return {k: v for k, v in self.to_dict().items() if k != "sentence"}

    def _texts(self) -> str:
        if self.test_rows is None or self.test_rows == self.texts:
            return f"{self.texts:,} test texts"
        return f"a sample of {self.texts:,} of {self.test_rows:,} test texts"

    def sentence(self) -> str:
        """The decision in plain words (version description, stage output)."""
        if self.interval is None:
            if self.promoted:
                return (
                    f"Promoted to champion: the first version ({self.metric} {self.score:.4f} "
                    f"on {self._texts()})."
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
            f"v{self.champion_version}'s {self.champion_score:.4f} on {self._texts()}; "
            f"difference {interval.difference:+.4f}, {test}."
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
