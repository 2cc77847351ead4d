"""Time `remap_embeddings` against `tf_keras.utils.warmstart_embedding_matrix`, and `subword`.

Cases: (a) the tutorial, 10,000 -> 10,200 tokens, dim 16; (b) large, 1,000,000 ->
1,100,000 tokens, dim 64, 5% of base tokens dropped and the rest shuffled. Vocabularies are
Python lists of str built afresh for each side, as TextVectorization.get_vocabulary()
returns them. Ours and tf_keras (default "uniform" initializer, as in the tutorial) get the
same inputs and alternate which runs first in each repeat, so neither warms caches for the
other. The "floor" is the fastest bare NumPy copy with precomputed indices (one np.take
into a fresh array, new rows left uninitialised): matching and initialisation excluded.

The subword initializer is timed against ours with "uniform" on the same two sizes, with
new tokens derived from base words ("un" + word, word + "s", "re" + word + "ing", ...) so
that nearly every one has n-gram neighbours, and on the plain case (new tokens "n<hex>",
which share hex n-grams with the base "w<hex><hex>" words: an adversarial join).

    python benchmarks/bench_remap.py [--quick] [--check] [--only-subword] [--threads N]

The subword search runs compiled (Numba) on all cores unless --threads says otherwise
(`--threads 1`: one core, as `uniform` uses).

--check exits non-zero when ours is < 5x faster than tf_keras on the large case or its peak
extra memory exceeds 1.25x the output matrix, when subword takes 0.1 s or more on the
tutorial case or more than 3x uniform on the large one.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from warmstart.core.remap import remap_embeddings

SPEEDUP_TARGET = 5.0
MEMORY_TARGET = 1.25
SUBWORD_SMALL_SECONDS = 0.1
SUBWORD_RATIO_TARGET = 3.0
AFFIXES = (("un", ""), ("", "s"), ("re", "ing"), ("", "ness"), ("over", "ed"))


@dataclass
class Case:
    name: str
    base_size: int
    new_size: int
    dim: int
    drop: float
    shuffle: bool
    repeats: int
    derived: bool = False  # new tokens are affixed base words (subword neighbours exist)


def make_case(case: Case, seed: int = 0) -> tuple[list[str], list[str], np.ndarray]:
    """Word-like tokens; the new list holds fresh str objects, like a second get_vocabulary()."""
    rng = np.random.default_rng(seed)
    specials = ["", "[UNK]"]
    words = [f"w{i:x}{rng.integers(1 << 20):x}" for i in range(case.base_size - 2)]
    base = specials + words
    keep_n = round(len(words) * (1.0 - case.drop))
    kept = [words[i] for i in np.sort(rng.permutation(len(words))[:keep_n])]
    n_added = case.new_size - 2 - keep_n
    if case.derived:
        stems = rng.choice(len(words), n_added, replace=False)
        added = [
            f"{AFFIXES[i % len(AFFIXES)][0]}{words[w]}{AFFIXES[i % len(AFFIXES)][1]}"
            for i, w in enumerate(stems)
        ]
    else:
        added = [f"n{i:x}" for i in range(n_added)]
    body = kept + added
    if case.shuffle:
        body = [body[i] for i in rng.permutation(len(body))]
    else:
        rng.shuffle(added)
    new = "\n".join(specials + body).split("\n")  # fresh objects, allocated in list order
    emb = rng.standard_normal((case.base_size, case.dim), dtype=np.float32)
    return base, new, emb


def timed(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds per function; the order alternates between repeats."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            result = fns[name]()
            times[name].append(time.perf_counter() - start)
            del result
    return {name: statistics.median(t) for name, t in times.items()}


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 2**10
    raise RuntimeError(f"/proc/self/status has no {field}")


def peak_rss_extra(fn: Callable[[], object]) -> float:
    """MiB of resident memory `fn` adds at its peak (Linux: the high-water mark, reset
    first). Unlike tracemalloc it sees every allocation, Numba's included."""
    before = _status_mib("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # resets VmHWM to the current RSS
    result = fn()
    peak = _status_mib("VmHWM")
    del result
    return peak - before


def peak_extra(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return peak


def run(case: Case) -> dict[str, float]:
    import tf_keras

    base, new, emb = make_case(case)
    # These first calls warm both up and give the matrices compared for parity.
    ours = remap_embeddings(base, new, emb, seed=0)
    tfk = tf_keras.utils.warmstart_embedding_matrix(base, new, emb, "uniform")
    plan = ours.report.plan
    new_idx, new_to_base = plan.shared_new, plan.new_to_base
    parity = bool(np.array_equal(ours.matrix[new_idx], np.asarray(tfk)[new_idx]))
    out_bytes = ours.matrix.nbytes
    del ours, tfk

    def floor() -> np.ndarray:
        out = np.empty((case.new_size, case.dim), dtype=emb.dtype)
        np.take(emb, new_to_base, axis=0, out=out, mode="clip")
        return out

    medians = timed(
        {
            "ours": lambda: remap_embeddings(base, new, emb, seed=0),
            "tf_keras": lambda: tf_keras.utils.warmstart_embedding_matrix(
                base, new, emb, "uniform"
            ),
            "floor": floor,
        },
        case.repeats,
    )
    ours_t, tfk_t, floor_t = medians["ours"], medians["tf_keras"], medians["floor"]
    peak = peak_extra(lambda: remap_embeddings(base, new, emb, seed=0))
    stats = {
        "ours_s": ours_t,
        "tf_keras_s": tfk_t,
        "floor_s": floor_t,
        "speedup": tfk_t / ours_t,
        "ours_over_floor": ours_t / floor_t,
        "peak_mb": peak / 2**20,
        "output_mb": out_bytes / 2**20,
        "peak_ratio": peak / out_bytes,
        "parity": parity,
    }
    print(
        f"[{case.name}] {case.base_size:,} -> {case.new_size:,} tokens, dim {case.dim}, "
        f"drop {case.drop:.0%}, shuffled={case.shuffle}, median of {case.repeats}\n"
        f"  ours      {ours_t * 1e3:9.1f} ms\n"
        f"  tf_keras  {tfk_t * 1e3:9.1f} ms   tf_keras/ours = {stats['speedup']:.1f}x\n"
        f"  floor     {floor_t * 1e3:9.1f} ms   ours/floor    = {stats['ours_over_floor']:.2f}x\n"
        f"  peak extra memory {stats['peak_mb']:.1f} MiB vs output {stats['output_mb']:.1f} MiB"
        f" = {stats['peak_ratio']:.2f}x\n"
        f"  shared rows bit-identical to tf_keras: {parity}",
        flush=True,
    )
    return stats


def run_subword(case: Case, memory: bool = False) -> dict[str, float]:
    """Median seconds of ours with uniform and with subword on the same vocabularies;
    with `memory`, also the peak resident memory each adds beyond its inputs."""
    base, new, emb = make_case(case)
    result = remap_embeddings(base, new, emb, "subword", seed=0)
    counts = result.report.source_counts
    composed = counts.get("subword", 0) / max(1, result.report.added)
    del result
    medians = timed(
        {
            "uniform": lambda: remap_embeddings(base, new, emb, "uniform", seed=0),
            "subword": lambda: remap_embeddings(base, new, emb, "subword", seed=0),
        },
        case.repeats,
    )
    ratio = medians["subword"] / medians["uniform"]
    peaks = ""
    if memory:
        mib = {
            name: peak_rss_extra(lambda name=name: remap_embeddings(base, new, emb, name, seed=0))
            for name in ("uniform", "subword")
        }
        peaks = (
            f"\n  peak extra resident memory: uniform {mib['uniform']:.0f} MiB, subword "
            f"{mib['subword']:.0f} MiB (output {(case.new_size * case.dim * 4) / 2**20:.0f} MiB)"
        )
    print(
        f"[{case.name} subword, {'derived' if case.derived else 'plain'} new tokens] "
        f"{case.base_size:,} -> {case.new_size:,}, dim {case.dim}, median of {case.repeats}\n"
        f"  uniform   {medians['uniform'] * 1e3:9.1f} ms\n"
        f"  subword   {medians['subword'] * 1e3:9.1f} ms   subword/uniform = {ratio:.2f}x\n"
        f"  new rows composed from neighbours: {composed:.1%}{peaks}",
        flush=True,
    )
    return {"subword_s": medians["subword"], "uniform_s": medians["uniform"], "ratio": ratio}


def subword_failures(small: dict[str, float], large: dict[str, float]) -> list[str]:
    failures = []
    if small["subword_s"] >= SUBWORD_SMALL_SECONDS:
        failures.append(f"subword tutorial {small['subword_s']:.3f} s >= {SUBWORD_SMALL_SECONDS} s")
    if large["ratio"] > SUBWORD_RATIO_TARGET:
        failures.append(f"subword large {large['ratio']:.2f}x uniform > {SUBWORD_RATIO_TARGET}x")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="large case scaled down 10x")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--only-subword", action="store_true", help="skip the tf_keras cases")
    parser.add_argument("--threads", type=int, help="threads of the subword search (all cores)")
    args = parser.parse_args(argv)
    import numba

    if args.threads:
        numba.set_num_threads(args.threads)
    print(f"subword search threads: {numba.get_num_threads()}", flush=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    scale = 10 if args.quick else 1
    small = Case("tutorial", 10_000, 10_200, 16, drop=0.0, shuffle=False, repeats=7)
    large = Case(
        "large",
        1_000_000 // scale,
        1_100_000 // scale,
        64,
        drop=0.05,
        shuffle=True,
        repeats=3,
    )
    failures = []
    sub_small = run_subword(replace(small, derived=True))
    # Five repeats: on a shared machine the median of three still moves by +-10%.
    sub_large = run_subword(replace(large, derived=True, repeats=5), memory=True)
    run_subword(replace(large, repeats=1))
    failures += subword_failures(sub_small, sub_large)
    if args.only_subword:
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
        print(f"process peak RSS {peak_rss:.0f} MiB (inputs, outputs and tracemalloc included)")
        print("targets:", "all met" if not failures else "; ".join(failures))
        return 1 if (args.check and failures) else 0
    run(small)
    stats = run(large)
    if stats["speedup"] < SPEEDUP_TARGET:
        failures.append(f"speedup {stats['speedup']:.1f}x < {SPEEDUP_TARGET}x")
    if stats["peak_ratio"] > MEMORY_TARGET:
        failures.append(f"peak memory {stats['peak_ratio']:.2f}x > {MEMORY_TARGET}x")
    if not stats["parity"]:
        failures.append("shared rows differ from tf_keras")
    print("targets:", "all met" if not failures else "; ".join(failures))
    return 1 if (args.check and failures) else 0


if __name__ == "__main__":
    sys.exit(main())
