"""Stages under bad input and faults, against a real MLflow server and registry.

The contract each case checks: one clear error line that names the fix, a non-zero exit,
the run (if one was started) ended FAILED or KILLED, never left RUNNING, and no new registry
version. Bad sources are crafted once per module (benchmarks/faults.py) and warm-started from
in-process; a few subprocesses check what only a process can show: exit codes, the one
`error:` line on stderr, signals, a server restart and concurrent registrations.
"""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from compose import compose_config
from faults import (
    craft_bad_sources,
    error_lines,
    finish,
    has_metric,
    run_of_experiment,
    signal_each_when_training,
    stage_env,
    start_stage,
    tamper,
    wait_for,
)
from mlflow.tracking import MlflowClient
from mlflow_fixtures import Server, free_port, start_server, versions_of

from warmstart.core.errors import DataError, RegistryError, RemapError, WarmstartError
from warmstart.stages import train_base, warm_start
from warmstart.tracking.aliases import champion_lock_model
from warmstart.tracking.champion_lock import champion_lock
from warmstart.tracking.connection import connect
from warmstart.tracking.resolve import model_id_of
from warmstart.tracking.version_format import OPTIMIZER_STATE, VERSION_FILES, read_record

pytestmark = pytest.mark.slow

SMOKE = "experiment=smoke"
# Each case: (how the source is named, the error type, a fragment of its message).
CASES: dict[str, tuple[type[WarmstartError], str]] = {
    "missing_model": (RegistryError, "cannot resolve warm-start source"),
    "missing_version": (RegistryError, "cannot resolve warm-start source"),
    "missing_alias": (RegistryError, "cannot resolve warm-start source"),
    "not_published_by_warmstart": (RegistryError, "carries no vocabulary/embedding digests"),
    "no_embedding_file": (RegistryError, "has no embedding.npy"),
    "tampered_embedding": (RegistryError, r"^embedding\.npy of .* was altered after publishing"),
    "vocabulary_longer_than_matrix": (RemapError, "tokens but base_embeddings has"),
    "dim_8_for_head_64": (RemapError, "expects 64-dimensional token vectors"),
    "nan_in_matrix": (RemapError, "NaN/inf"),
    "inf_in_matrix": (RemapError, "NaN/inf"),
    "duplicate_tokens": (RegistryError, "duplicated token"),
    "empty_vocabulary": (RegistryError, "is empty"),
    "pickled_embedding": (RegistryError, "allow_pickle=False"),
    "keras_lambda_layer": (RegistryError, "cannot be loaded safely"),
    "no_optimizer_state": (RemapError, "registered without optimizer state"),
}


def only_run() -> mlflow.entities.Run:
    """The one run of this test's experiment (read back from the server)."""
    (run,) = run_of_experiment(MlflowClient(), os.environ["MLFLOW_EXPERIMENT_NAME"])
    return run


def assert_one_line_with_fix(message: str) -> None:
    """A user-facing error is one line: what went wrong, then `; ` and what to do."""
    assert "\n" not in message and "Traceback" not in message
    what, _, fix = message.partition("; ")
    assert what and len(fix) > 10, message


@pytest.fixture(scope="module")
def base(mlflow_server: Server, data_cache: Path) -> Iterator[dict]:
    """One base model trained for this module, registered under a name of its own."""
    name = f"failures-{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
        mp.setenv("MLFLOW_EXPERIMENT_NAME", f"{name}-base")
        cfg = compose_config(SMOKE, f"registry.model_name={name}", cache_dir=data_cache)
        connect(cfg)
        outcome = train_base.run(cfg)
    yield {"name": name, "version": outcome.published.version, "cache": data_cache}


@pytest.fixture(scope="module")
def bad_sources(base: dict, mlflow_server: Server, tmp_path_factory) -> dict[str, str]:
    """Every bad warm-start source of CASES, as a URI; crafted in one run of their own."""
    name, tmp = base["name"], tmp_path_factory.mktemp("bad-sources")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
        mp.setenv("MLFLOW_EXPERIMENT_NAME", f"{name}-crafting")
        uris = craft_bad_sources(
            f"models:/{name}/{base['version']}", f"{name}-bad", tmp, mlflow_server.root
        )
    assert set(uris) == set(CASES)
    return uris


