"""The whole pipeline against a real MLflow tracking server and registry, on tiny data.

One pipeline run (session fixture) is inspected from every side a user would look at:
the run tree, params and metrics, the registry, lineage, resolution and raw-text prediction.
"""

from __future__ import annotations

import uuid

import mlflow
import numpy as np
import pandas as pd
import pytest

from warmstart.tracking.resolve import model_id_of, resolve_source
from warmstart.tracking.stage_names import ROLE_STAGES, STAGE_TAG
from warmstart.tracking.version_format import (
    REGISTERED_VERSION_TAG,
    SOURCE_TAG,
    VERSION_FILES,
    VERSION_TAGS,
    read_record,
)

pytestmark = pytest.mark.slow


def registered(pipeline_run: dict, role: str):
    """The version the pipeline's `role` run registered, as that run names it: the aliases
    `base`, `warm` and `current` move whenever a later test registers under the same name."""
    version = pipeline_run["runs"][role].data.tags[REGISTERED_VERSION_TAG]
    return pipeline_run["client"].get_model_version("pipeline-test", version)


def test_run_tree_is_one_parent_with_a_child_per_stage(pipeline_run):
    client, ids = pipeline_run["client"], pipeline_run["ids"]
    parent = pipeline_run["runs"]["pipeline"]
    children = client.search_runs(
        [parent.info.experiment_id], f"tags.`mlflow.parentRunId` = '{ids['pipeline']}'"
    )
    assert sorted(r.data.tags[STAGE_TAG] for r in children) == sorted(
        ["train_base", "vocab_diff", "warm_start", "cold_start", "compare"]
    )
    assert parent.data.tags[STAGE_TAG] == "pipeline"
    assert all(r.info.status == "FINISHED" for r in [*children, parent])


def test_every_run_logs_flat_params_config_yaml_and_overrides(pipeline_run):
    client = pipeline_run["client"]
    for name in ("base", "warm", "cold"):
        run = pipeline_run["runs"][name]
        assert run.data.params["train.epochs"] == "3"
        assert "experiment=smoke" in run.data.tags["warmstart.overrides"]
        files = {f.path for f in client.list_artifacts(run.info.run_id)}
        assert {"config.yaml", "vocabulary.txt", "tensorboard"} <= files


def test_warm_and_cold_share_param_and_metric_keys_and_step_per_epoch(pipeline_run):
    warm, cold = pipeline_run["runs"]["warm"], pipeline_run["runs"]["cold"]
    assert set(warm.data.params) == set(cold.data.params)
    assert set(warm.data.metrics) == set(cold.data.metrics)
    assert {
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "epoch_seconds",
        "test_loss",
        "test_accuracy",
    } <= set(warm.data.metrics)
    history = pipeline_run["client"].get_metric_history(warm.info.run_id, "val_accuracy")
    assert sorted(p.step for p in history) == [0, 1, 2]


def test_datasets_are_logged_with_digests(pipeline_run):
    inputs = pipeline_run["runs"]["warm"].inputs.dataset_inputs
    contexts = {i.tags[0].value for i in inputs}
    assert contexts == {"training", "validation", "test"}
    assert all(i.dataset.digest for i in inputs)


