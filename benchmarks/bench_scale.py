"""How cost grows with data and with vocabulary size, each against a peer measured in the same run.

Data: the embedded corpus at 25,000 ... 200,000 training reviews (`data.n_train`). For each
size, in fresh processes: ours (`modeling.prepare.prepare_data`: read, adapt the vocabulary,
vectorize every split; then one epoch of `modeling.fit`) and plain Keras on the same files
(`text_dataset_from_directory` + `TextVectorization.adapt`, every split vectorized once; then
one epoch of the same model). Wall time and peak resident memory of each phase; the fitted
exponent b of time ~ n^b (1 is linear). The corpus is generated before timing starts.

Vocabulary: a version with a 1,000,000-token vocabulary (dimension 64) is published to an
`mlflow server` on 127.0.0.1 with proxied artifacts, resolved back (download + sha256), then
warm-started to 1,100,000 tokens (load the model, remap, build the new model): wall time and
peak resident memory above the process's baseline, per step, against the matrix's size.

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

    return compose_config(f"data.n_train={n_train}", "train.epochs=1", cache_dir=cache)


def child_data(side: str, n_train: int, cache: Path) -> dict:
    """One side at one size, in this (fresh) process."""
    import keras

    from warmstart.modeling.fit import fit
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
    with Peak() as epoch:
        if side == "ours":
            fit(model, train=train, val=val, test=None, train_cfg=cfg.train)
        else:
            compile_model(model, float(cfg.train.learning_rate))
            model.fit(train, validation_data=val, epochs=1, verbose=0)
    keras.backend.clear_session()
    return {
        "side": side,
        "n": n_train,
        "prep_s": prep.seconds,
        "prep_peak_mb": prep.peak - base,
        "epoch_s": epoch.seconds,
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
        for side in ("ours", "keras"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", side, str(n), str(cache)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    return rows


def exponent(ns: list[int], seconds: list[float]) -> float:
    return float(np.polyfit(np.log(ns), np.log(seconds), 1)[0])


def child_vocab(tokens: int, uri: str) -> dict:
    import mlflow

    from warmstart.core.remap import remap_embeddings
    from warmstart.modeling.model import build_model, embedding_matrix_of, head_of
    from warmstart.tracking.publish import publish_model
    from warmstart.tracking.resolve import resolve_source

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("bench-scale")
    model_cfg = {"embedding_dim": 64, "hidden_units": 16}
    vocab = ["", "[UNK]", *(f"t{i}" for i in range(tokens - 2))]
    model = build_model(vocab_size=tokens, sequence_length=100, model_cfg=model_cfg)
    matrix_mb = tokens * 64 * 4 / 2**20
    rng = np.random.default_rng(0)
    kept = [vocab[2 + i] for i in np.sort(rng.permutation(tokens - 2)[: int(0.95 * tokens)])]
    body = kept + [f"n{i}" for i in range(int(tokens * 1.1) - 2 - len(kept))]
    new_vocab = ["", "[UNK]", *(body[i] for i in rng.permutation(len(body)))]
    steps = {}
    base = rss_mb()
    with mlflow.start_run(), Peak() as step:
        published = publish_model(
            model,
            vocab,
            embedding_matrix_of(model),
            sequence_length=100,
            registered_name="bench-scale",
            aliases=("base",),
        )
    steps["publish"] = step
    del model
    with tempfile.TemporaryDirectory() as tmp:
        base = min(base, rss_mb())
        with Peak() as step:
            source = resolve_source(f"models:/bench-scale/{published.version}", Path(tmp))
        steps["resolve"] = step
        with Peak() as step:
            old = source.load_keras_model()
            remapped = remap_embeddings(source.vocabulary, new_vocab, source.embedding, seed=0)
            warm = build_model(
                vocab_size=len(new_vocab),
                sequence_length=100,
                model_cfg=model_cfg,
                embedding_matrix=remapped.matrix,
                head=head_of(old),
            )
        steps["warm_start"] = step
        del warm, old, remapped
    return {
        "tokens": tokens,
        "new_tokens": len(new_vocab),
        "matrix_mb": matrix_mb,
        "baseline_mb": base,
        **{f"{k}_s": v.seconds for k, v in steps.items()},
        **{f"{k}_peak_mb": v.peak - base for k, v in steps.items()},
    }


def run_vocab(tokens: int) -> dict:
    from mlflow_fixtures import start_server

    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "server")
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--child", "vocab", str(tokens), server.uri],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        finally:
            server.stop()
    return json.loads(out.strip().splitlines()[-1])


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
            child_vocab(int(value), where)
            if kind == "vocab"
            else child_data(kind, int(value), Path(where))
        )
        print(json.dumps(result))
        return 0
    with open("/proc/loadavg") as f:
        print(f"load average at start: {' '.join(f.read().split()[:3])}", flush=True)
    if not args.skip_data:
        sizes = [int(s) for s in args.sizes.split(",")]
        rows = run_data(sizes, Path(args.cache))
        print("\n   n     side   prep s  prep MB  epoch s  epoch MB")
        for r in rows:
            print(
                f"{r['n']:>7} {r['side']:>6} {r['prep_s']:8.1f} {r['prep_peak_mb']:8.0f} "
                f"{r['epoch_s']:8.1f} {r['epoch_peak_mb']:9.0f}"
            )
        for side in ("ours", "keras"):
            mine = [r for r in rows if r["side"] == side]
            if len(mine) > 1:
                ns = [r["n"] for r in mine]
                print(
                    f"{side}: exponent prep {exponent(ns, [r['prep_s'] for r in mine]):.2f}, "
                    f"epoch {exponent(ns, [r['epoch_s'] for r in mine]):.2f}"
                )
        ratio = [o["prep_s"] / k["prep_s"] for o, k in zip(rows[::2], rows[1::2], strict=True)]
        print("prep time ours / keras: " + ", ".join(f"{x:.2f}" for x in ratio))
    if not args.skip_vocab:
        v = run_vocab(args.tokens)
        print(
            f"\nvocabulary {v['tokens']:,} -> {v['new_tokens']:,} tokens, dim 64: matrix "
            f"{v['matrix_mb']:.0f} MB, baseline RSS {v['baseline_mb']:.0f} MB"
        )
        for step in ("publish", "resolve", "warm_start"):
            extra = v[f"{step}_peak_mb"]
            print(
                f"  {step:<11} {v[f'{step}_s']:7.2f} s   peak +{extra:6.0f} MB "
                f"({extra / v['matrix_mb']:.2f}x the matrix; target <= {VOCAB_TARGET:g}x)"
            )
    with open("/proc/loadavg") as f:
        print(f"load average at end: {' '.join(f.read().split()[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
