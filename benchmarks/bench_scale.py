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

Sharded tables (`--shard-rows`, default 100,000 / 500,000 / 2,000,000 rows): the embedded corpus
written as Parquet shards of 100,000 rows (`--rows-per-shard`;
`python -m warmstart.data.synthetic.shards`), once per size under `--shard-cache` (default
~/.cache/warmstart/bench-scale-shards, outside the repository: rows-N-per-M/, its split's counts in
rows-N-per-M.json). Each run is a fresh process, the sides alternating: ours is the project's own
path, `data=files data.path=<dir>` composed as a user would, `prepare_data`, the model built as the
stages build it, one epoch of `fit` (its `FitResult.epoch_seconds`), with a new `paths.cache_dir`
each run; plain Keras reads the same shards with a pyarrow generator into
`tf.data.Dataset.from_generator`, runs `TextVectorization.adapt` on the training stream, then one
epoch of the same model with the vectorizer mapped in the pipeline (shuffled in a 10,000-row
buffer, batched, prefetched). Equal work by equal rows, not per-row rates: ours holds out test then
validation rows by a hash of the text (20% each, so about 64% of the rows train); the peer adapts
and trains on exactly as many rows (the table's first ones) and validates on exactly as many (the
rows after them). The counts are ours' hash rule applied to the shards when they are generated;
ours' run fails when its own training rows (its arrays, or the rows its stream counted) differ.
Preparation is ours' whole `prepare_data` (reading every row to split it, the vocabulary, and
whatever it vectorizes ahead) against the peer's adapt; an epoch is training plus validation; the
peak is the kernel's high-water mark above the process's RSS before reading, over both. Memory can
only be flat past one shard (a shard is read whole) and past `data.sample_rows` (the rows a
streamed split keeps for the evaluator): the small run's shards are 5,000 rows.

Targets (`--check`, benchmarks/gate.py; `--target NAME=LIMIT` replaces one):
  prep_ratio      ours / Keras preparation time, median per size      <= 1.0 (docs: below Keras)
  prep_exponent   exponent of ours' preparation time                  <= 1.15 (about linear)
  epoch_exponent  exponent of ours' steady epoch                      <= 1.15
  memory_ratio    ours / Keras preparation peak, largest size         <= 3.5 (docs: about 3x)
  vocab_added     what each vocabulary step adds to what its process
                  holds (the high-water mark reset as it begins)      <= 3.0 matrices
  warm_peak       the warm start's peak (resolve .. warm_start) above the
                  fresh process's baseline                            <= 3.5 matrices
  shard_memory    ours' peak at the largest --shard-rows / at the smallest
                  (flat in rows, apart from the vocabulary and model)   <= 1.5
  shard_prep_ratio   ours / Keras preparation time on shards, each size <= 1.0
  shard_epoch_ratio  ours / Keras epoch time on shards, each size       <= 1.1
(Publishing's peak above a fresh baseline is printed, not gated: it holds the model it
publishes, and a freshly built model alone holds about 3.5x its matrix: Keras' random
initialisation, not publishing.)

    python benchmarks/bench_scale.py [--sizes 25000,50000,100000,200000] [--tokens 1000000]
                                     [--shard-rows 100000,500000,2000000] [--shard-cache DIR]
                                     [--rows-per-shard 100000]
                                     [--repeats 3] [--skip-data] [--skip-vocab] [--skip-shards]
                                     [--check] [--target NAME=LIMIT]
    small (about 2 minutes, the shards about 3 more): --sizes 2000,8000 --tokens 300000
                                      --shard-rows 20000,40000 --rows-per-shard 5000 --check
    the shards alone: --skip-data --skip-vocab
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
SHARD_MEMORY_TARGET = 1.5  # ours' peak at the largest --shard-rows / at the smallest
SHARD_PREP_TARGET = 1.0  # ours' preparation time on shards / plain Keras'
SHARD_EPOCH_TARGET = 1.1  # ours' epoch time on shards / plain Keras'
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
SHARD_ROWS = 100_000  # rows per Parquet shard, as the benchmark writes them
# Ours' hash split, pinned here (not left to the defaults) so the peer's row counts follow it.
HOLDOUT = {"test_fraction": 0.2, "validation_split": 0.2, "split_seed": 123}
SHARD_FIXED = (
    "train.epochs=1",
    "train.early_stopping.enabled=false",
    "train.batch_size=256",  # fixed, not `auto`: the peer batches the same
    "vocab.max_tokens=10000",
    "vocab.sequence_length=100",
    "model.hidden_units=16",
)
READ_ROWS = 1024  # the peer's pyarrow batches
SHUFFLE_ROWS = 10_000  # the peer's shuffle buffer: bounded, so its memory is flat in rows
SHARD_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
SHARD_CACHE = SHARD_CACHE / "warmstart" / "bench-scale-shards"
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


