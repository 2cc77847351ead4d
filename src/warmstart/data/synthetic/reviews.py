"""Review texts of one class: Zipf-drawn filler words with a noisy, sometimes negated signal.

Reviews look like IMDB text (`<br /><br />`, punctuation). All random draws are made in a few
big batches per class, so generation is fast and depends only on the generator's state.
"""

from __future__ import annotations

import numpy as np

from warmstart.data.synthetic.drift import Lexicon
from warmstart.data.synthetic.words import INTENSIFIERS, LINKS, NEGATORS

ZIPF_EXPONENT = 1.07
# The sentiment signal: polar phrases per filler word and the share agreeing with the label, as
# (base, slope) over the rating's extremity (0.3 for ratings 4/7 .. 1.0 for 1/10); negated share.
PHRASE_RATE = (0.15, 0.1)
AGREE = (0.85, 0.12)
NEGATION = 0.12
POLAR_ZIPF_EXPONENT = 1.1


class Sampler:
    """Draws words by Zipf rank, many at once (one `random()` call per batch)."""

    def __init__(self, words: tuple[str, ...], exponent: float, offset: float) -> None:
        self.words = np.array(words, dtype=object)
        weights = 1.0 / (np.arange(len(words)) + offset) ** exponent
        self.cdf = np.cumsum(weights) / weights.sum()

    def draw(self, rng: np.random.Generator, shape: int | tuple[int, ...]) -> np.ndarray:
        idx = np.searchsorted(self.cdf, rng.random(shape), side="right")
        return self.words[np.minimum(idx, len(self.words) - 1)]


def lexicon_samplers(lex: Lexicon) -> tuple[Sampler, Sampler, Sampler]:
    """Samplers of the filler, positive and negative words of one generation's lexicon."""
    return (
        Sampler(lex.filler, ZIPF_EXPONENT, 2.7),
        Sampler(lex.positive, POLAR_ZIPF_EXPONENT, 2.0),
        Sampler(lex.negative, POLAR_ZIPF_EXPONENT, 2.0),
    )


_MIN_WORDS, _MAX_EXTRA_WORDS = 50, 200
_MAX_SENTENCES = (_MIN_WORDS + _MAX_EXTRA_WORDS) // 5 + 1
_EXTREMITY = {1: 1.0, 2: 0.75, 3: 0.5, 4: 0.3, 7: 0.3, 8: 0.5, 9: 0.75, 10: 1.0}
_ENDINGS = (".",) * 15 + ("!",) * 3 + ("?", "...")
# Uniform draws used per sentence, by column.
_U_LEN, _U_PHRASE, _U_AGREE, _U_NEGATE, _U_LINK, _U_INTENS, _U_AT, _U_COMMA, _U_END, _U_PARA = (
    range(10)
)


def _review(
    words: list[str],
    u: np.ndarray,
    polar_words: tuple[list[str], list[str]],
    label: int,
    rating: int,
) -> str:
    """One review from pre-drawn filler words and uniforms (one row of `u` per sentence).

    Filler words are cut into sentences of 5-20 words; a sentence may get a polar phrase, which
    mostly agrees with the label, and is sometimes negated ("not bad" in a positive review).
    """
    extremity = _EXTREMITY[rating]
    rate = PHRASE_RATE[0] + PHRASE_RATE[1] * extremity  # polar phrases per filler word
    agree = AGREE[0] + AGREE[1] * extremity  # share of polar phrases that match the label
    paragraphs: list[str] = []
    current: list[str] = []
    start, s = 0, 0
    while start < len(words):
        row = u[s]
        end = start + 5 + int(row[_U_LEN] * 16)
        sent = words[start:end]
        start = end
        if row[_U_PHRASE] < rate * len(sent):
            polarity = label if row[_U_AGREE] < agree else 1 - label
            negated = row[_U_NEGATE] < NEGATION
            phrase = []
            if row[_U_LINK] < 0.5:
                phrase.append(LINKS[int(row[_U_LINK] * 2 * len(LINKS))])
            if negated:
                phrase.append(NEGATORS[int(row[_U_NEGATE] / NEGATION * len(NEGATORS))])
            if row[_U_INTENS] < 0.3:
                phrase.append(INTENSIFIERS[int(row[_U_INTENS] / 0.3 * len(INTENSIFIERS))])
            # A negated phrase uses a word of the other polarity: "not bad" says good.
            phrase.append(polar_words[1 - polarity if negated else polarity][s])
            at = int(row[_U_AT] * (len(sent) + 1))
            sent[at:at] = phrase
        if len(sent) > 6 and row[_U_COMMA] < 0.3:
            sent[2 + int(row[_U_COMMA] / 0.3 * (len(sent) - 4))] += ","
        sent[0] = sent[0].capitalize()
        current.append(" ".join(sent) + _ENDINGS[int(row[_U_END] * len(_ENDINGS))])
        if row[_U_PARA] < 0.12:
            paragraphs.append(" ".join(current))
            current = []
        s += 1
    if current:
        paragraphs.append(" ".join(current))
    return "<br /><br />".join(paragraphs)


def reviews(
    rng: np.random.Generator, n: int, label: int, samplers: tuple[Sampler, ...]
) -> list[tuple[int, str]]:
    """`n` (rating, text) pairs of one class; all random draws are made in a few big batches."""
    filler, pos, neg = samplers
    ratings = (1, 2, 3, 4) if label == 0 else (10, 9, 8, 7)
    rating_idx = np.minimum((rng.random(n) * 4).astype(np.int64), 3)
    # 50..250 words, most reviews on the short side.
    n_words = _MIN_WORDS + (rng.random(n) ** 1.6 * _MAX_EXTRA_WORDS).astype(np.int64)
    words = filler.draw(rng, int(n_words.sum())).tolist()
    u = rng.random((n, _MAX_SENTENCES, 10))
    neg_words = neg.draw(rng, (n, _MAX_SENTENCES)).tolist()
    pos_words = pos.draw(rng, (n, _MAX_SENTENCES)).tolist()
    out = []
    offset = 0
    for i in range(n):
        k = int(n_words[i])
        rating = ratings[rating_idx[i]]
        text = _review(
            words[offset : offset + k], u[i], (neg_words[i], pos_words[i]), label, rating
        )
        out.append((rating, text))
        offset += k
    return out
