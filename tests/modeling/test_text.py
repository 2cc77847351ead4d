"""Standardization and vocabularies as TextVectorization learns and exports them."""

from __future__ import annotations

import tensorflow as tf

from warmstart.core.vocab import load_vocabulary, save_vocabulary
from warmstart.modeling import text
from warmstart.modeling.text import (
    adapt_vectorizer,
    auto_max_tokens,
    auto_sequence_length,
    token_counts,
    vectorize,
    vocabulary_of,
)


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


def test_token_counts_follow_the_vectorizers_standardization():
    texts = ["A moving, beautifully-acted film.<br />Loved it!", "", "one"]
    assert token_counts(texts).tolist() == [6, 0, 1]
    vectorizer = adapt_vectorizer(texts, max_tokens=50, sequence_length=10)
    ids = vectorize(vectorizer, texts)
    assert (ids != 0).sum(axis=1).tolist() == [6, 0, 1]


def test_auto_sequence_length_fits_most_texts_and_stays_within_bounds():
    short = ["word " * 12] * 100  # tickets of 12 words: 16, not the tutorial's 100
    assert auto_sequence_length(short) == 16
    mixed = ["word " * n for n in range(1, 201)]  # 95th percentile 190.05 -> 192
    assert auto_sequence_length(mixed) == 192
    assert auto_sequence_length(["word " * 5000] * 3) == 512
    assert auto_sequence_length([]) == 16


def test_auto_max_tokens_keeps_every_token_seen_twice_plus_mask_and_oov():
    texts = ["alpha beta beta", "alpha gamma", "delta"]  # alpha and beta twice or more
    assert auto_max_tokens(texts) == 2 + 2
    vectorizer = adapt_vectorizer(texts, max_tokens=auto_max_tokens(texts), sequence_length=4)
    assert vocabulary_of(vectorizer) == ["", "[UNK]", "beta", "alpha"]
