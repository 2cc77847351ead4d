"""Exact counts ranked as Keras' TextVectorization.adapt ranks them (checked against Keras in
tests/modeling/test_text.py); here the rule itself, without TensorFlow."""

from __future__ import annotations

from collections import Counter

from warmstart.core.token_counts import ranked_tokens, tokens_seen, vocabulary_from_counts

COUNTS = Counter({b"b": 2, b"a": 2, b"zz": 2, "é".encode(): 1, b"zebra": 1, b"apple": 3})


def test_tokens_rank_by_count_then_by_their_bytes_greatest_first():
    assert ranked_tokens(COUNTS) == [b"apple", b"zz", b"b", b"a", "é".encode(), b"zebra"]
    assert ranked_tokens(COUNTS, 3) == [b"apple", b"zz", b"b"]  # a cut inside a tie
    assert ranked_tokens(COUNTS, 0) == []


def test_the_vocabulary_starts_with_mask_and_oov_which_count_towards_max_tokens():
    assert vocabulary_from_counts(COUNTS, 4) == ["", "[UNK]", "apple", "zz"]
    assert vocabulary_from_counts(COUNTS, None)[2:] == ["apple", "zz", "b", "a", "é", "zebra"]
    assert vocabulary_from_counts(COUNTS, 2) == ["", "[UNK]"]
    assert vocabulary_from_counts(Counter(), 10) == ["", "[UNK]"]


def test_counted_mask_and_oov_tokens_are_left_out_as_keras_leaves_them():
    assert ranked_tokens(Counter({b"": 9, b"[UNK]": 9, b"x": 1})) == [b"x"]


def test_tokens_seen_counts_those_at_or_above_the_threshold_after_a_correction():
    assert tokens_seen(COUNTS, 2) == 4
    # "zebra" twice and "b" once in the other tokenization; a token only it has counts too
    correction = Counter({b"zebra": 1, b"b": -1, b"new": 2})
    assert tokens_seen(COUNTS, 2, correction) == 5
