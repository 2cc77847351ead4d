"""Craft broken model versions and faults, through the real MLflow APIs (no mocks).

`publish_model` refuses inconsistent inputs, so the bad versions a warm start must reject are
logged here the way a careless or hostile publisher would: our file names and record of
digests (`version_format.version_tags`), with whatever content the case needs. The tests
(tests/stages/test_failures.py, ...) and bench_reliability share these helpers; they live here so
that benchmarks never import from tests (the tests have benchmarks/ on their path: pyproject's
pytest `pythonpath`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import keras
import mlflow
import numpy as np
from mlflow.tracking import MlflowClient

from warmstart.core.digests import sha256_file
from warmstart.tracking.resolve import model_id_of, resolve_source
from warmstart.tracking.version_format import (
    DIGESTED_FILES,
    EMBEDDING,
    HEAD_MODEL,
    LABELS,
    SETTINGS,
    VERSION_FILES,
    VOCABULARY,
    version_tags,
)

_PLAIN_MODEL = """
import mlflow.pyfunc


class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input


mlflow.models.set_model(Echo())
"""


def _register(name: str, info: mlflow.models.model.ModelInfo, tags: dict[str, str]) -> str:
    client = MlflowClient()
    if not client.search_registered_models(f"name = '{name}'"):
        client.create_registered_model(name)
    run_id = mlflow.active_run().info.run_id
    version = client.create_model_version(
        name, info.model_uri, run_id=run_id, tags=tags, model_id=info.model_id
    )
    return str(version.version)


def publish_unchecked(
    name: str,
    *,
    keras_model: keras.Model | Path,
    vocabulary: Sequence[str],
    embedding: np.ndarray,
    omit: Sequence[str] = (),
    allow_pickle: bool = False,
) -> str:
    """Register a version with our files and a record of their digests, whatever their content.

    `keras_model` is saved (or copied) as the version's head.keras; `omit` leaves files out
    (their digests stay in the record); `allow_pickle` saves an object array.
    Needs an active run; returns the new version.
    """
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if isinstance(keras_model, Path):
            (folder / HEAD_MODEL).write_bytes(keras_model.read_bytes())
        else:
            keras_model.save(folder / HEAD_MODEL)
        (folder / VOCABULARY).write_text("".join(f"{t}\n" for t in vocabulary), encoding="utf-8")
        np.save(folder / EMBEDDING, embedding, allow_pickle=allow_pickle)
        (folder / SETTINGS).write_text('{"sequence_length": 48}')
        (folder / LABELS).write_text("0\n1\n")
        digests = {f: sha256_file(folder / f) for f in DIGESTED_FILES if (folder / f).exists()}
        tags = version_tags(
            digests, {}, registered_name=name, vocabulary_size=len(vocabulary), label_count=2
        )
        for filename in omit:
            (folder / filename).unlink()
        (folder / "model.py").write_text(_PLAIN_MODEL)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(folder / "model.py"),
            artifacts={f: str(folder / f) for f in VERSION_FILES if f not in omit},
            pip_requirements=["mlflow"],
            tags=tags,
        )
    return _register(name, info, tags)


def publish_plain_pyfunc(name: str) -> str:
    """Register a pyfunc that has none of our files or records (not ours to warm-start)."""
    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp) / "model.py"
        code.write_text(_PLAIN_MODEL)
        info = mlflow.pyfunc.log_model(
            name="model", python_model=str(code), pip_requirements=["mlflow"]
        )
    return _register(name, info, {})


def lambda_model(path: Path) -> Path:
    """A .keras file whose Lambda layer holds Python bytecode: safe_mode must refuse it."""
    model = keras.Sequential([keras.Input((48,)), keras.layers.Lambda(lambda x: x * 2)])
    model.save(path)
    return path


def tamper(artifact_root: Path, model_id: str, filename: str = EMBEDDING) -> Path:
    """Overwrite the stored `filename` of logged model `model_id` with other, valid content."""
    stored = [p for p in artifact_root.rglob(filename) if model_id in p.parts]
    assert stored, f"no stored {filename} of {model_id} under {artifact_root}"
    for path in stored:
        if filename == EMBEDDING:
            original = np.load(path, allow_pickle=False)
            np.save(path, np.zeros_like(original), allow_pickle=False)
        else:
            path.write_bytes(path.read_bytes() + b"tampered\n")
    return stored[0]


# ---------------------------------------------------------------- stage subprocesses


def stage_command(stage: str, *overrides: str) -> list[str]:
    """`python -m warmstart.stages.<stage> <overrides>`, as a user would type it."""
    return [sys.executable, "-m", f"warmstart.stages.{stage}", *overrides]


def stage_env(uri: str, experiment: str, **extra: str) -> dict[str, str]:
    """The environment of a stage subprocess: the tracking server and experiment only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(
        MLFLOW_TRACKING_URI=uri,
        MLFLOW_EXPERIMENT_NAME=experiment,
        TF_CPP_MIN_LOG_LEVEL="3",
        **extra,
    )
    return env


def start_stage(
    stage: str, overrides: Sequence[str], env: dict[str, str], log: Path | None = None
) -> subprocess.Popen:
    """The stage as a child process, its stdout and stderr piped; with `log`, both go to that
    file instead: for a stage left running while the test polls the server (nobody reads a
    pipe then, and a child that fills one stalls). `finish` collects either."""
    command = stage_command(stage, *overrides)
    with ctrl_c_as_at_a_terminal():
        if log is None:
            return subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        with log.open("w") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    process.log_path = log  # type: ignore[attr-defined]
    return process


