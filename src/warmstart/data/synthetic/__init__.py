"""An embedded, offline stand-in for the IMDB reviews, with vocabulary drift across generations.

The corpus is written in the aclImdb layout so that the very same reader handles it and the real
data. Reviews are built from a Zipf-distributed lexicon (English function and movie words plus
pronounceable made-up words), carry a noisy sentiment signal (polar words, words of the opposite
polarity, negations such as "not good") and look like IMDB text (`<br /><br />`, punctuation).

A later `generation` models a later era of reviews: it adds words (some of them new sentiment
slang), retires old ones and re-ranks part of the frequency order, so that a vocabulary rebuilt on
it differs from the generation-0 vocabulary while sharing most of the frequent tokens. That is the
situation a warm-started embedding matrix has to cope with.

Everything is derived from `seed` and `generation` through numpy's PCG64 and `random()` draws
only, so the same arguments give byte-identical files.
"""

from __future__ import annotations

from warmstart.data.synthetic.corpus import FORMAT_VERSION, generate_corpus, write_corpus
from warmstart.data.synthetic.drift import Lexicon, lexicon
from warmstart.data.synthetic.words import (
    FUNCTION_WORDS,
    INTENSIFIERS,
    LINKS,
    MOVIE_WORDS,
    NEGATIVE_WORDS,
    NEGATORS,
    POSITIVE_WORDS,
)

__all__ = [
    "FORMAT_VERSION",
    "FUNCTION_WORDS",
    "INTENSIFIERS",
    "LINKS",
    "MOVIE_WORDS",
    "NEGATIVE_WORDS",
    "NEGATORS",
    "POSITIVE_WORDS",
    "Lexicon",
    "generate_corpus",
    "lexicon",
    "write_corpus",
]
