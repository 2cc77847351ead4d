"""The synthetic corpus as files of the aclImdb layout: generated in memory, then written.

Keeping generation apart from writing lets the same bytes be checked or written anywhere; the
cache writes them into a temporary directory that becomes trusted only once complete.
"""

from __future__ import annotations

from pathlib import Path

from warmstart.data.synthetic.drift import Lexicon, keyed_rng, lexicon
from warmstart.data.synthetic.reviews import lexicon_samplers, reviews

# Bump when the generated text changes, so cached corpora of an older generator are not reused.
FORMAT_VERSION = 2


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


def generate_corpus(
    *, generation: int, n_train: int, n_test: int, seed: int
) -> tuple[dict[str, bytes], str]:
    """The reviews as {path relative to `aclImdb/`: content}, and the text of the README.

    Classes are balanced within each split (an odd count gives the extra review to pos). The same
    arguments always produce the same bytes.
    """
    if n_train < 2 or n_test < 2:
        raise ValueError(f"n_train and n_test must be >= 2 (got {n_train}, {n_test})")
    lex = lexicon(seed, generation)
    samplers = lexicon_samplers(lex)
    files: dict[str, bytes] = {}
    for split_no, (split, n) in enumerate((("train", n_train), ("test", n_test))):
        rng = keyed_rng(seed, 2000 + generation, split_no)
        for cls, label, count in (("neg", 0, n // 2), ("pos", 1, n - n // 2)):
            for i, (rating, text) in enumerate(reviews(rng, count, label, samplers)):
                files[f"{split}/{cls}/{i}_{rating}.txt"] = text.encode("utf-8")
    return files, _readme(generation, n_train, n_test, seed, lex)


def write_corpus(out_dir: Path, *, generation: int, n_train: int, n_test: int, seed: int) -> Path:
    """Write the corpus under `out_dir/aclImdb` and return that directory.

    The same arguments always produce byte-identical files.
    """
    files, readme = generate_corpus(
        generation=generation, n_train=n_train, n_test=n_test, seed=seed
    )
    acl = Path(out_dir) / "aclImdb"
    for name, data in files.items():
        path = acl / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    (acl / "README").write_text(readme, encoding="utf-8")
    return acl
