"""The tracked pipeline against the same three trainings in plain Keras, in one process.

    python benchmarks/bench_pipeline.py [--data synthetic|imdb] [--data-path ARCHIVE]
        [--epochs N] [--small] [--repeats 3] [--check] [--target NAME=LIMIT]

`--data synthetic` (the default) is `make run`: the embedded corpus, the defaults, early
stopping; no data needed, 4-5 minutes on 2 quiet cores. `--data imdb` is
`experiment=seed_tutorial` (IMDB, 10,000 -> 10,200 tokens, 15 epochs, batch 1024) on the
archive `--data-path` names. `--small` is a quick check of the machinery: the embedded corpus
at `experiment=smoke` (1,000 rows, 3 epochs), or IMDB at 3 epochs; it gates what holds at
that size (the warm start's claims, the per-epoch ratio), not the figures published for the
full size, and prints the wall ratios without gating them (a few seconds of training cannot
carry the fixed cost of tracking and registering: the wall targets are claims about the
full size).

Ours is the whole pipeline (`pipeline.run`: MLflow tracking into one SQLite store, registry,
evaluation, compare); the peer trains base, warm and cold with the project's data, remap and
model code and plain `fit` (no MLflow, no callbacks). The two alternate, `--repeats` times
(at least 3); each ratio is the median of the per-repeat ratios, printed with its range:
- per-epoch (<= 1.05): two copies of the cold model trained side by side one epoch at a
  time, each epoch one of them with the stages' per-epoch tracking (inside a run, every
  epoch logged) and the other plain; which copy is tracked and which side goes first both
  alternate, so every block has each copy tracked as often, first as often
  (`epoch_overhead`: whole runs on this machine differ by up to 20% plain against plain,
  epoch by epoch within 2%); 5 blocks of 8 whole epochs (steps, validation and every
  callback's end-of-epoch work), the median of the blocks' ratios of mean epochs. The median
  epoch inside the pipeline is printed too;
- whole wall: everything a user waits for, evaluation included (<= 2.0; the evaluation is
  15 s of the pipeline's 40 s on IMDB);
- wall without evaluation: ours minus its `evaluation_seconds` (MLflow's evaluator, pyfunc
  loads, the champion's score: work the peer does not do) (<= 1.3).
The store's one-time set-up (MLflow's migrations of a fresh store) is outside both sides and
printed apart. Also gated: the accuracy figures the docs quote for this data (at the
documented epochs only; other epoch counts gate only what holds at any length) and `make
run`'s wall time. `--check` exits 1 when any target is missed or could not be measured.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import gate
import keras
import mlflow
from hydra import compose, initialize_config_dir
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig

from warmstart.config import CONFIG_DIR, PROJECT_ROOT, with_overlay
from warmstart.config.initializer import initializer_of
from warmstart.core.remap import remap_embeddings
from warmstart.data import load_splits
from warmstart.modeling import optimizer_state, prepare
from warmstart.modeling.fit import EpochTimer, FitResult, batch_size_of, fit
from warmstart.modeling.model import build_model, compile_model, embedding_matrix_of, head_of
from warmstart.stages import pipeline
from warmstart.tracking.connection import connect
from warmstart.tracking.metrics import MetricsLogger

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data" / "aclImdb_v1_labeled.tar.gz"
ROLES = ("base", "warm", "cold")
TOLERANCE = 0.02  # a quoted accuracy holds when the measured one is at most this much worse


@dataclass(frozen=True)
class Quoted:
    """What the README and docs/benchmarks.md publish for one data source (at `epochs`)."""

    epochs: int | None  # None: the config's own (early stopping)
    base_final: float
    warm_e1: float
    cold_e1: float
    wall_seconds: float  # `make run` wall time, as published
    tutorial_e1: dict[str, float] = field(default_factory=dict)  # logit > 0.5, epoch 1


QUOTED = {
    # README "What make run shows" and docs/benchmarks.md: base 0.941 -> 0.967 in 8 epochs,
    # warm 0.942 after one (5 epochs), cold 0.727 (7 epochs); "about 40 seconds" (README),
    # "about 35 s" (docs): the README's figure is gated.
    "synthetic": Quoted(epochs=None, base_final=0.967, warm_e1=0.942, cold_e1=0.727,
                        wall_seconds=40.0),
    # docs/benchmarks.md: seed_tutorial on IMDB, and the tutorial's published epoch-1 figures.
    "imdb": Quoted(epochs=15, base_final=0.831, warm_e1=0.831, cold_e1=0.662, wall_seconds=70.0,
                   tutorial_e1={"base": 0.489, "cold": 0.489, "warm": 0.814}),
}  # fmt: skip


SMALL_EPOCHS = 3  # --small on IMDB


def compose_config(
    data: str, data_path: str, work: Path, *overrides: str, small: bool = False
) -> DictConfig:
    """The benchmark's config: `make run`'s (synthetic; `small`: the smoke preset) or
    seed_tutorial's (IMDB), a store and cache under `work`, and no reuse of a finished run
    (every repeat trains)."""
    source = ["experiment=seed_tutorial", f"data.path={data_path}"] if data == "imdb" else []
    if small and data == "synthetic":
        source = ["experiment=smoke"]
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose(
            "config",
            overrides=[
                *source,
                f"paths.cache_dir={work / 'cache'}",
                f"tracking.uri=sqlite:///{work / 'mlflow.db'}",
                "reuse=false",
                *overrides,
            ],
        )


def clean_environment() -> None:
    """No tracking URI, experiment or run of the caller's shell leaks into the benchmark."""
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
        os.environ.pop(var, None)


