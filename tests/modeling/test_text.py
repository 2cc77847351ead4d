"""Standardization and vocabularies as TextVectorization learns and exports them."""

from __future__ import annotations

import gzip
import json
import string
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from compose import compose_config

from warmstart.config.schema import AUTO
from warmstart.core.errors import ConfigError
from warmstart.core.vocab import load_vocabulary, save_vocabulary
from warmstart.data import load_splits
from warmstart.modeling import text
from warmstart.modeling.text import (
    adapt_vectorizer,
    auto_max_tokens,
    auto_sequence_length,
    learn_vocabulary,
    token_counts,
    vectorize,
    vocabulary_of,
)

NEWS = Path(__file__).resolve().parents[3] / "shared/data/20news_bydate.jsonl.gz"


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


# --- int32 ids ----------------------------------------------------------------------------------


def test_ids_are_int32_and_equal_the_vectorizers_int64_ids_batch_by_batch():
    texts = ["good good film", "bad film", "good plot twist", "plot", "film film film bad"]
    vectorizer = adapt_vectorizer(texts, max_tokens=10, sequence_length=5)
    ids = vectorize(vectorizer, texts, batch_size=2)  # three batches, the last one short
    keras_ids = vectorizer(np.asarray(texts, dtype=object)).numpy()
    assert ids.dtype == np.int32 and keras_ids.dtype == np.int64
    assert ids.shape == keras_ids.shape == (5, 5)
    assert (ids == keras_ids).all()


def test_ids_past_int32_are_refused_naming_the_setting():
    text.check_ids_fit(2**31)  # ids 0 .. 2**31 - 1 fit
    with pytest.raises(ConfigError, match=r"2,147,483,649 tokens.*vocab\.max_tokens"):
        text.check_ids_fit(2**31 + 1)


# --- the streaming vocabulary -------------------------------------------------------------------

# Where TensorFlow's standardize + whitespace split and Python's str methods part: non-ASCII
# capitals (TF lowercases ASCII only; İ and the Kelvin sign K lower to ASCII in Python), spaces
# other than ASCII's (no-break, em, \x1c-\x1f), a Greek final sigma before a dropped comma,
# <BR /> in capitals, every punctuation mark (glued to words too), tokens equal but for case or
# accent, NUL inside a token.
TRICKY = [
    "Élan élan ÉLAN <BR />Über über\xa0alles ÖL öl",
    "İstanbul istanbul \u212aelvin kelvin a\x1cb a\x1db a b a\u2003b",
    "ΟΔΟΣ,ΑΒ οδοςαβ οδοσαβ ΟΔΟΣ, don't dont -- 'quoted' (x) [UNK] unk",
    "naïve NAÏVE naïve café CAFÉ café 東京 東京 zebra Zebra ZEBRA apple",
    "",
    "   \t\n  !!! ...",
    f"in{string.punctuation}side {string.punctuation} \x00nul n\x00ul",
]


def tf_tokens(texts: list[str]) -> list[bytes]:
    """What the vectorizer splits `texts` into, as Keras' adapt counts them."""
    split = tf.strings.split(text.standardize(tf.constant(texts)))
    return [token for row in split.to_list() for token in row]


def test_vectorizer_tokens_are_tensorflows_standardize_and_split():
    assert text.vectorizer_tokens(TRICKY) == tf_tokens(TRICKY)
    assert text.vectorizer_tokens([]) == []


def adapted(texts: list[str], max_tokens) -> list[str]:
    """Today's path: `auto_max_tokens` for auto, then Keras' adapt."""
    tokens = auto_max_tokens(texts) if max_tokens == AUTO else max_tokens
    return vocabulary_of(adapt_vectorizer(texts, max_tokens=tokens, sequence_length=8))


def batches(texts: list[str], size: int) -> Iterator[list[str]]:
    return (texts[i : i + size] for i in range(0, len(texts), size))


@pytest.mark.parametrize("max_tokens", [AUTO, 3, 6, 12, 1000])
def test_streamed_vocabulary_is_the_adapted_one_on_tricky_texts(max_tokens):
    assert learn_vocabulary(batches(TRICKY, 2), max_tokens) == adapted(TRICKY, max_tokens)