def test_base_and_warm_are_registered_with_digests_aliases_and_lineage(pipeline_run):
    client = pipeline_run["client"]
    base_v, warm_v = registered(pipeline_run, "base"), registered(pipeline_run, "warm")
    assert (base_v.run_id, warm_v.run_id) == (
        pipeline_run["ids"]["base"],
        pipeline_run["ids"]["warm"],
    )
    assert int(warm_v.version) == int(base_v.version) + 1
    # The aliases move on when a later test registers under this name, never back: `base` and
    # `warm` name the pipeline's version or a later one of the same stage, `current` the newest.
    for alias, version in (("base", base_v), ("warm", warm_v)):
        now = client.get_model_version_by_alias("pipeline-test", alias)
        assert int(now.version) >= int(version.version), alias
        assert client.get_run(now.run_id).data.tags[STAGE_TAG] == ROLE_STAGES[alias]
    current = client.get_model_version_by_alias("pipeline-test", "current").version
    newest = max(int(v.version) for v in client.search_model_versions("name = 'pipeline-test'"))
    assert int(current) == newest >= int(warm_v.version)
    for version in (base_v, warm_v):
        # Every file a version holds (head.keras, not model.keras, since issue 13) is digested,
        # in its record; its tags are the few a person reads.
        assert all(len(read_record(version.tags).files[f]) == 64 for f in VERSION_FILES)
        assert set(version.tags) <= set(VERSION_TAGS), sorted(version.tags)
    assert warm_v.tags[SOURCE_TAG] == f"v{base_v.version}" and SOURCE_TAG not in base_v.tags
    lineage = read_record(warm_v.tags).source
    assert lineage["version"] == base_v.version
    assert lineage["model_id"] == model_id_of(base_v)
    assert lineage["files"] == read_record(base_v.tags).files  # what it was warm-started from
    warm_run = pipeline_run["runs"]["warm"]
    assert warm_run.data.tags["warmstart.source_uri"] == f"models:/pipeline-test/{base_v.version}"
    assert warm_run.data.tags["warmstart.checked_token"]


def test_registered_version_predicts_on_raw_review_text(pipeline_run):
    version = registered(pipeline_run, "warm")
    model = mlflow.pyfunc.load_model(f"models:/pipeline-test/{version.version}")
    reviews = ["a wonderful film, moving and brilliant", "awful, boring, a waste of time", "ok"]
    out = model.predict(pd.DataFrame({"text": reviews}))
    assert list(out.columns) == ["label", "p_negative", "p_positive", "probability"]
    assert len(out) == 3
    assert ((out["probability"] >= 0) & (out["probability"] <= 1)).all()
    assert np.allclose(out["p_negative"] + out["p_positive"], 1.0)
    assert (out["probability"] == out["p_positive"]).all()
    assert (out["label"] == np.where(out["probability"] > 0.5, "positive", "negative")).all()


@pytest.mark.parametrize("bad", [None, "", "   "])
def test_registered_version_refuses_null_or_empty_text_with_a_client_error(pipeline_run, bad):
    from mlflow.exceptions import MlflowException

    version = registered(pipeline_run, "warm")
    model = mlflow.pyfunc.load_model(f"models:/pipeline-test/{version.version}")
    with pytest.raises(MlflowException, match=r"null or empty \(rows \[1\]\)") as caught:
        model.predict(pd.DataFrame({"text": ["fine film", bad]}, dtype=object))
    assert caught.value.get_http_status_code() == 400


@pytest.mark.parametrize("form", ["version", "alias", "model_id", "run"])
def test_source_resolves_by_version_alias_model_id_and_run(pipeline_run, form, tmp_path):
    client = pipeline_run["client"]
    base_v = registered(pipeline_run, "base")
    # An alias of this test's own on the base version: `base` itself may move on.
    alias = f"resolve-{uuid.uuid4().hex[:8]}"
    client.set_registered_model_alias("pipeline-test", alias, base_v.version)
    uri = {
        "version": f"models:/pipeline-test/{base_v.version}",
        "alias": f"models:/pipeline-test@{alias}",
        "model_id": f"models:/{model_id_of(base_v)}",
        "run": f"runs:/{pipeline_run['ids']['base']}/model",
    }[form]
    try:
        source = resolve_source(uri, tmp_path)
    finally:
        client.delete_registered_model_alias("pipeline-test", alias)
    assert source.model_id == model_id_of(base_v)
    dim = pipeline_run["cfg"].model.embedding_dim
    assert source.embedding.shape == (len(source.vocabulary), dim)
    assert source.vocabulary[:2] == ["", "[UNK]"]


def test_chain_of_versions_can_be_walked_back(pipeline_run):
    client = pipeline_run["client"]
    version = registered(pipeline_run, "warm")
    chain = [version.version]
    while source := read_record(version.tags).source:
        version = client.get_model_version(source["name"], source["version"])
        chain.append(version.version)
    assert chain == [registered(pipeline_run, role).version for role in ("warm", "base")]


