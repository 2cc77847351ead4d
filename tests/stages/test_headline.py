"""What a user sees first: the pipeline's parent run carries the headline, runs say what they
are, the summary is rounded, and every metric Keras reports reaches MLflow."""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from warmstart.tracking.metrics import MetricsLogger

pytestmark = pytest.mark.slow


def test_the_pipeline_parent_carries_the_headline_metrics(pipeline_run):
    metrics = pipeline_run["runs"]["pipeline"].data.metrics
    keys = {"warm_epoch1_val_accuracy", "cold_epoch1_val_accuracy", "warm_final_val_accuracy",
            "cold_final_val_accuracy", "epoch1_gap"}  # fmt: skip
    assert keys <= set(metrics)  # their values: recomputed from the curves below


def test_the_epoch1_gap_and_epochs_saved_are_what_the_child_curves_show(pipeline_run):
    """Recomputed from the warm and cold runs' own val_accuracy histories, restating
    compare's definitions: the gap is warm's first-epoch val accuracy minus cold's; the epochs
    saved are cold's epoch count minus the first epoch (1-based) at which warm reaches cold's
    final val accuracy (none logged when warm never does: tests/stages/test_compare.py)."""
    client, ids = pipeline_run["client"], pipeline_run["ids"]

    def curve(role: str) -> list[float]:
        points = client.get_metric_history(ids[role], "val_accuracy")
        assert sorted(p.step for p in points) == list(range(len(points)))  # one per epoch
        return [p.value for p in sorted(points, key=lambda p: p.step)]

    warm, cold = curve("warm"), curve("cold")
    assert len(cold) == int(pipeline_run["runs"]["cold"].data.params["train.epochs"])
    logged = pipeline_run["runs"]["pipeline"].data.metrics
    assert logged["epoch1_gap"] == round(warm[0] - cold[0], 4)
    reached = [epoch for epoch, value in enumerate(warm, start=1) if value >= cold[-1]]
    # Warm starts far ahead on the embedded corpus, so it reaches cold's final accuracy.
    assert reached, (warm, cold)
    assert logged["epochs_saved"] == len(cold) - reached[0]


def test_the_headline_sets_both_test_scores_beside_the_tfidf_baseline(pipeline_run):
    """A user sees at once whether the neural model earns its keep: the parent shows warm's
    and cold's test macro-F1 beside the baseline's, fitted on the same split."""
    runs = pipeline_run["runs"]
    metrics = runs["pipeline"].data.metrics
    for role in ("warm", "cold"):
        assert metrics[f"{role}_test_macro_f1"] == round(
            runs[role].data.metrics["test_macro_f1"], 4
        )
    baseline = metrics["baseline_test_macro_f1"]
    assert baseline == round(runs["cold"].data.metrics["baseline_test_macro_f1"], 4)
    assert baseline == round(runs["warm"].data.metrics["baseline_test_macro_f1"], 4)  # same split
    assert 0.5 < baseline <= 1.0


def test_runs_are_named_for_what_they_are_and_the_first_version_is_champion(pipeline_run):
    client, runs = pipeline_run["client"], pipeline_run["runs"]
    # The versions these runs registered (later tests may move the aliases on).
    base_v = runs["base"].data.tags["warmstart.registered_version"]
    warm_v = runs["warm"].data.tags["warmstart.registered_version"]
    assert runs["base"].info.run_name == f"train_base v{base_v}"
    assert runs["warm"].info.run_name == f"warm_start v{base_v}->v{warm_v}"
    assert runs["base"].data.tags["warmstart.stage"] == "train_base"  # tag values unchanged
    first = client.get_model_version("pipeline-test", base_v)
    assert first.tags["warmstart.promotion"] == "promoted"


def test_summary_csv_is_rounded(pipeline_run):
    local = mlflow.artifacts.download_artifacts(
        run_id=pipeline_run["ids"]["pipeline"], artifact_path="compare/summary.csv"
    )
    table = pd.read_csv(local)
    floats = table.select_dtypes("float").to_numpy().ravel()
    floats = floats[~pd.isna(floats)]
    assert (abs(floats * 10_000 - (floats * 10_000).round()) < 1e-6).all()


def test_every_metric_of_an_epoch_is_sent_with_the_time_closed_after_its_end(tracking):
    client = MlflowClient(tracking.uri)
    run_id = client.create_run(client.create_experiment("every-metric")).info.run_id
    logger = MetricsLogger(run_id)
    logs = {"loss": 0.5, "not_a_number": "x"}
    logger.on_epoch_end(0, logs)
    logs["epoch_seconds"] = 0.25  # EpochTimer closes the epoch after every callback's end
    logger.on_epoch_begin(1)
    logger.flush()
    assert client.get_run(run_id).data.metrics == {"loss": 0.5, "epoch_seconds": 0.25}


def test_the_parent_is_named_for_its_overrides_and_says_its_headline_in_one_sentence(
    pipeline_run,
):
    parent = pipeline_run["runs"]["pipeline"]
    assert parent.info.run_name == "pipeline experiment=smoke tensorboard=true"
    metrics = parent.data.metrics
    assert {"epochs_saved", "seconds_saved"} <= set(metrics) or "epochs_saved" not in metrics
    assert all(round(v, 4) == v for v in metrics.values()), metrics
    tags = parent.data.tags
    warm_v = pipeline_run["runs"]["warm"].data.tags["warmstart.registered_version"]
    assert tags["warmstart.promotion"] in ("promoted", "rejected")
    assert tags["warmstart.champion_version"].isdigit()
    note = tags["mlflow.note.content"]
    assert note.startswith(f"Warm start v{warm_v} (from v")
    assert f"{metrics['warm_epoch1_val_accuracy']:.4f}" in note
    # The learning curves show inline where the run opens (its description is markdown).
    pid = parent.info.run_id
    assert f"(get-artifact?path=compare%2Flearning_curves.png&run_uuid={pid})" in note