def shard_files(where: Path) -> list[Path]:
    return sorted(where.glob("part-*.parquet"))


def split_counts(files: list[Path]) -> dict[str, int]:
    """Rows per split under ours' hash rule (`data.holdout`): test drawn from every row, then
    validation from the rest; read a shard at a time, so memory is one shard's texts."""
    import pyarrow.parquet as pq

    from warmstart.data.holdout import row_draws

    seed = HOLDOUT["split_seed"]
    counts = {"train": 0, "validation": 0, "test": 0}
    for path in files:
        texts = pq.read_table(path, columns=["text"]).column("text").to_pylist()
        test = row_draws(texts, seed, "test") < HOLDOUT["test_fraction"]
        rest = [t for t, held in zip(texts, test, strict=True) if not held]
        val = row_draws(rest, seed, "validation") < HOLDOUT["validation_split"]
        counts["test"] += int(test.sum())
        counts["validation"] += int(val.sum())
        counts["train"] += len(rest) - int(val.sum())
    return counts


def split_fingerprint() -> str:
    """The hash rule's code (`data/holdout.py`): cached split counts are recounted when it
    changes, so the peer never trains on counts another rule gave."""
    import hashlib

    from warmstart.data import holdout

    return hashlib.sha256(Path(holdout.__file__).read_bytes()).hexdigest()[:16]


def shard_table(cache: Path, rows: int, per_shard: int) -> Path:
    """The shards of `rows` rows under `cache` (rows-N-per-M/), generated only when absent: a
    run cut short leaves a .partial/ folder, never a table without its counts (rows-N-per-M.json).
    """
    import shutil

    name = f"rows-{rows}-per-{per_shard}"
    where, counts = cache / name, cache / f"{name}.json"
    wanted = {"rows": rows, "rows_per_shard": per_shard, **HOLDOUT}
    known = json.loads(counts.read_text()) if counts.is_file() else {}
    if where.is_dir() and known.get("made_with") == wanted:
        if known.get("split_by") != split_fingerprint():  # the hash rule changed: recount
            split = split_counts(shard_files(where))
            counts.write_text(
                json.dumps({"made_with": wanted, "split_by": split_fingerprint(), **split})
            )
        return where
    partial = cache / f"{name}.partial"
    for stale in (partial, where):
        shutil.rmtree(stale, ignore_errors=True)
    counts.unlink(missing_ok=True)
    start = time.perf_counter()
    writer = ["-m", "warmstart.data.synthetic.shards", str(partial), "--rows", str(rows)]
    subprocess.run(
        [sys.executable, *writer, "--rows-per-shard", str(per_shard)],
        check=True,
        capture_output=True,
    )
    split = split_counts(shard_files(partial))
    partial.rename(where)
    counts.write_text(json.dumps({"made_with": wanted, "split_by": split_fingerprint(), **split}))
    print(f"generated {rows:,} rows in {time.perf_counter() - start:.0f} s: {where}", flush=True)
    return where


def counts_of(where: Path) -> dict[str, int]:
    return json.loads((where.parent / f"{where.name}.json").read_text())


def shard_config(where: Path, cache: Path):  # type: ignore[no-untyped-def]
    from compose import compose_config

    return compose_config(
        "data=files",
        f"data.path={where}",
        "data.format=parquet",
        "data.text_column=text",  # the columns the shard writer writes
        "data.label_column=label",
        "data.split=hash",
        *(f"data.{key}={value}" for key, value in HOLDOUT.items()),
        *SHARD_FIXED,
        cache_dir=cache,
    )


def child_shards(side: str, where: Path) -> dict:
    """One side on one sharded table, in this (fresh) process: preparation and one epoch,
    peaks above its RSS before any data. Nothing is kept between runs (`paths.cache_dir` is
    a new temporary directory), so no run finds another's work."""
    with tempfile.TemporaryDirectory() as cache:
        return shard_run(side, where, shard_config(where, Path(cache)))


