"""Text to token ids: the tutorial's standardization and a Keras 3 TextVectorization.

The vectorizer is never saved inside a Keras model file: a model version carries its
vocabulary as plain text, and the vectorizer is rebuilt from it. That keeps model files free
of custom Python objects (so they load with Keras `safe_mode`) and makes the vocabulary the
single, verifiable link between a model and the text it reads.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pyarrow as pa
import tensorflow as tf
from keras import layers

from warmstart.config.schema import AUTO
from warmstart.core.errors import ConfigError
from warmstart.core.token_counts import tokens_seen, vocabulary_from_counts
from warmstart.modeling import arrow_tokens

_PUNCTUATION = f"[{re.escape(string.punctuation)}]"
_PUNCTUATION_RE = re.compile(_PUNCTUATION)
_PUNCTUATION_BYTES = string.punctuation.encode("ascii")
# ASCII separators that Python's str.split splits on and TensorFlow's whitespace split does not.
_PYTHON_ONLY_SPACE = re.compile(r"[\x1c-\x1f]")
# Token ids as stored and fed to the model: half of Keras' int64, and ids stay below 2**31.
ID_DTYPE = "int32"
# vocab.sequence_length=auto: this share of the training texts fits whole, within the bounds.
AUTO_LENGTH_QUANTILE = 0.95
AUTO_LENGTH_BOUNDS = (16, 512)
# vocab.max_tokens=auto: every token seen at least this often in training, at most this many.
AUTO_TOKENS_MIN_COUNT = 2
AUTO_TOKENS_MAX = 100_000
SPECIAL_TOKENS = 2  # the mask '' and '[UNK]' count towards TextVectorization's max_tokens


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


def learned_vectorizer(
    texts: Sequence[str],
    *,
    max_tokens: int | str,
    sequence_length: int,
    batch_size: int = 1024,
) -> layers.TextVectorization:
    """The vectorizer `adapt_vectorizer` learns from `texts` (`max_tokens="auto"`: with
    `auto_max_tokens`), its vocabulary counted by `learn_vocabulary` in one pass of batches.

    Two vocabularies are left to Keras' `adapt`, as a vocabulary set by hand does not reproduce
    its answers: one of no learned token (an error for max_tokens 1, or 2 with any token; the
    mask and OOV alone for texts without a token), and one with a token ending in NUL
    (`set_vocabulary` drops trailing NULs, numpy strings, where adapt's table keeps them).
    """
    batches = (texts[i : i + batch_size] for i in range(0, len(texts), batch_size))
    vocabulary = learn_vocabulary(batches, max_tokens)
    if len(vocabulary) <= SPECIAL_TOKENS or any(t.endswith("\x00") for t in vocabulary):
        tokens = auto_max_tokens(texts) if max_tokens == AUTO else int(max_tokens)
        return adapt_vectorizer(texts, max_tokens=tokens, sequence_length=sequence_length)
    return build_vectorizer(sequence_length=sequence_length, vocabulary=vocabulary)


def learn_vocabulary(
    batches: Iterable[Sequence[str] | pa.Array | pa.ChunkedArray],
    max_tokens: int | str | None,
    lengths: Counter[int] | None = None,
) -> list[str]:
    """The vocabulary `adapt_vectorizer` learns (`"auto"`: with `auto_max_tokens`), in one pass
    over batches of training texts (lists or Arrow string arrays): exact counts, the same
    tokens in the same order (`core.token_counts`), whatever the batches' sizes. Tokens are
    made and counted in Arrow's kernels (`arrow_tokens`); only the counts are held.

    `auto` counts tokens the way `auto_max_tokens` always has (Python's Unicode lowercase and
    split); the few texts where that differs from the vectorizer's tokens (non-ASCII letters
    or spaces, the separators \\x1c-\\x1f) are counted both ways to correct it. `lengths`,
    when given, gathers how many texts have each token count (`length_counts`) on the way.
    """
    auto = max_tokens == AUTO
    counts: Counter[bytes] = Counter()
    correction: Counter[bytes] = Counter()
    for batch in batches:
        texts = arrow_tokens.as_arrow(batch)
        lists = arrow_tokens.token_lists(texts)
        counts.update(arrow_tokens.counted(lists))
        odd = arrow_tokens.python_only(texts) if auto or lengths is not None else None
        odd_texts = arrow_tokens.texts_at(texts, odd) if odd is not None else []
        if lengths is not None:
            plain = arrow_tokens.lengths(lists)[~odd] if odd is not None else []
            lengths.update(np.asarray(plain).tolist())
            lengths.update(len(_tokens(t)) for t in odd_texts)
        if auto:
            for t in odd_texts:
                correction.update(token.encode("utf-8") for token in _tokens(t))
                correction.subtract(vectorizer_tokens([t]))
    if auto:
        max_tokens = _auto_tokens(tokens_seen(counts, AUTO_TOKENS_MIN_COUNT, correction))
    return vocabulary_from_counts(counts, None if max_tokens is None else int(max_tokens))


def vectorizer_tokens(texts: Sequence[str]) -> list[bytes]:
    """The tokens the vectorizer (`standardize`, then its whitespace split) makes of `texts`, in
    order, as UTF-8 bytes, without TensorFlow.

    TensorFlow lowercases ASCII letters only and splits on ASCII whitespace only, as
    `bytes.lower` and `bytes.split` do; dropping ASCII punctuation bytes never cuts a
    multi-byte character. Joined by a newline (no token or `<br />` spans one), a batch is
    four C loops, not a regex per text.
    """
    data = "\n".join(texts).encode("utf-8").lower().replace(b"<br />", b" ")
    return data.translate(None, _PUNCTUATION_BYTES).split()


def check_ids_fit(vocabulary_size: int) -> None:
    """Ids are below the vocabulary's size; `ID_DTYPE` (int32) holds them up to 2**31 - 1."""
    if vocabulary_size > int(np.iinfo(ID_DTYPE).max) + 1:
        raise ConfigError(
            f"a vocabulary of {vocabulary_size:,} tokens has ids past int32; set "
            f"vocab.max_tokens to at most {int(np.iinfo(ID_DTYPE).max) + 1:,}"
        )


