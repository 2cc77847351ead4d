"""How cost grows with data and with vocabulary size, each against a peer measured in the same run.

Data: the embedded corpus at 25,000 ... 200,000 training reviews (`data.n_train`), in fresh
processes, twice per side, alternating (each side's faster preparation is kept): ours
(`prepare_data`: read, adapt the vocabulary, vectorize every split; two epochs of `fit`) and
plain Keras on the same files (`text_dataset_from_directory` + `TextVectorization.adapt`, every
split vectorized once; two epochs of the same model). Wall time and peak resident memory per
phase (epoch 1 includes tracing, epoch 2 is steady); the exponent b of time ~ n^b (1: linear).

Vocabulary: a 1,000,000-token version (dimension 64) published to an `mlflow server` on
127.0.0.1 with proxied artifacts, resolved (download + sha256), warm-started to 1,100,000 tokens
(load the head, remap, build) as the warm_start stage does: wall time and peak RSS above the
process's baseline, per step and per process. `publish_adam` publishes as the stages do, with
Adam's state (optimizer.npz): the caller's captured moments are two more matrices.

    python benchmarks/bench_scale.py [--sizes 25000,50000,100000,200000] [--tokens 1000000]
                                     [--skip-data] [--skip-vocab]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # compose_config and the test server helper

VOCAB_TARGET = 3.0  # peak RSS above baseline, in units of the base matrix


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Peak:
    """Samples this process's RSS every 10 ms; `peak - start` is a step's extra memory."""

    def __init__(self) -> None:
        self.start = self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_mb())

    def __enter__(self) -> Peak:
        self.t0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def config(n_train: int, cache: Path):  # type: ignore[no-untyped-def]
    from compose import compose_config

    return compose_config(f"data.n_train={n_train}", "train.epochs=2", cache_dir=cache)


def child_data(side: str, n_train: int, cache: Path) -> dict:
    """One side at one size, in this (fresh) process."""
    import keras

    from warmstart.modeling.fit import EpochTimer, fit
    from warmstart.modeling.model import build_model, compile_model
    from warmstart.modeling.prepare import prepare_data

    cfg = config(n_train, cache)
    base = rss_mb()
    with Peak() as prep:
        if side == "ours":
            data = prepare_data(cfg.data, cfg.vocab, int(cfg.seed))
            vocab_size, train, val = len(data.vocabulary), data.train, data.val
        else:
            from warmstart.data.synthetic.source import synthetic_copy

            acl = synthetic_copy(cfg.data, Path(cfg.data.cache_dir))
            vocab_size, train, val = plain_keras_prepare(acl, cfg)
    model = build_model(
        vocab_size=vocab_size,
        sequence_length=int(cfg.vocab.sequence_length),
        model_cfg=cfg.model,
    )
    with Peak() as epoch:  # two epochs: the first traces the step, the second is steady
        if side == "ours":
            result = fit(model, train=train, val=val, test=None, train_cfg=cfg.train)
            seconds = result.epoch_seconds
        else:
            compile_model(model, float(cfg.train.learning_rate))
            timer = EpochTimer()
            model.fit(train, validation_data=val, epochs=2, verbose=0, callbacks=[timer])
            seconds = timer.seconds
    keras.backend.clear_session()
    return {
        "side": side,
        "n": n_train,
        "prep_s": prep.seconds,
        "prep_peak_mb": prep.peak - base,
        "epoch1_s": seconds[0],
        "epoch_s": seconds[1],
        "epoch_peak_mb": epoch.peak - base,
    }


def plain_keras_prepare(acl: Path, cfg) -> tuple:  # type: ignore[no-untyped-def]
    """The tutorial's way: datasets from the folders, adapt on train, vectorize once."""
    import keras
    import tensorflow as tf

    batch = int(cfg.train.batch_size)
    train, val = keras.utils.text_dataset_from_directory(
        acl / "train",
        batch_size=batch,
        validation_split=float(cfg.data.validation_split),
        subset="both",
        seed=int(cfg.data.split_seed),
    )
    test = keras.utils.text_dataset_from_directory(acl / "test", batch_size=batch)
    layer = keras.layers.TextVectorization(
        max_tokens=int(cfg.vocab.max_tokens),
        output_sequence_length=int(cfg.vocab.sequence_length),
    )
    layer.adapt(train.map(lambda x, y: x))
    done = [
        ds.map(lambda x, y: (layer(x), y), num_parallel_calls=tf.data.AUTOTUNE).cache()
        for ds in (train, val, test)
    ]
    for ds in done:  # vectorize every split once, as ours does
        for _ in ds:
            pass
    return len(layer.get_vocabulary()), done[0], done[1]