@pytest.mark.parametrize("case", list(CASES))
def test_bad_source_fails_the_warm_run_with_a_fix_and_registers_nothing(
    case: str, base: dict, bad_sources: dict[str, str], tracking: Server
) -> None:
    error, fragment = CASES[case]
    cfg = compose_config(
        SMOKE,
        f"warmstart.source={bad_sources[case]}",
        f"registry.model_name={base['name']}",
        cache_dir=base["cache"],
    )
    connect(cfg)
    before = versions_of(base["name"])
    with pytest.raises(error, match=fragment) as raised:
        warm_start.run(cfg)
    assert_one_line_with_fix(str(raised.value))
    assert only_run().info.status == "FAILED"
    assert versions_of(base["name"]) == before


# Every file a base version holds (train_base keeps Adam's state): each is altered in turn.
RECORDED = (*VERSION_FILES, OPTIMIZER_STATE)


@pytest.mark.parametrize("filename", RECORDED)
def test_a_source_with_any_recorded_file_altered_fails_the_warm_run_naming_that_file(
    filename: str, base: dict, tracking: Server
) -> None:
    """The module's base version, one stored file altered (and put back afterwards)."""
    version = MlflowClient().get_model_version(base["name"], base["version"])
    files = read_record(version.tags).files
    assert sorted(files) == sorted(RECORDED)  # the record names exactly the files tried here
    store, model_id = tracking.root / "artifacts", model_id_of(version)
    originals = {p: p.read_bytes() for p in store.rglob(filename) if model_id in p.parts}
    uri = f"models:/{base['name']}/{base['version']}"
    cfg = compose_config(
        SMOKE, f"warmstart.source={uri}", f"registry.model_name={base['name']}",
        cache_dir=base["cache"],
    )  # fmt: skip
    connect(cfg)
    before = versions_of(base["name"])
    try:
        tamper(store, model_id, filename)
        with pytest.raises(RegistryError) as raised:
            warm_start.run(cfg)
    finally:
        for path, original in originals.items():
            path.write_bytes(original)
    message = str(raised.value)
    assert re.match(rf"{re.escape(filename)} of {re.escape(uri)} .* altered after publishing",
                    message), message  # fmt: skip
    assert_one_line_with_fix(message)
    assert only_run().info.status == "FAILED"
    assert versions_of(base["name"]) == before


def test_bad_data_path_fails_the_base_run_and_registers_nothing(
    base: dict, tracking: Server, tmp_path: Path
) -> None:
    name = f"{base['name']}-datapath"
    cfg = compose_config(
        SMOKE,
        f"data.path={tmp_path / 'no-such-aclImdb'}",
        f"registry.model_name={name}",
        "reuse=false",
        cache_dir=base["cache"],
    )
    connect(cfg)
    with pytest.raises(DataError, match="does not exist") as raised:
        train_base.run(cfg)
    assert_one_line_with_fix(str(raised.value))
    assert "data.path" in str(raised.value)
    assert only_run().info.status == "FAILED"
    assert versions_of(name) == []