@contextmanager
def ctrl_c_as_at_a_terminal() -> Iterator[None]:
    """Children started inside take SIGINT's default action, as a terminal's foreground job
    does. A process started with SIGINT ignored (pytest-xdist's workers under a shell's
    background job) passes that on, and Python then installs no KeyboardInterrupt handler:
    the stage could not be interrupted, and Ctrl-C not tested."""
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        yield
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def finish(process: subprocess.Popen, timeout: float) -> tuple[int, str]:
    """The stage's exit code and stderr (its whole output if started with a `log`), reading
    its pipes while it runs: a `wait()` before `communicate()` deadlocks on a child that fills
    one. Past `timeout` seconds it is killed and the test fails with what it said."""
    log = getattr(process, "log_path", None)
    try:
        stderr = process.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        process.kill()
        stderr = process.communicate()[1]
        said = log.read_text() if log else stderr
        raise AssertionError(f"still running after {timeout:g}s, killed:\n{said[-3000:]}") from None
    return process.returncode, log.read_text() if log else stderr


def error_lines(stderr: str) -> list[str]:
    """The lines a stage printed to explain a failure (TensorFlow's start-up noise aside)."""
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def wait_for(condition: Callable[[], bool], timeout: float, what: str, poll: float = 0.3) -> None:
    """Poll `condition` until true; fail the caller with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


def run_of_experiment(client: MlflowClient, experiment: str) -> list[mlflow.entities.Run]:
    """Every run of `experiment` (empty if the experiment was never created)."""
    found = client.get_experiment_by_name(experiment)
    return client.search_runs([found.experiment_id]) if found else []


def signal_each_when_training(
    client: MlflowClient, pending: dict[int, Any], experiments: Mapping[int, str]
) -> Callable[[], bool]:
    """A `wait_for` condition: sends each pending process (anything with `send_signal`) its
    signal, the key, as soon as its own run (in `experiments[signal]`) has logged an epoch,
    and drops it from `pending`; true when none is left. Waiting for one before the other let
    it finish all its epochs on a slow machine."""

    def signal_the_training() -> bool:
        for signum, process in list(pending.items()):
            if has_metric(client, experiments[signum], "val_accuracy"):
                process.send_signal(signum)
                del pending[signum]
        return not pending

    return signal_the_training


def has_metric(client: MlflowClient, experiment: str, key: str) -> bool:
    """True once a run of `experiment` has logged at least one point of `key`."""
    try:
        runs = run_of_experiment(client, experiment)
    except Exception:  # the server may be restarting
        return False
    return any(key in run.data.metrics for run in runs)


def craft_bad_sources(good_uri: str, bad: str, tmp: Path, server_root: Path) -> dict[str, str]:
    """One bad warm-start source per case, as a URI, from the good version at `good_uri`.

    Crafted versions are registered under `bad`; missing names, versions and aliases point
    at the good version's registered model. Uses the current tracking URI and experiment.
    """
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    mlflow.set_experiment(os.environ["MLFLOW_EXPERIMENT_NAME"])
    name = good_uri.removeprefix("models:/").split("/")[0].split("@")[0]
    good = resolve_source(good_uri, tmp)
    vocab, matrix, keras_file = good.vocabulary, good.embedding, good.head_path
    duplicated = [*vocab[:10], vocab[3], *vocab[11:]]
    pickled = np.empty(len(vocab), dtype=object)
    pickled[:] = list(matrix)

    def poisoned(value: float) -> np.ndarray:
        copy = matrix.copy()
        copy[7, 3] = value
        return copy

    def ours(**changes: object) -> str:
        inputs: dict = {"keras_model": keras_file, "vocabulary": vocab, "embedding": matrix}
        return publish_unchecked(bad, **{**inputs, **changes})

    crafted: dict[str, Callable[[], str]] = {
        "not_published_by_warmstart": lambda: publish_plain_pyfunc(bad),
        "no_embedding_file": lambda: ours(omit=[EMBEDDING]),
        "tampered_embedding": lambda: ours(),
        "vocabulary_longer_than_matrix": lambda: ours(embedding=matrix[:-5]),
        "dim_8_for_head_64": lambda: ours(embedding=matrix[:, :8].copy()),
        "nan_in_matrix": lambda: ours(embedding=poisoned(np.nan)),
        "inf_in_matrix": lambda: ours(embedding=poisoned(np.inf)),
        "duplicate_tokens": lambda: ours(vocabulary=duplicated),
        "empty_vocabulary": lambda: ours(vocabulary=[], embedding=matrix[:0]),
        "pickled_embedding": lambda: ours(embedding=pickled, allow_pickle=True),
        "keras_lambda_layer": lambda: ours(keras_model=lambda_model(tmp / "lambda.keras")),
        "no_optimizer_state": lambda: ours(),  # sound, but from before versions kept Adam's
    }
    uris = {
        "missing_model": f"models:/no-such-model-{os.urandom(4).hex()}/1",
        "missing_version": f"models:/{name}/999",
        "missing_alias": f"models:/{name}@no_such_alias",
    }
    with mlflow.start_run(run_name="craft bad sources"):
        for case, craft in crafted.items():
            uris[case] = f"models:/{bad}/{craft()}"
    tampered = MlflowClient().get_model_version(bad, uris["tampered_embedding"].split("/")[-1])
    tamper(server_root / "artifacts", model_id_of(tampered))
    return uris
