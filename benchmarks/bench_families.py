"""Model families on real IMDB: warm against cold for each, and two drift cases, 3 seeds.

    python benchmarks/bench_families.py [--data-path ARCHIVE] [--part families|drift|all]
        [--families tutorial,cnn,bilstm,transformer] [--drift-families tutorial,cnn]
        [--seeds 123,124,125]

Part `families`: `experiment=seed_tutorial model=<family>` through the whole tracked pipeline
(fresh SQLite store), per family: base final val accuracy, warm and cold epoch-1, the epochs
warm and cold take to reach cold's final accuracy, and the median epoch seconds of the tracked
cold run against the same model trained by plain Keras calls (no MLflow) in the same process,
before and after the pipeline, the faster of the two (target <= 1.10x). Slow families run
fewer epochs (EPOCHS below, printed).

Part `drift`, untracked (the project's data, remap, model and optimizer-state code, no MLflow):
(a) a base on 5,000 training reviews with a 5,000-token vocabulary, updated to all 20,000 with
20,000 tokens, batch 256, 8 epochs; (b) the tutorial's 10,000 -> 10,200, batch 1024, 15 epochs.
For each family and seed: warm with `uniform` and `subword` new rows, each with and without
Adam's state carried over, and cold. Mean and spread over the seeds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
from hydra import compose, initialize_config_dir
from mlflow.tracking import MlflowClient

from warmstart.config import CONFIG_DIR, PROJECT_ROOT, with_overlay
from warmstart.core.remap import remap_embeddings
from warmstart.modeling import optimizer_state
from warmstart.modeling.fit import fit
from warmstart.modeling.model import build_model, embedding_matrix_of, head_of, load_model
from warmstart.modeling.prepare import prepare_data
from warmstart.stages import pipeline
from warmstart.tracking.connection import connect

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data" / "aclImdb_v1_labeled.tar.gz"
EPOCHS = {"tutorial": 15, "cnn": 10, "transformer": 6, "bilstm": 4}  # 2 cores: slow ones fewer
DRIFT = {
    "a": ["base.data.max_reviews=6250", "base.vocab.max_tokens=5000",
          "vocab.max_tokens=20000", "train.batch_size=256", "train.epochs=8"],
    "b": [],  # seed_tutorial as it is: 10,000 -> 10,200 tokens, batch 1024, 15 epochs
}  # fmt: skip


def config(data_path: str, work: Path, *overrides: str):
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose(
            "config",
            overrides=[
                "experiment=seed_tutorial",
                f"data.path={data_path}",
                f"paths.cache_dir={work / 'cache'}",
                f"tracking.uri=sqlite:///{work / 'mlflow.db'}",
                *overrides,
            ],
        )


def reach(curve: list[float], target: float) -> int | None:
    """The first epoch (1-based) whose val accuracy reaches `target`, None if none does."""
    return next((i + 1 for i, v in enumerate(curve) if v >= target - 1e-9), None)


def plain_epoch_seconds(cfg) -> float:
    """Median epoch seconds of the cold model trained with no tracking at all."""
    data = prepare_data(cfg.data, cfg.vocab, int(cfg.seed))
    keras.utils.set_random_seed(int(cfg.seed))
    length = int(cfg.vocab.sequence_length)
    model = build_model(vocab_size=len(data.vocabulary), sequence_length=length,
                        model_cfg=cfg.model)  # fmt: skip
    result = fit(model, train=data.train, val=data.val, test=None, train_cfg=cfg.train)
    return statistics.median(result.epoch_seconds)


def families_part(args, work: Path) -> dict[str, dict]:
    rows = {}
    for family in args.families:
        epochs = EPOCHS[family]
        cfg = config(args.data_path, work, f"model={family}", f"train.epochs={epochs}",
                     f"registry.model_name=bench-{family}")  # fmt: skip
        before = plain_epoch_seconds(cfg)  # the peer runs before and after: its faster wins
        start = time.perf_counter()
        connect(cfg)
        ids = pipeline.run(cfg, overrides=[])
        wall = time.perf_counter() - start
        client = MlflowClient()

        def series(role: str, key: str, ids=ids, client=client) -> list[float]:
            points = client.get_metric_history(ids[role], key)
            return [p.value for p in sorted(points, key=lambda p: p.step)]

        warm, cold = series("warm", "val_accuracy"), series("cold", "val_accuracy")
        ours = statistics.median(series("cold", "epoch_seconds"))
        peer = min(before, plain_epoch_seconds(cfg))
        rows[family] = {
            "epochs": epochs,
            "base_final": series("base", "val_accuracy")[-1],
            "warm_e1": warm[0],
            "cold_e1": cold[0],
            "cold_final": cold[-1],
            "warm_reach": reach(warm, cold[-1]),
            "cold_reach": reach(cold, cold[-1]),
            "epoch_s": ours,
            "peer_s": peer,
            "ratio": ours / peer,
            "wall_s": wall,
        }
        print(f"  {family}: {rows[family]}", flush=True)
    print(f"\nexperiment=seed_tutorial on {args.data_path} (batch 1024), tracked pipeline")
    print(f"{'family':<12}{'epochs':>7}{'base final':>11}{'warm e1':>9}{'cold e1':>9}"
          f"{'cold final':>11}{'warm reach':>11}{'cold reach':>11}{'epoch s':>9}"
          f"{'keras s':>9}{'ratio':>7}")  # fmt: skip
    for family, r in rows.items():
        print(f"{family:<12}{r['epochs']:>7}{r['base_final']:>11.3f}{r['warm_e1']:>9.3f}"
              f"{r['cold_e1']:>9.3f}{r['cold_final']:>11.3f}{r['warm_reach']!s:>11}"
              f"{r['cold_reach']!s:>11}{r['epoch_s']:>9.3f}{r['peer_s']:>9.3f}"
              f"{r['ratio']:>7.2f}")  # fmt: skip
    return rows


def train(model, data, cfg, restore=None) -> list[float]:
    keras.utils.set_random_seed(int(cfg.seed))
    result = fit(model, train=data.train, val=data.val, test=None, train_cfg=cfg.train,
                 on_compiled=restore)  # fmt: skip
    return result.history["val_accuracy"]


def drift_once(cfg) -> dict[str, list[float]]:
    """Base, then every warm variant and cold, on one seed; val accuracy curves."""
    length = int(cfg.vocab.sequence_length)
    base_cfg = with_overlay(cfg, "base")
    old = prepare_data(base_cfg.data, base_cfg.vocab, int(cfg.seed))
    base = build_model(vocab_size=len(old.vocabulary), sequence_length=length,
                       model_cfg=cfg.model)  # fmt: skip
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
            model = build_model(vocab_size=len(new.vocabulary), sequence_length=length,
                                model_cfg=cfg.model, embedding_matrix=remapped.matrix,
                                head=head)  # fmt: skip
            restore = None
            if carry:

                def restore(m, plan=remapped.report.plan):
                    optimizer_state.restore(m, saved, vocabulary_plan=plan, label_plan=None)

            curves[f"warm {init}{' +adam' if carry else ''}"] = train(model, new, cfg, restore)
    cold = build_model(vocab_size=len(new.vocabulary), sequence_length=length,
                       model_cfg=cfg.model)  # fmt: skip
    curves["cold"] = train(cold, new, cfg)
    return curves


def spread(values: list[float]) -> str:
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.3f}±{sd:.3f}"


def drift_part(args, work: Path) -> None:
    for case, overrides in DRIFT.items():
        for family in args.drift_families:
            runs = []
            for seed in args.seeds:
                cfg = config(args.data_path, work, f"model={family}", f"seed={seed}",
                             *overrides)  # fmt: skip
                start = time.perf_counter()
                runs.append(drift_once(cfg))
                print(f"  case ({case}) {family} seed {seed}: {time.perf_counter() - start:.0f} s",
                      flush=True)  # fmt: skip
            setting = " ".join(overrides) or "seed_tutorial"
            print(f"\ncase ({case}) {family}, {len(runs)} seeds, {setting}")
            print(f"{'run':<22}{'epoch 1':>14}{'final':>14}{'reaches cold final at':>24}")
            for name in runs[0]:
                reached = [reach(r[name], r["cold"][-1]) for r in runs]
                print(f"{name:<22}{spread([r[name][0] for r in runs]):>14}"
                      f"{spread([r[name][-1] for r in runs]):>14}"
                      f"{', '.join(str(x) for x in reached):>24}", flush=True)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-path", default=str(DEFAULT_DATA))
    parser.add_argument("--part", choices=("families", "drift", "all"), default="all")
    parser.add_argument("--families", default="tutorial,cnn,bilstm,transformer")
    parser.add_argument("--drift-families", default="tutorial,cnn")
    parser.add_argument("--seeds", default="123,124,125")
    args = parser.parse_args()
    args.families = args.families.split(",")
    args.drift_families = args.drift_families.split(",")
    args.seeds = [int(s) for s in args.seeds.split(",")]
    if not Path(args.data_path).exists():
        print(f"skipped: {args.data_path} is absent; pass --data-path to an aclImdb archive")
        return 0
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
        os.environ.pop(var, None)
    work = Path(tempfile.mkdtemp(prefix="bench-families-"))
    if args.part in ("families", "all"):
        families_part(args, work)
    if args.part in ("drift", "all"):
        drift_part(args, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
