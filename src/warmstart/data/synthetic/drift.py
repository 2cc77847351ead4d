"""The lexicon of each generation: a base lexicon, then one drift step per later era.

A drift step retires words, adds made-up ones (some of them sentiment slang) and re-ranks part of
the frequency order, so a later vocabulary differs from the base one while sharing most of the
frequent tokens. Only `random()` draws of keyed PCG64 generators are used, for reproducibility.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from warmstart.data.synthetic.words import (
    CODAS,
    FUNCTION_WORDS,
    INTENSIFIERS,
    LINKS,
    MOVIE_WORDS,
    NEGATIVE_WORDS,
    NEGATORS,
    ONSETS,
    POSITIVE_WORDS,
    VOWELS,
)

T = TypeVar("T")

# Lexicon sizes and drift rates. The filler words take Zipf frequencies; sentiment words are
# drawn separately, so their share of the text is controlled directly.
N_FAKE_FILLER = 5600
N_FAKE_SENTIMENT = 90  # per polarity
DRIFT_RETIRE = 0.05  # share of (non-function) filler words retired per generation
DRIFT_ADD = 0.06  # new filler words per generation, relative to the current count
DRIFT_RERANK = 0.3  # share of words (below rank 40) whose rank shifts per generation
RERANK_SPREAD = 2.5  # a shifted word's rank is multiplied by a factor in [1/2.5, 2.5]
SLANG_PER_GENERATION = 18  # new sentiment words per polarity per generation
SENTIMENT_RETIRE = 0.15  # share of made-up sentiment words retired per generation


@dataclass(frozen=True)
class Lexicon:
    """Word lists of one generation, each in rank (frequency) order."""

    filler: tuple[str, ...]
    positive: tuple[str, ...]
    negative: tuple[str, ...]


def keyed_rng(*key: int) -> np.random.Generator:
    """A PCG64 generator for `key`, so each part of the corpus has its own reproducible stream."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(list(key))))


def _pick(rng: np.random.Generator, options: tuple[str, ...] | list[str]) -> str:
    return options[int(rng.random() * len(options))]


def _fake_words(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    """Pronounceable made-up words, new to `taken` (which is updated), for the drift to add."""
    out: list[str] = []
    while len(out) < n:
        u = rng.random()
        n_syll = 1 if u < 0.2 else (2 if u < 0.8 else 3)
        word = "".join(
            _pick(rng, ONSETS) + _pick(rng, VOWELS) + _pick(rng, CODAS) for _ in range(n_syll)
        )
        if len(word) < 3 or word in taken:
            continue
        taken.add(word)
        out.append(word)
    return out


def _shuffled(rng: np.random.Generator, items: list[T]) -> list[T]:
    keys = rng.random(len(items))
    return [items[i] for i in np.argsort(keys, kind="stable")]


def _base_lexicon(seed: int, taken: set[str]) -> Lexicon:
    rng = keyed_rng(seed, 0)
    fake = _fake_words(rng, N_FAKE_FILLER, taken)
    # Movie words and a few made-up words among the frequent ranks; the rest form the long tail.
    head = list(dict.fromkeys(FUNCTION_WORDS))
    mid = _shuffled(rng, [w for w in dict.fromkeys(MOVIE_WORDS) if w not in head] + fake[:250])
    filler = head + mid + fake[250:]
    positive = list(POSITIVE_WORDS) + _fake_words(rng, N_FAKE_SENTIMENT, taken)
    negative = list(NEGATIVE_WORDS) + _fake_words(rng, N_FAKE_SENTIMENT, taken)
    # Interleave English and made-up polar words in rank order, English ones a bit more frequent.
    positive = _shuffled(rng, positive[:8]) + _shuffled(rng, positive[8:])
    negative = _shuffled(rng, negative[:8]) + _shuffled(rng, negative[8:])
    return Lexicon(tuple(filler), tuple(positive), tuple(negative))


def _drift(lex: Lexicon, seed: int, generation: int, taken: set[str]) -> Lexicon:
    """One era later: retire words, add new ones (incl. slang), re-rank part of the order."""
    rng = keyed_rng(seed, 1000 + generation)
    protected = set(FUNCTION_WORDS)
    filler = list(lex.filler)
    # Retire: made-up or movie words below the top ranks vanish from use.
    candidates = [i for i, w in enumerate(filler) if i >= 150 and w not in protected]
    n_retire = int(DRIFT_RETIRE * len(candidates))
    retired = set(_shuffled(rng, candidates)[:n_retire])
    filler = [w for i, w in enumerate(filler) if i not in retired]
    # Add: new words at random ranks, a few of them among the frequent ones.
    new = _fake_words(rng, int(DRIFT_ADD * len(filler)), taken)
    for word in new:
        u = rng.random()
        lo, hi = (60, 600) if u < 0.15 else (600, len(filler))
        filler.insert(lo + int(rng.random() * (hi - lo)), word)
    # Re-rank: a share of the words below the top ranks become more or less frequent, moving
    # up to a factor RERANK_SPREAD in rank (a local shift, as tastes change, not a reshuffle).
    keys = np.arange(len(filler), dtype=np.float64)
    u = rng.random((len(filler), 2))
    movable = (keys >= 40) & (u[:, 0] < DRIFT_RERANK)
    keys[movable] *= RERANK_SPREAD ** (2.0 * u[movable, 1] - 1.0)
    filler = [filler[i] for i in np.argsort(keys, kind="stable")]

    def polar(words: tuple[str, ...], english: tuple[str, ...]) -> list[str]:
        kept = [w for w in words if w in english or rng.random() >= SENTIMENT_RETIRE]
        slang = _fake_words(rng, SLANG_PER_GENERATION, taken)
        # Slang of the era is popular: it takes ranks near the top of the polar words.
        for word in slang:
            kept.insert(int(rng.random() * min(30, len(kept))), word)
        return kept

    positive = polar(lex.positive, POSITIVE_WORDS)
    negative = polar(lex.negative, NEGATIVE_WORDS)
    return Lexicon(tuple(filler), tuple(positive), tuple(negative))


def lexicon(seed: int, generation: int) -> Lexicon:
    """The word lists of `generation` (0 = the base era), derived from `seed` only."""
    if generation < 0:
        raise ValueError(f"generation must be >= 0, got {generation}")
    taken = set(FUNCTION_WORDS) | set(MOVIE_WORDS) | set(POSITIVE_WORDS) | set(NEGATIVE_WORDS)
    taken |= set(NEGATORS) | set(INTENSIFIERS) | set(LINKS)
    lex = _base_lexicon(seed, taken)
    for g in range(1, generation + 1):
        lex = _drift(lex, seed, g, taken)
    return lex
