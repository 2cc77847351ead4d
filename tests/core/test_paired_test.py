"""The paired bootstrap: the interval a plain resampling loop with sklearn gives, for the same
index draws; reproducible for a seed; zero for identical predictions; above zero for a model
that is clearly better."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, f1_score

from warmstart.core.paired_test import PairedInterval, paired_bootstrap

FAST = settings(max_examples=40, deadline=None)
SCORERS = {
    "accuracy": accuracy_score,
    "macro_f1": lambda t, p: f1_score(t, p, average="macro", zero_division=0),
}


def reference(truth, candidate, champion, *, metric, confidence, resamples, seed):
    """One resample at a time: index the labels, score each model with sklearn, subtract."""
    truth, candidate, champion = (np.asarray(v, dtype=object) for v in (truth, candidate, champion))
    n = len(truth)
    draws = np.random.default_rng(seed).integers(0, n, size=(resamples, n), dtype=np.int32)
    scorer = SCORERS[metric]
    differences = [
        scorer(list(truth[i]), list(candidate[i])) - scorer(list(truth[i]), list(champion[i]))
        for i in draws
    ]
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(differences, [tail, 100 - tail])
    point = scorer(list(truth), list(candidate)), scorer(list(truth), list(champion))
    return point, low, high


LABELS = st.sampled_from(["cat", "dog", "eel", "fox", "gnu"])


@st.composite
def three_columns(draw):
    n = draw(st.integers(1, 25))
    column = st.lists(LABELS, min_size=n, max_size=n)
    return draw(column), draw(column), draw(column)


@FAST
@given(
    columns=three_columns(),
    metric=st.sampled_from(["accuracy", "macro_f1"]),
    seed=st.integers(0, 2**32 - 1),
    chunk=st.sampled_from([None, 1, 7]),
)
def test_the_interval_is_the_one_a_plain_sklearn_loop_gives_for_the_same_draws(
    columns, metric, seed, chunk
):
    truth, candidate, champion = columns
    got = paired_bootstrap(
        truth, candidate, champion, metric=metric, resamples=60, seed=seed, chunk=chunk
    )
    (mine, theirs), low, high = reference(
        truth, candidate, champion, metric=metric, confidence=0.95, resamples=60, seed=seed
    )
    assert got.candidate == pytest.approx(mine, abs=1e-12)
    assert got.champion == pytest.approx(theirs, abs=1e-12)
    assert got.difference == pytest.approx(mine - theirs, abs=1e-12)
    assert (got.low, got.high) == pytest.approx((low, high), abs=1e-9)
    assert (got.texts, got.resamples, got.seed, got.confidence) == (len(truth), 60, seed, 0.95)


def test_labels_of_any_hashable_kind_score_alike():
    truth, candidate, champion = [0, 1, 2, 2, 1] * 4, [0, 1, 2, 1, 1] * 4, [0, 0, 2, 2, 2] * 4
    as_ints = paired_bootstrap(truth, candidate, champion, metric="macro_f1", resamples=200)
    named = {0: ("a", 1), 1: ("b", 2), 2: ("c", 3)}  # tuples: hashable, not sortable with ints
    as_tuples = paired_bootstrap(
        *([named[v] for v in col] for col in (truth, candidate, champion)),
        metric="macro_f1",
        resamples=200,
    )
    assert as_ints == as_tuples


def test_the_same_seed_gives_the_same_interval_and_another_seed_another():
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 4, 300).tolist()
    candidate = [t if rng.random() < 0.7 else 0 for t in truth]
    champion = [t if rng.random() < 0.7 else 1 for t in truth]
    first, again, other = (
        paired_bootstrap(truth, candidate, champion, metric="macro_f1", resamples=300, seed=s)
        for s in (5, 5, 6)
    )
    assert isinstance(first, PairedInterval) and first == again
    assert (other.low, other.high) != (first.low, first.high)
    assert other.difference == first.difference  # the full-sample values do not resample


@pytest.mark.parametrize("metric", ["accuracy", "macro_f1"])
def test_identical_predictions_give_the_interval_zero_to_zero(metric):
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 5, 500).tolist()
    predicted = [t if rng.random() < 0.6 else 4 - t for t in truth]
    got = paired_bootstrap(truth, predicted, list(predicted), metric=metric, resamples=500)
    assert (got.low, got.difference, got.high) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("metric", ["accuracy", "macro_f1"])
def test_a_clearly_better_candidate_has_its_whole_interval_above_zero(metric):
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 3, 400)
    candidate = np.where(rng.random(400) < 0.9, truth, (truth + 1) % 3)
    champion = np.where(rng.random(400) < 0.6, truth, (truth + 1) % 3)
    got = paired_bootstrap(truth.tolist(), candidate.tolist(), champion.tolist(), metric=metric)
    assert 0 < got.low < got.difference < got.high
    worse = paired_bootstrap(truth.tolist(), champion.tolist(), candidate.tolist(), metric=metric)
    assert worse.high < 0


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"metric": "auc"}, "unknown"),
        ({"metric": "accuracy", "confidence": 1.0}, r"\(0, 1\)"),
        ({"metric": "accuracy", "resamples": 0}, "at least 1"),
    ],
)
def test_bad_arguments_are_refused_with_the_fix(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        paired_bootstrap([1, 0], [1, 1], [0, 0], **kwargs)
    with pytest.raises(ValueError, match="one label per test text"):
        paired_bootstrap([1, 0], [1], [0, 0], metric="accuracy")
