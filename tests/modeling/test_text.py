"""Standardization and vocabularies as TextVectorization learns and exports them."""

from __future__ import annotations

import tensorflow as tf

from warmstart.core.vocab import load_vocabulary, save_vocabulary
from warmstart.modeling import text


def test_standardize_lowercases_drops_html_breaks_and_punctuation():
    out = text.standardize(tf.constant(["Great MOVIE!<br />Loved it, really."]))
    assert out.numpy()[0].decode() == "great movie loved it really"


def test_adapted_vocabulary_starts_with_mask_and_oov_and_round_trips_a_file(tmp_path):
    texts = ["good good film", "bad film", "good plot"]
    vectorizer = text.adapt_vectorizer(texts, max_tokens=10, sequence_length=4)
    vocabulary = text.vocabulary_of(vectorizer)
    assert vocabulary[:3] == ["", "[UNK]", "good"]
    path = save_vocabulary(vocabulary, tmp_path / "vocabulary.txt")
    assert load_vocabulary(path) == vocabulary


def test_rebuilt_vectorizer_gives_the_same_ids():
    texts = ["good good film", "bad film", "good plot twist"]
    learned = text.adapt_vectorizer(texts, max_tokens=10, sequence_length=5)
    rebuilt = text.build_vectorizer(sequence_length=5, vocabulary=text.vocabulary_of(learned))
    assert (text.vectorize(learned, texts) == text.vectorize(rebuilt, texts)).all()
