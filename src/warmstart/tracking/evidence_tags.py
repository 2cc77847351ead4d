"""The tags of a promotion's evidence, on the judged run: the rule, both scores, the interval.

`Decision.tags` writes them beside the decision itself (`version_format.PROMOTION_TAG`); a
version keeps the same evidence in its record. Versions registered before the record carry
them as tags of their own, which `version_format.read_record` reads by their common prefix,
`warmstart.promotion.`. Standard library only.
"""

from __future__ import annotations

PROMOTION_METRIC_TAG = "warmstart.promotion.metric"
PROMOTION_SCORE_TAG = "warmstart.promotion.score"
PROMOTION_CHAMPION_SCORE_TAG = "warmstart.promotion.champion_score"
PROMOTION_CHAMPION_VERSION_TAG = "warmstart.promotion.champion_version"
PROMOTION_REASON_TAG = "warmstart.promotion.reason"
# The evidence beside the decision: the rule, the texts compared, the paired interval.
PROMOTION_RULE_TAG = "warmstart.promotion.rule"
PROMOTION_TEXTS_TAG = "warmstart.promotion.texts"
PROMOTION_DIFFERENCE_TAG = "warmstart.promotion.difference"
PROMOTION_INTERVAL_LOW_TAG = "warmstart.promotion.interval_low"
PROMOTION_INTERVAL_HIGH_TAG = "warmstart.promotion.interval_high"
PROMOTION_CONFIDENCE_TAG = "warmstart.promotion.confidence"
PROMOTION_RESAMPLES_TAG = "warmstart.promotion.resamples"
PROMOTION_SEED_TAG = "warmstart.promotion.seed"
PROMOTION_MARGIN_TAG = "warmstart.promotion.margin"  # rule non_inferior only
PROMOTION_MIN_DELTA_TAG = "warmstart.promotion.min_delta"  # rule point only
# Both models on the new-token slice (`warmstart.promotion.slice.texts`, `.slice.accuracy`).
PROMOTION_SLICE_TAG = "warmstart.promotion.slice"


def promotion_slice_tag(score: str) -> str:
    """The tag holding one score of the new-token slice (`warmstart.promotion.slice.texts`)."""
    return f"{PROMOTION_SLICE_TAG}.{score}"