def test_cli_bad_input_exits_non_zero_with_one_error_line_and_no_lost_run(
    base: dict, mlflow_server: Server
) -> None:
    """Run in parallel, as a user would type them: each fails before or without training."""
    name, cache = base["name"], f"paths.cache_dir={base['cache']}"
    experiment = f"{name}-cli-{uuid.uuid4().hex[:6]}"
    env = stage_env(mlflow_server.uri, experiment)
    dead = stage_env(f"http://127.0.0.1:{free_port()}", experiment)
    source = f"warmstart.source=models:/{name}@base"
    before = versions_of(name)
    started = {
        "unknown_key": start_stage("warm_start", [SMOKE, "nosuchkey=1", cache], env),
        "malformed_override": start_stage("warm_start", [SMOKE, "train.epochs=[1", cache], env),
        "zero_epochs": start_stage(
            "warm_start",
            [SMOKE, source, f"registry.model_name={name}", "train.epochs=0", cache],
            env,
        ),
        "empty_epochs": start_stage("warm_start", [SMOKE, "train.epochs=", cache], env),
        "unreachable_server": start_stage(
            "warm_start", [SMOKE, "tracking.connect_timeout=2", cache], dead
        ),
    }
    done = {case: finish(p, 300) for case, p in started.items()}
    assert all(code != 0 for code, _ in done.values()), done

    # A command line Hydra cannot compose: one `error:` line naming the fix, exit code 2.
    said = {case: error_lines(done[case][1]) for case in ("unknown_key", "malformed_override",
                                                         "empty_epochs")}  # fmt: skip
    assert all(done[case][0] == 2 and len(said[case]) == 1 for case in said), done
    assert "unknown key 'nosuchkey'; a new key needs '+': +nosuchkey=1" in said["unknown_key"][0]
    assert "cannot parse override 'train.epochs=[1'" in said["malformed_override"][0]
    assert "give train.epochs a whole number" in said["empty_epochs"][0]  # the schema's type
    for case in ("zero_epochs", "unreachable_server"):
        code, stderr = done[case]
        (line,) = error_lines(stderr)
        assert code == 1 and "Traceback" not in stderr, stderr
        assert_one_line_with_fix(line)
    assert "train.epochs=0 must be an integer >= 1" in error_lines(done["zero_epochs"][1])[0]
    assert "did not answer within 2s" in error_lines(done["unreachable_server"][1])[0]

    # Only the run whose config composed and whose server answered was started: its bad
    # value ended it FAILED.
    (run,) = run_of_experiment(MlflowClient(mlflow_server.uri), experiment)
    assert run.info.status == "FAILED" and run.data.params["train.epochs"] == "0"
    assert versions_of(name) == before


def test_sigterm_and_ctrl_c_end_the_run_killed_register_nothing_and_a_rerun_succeeds(
    base: dict, mlflow_server: Server, tmp_path: Path
) -> None:
    """Both signals are tried at once (one process each), then both stages are run again."""
    client = MlflowClient(mlflow_server.uri)
    tag = uuid.uuid4().hex[:6]
    names = {
        signal.SIGTERM: f"{base['name']}-sigterm-{tag}",
        signal.SIGINT: f"{base['name']}-sigint-{tag}",
    }

    def overrides(signum: int, epochs: int) -> list[str]:
        return [
            SMOKE,
            "reuse=false",
            f"registry.model_name={names[signum]}",
            f"train.epochs={epochs}",
            # all of them: the signal goes once epoch 0 shows in the store (the metrics are sent
            # once a second), so early stopping must not end the training before it arrives
            "train.early_stopping.enabled=false",
            f"paths.cache_dir={base['cache']}",
        ]

    envs = {signum: stage_env(mlflow_server.uri, name) for signum, name in names.items()}
    processes = {
        s: start_stage("train_base", overrides(s, 200), envs[s], log=tmp_path / f"{s.name}.log")
        for s in names
    }
    try:
        # Each process is signalled as soon as its own epoch 0 is logged (a flake seen once).
        signalled = signal_each_when_training(client, dict(processes), names)
        wait_for(signalled, 240, "epoch 0 of both runs")
        for signum, process in processes.items():
            code, output = finish(process, 120)
            assert code == 130 and "the run was ended KILLED" in output, output[-2000:]
            (killed,) = run_of_experiment(client, names[signum])
            assert killed.info.status == "KILLED"
            assert versions_of(names[signum]) == []
    finally:
        for process in processes.values():
            process.kill()

    again = {s: start_stage("train_base", overrides(s, 1), envs[s]) for s in names}
    for signum, process in again.items():
        code, stderr = finish(process, 300)
        assert code == 0, stderr[-2000:]
        statuses = sorted(r.info.status for r in run_of_experiment(client, names[signum]))
        assert statuses == ["FINISHED", "KILLED"]
        assert versions_of(names[signum]) == ["1"]


