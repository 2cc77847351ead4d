"""Data ready for Keras: splits read once, a vocabulary learned on train, every split vectorized.

The pipeline prepares the same new data for vocab_diff, warm_start and cold_start in one
process: reading 50,000 reviews and learning a vocabulary once, not three times, keeps its
wall time near plain Keras. The vocabulary is counted in one pass of batches
(`text.learn_vocabulary`: the one `TextVectorization.adapt` learns) and token ids are int32.
A sharded table (the `data.stream` setting and module) is not held: one pass (`scan`) learns
what preparation needs and the splits stay on disk, streamed by `feed` each epoch; the same
shards read into memory give the same vocabulary, splits and digest.
The cache (in memory, never on disk) is keyed by the resolved data and vocab settings and
the seed, and holds two entries (the base's and the update's).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass

import keras
import numpy as np

from warmstart.config import to_container
from warmstart.config.schema import AUTO
from warmstart.core.errors import DataError
from warmstart.core.labels import encode, learn_labels
from warmstart.data import Splits, load_splits
from warmstart.data.stream import TEST, TRAIN, VALIDATION, ShardedTable, sharded_table
from warmstart.modeling import text
from warmstart.modeling.feed import StreamedSplit
from warmstart.modeling.fit import Arrays, to_arrays
from warmstart.modeling.scan import scan


@dataclass(frozen=True)
class Prepared:
    """A stage's data, vectorized with a vocabulary learned from its training split.

    In memory, `train`, `val` and `test` are token id arrays and `splits` the whole splits.
    Streamed (a sharded table, `data.stream`), they are `feed.StreamedSplit`s and `splits`
    holds bounded samples (`splits.rows`: the whole sizes); `checked` and `evaluated` are
    then those samples vectorized.
    """

    splits: Splits
    vectorizer: keras.layers.TextVectorization
    vocabulary: list[str]
    labels: list  # the classes, learned from the training split (core.labels)
    sequence_length: int  # vocab.sequence_length, worked out from the training texts if auto
    train: Arrays | StreamedSplit
    val: Arrays | StreamedSplit
    test: Arrays | StreamedSplit
    train_labels: np.ndarray  # class index of every training row (the verdict's prior)

    @functools.cached_property
    def checked(self) -> Arrays:
        """The validation rows the verdict judges: all of them, or the streamed sample (its
        ids made when first asked: after training, not before)."""
        if isinstance(self.val, Arrays):
            return self.val
        return to_arrays(self.vectorizer, self.splits.val, self.labels)

    @functools.cached_property
    def evaluated(self) -> Arrays:
        """The test rows of `splits.test` that the evaluator and the gate score."""
        if isinstance(self.test, Arrays):
            return self.test
        return to_arrays(self.vectorizer, self.splits.test, self.labels)

    @property
    def streamed(self) -> bool:
        return isinstance(self.train, StreamedSplit)

    @property
    def train_rows(self) -> int:
        return self.splits.sizes()["train"]


def prepare_data(data_cfg: Mapping, vocab_cfg: Mapping, seed: int) -> Prepared:
    """Load the splits, learn the vocabulary on train, vectorize every split (cached)."""
    keras.utils.set_random_seed(seed)
    settings = [to_container(data_cfg), to_container(vocab_cfg), seed]
    key = json.dumps(settings, sort_keys=True, default=str)
    return _prepared(key)


@functools.lru_cache(maxsize=2)
def _prepared(key: str) -> Prepared:
    data_cfg, vocab_cfg, _ = json.loads(key)
    table = sharded_table(data_cfg)
    if table is not None:
        return _streamed(table, vocab_cfg)
    splits = load_splits(data_cfg)
    texts = splits.train["text"].tolist()
    length = vocab_cfg["sequence_length"]
    length = text.auto_sequence_length(texts) if length == AUTO else int(length)
    tokens = vocab_cfg["max_tokens"]
    vectorizer = text.learned_vectorizer(
        texts, max_tokens=AUTO if tokens == AUTO else int(tokens), sequence_length=length
    )
    labels = learn_labels(splits.train["label"])
    train = to_arrays(vectorizer, splits.train, labels)
    val = to_arrays(vectorizer, splits.val, labels)
    test = to_arrays(vectorizer, splits.test, labels)
    return Prepared(
        splits=splits,
        vectorizer=vectorizer,
        vocabulary=text.vocabulary_of(vectorizer),
        labels=labels,
        sequence_length=length,
        train=train,
        val=val,
        test=test,
        train_labels=train.labels,
    )


def _streamed(table: ShardedTable, vocab_cfg: Mapping) -> Prepared:
    """A sharded table in one pass (`scan`), its splits left on disk for `feed` to stream."""
    length = vocab_cfg["sequence_length"]
    tokens = vocab_cfg["max_tokens"]
    found = scan(table, tokens if tokens == AUTO else int(tokens), lengths=length == AUTO)
    if len(found.vocabulary) <= text.SPECIAL_TOKENS:
        raise DataError(
            f"the training texts of {table.source} hold no token; set data.text_column to the "
            "column that holds the texts"
        )
    length = text.sequence_length_of(found.lengths or {}) if length == AUTO else int(length)
    vectorizer = text.build_vectorizer(sequence_length=length, vocabulary=found.vocabulary)
    text.check_ids_fit(len(found.vocabulary))
    splits = Splits(
        train=found.samples["train"],
        val=found.samples["val"],
        test=found.samples["test"],
        source=table.source,
        name=table.name,
        dropped_texts=found.dropped,
        rows=found.rows,
        known_digest=found.digest,
    )
    labels = found.labels

    def streamed(part: int) -> StreamedSplit:
        rows = found.rows[("train", "val", "test")[part]]
        return StreamedSplit(table, part, rows, found.cache, labels, vectorizer)

    counts = found.label_counts["train"]
    index = encode(list(counts), labels)
    return Prepared(
        splits=splits,
        vectorizer=vectorizer,
        vocabulary=text.vocabulary_of(vectorizer),
        labels=labels,
        sequence_length=length,
        train=streamed(TRAIN),
        val=streamed(VALIDATION),
        test=streamed(TEST),
        train_labels=np.repeat(index, list(counts.values())).astype(np.int32),
    )