def shard_run(side: str, where: Path, cfg) -> dict:  # type: ignore[no-untyped-def]
    import keras

    from warmstart.modeling.fit import Arrays, EpochTimer, fit, strategy
    from warmstart.modeling.model import build_model, compile_model
    from warmstart.modeling.prepare import prepare_data

    counts = counts_of(where)
    with gate.Peak() as prep:
        start = time.perf_counter()
        if side == "ours":
            data = prepare_data(cfg.data, cfg.vocab, int(cfg.seed))
            prep_s = time.perf_counter() - start
            # in memory, its arrays' length; streamed, the rows its scan counted
            trained = (
                len(data.train.labels)
                if isinstance(data.train, Arrays)
                else getattr(data.train, "rows", counts["train"])
            )
            if trained != counts["train"]:
                raise RuntimeError(
                    f"ours trains on {trained} rows, the peer on {counts['train']}: "
                    "bench_scale.split_counts no longer follows ours' hash split; fix it"
                )
            with strategy(cfg.train).scope():  # as the stages' new_model builds it
                model = build_model(
                    vocab_size=len(data.vocabulary),
                    sequence_length=data.sequence_length,
                    model_cfg=cfg.model,
                    num_classes=len(data.labels),
                )
        else:
            keras.utils.set_random_seed(int(cfg.seed))
            vocab_size, train, val = plain_keras_shards(shard_files(where), counts, cfg)
            prep_s = time.perf_counter() - start
            model = build_model(
                vocab_size=vocab_size,
                sequence_length=int(cfg.vocab.sequence_length),
                model_cfg=cfg.model,
            )
    with gate.Peak() as epoch:
        if side == "ours":
            result = fit(model, train=data.train, val=data.val, test=None, train_cfg=cfg.train)
            seconds = result.epoch_seconds
        else:
            compile_model(model, float(cfg.train.learning_rate))
            timer = EpochTimer()
            model.fit(train, validation_data=val, epochs=1, verbose=0, callbacks=[timer])
            seconds = timer.seconds
    keras.backend.clear_session()
    above = epoch.baseline + epoch.extra - prep.baseline  # the epoch, above the same baseline
    return {
        "side": side,
        "rows": counts["train"] + counts["validation"] + counts["test"],
        "prep_s": prep_s,
        "epoch_s": seconds[0],
        "peak_mb": max(prep.extra, above) / MIB,
        "prep_peak_mb": prep.extra / MIB,
        "epoch_peak_mb": above / MIB,
    }


def parquet_rows(files: list[Path], start: int, stop: int):  # type: ignore[no-untyped-def]
    """Rows start..stop-1 of the shards in order, as (texts, labels 0/1) batches; shards wholly
    before `start` are skipped by their row counts, never read."""
    import pyarrow.parquet as pq

    from warmstart.data.acl_layout import CLASSES

    positive = CLASSES[1][1]
    offset = 0  # the table row of the batch at hand
    for path in files:
        if offset >= stop:
            return
        shard = pq.ParquetFile(path)
        if offset + shard.metadata.num_rows <= start:
            offset += shard.metadata.num_rows
            continue
        for batch in shard.iter_batches(batch_size=READ_ROWS, columns=["text", "label"]):
            low, high = max(start - offset, 0), min(stop - offset, batch.num_rows)
            offset += batch.num_rows
            if low >= high:
                if high <= 0:
                    return
                continue
            part = batch.slice(low, high - low)
            texts = part.column("text").to_numpy(zero_copy_only=False)
            labels = part.column("label").to_numpy(zero_copy_only=False) == positive
            yield texts, labels.astype("float32")


def plain_keras_shards(files: list[Path], counts: dict[str, int], cfg) -> tuple:  # type: ignore[no-untyped-def]
    """Plain Keras on shards: a pyarrow generator into tf.data, adapt on the training rows,
    ids made in the pipeline as batches are read (nothing whole in memory)."""
    import keras
    import tensorflow as tf

    n_train, n_val = counts["train"], counts["validation"]
    spec = (tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.float32))

    def rows(start: int, stop: int) -> tf.data.Dataset:
        return tf.data.Dataset.from_generator(
            lambda: parquet_rows(files, start, stop), output_signature=spec
        )

    layer = keras.layers.TextVectorization(
        max_tokens=int(cfg.vocab.max_tokens),
        output_sequence_length=int(cfg.vocab.sequence_length),
    )
    layer.adapt(rows(0, n_train).map(lambda x, y: x))
    batch = int(cfg.train.batch_size)

    def ids(ds: tf.data.Dataset) -> tf.data.Dataset:
        return (
            ds.batch(batch)
            .map(lambda x, y: (layer(x), y), num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE)
        )

    train = rows(0, n_train).unbatch().shuffle(SHUFFLE_ROWS, seed=int(cfg.seed))
    val = rows(n_train, n_train + n_val).unbatch()
    return len(layer.get_vocabulary()), ids(train), ids(val)