def test_vocab_diff_logs_counts_tables_and_plot(pipeline_run):
    run = pipeline_run["runs"]["pipeline"]
    client = pipeline_run["client"]
    diff_run = client.search_runs(
        [run.info.experiment_id],
        f"tags.`mlflow.parentRunId` = '{run.info.run_id}' and tags.`{STAGE_TAG}` = 'vocab_diff'",
    )[0]
    metrics = diff_run.data.metrics
    assert metrics["added"] > 0 and metrics["removed"] > 0 and metrics["moved"] > 0
    files = {f.path for f in client.list_artifacts(diff_run.info.run_id, "vocab_diff")}
    assert {
        "vocab_diff/added.json",
        "vocab_diff/removed.json",
        "vocab_diff/moved.json",
        "vocab_diff/vocab_diff.png",
    } <= files


def test_compare_puts_curves_and_summary_on_the_parent(pipeline_run):
    client = pipeline_run["client"]
    pid = pipeline_run["ids"]["pipeline"]
    files = {f.path for f in client.list_artifacts(pid, "compare")}
    assert {"compare/learning_curves.png", "compare/summary.json", "compare/summary.csv"} <= files
    local = mlflow.artifacts.download_artifacts(run_id=pid, artifact_path="compare/summary.csv")
    table = pd.read_csv(local).set_index("run")
    assert set(table.index) == {"base", "warm", "cold"}
    warm_curve = client.get_metric_history(pipeline_run["ids"]["warm"], "val_accuracy")
    assert np.isclose(
        table.loc["warm", "epoch1_val_accuracy"], min(warm_curve, key=lambda p: p.step).value
    )


def test_the_results_stages_hand_each_other_are_what_the_store_holds(pipeline_run):
    """Compare and the headline read the stages' results in memory, not the tracking server:
    each result's curves, scores, verdict and decision are exactly what its run logged."""
    client, result = pipeline_run["client"], pipeline_run["result"]
    assert result.stage == "pipeline" and set(result.parts) == {
        "base", "vocab_diff", "warm", "cold", "compare"
    }  # fmt: skip
    for role in ("base", "warm", "cold"):
        part = result.parts[role]
        run = client.get_run(part.run_id)
        assert run.data.tags[STAGE_TAG] == ROLE_STAGES[role] == part.stage
        for key in ("val_accuracy", "accuracy", "epoch_seconds"):
            logged = sorted(client.get_metric_history(part.run_id, key), key=lambda p: p.step)
            assert [p.value for p in logged] == pytest.approx(list(part.curves[key]), rel=1e-12)
        for key in ("test_accuracy", "test_macro_f1", "test_accuracy_score"):
            assert part.scores[key] == pytest.approx(run.data.metrics[key], rel=1e-12)
        assert part.learned == (run.data.tags["warmstart.verdict"] == "learned")
    warm = result.parts["warm"]
    version = client.get_model_version(warm.published.name, warm.published.version)
    assert warm.decision is not None and warm.decision.word == version.tags["warmstart.promotion"]
    assert warm.promoted == (version.tags["warmstart.promotion"] == "promoted")
    assert warm.source_version == result.parts["base"].published.version
    assert result.parts["cold"].published is None and result.parts["cold"].decision is None
    table = result.parts["compare"].table.set_index("run")
    assert table.loc["warm", "run_id"] == warm.run_id


