"""The MLflow adapter's guarantees, checked against real tracking servers.

connect fails fast and opens one experiment safely from racing processes; stage_run never
leaves a run RUNNING; MetricsLogger loses no epoch across a server restart; no secret reaches
params, tags or artifacts, also behind basic authentication. Publishing: test_registry.py.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
import yaml
from compose import compose_config
from mlflow.tracking import MlflowClient
from mlflow_fixtures import (
    RACE_SECONDS,
    RETRIES,
    Server,
    free_port,
    logged,
    race,
    start_server,
    versions_of,
)

from warmstart.core.errors import TrackingError
from warmstart.stages import train_base
from warmstart.tracking import headline
from warmstart.tracking.connection import (
    EXPERIMENT_KIND_TAG,
    TRAINING_KIND,
    connect,
    open_experiment,
    ui_link,
)
from warmstart.tracking.metrics import MetricsLogger
from warmstart.tracking.runs import NAME_CHARS, StageInterrupted, run_label, stage_run


def all_text_of(run: mlflow.entities.Run, artifacts: Path) -> str:
    """Everything a run exposes: param and tag keys and values, and its artifact files."""
    parts = [*run.data.params.items(), *run.data.tags.items()]
    text = "\n".join(f"{k}={v}" for k, v in parts)
    files = [p for p in artifacts.rglob("*") if p.is_file()]
    return text + "\n".join(p.read_bytes().decode("utf-8", "replace") for p in files)


# ---------------------------------------------------------------- connect


def test_connect_fails_fast_naming_the_fix_and_hiding_uri_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://alice:s3cr3t@127.0.0.1:{free_port()}")
    cfg = compose_config("tracking.connect_timeout=2")
    started = time.monotonic()
    with pytest.raises(TrackingError, match="did not answer within 2s") as raised:
        connect(cfg)
    assert time.monotonic() - started < 60  # generous: it gives up, it does not retry for minutes
    message = str(raised.value)
    assert "s3cr3t" not in message and "http://***@127.0.0.1" in message
    assert "fix MLFLOW_TRACKING_URI" in message and "\n" not in message


def test_processes_racing_to_create_one_experiment_all_open_it(tracking: Server) -> None:
    """MLflow's own set_experiment loses this race quietly, most rounds. Rounds go on until a
    creator really lost it (open_experiment's retry logs each loss), for at most RACE_SECONDS,
    so a run whose creators never met fails instead of passing for one that survived them."""
    lost: list[str] = []
    rounds, deadline = 0, time.monotonic() + RACE_SECONDS
    while not lost and time.monotonic() < deadline:
        rounds += 1
        name = f"race-{uuid.uuid4().hex[:8]}"
        with logged(RETRIES) as retried:
            ids = race(lambda name=name: open_experiment(name), writers=4)
        assert not [i for i in ids if isinstance(i, Exception)], ids
        assert set(ids) == {mlflow.get_experiment_by_name(name).experiment_id}
        lost += retried
    assert lost, f"in {rounds} rounds of 4 racing creators none lost the race: retry untested"
    assert all(name in m and "already exists" in m for m in lost), lost


def test_an_experiment_is_opened_as_model_training_with_the_headline_view(
    tracking: Server,
) -> None:
    """MLflow's UI reads `mlflow.experimentKind`; an experiment made elsewhere (as `mlflow run`
    makes it) gets the kind when first used, and a kind the user chose stays."""
    client = MlflowClient(tracking.uri)
    created = client.get_experiment(open_experiment(f"new-{uuid.uuid4().hex[:8]}"))
    assert created.tags[EXPERIMENT_KIND_TAG] == TRAINING_KIND == "custom_model_development"
    assert '"metrics.`epoch1_gap`"' in created.tags[headline.VIEW_TAG]
    bare = f"bare-{uuid.uuid4().hex[:8]}"
    client.create_experiment(bare)
    assert client.get_experiment(open_experiment(bare)).tags[EXPERIMENT_KIND_TAG] == TRAINING_KIND
    chosen = f"genai-{uuid.uuid4().hex[:8]}"
    client.create_experiment(chosen, tags={EXPERIMENT_KIND_TAG: "genai_development"})
    kept = client.get_experiment(open_experiment(chosen)).tags[EXPERIMENT_KIND_TAG]
    assert kept == "genai_development"


def test_the_ui_link_opens_the_training_view_without_credentials() -> None:
    link = ui_link("3", uri="http://user:secret@host:5000/")
    assert link == (
        "http://***@host:5000/#/experiments/3/runs?workflowType=machine_learning"
        "&viewStateShareKey=warmstart-headline"
    )
    run = ui_link("3", "abc", uri="sqlite:////tmp/mlflow.db")
    assert run == "http://127.0.0.1:5000/#/experiments/3/runs/abc?workflowType=machine_learning"


def test_run_names_carry_the_users_overrides_with_short_keys() -> None:
    given = "-m experiment=smoke warmstart.initializer=zeros seed=2 paths.cache_dir=/tmp/c"
    overrides = [*given.split(), "hydra.sweep.dir=/tmp/s", "registry.model_name=m"]
    assert run_label("pipeline", overrides) == "pipeline experiment=smoke initializer=zeros seed=2"
    assert run_label("pipeline", []) == "pipeline"
    # Keys that would read alike keep their full names; a secret never shows.
    both = run_label("train_base", ["data.since=2024", "base.data.since=2023"])
    assert both == "train_base data.since=2024 base.data.since=2023"
    assert "pw" not in run_label("pipeline", ["data.password=pw"])
    long = run_label("pipeline", [f"vocab.max_tokens={'9' * 80}"])
    assert len(long) == NAME_CHARS and long.endswith("…")


def test_a_deleted_experiment_is_refused_naming_how_to_restore_it(tracking: Server) -> None:
    name = os.environ["MLFLOW_EXPERIMENT_NAME"]
    MlflowClient().delete_experiment(MlflowClient().create_experiment(name))
    with pytest.raises(TrackingError, match="is deleted; restore it") as raised:
        connect(compose_config("experiment=smoke"))
    assert "mlflow experiments restore --experiment-id" in str(raised.value)


# ---------------------------------------------------------------- stage_run


@pytest.mark.parametrize(
    ("raised", "status"),
    [
        (None, "FINISHED"),
        (ValueError("boom"), "FAILED"),
        (KeyboardInterrupt(), "KILLED"),
        (StageInterrupted("stopped by signal 15"), "KILLED"),
    ],
    ids=["finished", "error", "ctrl-c", "sigterm"],
)
def test_stage_run_ends_its_run_finished_failed_or_killed_never_running(
    tracking: Server, raised: BaseException | None, status: str
) -> None:
    cfg = compose_config("experiment=smoke")
    connect(cfg)
    expected = pytest.raises(type(raised)) if raised else contextlib.nullcontext()
    with expected, stage_run(cfg, "probe") as active:
        run_id = active.info.run_id
        if raised:
            raise raised
    assert mlflow.active_run() is None
    assert MlflowClient().get_run(run_id).info.status == status


# ---------------------------------------------------------------- secrets


def test_no_secret_reaches_params_tags_or_config_yaml(
    tracking: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cr3t-env")  # ignored by this server
    overrides = [
        "experiment=smoke",
        "tracking.uri=http://alice:s3cr3t-uri@127.0.0.1:5000",
        "+tracking.password=s3cr3t-key",
        "+registry.api_token=s3cr3t-token",
        "+data.mirror=https://bob:s3cr3t-data@example.org/aclImdb_v1.tar.gz",
    ]
    cfg = compose_config(*overrides)
    connect(cfg)
    with stage_run(cfg, "probe", overrides=overrides) as active:
        run_id = active.info.run_id
    run = MlflowClient().get_run(run_id)
    local = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path)))
    logged = all_text_of(run, local)
    assert "s3cr3t" not in logged
    saved = yaml.safe_load((local / "config.yaml").read_text())
    assert saved["tracking"]["uri"] == "http://***@127.0.0.1:5000"
    assert saved["tracking"]["password"] == "***" and run.data.params["tracking.password"] == "***"


# ---------------------------------------------------------------- metrics across a restart


def test_metrics_logger_sends_the_epochs_that_end_during_its_pause_in_one_later_write(
    tracking: Server,
) -> None:
    client = MlflowClient(tracking.uri)
    run_id = client.create_run(client.create_experiment(f"pause-{uuid.uuid4().hex}")).info.run_id
    logger = MetricsLogger(run_id, send_interval=60)

    def steps() -> list[int]:
        return sorted(m.step for m in client.get_metric_history(run_id, "loss"))

    logger.on_epoch_end(0, {"loss": 1.0})
    logger.on_epoch_begin(1)  # epoch 0 is queued and written at once
    deadline = time.monotonic() + 60
    while steps() != [0]:
        assert time.monotonic() < deadline, "epoch 0 was never written"
        time.sleep(0.1)
    for epoch in range(1, 5):
        logger.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
        logger.on_epoch_begin(epoch + 1)
    time.sleep(1.0)
    assert steps() == [0], "the sender wrote again during its pause"
    logger.flush()  # ends the pause: the four waiting epochs go out
    assert steps() == [0, 1, 2, 3, 4]


@pytest.mark.slow  # stops and restarts a server of its own
def test_metrics_logger_buffers_epochs_while_the_server_restarts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    server = start_server(tmp_path / "store", port)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # fail at once: buffer, not wait
    client = MlflowClient(server.uri)
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(server.uri)  # MetricsLogger logs where the stage connected
    run_id = client.create_run(client.create_experiment("restart")).info.run_id
    logger = MetricsLogger(run_id)
    logs = {"loss": 0.5, "val_accuracy": 0.7}
    try:
        logger.on_epoch_end(0, logs)
        server.stop()
        logger.on_epoch_end(1, logs)  # the server is down: kept, not raised, not dropped
        logger.on_epoch_end(2, logs)
        with pytest.raises(TrackingError, match="stayed unreachable; restart it"):
            logger.flush(attempts=1, wait=0)
        server = start_server(tmp_path / "store", port)
        logger.on_epoch_end(3, logs)
        logger.flush()
        for key in logs:
            assert sorted(m.step for m in client.get_metric_history(run_id, key)) == [0, 1, 2, 3]
    finally:
        mlflow.set_tracking_uri(previous)
        server.stop()


# ---------------------------------------------------------------- basic authentication


ADMIN_PASSWORD = "Adm1n-pw-for-tests!"


@pytest.fixture
def basic_auth_server(tmp_path: Path) -> Iterator[Server]:
    """`mlflow server --app-name basic-auth`, admin password from an auth config file.

    With MLflow's default (no credential cache) every request re-checks the password's scrypt
    hash, about 0.2 s on this machine: a stage's few hundred requests took over a minute. The
    cache keeps verified credentials only, so the wrong password below is still refused.
    """
    # The basic-auth app needs Flask-WTF, pinned in requirements-test.lock: missing, this fails.
    import flask_wtf  # noqa: F401

    root = tmp_path / "auth-store"
    root.mkdir()
    ini = root / "basic_auth.ini"
    ini.write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = sqlite:///{root}/basic_auth.db\n"
        f"admin_username = admin\nadmin_password = {ADMIN_PASSWORD}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        "auth_cache_ttl_seconds = 600\n"
    )
    server = start_server(
        root,
        args=["--app-name", "basic-auth"],
        env={
            "MLFLOW_AUTH_CONFIG_PATH": str(ini),
            "MLFLOW_FLASK_SERVER_SECRET_KEY": uuid.uuid4().hex,
        },
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
def test_a_stage_runs_against_a_basic_auth_server_and_never_logs_the_password(
    basic_auth_server: Server, data_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", basic_auth_server.uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "auth")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "wrong-password")
    overrides = ["experiment=smoke", "train.epochs=1", "registry.model_name=auth-model"]
    cfg = compose_config(*overrides, cache_dir=data_cache)
    with pytest.raises(TrackingError, match="check the credentials") as raised:
        connect(cfg)
    assert "\n" not in str(raised.value) and "wrong-password" not in str(raised.value)

    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN_PASSWORD)
    connect(cfg)
    outcome = train_base.run(cfg, overrides=overrides)
    client = MlflowClient()
    run = client.get_run(outcome.run_id)
    assert run.info.status == "FINISHED"
    assert versions_of("auth-model") == [outcome.published.version]
    run_files = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, dst_path=str(tmp_path / "run")
    )
    model_files = mlflow.artifacts.download_artifacts(
        f"models:/{outcome.published.model_id}", dst_path=str(tmp_path / "model")
    )
    version = client.get_model_version("auth-model", outcome.published.version)
    exposed = all_text_of(run, Path(run_files)) + all_text_of(run, Path(model_files))
    exposed += "\n".join(f"{k}={v}" for k, v in version.tags.items())
    assert ADMIN_PASSWORD not in exposed
    assert (Path(run_files) / "config.yaml").is_file()
