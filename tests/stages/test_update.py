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

from warmstart.config import validate
from warmstart.core.errors import ConfigError, DataError
from warmstart.data.windows import TimeWindow, history_window
from warmstart.stages import _continual as update_report
from warmstart.stages import cold_start, train_base, update
from warmstart.tracking.connection import connect
from warmstart.tracking.resolve import model_id_of
from warmstart.tracking.version_format import read_record

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
        (good,) = update.run(cfg("update.cold=true")).steps
        (bad,) = update.run(
            cfg("train.learning_rate=30", "train.epochs=1", "data.generation=2")
        ).steps
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
    assert tags["warmstart.promotion"] == "promoted" and tags["warmstart.source"] == "v1"
    evidence = read_record(tags).promotion
    assert evidence["metric"] == "accuracy" and evidence["champion_version"] == "1"
    assert evidence["score"] >= evidence["champion_score"]
    description = _version(chain, chain["good"].version).description
    assert "Warm-started from" in description and "Promoted to champion" in description
    assert _warm_run(chain, chain["good"].version).data.tags["warmstart.promotion"] == "promoted"


def test_a_bad_update_is_rejected_stays_registered_and_champion_does_not_move(chain):
    client, name, bad = chain["client"], chain["name"], chain["bad"]
    assert not bad.promoted
    version = _version(chain, bad.version)
    assert version.tags["warmstart.promotion"] == "rejected"
    evidence = read_record(version.tags).promotion
    assert evidence["champion_version"] == chain["good"].version
    assert evidence["score"] < evidence["champion_score"]
    assert version.tags["warmstart.source"] == f"v{chain['good'].version}"  # v1 -> v2 -> v3
    assert read_record(version.tags).source["version"] == chain["good"].version
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
    wanted = {"test_accuracy_score", "test_roc_auc", "test_f1_negative", "test_macro_f1"}
    assert wanted <= model_metrics
    assert 0.5 < run.data.metrics["test_accuracy_score"] <= 1.0


