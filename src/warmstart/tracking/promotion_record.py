"""A promotion decision, written down: on the judged run, on the version, in the registry UI.

The run gets the decision and its evidence as tags (`Decision.tags`); the version gets the
few a person reads (decision, verdict, any warning) and keeps the evidence in its record
(`version_format.RECORD_TAG`); a promoted version takes `champion`. `promotion.decide` calls
`record` while holding the champion lock, once it has seen the champion unmoved.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Mapping

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from warmstart.tracking.aliases import CHAMPION_ALIAS
from warmstart.tracking.decision import Decision
from warmstart.tracking.version_format import (
    LEARNED,
    LEARNED_NOTHING,
    PROMOTION_TAG,
    RECORD_TAG,
    VERDICT_TAG,
    WARNING_TAG,
    Published,
    read_record,
)
from warmstart.tracking.write_retry import retry_conflicts


def record(published: Published, decision: Decision) -> None:
    """Tag run and version; move `champion` if promoted.

    The version's record is read, given the evidence and written back: only this version's
    own job writes it, under the champion lock.
    """
    client = MlflowClient()
    mlflow.set_tags(decision.tags())
    run_tags = client.get_run(published.run_id).data.tags
    version = client.get_model_version(published.name, published.version)
    verdict = LEARNED if decision.learned else LEARNED_NOTHING
    tags = {
        PROMOTION_TAG: decision.word,
        VERDICT_TAG: run_tags.get(VERDICT_TAG) or verdict,
        RECORD_TAG: read_record(version.tags).with_promotion(decision.evidence()).to_json(),
    }
    warning = run_tags.get(WARNING_TAG) or (None if decision.learned else decision.reason)
    if warning:
        tags[WARNING_TAG] = warning[:5000]
    for key, value in tags.items():
        retry_conflicts(
            functools.partial(
                client.set_model_version_tag, published.name, published.version, key, value
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
