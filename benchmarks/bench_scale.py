"""How cost grows with data and with vocabulary size, each against a peer measured in the same run.

Data: the embedded corpus at 25,000 ... 200,000 training reviews (`data.n_train`), each run in a
fresh process, ours and plain Keras alternating (`gate.alternate`, `--repeats`, at least 3):
ours (`prepare_data`: read, count the vocabulary, vectorize every split; two epochs of `fit`)
and plain Keras on the same files (`text_dataset_from_directory` + `TextVectorization.adapt`,
every split vectorized once; two epochs of the same model). Per size: medians of wall time per
phase (epoch 1 includes tracing, epoch 2 is steady) and of peak resident memory above the
process's baseline (its RSS after imports, before reading any data; the kernel's high-water
mark), the ratio ours / Keras per repeat (median [low..high]), and the exponent b of
time ~ n^b fitted to the medians (1: linear).

Vocabulary: a `--tokens` version (default 1,000,000, dimension 64) published to an `mlflow
server` on 127.0.0.1 with proxied artifacts, resolved (download + sha256), warm-started to
1.1x the tokens (load the head, then `modeling.warm_start.warm_start_model`: read the matrix,
remap, build) as the warm_start stage does. Three fresh processes (publish; publish_adam; the
warm chain resolve, load_head, warm_start) take their
baseline as their RSS after imports (and a tiny model built, so the runtime's one-off
allocations are in it), before anything a step needs exists; each then builds the step's inputs
as its caller holds them (publish: the model; publish_adam: the model with Adam's slots, as
after training; load_head, warm_start: what the steps before left) and runs the step. glibc's
mmap threshold is fixed there, so a freed matrix leaves the RSS. Reported per step: its time,
what the process held when the step began, what the step added (the kernel's high-water mark,
reset as it began), and the peak above the baseline (held + added), in units of the base
matrix. `publish_adam` publishes as the stages do, with Adam's state (optimizer.npz).

Targets (`--check`, benchmarks/gate.py; `--target NAME=LIMIT` replaces one):
  prep_ratio      ours / Keras preparation time, median per size      <= 1.0 (docs: below Keras)
  prep_exponent   exponent of ours' preparation time                  <= 1.15 (about linear)
  epoch_exponent  exponent of ours' steady epoch                      <= 1.15
  memory_ratio    ours / Keras preparation peak, largest size         <= 3.5 (docs: about 3x)
  vocab_added     what each vocabulary step adds to what its process
                  holds (the high-water mark reset as it begins)      <= 3.0 matrices
  warm_peak       the warm start's peak (resolve .. warm_start) above the
                  fresh process's baseline                            <= 3.5 matrices
(Publishing's peak above a fresh baseline is printed, not gated: it holds the model it
publishes, and a freshly built model alone holds about 3.5x its matrix: Keras' random
initialisation, not publishing.)

    python benchmarks/bench_scale.py [--sizes 25000,50000,100000,200000] [--tokens 1000000]
                                     [--repeats 3] [--skip-data] [--skip-vocab]
                                     [--check] [--target NAME=LIMIT]
    small (about 2 minutes): --sizes 2000,8000 --tokens 300000 --check
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gate
import numpy as np

ROOT = Path(__file__).resolve().parents[1]

PREP_RATIO_TARGET = 1.0  # ours' preparation time / plain Keras', each size
EXPONENT_TARGET = 1.15  # time ~ n^b; 1.15 over 8x the data is 37% more per review
MEMORY_RATIO_TARGET = 3.5  # ours' preparation peak / Keras', at the largest size
VOCAB_TARGET = 3.0  # what each step adds to what its process holds, in base matrices
WARM_PEAK_TARGET = 3.5  # the warm start's peak (resolve .. build) above a fresh process's RSS
WARM_CHAIN = ("resolve", "load_head", "warm_start")
VOCAB_STEPS = ("publish", "publish_adam", *WARM_CHAIN)
MIB = 2**20
FIXED = (
    "train.epochs=2",
    "train.early_stopping.enabled=false",
    "vocab.max_tokens=10000",
    "vocab.sequence_length=100",
    "model.hidden_units=16",
)
# Fixed (not glibc's sliding default) in the vocabulary children: a freed matrix goes back to
# the kernel, so what a process holds when a step begins is what it has live.
MMAP_THRESHOLD = str(128 * 1024)


def config(n_train: int, cache: Path):  # type: ignore[no-untyped-def]
    from compose import compose_config

    # Fixed sizes, not `auto`: plain Keras' TextVectorization gets the same ones.
    return compose_config(
        f"data.n_train={n_train}",
        *FIXED,
        cache_dir=cache,
    )


def child_data(side: str, n_train: int, cache: Path) -> dict:
    """One side at one size, in this (fresh) process; peaks above its RSS before any data."""
    import keras

    from warmstart.modeling.fit import EpochTimer, fit
    from warmstart.modeling.model import build_model, compile_model
    from warmstart.modeling.prepare import prepare_data

    cfg = config(n_train, cache)
    with gate.Peak() as prep:
        start = time.perf_counter()
        if side == "ours":
            data = prepare_data(cfg.data, cfg.vocab, int(cfg.seed))
            vocab_size, train, val = len(data.vocabulary), data.train, data.val
        else:
            from warmstart.data.synthetic.source import synthetic_copy

            acl = synthetic_copy(cfg.data, Path(cfg.data.cache_dir))
            vocab_size, train, val = plain_keras_prepare(acl, cfg)
        prep_s = time.perf_counter() - start
    model = build_model(
        vocab_size=vocab_size,
        sequence_length=int(cfg.vocab.sequence_length),
        model_cfg=cfg.model,
    )
    with gate.Peak() as epochs:  # two epochs: the first traces the step, the second is steady
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
        "prep_s": prep_s,
        "prep_peak_mb": prep.extra / MIB,
        "epoch1_s": seconds[0],
        "epoch_s": seconds[1],
        # above the same baseline as preparation: the data is held while training
        "epoch_peak_mb": (epochs.baseline + epochs.extra - prep.baseline) / MIB,
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


def child(*args: str, env: dict[str, str] | None = None) -> dict:
    """Run one measurement in a fresh process; its last output line is the JSON result."""
    run = [sys.executable, __file__, "--child", *args]
    done = subprocess.run(run, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_data(n: int, cache: Path, repeats: int) -> dict[str, list[dict]]:
    """Every run of both sides at one size, alternating which goes first."""
    subprocess.run(
        [sys.executable, __file__, "--child", "generate", str(n), str(cache)], check=True
    )
    runs: dict[str, list[dict]] = {"ours": [], "keras": []}

    def side(name: str):  # type: ignore[no-untyped-def]
        def measure() -> float:
            runs[name].append(child(name, str(n), str(cache)))
            print(json.dumps(runs[name][-1]), flush=True)
            return float(runs[name][-1]["prep_s"])

        return measure

    gate.alternate(side("ours"), side("keras"), repeats)
    return runs


def exponent(ns: list[int], seconds: list[float]) -> float:
    return float(np.polyfit(np.log(ns), np.log(seconds), 1)[0])


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def data_part(g: gate.Gate, sizes: list[int], cache: Path, repeats: int) -> None:
    by_size = {n: run_data(n, cache, repeats) for n in sizes}
    print(
        f"\nmedians of {repeats} alternating runs per side; peaks above the process's RSS "
        "before reading any data\n"
        "      n   side   prep s  prep MB  epoch 1 s  epoch 2 s  epochs MB"
    )
    for n, runs in by_size.items():
        for side in ("ours", "keras"):
            r = runs[side]
            print(
                f"{n:>7} {side:>6} {median_of(r, 'prep_s'):8.2f} "
                f"{median_of(r, 'prep_peak_mb'):8.0f} {median_of(r, 'epoch1_s'):10.2f} "
                f"{median_of(r, 'epoch_s'):10.2f} {median_of(r, 'epoch_peak_mb'):10.0f}"
            )
    for n, runs in by_size.items():
        ratio = gate.ratios(
            [r["prep_s"] for r in runs["ours"]], [r["prep_s"] for r in runs["keras"]]
        )
        g.compare(
            "prep_ratio",
            f"prep time ours / Keras, n={n:,}",
            ratio.median,
            PREP_RATIO_TARGET,
            detail=f"per repeat {ratio}",
        )
    if len(sizes) < 2:
        g.cannot_measure("an exponent needs at least two --sizes")
    else:
        fits = {
            side: {
                key: exponent(sizes, [median_of(by_size[n][side], key) for n in sizes])
                for key in ("prep_s", "epoch_s")
            }
            for side in ("ours", "keras")
        }
        span = f"n={sizes[0]:,}..{sizes[-1]:,}"
        print(
            f"plain Keras (not a target): exponent prep {fits['keras']['prep_s']:.2f}, "
            f"steady epoch {fits['keras']['epoch_s']:.2f}"
        )
        g.compare(
            "prep_exponent",
            f"exponent of ours' prep time, {span}",
            fits["ours"]["prep_s"],
            EXPONENT_TARGET,
        )
        g.compare(
            "epoch_exponent",
            f"exponent of ours' steady epoch, {span}",
            fits["ours"]["epoch_s"],
            EXPONENT_TARGET,
        )
    largest = by_size[sizes[-1]]
    ours_mb, keras_mb = (
        median_of(largest["ours"], "prep_peak_mb"),
        median_of(largest["keras"], "prep_peak_mb"),
    )
    g.compare(
        "memory_ratio",
        f"prep peak ours / Keras, n={sizes[-1]:,}",
        ours_mb / keras_mb,
        MEMORY_RATIO_TARGET,
        detail=f"{ours_mb:.0f} / {keras_mb:.0f} MB, ours {ours_mb / sizes[-1] * 1000:.1f} MB "
        "per 1,000 reviews",
    )


def new_vocabulary(tokens: int) -> list[str]:
    """1.1x the tokens: 95% of the base kept, the rest new, shuffled (seeded)."""
    rng = np.random.default_rng(0)
    keep = np.sort(rng.permutation(tokens - 2)[: int(0.95 * tokens)])
    body = [f"t{i}" for i in keep] + [f"n{i}" for i in range(int(tokens * 1.1) - 2 - len(keep))]
    return ["", "[UNK]", *(body[i] for i in rng.permutation(len(body)))]


def child_vocab(part: str, tokens: int, uri: str) -> dict[str, dict]:
    """`publish` or `publish_adam`, or the warm chain (resolve, load_head, warm_start) in this
    fresh process: the baseline is its RSS after imports, before any input exists; each step's
    inputs are built (or left by the steps before it) as its caller holds them, then the step
    runs under the kernel's high-water mark, reset as it begins."""
    import mlflow

    from warmstart.modeling import optimizer_state
    from warmstart.modeling.model import build_model, compile_model, embedding_matrix_of
    from warmstart.modeling.warm_start import warm_start_model
    from warmstart.tracking.publish import publish_model
    from warmstart.tracking.resolve import resolve_source

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("bench-scale")
    shape = {"sequence_length": 100, "model_cfg": {"embedding_dim": 64, "hidden_units": 16}}
    compile_model(build_model(vocab_size=10, **shape), 1e-3)  # the runtime's one-off allocations
    baseline = gate.rss_bytes()
    rows = {}

    def measured(step: str, fn) -> object:  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        with gate.Peak() as peak:
            result = fn()
        rows[step] = {
            "seconds": time.perf_counter() - start,
            "held_mb": (peak.baseline - baseline) / MIB,
            "added_mb": peak.extra / MIB,
            "peak_mb": (peak.baseline + peak.extra - baseline) / MIB,
            "baseline_mb": baseline / MIB,
        }
        return result

    if part.startswith("publish"):
        vocab = ["", "[UNK]", *(f"t{i}" for i in range(tokens - 2))]
        model = compile_model(build_model(vocab_size=tokens, **shape), 1e-3)
        if part == "publish_adam":
            model.optimizer.build(model.trainable_variables)  # Adam's slots, as after training
        where = {"registered_name": "bench-scale", "aliases": ("base",), "sequence_length": 100}

        def publish() -> None:
            state = optimizer_state.capture(model) if part == "publish_adam" else None
            publish_model(model, vocab, embedding_matrix_of(model), optimizer_state=state, **where)

        with mlflow.start_run():
            measured(part, publish)
        return rows
    with tempfile.TemporaryDirectory() as tmp:
        source = measured("resolve", lambda: resolve_source("models:/bench-scale/1", Path(tmp)))
        head = measured("load_head", source.load_head)
        new_vocab = new_vocabulary(tokens)

        warm = {"model_cfg": shape["model_cfg"], "sequence_length": shape["sequence_length"]}
        labels = source.labels  # the same classes: the head is kept as it is
        measured("warm_start", lambda: warm_start_model(source, head, new_vocab, labels, **warm))
    return rows