def test_server_restart_during_training_loses_no_epoch_metric(base: dict, tmp_path: Path) -> None:
    """HTTP retries are cut to one so the stage's own buffer-and-flush path is exercised."""
    port, epochs = free_port(), 40
    server = start_server(tmp_path / "store", port)
    client = MlflowClient(server.uri)
    experiment, name = "restart", f"{base['name']}-restart"
    env = stage_env(
        server.uri,
        experiment,
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="1",
        MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR="1",
    )
    overrides = [
        SMOKE,
        f"train.epochs={epochs}",
        "train.early_stopping.enabled=false",  # every one of the 40 epochs is trained
        "reuse=false",
        f"registry.model_name={name}",
        f"paths.cache_dir={base['cache']}",
    ]
    process = start_stage("train_base", overrides, env, log=tmp_path / "train_base.log")
    try:
        wait_for(lambda: has_metric(client, experiment, "loss"), 180, "a first epoch")
        server.stop()
        time.sleep(3)
        server = start_server(tmp_path / "store", port)
        code, output = finish(process, 300)
        assert code == 0, output[-3000:]
        (run,) = run_of_experiment(client, experiment)
        assert run.info.status == "FINISHED"
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            steps = sorted(p.step for p in client.get_metric_history(run.info.run_id, key))
            assert steps == list(range(epochs)), (key, steps)
        assert [v.version for v in client.search_model_versions(f"name = '{name}'")] == ["1"]
    finally:
        process.kill()
        server.stop()


def test_concurrent_warm_starts_register_distinct_versions_and_keep_every_run(
    base: dict, mlflow_server: Server, tracking: Server, tmp_path: Path
) -> None:
    """Three warm starts of one model at once. The test holds the model's champion lock until
    each has registered its version and logged that it waits for the lock (its DEBUG line,
    shown by `hydra.verbose`), so all three really are in flight together and their
    promotions collide; released, they take turns. The test takes the lock when the first
    version is registered (its evaluation still ahead of it), not before the stages start:
    a waiter breaks a lock older than its lease (120 s), and three stages starting under load
    can take that long to get there."""
    client = MlflowClient(mlflow_server.uri)
    name, experiment = base["name"], f"{base['name']}-concurrent"
    before = versions_of(name)
    overrides = [
        SMOKE,
        f"warmstart.source=models:/{name}@base",
        f"registry.model_name={name}",
        "train.epochs=1",
        f"paths.cache_dir={base['cache']}",
        "hydra.verbose=[warmstart.tracking.champion_lock,warmstart.tracking.write_retry]",
    ]
    env = stage_env(mlflow_server.uri, experiment)
    logs = [tmp_path / f"warm-start-{i}.log" for i in range(3)]
    processes = []
    waiting = re.compile(r"the champion lock \S+ is taken; version (\d+) waits")

    def running() -> bool:
        for process, log in zip(processes, logs, strict=True):
            assert process.poll() is None, f"ended before the lock was free:\n{log.read_text()}"
        return True

    def first_registered() -> bool:
        return running() and len(versions_of(name)) > len(before)

    def all_three_wait() -> bool:
        return running() and all(waiting.search(log.read_text()) for log in logs)

    try:
        processes += [start_stage("warm_start", overrides, env, log=log) for log in logs]
        wait_for(first_registered, 900, "a first warm version")
        with champion_lock(name, holder="the test"):
            wait_for(all_three_wait, 900, "all three warm starts to wait for the champion lock")
            # A waiter breaks a lock older than its lease: the test's must still be the one.
            lock = client.get_registered_model(champion_lock_model(name))
            assert "the test" in lock.description, "a warm start broke the test's lock"
        done = [finish(process, 600) for process in processes]
    finally:
        for process in processes:
            process.kill()
    assert [code for code, _ in done] == [0, 0, 0], [output[-6000:] for _, output in done]
    waited = {waiting.search(log.read_text())[1] for log in logs}
    runs = run_of_experiment(client, experiment)
    assert sorted(r.info.status for r in runs) == ["FINISHED"] * 3
    new = [v for v in client.search_model_versions(f"name = '{name}'") if v.version not in before]
    assert len({v.version for v in new}) == 3 and waited == {v.version for v in new}, waited
    assert {v.run_id for v in new} == {r.info.run_id for r in runs}
    assert {r.data.tags["warmstart.registered_version"] for r in runs} == {v.version for v in new}
