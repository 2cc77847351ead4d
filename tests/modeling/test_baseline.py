"""The TF-IDF + linear SVM anchor: fitted on the training split, scored on the test texts."""

from __future__ import annotations

import pytest

from warmstart.modeling.baseline import tfidf_baseline, tfidf_predictions

TRAIN = [
    ("my invoice charged me twice", "billing"),
    ("the card payment fee is wrong", "billing"),
    ("invoice fee charged again", "billing"),
    ("password reset does not work", "login"),
    ("account locked after password reset", "login"),
    ("cannot login to my account", "login"),
]


def test_the_baseline_separates_what_words_separate_and_keeps_labels_as_given():
    texts, labels = zip(*TRAIN, strict=True)
    test = ["charged twice on my invoice", "locked out after a password reset"]
    predicted = tfidf_predictions(list(texts), list(labels), test)
    assert predicted.tolist() == ["billing", "login"]
    score = tfidf_baseline(list(texts), list(labels), test, ["billing", "login"])
    assert score.accuracy == score.macro_f1 == 1.0 and score.seconds >= 0
    assert set(score.metrics()) == {
        "baseline_test_accuracy",
        "baseline_test_macro_f1",
        "baseline_seconds",
    }


def test_integer_labels_come_back_as_integers():
    texts, labels = zip(*TRAIN, strict=True)
    numbers = [0 if label == "billing" else 1 for label in labels]
    assert tfidf_predictions(list(texts), numbers, ["invoice fee"]).tolist() == [0]


@pytest.mark.parametrize(
    ("texts", "labels"),
    [
        (["alpha", "beta"], ["a", "b"]),  # no term twice: min_df=2 would leave no feature
        (["alpha beta", "alpha gamma"], ["a", "a"]),  # one class: nothing to separate
    ],
)
def test_tables_too_small_for_the_defaults_still_get_a_baseline(texts, labels):
    score = tfidf_baseline(texts, labels, ["alpha"], ["a"])
    assert 0.0 <= score.accuracy <= 1.0
