"""Data ready for Keras: splits read once, a vocabulary learned on train, every split vectorized.

The pipeline prepares the same new data for vocab_diff, warm_start and cold_start in one
process: reading 50,000 reviews and learning a vocabulary once, not three times, keeps its
wall time near plain Keras. The vocabulary is counted in one pass of batches
(`text.learn_vocabulary`: the one `TextVectorization.adapt` learns) and token ids are int32.
The cache (in memory, never on disk) is keyed by the resolved data and vocab settings and
the seed, and holds two entries (the base's and the update's).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass

import keras

from warmstart.config import to_container
from warmstart.config.schema import AUTO
from warmstart.core.labels import learn_labels
from warmstart.data import Splits, load_splits
from warmstart.modeling import text
from warmstart.modeling.fit import Arrays, to_arrays


@dataclass(frozen=True)
class Prepared:
    """A stage's data, vectorized with a vocabulary learned from its training split."""

    splits: Splits
    vectorizer: keras.layers.TextVectorization
    vocabulary: list[str]
    labels: list  # the classes, learned from the training split (core.labels)
    sequence_length: int  # vocab.sequence_length, worked out from the training texts if auto
    train: Arrays
    val: Arrays
    test: Arrays


def prepare_data(data_cfg: Mapping, vocab_cfg: Mapping, seed: int) -> Prepared:
    """Load the splits, learn the vocabulary on train, vectorize every split (cached)."""
    keras.utils.set_random_seed(seed)
    settings = [to_container(data_cfg), to_container(vocab_cfg), seed]
    key = json.dumps(settings, sort_keys=True, default=str)
    return _prepared(key)


@functools.lru_cache(maxsize=2)
def _prepared(key: str) -> Prepared:
    data_cfg, vocab_cfg, _ = json.loads(key)
    splits = load_splits(data_cfg)
    texts = splits.train["text"].tolist()
    length = vocab_cfg["sequence_length"]
    length = text.auto_sequence_length(texts) if length == AUTO else int(length)
    tokens = vocab_cfg["max_tokens"]
    vectorizer = text.learned_vectorizer(
        texts, max_tokens=AUTO if tokens == AUTO else int(tokens), sequence_length=length
    )
    labels = learn_labels(splits.train["label"])
    return Prepared(
        splits=splits,
        vectorizer=vectorizer,
        vocabulary=text.vocabulary_of(vectorizer),
        labels=labels,
        sequence_length=length,
        train=to_arrays(vectorizer, splits.train, labels),
        val=to_arrays(vectorizer, splits.val, labels),
        test=to_arrays(vectorizer, splits.test, labels),
    )