def shards_part(g: gate.Gate, sizes: list[int], per_shard: int, cache: Path, repeats: int) -> None:
    by_size: dict[int, dict[str, list[dict]]] = {}
    for n in sizes:
        where = shard_table(cache, n, per_shard)
        counts = counts_of(where)
        print(
            f"{n:,} rows in {len(shard_files(where))} shards: train {counts['train']:,}, "
            f"validation {counts['validation']:,}, "
            f"test {counts['test']:,} (ours' hash split; the peer trains and validates on as many)",
            flush=True,
        )
        runs: dict[str, list[dict]] = {"ours": [], "keras": []}

        def side(name: str, where: Path = where, runs: dict = runs):  # type: ignore[no-untyped-def]
            def measure() -> float:
                runs[name].append(child(f"shards-{name}", "-", str(where)))
                print(json.dumps(runs[name][-1]), flush=True)
                return float(runs[name][-1]["prep_s"])

            return measure

        gate.alternate(side("ours"), side("keras"), repeats)
        by_size[n] = runs
    print(
        f"\nsharded tables: medians of {repeats} alternating runs per side, one epoch; peaks "
        "above the process's RSS before reading any data\n"
        "     rows   side   prep s  epoch s  prep MB  epoch MB  peak MB"
    )
    for n, runs in by_size.items():
        for name in ("ours", "keras"):
            r = runs[name]
            print(
                f"{n:>9} {name:>6} {median_of(r, 'prep_s'):8.2f} {median_of(r, 'epoch_s'):8.2f} "
                f"{median_of(r, 'prep_peak_mb'):8.0f} {median_of(r, 'epoch_peak_mb'):9.0f} "
                f"{median_of(r, 'peak_mb'):8.0f}"
            )
    for n, runs in by_size.items():
        for key, name, what, target in (
            ("prep_s", "shard_prep_ratio", "preparation", SHARD_PREP_TARGET),
            ("epoch_s", "shard_epoch_ratio", "epoch", SHARD_EPOCH_TARGET),
        ):
            ratio = gate.ratios([r[key] for r in runs["ours"]], [r[key] for r in runs["keras"]])
            g.compare(
                name,
                f"shards: {what} time ours / Keras, {n:,} rows",
                ratio.median,
                target,
                detail=f"per repeat {ratio}",
            )
    if len(sizes) < 2:
        g.cannot_measure("shard_memory needs at least two --shard-rows")
        return
    low, high = (median_of(by_size[n]["ours"], "peak_mb") for n in (sizes[0], sizes[-1]))
    keras_low, keras_high = (
        median_of(by_size[n]["keras"], "peak_mb") for n in (sizes[0], sizes[-1])
    )
    g.compare(
        "shard_memory",
        f"shards: ours' peak {sizes[-1]:,} rows / {sizes[0]:,} rows",
        high / low,
        SHARD_MEMORY_TARGET,
        detail=f"{high:.0f} / {low:.0f} MB; plain Keras {keras_high:.0f} / {keras_low:.0f} MB",
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
    parser.add_argument("--shard-rows", default="100000,500000,2000000")
    parser.add_argument("--rows-per-shard", type=int, default=SHARD_ROWS)
    parser.add_argument("--shard-cache", default=str(SHARD_CACHE))
    parser.add_argument("--skip-shards", action="store_true")
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
        if kind.startswith("vocab-"):
            result = child_vocab(kind.removeprefix("vocab-"), int(value), where)
        elif kind.startswith("shards-"):
            result = child_shards(kind.removeprefix("shards-"), Path(where))
        else:
            result = child_data(kind, int(value), Path(where))
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
    if not args.skip_shards:
        rows = sorted(int(s) for s in args.shard_rows.split(","))
        try:
            shards_part(g, rows, args.rows_per_shard, Path(args.shard_cache), args.repeats)
        except (RuntimeError, subprocess.CalledProcessError) as error:
            g.cannot_measure(f"shards part: {error}")
    print(f"load average at end: {load()}")
    return g.exit_code()


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


if __name__ == "__main__":
    sys.exit(main())