def test_warm_and_cold_of_an_update_log_identical_metric_keys(chain):
    client = chain["client"]
    warm = _warm_run(chain, chain["good"].version)
    parent = warm.data.tags["mlflow.parentRunId"]
    runs = client.search_runs([warm.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent}'")
    cold = next(r for r in runs if r.data.tags["warmstart.stage"] == "cold_start")
    assert set(warm.data.metrics) == set(cold.data.metrics)
    per_class = {"test_precision_positive", "test_recall_negative", "evaluation_seconds"}
    assert per_class <= set(cold.data.metrics)
    assert client.get_run(parent).info.run_name.startswith("update gen")
    assert warm.info.run_name == f"warm_start v1->v{chain['good'].version}"


def test_learning_nothing_is_reported_not_hidden(chain, data_cache, capsys):
    cfg = compose_config(
        *SMOKE, "data.n_train=300", "train.batch_size=1024", "train.epochs=1",
        cache_dir=data_cache,
    )  # fmt: skip
    run_id = cold_start.run(cfg).run_id
    run = chain["client"].get_run(run_id)
    line = run.data.tags["warmstart.warning"]
    assert "train.batch_size" in line and "train.epochs" in line
    assert "1 epoch(s) of 1 step(s) at batch 1024" in line
    assert run.data.tags["warmstart.verdict"] == "learned_nothing"
    printed = [x for x in capsys.readouterr().out.splitlines() if x.startswith("warning:")]
    assert printed == [f"warning: {reason}" for reason in line.split(" | ")]


FILES = (
    "experiment=[own_data,continual]", "data.time_column=day", "data.since=null",
    "update.period=M", "update.steps=2", "update.history=last_2",
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
    """`experiment=[own_data,continual]` over a 3-month table: a base on January, then two
    steps of the last two months each (update.history=last_2). The base is given a learning
    rate too small to learn anything, so it is not promoted and the model has no champion."""
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
        rows = update.run(cfg("base.train.learning_rate=1e-7")).steps
        yield {"name": name, "rows": rows, "cfg": cfg, "client": MlflowClient()}


def _parent(client: MlflowClient, run_id: str):
    return client.get_run(client.get_run(run_id).data.tags["mlflow.parentRunId"])


def test_own_data_and_continual_step_through_time_windows_of_ones_table(continual_files):
    client, name, rows = continual_files["client"], continual_files["name"], continual_files["rows"]
    assert [(r.step, r.window, r.generation) for r in rows] == [
        (0, "2024-02", None),
        (1, "2024-03", None),
    ]
    # last_2: the step's own month and the one before; the last window is open-ended, as
    # data.until is.
    bounds = [("2024-01-01", "2024-03-01"), ("2024-02-01", None)]
    assert [(r.since, r.until) for r in rows] == bounds
    base_version = client.get_model_version(name, "1")
    base = client.get_run(base_version.run_id)
    assert base.data.params["data.training_rows"] == "64"  # January only: 100 rows - 20% - 20%
    assert base.data.tags["warmstart.verdict"] == "learned_nothing"
    # Such a base is not promoted (tracking.promotion), so there is no champion: each step
    # continues from the champion, or from the newest version of the run while there is none.
    champion = "1" if base_version.tags["warmstart.promotion"] == "promoted" else None
    newest = "1"
    for row, (since, until) in zip(rows, bounds, strict=True):
        assert row.source == (champion or newest)
        assert row.warm_from == (update.FROM_CHAMPION if champion else update.FROM_NEWEST)
        champion, newest = row.version if row.promoted else champion, row.version
        assert row.cold_test_accuracy is not None and row.warm_seconds > 0
        warm = client.get_run(client.get_model_version(name, row.version).run_id)
        assert row.learned == (warm.data.tags.get("warmstart.verdict") != "learned_nothing")
        if not (row.promoted and row.learned):
            assert row.seconds_saved is None  # no saving claimed for it
        assert warm.data.tags["warmstart.promotion"] in ("promoted", "rejected")
        assert (warm.data.params["data.since"], warm.data.params["data.until"]) == (
            since,
            until or "",
        )
        assert warm.data.params["data.training_rows"] == "128"  # two months
        assert warm.data.params["train.learning_rate"] == "0.02"  # own_data's train, overridden
        step_run = _parent(client, warm.info.run_id)
        assert step_run.info.run_name == f"update {row.window}"
        assert step_run.data.params["update.effective_history"] == "last_2"
        assert step_run.data.params["update.warm_from"] == row.warm_from
    if champion is not None:
        assert client.get_model_version_by_alias(name, "champion").version == champion
    parent = _parent(client, step_run.info.run_id)
    assert parent.info.run_name == f"update {rows[0].window}..{rows[-1].window}"
    assert parent.data.params["update.effective_history"] == "last_2"
    assert {"seconds_saved_total", "promoted_steps", "learned_nothing_steps"} <= set(
        parent.data.metrics
    )
    files = {f.path for f in client.list_artifacts(parent.info.run_id, "continual")}
    assert {"continual/steps.csv", "continual/steps.png"} <= files
    table = pd.read_csv(
        client.download_artifacts(parent.info.run_id, "continual/steps.csv"),
        dtype={"since": str, "until": str},
    )
    assert table["learned"].tolist() == [r.learned for r in rows]
    assert table[["since", "until"]].fillna("").values.tolist() == [[s, u or ""] for s, u in bounds]


def test_a_step_continues_from_the_champion_else_from_the_newest_version_of_its_run(
    continual_files,
):
    """A model without a champion (a base that learned nothing is not promoted) still moves on."""
    client, cfg = continual_files["client"], continual_files["cfg"]
    orphan = f"{continual_files['name']}-orphan"
    copied = client.copy_model_version(f"models:/{continual_files['name']}/1", orphan).version
    settings = cfg(f"registry.model_name={orphan}")
    champion = f"models:/{orphan}@champion"
    newest = (f"models:/{orphan}/{copied}", update.FROM_NEWEST)
    assert update.warm_source(settings, [copied]) == newest
    assert update.warm_source(settings, []) == (champion, update.FROM_CHAMPION)  # none of its own
    client.set_registered_model_alias(orphan, "champion", copied)
    assert update.warm_source(settings, [copied]) == (champion, update.FROM_CHAMPION)
    chosen = cfg(f"registry.model_name={orphan}", f"update.source=models:/{orphan}/{copied}")
    assert update.warm_source(chosen, []) == (f"models:/{orphan}/{copied}", update.FROM_SOURCE)


def test_continual_over_files_without_enough_windows_is_one_line_naming_the_fix(
    continual_files,
):
    cfg = continual_files["cfg"]
    with pytest.raises(DataError) as err:
        update.run(cfg("update.steps=3"))  # three months: a base and two steps at most
    assert "needs 4" in str(err.value) and "lower update.steps" in str(err.value)
    with pytest.raises(ConfigError, match=r"set data\.time_column="):
        update.run(cfg("data.time_column=null"))


MONTHS = [
    TimeWindow("2024-01", "2024-01-01", "2024-02-01"),
    TimeWindow("2024-02", "2024-02-01", "2024-03-01"),
    TimeWindow("2024-03", "2024-03-01", "2024-04-01"),
    TimeWindow("2024-04", "2024-04-01", None),
]


@pytest.mark.parametrize(
    ("history", "months"),
    [
        ("window", [(2, 3), (3, 4), (4, None)]),
        ("last_1", [(2, 3), (3, 4), (4, None)]),
        ("last_2", [(1, 3), (2, 4), (3, None)]),
        ("cumulative", [(1, 3), (1, 4), (1, None)]),
    ],
)
def test_history_chooses_the_windows_a_step_trains_on(history, months):
    """Months (since, until) of each step's rows; the last window is open-ended."""
    steps = [history_window(MONTHS, k + 1, history) for k in range(3)]
    day = "2024-{:02d}-01".format
    assert [(w.since, w.until) for w in steps] == [
        (day(a), None if b is None else day(b)) for a, b in months
    ]
    assert [w.label for w in steps] == ["2024-02", "2024-03", "2024-04"]  # the step's newest


@pytest.mark.parametrize("history", ["last_0", "last_", "last_-1", "last_2.5", "all", "Window"])
def test_an_unknown_history_is_one_line_naming_the_accepted_forms(history):
    cfg = compose_config("experiment=continual", f"update.history={history}")
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    message = str(err.value)
    assert message.startswith("update.history=") and "\n" not in message
    assert "window, cumulative or last_<N>" in message


def test_history_does_not_apply_to_generations_of_the_embedded_corpus():
    synthetic = compose_config("experiment=continual", "update.history=last_3")
    validate(synthetic)  # accepted, not an error: it just does not apply
    assert update.effective_history(synthetic) == "window"
    files = compose_config("experiment=[own_data,continual]", "update.history=last_3")
    assert update.effective_history(files) == "last_3"


def _steps(**columns) -> pd.DataFrame:
    n = len(columns["promoted"])
    return pd.DataFrame({
        "step": range(n), "warm_test_accuracy": [0.5] * n, "cold_test_accuracy": [0.5] * n,
        "warm_seconds": [2.0] * n, "cold_seconds": [3.0] * n, "cold_learned": [True] * n,
        **columns,
    })  # fmt: skip


def test_the_summary_counts_steps_that_learned_nothing_and_claims_no_time_for_them():
    table = _steps(
        promoted=[True, True, False], learned=[True, False, True], seconds_saved=[1.5, 0.9, 0.4]
    )
    assert update_report.saved_seconds(table).tolist()[0] == 1.5
    assert update_report.saved_seconds(table).isna().tolist() == [False, True, True]
    line = update_report.summary_line(table)
    assert line.startswith("continual: 2/3 promoted; 1 of 3 steps learned nothing; ")
    assert "saved 1.5 s" in line and "over 1 promoted step(s) that learned" in line
    nothing = _steps(promoted=[True, True], learned=[False, False], seconds_saved=[0.5, 0.4])
    line = update_report.summary_line(nothing)
    assert "2 of 2 steps learned nothing" in line and "saved" not in line.replace(
        "no training time saved", ""
    )
    update_report.plot(table)  # learned-nothing markers draw without error


def _post(url: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, json.dumps(payload).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_the_champion_serves_raw_text_over_rest_and_refuses_bad_input(
    chain, mlflow_server, tmp_path
):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    # `mlflow models serve --env-manager local` execs `uvicorn` from PATH: the venv's.
    bin_dir = str(Path(sys.executable).parent)
    env.update(MLFLOW_TRACKING_URI=mlflow_server.uri, PATH=f"{bin_dir}:{env.get('PATH', '')}")
    mlflow = str(Path(sys.executable).with_name("mlflow"))
    log = tmp_path / "serve.log"  # a file, not a pipe nobody reads: a full one stalls the server
    with log.open("w") as out:
        server = subprocess.Popen(
            [mlflow, "models", "serve", "-m", f"models:/{chain['name']}@champion",
             "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, log.read_text()[-3000:]
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
        assert [r["label"] for r in rows] == ["positive", "negative"]
        assert rows[0]["probability"] > 0.5 > rows[1]["probability"]
        status, body = _post(
            f"{url}/invocations", {"dataframe_split": {"columns": ["review"], "data": [["good"]]}}
        )
        # README and docs/operations.md: a wrong column is a 400 that names the fix.
        assert status == 400, body
        assert "missing inputs ['text']" in body["message"], body
        status, body = _post(
            f"{url}/invocations", {"dataframe_split": {"columns": ["text"], "data": [[None]]}}
        )
        assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE", body
        assert body["message"].endswith(  # after MLflow's "Failed to predict data ..."
            "Error: 1 text(s) are null or empty (rows [0]); send a non-empty string in 'text' "
            "for every row"
        ), body
        for empty in (
            {"dataframe_split": {"columns": ["text"], "data": []}},
            {"inputs": {"text": []}},
        ):
            status, body = _post(f"{url}/invocations", empty)
            assert status == 200 and body == {"predictions": []}, body  # no rows in, none out
        status, _ = _post(
            f"{url}/invocations", {"dataframe_split": {"columns": ["text"], "data": [[texts[0]]]}}
        )
        assert status == 200  # still up after refusing bad input
    finally:
        if server.poll() is None:
            os.killpg(server.pid, 15)
        server.wait(30)


def test_the_continual_plot_names_each_update_by_its_data_not_its_step_number():
    from warmstart.stages._continual import step_labels

    windows = pd.DataFrame(
        {"step": [0, 1], "generation": [None, None], "window": ["2024-02", "2024-03"],
         "since": ["2024-01-01", "2024-02-01"], "until": ["2024-03-01", None]}
    )  # fmt: skip
    assert step_labels(windows) == ["2024-02", "2024-03"]
    generations = pd.DataFrame(
        {"step": [0, 1], "generation": [2, 3], "window": [None, None], "since": [None, None],
         "until": [None, None]}
    )  # fmt: skip
    assert step_labels(generations) == ["gen 2", "gen 3"]
