"""The learned-nothing verdict: three signs, each against what knowing nothing already scores."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from warmstart.core.verdict import judge, macro_f1, prior_loss

CLASSES = ["billing", "login", "shipping", "refund"]
FIX = "lower train.batch_size"


def one_hot(predicted: np.ndarray, classes: int, confidence: float = 0.9) -> np.ndarray:
    rest = (1 - confidence) / (classes - 1)
    p = np.full((len(predicted), classes), rest)
    p[np.arange(len(predicted)), predicted] = confidence
    return p


def test_a_model_that_separates_the_classes_learned():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, 400)
    verdict = judge(truth, truth, one_hot(truth, 4), class_names=CLASSES, fix=FIX)
    assert verdict.learned and verdict.line() is None
    assert verdict.macro_f1 == 1.0 and verdict.val_loss < verdict.prior_loss


def test_the_ticket_case_below_the_majority_rate_is_caught_by_loss_collapse_and_chance():
    """The reported case: 4 classes, loss stuck at ln 4, one class predicted for every text,
    val accuracy 0.214 *below* the majority rate, which a majority-rate rule missed."""
    truth = np.repeat([0, 1, 2, 3], [86, 110, 118, 86])  # majority rate 0.295
    uniform = np.full((len(truth), 4), 0.25)
    uniform[:, 0] += 1e-3  # argmax: class 0 for every text (accuracy 0.215)
    verdict = judge(truth, truth, uniform, class_names=CLASSES, fix=FIX)
    assert not verdict.learned and len(verdict.reasons) == 3
    loss, collapse, chance = verdict.reasons
    assert "validation loss 1.38" in loss and "training class frequencies" in loss
    assert "'billing' for all 400 validation texts of 4 classes" in collapse
    assert "not above chance for 4 classes (0.250)" in chance
    assert all(reason.endswith(FIX) for reason in verdict.reasons)


def test_a_loss_no_better_than_the_class_prior_alone_is_learned_nothing():
    """Predictions spread over the classes (no collapse) but no more certain than the prior."""
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 2, 1000)
    p = np.column_stack([np.full(1000, 0.5), np.full(1000, 0.5)])
    p[:, 0] += rng.normal(0, 1e-3, 1000)
    verdict = judge(truth, truth, p, class_names=[0, 1], fix=FIX)
    assert verdict.predicted_classes == 2
    assert any(r.startswith("validation loss") for r in verdict.reasons)


def test_confident_random_guesses_fail_the_chance_level_even_with_several_classes_predicted():
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 4, 2000)
    guesses = rng.integers(0, 4, 2000)
    verdict = judge(truth, truth, one_hot(guesses, 4, 0.4), class_names=CLASSES, fix=FIX)
    assert verdict.predicted_classes == 4
    assert any("not above chance" in r for r in verdict.reasons)


def test_metrics_name_what_was_measured():
    truth = np.array([0, 1, 0, 1])
    metrics = judge(truth, truth, one_hot(truth, 2), class_names=[0, 1], fix=FIX).metrics()
    assert set(metrics) == {
        "verdict_val_loss",
        "verdict_prior_loss",
        "verdict_val_macro_f1",
        "verdict_chance_macro_f1",
        "verdict_predicted_classes",
    }
    assert metrics["verdict_chance_macro_f1"] == 0.5


def test_prior_loss_is_the_cross_entropy_of_the_training_frequencies():
    train = np.array([0, 0, 0, 1])  # smoothed prior (4/6, 2/6)
    val = np.array([0, 1])
    assert prior_loss(train, val, 2) == pytest.approx(-(np.log(4 / 6) + np.log(2 / 6)) / 2)


@pytest.mark.parametrize("seed", range(5))
def test_macro_f1_agrees_with_sklearn(seed):
    rng = np.random.default_rng(seed)
    truth, predicted = rng.integers(0, 5, 300), rng.integers(0, 4, 300)
    expected = f1_score(truth, predicted, average="macro", zero_division=0)
    assert macro_f1(truth, predicted, 5) == pytest.approx(expected)
