"""The embedded drift corpus: determinism, aclImdb layout, balance, signal, negation, drift."""

from __future__ import annotations

import re
import string
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from warmstart.data import load_splits, synthetic
from warmstart.data.synthetic import write_corpus
from warmstart.data.synthetic.shards import write_corpus_shards

FILE_RE = re.compile(r"^(\d+)_(\d+)\.txt$")
_PUNCT = re.compile(f"[{re.escape(string.punctuation)}]")


def _tokens(text: str) -> list[str]:
    """The tutorial's standardization: lowercase, `<br />` -> space, strip punctuation."""
    return _PUNCT.sub("", text.lower().replace("<br />", " ")).split()


def _files(acl: Path) -> dict[str, bytes]:
    return {str(p.relative_to(acl)): p.read_bytes() for p in sorted(acl.rglob("*")) if p.is_file()}


def _texts(acl: Path, split: str, cls: str) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted((acl / split / cls).glob("*.txt"))]


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Generation 0 and 1 of one seed, large enough for vocabulary statistics."""
    root = tmp_path_factory.mktemp("synthetic")
    return {
        g: write_corpus(root / f"gen{g}", generation=g, n_train=1200, n_test=101, seed=7)
        for g in (0, 1)
    }


def test_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    a = write_corpus(tmp_path / "a", generation=1, n_train=60, n_test=20, seed=3)
    b = write_corpus(tmp_path / "b", generation=1, n_train=60, n_test=20, seed=3)
    assert a == tmp_path / "a" / "aclImdb"
    assert _files(a) == _files(b)
    c = write_corpus(tmp_path / "c", generation=1, n_train=60, n_test=20, seed=4)
    assert _files(c) != _files(a)


def test_layout_ratings_and_balance(corpora: dict[int, Path]) -> None:
    acl = corpora[0]
    assert (acl / "README").is_file()
    assert sorted(p.name for p in acl.iterdir()) == ["README", "test", "train"]
    expected = {("train", "neg"): 600, ("train", "pos"): 600, ("test", "neg"): 50}
    expected[("test", "pos")] = 51  # an odd count gives the extra review to pos
    for (split, cls), count in expected.items():
        names = [p.name for p in (acl / split / cls).iterdir()]
        assert len(names) == count
        matches = [FILE_RE.match(n) for n in names]
        assert all(matches), names
        ids = sorted(int(m.group(1)) for m in matches if m)
        assert ids == list(range(count))
        ratings = {int(m.group(2)) for m in matches if m}
        assert ratings <= ({7, 8, 9, 10} if cls == "pos" else {1, 2, 3, 4})
        assert len(ratings) == 4


def test_reviews_look_like_imdb_text(corpora: dict[int, Path]) -> None:
    texts = _texts(corpora[0], "train", "pos") + _texts(corpora[0], "train", "neg")
    lengths = [len(_tokens(t)) for t in texts]
    assert min(lengths) >= 50
    assert max(lengths) <= 330  # 50-250 filler words plus short polar phrases
    assert 80 < sum(lengths) / len(lengths) < 160
    assert sum("<br /><br />" in t for t in texts) > len(texts) * 0.3
    assert all(t[0].isupper() and t[-1] in ".!?" for t in texts)
    assert sum("," in t for t in texts) > len(texts) * 0.5
    vocab = Counter(w for t in texts for w in _tokens(t))
    assert len(vocab) > 3000  # several thousand distinct words
    top = [w for w, _ in vocab.most_common(5)]
    assert "the" in top
    assert all(w.isalpha() and w.islower() for w in vocab)


def test_sentiment_signal_is_learnable_but_noisy(corpora: dict[int, Path]) -> None:
    """A lexicon-count classifier does well, but not perfectly: the signal has noise."""
    lex = synthetic.lexicon(7, 0)
    pos, neg = set(lex.positive), set(lex.negative)
    correct = total = 0
    for cls, label in (("neg", 0), ("pos", 1)):
        for text in _texts(corpora[0], "train", cls):
            toks = _tokens(text)
            score = sum(t in pos for t in toks) - sum(t in neg for t in toks)
            if score != 0:
                correct += int((score > 0) == bool(label))
            total += 1
    assert 0.8 < correct / total < 0.995


def test_negation_is_present(corpora: dict[int, Path]) -> None:
    """Positive reviews contain negated negative words ("not bad") and vice versa."""
    lex = synthetic.lexicon(7, 0)
    negators = set(synthetic.NEGATORS)
    found = {"pos": 0, "neg": 0}
    for cls, opposite in (("pos", set(lex.negative)), ("neg", set(lex.positive))):
        for text in _texts(corpora[0], "train", cls):
            toks = _tokens(text)
            for i in range(len(toks) - 2):
                nxt = toks[i + 2] if toks[i + 1] in synthetic.INTENSIFIERS else toks[i + 1]
                if toks[i] in negators and nxt in opposite:
                    found[cls] += 1
    assert found["pos"] > 50
    assert found["neg"] > 50


def _vocabulary(acl: Path, max_tokens: int) -> list[str]:
    """Tokens by descending frequency (ties by token), like an adapted TextVectorization."""
    counts: Counter[str] = Counter()
    for cls in ("neg", "pos"):
        for text in _texts(acl, "train", cls):
            counts.update(_tokens(text))
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [w for w, _ in ranked[:max_tokens]]


def test_later_generation_drifts_but_shares_frequent_vocabulary(
    corpora: dict[int, Path],
) -> None:
    v0, v1 = _vocabulary(corpora[0], 10_000), _vocabulary(corpora[1], 10_000)
    added, removed = set(v1) - set(v0), set(v0) - set(v1)
    assert len(added) > 100
    assert len(removed) > 100
    shared = set(v0) & set(v1)
    rank0 = {w: i for i, w in enumerate(v0)}
    rank1 = {w: i for i, w in enumerate(v1)}
    assert sum(rank0[w] != rank1[w] for w in shared) > len(shared) // 2  # reordered
    assert len(shared) > 0.8 * len(v0)
    for k, share in ((50, 0.85), (500, 0.7)):
        assert len(set(v0[:k]) & set(v1[:k])) >= share * k
    # New slang of generation 1 carries sentiment: some of it is among the frequent tokens.
    lex0, lex1 = synthetic.lexicon(7, 0), synthetic.lexicon(7, 1)
    slang = (set(lex1.positive) | set(lex1.negative)) - set(lex0.positive) - set(lex0.negative)
    assert len(slang & set(v1[:1000])) >= 10
    assert not slang & set(v0)


def test_lexicon_drift_accumulates_over_generations() -> None:
    lex = [synthetic.lexicon(7, g) for g in range(3)]
    words = [set(x.filler) | set(x.positive) | set(x.negative) for x in lex]
    assert words[2] - words[1] and words[1] - words[2]
    assert len(words[0] & words[2]) > 0.8 * len(words[0])
    assert set(synthetic.FUNCTION_WORDS) <= set(lex[2].filler)


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="generation"):
        write_corpus(tmp_path, generation=-1, n_train=10, n_test=10, seed=0)
    with pytest.raises(ValueError, match="n_train"):
        write_corpus(tmp_path, generation=0, n_train=1, n_test=10, seed=0)


def test_the_corpus_written_as_parquet_shards_reads_back_through_data_files(tmp_path: Path):
    paths = write_corpus_shards(tmp_path / "a", rows=51, rows_per_shard=20, generation=1)
    assert [p.name for p in paths] == ["part-00000.parquet", "part-00001.parquet",
                                       "part-00002.parquet"]  # fmt: skip
    again = write_corpus_shards(tmp_path / "b", rows=51, rows_per_shard=20, generation=1)
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]
    last = pd.read_parquet(paths[2])
    assert last["label"].tolist() == ["positive", "negative"] * 5 + ["positive"]
    splits = load_splits({"name": "files", "path": str(tmp_path / "a"), "validation_split": 0.2})
    assert len(splits.train) + len(splits.val) + len(splits.test) == 51
    assert set(splits.train["label"]) == {"negative", "positive"}
