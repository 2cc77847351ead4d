"""Inject bad inputs and faults into the stages and count what the store shows afterwards.

Against a fresh `mlflow server` (loopback, SQLite), it tries every bad warm-start source
(missing name/version/alias, foreign or incomplete versions, tampered or pickled files,
inconsistent vocabulary and matrix, NaN/inf, dim mismatch, unsafe Keras file), a bad
data.path, bad overrides, an unreachable server, SIGTERM and Ctrl-C mid-training, a server
restart during training, three concurrent warm starts and credential-bearing settings.
Then it prints one table:

    cases tried | handled as specified | runs lost | runs left RUNNING | half-registered versions

    python benchmarks/bench_reliability.py [--small] [--check] [--target NAME=LIMIT]

Each stage subprocess writes its output to files under the printed work directory (a pipe
nobody reads while the benchmark polls the server would stall a child that fills it).

A version is half-registered when a failure left it behind incomplete: its files do not all
resolve and verify against the digests its record holds (`version_format.read_record`), or it
was never assessed (no promotion decision: a failed run deletes its version, so one without a
decision is what a run that died between registering and deciding leaves).

The half-registered check is itself checked: the crafted versions whose files are missing,
altered or not ours must each be flagged by it (`half_check_flags_broken`), so a count of 0
means the check looked, not that it cannot see.

`--check` (benchmarks/gate.py) exits 1 when a case was not handled as specified
(`cases_handled`: handled == tried), a run was lost (`runs_lost`), left RUNNING
(`runs_running`), a version is half-registered (`half_registered`), or a phase failed before it
could count. Takes four to five minutes here: each of its 13 stage subprocesses imports
TensorFlow. `--small` tries every case too, but runs the five command-line cases while the
SIGTERM and Ctrl-C ones train (a minute less when the machine has a core to spare).
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")  # keep the table readable
import gate
import mlflow
from compose import compose_config
from faults import (
    craft_bad_sources,
    error_lines,
    has_metric,
    run_of_experiment,
    signal_each_when_training,
    stage_command,
    stage_env,
    wait_for,
)
from mlflow.tracking import MlflowClient
from servers import Server, free_port, start_server

from warmstart.core.errors import WarmstartError
from warmstart.stages import train_base, warm_start
from warmstart.tracking.connection import connect
from warmstart.tracking.resolve import resolve_source
from warmstart.tracking.runs import stage_run
from warmstart.tracking.version_format import PROMOTION_TAG

SMOKE = "experiment=smoke"
SECRET = "s3cr3t-bench"
# The fault cases interrupt training mid-way: early stopping would end it first (smoke data
# converges in a few epochs), so they train every epoch they ask for.
LONG = "train.early_stopping.enabled=false"
RESTART_EPOCHS = 40
# Crafted versions (faults.py) the half-registered check must flag: a file missing,
# altered after publishing, or no warmstart files at all.
BROKEN_CRAFTED = ("no_embedding_file", "tampered_embedding", "not_published_by_warmstart")


class Stage:
    """A stage subprocess whose stdout and stderr go to files under the work directory."""

    def __init__(self, work: Path, stage: str, overrides: list[str], env: dict[str, str]):
        logs = work / "logs"
        logs.mkdir(exist_ok=True)
        self.stderr = logs / f"{stage}-{uuid.uuid4().hex[:8]}.err"
        with self.stderr.open("w") as err, self.stderr.with_suffix(".out").open("w") as out:
            command = stage_command(stage, *overrides)
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)

    def send_signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def finish(self, timeout: float) -> tuple[int, str]:
        """Exit code (killed past `timeout`: negative) and what it wrote to stderr."""
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        return code, self.stderr.read_text()


@dataclass
class Ledger:
    """Cases and their verdicts, and how many runs each experiment must hold."""

    handled: dict[str, bool] = field(default_factory=dict)
    runs: dict[str, int] = field(default_factory=dict)

    def record(self, case: str, ok: bool, experiment: str | None = None, runs: int = 0) -> None:
        self.handled[case] = bool(ok)
        if experiment:
            self.runs[experiment] = self.runs.get(experiment, 0) + runs
        print(f"  {'ok ' if ok else 'BAD'} {case}", flush=True)


def one_line_with_fix(message: str) -> bool:
    what, _, fix = message.partition("; ")
    return bool(what) and len(fix) > 10 and "\n" not in message


def versions(name: str) -> list[str]:
    return sorted(v.version for v in MlflowClient().search_model_versions(f"name = '{name}'"))


def use(server: Server, experiment: str) -> None:
    os.environ["MLFLOW_TRACKING_URI"] = server.uri
    os.environ["MLFLOW_EXPERIMENT_NAME"] = experiment


def in_process_failure(
    ledger: Ledger, case: str, server: Server, name: str, stage: Callable, *overrides: str
) -> None:
    """A stage called in-process must raise one clear line, end its run FAILED, register nothing."""
    experiment = f"bench-{case}-{uuid.uuid4().hex[:6]}"
    use(server, experiment)
    cfg = compose_config(SMOKE, f"registry.model_name={name}", "reuse=false", *overrides)
    connect(cfg)
    before = versions(name)
    try:
        stage(cfg)
        ok = False
    except WarmstartError as exc:
        runs = run_of_experiment(MlflowClient(), experiment)
        ok = one_line_with_fix(str(exc)) and [r.info.status for r in runs] == ["FAILED"]
    ledger.record(case, ok and versions(name) == before, experiment, 1)


def cli_cases(
    ledger: Ledger, server: Server, name: str, cache: str, work: Path
) -> Callable[[], None]:
    """Start the command-line cases; the returned call waits for them and records them."""
    experiment = f"bench-cli-{uuid.uuid4().hex[:6]}"
    env = stage_env(server.uri, experiment)
    dead = stage_env(f"http://127.0.0.1:{free_port()}", experiment)
    source, target = f"warmstart.source=models:/{name}@base", f"registry.model_name={name}"
    before = versions(name)
    started = {
        "unknown_config_key": Stage(work, "warm_start", [SMOKE, "nosuchkey=1", cache], env),
        "malformed_override": Stage(work, "warm_start", [SMOKE, "train.epochs=[1", cache], env),
        "wrong_type_value": Stage(work, "warm_start", [SMOKE, "train.epochs=", cache], env),
        "bad_value": Stage(
            work, "warm_start", [SMOKE, source, target, "train.epochs=0", cache], env
        ),
        "unreachable_server": Stage(
            work, "warm_start", [SMOKE, "tracking.connect_timeout=2", cache], dead
        ),
    }

    def collect() -> None:
        done = {case: p.finish(600) for case, p in started.items()}
        statuses = [r.info.status for r in run_of_experiment(MlflowClient(), experiment)]
        for case, (code, stderr) in done.items():
            ok = code != 0 and "Traceback" not in stderr
            if case == "unknown_config_key":
                ok = ok and "nosuchkey" in stderr
            elif case == "malformed_override":
                ok = ok and "'[1'" in stderr
            elif case == "wrong_type_value":  # Hydra's schema refuses it at composition
                ok = ok and "could not be converted to Integer" in stderr
            else:
                lines = error_lines(stderr)
                ok = ok and code == 1 and len(lines) == 1 and one_line_with_fix(lines[0])
            ledger.record(case, ok)
        # Only the stage whose config composed and whose server answered starts a run.
        ledger.runs[experiment] = 1
        ledger.handled["bad_value"] &= statuses == ["FAILED"] and versions(name) == before

    return collect


def interrupt_cases(ledger: Ledger, server: Server, cache: str, work: Path) -> None:
    """SIGTERM and Ctrl-C, one process each, each signalled as soon as its own first epoch is
    logged (waiting for one first let the other finish all its epochs on a busy machine)."""
    client = MlflowClient(server.uri)
    tag = uuid.uuid4().hex[:6]
    names = {signal.SIGTERM: f"bench-sigterm-{tag}", signal.SIGINT: f"bench-ctrl-c-{tag}"}

    def overrides(signum: int, epochs: int) -> list[str]:
        model = f"registry.model_name={names[signum]}"
        return [SMOKE, "reuse=false", model, f"train.epochs={epochs}", LONG, cache]

    envs = {s: stage_env(server.uri, n) for s, n in names.items()}
    processes = {s: Stage(work, "train_base", overrides(s, 200), envs[s]) for s in names}
    unsignalled = dict(processes)
    try:
        wait_for(signal_each_when_training(client, unsignalled, names), 300, "both first epochs")
    except AssertionError as exc:  # a process never signalled fails its case (killed below)
        print(f"  {exc}", flush=True)
    verdict = {}
    for signum, process in processes.items():
        code, _ = process.finish(0 if signum in unsignalled else 120)
        statuses = [r.info.status for r in run_of_experiment(client, names[signum])]
        verdict[signum] = code == 130 and statuses == ["KILLED"] and versions(names[signum]) == []
    again = {s: Stage(work, "train_base", overrides(s, 1), envs[s]) for s in names}
    for signum, process in again.items():
        rerun_ok = process.finish(600)[0] == 0 and versions(names[signum]) == ["1"]
        case = "sigterm_mid_training" if signum == signal.SIGTERM else "ctrl_c_mid_training"
        ledger.record(case, verdict[signum] and rerun_ok, names[signum], 2)


def restart_case(
    ledger: Ledger, server: Server, port: int, cache: str, work: Path, epochs: int
) -> Server:
    experiment, name = f"bench-restart-{uuid.uuid4().hex[:6]}", "bench-restart"
    client = MlflowClient(server.uri)
    env = stage_env(
        server.uri,
        experiment,
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="1",
        MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR="1",
    )
    overrides = [SMOKE, f"train.epochs={epochs}", LONG, "reuse=false"]
    overrides.append(f"registry.model_name={name}")
    process = Stage(work, "train_base", [*overrides, cache], env)
    try:
        wait_for(lambda: has_metric(client, experiment, "loss"), 300, "a first epoch")
    except AssertionError:
        process.finish(0)
        raise
    server.stop()
    time.sleep(3)
    server = start_server(server.root, port)
    code, _ = process.finish(600)
    runs = run_of_experiment(client, experiment)
    complete = all(
        sorted(p.step for p in client.get_metric_history(r.info.run_id, key)) == list(range(epochs))
        for r in runs
        for key in ("loss", "val_accuracy")
    )
    ok = code == 0 and [r.info.status for r in runs] == ["FINISHED"] and complete
    ledger.record("server_restart_mid_training", ok and versions(name) == ["1"], experiment, 1)
    return server


def concurrency_case(ledger: Ledger, server: Server, name: str, cache: str, work: Path) -> None:
    experiment = f"bench-concurrent-{uuid.uuid4().hex[:6]}"
    before = versions(name)
    overrides = [SMOKE, f"warmstart.source=models:/{name}@base", f"registry.model_name={name}"]
    env = stage_env(server.uri, experiment)
    processes = [
        Stage(work, "warm_start", [*overrides, "train.epochs=1", cache], env) for _ in "abc"
    ]
    codes = [p.finish(900)[0] for p in processes]
    runs = run_of_experiment(MlflowClient(), experiment)
    new = set(versions(name)) - set(before)
    ok = codes == [0, 0, 0] and len(new) == 3 and [r.info.status for r in runs] == ["FINISHED"] * 3
    ledger.record("three_concurrent_warm_starts", ok, experiment, 3)


def secrets_case(ledger: Ledger, server: Server) -> None:
    experiment = f"bench-secrets-{uuid.uuid4().hex[:6]}"
    use(server, experiment)
    overrides = [
        SMOKE,
        f"tracking.uri=http://alice:{SECRET}@127.0.0.1:5000",
        f"+tracking.password={SECRET}",
        f"+registry.api_token={SECRET}",
    ]
    cfg = compose_config(*overrides)
    connect(cfg)
    with stage_run(cfg, "probe", overrides=overrides) as active:
        run_id = active.info.run_id
    run = MlflowClient().get_run(run_id)
    exposed = "".join(f"{k}={v}" for k, v in [*run.data.params.items(), *run.data.tags.items()])
    config_yaml = mlflow.artifacts.load_text(f"runs:/{run_id}/config.yaml")
    ledger.record(
        "secrets_in_config_and_overrides", SECRET not in exposed + config_yaml, experiment, 1
    )


def files_problem(name: str, number: str, tmp: Path) -> str | None:
    """Why the files of version `number` of `name` do not all resolve and verify against the
    digests its record holds (`resolve_source`), or None."""
    try:
        resolve_source(f"models:/{name}/{number}", Path(tempfile.mkdtemp(dir=tmp)))
    except WarmstartError as exc:
        return str(exc)
    return None


def count_store(ledger: Ledger, server: Server, tmp: Path) -> tuple[int, int, int]:
    """Runs lost, runs left RUNNING, half-registered versions, as the store shows them."""
    client = MlflowClient(server.uri)
    lost = sum(
        max(0, want - len(run_of_experiment(client, experiment)))
        for experiment, want in ledger.runs.items()
    )
    experiments = [e.experiment_id for e in client.search_experiments()]
    running = len(client.search_runs(experiments, "attributes.status = 'RUNNING'"))
    half = 0
    for model in client.search_registered_models():
        if model.name.endswith("-bad"):  # crafted on purpose by the bad-source cases
            continue
        for version in client.search_model_versions(f"name = '{model.name}'"):
            problem = files_problem(model.name, version.version, tmp)
            if not version.tags.get(PROMOTION_TAG):
                problem = "never assessed" + (f"; {problem}" if problem else "")
            if problem:
                print(f"  half-registered models:/{model.name}/{version.version}: {problem}")
            half += problem is not None
    return lost, running, half


def broken_flagged(uris: dict[str, str], tmp: Path) -> int:
    """How many crafted broken versions (`BROKEN_CRAFTED`) the half-registered check flags
    for their files (they were never assessed either: that alone is not counted here)."""
    flagged = 0
    for case in BROKEN_CRAFTED:
        name, number = uris[case].removeprefix("models:/").rsplit("/", 1)
        problem = files_problem(name, number, tmp)
        print(f"  control, {case}: {problem or 'NOT flagged'}", flush=True)
        flagged += problem is not None
    return flagged


def print_table(values: tuple[int, ...]) -> None:
    header = (
        "cases tried",
        "handled as specified",
        "runs lost",
        "runs left RUNNING",
        "half-registered versions",
    )
    widths = [len(h) for h in header]
    print()
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    print(" | ".join(str(v).rjust(w) for v, w in zip(values, widths, strict=True)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--small",
        action="store_true",
        help="every case, the command-line ones while the signalled ones train",
    )
    gate.add_arguments(parser)
    args = parser.parse_args()
    g = gate.Gate.from_args("bad input and faults, as the store shows them", args)
    work = Path(tempfile.mkdtemp(prefix="bench-reliability-"))
    cache = work / "cache"
    cache_override = f"paths.cache_dir={cache}"
    port = free_port()
    started = time.monotonic()
    ledger = Ledger()
    state: dict = {"server": start_server(work / "store", port)}

    def phase(title: str, step: Callable[[], object]) -> bool:
        """Run one phase; a phase that raises is reported and leaves the check unmeasured."""
        print(f"{title}:", flush=True)
        began = time.monotonic()
        try:
            step()
        except Exception as exc:  # the other phases still run, the store is still counted
            traceback.print_exc()
            g.cannot_measure(f"{title} failed: {type(exc).__name__}: {exc}")
            return False
        finally:
            print(f"  ({time.monotonic() - began:.0f} s)", flush=True)
        return True

    name = f"bench-{uuid.uuid4().hex[:6]}"
    uris: dict[str, str] = {}
    counts: tuple[int, int, int] | None = None
    flagged: int | None = None

    def base() -> None:
        use(state["server"], "bench-base")
        cfg = compose_config(SMOKE, f"registry.model_name={name}", cache_dir=cache)
        connect(cfg)
        published = train_base.run(cfg).published
        ledger.runs["bench-base"] = 1
        use(state["server"], "bench-crafting")
        good = f"models:/{name}/{published.version}"
        uris.update(craft_bad_sources(good, f"{name}-bad", work, state["server"].root))
        ledger.runs["bench-crafting"] = 1

    def in_process() -> None:
        server = state["server"]
        for case, uri in uris.items():
            source = f"warmstart.source={uri}"
            in_process_failure(ledger, case, server, name, warm_start.run, source, cache_override)
        no_data = f"data.path={work / 'no-such-aclImdb'}"
        data_name = f"{name}-data"
        in_process_failure(
            ledger, "bad_data_path", server, data_name, train_base.run, no_data, cache_override
        )
        secrets_case(ledger, server)

    def restart() -> None:
        state["server"] = restart_case(
            ledger, state["server"], port, cache_override, work, RESTART_EPOCHS
        )

    def both(cli: Callable[[], Callable[[], None]], signals: Callable[[], None]) -> None:
        collect = cli()
        try:
            signals()
        finally:
            collect()

    def concurrent() -> None:
        concurrency_case(ledger, state["server"], name, cache_override, work)

    def count() -> None:
        nonlocal counts, flagged
        counts = count_store(ledger, state["server"], work)
        flagged = broken_flagged(uris, work) if uris else None

    try:
        if phase("base and crafted bad versions", base):
            phase("bad warm-start sources, bad data, secrets (in-process)", in_process)
            server = state["server"]
            cli = functools.partial(cli_cases, ledger, server, name, cache_override, work)
            signals = functools.partial(interrupt_cases, ledger, server, cache_override, work)
            if args.small:  # the command-line cases run while the signalled ones train
                phase("command line, SIGTERM and Ctrl-C (subprocesses)", lambda: both(cli, signals))
            else:
                phase("command line (subprocesses)", lambda: cli()())
                phase("SIGTERM and Ctrl-C (subprocesses)", signals)
            phase("server restart mid-training (subprocess)", restart)
            phase("three concurrent warm starts (subprocesses)", concurrent)
        phase("counting the store", count)
    finally:
        state["server"].stop()
    tried, handled = len(ledger.handled), sum(ledger.handled.values())
    lost, running, half = counts if counts is not None else (None, None, None)
    print_table((tried, handled, lost, running, half))
    print(f"\n({time.monotonic() - started:.0f} s; store and logs under {work})")
    failed = [case for case, ok in ledger.handled.items() if not ok]
    if failed:
        print(f"not handled as specified: {', '.join(failed)}")
    g.compare("cases_handled", f"cases handled as specified, of {tried} tried", handled, tried,
              at_most=False)  # fmt: skip
    g.compare("runs_lost", "runs lost", lost, 0)
    g.compare("runs_running", "runs left RUNNING", running, 0)
    g.compare("half_registered", "half-registered versions", half, 0)
    g.compare("half_check_flags_broken", "crafted broken versions the half-registered check "
              "flags", flagged, len(BROKEN_CRAFTED), at_most=False)  # fmt: skip
    return g.exit_code()


if __name__ == "__main__":
    sys.exit(main())