def vocab_part(g: gate.Gate, tokens: int) -> None:
    from servers import start_server

    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": MMAP_THRESHOLD}
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "server")
        try:
            for part in ("publish", "publish_adam", "warm"):
                rows |= child(f"vocab-{part}", str(tokens), server.uri, env=env)
        finally:
            server.stop()
    matrix_mb = tokens * 64 * 4 / MIB
    print(
        f"\nvocabulary {tokens:,} -> {int(tokens * 1.1):,} tokens, dim 64: base matrix "
        f"{matrix_mb:.0f} MB. Baseline: a fresh process's RSS after imports "
        f"and a tiny model (about {statistics.median(r['baseline_mb'] for r in rows.values()):.0f}"
        " MB), before the step's inputs exist.\n"
        "  step            time   held at start   added by step   peak above baseline"
    )
    for step, r in rows.items():
        print(
            f"  {step:<12} {r['seconds']:6.2f} s  {r['held_mb']:7.0f} MB "
            f"({r['held_mb'] / matrix_mb:4.2f}x) {r['added_mb']:7.0f} MB "
            f"({r['added_mb'] / matrix_mb:4.2f}x) {r['peak_mb']:7.0f} MB "
            f"({r['peak_mb'] / matrix_mb:4.2f}x)"
        )
    for step, r in rows.items():
        g.compare(
            "vocab_added",
            f"{step}: added by the step / matrix",
            r["added_mb"] / matrix_mb,
            VOCAB_TARGET,
            detail=f"held {r['held_mb'] / matrix_mb:.2f}x as it began",
        )
    warm = max(rows[step]["peak_mb"] for step in WARM_CHAIN) / matrix_mb
    g.compare("warm_peak", "warm start (resolve .. warm_start): peak above baseline / matrix",
              warm, WARM_PEAK_TARGET)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="25000,50000,100000,200000")
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=gate.MIN_REPEATS)
    parser.add_argument("--cache", default=str(ROOT / ".cache" / "bench-scale"))
    parser.add_argument("--skip-data", action="store_true")
    parser.add_argument("--skip-vocab", action="store_true")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    gate.add_arguments(parser)
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
    g = gate.Gate.from_args(f"bench_scale {' '.join(sys.argv[1:])}", args)
    print(f"load average at start: {load()}", flush=True)
    if not args.skip_data:
        sizes = sorted(int(s) for s in args.sizes.split(","))
        try:
            data_part(g, sizes, Path(args.cache), args.repeats)
        except RuntimeError as error:
            g.cannot_measure(f"data part: {error}")
    if not args.skip_vocab:
        try:
            vocab_part(g, args.tokens)
        except RuntimeError as error:
            g.cannot_measure(f"vocabulary part: {error}")
    print(f"load average at end: {load()}")
    return g.exit_code()


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


if __name__ == "__main__":
    sys.exit(main())