def test_equal_counts_are_ordered_as_keras_orders_them_greatest_token_first():
    # Every token once or twice: Keras ranks by count, then by the token's UTF-8 bytes, greatest
    # first (é's bytes come after z's); a cut inside a tie keeps the greatest.
    texts = ["b a c", "zz yy", "é e", "a b c zz", "Zebra apple"]
    expected = ["", "[UNK]", "zz", "c", "b", "a", "é", "zebra", "yy", "e", "apple"]
    assert adapted(texts, 100) == expected
    for max_tokens in (100, 5, 7, 8):
        assert learn_vocabulary([texts], max_tokens) == expected[:max_tokens]
    assert learn_vocabulary([texts], None) == expected


def test_any_batch_size_gives_the_same_vocabulary():
    texts = [f"w{i % 7} w{i % 3} shared {'x' * (i % 4)}" for i in range(50)]
    expected = adapted(texts, AUTO)
    for size in (1, 3, 16, 50, 1000):
        assert learn_vocabulary(batches(texts, size), AUTO) == expected
        assert learn_vocabulary(batches(texts, size), 5) == adapted(texts, 5)
    assert learn_vocabulary(iter([tuple(texts[:20]), np.asarray(texts[20:])]), 5) == adapted(
        texts, 5
    )


@pytest.mark.parametrize("generation", [0, 2])
def test_streamed_vocabulary_is_the_adapted_one_on_the_embedded_corpus(generation, data_cache):
    cfg = compose_config("experiment=smoke", f"data.generation={generation}", cache_dir=data_cache)
    texts = load_splits(cfg.data).train["text"].tolist()
    for max_tokens in (AUTO, 300):
        assert learn_vocabulary(batches(texts, 100), max_tokens) == adapted(texts, max_tokens)


def test_streamed_vocabulary_is_the_adapted_one_on_20_newsgroups():
    if not NEWS.is_file():
        pytest.skip(f"{NEWS} is absent (the shared 20 Newsgroups file is not on this machine)")
    with gzip.open(NEWS, "rt", encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for line in lines]
    # The first 1,000 posts and every one with a non-ASCII character (Latin-1 posts: where the
    # vectorizer's tokens and auto's Python ones part, which changes auto's count here).
    sample = texts[:1000] + [t for t in texts[1000:] if not t.isascii()]
    for max_tokens in (AUTO, 2000):
        assert learn_vocabulary(batches(sample, 256), max_tokens) == adapted(sample, max_tokens)


def test_learned_vectorizer_gives_the_adapted_ids_and_keras_answers_without_tokens():
    texts = ["good good film", "bad film", "good plot twist"]
    learned = text.learned_vectorizer(texts, max_tokens=AUTO, sequence_length=5)
    assert vocabulary_of(learned) == adapted(texts, AUTO)
    same = adapt_vectorizer(texts, max_tokens=auto_max_tokens(texts), sequence_length=5)
    assert (vectorize(learned, texts) == vectorize(same, texts)).all()
    # No token learned: Keras' adapt answers, as before (mask and OOV alone; max_tokens=1 fails).
    empty = text.learned_vectorizer(["", "!!"], max_tokens=10, sequence_length=4)
    assert vocabulary_of(empty) == ["", "[UNK]"]
    with pytest.raises(ValueError, match="max_tokens"):
        text.learned_vectorizer(texts, max_tokens=1, sequence_length=4)


def test_a_token_ending_in_nul_is_counted_whole_and_its_vectorizer_left_to_adapt():
    # Keras' get_vocabulary and set_vocabulary drop trailing NULs (numpy strings); adapt's
    # table keeps them, so only adapt gives these ids.
    texts = ["a\x00 a\x00 a zz", "zz zz"]
    assert learn_vocabulary([texts], 10) == ["", "[UNK]", "zz", "a\x00", "a"]
    learned = text.learned_vectorizer(texts, max_tokens=10, sequence_length=4)
    same = adapt_vectorizer(texts, max_tokens=10, sequence_length=4)
    assert vocabulary_of(learned) == vocabulary_of(same)
    assert (vectorize(learned, texts) == vectorize(same, texts)).all()
