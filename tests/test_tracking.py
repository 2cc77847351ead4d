"""The MLflow adapter's guarantees, checked against real tracking servers.

connect fails fast; stage_run never leaves a run RUNNING; MetricsLogger loses no epoch across
a server restart; publish_model registers last and only complete, consistent, pickle-free
versions; no secret reaches params, tags or artifacts, also behind basic authentication.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pytest
import yaml
from compose import compose_config
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow_fixtures import Server, free_port, start_server

from warmstart.data import sha256_file
from warmstart.errors import RegistryError, TrackingError
from warmstart.model import build_model
from warmstart.registry import DIGEST_TAGS, publish_model, resolve_source
from warmstart.stages import train_base
from warmstart.tracking import (
    MetricsLogger,
    StageInterrupted,
    connect,
    open_experiment,
    retry_conflicts,
    stage_run,
)

MODEL_CFG = {"embedding_dim": 16, "hidden_units": 16}
VOCAB = ["", "[UNK]", *(f"word{i}" for i in range(18))]


def tiny_model(vocab_size: int = len(VOCAB)):
    return build_model(vocab_size=vocab_size, sequence_length=8, model_cfg=MODEL_CFG)


def matrix_of(model) -> np.ndarray:
    return np.asarray(model.get_layer("embedding").get_weights()[0])


def experiment_id() -> str:
    return mlflow.get_experiment_by_name(os.environ["MLFLOW_EXPERIMENT_NAME"]).experiment_id


def versions_of(name: str) -> list[str]:
    return sorted(v.version for v in MlflowClient().search_model_versions(f"name = '{name}'"))


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


def race(write, writers: int) -> list:
    """Start `writers` threads calling `write()` at the same instant; their results or errors."""
    gate = threading.Barrier(writers)
    results: list = [None] * writers

    def one(i: int) -> None:
        gate.wait()
        try:
            results[i] = write()
        except Exception as exc:  # collected: the test asserts there are none
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_processes_racing_to_create_one_experiment_all_open_it(tracking: Server) -> None:
    for _ in range(4):  # MLflow's own set_experiment loses this race quietly, most rounds
        name = f"race-{uuid.uuid4().hex[:8]}"
        ids = race(lambda name=name: open_experiment(name), writers=4)
        assert not [i for i in ids if isinstance(i, Exception)], ids
        assert set(ids) == {mlflow.get_experiment_by_name(name).experiment_id}


def test_racing_alias_writes_all_succeed_and_the_alias_names_one_of_them(
    tracking: Server,
) -> None:
    client = MlflowClient()
    for _ in range(4):  # unretried, two writers inserting one alias row fail with IntegrityError
        name = f"race-{uuid.uuid4().hex[:8]}"
        client.create_registered_model(name)
        versions = [client.create_model_version(name, "s3://bucket/m").version for _ in range(3)]
        writes = [(name, a, v) for v in versions for a in ("warm", "current")]

        def write(writes: list = writes) -> None:
            model, alias, version = writes.pop()  # each writer takes its own (atomic under GIL)
            retry_conflicts(lambda: client.set_registered_model_alias(model, alias, version))

        results = race(write, writers=len(writes))
        assert not [r for r in results if isinstance(r, Exception)], results
        for alias in ("warm", "current"):
            assert client.get_model_version_by_alias(name, alias).version in versions


def test_retry_conflicts_retries_lost_races_only() -> None:
    calls = []

    def loses_twice() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise MlflowException("(sqlite3.IntegrityError) UNIQUE constraint failed: x")
        return "written"

    assert retry_conflicts(loses_twice) == "written" and len(calls) == 3
    calls.clear()

    def refused() -> None:
        calls.append(1)
        raise MlflowException("PERMISSION_DENIED: no")

    with pytest.raises(MlflowException, match="PERMISSION_DENIED"):
        retry_conflicts(refused)
    assert len(calls) == 1


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


# ---------------------------------------------------------------- publishing


BAD_PUBLISH = {
    "rows_differ": (VOCAB[:-3], None, "the vocabulary has 17 tokens but the embedding has 20"),
    "nan": (VOCAB, "nan", "NaN/inf"),
    "duplicates": ([*VOCAB[:-1], "word3"], None, "duplicated token"),
    "empty_vocabulary": ([], None, "is empty"),
    "not_the_model_matrix": (VOCAB, "dim8", "model's embedding layer has"),
}


@pytest.mark.parametrize("case", list(BAD_PUBLISH))
def test_publish_refuses_an_inconsistent_set_and_logs_or_registers_nothing(
    case: str, tracking: Server
) -> None:
    vocabulary, poison, fragment = BAD_PUBLISH[case]
    model = tiny_model()
    matrix = matrix_of(model)
    if poison == "nan":
        matrix[4, 2] = np.nan
    elif poison == "dim8":
        matrix = matrix[:, :8]
    name = f"publish-{case}-{uuid.uuid4().hex[:6]}"
    connect(compose_config())
    with mlflow.start_run(), pytest.raises(RegistryError, match=fragment) as raised:
        publish_model(
            model, vocabulary, matrix, sequence_length=8, registered_name=name, aliases=()
        )
    assert "nothing was logged or registered" in str(raised.value)
    assert versions_of(name) == []
    assert MlflowClient().search_logged_models([experiment_id()]) == []


def test_a_registration_that_fails_late_leaves_no_half_registered_version(
    tracking: Server,
) -> None:
    """The alias is the very last step; when the registry refuses it, the version goes too."""
    name = f"rollback-{uuid.uuid4().hex[:6]}"
    model = tiny_model()
    connect(compose_config())
    with mlflow.start_run(), pytest.raises(MlflowException, match="reserved"):
        publish_model(
            model,
            VOCAB,
            matrix_of(model),
            sequence_length=8,
            registered_name=name,
            aliases=("current", "v1"),
        )
    assert versions_of(name) == []


def test_a_published_version_holds_verified_files_and_no_pickle(
    tracking: Server, tmp_path: Path
) -> None:
    name = f"complete-{uuid.uuid4().hex[:6]}"
    model = tiny_model()
    connect(compose_config())
    with mlflow.start_run():
        published = publish_model(
            model,
            VOCAB,
            matrix_of(model),
            sequence_length=8,
            registered_name=name,
            aliases=("base",),
        )
    version = MlflowClient().get_model_version(name, published.version)
    local = Path(
        mlflow.artifacts.download_artifacts(
            f"models:/{name}/{published.version}", dst_path=str(tmp_path / "model")
        )
    )
    for filename, tag in DIGEST_TAGS.items():
        (stored,) = local.rglob(filename)
        assert sha256_file(stored) == version.tags[tag]
    files = [p.name for p in local.rglob("*") if p.is_file()]
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".cloudpickle"))], files
    flavor = yaml.safe_load((local / "MLmodel").read_text())["flavors"]["python_function"]
    assert flavor["model_code_path"].endswith(".py")  # models-from-code: source, not a pickle
    assert "python_model" not in flavor  # no cloudpickled PythonModel instance
    source = resolve_source(f"models:/{name}@base", tmp_path / "resolved")
    assert source.vocabulary == VOCAB and np.array_equal(source.embedding, matrix_of(model))


# ---------------------------------------------------------------- basic authentication


ADMIN_PASSWORD = "Adm1n-pw-for-tests!"


@pytest.fixture
def basic_auth_server(tmp_path: Path) -> Iterator[Server]:
    """`mlflow server --app-name basic-auth`, admin password from an auth config file."""
    pytest.importorskip(
        "flask_wtf", reason="the basic-auth app needs Flask-WTF (pin: Flask-WTF==1.3.0)"
    )
    root = tmp_path / "auth-store"
    root.mkdir()
    ini = root / "basic_auth.ini"
    ini.write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = sqlite:///{root}/basic_auth.db\n"
        f"admin_username = admin\nadmin_password = {ADMIN_PASSWORD}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
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
