"""The update job against a real MLflow server: evaluate, promote or reject, serve the champion.

One module-scoped chain on the embedded corpus (smoke size): a base (v1, champion), a good
update with its cold baseline (v2, promoted), a deliberately bad one (v3, a huge learning
rate: rejected, registered, `champion` stays). The champion is then served over REST as a
user would, with `mlflow models serve`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from compose import compose_config
from mlflow.tracking import MlflowClient
from mlflow_fixtures import Server, free_port, tracking_env

from warmstart.core.errors import ConfigError, DataError
from warmstart.stages import cold_start, train_base, update
from warmstart.tracking.connection import connect
from warmstart.tracking.resolve import model_id_of

pytestmark = pytest.mark.slow

SMOKE = ("experiment=smoke", "train.epochs=2")
EVALUATION_FILES = {
    "test_confusion_matrix.png",
    "test_roc_curve_plot.png",
    "test_precision_recall_curve_plot.png",
}


@pytest.fixture(scope="module")
def chain(mlflow_server: Server, data_cache: Path) -> Iterator[dict]:
    name = f"update-{uuid.uuid4().hex[:8]}"
    with tracking_env(mlflow_server.uri, name):

        def cfg(*extra: str):
            return compose_config(
                *SMOKE, f"registry.model_name={name}", *extra, cache_dir=data_cache
            )

        connect(cfg())
        base = train_base.run(cfg("reuse=false"))
        (good,) = update.run(cfg("update.cold=true"))
        (bad,) = update.run(cfg("train.learning_rate=30", "train.epochs=1", "data.generation=2"))
    yield {"name": name, "base": base, "good": good, "bad": bad, "client": MlflowClient()}


def _version(chain: dict, version: str):
    return chain["client"].get_model_version(chain["name"], version)


def _warm_run(chain: dict, version: str):
    return chain["client"].get_run(_version(chain, version).run_id)


def test_a_good_update_is_promoted_and_says_why(chain):
    client, name = chain["client"], chain["name"]
    assert chain["good"].promoted and chain["good"].source == "1"
    assert client.get_model_version_by_alias(name, "champion").version == chain["good"].version
    tags = _version(chain, chain["good"].version).tags
    assert tags["warmstart.promotion"] == "promoted"
    assert tags["warmstart.promotion.metric"] == "accuracy"
    assert tags["warmstart.promotion.champion_version"] == "1"
    assert float(tags["warmstart.promotion.score"]) >= float(
        tags["warmstart.promotion.champion_score"]
    )
    description = _version(chain, chain["good"].version).description
    assert "Warm-started from" in description and "Promoted to champion" in description
    assert _warm_run(chain, chain["good"].version).data.tags["warmstart.promotion"] == "promoted"


def test_a_bad_update_is_rejected_stays_registered_and_champion_does_not_move(chain):
    client, name, bad = chain["client"], chain["name"], chain["bad"]
    assert not bad.promoted
    version = _version(chain, bad.version)
    assert version.tags["warmstart.promotion"] == "rejected"
    assert version.tags["warmstart.promotion.champion_version"] == chain["good"].version
    assert float(version.tags["warmstart.promotion.score"]) < float(
        version.tags["warmstart.promotion.champion_score"]
    )
    assert version.tags["warmstart.source_version"] == chain["good"].version  # v1 -> v2 -> v3
    assert client.get_model_version_by_alias(name, "champion").version == chain["good"].version
    assert client.get_model_version_by_alias(name, "current").version == bad.version
    assert "Rejected" in version.description


def test_evaluation_artifacts_are_on_the_run_and_the_logged_model(chain):
    client = chain["client"]
    version = _version(chain, chain["good"].version)
    run = client.get_run(version.run_id)
    assert {f.path for f in client.list_artifacts(run.info.run_id)} >= EVALUATION_FILES
    model_id = model_id_of(version)
    on_model = client.list_logged_model_artifacts(model_id, "evaluation")
    assert {Path(f.path).name for f in on_model} >= EVALUATION_FILES
    model_metrics = {m.key for m in client.get_logged_model(model_id).metrics}
    assert {"test_accuracy_score", "test_roc_auc", "test_f1_0", "test_macro_f1"} <= model_metrics
    assert 0.5 < run.data.metrics["test_accuracy_score"] <= 1.0


def test_warm_and_cold_of_an_update_log_identical_metric_keys(chain):
    client = chain["client"]
    warm = _warm_run(chain, chain["good"].version)
    parent = warm.data.tags["mlflow.parentRunId"]
    runs = client.search_runs([warm.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent}'")
    cold = next(r for r in runs if r.data.tags["warmstart.stage"] == "cold_start")
    assert set(warm.data.metrics) == set(cold.data.metrics)
    assert {"test_precision_1", "test_recall_0", "evaluation_seconds"} <= set(cold.data.metrics)
    assert client.get_run(parent).info.run_name.startswith("update gen")
    assert warm.info.run_name == f"warm_start v1->v{chain['good'].version}"


def test_learning_nothing_is_reported_not_hidden(chain, data_cache, capsys):
    cfg = compose_config(
        *SMOKE, "data.n_train=300", "train.batch_size=1024", "train.epochs=1",
        cache_dir=data_cache,
    )  # fmt: skip
    run_id = cold_start.run(cfg)
    line = chain["client"].get_run(run_id).data.tags["warmstart.warning"]
    assert "train.batch_size" in line and "train.epochs" in line
    printed = [x for x in capsys.readouterr().out.splitlines() if x.startswith("warning:")]
    assert printed == [f"warning: {line}"]


FILES = (
    "experiment=continual", "data=files", "data.time_column=day", "update.period=M",
    "update.steps=2",
    "vocab.max_tokens=300", "base.vocab.max_tokens=300", "vocab.sequence_length=12",
    "train.epochs=1", "train.batch_size=16", "train.learning_rate=0.02",
    "train.tensorboard=false", "model.embedding_dim=8", "model.hidden_units=8",
)  # fmt: skip


def _drifting_table(path: Path) -> None:
    """Three months of reviews; each month brings its own new words of praise and blame."""
    rng = np.random.default_rng(5)
    filler = ["the", "a", "film", "plot", "actor", "scene", "story", "movie", "one", "it"]
    rows = []
    for month in (1, 2, 3):
        pos = ["good", "great", f"grand{month}", f"fresh{month}"]
        neg = ["bad", "awful", f"grim{month}", f"stale{month}"]
        for i in range(100):
            label = i % 2
            words = [*rng.choice(pos if label else neg, 2), *rng.choice(filler, 4)]
            rng.shuffle(words)
            rows.append((" ".join(words), label, f"2024-{month:02d}-{1 + i % 28:02d}"))
    pd.DataFrame(rows, columns=["text", "label", "day"]).to_csv(path, index=False)


@pytest.fixture(scope="module")
def continual_files(mlflow_server: Server, tmp_path_factory) -> Iterator[dict]:
    name = f"continual-files-{uuid.uuid4().hex[:8]}"
    table = tmp_path_factory.mktemp("continual") / "reviews.csv"
    _drifting_table(table)
    with tracking_env(mlflow_server.uri, name):

        def cfg(*extra: str):
            return compose_config(
                *FILES, f"data.path={table}", f"registry.model_name={name}", *extra,
                cache_dir=tmp_path_factory.mktemp("cache"),
            )  # fmt: skip

        connect(cfg())
        rows = update.run(cfg())
        yield {"name": name, "rows": rows, "cfg": cfg, "client": MlflowClient()}


def test_continual_over_files_steps_through_successive_time_windows(continual_files):
    client, name, rows = continual_files["client"], continual_files["name"], continual_files["rows"]
    assert [(r.step, r.window, r.generation) for r in rows] == [
        (0, "2024-02", None),
        (1, "2024-03", None),
    ]
    champion = "1"  # the base, trained on January
    for row in rows:
        assert row.source == champion  # each step warm-starts from the champion the last left
        champion = row.version if row.promoted else champion
        assert row.cold_test_accuracy is not None and row.warm_seconds > 0
        version = client.get_model_version(name, row.version)
        warm = client.get_run(version.run_id)
        assert warm.data.tags["warmstart.promotion"] in ("promoted", "rejected")
        assert client.get_run(warm.data.tags["mlflow.parentRunId"]).info.run_name == (
            f"update window {row.window}"
        )
        month = int(row.window[-2:])
        assert (warm.data.params["data.since"], warm.data.params["data.until"]) == (
            f"2024-{month:02d}-01",
            "" if month == 3 else f"2024-{month + 1:02d}-01",
        )  # the last window is open-ended, as data.until is
        assert warm.data.params["data.training_rows"] == "64"  # 100 rows, 20% test, 20% val
    assert client.get_model_version_by_alias(name, "champion").version == champion
    base = client.get_run(client.get_model_version(name, "1").run_id)
    assert base.data.params["data.training_rows"] == "64"  # January only
    parent_id = client.get_run(client.get_model_version(name, rows[0].version).run_id).data.tags[
        "mlflow.parentRunId"
    ]
    parent = client.get_run(client.get_run(parent_id).data.tags["mlflow.parentRunId"])
    assert parent.info.run_name == "continual 2 updates"
    assert {"seconds_saved_total", "promoted_steps"} <= set(parent.data.metrics)
    files = {f.path for f in client.list_artifacts(parent.info.run_id, "continual")}
    assert {"continual/steps.csv", "continual/steps.png"} <= files


def test_continual_over_files_without_enough_windows_is_one_line_naming_the_fix(
    continual_files,
):
    cfg = continual_files["cfg"]
    with pytest.raises(DataError) as err:
        update.run(cfg("update.steps=3"))  # three months: a base and two steps at most
    assert "needs 4" in str(err.value) and "lower update.steps" in str(err.value)
    with pytest.raises(ConfigError, match=r"set data\.time_column="):
        update.run(cfg("data.time_column=null"))


def _post(url: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, json.dumps(payload).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_the_champion_serves_raw_text_over_rest_and_refuses_bad_input(chain, mlflow_server):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    # `mlflow models serve --env-manager local` execs `uvicorn` from PATH: the venv's.
    bin_dir = str(Path(sys.executable).parent)
    env.update(MLFLOW_TRACKING_URI=mlflow_server.uri, PATH=f"{bin_dir}:{env.get('PATH', '')}")
    mlflow = str(Path(sys.executable).with_name("mlflow"))
    server = subprocess.Popen(
        [mlflow, "models", "serve", "-m", f"models:/{chain['name']}@champion",
         "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-3000:]
                assert time.monotonic() < deadline, "model server did not start"
                time.sleep(1)
        texts = [
            "a wonderful film, moving and brilliant, a masterpiece",
            "awful, boring, a waste of time, the worst",
        ]
        status, body = _post(
            f"{url}/invocations",
            {"dataframe_split": {"columns": ["text"], "data": [[t] for t in texts]}},
        )
        assert status == 200, body
        rows = body["predictions"]
        assert [r["label"] for r in rows] == [1, 0]
        assert rows[0]["probability"] > 0.5 > rows[1]["probability"]
        status, body = _post(
            f"{url}/invocations", {"dataframe_split": {"columns": ["review"], "data": [["good"]]}}
        )
        assert 400 <= status < 500 and "text" in body.get("message", ""), body
        status, body = _post(
            f"{url}/invocations", {"dataframe_split": {"columns": ["text"], "data": [[None]]}}
        )
        assert 400 <= status < 500 and "null or empty" in body.get("message", ""), body
        status, _ = _post(
            f"{url}/invocations", {"dataframe_split": {"columns": ["text"], "data": [[texts[0]]]}}
        )
        assert status == 200  # still up after refusing bad input
    finally:
        if server.poll() is None:
            os.killpg(server.pid, 15)
        server.wait(30)
