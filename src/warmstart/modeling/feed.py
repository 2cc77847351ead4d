"""A streamed split as a `tf.data` pipeline: shards read in turn, token ids made on the fly.

Each epoch reads the split's rows of every shard as the scan left them on local disk
(`data.split_cache`; training: in a shard order reshuffled every epoch, rows shuffled within
a window of about `SHUFFLE_ROWS` rows, so a table written in time or class order still
mixes) and yields batches of texts and class indices; the vectorizer runs in `tf.data`'s
parallel map and batches are prefetched while the model trains. Only the window and a few
batches are in memory, whatever the table's size.

Under `train.strategy=multi_worker` each worker reads only its own shards (the i-th of n
workers: shards i, i+n, ...) and all take the same number of steps (the smallest worker's, the
others' extra rows wait for the next epoch), with `tf.data`'s own sharding off.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import tensorflow as tf
from keras import layers

from warmstart.core.labels import encode
from warmstart.data.split_cache import CachedPart, SplitCache
from warmstart.data.stream import ShardedTable
from warmstart.modeling import text

SHUFFLE_ROWS = 50_000  # rows shuffled together in a training epoch (about a shard's, at least)
log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class StreamedSplit:
    """One split of a streamed table: its size, and batches of (token ids, labels) on demand."""

    table: ShardedTable
    part: int  # data.stream.TRAIN, VALIDATION or TEST
    rows: int
    cache: SplitCache  # the scan's split rows, files per shard and batch
    classes: Sequence[Any]
    vectorizer: layers.TextVectorization

    def shards(self, worker: int = 0, workers: int = 1) -> list[CachedPart]:
        """This split's rows of the shards worker `worker` of `workers` reads (the table's
        shards i, i + workers, ...)."""
        return [p for p in self.cache.of(self.part) if p.index % workers == worker]

    def rows_of(self, worker: int = 0, workers: int = 1) -> int:
        return sum(p.rows for p in self.shards(worker, workers))

    def steps(self, batch_size: int, workers: int = 1) -> int:
        """Batches per epoch; with several workers the smallest worker's count (each worker
        takes `batch_size / workers` rows a step)."""
        if workers == 1:
            return max(math.ceil(self.rows / batch_size), 1)
        per_worker = max(batch_size // workers, 1)
        return max(min(self.rows_of(w, workers) // per_worker for w in range(workers)), 1)

    def dataset(
        self,
        batch_size: int,
        *,
        seed: int | None = None,
        worker: int = 0,
        workers: int = 1,
    ) -> tf.data.Dataset:
        """Batches of (int32 token ids, labels); `seed` shuffles (training), None keeps the
        table's order (validation, test)."""
        binary = len(self.classes) == 2
        label_type = tf.float32 if binary else tf.int32
        epochs = itertools.count()
        own = self.shards(worker, workers)
        if workers > 1:
            mine = dict(sorted({p.index: p.shard.rsplit("/", 1)[-1] for p in own}.items()))
            shards = len(list(self.table.shards()))
            log.warning(
                "worker %d of %d reads %d of %d shards for %s: %s",
                worker, workers, len(mine), shards, self._name(), ", ".join(mine.values()),
            )  # fmt: skip

        def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            rng = None if seed is None else np.random.default_rng([seed, next(epochs)])
            order = list(own)
            if rng is not None:
                rng.shuffle(order)
            yield from _batches(self, order, batch_size, rng, binary)

        dataset = tf.data.Dataset.from_generator(
            batches,
            output_signature=(
                tf.TensorSpec([None], tf.string),
                tf.TensorSpec([None], label_type),
            ),
        )
        vectorizer = self.vectorizer
        dataset = dataset.map(
            lambda texts, labels: (tf.cast(vectorizer(texts), text.ID_DTYPE), labels),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        if workers == 1:
            dataset = dataset.apply(tf.data.experimental.assert_cardinality(self.steps(batch_size)))
        else:
            dataset = dataset.repeat()
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
        return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)

    def _name(self) -> str:
        return ("training", "validation", "test")[self.part]


def _batches(
    split: StreamedSplit,
    order: list[CachedPart],
    batch_size: int,
    rng: np.random.Generator | None,
    binary: bool,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The split's rows of `order`'s shards in batches: with `rng`, shuffled in windows of at
    least `SHUFFLE_ROWS` rows; without, in table order, a part at a time. A window's texts are
    let go before the next part is read, so one window and one part are in memory at most."""
    texts: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    held = 0
    dtype = np.float32 if binary else np.int32
    for index, cached in enumerate(order):
        part_texts, part_labels = _part(split, cached, dtype)
        texts.append(part_texts)
        labels.append(part_labels)
        held += len(part_texts)
        last = index + 1 == len(order)
        if rng is not None and held < SHUFFLE_ROWS and not last:
            continue
        window = np.concatenate(texts), np.concatenate(labels)
        texts, labels = [], []
        del part_texts, part_labels
        if rng is not None:
            permutation = rng.permutation(len(window[0]))
            window = window[0][permutation], window[1][permutation]
        cut = len(window[0]) if last else len(window[0]) // batch_size * batch_size
        for start in range(0, cut, batch_size):
            yield window[0][start : start + batch_size], window[1][start : start + batch_size]
        texts, labels = [window[0][cut:].copy()], [window[1][cut:].copy()]  # a short batch waits
        held = len(texts[0])
        del window


def _part(split: StreamedSplit, cached: CachedPart, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """One cached part's texts (UTF-8 bytes, as TensorFlow takes them) and class indices; its
    memory-mapped file is let go on return."""
    rows = split.cache.read(cached)
    codes, uniques = _factorized(rows.column("label").to_numpy())
    texts = rows.column("text").cast(pa.large_binary()).to_numpy()
    return texts, encode(uniques, split.classes)[codes].astype(dtype)


def _factorized(values: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Codes into the distinct values (encoded once each, not once per row)."""
    codes, uniques = pd.factorize(values)
    return codes, list(uniques)
