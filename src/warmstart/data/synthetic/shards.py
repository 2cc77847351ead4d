"""The embedded corpus written as Parquet shards (`text`, `label`), as Spark or Ray write tables.

For tables larger than the aclImdb tree is meant for (a file per review): the benchmark's
100,000 to 2,000,000 rows, read back through `data=files data.path=<folder>`. Each shard is
generated and written alone (its draws keyed by seed, generation and shard number), so memory
stays flat in rows and the same arguments give the same rows. Classes alternate within each
shard's rows (`negative`, `positive` as the aclImdb reader names them).

    python -m warmstart.data.synthetic.shards OUT_DIR --rows 2000000 [--rows-per-shard 100000]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from warmstart.data.acl_layout import CLASSES
from warmstart.data.synthetic.drift import keyed_rng, lexicon
from warmstart.data.synthetic.reviews import lexicon_samplers, reviews

SHARD_KEY = 3000  # keeps shard draws apart from the aclImdb tree's (2000 + generation)


def write_corpus_shards(
    out_dir: Path,
    *,
    rows: int,
    rows_per_shard: int = 100_000,
    generation: int = 0,
    seed: int = 0,
) -> list[Path]:
    """Write `rows` reviews as `part-00000.parquet`, ... of `rows_per_shard` rows each."""
    if rows < 2 or rows_per_shard < 2:
        raise ValueError(f"rows and rows_per_shard must be >= 2 (got {rows}, {rows_per_shard})")
    samplers = lexicon_samplers(lexicon(seed, generation))
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for shard, start in enumerate(range(0, rows, rows_per_shard)):
        n = min(rows_per_shard, rows - start)
        rng = keyed_rng(seed, SHARD_KEY + generation, shard)
        texts: list[str] = []
        for label in (0, 1):  # n // 2 negative then the rest positive, interleaved below
            texts += [text for _, text in reviews(rng, n // 2 + label * (n % 2), label, samplers)]
        order = np.empty(n, dtype=np.int64)  # positive, negative, positive, ...
        order[0::2], order[1::2] = np.arange(n - n // 2) + n // 2, np.arange(n // 2)
        labels = [CLASSES[0][1]] * (n // 2) + [CLASSES[1][1]] * (n - n // 2)
        frame = pd.DataFrame({"text": texts, "label": labels}).iloc[order]
        path = out_dir / f"part-{shard:05d}.parquet"
        frame.to_parquet(path, index=False)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--rows-per-shard", type=int, default=100_000)
    parser.add_argument("--generation", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    paths = write_corpus_shards(
        args.out_dir,
        rows=args.rows,
        rows_per_shard=args.rows_per_shard,
        generation=args.generation,
        seed=args.seed,
    )
    print(f"{len(paths)} shard(s) of at most {args.rows_per_shard} rows in {args.out_dir}")


if __name__ == "__main__":
    main()
