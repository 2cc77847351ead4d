"""The headline a parent run (pipeline, update, sweep) carries where MLflow's UI opens it.

A user opening a parent run should not dig through children and artifacts: its metrics hold
the few numbers that answer "did warm start pay?" rounded to 4 digits, its tags the champion
version and the promotion decision, and its description (`mlflow.note.content`, the first thing
the run page shows, rendered as markdown) says the same in one plain sentence with the picture
inline: MLflow 3.17's run overview shows no artifact, but its markdown keeps images.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
import urllib.parse
from collections.abc import Mapping

from mlflow.entities import Metric
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from warmstart.tracking.promotion import champion_of
from warmstart.tracking.version_format import PROMOTION_TAG

DIGITS = 4
NOTE_TAG = "mlflow.note.content"
CHAMPION_TAG = "warmstart.champion_version"  # the champion after the run (a version number)
DECISION_TAG = PROMOTION_TAG  # promoted | rejected, as on the warm run itself
# The runs list shows no metric column until a user picks one (MLflow 3.17's default columns are
# Source, Models and Dataset); a shared view, an experiment tag the UI's "Share" writes and a
# link's `viewStateShareKey` opens, picks the headline's.
VIEW = "warmstart-headline"
VIEW_TAG = f"mlflow.sharedViewState.{VIEW}"
COLUMNS = (
    "warm_epoch1_val_accuracy",
    "cold_epoch1_val_accuracy",
    "epoch1_gap",
    "warm_final_val_accuracy",
    "cold_final_val_accuracy",
    "epochs_saved",
    "seconds_saved",
    "sweep_mean_epoch1_gap",
)


def view_state() -> str:
    """The shared view's state: the headline metrics and tags as runs-list columns."""
    columns = [f"metrics.`{key}`" for key in COLUMNS]
    columns += [f"tags.`{key}`" for key in (CHAMPION_TAG, DECISION_TAG)]
    return json.dumps({"selectedColumns": ["attributes.`Source`", *columns]})


def ensure_view(experiment_id: str, tags: Mapping[str, str]) -> None:
    """Write the shared view on the experiment unless it holds this one already."""
    if tags.get(VIEW_TAG) != view_state():
        MlflowClient().set_experiment_tag(experiment_id, VIEW_TAG, view_state())


def rounded(values: Mapping[str, float]) -> dict[str, float]:
    """Finite values rounded to `DIGITS` digits; NaN and infinities left out."""
    return {k: round(float(v), DIGITS) for k, v in values.items() if math.isfinite(float(v))}


def picture(run_id: str, path: str, caption: str) -> str:
    """Markdown showing artifact `path` of `run_id` inline, through the server's artifact route
    (relative, so it works behind `mlflow ui` and `mlflow server` alike)."""
    query = urllib.parse.urlencode({"path": path, "run_uuid": run_id})
    return f"![{caption}](get-artifact?{query})"


def note(sentence: str, *, user: str | None = None, image: str | None = None) -> str:
    """The description: the user's own (`description=`) first, then the headline sentence and
    the picture."""
    return "\n\n".join(part for part in (user, sentence, image) if part)


def write(
    run_id: str,
    *,
    metrics: Mapping[str, float],
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
) -> None:
    """Log the headline on `run_id`: metrics rounded, tags, and the description if given."""
    client = MlflowClient()
    values = rounded(metrics)
    if values:
        now = int(time.time() * 1000)
        client.log_batch(run_id, metrics=[Metric(k, v, now, 0) for k, v in values.items()])
    all_tags = {**(tags or {}), **({NOTE_TAG: description[:5000]} if description else {})}
    for key, value in all_tags.items():
        client.set_tag(run_id, key, value)


def champion_tags(model_name: str, decision: str | None) -> dict[str, str]:
    """The champion version now, and the decision on the run's warm version, as tags."""
    tags = {DECISION_TAG: decision} if decision else {}
    with contextlib.suppress(MlflowException):
        champion = champion_of(model_name)
        if champion is not None:
            tags[CHAMPION_TAG] = champion
    return tags


def warm_sentence(
    values: Mapping[str, float],
    *,
    warm: str,
    source: str,
    outcome: str,
    test_accuracy: float | None = None,
) -> str:
    """One sentence on warm against cold, in the style of the versions' descriptions.

    `warm` and `source` name the versions (`v2`, `v1`); `outcome` ends it (`promoted to
    champion`); `values` are the headline metrics (`compare.headline`'s keys), any missing
    (no cold run) left out of the sentence.
    """
    v = rounded(values)
    parts = [f"Warm start {warm} (from {source})"]
    if test_accuracy is not None:
        parts.append(f" scored test accuracy {test_accuracy:.4f}")
        if "warm_epoch1_val_accuracy" in v:
            parts.append(",")
    if {"warm_epoch1_val_accuracy", "cold_epoch1_val_accuracy"} <= set(v):
        parts.append(
            f" scored val accuracy {v['warm_epoch1_val_accuracy']:.4f} after epoch 1 against "
            f"cold start's {v['cold_epoch1_val_accuracy']:.4f} (gap {v['epoch1_gap']:+.4f})"
        )
    if {"warm_final_val_accuracy", "cold_final_val_accuracy"} <= set(v):
        parts.append(
            f" and {v['warm_final_val_accuracy']:.4f} against "
            f"{v['cold_final_val_accuracy']:.4f} after the last"
        )
    if "cold_final_val_accuracy" in v:  # else no cold baseline to reach
        if "epochs_saved" in v:
            seconds = f" and {v['seconds_saved']:.1f} s" if "seconds_saved" in v else ""
            epochs = f"{v['epochs_saved']:g} epoch{'' if v['epochs_saved'] == 1 else 's'}"
            parts.append(f", reaching cold's final score {epochs}{seconds} sooner")
        else:
            parts.append(", never reaching cold's final score")
    return "".join(parts) + f"; {outcome}."
