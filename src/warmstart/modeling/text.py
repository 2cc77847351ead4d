"""Text to token ids: the tutorial's standardization and a Keras 3 TextVectorization.

The vectorizer is never saved inside a Keras model file: a model version carries its
vocabulary as plain text, and the vectorizer is rebuilt from it. That keeps model files free
of custom Python objects (so they load with Keras `safe_mode`) and makes the vocabulary the
single, verifiable link between a model and the text it reads.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

import numpy as np
import tensorflow as tf
from keras import layers

_PUNCTUATION = f"[{re.escape(string.punctuation)}]"


def standardize(text: tf.Tensor) -> tf.Tensor:
    """Lowercase, turn IMDB's `<br />` into spaces and drop punctuation (as the tutorial)."""
    lowered = tf.strings.lower(text)
    no_html = tf.strings.regex_replace(lowered, "<br />", " ")
    return tf.strings.regex_replace(no_html, _PUNCTUATION, "")


def build_vectorizer(
    *, sequence_length: int, max_tokens: int | None = None, vocabulary: Sequence[str] | None = None
) -> layers.TextVectorization:
    """A TextVectorization with the project's standardization.

    Give `vocabulary` (as `get_vocabulary()` returned it, mask '' and '[UNK]' first) to
    rebuild a trained vectorizer, or `max_tokens` and call `adapt` to learn one.
    """
    vectorizer = layers.TextVectorization(
        max_tokens=max_tokens,
        standardize=standardize,
        output_mode="int",
        output_sequence_length=sequence_length,
    )
    if vocabulary is not None:
        # Keras recognises its own mask '' and OOV '[UNK]' at the head of the list; dropping
        # only the mask would make '[UNK]' a regular token and shift every id by one.
        vectorizer.set_vocabulary(list(vocabulary))
    return vectorizer


def adapt_vectorizer(
    texts: Sequence[str], *, max_tokens: int, sequence_length: int, batch_size: int = 1024
) -> layers.TextVectorization:
    """Learn a vocabulary of at most `max_tokens` from `texts` (training texts only)."""
    vectorizer = build_vectorizer(sequence_length=sequence_length, max_tokens=max_tokens)
    dataset = tf.data.Dataset.from_tensor_slices(np.asarray(texts, dtype=object)).batch(batch_size)
    vectorizer.adapt(dataset)
    return vectorizer


def vectorize(
    vectorizer: layers.TextVectorization, texts: Sequence[str], batch_size: int = 4096
) -> np.ndarray:
    """Token ids of `texts`, computed once, so epochs do not re-tokenize."""
    dataset = tf.data.Dataset.from_tensor_slices(np.asarray(texts, dtype=object)).batch(batch_size)
    return np.concatenate([vectorizer(batch).numpy() for batch in dataset], axis=0)


def vocabulary_of(vectorizer: layers.TextVectorization) -> list[str]:
    """The vectorizer's vocabulary as `str` (index 0 is the mask token '')."""
    return [
        t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in vectorizer.get_vocabulary()
    ]
