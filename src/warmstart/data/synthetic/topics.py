"""The corpus's multi-class mode: texts of K topics, a later generation adding a topic.

With `data.num_classes=K > 2`, each text belongs to one topic: its signal words come from
that topic's share of the generation's polar words (a word's topic is fixed by a hash of the
word, so it keeps its topic across generations, and new slang joins a topic too). Generation
g has min(K, K - 1 + g) topics, so the base era (generation 0) lacks the last one: label
drift, offline. Files are `{train,test}/<topic>/<i>.txt`, read by the folder source's reader.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from warmstart.data.synthetic.drift import keyed_rng, lexicon
from warmstart.data.synthetic.reviews import (
    POLAR_ZIPF_EXPONENT,
    ZIPF_EXPONENT,
    Sampler,
    reviews,
)

TOPICS = ("arts", "business", "health", "science", "sports", "travel", "food", "politics")


def topics_of(num_classes: int, generation: int) -> tuple[str, ...]:
    """The topics present in `generation` (the last one arrives with generation 1)."""
    if not 2 < num_classes <= len(TOPICS):
        raise ValueError(f"num_classes must be in 3..{len(TOPICS)}, got {num_classes}")
    return TOPICS[: min(num_classes, num_classes - 1 + generation)]


def write_topics(
    out_dir: Path, *, generation: int, n_train: int, n_test: int, seed: int, num_classes: int
) -> Path:
    """Write the topic corpus under `out_dir/topics` (byte-identical for the same arguments)."""
    lex = lexicon(seed, generation)
    signal = lex.positive + lex.negative
    topics = topics_of(num_classes, generation)
    words = {t: tuple(w for w in signal if zlib.crc32(w.encode()) % num_classes == i)
             for i, t in enumerate(TOPICS[:num_classes])}  # fmt: skip
    filler = Sampler(lex.filler, ZIPF_EXPONENT, 2.7)
    noise = Sampler(signal, POLAR_ZIPF_EXPONENT, 2.0)
    root = Path(out_dir) / "topics"
    for split_no, (split, n) in enumerate((("train", n_train), ("test", n_test))):
        rng = keyed_rng(seed, 3000 + generation, split_no)
        per_topic = [n // len(topics) + (i < n % len(topics)) for i in range(len(topics))]
        for topic, count in zip(topics, per_topic, strict=True):
            folder = root / split / topic
            folder.mkdir(parents=True, exist_ok=True)
            own = Sampler(words[topic], POLAR_ZIPF_EXPONENT, 2.0)
            for i, (_, text) in enumerate(reviews(rng, count, 1, (filler, own, noise))):
                (folder / f"{i}.txt").write_bytes(text.encode("utf-8"))
    return root