def warm_up(cfg: DictConfig) -> float:
    """Extract/generate both data generations and set up the store, outside every timing;
    returns the store's set-up seconds (once per store: a user's exists after the first run)."""
    load_splits(with_overlay(cfg, "base").data)
    load_splits(cfg.data)
    start = time.perf_counter()
    connect(cfg)
    return time.perf_counter() - start


def startup_seconds() -> float:
    """Seconds since this process started (interpreter start and imports, before `main`)."""
    with open("/proc/self/stat") as stat:
        started = int(stat.read().rsplit(")", 1)[1].split()[19])  # field 22: start time
    with open("/proc/uptime") as uptime:
        now = float(uptime.read().split()[0])
    return now - started / os.sysconf("SC_CLK_TCK")


@dataclass
class Side:
    """One run of one side: wall seconds, and per role its curves and epoch seconds."""

    wall: float
    curves: dict[str, dict[str, list[float]]]
    evaluation: float = 0.0  # ours: the evaluation_seconds its runs logged

    def epoch_median(self, roles: tuple[str, ...] = ROLES) -> float:
        return statistics.median(s for r in roles for s in self.curves[r]["epoch_seconds"])


def curves_of(result: FitResult) -> dict[str, list[float]]:
    return {
        "val_accuracy": result.history["val_accuracy"],
        "val_tutorial_accuracy": result.history.get("val_tutorial_accuracy", []),
        "epoch_seconds": list(result.epoch_seconds),
    }


def plain_train(model: keras.Model, data: prepare.Prepared, cfg, restore=None) -> FitResult:
    """Plain `fit`: no tracking callback, the seed set as the tracked stage sets it."""
    keras.utils.set_random_seed(int(cfg.seed))
    return fit(model, train=data.train, val=data.val, test=data.test, train_cfg=cfg.train,
               on_compiled=restore)  # fmt: skip


def plain_model(cfg, data: prepare.Prepared, **warm) -> keras.Model:
    return build_model(vocab_size=len(data.vocabulary), sequence_length=data.sequence_length,
                       model_cfg=cfg.model, num_classes=len(data.labels), **warm)  # fmt: skip


