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

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

T = TypeVar("T")

# Bump when the generated text changes, so cached corpora of an older generator are not reused.
FORMAT_VERSION = 2


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FUNCTION_WORDS: tuple[str, ...] = _words(
    """
    the and a of to is it in i this that was as with for but on you he his are film movie
    have one be all at they by an who so from like her there just or about out if has what
    some can more when very up she time no even my would which only story really see their
    had we me were well than much been get do will also into other because how its most
    first him could make then any made way them after too think characters character watch
    two seen many being plot never little where acting know life best over did ever does
    your off man here still these say why scene scenes end while something back should go
    through those real years doesnt thing now actually though another before work makes old
    nothing new funny both lot actors director going every look again part few cast things
    want quite pretty around got seems young world fact enough however thought take big
    between own give horror may series action right almost original
    """
)

MOVIE_WORDS: tuple[str, ...] = _words(
    """
    performance performances role roles script screenplay ending beginning camera shot shots
    soundtrack score music dialogue dialog editing effects budget sequel remake trailer
    audience viewers theater cinema screen version book novel comedy drama thriller romance
    western documentary animation studio producer writer writers actress hero villain
    heroine family father mother son daughter wife husband girl boy friend friends brother
    sister police detective murder killer monster ghost war town city house school night day
    summer island journey secret mystery battle love romance twist episode season character
    moment moments minutes hour hours plotline storyline premise setting costume costumes
    makeup lighting cinematography direction narrative pacing tone climax finale sequence
    sequences flashback subplot cameo casting critic critics festival oscar award series
    franchise genre
    """
)

POSITIVE_WORDS: tuple[str, ...] = _words(
    """
    good great excellent wonderful amazing brilliant superb perfect beautiful enjoyable
    fantastic loved favorite masterpiece touching hilarious charming delightful stunning
    memorable powerful moving gripping clever entertaining impressive outstanding refreshing
    heartfelt captivating
    """
)

NEGATIVE_WORDS: tuple[str, ...] = _words(
    """
    bad awful terrible boring worst waste poor horrible stupid dull lame mess pointless
    disappointing weak annoying ridiculous mediocre painful forgettable unwatchable cheap
    predictable tedious bland laughable
    """
)

NEGATORS: tuple[str, ...] = ("not", "never", "hardly", "not", "not", "isnt", "wasnt")
INTENSIFIERS: tuple[str, ...] = ("very", "really", "so", "truly", "quite", "absolutely", "rather")
LINKS: tuple[str, ...] = ("was", "is", "felt", "seemed", "looked", "is", "was")

# Syllables of the made-up words: simple consonants and vowels dominate, as in real words.
_ONSETS = _words("b d f g k l m n p r s t v z b d k l m n p r s t br dr gr kr pl st tr ch sh")
_VOWELS = _words("a e i o u a e i o a e o ai ou")
_CODAS = ("", "", "", "", "", "", "n", "r", "s", "l", "m", "k", "t", "nd", "st")

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
ZIPF_EXPONENT = 1.07
# The sentiment signal: polar phrases per filler word and the share agreeing with the label, as
# (base, slope) over the rating's extremity (0.3 for ratings 4/7 .. 1.0 for 1/10); negated share.
PHRASE_RATE = (0.15, 0.1)
AGREE = (0.85, 0.12)
NEGATION = 0.12
POLAR_ZIPF_EXPONENT = 1.1


@dataclass(frozen=True)
class Lexicon:
    """Word lists of one generation, each in rank (frequency) order."""

    filler: tuple[str, ...]
    positive: tuple[str, ...]
    negative: tuple[str, ...]


def _rng(*key: int) -> np.random.Generator:
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
            _pick(rng, _ONSETS) + _pick(rng, _VOWELS) + _pick(rng, _CODAS) for _ in range(n_syll)
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
    rng = _rng(seed, 0)
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
    rng = _rng(seed, 1000 + generation)
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


class _Sampler:
    """Draws words by Zipf rank, many at once (one `random()` call per batch)."""

    def __init__(self, words: tuple[str, ...], exponent: float, offset: float) -> None:
        self.words = np.array(words, dtype=object)
        weights = 1.0 / (np.arange(len(words)) + offset) ** exponent
        self.cdf = np.cumsum(weights) / weights.sum()

    def draw(self, rng: np.random.Generator, shape: int | tuple[int, ...]) -> np.ndarray:
        idx = np.searchsorted(self.cdf, rng.random(shape), side="right")
        return self.words[np.minimum(idx, len(self.words) - 1)]


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


def _reviews(
    rng: np.random.Generator, n: int, label: int, samplers: tuple[_Sampler, ...]
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


def _readme(generation: int, n_train: int, n_test: int, seed: int, lex: Lexicon) -> str:
    n_words = len(lex.filler) + len(lex.positive) + len(lex.negative)
    return (
        "Synthetic movie reviews in the layout of the Large Movie Review Dataset v1.0.\n"
        "Written by warmstart.synthetic; not real reviews.\n\n"
        f"generation: {generation}\nseed: {seed}\nformat_version: {FORMAT_VERSION}\n"
        f"train reviews: {n_train}\ntest reviews: {n_test}\nlexicon words: {n_words}\n\n"
        "Files: {train,test}/{pos,neg}/<id>_<rating>.txt; ratings 7-10 are positive, "
        "1-4 negative.\n"
    )


def write_corpus(out_dir: Path, *, generation: int, n_train: int, n_test: int, seed: int) -> Path:
    """Write the corpus under `out_dir/aclImdb` and return that directory.

    Classes are balanced within each split (an odd count gives the extra review to pos). The same
    arguments always produce byte-identical files.
    """
    if n_train < 2 or n_test < 2:
        raise ValueError(f"n_train and n_test must be >= 2 (got {n_train}, {n_test})")
    lex = lexicon(seed, generation)
    samplers = (
        _Sampler(lex.filler, ZIPF_EXPONENT, 2.7),
        _Sampler(lex.positive, POLAR_ZIPF_EXPONENT, 2.0),
        _Sampler(lex.negative, POLAR_ZIPF_EXPONENT, 2.0),
    )
    acl = Path(out_dir) / "aclImdb"
    files: list[tuple[Path, bytes]] = []
    for split_no, (split, n) in enumerate((("train", n_train), ("test", n_test))):
        rng = _rng(seed, 2000 + generation, split_no)
        for cls, label, count in (("neg", 0, n // 2), ("pos", 1, n - n // 2)):
            cls_dir = acl / split / cls
            cls_dir.mkdir(parents=True, exist_ok=True)
            for i, (rating, text) in enumerate(_reviews(rng, count, label, samplers)):
                files.append((cls_dir / f"{i}_{rating}.txt", text.encode("utf-8")))
    for path, data in files:
        with open(path, "wb") as f:
            f.write(data)
    (acl / "README").write_text(_readme(generation, n_train, n_test, seed, lex), encoding="utf-8")
    return acl