def test_mlflow_run_passes_quoted_overrides_through_to_hydra(pipeline_run, mlflow_server, tmp_path):
    """`mlflow run . -e warm_start -P overrides=...` with spaces, commas, '=', '@' and '/'."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from warmstart.config import PROJECT_ROOT

    cache = pipeline_run["cfg"].paths.cache_dir
    # Registered under a name of its own: pipeline-test's aliases stay where the pipeline put them.
    overrides = (
        "experiment=smoke warmstart.source=models:/pipeline-test@base "
        f"registry.model_name=mlflow-run-test paths.cache_dir={cache} "
        "description='warm, from @base = v1 / smoke'"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env = {
        **clean,
        "MLFLOW_TRACKING_URI": mlflow_server.uri,
        "MLFLOW_EXPERIMENT_NAME": "mlflow-run-test",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("mlflow")),
            "run",
            str(PROJECT_ROOT),
            "--env-manager",
            "local",
            "-e",
            "warm_start",
            "-P",
            f"overrides={overrides}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    client = pipeline_run["client"]
    experiment = client.get_experiment_by_name("mlflow-run-test")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.tags[STAGE_TAG] == "warm_start"
    assert run.data.params["warmstart.source"] == "models:/pipeline-test@base"
    assert run.data.params["description"] == "warm, from @base = v1 / smoke"
    assert run.data.tags["mlflow.note.content"] == "warm, from @base = v1 / smoke"


def test_registered_model_scores_the_logged_test_accuracy_on_raw_text(pipeline_run):
    """The pyfunc rebuilds the vectorizer from the version's vocabulary: same ids, same score."""
    from warmstart.data import load_splits

    test = load_splits(pipeline_run["cfg"].data).test
    warm = pipeline_run["runs"]["warm"]  # its own version (the alias `warm` moves on)
    version = warm.data.tags[REGISTERED_VERSION_TAG]
    model = mlflow.pyfunc.load_model(f"models:/pipeline-test/{version}")
    answers = model.predict(pd.DataFrame({"text": test["text"]}))
    assert set(answers["label"]) <= {"negative", "positive"}
    assert ((answers["probability"] > 0.5) == (answers["label"] == "positive")).all()
    accuracy = float((answers["label"].to_numpy() == test["label"].to_numpy()).mean())
    logged = warm.data.metrics["test_accuracy"]
    assert accuracy == pytest.approx(logged, abs=1e-6)


def test_warm_start_resumes_where_the_base_left_off_and_cold_starts_over(pipeline_run):
    """The product's claim, on the embedded corpus: after one epoch warm is far ahead."""
    client = pipeline_run["client"]

    def first_epoch(stage: str) -> float:
        history = client.get_metric_history(pipeline_run["ids"][stage], "val_accuracy")
        return next(p.value for p in history if p.step == 0)

    assert first_epoch("warm") > first_epoch("cold") + 0.1


def test_an_identical_rerun_registers_nothing_and_moves_no_alias(pipeline_run):
    """`make run` twice, or a sweep job repeated: the base and the warm start are reused (same
    resolved config, data, code and source), so the registry does not churn and `champion`
    does not move on a tie with itself."""
    from mlflow_fixtures import tracking_env, versions_of

    from warmstart.stages import compare, pipeline
    from warmstart.tracking.version_format import REUSED_FROM_TAG

    client, first = pipeline_run["client"], pipeline_run["ids"]
    aliases = {a: client.get_model_version_by_alias("pipeline-test", a).version
               for a in ("champion", "current", "warm", "base")}  # fmt: skip
    before = versions_of("pipeline-test")
    with tracking_env(mlflow.get_tracking_uri(), "pipeline-test"):
        again = pipeline.run(pipeline_run["cfg"]).run_ids
        # `compare` run on its own reads the runs that hold the curves, not the reuse records.
        assert compare.latest_run("warm", again["pipeline"]) == first["warm"]
    assert versions_of("pipeline-test") == before
    assert {a: client.get_model_version_by_alias("pipeline-test", a).version
            for a in aliases} == aliases  # fmt: skip
    # The stages hand on the runs they reused; their own runs point at them.
    assert (again["base"], again["warm"]) == (first["base"], first["warm"])
    children = client.search_runs(
        [pipeline_run["runs"]["pipeline"].info.experiment_id],
        f"tags.`mlflow.parentRunId` = '{again['pipeline']}'",
    )
    reused = {r.data.tags.get(STAGE_TAG): r.data.tags for r in children}
    assert reused["train_base"][REUSED_FROM_TAG] == first["base"]
    assert reused["warm_start"][REUSED_FROM_TAG] == first["warm"]
    for stage, role in (("train_base", "base"), ("warm_start", "warm")):  # names its version
        version = client.get_run(first[role]).data.tags["warmstart.registered_version"]
        assert reused[stage]["warmstart.registered_version"] == version
