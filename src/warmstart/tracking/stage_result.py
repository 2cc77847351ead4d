"""What a stage run hands back: one type for every stage, so the entry points that chain stages
(`pipeline`, `update`) and `compare` read what the process already holds instead of asking the
tracking server for what it has just been sent.

Only a run this process did not train (a reused run, or a run `compare` is pointed at) is read
back, once, by `stored_result`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
from mlflow.tracking import MlflowClient

from warmstart.tracking.decision import Decision
from warmstart.tracking.evaluation import Evaluation
from warmstart.tracking.version_format import (
    LEARNED_NOTHING,
    PROMOTED,
    PROMOTION_TAG,
    REJECTED,
    SOURCE_VERSION_TAG,
    VERDICT_TAG,
    Published,
)

EPOCH_SECONDS = "epoch_seconds"  # the per-epoch wall time, beside each Keras metric's curve


@dataclass
class UpdateStep:
    """One update's outcome: a row of the `update` job's table."""

    step: int
    generation: int | None
    window: str | None  # data=files: the step's newest time window's period
    since: str | None  # data=files: the rows trained on (data.since/data.until as used)
    until: str | None
    version: str
    source: str
    warm_from: str  # where the warm start came from (stages.update's FROM_*)
    promoted: bool
    learned: bool  # the warm run's verdict (a run without the tag counts as learned)
    cold_learned: bool | None
    warm_test_accuracy: float
    cold_test_accuracy: float | None
    warm_seconds: float
    cold_seconds: float | None
    warm_seconds_to_cold_final: float | None
    # Only for a promoted warm model that learned, against a cold one that learned: anything
    # else saved no time worth the name.
    seconds_saved: float | None


@dataclass(frozen=True, eq=False)
class StageResult:
    """One stage run.

    `curves` holds each per-epoch metric (`val_accuracy`, `accuracy`, `epoch_seconds`, ...,
    epoch 0 first) and `scores` the final ones (`test_accuracy`, `test_macro_f1`,
    `test_accuracy_score`, `baseline_test_macro_f1`, ...), as logged. `learned` is the verdict
    of a stage that trains, `promoted` the champion gate's outcome for one that registers (the
    `decision` and `evaluation` carry the evidence when this process made them). `parts` are
    the child stages of `pipeline` and `update`, `steps` the rows of `update`'s table, `table`
    `compare`'s summary.
    """

    stage: str
    run_id: str  # a reused run's: the earlier run it stands for, which holds the curves
    published: Published | None = None
    curves: Mapping[str, Sequence[float]] = field(default_factory=dict)
    scores: Mapping[str, float] = field(default_factory=dict)
    learned: bool | None = None
    promoted: bool | None = None
    source_version: str | None = None  # warm_start: the version it continued from
    evaluation: Evaluation | None = None
    decision: Decision | None = None
    reused: bool = False
    parts: Mapping[str, StageResult] = field(default_factory=dict)
    steps: tuple[UpdateStep, ...] = ()
    table: pd.DataFrame | None = None

    @property
    def decision_word(self) -> str | None:
        """The champion gate's outcome as its tag says it (`promoted`, `rejected`; None: not
        judged)."""
        return None if self.promoted is None else (PROMOTED if self.promoted else REJECTED)

    @property
    def run_ids(self) -> dict[str, str]:
        """This run's id under its stage's name, and each part's under its role."""
        return {self.stage: self.run_id, **{k: v.run_id for k, v in self.parts.items()}}

    @property
    def seconds(self) -> float:
        """Training wall time: the sum of its epochs."""
        return float(sum(self.curves.get(EPOCH_SECONDS, ())))


def history(run_id: str, key: str) -> list[float]:
    """A metric's values ordered by step (epoch), as the tracking server holds them."""
    points = MlflowClient().get_metric_history(run_id, key)
    return [p.value for p in sorted(points, key=lambda p: (p.step, p.timestamp))]


def stored_result(
    stage: str,
    run_id: str,
    published: Published | None = None,
    *,
    curves: Sequence[str] = ("val_accuracy", "accuracy", EPOCH_SECONDS),
    reused: bool = False,
) -> StageResult:
    """A finished run this process did not train, read back from the tracking server: its
    final metrics and tags, and the per-epoch `curves` named."""
    run = MlflowClient().get_run(run_id)
    tags = run.data.tags
    promotion = tags.get(PROMOTION_TAG)
    return StageResult(
        stage=stage,
        run_id=run_id,
        published=published,
        curves={key: history(run_id, key) for key in curves},
        scores=dict(run.data.metrics),
        learned=tags.get(VERDICT_TAG) != LEARNED_NOTHING if VERDICT_TAG in tags else True,
        promoted=None if promotion is None else promotion == PROMOTED,
        source_version=tags.get(SOURCE_VERSION_TAG),
        reused=reused,
    )
