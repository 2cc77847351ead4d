"""Model families: warm against cold for each through the tracked pipeline, and drift cases.

    python benchmarks/bench_families.py [--data synthetic|imdb] [--data-path ARCHIVE]
        [--part families|drift|all] [--families tutorial,cnn,bilstm,transformer]
        [--drift-families tutorial,cnn] [--seeds 123,124,125] [--epochs N] [--small]
        [--repeats 3] [--check] [--target NAME=LIMIT]

Part `families`: per family, the whole tracked pipeline once (`model=<family>`; on IMDB
`experiment=seed_tutorial`, on the embedded corpus `make run`'s defaults; deterministic for a
seed): base final val accuracy, warm and cold epoch 1, cold final, the epochs warm and cold
take to reach cold's final; and the per-epoch ratio as bench_pipeline measures it
(`epoch_overhead`: two copies of the cold model side by side one epoch at a time, one with
the stages' tracking, one plain; 5 blocks of 8 whole epochs, the median of the blocks'
ratios with its range) (<= 1.10).
Slow families run fewer epochs on IMDB (EPOCHS below). The figures docs/benchmarks.md
publishes are targets at the size they were published for; at any size the warm start must
start ahead of cold. `--small`: the cnn family on the smoke preset (or IMDB at 3 epochs),
families part only, about a minute (bench_pipeline's small check covers the tutorial family).

Part `drift`, untracked (the project's data, remap, model and optimizer-state code, no MLflow):
on IMDB (a) a base on 5,000 training reviews with a 5,000-token vocabulary, updated to all
20,000 with 20,000 tokens, batch 256, 8 epochs; (b) the tutorial's 10,000 -> 10,200, batch
1024, 15 epochs; on the embedded corpus its generation 0 -> 1. For each family and seed: warm
with `uniform` and `subword` new rows, each with and without Adam's state carried over, and
cold. Mean and spread over the seeds; gated: warm starts ahead of cold, and (case a) Adam's
state does not lower epoch 1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import gate
import keras
from bench_pipeline import (
    BLOCK_EPOCHS,
    BLOCKS,
    DEFAULT_DATA,
    QUOTED,
    SMALL_EPOCHS,
    TOLERANCE,
    clean_environment,
    compose_config,
    epoch_overhead,
    plain_model,
    ratio_detail,
    tracked,
    warm_up,
)
from omegaconf import DictConfig

from warmstart.config import with_overlay
from warmstart.core.remap import remap_embeddings
from warmstart.modeling import optimizer_state, prepare
from warmstart.modeling.fit import fit
from warmstart.modeling.model import embedding_matrix_of, head_of, load_model
from warmstart.modeling.prepare import prepare_data

EPOCHS = {"tutorial": 15, "cnn": 10, "transformer": 6, "bilstm": 4}  # 2 cores: slow ones fewer
DRIFT = {
    "imdb": {
        "a": ["base.data.max_reviews=6250", "base.vocab.max_tokens=5000",
              "vocab.max_tokens=20000", "train.batch_size=256", "train.epochs=8"],
        "b": [],  # seed_tutorial as it is: 10,000 -> 10,200 tokens, batch 1024, 15 epochs
    },
    "synthetic": {"embedded": []},  # make run's: generation 0 -> 1
}  # fmt: skip


@dataclass(frozen=True)
class Published:
    """A family's row of docs/benchmarks.md's IMDB table."""

    base_final: float
    warm_e1: float
    cold_e1: float
    cold_final: float
    warm_reach: int | None  # None: "never"


PUBLISHED = {
    "tutorial": Published(0.831, 0.831, 0.662, 0.831, 1),
    "cnn": Published(0.821, 0.817, 0.578, 0.820, None),
    "bilstm": Published(0.829, 0.832, 0.546, 0.825, 1),
    "transformer": Published(0.828, 0.811, 0.770, 0.823, 2),
}
SYNTHETIC = QUOTED["synthetic"]  # the tutorial family on the embedded corpus is `make run`


def reach(curve: list[float], target: float) -> int | None:
    """The first epoch (1-based) whose val accuracy reaches `target`, None if none does."""
    return next((i + 1 for i, v in enumerate(curve) if v >= target - 1e-9), None)


def family_config(args, work: Path, family: str) -> DictConfig:
    epochs = args.epochs or (EPOCHS[family] if args.data == "imdb" else None)
    extra = [f"train.epochs={epochs}"] if epochs else []
    return compose_config(args.data, args.data_path, work, f"model={family}",
                          f"registry.model_name=bench-{family}", *extra,
                          small=args.small)  # fmt: skip


def measure_family(args, work: Path, family: str) -> dict:
    """One tracked pipeline (its accuracies: deterministic for a seed), then the per-epoch
    ratio measured apart, as bench_pipeline measures it (`epoch_overhead`)."""
    cfg = family_config(args, work, family)
    warm_up(cfg)
    curves = tracked(cfg).curves
    print(f"  {family}: pipeline done; per-epoch overhead ({BLOCKS} x {BLOCK_EPOCHS} epochs, "
          "tracked and plain side by side) ...", flush=True)  # fmt: skip
    ratio = epoch_overhead(cfg, args.repeats)
    cold_final = curves["cold"]["val_accuracy"][-1]
    return {
        "epochs": len(curves["cold"]["val_accuracy"]),
        "base_final": curves["base"]["val_accuracy"][-1],
        "warm_e1": curves["warm"]["val_accuracy"][0],
        "cold_e1": curves["cold"]["val_accuracy"][0],
        "cold_final": cold_final,
        "warm_reach": reach(curves["warm"]["val_accuracy"], cold_final),
        "cold_reach": reach(curves["cold"]["val_accuracy"], cold_final),
        "ratio": ratio,
    }


def documented(args) -> bool:
    return not args.small and args.epochs is None


def declare_family(g: gate.Gate, args, family: str, row: dict | None) -> None:
    """Every target of one family, measured or not (None: a miss under --check)."""

    def value(key: str) -> float | None:
        return None if row is None else row[key]

    ratio = None if row is None else row["ratio"]
    g.compare(f"{family}.epoch_ratio",
              f"{family}: epoch time, tracked / plain Keras (epoch by epoch)",
              None if ratio is None else ratio.median, 1.10,
              detail="" if ratio is None else ratio_detail(ratio))  # fmt: skip
    g.compare(f"{family}.warm_minus_cold_epoch1",
              f"{family}: warm ahead of cold after epoch 1 (val_accuracy)",
              None if row is None else row["warm_e1"] - row["cold_e1"], 0.0,
              at_most=False)  # fmt: skip
    if args.small and args.data == "synthetic":
        g.compare(f"{family}.base_learns",
                  f"{family}: base final val_accuracy (smoke preset: well above chance, 0.5)",
                  value("base_final"), 0.7, at_most=False)  # fmt: skip
        return
    if not documented(args):
        return
    if args.data == "imdb":
        published = PUBLISHED[family]
    elif family == "tutorial":
        published = Published(SYNTHETIC.base_final, SYNTHETIC.warm_e1, SYNTHETIC.cold_e1,
                              SYNTHETIC.base_final, None)  # fmt: skip
    else:
        return  # the docs publish no other family on the embedded corpus
    for key, label, quoted, at_least in (
        ("base_final", "base final val_accuracy", published.base_final, True),
        ("warm_e1", "warm val_accuracy after epoch 1", published.warm_e1, True),
        ("cold_e1", "cold val_accuracy after epoch 1", published.cold_e1, False),
        ("cold_final", "cold final val_accuracy", published.cold_final, True),
    ):
        if args.data == "synthetic" and key == "cold_final":
            continue  # make run's published cold final is not the base's
        limit = quoted - TOLERANCE if at_least else quoted + TOLERANCE
        g.compare(f"{family}.{key}", f"{family}: {label}", value(key), limit,
                  at_most=not at_least, detail=f"published {quoted}")  # fmt: skip
    if published.warm_reach is not None:
        reached = None if row is None else row["warm_reach"]
        g.compare(f"{family}.warm_reach", f"{family}: epochs warm takes to reach cold's final",
                  None if row is None else (reached if reached is not None else float("inf")),
                  published.warm_reach, detail=f"published {published.warm_reach}")  # fmt: skip


def families_part(g: gate.Gate, args, work: Path) -> None:
    rows: dict[str, dict | None] = {}
    for family in args.families:
        try:
            rows[family] = measure_family(args, work, family)
        except Exception as error:  # a failed step is a measurement not taken
            traceback.print_exc()
            g.cannot_measure(f"{family}: {type(error).__name__}: {error}")
            rows[family] = None
    print(f"\n{args.where}: tracked pipeline; epoch ratio over {args.repeats} alternating repeats")
    print(f"{'family':<12}{'epochs':>7}{'base final':>11}{'warm e1':>9}{'cold e1':>9}"
          f"{'cold final':>11}{'warm reach':>11}{'cold reach':>11}"
          f"{'epoch ratio [range]':>24}")  # fmt: skip
    for family, r in rows.items():
        if r is None:
            print(f"{family:<12} not measured")
            continue
        print(f"{family:<12}{r['epochs']:>7}{r['base_final']:>11.3f}{r['warm_e1']:>9.3f}"
              f"{r['cold_e1']:>9.3f}{r['cold_final']:>11.3f}{r['warm_reach']!s:>11}"
              f"{r['cold_reach']!s:>11}{r['ratio']!s:>24}")  # fmt: skip
    for family, r in rows.items():
        declare_family(g, args, family, r)


def train(model, data, cfg, restore=None) -> list[float]:
    keras.utils.set_random_seed(int(cfg.seed))
    result = fit(model, train=data.train, val=data.val, test=None, train_cfg=cfg.train,
                 on_compiled=restore)  # fmt: skip
    return result.history["val_accuracy"]


def drift_once(cfg) -> dict[str, list[float]]:
    """Base, then every warm variant and cold, on one seed; val accuracy curves."""
    base_cfg = with_overlay(cfg, "base")
    old = prepare_data(base_cfg.data, base_cfg.vocab, int(cfg.seed))
    base = plain_model(cfg, old)
    curves = {"base": train(base, old, base_cfg)}
    saved = optimizer_state.capture(base)
    head_file = Path(tempfile.mkdtemp()) / "head.keras"
    head_of(base).save(head_file)
    new = prepare_data(cfg.data, cfg.vocab, int(cfg.seed))
    for init in ("uniform", "subword"):
        remapped = remap_embeddings(old.vocabulary, new.vocabulary, embedding_matrix_of(base),
                                    initializer=init, seed=int(cfg.seed))  # fmt: skip
        for carry in (False, True):
            head = load_model(str(head_file))  # the base's head, fresh for each variant
            model = plain_model(cfg, new, embedding_matrix=remapped.matrix, head=head)
            restore = None
            if carry:

                def restore(m, plan=remapped.report.plan):
                    optimizer_state.restore(m, saved, vocabulary_plan=plan, label_plan=None)

            curves[f"warm {init}{' +adam' if carry else ''}"] = train(model, new, cfg, restore)
    curves["cold"] = train(plain_model(cfg, new), new, cfg)
    return curves


def spread(values: list[float]) -> str:
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.3f}±{sd:.3f}"


def drift_part(g: gate.Gate, args, work: Path) -> None:
    for case, overrides in DRIFT[args.data].items():
        for family in args.drift_families:
            name = f"drift_{case}.{family}"
            runs = []
            try:
                for seed in args.seeds:
                    cfg = compose_config(args.data, args.data_path, work, f"model={family}",
                                         f"seed={seed}", *overrides)  # fmt: skip
                    prepare._prepared.cache_clear()
                    start = time.perf_counter()
                    runs.append(drift_once(cfg))
                    print(f"  case ({case}) {family} seed {seed}: "
                          f"{time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
            except Exception as error:  # a failed step is a measurement not taken
                traceback.print_exc()
                g.cannot_measure(f"{name}: {type(error).__name__}: {error}")
                runs = []
            if runs:
                setting = " ".join(overrides) or "the config as it is"
                print(f"\ncase ({case}) {family}, {len(runs)} seeds, {setting}")
                print(f"{'run':<22}{'epoch 1':>14}{'final':>14}{'reaches cold final at':>24}")
                for run in runs[0]:
                    reached = [reach(r[run], r["cold"][-1]) for r in runs]
                    print(f"{run:<22}{spread([r[run][0] for r in runs]):>14}"
                          f"{spread([r[run][-1] for r in runs]):>14}"
                          f"{', '.join(str(x) for x in reached):>24}", flush=True)  # fmt: skip

            def mean_e1(run: str, runs=runs) -> float | None:
                return statistics.fmean(r[run][0] for r in runs) if runs else None

            warm, cold = mean_e1("warm uniform"), mean_e1("cold")
            g.compare(f"{name}.warm_minus_cold_epoch1",
                      f"drift ({case}) {family}: warm ahead of cold after epoch 1 (mean)",
                      None if warm is None else warm - cold, 0.0, at_most=False)  # fmt: skip
            if case == "a":
                adam = mean_e1("warm uniform +adam")
                g.compare(f"{name}.adam_lift_epoch1",
                          f"drift (a) {family}: Adam's state lifts warm epoch 1 (mean)",
                          None if adam is None else adam - warm, 0.0, at_most=False,
                          detail="published about +0.01")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("synthetic", "imdb"), default="synthetic")
    parser.add_argument("--data-path", default=str(DEFAULT_DATA), help="the IMDB archive")
    parser.add_argument("--part", choices=("families", "drift", "all"), default=None,
                        help="default: all (families with --small)")  # fmt: skip
    parser.add_argument(
        "--families",
        default=None,
        help="default: tutorial,cnn,bilstm,transformer (cnn with --small)",
    )
    parser.add_argument("--drift-families", default="tutorial,cnn")
    parser.add_argument("--seeds", default="123,124,125")
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="every family and case; default: the config's (EPOCHS on IMDB)",
    )
    parser.add_argument("--small", action="store_true",
                        help="a quick check: the cnn family on the smoke preset "
                        f"(IMDB: {SMALL_EPOCHS} epochs), families part")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=gate.MIN_REPEATS)
    gate.add_arguments(parser)
    args = parser.parse_args()
    if args.repeats < gate.MIN_REPEATS:
        parser.error(f"--repeats: at least {gate.MIN_REPEATS}")
    args.part = args.part or ("families" if args.small else "all")
    args.families = (args.families or ("cnn" if args.small else
                                       "tutorial,cnn,bilstm,transformer")).split(",")  # fmt: skip
    args.drift_families = args.drift_families.split(",")
    args.seeds = [int(s) for s in args.seeds.split(",")]
    if args.small and args.data == "imdb" and args.epochs is None:
        args.epochs = SMALL_EPOCHS
    unknown = sorted(set(args.families) - set(EPOCHS))
    if unknown:
        parser.error(f"--families: unknown {unknown}; choose among {sorted(EPOCHS)}")
    args.where = ("the embedded corpus" + (", experiment=smoke (--small)" if args.small else "")
                  if args.data == "synthetic" else
                  f"experiment=seed_tutorial on {args.data_path}")  # fmt: skip
    if args.epochs:
        args.where += f", {args.epochs} epochs"
    g = gate.Gate.from_args(f"bench_families ({args.part}), {args.where}", args)
    if args.data == "imdb" and not Path(args.data_path).exists():
        g.cannot_measure(f"{args.data_path} is absent; pass --data-path to an aclImdb archive")
        if args.part in ("families", "all"):
            for family in args.families:
                declare_family(g, args, family, None)
        return g.exit_code()
    clean_environment()
    work = Path(tempfile.mkdtemp(prefix="bench-families-"))
    os.chdir(work)  # a SQLite store keeps its artifacts in ./mlruns: here, not in the checkout
    if args.part in ("families", "all"):
        families_part(g, args, work)
    if args.part in ("drift", "all"):
        drift_part(g, args, work)
    return g.exit_code()


if __name__ == "__main__":
    sys.exit(main())