def plain_keras(cfg: DictConfig) -> Side:
    """Base, warm (remapped rows, the base's head and Adam state) and cold with the project's
    data, remap and model code and plain `fit`: the peer. Data are prepared afresh, as the
    pipeline prepares them once per run."""
    prepare._prepared.cache_clear()
    start = time.perf_counter()
    seed = int(cfg.seed)
    base_cfg = with_overlay(cfg, "base")
    old = prepare.prepare_data(base_cfg.data, base_cfg.vocab, seed)
    base = plain_model(cfg, old)
    results = {"base": plain_train(base, old, base_cfg)}
    saved = optimizer_state.capture(base)
    new = prepare.prepare_data(cfg.data, cfg.vocab, seed)
    remapped = remap_embeddings(old.vocabulary, new.vocabulary, embedding_matrix_of(base),
                                initializer=initializer_of(cfg.warmstart), seed=seed)  # fmt: skip
    warm = plain_model(cfg, new, embedding_matrix=remapped.matrix, head=head_of(base))
    plan = remapped.report.plan

    def restore(model: keras.Model) -> None:
        optimizer_state.restore(model, saved, vocabulary_plan=plan, label_plan=None)

    results["warm"] = plain_train(warm, new, cfg, restore)
    results["cold"] = plain_train(plain_model(cfg, new), new, cfg)
    wall = time.perf_counter() - start
    return Side(wall=wall, curves={role: curves_of(r) for role, r in results.items()})


def series(client: MlflowClient, run_id: str, key: str) -> list[float]:
    """A logged metric's values in step order."""
    return [p.value for p in sorted(client.get_metric_history(run_id, key), key=lambda p: p.step)]


def tracked(cfg: DictConfig) -> Side:
    """The pipeline as `mlflow run .` runs it; curves read back from the store."""
    prepare._prepared.cache_clear()  # each run prepares its data, as a fresh process does
    start = time.perf_counter()
    ids = pipeline.run(cfg, overrides=[]).run_ids
    wall = time.perf_counter() - start
    client = MlflowClient()
    keys = ("val_accuracy", "val_tutorial_accuracy", "epoch_seconds")
    curves = {role: {k: series(client, ids[role], k) for k in keys} for role in ROLES}
    evaluation = sum(sum(series(client, ids[r], "evaluation_seconds")) for r in ROLES)
    return Side(wall=wall, curves=curves, evaluation=evaluation)


def repeated(
    ours: Callable[[], Side], peer: Callable[[], Side], repeats: int
) -> tuple[list[Side], list[Side]]:
    """`gate.alternate` over whole runs: each side's runs kept, progress printed."""
    mine: list[Side] = []
    theirs: list[Side] = []

    def run(fn: Callable[[], Side], into: list[Side], name: str) -> float:
        side = fn()
        into.append(side)
        print(f"  repeat {len(into)} {name}: {side.wall:.1f} s, median epoch "
              f"{side.epoch_median():.3f} s", flush=True)  # fmt: skip
        return side.wall

    gate.alternate(lambda: run(ours, mine, "pipeline"), lambda: run(peer, theirs, "plain"),
                   repeats)  # fmt: skip
    return mine, theirs


# Tracking's cost per epoch. Whole runs are too noisy for a 5% target on this machine: its
# epochs flip between two speeds (two TF threads on 2 vCPUs), so two plain runs differ by up
# to 20%. Epoch by epoch, alternating which side goes first, plain against plain agree within
# 2%. BLOCKS blocks of BLOCK_EPOCHS epochs give the repeats (the first epoch, tracing, dropped).
BLOCKS = 5
BLOCK_EPOCHS = 8


