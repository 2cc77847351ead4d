"""Time `remap_embeddings` against `tf_keras.utils.warmstart_embedding_matrix`, and `subword`.

Cases: (a) the tutorial, 10,000 -> 10,200 tokens, dim 16; (b) large, 1,000,000 ->
1,100,000 tokens, dim 64, 5% of base tokens dropped and the rest shuffled. Vocabularies are
Python lists of str built afresh for each side, as TextVectorization.get_vocabulary()
returns them. Ours and tf_keras (default "uniform" initializer, as in the tutorial) get the
same inputs and alternate which runs first in each repeat (`gate.alternate`), so neither warms
caches for the other; ratios are per repeat, printed as median [low..high]. The "floor" is the
fastest bare NumPy copy with precomputed indices (one np.take into a fresh array, new rows left
uninitialised): matching and initialisation excluded.

The subword initializer is timed against ours with "uniform" on the same two sizes, with
new tokens derived from base words ("un" + word, word + "s", "re" + word + "ing", ...) so
that nearly every one has n-gram neighbours, and on the plain case (new tokens "n<hex>",
which share hex n-grams with the base "w<hex><hex>" words: an adversarial join).

Memory is the kernel's high-water mark (`gate.Peak`) in a fresh child process that first
builds the inputs, with glibc's mmap threshold fixed at 128 KiB so every large array is mapped
on allocation and unmapped on free: the baseline is the child's resident memory with the inputs
built, just before the remap allocates.

    python benchmarks/bench_remap.py [--quick] [--check] [--target NAME=LIMIT]
                                     [--only-subword] [--threads N]

The subword search runs compiled (Numba) on all cores unless --threads says otherwise
(`--threads 1`: one core, as `uniform` uses).

--check (benchmarks/gate.py) exits 1 when a target is missed or could not be measured: ours
< 3x faster than tf_keras on the large case (median of the per-repeat ratios), its peak
extra memory > 1.25x the output matrix, shared rows not bit-identical to tf_keras, subword
above 0.1 s on the tutorial case or above 3x uniform on the large one (median ratio).
--quick scales the large case down 10x (100,000 -> 110,000 tokens).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import gate
import numpy as np

from warmstart.core.remap import remap_embeddings

# Measured 3.7x at 100,000 tokens and 4.0x at 1,000,000 (median of 3 alternating repeats,
# quiet machine); an older best-of-N reading said 5x.
SPEEDUP_TARGET = 3.0
MEMORY_TARGET = 1.25
SUBWORD_SMALL_SECONDS = 0.1
SUBWORD_RATIO_TARGET = 3.0
AFFIXES = (("un", ""), ("", "s"), ("re", "ing"), ("", "ness"), ("over", "ed"))
# Fixed (not glibc's sliding default): a freed array goes back to the kernel, a new one is
# counted in RSS, so a fresh child's high-water mark is the remap's own.
MMAP_THRESHOLD = str(128 * 1024)


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


def timer(fn: Callable[[], object]) -> Callable[[], float]:
    """`fn` as a measurement for `gate.alternate`: its wall seconds, result freed after."""

    def measure() -> float:
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
        del result
        return seconds

    return measure


def peak_extra(case: Case, initializer: str) -> float:
    """Bytes `remap_embeddings(..., initializer)` adds at its peak, measured in a fresh child
    (`--peak-child`) whose baseline is taken with the inputs built, before the remap allocates."""
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": MMAP_THRESHOLD}
    job = json.dumps({"case": asdict(case), "initializer": initializer})
    done = subprocess.run(
        [sys.executable, __file__, "--peak-child", job], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        raise RuntimeError(f"peak child failed:\n{done.stderr[-3000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["extra"])


def peak_child(job: str) -> int:
    spec = json.loads(job)
    base, new, emb = make_case(Case(**spec["case"]))
    remap_embeddings(base[:50], new[:50], emb[:50], spec["initializer"], seed=0)  # compile/warm
    with gate.Peak() as peak:
        result = remap_embeddings(base, new, emb, spec["initializer"], seed=0)
        del result
    print(json.dumps({"extra": peak.extra, "baseline": peak.baseline}))
    return 0


def run(case: Case) -> dict[str, object]:
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

    ours_t, tfk_t = gate.alternate(
        timer(lambda: remap_embeddings(base, new, emb, seed=0)),
        timer(lambda: tf_keras.utils.warmstart_embedding_matrix(base, new, emb, "uniform")),
        case.repeats,
    )
    floor_t = statistics.median(timer(floor)() for _ in range(case.repeats))
    speedup = gate.ratios(tfk_t, ours_t)  # tf_keras / ours, per repeat
    over_floor = statistics.median(ours_t) / floor_t
    peak = peak_extra(case, "uniform")
    stats = {
        "speedup": speedup,
        "peak_ratio": peak / out_bytes,
        "parity": parity,
    }
    print(
        f"[{case.name}] {case.base_size:,} -> {case.new_size:,} tokens, dim {case.dim}, "
        f"drop {case.drop:.0%}, shuffled={case.shuffle}, {case.repeats} alternating repeats\n"
        f"  ours      {statistics.median(ours_t) * 1e3:9.1f} ms (median)\n"
        f"  tf_keras  {statistics.median(tfk_t) * 1e3:9.1f} ms   tf_keras/ours = {speedup}x\n"
        f"  floor     {floor_t * 1e3:9.1f} ms   ours/floor    = {over_floor:.2f}x\n"
        f"  peak extra memory {peak / 2**20:.1f} MiB vs output {out_bytes / 2**20:.1f} MiB"
        f" = {stats['peak_ratio']:.2f}x (fresh process, baseline: inputs built)\n"
        f"  shared rows bit-identical to tf_keras: {parity}",
        flush=True,
    )
    return stats


def run_subword(case: Case, memory: bool = False) -> dict[str, object]:
    """Seconds of ours with uniform and with subword on the same vocabularies, alternating;
    with `memory`, also the peak resident memory each adds beyond its inputs."""
    base, new, emb = make_case(case)
    result = remap_embeddings(base, new, emb, "subword", seed=0)
    counts = result.report.source_counts
    composed = counts.get("subword", 0) / max(1, result.report.added)
    del result
    subword_t, uniform_t = gate.alternate(
        timer(lambda: remap_embeddings(base, new, emb, "subword", seed=0)),
        timer(lambda: remap_embeddings(base, new, emb, "uniform", seed=0)),
        case.repeats,
    )
    ratio = gate.ratios(subword_t, uniform_t)
    peaks = ""
    if memory:
        mib = {name: peak_extra(case, name) / 2**20 for name in ("uniform", "subword")}
        peaks = (
            f"\n  peak extra resident memory: uniform {mib['uniform']:.0f} MiB, subword "
            f"{mib['subword']:.0f} MiB (output {(case.new_size * case.dim * 4) / 2**20:.0f} MiB)"
        )
    print(
        f"[{case.name} subword, {'derived' if case.derived else 'plain'} new tokens] "
        f"{case.base_size:,} -> {case.new_size:,}, dim {case.dim}, "
        f"{case.repeats} alternating repeats\n"
        f"  uniform   {statistics.median(uniform_t) * 1e3:9.1f} ms (median)\n"
        f"  subword   {statistics.median(subword_t) * 1e3:9.1f} ms   subword/uniform = {ratio}x\n"
        f"  new rows composed from neighbours: {composed:.1%}{peaks}",
        flush=True,
    )
    return {"subword_s": gate.Spread(tuple(subword_t)), "ratio": ratio}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="large case scaled down 10x")
    parser.add_argument("--only-subword", action="store_true", help="skip the tf_keras cases")
    parser.add_argument("--threads", type=int, help="threads of the subword search (all cores)")
    parser.add_argument("--peak-child", help=argparse.SUPPRESS)
    gate.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.peak_child:
        return peak_child(args.peak_child)
    import numba

    if args.threads:
        numba.set_num_threads(args.threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    g = gate.Gate.from_args("bench_remap" + (" --quick" if args.quick else ""), args)
    print(f"load average at start: {_load()}; subword search threads: {numba.get_num_threads()}")
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
    sub_small = run_subword(replace(small, derived=True))
    # Five repeats: on a shared machine the median of three still moves by +-10%.
    sub_large = run_subword(replace(large, derived=True, repeats=5), memory=True)
    run_subword(replace(large, repeats=3))
    if not args.only_subword:
        run(small)
        stats = run(large)
        g.compare(
            "speedup",
            f"tf_keras / ours, {large.name} case (x)",
            stats["speedup"].median,
            SPEEDUP_TARGET,
            at_most=False,
            detail=f"per repeat {stats['speedup']}",
        )
        g.compare(
            "peak_ratio",
            f"ours' peak extra memory / output, {large.name} case",
            stats["peak_ratio"],
            MEMORY_TARGET,
        )
        g.compare(
            "parity",
            "shared rows bit-identical to tf_keras (1 = yes)",
            float(stats["parity"]),
            1.0,
            at_most=False,
        )
    g.compare(
        "subword_small_s",
        "subword, tutorial case (s, median)",
        sub_small["subword_s"].median,
        SUBWORD_SMALL_SECONDS,
        detail=f"per repeat {sub_small['subword_s']}",
    )
    g.compare(
        "subword_ratio",
        f"subword / uniform, {large.name} case (x)",
        sub_large["ratio"].median,
        SUBWORD_RATIO_TARGET,
        detail=f"per repeat {sub_large['ratio']}",
    )
    print(f"load average at end: {_load()}")
    return g.exit_code()


def _load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


if __name__ == "__main__":
    sys.exit(main())