def run_data(sizes: list[int], cache: Path) -> list[dict]:
    rows = []
    for n in sizes:
        subprocess.run(
            [sys.executable, __file__, "--child", "generate", str(n), str(cache)], check=True
        )
        runs: dict[str, list[dict]] = {"ours": [], "keras": []}
        for side in ("ours", "keras", "keras", "ours"):  # alternate; keep each side's best
            runs[side].append(child(side, str(n), str(cache)))
            print(json.dumps(runs[side][-1]), flush=True)
        rows += [min(runs[side], key=lambda r: r["prep_s"]) for side in ("ours", "keras")]
    return rows


def child(*args: str) -> dict:
    """Run one measurement in a fresh process; its last output line is the JSON result."""
    run = [sys.executable, __file__, "--child", *args]
    done = subprocess.run(run, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def exponent(ns: list[int], seconds: list[float]) -> float:
    return float(np.polyfit(np.log(ns), np.log(seconds), 1)[0])


def child_vocab(part: str, tokens: int, uri: str) -> dict:
    """`publish`: a process holding a built 1M-token model publishes it. `warm`: a fresh
    process resolves it, loads its head, remaps and builds the warm model.
    Peaks are above the process's baseline (after imports; `publish`: with its model built)."""
    import mlflow

    from warmstart.core.remap import remap_embeddings
    from warmstart.modeling.model import build_model, embedding_matrix_of
    from warmstart.tracking.publish import publish_model
    from warmstart.tracking.resolve import resolve_source

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("bench-scale")
    shape = {"sequence_length": 100, "model_cfg": {"embedding_dim": 64, "hidden_units": 16}}
    steps = {}
    if part == "publish":
        from warmstart.modeling import optimizer_state
        from warmstart.modeling.model import compile_model

        vocab = ["", "[UNK]", *(f"t{i}" for i in range(tokens - 2))]
        model = compile_model(build_model(vocab_size=tokens, **shape), 1e-3)
        model.optimizer.build(model.trainable_variables)  # Adam's slots, as after training
        base = rss_mb()
        where = {"registered_name": "bench-scale", "aliases": ("base",), "sequence_length": 100}
        with mlflow.start_run(), Peak() as steps["publish"]:
            publish_model(model, vocab, embedding_matrix_of(model), **where)
        # As train_base and warm_start publish: with Adam's state (two more matrices).
        with mlflow.start_run(), Peak() as steps["publish_adam"]:
            state = optimizer_state.capture(model)
            publish_model(model, vocab, embedding_matrix_of(model), optimizer_state=state, **where)
            del state
    else:
        rng = np.random.default_rng(0)
        keep = np.sort(rng.permutation(tokens - 2)[: int(0.95 * tokens)])
        body = [f"t{i}" for i in keep] + [f"n{i}" for i in range(int(tokens * 1.1) - 2 - len(keep))]
        new_vocab = ["", "[UNK]", *(body[i] for i in rng.permutation(len(body)))]
        base = rss_mb()
        with tempfile.TemporaryDirectory() as tmp:
            with Peak() as steps["resolve"]:
                source = resolve_source("models:/bench-scale/1", Path(tmp))
            with Peak() as steps["load_head"]:
                head = source.load_head()
            with Peak() as steps["remap"]:
                matrix = remap_embeddings(source.vocabulary, new_vocab, source.embedding).matrix
            source.embedding = source.embedding[:1].copy()  # as warm_start: freed before building
            with Peak() as steps["build"]:
                kw = {"embedding_matrix": matrix, "head": head, **shape}
                build_model(vocab_size=len(matrix), **kw)
    return {
        "baseline_mb": base,
        **{f"{k}_s": v.seconds for k, v in steps.items()},
        **{f"{k}_peak_mb": v.peak - base for k, v in steps.items()},
        **{f"{k}_step_mb": v.peak - v.start for k, v in steps.items()},
    }


def run_vocab(tokens: int) -> dict:
    from mlflow_fixtures import start_server

    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "server")
        try:
            out = child("vocab-publish", str(tokens), server.uri)
            return {**out, **child("vocab-warm", str(tokens), server.uri), "tokens": tokens}
        finally:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="25000,50000,100000,200000")
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--cache", default=str(ROOT / ".cache" / "bench-scale"))
    parser.add_argument("--skip-data", action="store_true")
    parser.add_argument("--skip-vocab", action="store_true")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if args.child:
        kind, value, where = args.child
        if kind == "generate":
            from warmstart.data import load_splits

            load_splits(config(int(value), Path(where)).data)
            return 0
        result = (
            child_vocab(kind.removeprefix("vocab-"), int(value), where)
            if kind.startswith("vocab-")
            else child_data(kind, int(value), Path(where))
        )
        print(json.dumps(result))
        return 0
    with open("/proc/loadavg") as f:
        print(f"load average at start: {' '.join(f.read().split()[:3])}", flush=True)
    if not args.skip_data:
        sizes = [int(s) for s in args.sizes.split(",")]
        rows = run_data(sizes, Path(args.cache))
        print("\n      n   side   prep s  prep MB  epoch 1 s  epoch 2 s  epochs MB")
        for r in rows:
            print(
                f"{r['n']:>7} {r['side']:>6} {r['prep_s']:8.1f} {r['prep_peak_mb']:8.0f} "
                f"{r['epoch1_s']:10.1f} {r['epoch_s']:10.1f} {r['epoch_peak_mb']:10.0f}"
            )
        for side in ("ours", "keras"):
            mine = [r for r in rows if r["side"] == side]
            if len(mine) > 1:
                ns = [r["n"] for r in mine]
                print(
                    f"{side}: exponent prep {exponent(ns, [r['prep_s'] for r in mine]):.2f}, "
                    f"steady epoch {exponent(ns, [r['epoch_s'] for r in mine]):.2f}"
                )
        ratio = [o["prep_s"] / k["prep_s"] for o, k in zip(rows[::2], rows[1::2], strict=True)]
        print("prep time ours / keras: " + ", ".join(f"{x:.2f}" for x in ratio))
    if not args.skip_vocab:
        v = run_vocab(args.tokens)
        matrix_mb = args.tokens * 64 * 4 / 2**20
        print(
            f"\nvocabulary {args.tokens:,} -> {int(args.tokens * 1.1):,} tokens, dim 64: matrix "
            f"{matrix_mb:.0f} MB; peaks above the process's baseline (target <= {VOCAB_TARGET:g}x)"
        )
        for step in ("publish", "publish_adam", "resolve", "load_head", "remap", "build"):
            extra, own = v[f"{step}_peak_mb"], v[f"{step}_step_mb"]
            print(
                f"  {step:<11} {v[f'{step}_s']:7.2f} s   peak +{extra:6.0f} MB "
                f"({extra / matrix_mb:.2f}x the matrix; this step alone +{own:.0f} MB)"
            )
    with open("/proc/loadavg") as f:
        print(f"load average at end: {' '.join(f.read().split()[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