def epoch_overhead(cfg: DictConfig, repeats: int) -> gate.Spread:
    """Tracking's cost per epoch, apart from the pipeline's other work: two copies of the cold
    model trained side by side one epoch at a time (Keras `fit` with `initial_epoch`), each
    epoch one with the stages' per-epoch tracking (`MetricsLogger` inside a run of the
    benchmark's store, its sender writing in the background) and one plain. Which copy is
    tracked alternates every two epochs and which side goes first every epoch, so in every
    block each copy is tracked in half the epochs, first in half of those: what differs
    between the two copies (plain against plain, the copy built first was up to 4% slower
    in some runs, not in others) or between going first and second cancels instead of
    counting as tracking. Each epoch is timed whole (`EpochTimer`: steps, validation, every
    callback's end-of-epoch work). Per block (at least `BLOCKS`, or `repeats`) the ratio of
    the two sides' mean epoch; the median over blocks with its range."""
    data = prepare.prepare_data(cfg.data, cfg.vocab, int(cfg.seed))
    connect(cfg)
    batch = batch_size_of(cfg.train, len(data.train.labels))
    blocks = max(repeats, BLOCKS)

    def copy() -> Callable[[int, list[keras.callbacks.Callback]], float]:
        keras.utils.set_random_seed(int(cfg.seed))
        model = compile_model(plain_model(cfg, data), float(cfg.train.learning_rate),
                              num_classes=len(data.labels))  # fmt: skip
        timer = EpochTimer()

        def epoch(index: int, tracking: list[keras.callbacks.Callback]) -> float:
            model.fit(data.train.ids, data.train.labels, batch_size=batch, shuffle=True,
                      validation_data=(data.val.ids, data.val.labels), verbose=0,
                      initial_epoch=index, epochs=index + 1,
                      callbacks=[timer, *tracking])  # fmt: skip
            return timer.seconds[-1]

        return epoch

    with mlflow.start_run(run_name="bench epoch overhead") as run:
        logger = MetricsLogger(run.info.run_id)
        copies = (copy(), copy())
        mine, theirs = [], []
        # A cycle of 4 epochs: copy 0 tracked (the tracked side first, then the plain side
        # first), then copy 1 the same; a block of 8 (after the dropped first) holds 2 cycles.
        for index in range(blocks * BLOCK_EPOCHS + 1):
            ours, peer = copies[::-1] if (index // 2) % 2 else copies
            sides = ((ours, [logger], mine), (peer, [], theirs))
            for fn, tracking, into in sides[:: 1 if index % 2 == 0 else -1]:
                into.append(fn(index, tracking))
        logger.flush()
    mine, theirs = mine[1:], theirs[1:]  # epoch 1 traces the graph

    def means(values: list[float]) -> list[float]:
        return [statistics.fmean(values[b * BLOCK_EPOCHS : (b + 1) * BLOCK_EPOCHS])
                for b in range(blocks)]  # fmt: skip

    return gate.ratios(means(mine), means(theirs))


@dataclass
class Measured:
    ours: list[Side]
    peer: list[Side]
    store_setup: float
    startup: float
    epoch_overhead: gate.Spread

    def first(self, role: str, key: str, index: int) -> float:
        """The median over repeats of one curve point of ours."""
        return statistics.median(s.curves[role][key][index] for s in self.ours)

    def epochs(self, role: str) -> float:
        return statistics.median(len(s.curves[role]["val_accuracy"]) for s in self.ours)


def ratio_detail(spread: gate.Spread) -> str:
    detail = f"[{spread.low:.3f}..{spread.high:.3f}] over {len(spread.values)} repeats"
    if gate.faster_beyond_spread(spread):
        detail += "; ours faster on every repeat: needs investigating, not a speed-up"
    return detail


def declare(g: gate.Gate, data: str, epochs: int | None, small: bool, m: Measured | None) -> None:
    """Every target this run prints, measured or not (None: a miss under --check). The
    published figures are targets only at the size they were published for."""

    def value(fn: Callable[[Measured], float]) -> float | None:
        return None if m is None else fn(m)

    quoted = QUOTED[data]
    documented = not small and (epochs is None or epochs == quoted.epochs)
    at = "" if documented else (" (smoke preset)" if data == "synthetic" else
                                f" at {epochs} epochs")  # fmt: skip
    # What the warm start claims at any length: it starts where the base ended, ahead of cold.
    g.compare("warm_epoch1_minus_base_final",
              f"warm epoch-1 val_accuracy - base final{at}",
              value(lambda m: m.first("warm", "val_accuracy", 0)
                    - m.first("base", "val_accuracy", -1)),
              # the embedded corpus's next generation brings new words; IMDB's are the same
              -0.05 if data == "synthetic" else -0.01, at_most=False)  # fmt: skip
    g.compare("warm_minus_cold_epoch1", f"warm ahead of cold after epoch 1 (val_accuracy){at}",
              value(lambda m: m.first("warm", "val_accuracy", 0)
                    - m.first("cold", "val_accuracy", 0)), 0.0, at_most=False)  # fmt: skip
    if documented:
        g.compare("base_final_val_accuracy", "base final val_accuracy",
                  value(lambda m: m.first("base", "val_accuracy", -1)),
                  quoted.base_final - TOLERANCE, at_most=False,
                  detail=f"published {quoted.base_final}")  # fmt: skip
        g.compare("warm_epoch1_val_accuracy", "warm val_accuracy after epoch 1",
                  value(lambda m: m.first("warm", "val_accuracy", 0)),
                  quoted.warm_e1 - TOLERANCE, at_most=False,
                  detail=f"published {quoted.warm_e1}")  # fmt: skip
        g.compare("make_run_wall_seconds",
                  "make run wall s (start-up + first pipeline)",
                  value(lambda m: m.startup + m.ours[0].wall), quoted.wall_seconds,
                  detail="published: about this")  # fmt: skip
    if data == "synthetic" and documented:
        g.compare("warm_epochs_minus_cold_epochs", "warm stops early sooner: epochs warm - cold",
                  value(lambda m: m.epochs("warm") - m.epochs("cold")), 0.0,
                  detail="published 5 - 7")  # fmt: skip
    if data == "synthetic" and not documented:
        g.compare(
            "base_learns",
            "base final val_accuracy (smoke preset: well above chance, 0.5)",
            value(lambda m: m.first("base", "val_accuracy", -1)),
            0.7,
            at_most=False,
        )
    else:
        # Cold's (and the base's) first epoch is the same at any epoch count.
        g.compare("cold_epoch1_val_accuracy", "cold val_accuracy after epoch 1",
                  value(lambda m: m.first("cold", "val_accuracy", 0)),
                  quoted.cold_e1 + TOLERANCE, detail=f"published {quoted.cold_e1}")  # fmt: skip
    for role, published in quoted.tutorial_e1.items():
        if role == "warm" and not documented:
            continue
        better = role == "warm"
        g.compare(f"{role}_epoch1_tutorial_accuracy",
                  f"{role} tutorial_accuracy after epoch 1",
                  value(lambda m, r=role: m.first(r, "val_tutorial_accuracy", 0)),
                  published - TOLERANCE if better else published + TOLERANCE,
                  at_most=not better, detail=f"the tutorial's {published}")  # fmt: skip

    def spread(fn: Callable[[Measured], gate.Spread]) -> gate.Spread | None:
        return None if m is None else fn(m)

    overhead = spread(lambda m: m.epoch_overhead)
    g.compare("epoch_ratio", "epoch time, tracked / plain Keras (epoch by epoch)",
              None if overhead is None else overhead.median, 1.05,
              detail="" if overhead is None else ratio_detail(overhead))  # fmt: skip
    if m is not None:
        inside = gate.ratios([s.epoch_median() for s in m.ours], [s.epoch_median() for s in m.peer])
        print(f"median epoch time inside the pipeline / plain Keras: {inside} (the target is "
              "measured apart, epoch by epoch: whole runs here differ by up to 20%)")  # fmt: skip
    for name, label, limit, fn in (
        ("wall_ratio", "whole wall time (evaluation included) / plain Keras", 2.0,
         lambda m: gate.ratios([s.wall for s in m.ours], [s.wall for s in m.peer])),
        ("wall_ratio_without_evaluation", "wall time without evaluation / plain Keras", 1.3,
         lambda m: gate.ratios([s.wall - s.evaluation for s in m.ours],
                               [s.wall for s in m.peer])),
    ):  # fmt: skip
        s = spread(fn)
        if small and name.startswith("wall"):
            if s is not None:
                print(f"not a target at this size: {label} {s} ({name})")
            continue
        g.compare(name, label, None if s is None else s.median, limit,
                  detail="" if s is None else ratio_detail(s))  # fmt: skip


def report(data: str, where: str, m: Measured) -> None:
    """The measured figures, before the targets table."""
    print(f"\n{where}, {len(m.ours)} alternating repeats (ours | plain Keras)")
    print(f"{'run':<6}{'epochs':>7}{'val_acc e1':>12}{'val_acc last':>14}{'tut_acc e1':>12}"
          f"{'epoch s ours':>14}{'epoch s keras':>15}{'keras e1 / last':>17}")  # fmt: skip
    for role in ROLES:
        mine = statistics.median(statistics.median(s.curves[role]["epoch_seconds"])
                                 for s in m.ours)  # fmt: skip
        theirs = statistics.median(statistics.median(s.curves[role]["epoch_seconds"])
                                   for s in m.peer)  # fmt: skip
        tut = m.ours[0].curves[role]["val_tutorial_accuracy"]
        peer_curve = m.peer[0].curves[role]["val_accuracy"]
        print(f"{role:<6}{m.epochs(role):>7g}{m.first(role, 'val_accuracy', 0):>12.3f}"
              f"{m.first(role, 'val_accuracy', -1):>14.3f}"
              f"{(f'{tut[0]:.3f}' if tut else '-'):>12}{mine:>14.3f}{theirs:>15.3f}"
              f"{f'{peer_curve[0]:.3f} / {peer_curve[-1]:.3f}':>17}")  # fmt: skip
    walls = ", ".join(f"{o.wall:.1f}/{p.wall:.1f}" for o, p in zip(m.ours, m.peer, strict=True))
    evals = ", ".join(f"{o.evaluation:.1f}" for o in m.ours)
    print(f"wall s per repeat (pipeline/plain): {walls}; evaluation s: {evals}")
    print(f"tracking store set-up (once per store, outside every timing): {m.store_setup:.1f} s;"
          f" process start-up and imports: {m.startup:.1f} s")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=tuple(QUOTED), default="synthetic")
    parser.add_argument("--data-path", default=str(DEFAULT_DATA), help="the IMDB archive")
    parser.add_argument("--epochs", type=int, default=None, help="default: the config's")
    parser.add_argument(
        "--small", action="store_true", help="a quick check: the smoke preset, or IMDB at 3 epochs"
    )
    parser.add_argument("--repeats", type=int, default=gate.MIN_REPEATS)
    gate.add_arguments(parser)
    args = parser.parse_args()
    if args.repeats < gate.MIN_REPEATS:
        parser.error(f"--repeats: at least {gate.MIN_REPEATS}")
    startup = startup_seconds()
    if args.small and args.data == "imdb" and args.epochs is None:
        args.epochs = SMALL_EPOCHS
    epochs = args.epochs
    where = "the embedded corpus (make run)" if args.data == "synthetic" else (
        f"experiment=seed_tutorial on {args.data_path}")  # fmt: skip
    if args.small and args.data == "synthetic":
        where = "the embedded corpus, experiment=smoke (--small)"
    where += f", {epochs or QUOTED[args.data].epochs or 'the config`s'} epochs"
    g = gate.Gate.from_args(f"bench_pipeline, {where}", args)
    measured = None
    if args.data == "imdb" and not Path(args.data_path).exists():
        g.cannot_measure(f"{args.data_path} is absent; pass --data-path to an aclImdb archive")
    else:
        try:
            measured = measure(args, startup)
        except Exception as error:  # a failed step is a measurement not taken
            traceback.print_exc()
            g.cannot_measure(f"the benchmark failed: {type(error).__name__}: {error}")
    if measured is not None:
        report(args.data, where, measured)
    declare(g, args.data, epochs, args.small, measured)
    return g.exit_code()


def measure(args: argparse.Namespace, startup: float) -> Measured:
    clean_environment()
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    os.chdir(work)  # a SQLite store keeps its artifacts in ./mlruns: here, not in the checkout
    extra = [f"train.epochs={args.epochs}"] if args.epochs else []
    cfg = compose_config(args.data, args.data_path, work, *extra, small=args.small)
    store_setup = warm_up(cfg)
    ours, peer = repeated(lambda: tracked(cfg), lambda: plain_keras(cfg), args.repeats)
    print(f"  per-epoch overhead (cold model, {BLOCKS} x {BLOCK_EPOCHS} epochs, tracked and "
          "plain side by side) ...", flush=True)  # fmt: skip
    overhead = epoch_overhead(cfg, args.repeats)
    return Measured(ours, peer, store_setup, startup, overhead)


if __name__ == "__main__":
    sys.exit(main())