def vectorize(
    vectorizer: layers.TextVectorization, texts: Sequence[str] | np.ndarray, batch_size: int = 4096
) -> np.ndarray:
    """Token ids of `texts` as int32, computed once, so epochs do not re-tokenize.

    Keras' lookup answers int64; int32 halves every split's ids (the model reads int32). The
    batches are written into one array, so the peak is that array and one batch, not every
    batch and their concatenation.
    """
    check_ids_fit(int(vectorizer.vocabulary_size()))
    texts = np.asarray(texts, dtype=object)
    if not len(texts):
        raise ValueError("no texts to vectorize")
    first = vectorizer(texts[:batch_size]).numpy()
    ids = np.empty((len(texts), *first.shape[1:]), dtype=ID_DTYPE)
    ids[: len(first)] = first
    for start in range(batch_size, len(texts), batch_size):
        ids[start : start + batch_size] = vectorizer(texts[start : start + batch_size]).numpy()
    return ids


def _tokens(text: str) -> list[str]:
    """`standardize` and a whitespace split in plain Python, as `auto_max_tokens` and
    `auto_sequence_length` count: Unicode lowercase and spaces, where the vectorizer's own
    tokens (`vectorizer_tokens`) keep non-ASCII capitals and split on ASCII spaces only."""
    return _PUNCTUATION_RE.sub("", str(text).lower().replace("<br />", " ")).split()


def token_counts(texts: Sequence[str]) -> np.ndarray:
    """How many tokens each text has (as `_tokens` splits it)."""
    return np.asarray([_token_count(t) for t in texts], dtype=np.int64)


def _token_count(text: str) -> int:
    """`len(_tokens(text))`; an ASCII text without the separators \\x1c-\\x1f is counted in
    C (bytes lower and split as Python's str do on ASCII), the rest as `_tokens` does."""
    if isinstance(text, str) and text.isascii() and not _PYTHON_ONLY_SPACE.search(text):
        data = text.encode("ascii").lower().replace(b"<br />", b" ")
        return len(data.translate(None, _PUNCTUATION_BYTES).split())
    return len(_tokens(text))


def length_counts(texts: Iterable[str]) -> Counter[int]:
    """How many texts have each token count: what `sequence_length_of` needs, held as a few
    numbers however many texts stream past."""
    return Counter(_token_count(t) for t in texts)


def auto_max_tokens(texts: Sequence[str]) -> int:
    """`vocab.max_tokens=auto`: room for every token the training texts hold at least twice
    (a token seen once teaches nothing that generalizes), at most 100,000, plus the mask and
    OOV entries. 20 Newsgroups' train split keeps about 50,000 such words instead of the
    tutorial's 10,000 (test macro-F1 0.73 -> 0.76 in one run here)."""
    seen = Counter(token for text in texts for token in _tokens(text))
    return _auto_tokens(sum(1 for count in seen.values() if count >= AUTO_TOKENS_MIN_COUNT))


def _auto_tokens(kept: int) -> int:
    return min(max(kept, 1), AUTO_TOKENS_MAX) + SPECIAL_TOKENS


def auto_sequence_length(texts: Sequence[str]) -> int:
    """`vocab.sequence_length=auto` for `texts` (see `sequence_length_of`)."""
    return sequence_length_of(length_counts(texts))


def sequence_length_of(lengths: Mapping[int, int]) -> int:
    """`vocab.sequence_length=auto` from how many texts have each token count: their 95th
    percentile (numpy's default, linear between neighbours), rounded up to a multiple of 8,
    within 16..512. Short tickets get short sequences (padding is not work), long reviews are
    cut where few texts go on."""
    low, high = AUTO_LENGTH_BOUNDS
    values = np.asarray(sorted(k for k, n in lengths.items() if n > 0), dtype=np.int64)
    if values.size == 0:
        return low
    ends = np.cumsum([lengths[int(v)] for v in values])  # texts up to each value, inclusive
    position = AUTO_LENGTH_QUANTILE * (int(ends[-1]) - 1)
    below = math.floor(position)
    last = int(ends[-1]) - 1
    a, b = (
        int(values[np.searchsorted(ends, min(k, last), side="right")]) for k in (below, below + 1)
    )
    t = position - below
    quantile = a + (b - a) * t if t < 0.5 else b - (b - a) * (1 - t)  # numpy's lerp
    length = 8 * math.ceil(quantile / 8)
    return int(min(max(length, low), high))


def vocabulary_of(vectorizer: layers.TextVectorization) -> list[str]:
    """The vectorizer's vocabulary as `str` (index 0 is the mask token '')."""
    return [
        t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in vectorizer.get_vocabulary()
    ]
