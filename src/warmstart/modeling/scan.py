"""One pass over a streamed table: everything preparation needs, no row held in memory.

The vocabulary (`text.learn_vocabulary`, exact counts), the classes, each split's size, label
counts and digest, the training texts' token counts (for `sequence_length=auto`), each
shard's kept rows written split by split to local disk (`data.split_cache`: an epoch reads
only its split, without decoding, checking or hashing again) and a bounded sample of each
split (`data.sample_rows`: the rows with the smallest draws, in table order; the whole split
when it is smaller) for what needs texts in memory: the evaluator, the promotion gate, the
TF-IDF baseline and the verdict.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa

from warmstart.core.errors import DataError
from warmstart.core.labels import learn_labels
from warmstart.data.arrow_memory import use_reusing_pool
from warmstart.data.split_cache import CachedPart, SplitCache
from warmstart.data.split_sample import SplitSample
from warmstart.data.splits import RowsDigest, check_classes, combined_digest
from warmstart.data.stream import PARTS, TRAIN, ShardedTable, ShardRows
from warmstart.modeling import text


@dataclass(frozen=True, eq=False)
class Scan:
    """What one pass learned of a streamed table."""

    vocabulary: list[str]
    labels: list[Any]
    rows: dict[str, int]  # per split name (train, val, test)
    label_counts: dict[str, Counter]  # per split name: label value -> rows
    digest: str
    samples: dict[str, pd.DataFrame]  # per split name, at most `sample_rows` rows
    lengths: Counter | None  # training texts per token count (sequence_length=auto)
    cache: SplitCache  # every shard's rows, split, on local disk for the epochs
    dropped: int


T = TypeVar("T")
SPLIT_NAMES = ("train", "val", "test")  # as `Splits` names them, in PARTS' order
COUNT_BATCH = 4096  # texts counted at once: their tokens, not a shard's, are in memory


def scan(table: ShardedTable, max_tokens: int | str, lengths: bool) -> Scan:
    """Read every shard once (see the module docstring)."""
    use_reusing_pool()  # batches' buffers reused, not fresh pages each (`data.arrow_memory`)
    digests = [RowsDigest() for _ in PARTS]
    samples = [SplitSample(table.sample_rows) for _ in PARTS]
    counts: list[Counter] = [Counter() for _ in PARTS]
    length_counts: Counter | None = Counter() if lengths else None
    cache = SplitCache(table.cache_dir)
    seen = dropped = 0

    def batches() -> Iterator[tuple[ShardRows, list[tuple[pa.Table, CachedPart | None]]]]:
        """Each batch read and written to the cache split by split (in the read-ahead thread:
        writing overlaps the counting), with each split's rows: one copy of the batch, grouped
        by split in table order, each split a slice of it."""
        number = 0
        for index, (shard_set, shard) in enumerate(table.shards()):
            for got in table.read(shard_set, shard):
                order = np.argsort(got.parts, kind="stable")
                grouped = pa.Table.from_pandas(got.rows, preserve_index=False).take(order)
                ends = np.searchsorted(got.parts[order], np.arange(len(PARTS) + 1))
                parts = []
                for part in range(len(PARTS)):
                    rows = grouped.slice(ends[part], ends[part + 1] - ends[part])
                    kept = cache.write(index, str(shard), part, rows, number) if len(rows) else None
                    parts.append((rows, kept))
                number += 1
                yield got, parts

    def training_texts() -> Iterator[pa.Array]:
        nonlocal seen, dropped
        for got, parts in _read_ahead(batches()):
            seen, dropped = seen + got.seen, dropped + got.dropped
            for part, (rows, cached) in enumerate(parts):
                if cached is None:
                    continue
                texts = rows.column("text").combine_chunks()
                digests[part].update_arrow(texts, rows.column("label").combine_chunks())
                found = rows.column("label").value_counts()
                labels, n = found.field("values").to_pylist(), found.field("counts").to_pylist()
                counts[part].update(dict(zip(labels, n, strict=True)))
                samples[part].add(cached, got.draws[got.parts == part])
                if part == TRAIN:
                    for start in range(0, len(texts), COUNT_BATCH):  # the tokens of a batch,
                        yield texts[start : start + COUNT_BATCH]  # not a shard's, at once

    vocabulary = text.learn_vocabulary(training_texts(), max_tokens, length_counts)
    pa.default_memory_pool().release_unused()  # what the batches took goes back to the system
    if seen == 0:
        raise DataError(
            f"no rows of {table.source} fall in the window since={table.window.since} "
            f"until={table.window.until} (column {table.columns.time!r}); widen "
            "data.since/data.until"
        )
    if digests[TRAIN].rows == 0:
        raise DataError(
            f"no training rows in {table.source} (every text empty, or every row held out); "
            "set data.text_column to the column that holds the texts, or lower "
            "data.test_fraction/data.validation_split"
        )
    check_classes(
        {name: set(c) for name, c in zip(("train", "validation", "test"), counts, strict=True)},
        table.source,
    )
    return Scan(
        vocabulary=vocabulary,
        labels=learn_labels(counts[TRAIN]),
        rows={name: d.rows for name, d in zip(SPLIT_NAMES, digests, strict=True)},
        label_counts=dict(zip(SPLIT_NAMES, counts, strict=True)),
        digest=combined_digest(digests),
        samples={name: s.frame() for name, s in zip(SPLIT_NAMES, samples, strict=True)},
        lengths=length_counts,
        cache=cache,
        dropped=dropped,
    )


def _read_ahead(items: Iterator[T]) -> Iterator[T]:
    """`items`, the next one read in a thread while this one is used: Arrow's decoding
    releases the GIL, so reading and counting share the machine's cores."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="scan-read") as pool:
        ahead = pool.submit(next, items, None)
        while (item := ahead.result()) is not None:
            ahead = pool.submit(next, items, None)
            yield item
