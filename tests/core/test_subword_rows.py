"""Specification of the `subword` initializer: rows composed from n-gram neighbours.

The vectorised search is checked against a plain-Python reading of the rule (sets of
n-grams, counted by hand), and every composed row against the neighbours and weights the
report states for it.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from warmstart.core.errors import RemapError
from warmstart.core.remap import remap_embeddings
from warmstart.core.subword_rows import SUBWORD_DEFAULTS, find_neighbours

BASE = ["", "[UNK]", "the", "watch", "watchable", "water", "able", "movie", "movies"]
NEW = ["", "[UNK]", "the", "unwatchable", "qzx", "watching", "movie", "remake"]


def grams(token: str, min_n: int = 3, max_n: int = 6) -> set[str]:
    padded = f"<{token}>"
    return {padded[i : i + n] for n in range(min_n, max_n + 1) for i in range(len(padded) - n + 1)}


def reference(base, new, *, min_n, max_n, neighbours, max_df, min_shared):
    """The rule of `subword_rows`, one token at a time: {new index: [(base index, shared)]}."""
    base_grams = [grams(token, min_n, max_n) for token in base]
    occurrences = Counter()
    for token in base:
        padded = f"<{token}>"
        for n in range(min_n, max_n + 1):
            occurrences.update(padded[i : i + n] for i in range(len(padded) - n + 1))
    usable = {g for g, c in occurrences.items() if c <= max_df}
    found = {}
    for j, token in enumerate(new):
        mine = grams(token, min_n, max_n) & usable
        scored = [(i, len(mine & theirs)) for i, theirs in enumerate(base_grams)]
        scored = [(i, s) for i, s in scored if s >= min_shared]
        scored.sort(key=lambda pair: (-pair[1], pair[0]))
        if scored:
            found[j] = scored[:neighbours]
    return found


@pytest.fixture
def remapped():
    emb = np.random.default_rng(0).standard_normal((len(BASE), 4)).astype(np.float32)
    return emb, remap_embeddings(BASE, NEW, emb, "subword", seed=3, fallback="zeros")


def test_rows_are_the_weighted_mean_of_the_stated_neighbours(remapped):
    emb, result = remapped
    frame = result.report.to_frame().set_index("token")
    assert list(frame.loc["unwatchable", "neighbours"][:2]) == ["watchable", "watch"]
    assert set(frame.loc["watching", "neighbours"][:2]) == {"watch", "watchable"}
    for token in ("unwatchable", "watching"):
        named, weights = frame.loc[token, "neighbours"], np.array(frame.loc[token, "weights"])
        assert frame.loc[token, "source"] == "subword"
        assert weights.sum() == pytest.approx(1.0) and np.all(np.diff(weights) <= 0)
        expected = sum(
            w * emb[BASE.index(b)].astype(np.float64) for b, w in zip(named, weights, strict=True)
        )
        np.testing.assert_allclose(result.matrix[NEW.index(token)], expected, rtol=1e-5)
    # The weights are the shared n-gram counts, normalised: checked by hand for one row.
    mine = grams("unwatchable")
    counts = np.array([len(mine & grams(b)) for b in frame.loc["unwatchable", "neighbours"]])
    np.testing.assert_allclose(frame.loc["unwatchable", "weights"], counts / counts.sum(), 1e-5)


def test_provenance_and_fallback_for_tokens_without_neighbours(remapped):
    emb, result = remapped
    frame = result.report.to_frame().set_index("token")
    assert result.report.source_counts == {"copied": 4, "subword": 2, "zeros": 2}
    for token in ("qzx", "remake"):  # no base token shares two n-grams with these
        assert frame.loc[token, "source"] == "zeros" and frame.loc[token, "neighbours"] == ()
        np.testing.assert_array_equal(result.matrix[NEW.index(token)], 0)
    assert frame.loc["movie", "source"] == "copied" and frame.loc["movie", "neighbours"] == ()
    np.testing.assert_array_equal(result.matrix[NEW.index("movie")], emb[BASE.index("movie")])


@pytest.mark.parametrize(
    "options",
    [
        SUBWORD_DEFAULTS,
        {"min_n": 2, "max_n": 4, "neighbours": 2, "max_df": 6, "min_shared": 1},
        {"min_n": 1, "max_n": 3, "neighbours": 3, "max_df": 40, "min_shared": 3},
    ],
)
def test_vectorised_search_matches_the_rule_token_by_token(options):
    rng = np.random.default_rng(7)
    letters = np.array(list("abcdeé"))
    base = sorted({"".join(rng.choice(letters, rng.integers(1, 9))) for _ in range(300)})
    new = ["".join(rng.choice(letters, rng.integers(1, 9))) for _ in range(60)] + ["", "zz"]
    found = find_neighbours(base, new, **options)
    expected = reference(base, new, **options)
    assert found.found.tolist() == sorted(expected)
    for row, j in enumerate(found.found):
        pairs = expected[j]
        assert found.base[row, : len(pairs)].tolist() == [i for i, _ in pairs]
        assert np.all(found.base[row, len(pairs) :] == -1)
        shares = np.array([s for _, s in pairs], dtype=float)
        np.testing.assert_allclose(found.weights[row, : len(pairs)], shares / shares.sum())


def test_large_alphabets_hash_their_ngrams_and_still_find_neighbours():
    base = ["", "[UNK]", "東京大学", "京都大学", "大阪"] + [
        chr(0x4E00 + i) * 2 for i in range(1200)
    ]
    found = find_neighbours(base, ["東京大学院"], **SUBWORD_DEFAULTS)
    assert found.found.tolist() == [0] and found.base[0, 0] == base.index("東京大学")


def test_same_seed_same_rows_and_subword_rows_do_not_depend_on_it():
    emb = np.random.default_rng(0).standard_normal((len(BASE), 4)).astype(np.float32)
    first = remap_embeddings(BASE, NEW, emb, "subword", seed=5).matrix
    again = remap_embeddings(BASE, NEW, emb, "subword", seed=5).matrix
    other = remap_embeddings(BASE, NEW, emb, "subword", seed=6).matrix
    np.testing.assert_array_equal(first, again)
    composed = [NEW.index("unwatchable"), NEW.index("watching")]
    drawn = [NEW.index("qzx"), NEW.index("remake")]
    np.testing.assert_array_equal(first[composed], other[composed])
    assert not np.array_equal(first[drawn], other[drawn])  # uniform fallback, another seed


def test_kernel_columns_are_composed_along_the_vocabulary_axis():
    from warmstart.core.remap import apply_plan
    from warmstart.core.remap_plan import plan_remap

    kernel = np.random.default_rng(1).standard_normal((3, len(BASE))).astype(np.float32)
    plan = plan_remap(BASE, NEW)
    by_rows = remap_embeddings(BASE, NEW, kernel.T.copy(), "subword", seed=0, fallback="zeros")
    by_columns = apply_plan(plan, kernel, 1, "subword", seed=0, fallback="zeros")
    np.testing.assert_allclose(by_columns.matrix, by_rows.matrix.T)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"min_n": 4, "max_n": 3}, r"min_n <= max_n"),
        ({"neighbours": 0}, r"neighbours=0 must be a whole number >= 1"),
        ({"max_df": "100"}, r"max_df='100' must be a whole number"),
        ({"min_shared": True}, r"min_shared=True must be a whole number"),
        ({"min_n": 2.5}, r"min_n=2.5 must be a whole number"),
        ({"fallback": "subword"}, r"fallback='subword' is not a fallback.*uniform, normal"),
        ({"fallback": "pretrained"}, r"fallback='pretrained' is not a fallback"),
        ({"fallback_options": {"stdev": 1}}, r"'uniform' got unknown option\(s\) stdev"),
        ({"ngram": 3}, r"'subword' got unknown option\(s\) ngram; its options are: fallback"),
    ],
)
def test_bad_options_are_refused_in_one_line(options, message):
    emb = np.zeros((len(BASE), 4), dtype=np.float32)
    with pytest.raises(RemapError, match=message) as caught:
        remap_embeddings(BASE, NEW, emb, "subword", **options)
    assert "\n" not in str(caught.value)


def test_fallback_options_reach_the_fallback():
    emb = np.zeros((len(BASE), 4), dtype=np.float32)
    result = remap_embeddings(
        BASE, NEW, emb, "subword", fallback="constant", fallback_options={"value": 0.5}
    )
    np.testing.assert_array_equal(result.matrix[NEW.index("qzx")], 0.5)


def _vocabulary(rng: np.random.Generator, letters: str, size: int, longest: int) -> list[str]:
    """Distinct random words over a few letters (shared n-grams are common)."""
    chars = np.array(list(letters))
    words = {"".join(rng.choice(chars, rng.integers(1, longest + 1))) for _ in range(size)}
    return sorted(words)


def _assert_matches_reference(base, new, options):
    found = find_neighbours(base, new, **options)
    expected = reference(base, new, **options)
    assert found.found.tolist() == sorted(expected)
    assert found.base.shape == (len(expected), options["neighbours"])
    for row, j in enumerate(found.found):
        pairs = expected[j]
        padding = options["neighbours"] - len(pairs)
        assert found.base[row].tolist() == [i for i, _ in pairs] + [-1] * padding
        shares = np.array([s for _, s in pairs] + [0] * padding)
        np.testing.assert_array_equal(found.weights[row], shares / shares.sum())
    return found


# Small limits force every form of the fast path on small vocabularies: level tables as
# bitmaps or hash tables, many slices of tokens shared out to the threads, and the wide
# hit counter.
_FORCED = {
    "dense": {},
    "bitmap": {"char_ngrams._DENSE_LIMIT": 16},
    "hash": {"char_ngrams._DENSE_LIMIT": 16, "char_ngrams._BITMAP_LIMIT": 64},
    "sliced": {"subword_join._SLICES": 7},
    "wide counter": {"subword_join._NARROW_COUNTS": 0},
}


@pytest.mark.parametrize("form", list(_FORCED))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_form_of_the_fast_path_gives_the_rule_exactly(form, seed, monkeypatch):
    from warmstart.core import char_ngrams, subword_join

    modules = {"char_ngrams": char_ngrams, "subword_join": subword_join}
    for target, value in _FORCED[form].items():
        module, name = target.split(".")
        monkeypatch.setattr(modules[module], name, value)
    rng = np.random.default_rng(seed)
    letters = ["abcd", "abcdefghé", "xyzw北京大学"][seed]
    base = ["", "[UNK]", *_vocabulary(rng, letters + "qr", 300, [6, 14, 20][seed])]
    new = [*_vocabulary(rng, letters + "st", 60, [7, 12, 16][seed]), "", "s", "qq"]
    options = [
        SUBWORD_DEFAULTS,
        {"min_n": 2, "max_n": 5, "neighbours": 3, "max_df": 15, "min_shared": 3},
        {"min_n": 1, "max_n": 4, "neighbours": 4, "max_df": 60, "min_shared": 1},
    ][seed]
    found = _assert_matches_reference(base, new, options)
    assert found.found.size > 10  # the case has neighbours to find
    index = char_ngrams.NgramIndex(new, options["min_n"], options["max_n"])
    forms = {level.form for level in index.levels.values()}
    assert form not in ("bitmap", "hash") or form in forms


def test_markers_are_not_the_angle_bracket_characters():
    # "<ab" holds the character "<", not the start marker: it shares only the end n-gram
    # "ab>" with "ab" (were "<" the marker, it would share "<ab" and "<ab>" too).
    base = ["", "[UNK]", "<ab", "abx"]
    found = find_neighbours(base, ["ab", "xab"], **{**SUBWORD_DEFAULTS, "min_shared": 1})
    assert found.found.tolist() == [0, 1]
    assert found.base[0, :2].tolist() == [2, 3] and found.base[1, 0] == 2
    assert found.weights[0, :2].tolist() == [0.5, 0.5]


@pytest.mark.parametrize(
    ("base", "new"),
    [([], ["watch"]), (BASE, []), (BASE, ["", ""]), (["", "[UNK]"], ["a", "b"])],
)
def test_empty_vocabularies_and_tokens_find_nothing(base, new):
    found = find_neighbours(base, new, **SUBWORD_DEFAULTS)
    assert found.found.size == 0 and found.base.shape == (0, SUBWORD_DEFAULTS["neighbours"])


def test_tokens_holding_newlines_are_searched_like_any_other():
    base = ["", "[UNK]", "watch\nable", "watch", "able\n", "\n"]
    new = ["unwatch\nable", "able\n\n", "\n"]
    options = {**SUBWORD_DEFAULTS, "min_n": 2, "min_shared": 1}
    found = _assert_matches_reference(base, new, options)
    assert found.base[0, 0] == 2  # shares the most n-grams, newline ones included


def test_searches_from_several_threads_take_turns_and_agree():
    """The searches' lock is held until all four threads are inside a search, so they really
    meet at it (none could finish before the others started), then take turns."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from warmstart.core import numba_lock

    rng = np.random.default_rng(3)
    base = ["", "[UNK]", *_vocabulary(rng, "abcdefg", 3000, 9)]
    new = _vocabulary(rng, "abcdefgh", 300, 10)
    entered = threading.Semaphore(0)

    def search(_: int):
        entered.release()
        return find_neighbours(base, new, **SUBWORD_DEFAULTS)

    with ThreadPoolExecutor(4) as pool:
        with numba_lock.LOCK:
            jobs = [pool.submit(search, i) for i in range(8)]
            for _ in range(4):  # every thread of the pool is in a search, before the lock
                assert entered.acquire(timeout=60)
            time.sleep(1.0)  # a search takes 0.1-0.6 s here: unlocked, one would be done
            assert not any(job.done() for job in jobs)  # none got past the held lock
        results = [job.result(timeout=300) for job in jobs]
    assert results[0].found.size > 100
    for other in results[1:]:
        np.testing.assert_array_equal(other.base, results[0].base)
        np.testing.assert_array_equal(other.weights, results[0].weights)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_rows_are_composed_in_float64_whatever_the_matrix_type(dtype):
    emb = np.random.default_rng(4).standard_normal((len(BASE), 3)).astype(dtype)
    result = remap_embeddings(BASE, NEW, emb, "subword", seed=0, fallback="zeros")
    frame = result.report.to_frame().set_index("token")
    named, weights = frame.loc["unwatchable", "neighbours"], frame.loc["unwatchable", "weights"]
    expected = sum(
        w * emb[BASE.index(b)].astype(np.float64) for b, w in zip(named, weights, strict=True)
    )
    assert result.matrix.dtype == dtype
    np.testing.assert_array_equal(result.matrix[NEW.index("unwatchable")], expected.astype(dtype))
