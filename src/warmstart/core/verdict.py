"""Did training learn anything? Decided from what the model did on the validation texts.

One accuracy threshold is easy to fool: a 4-class model at 0.21 sits *below* a 0.27 majority
rate and passes "within 0.01 of the majority rate". Three independent signs are checked
instead, each against what knowing nothing about the texts already achieves:

- loss: the validation cross-entropy is not clearly below the class-prior baseline, the loss of
  always predicting the training split's class frequencies;
- collapse: every validation text gets the same class (while the texts hold several);
- chance: validation macro-F1 is not above the chance level of the class count (1/K, which
  guessing by class frequencies scores on average).

Any one of them means the model learned nothing; each gives one line naming the measured values
and the likely fix. Pure numpy: the stage feeds it probabilities and labels as class indices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

LOSS_MARGIN = 0.02  # the validation loss must be at least 2% below the class-prior loss ...
CHANCE_MARGIN = 0.02  # ... and macro-F1 at least this far above 1/K
_EPSILON = 1e-7  # probabilities are clipped here before a logarithm


@dataclass(frozen=True)
class Verdict:
    """The evidence and the outcome; `reasons` is empty when the model learned."""

    val_loss: float
    prior_loss: float
    macro_f1: float
    chance_macro_f1: float
    predicted_classes: int
    texts: int
    reasons: tuple[str, ...] = field(default=())

    @property
    def learned(self) -> bool:
        return not self.reasons

    def line(self) -> str | None:
        """All reasons in one line (a tag, a decision), or None when the model learned."""
        return " | ".join(self.reasons) if self.reasons else None

    def metrics(self) -> dict[str, float]:
        """What the verdict measured, as run metrics (prefixed `verdict_`)."""
        return {
            "verdict_val_loss": self.val_loss,
            "verdict_prior_loss": self.prior_loss,
            "verdict_val_macro_f1": self.macro_f1,
            "verdict_chance_macro_f1": self.chance_macro_f1,
            "verdict_predicted_classes": float(self.predicted_classes),
        }


def prior_loss(train_labels: np.ndarray, val_labels: np.ndarray, classes: int) -> float:
    """Cross-entropy on the validation labels of always predicting the training frequencies
    (add-one smoothed, so a class absent from training costs a finite amount)."""
    counts = np.bincount(np.asarray(train_labels, dtype=np.int64), minlength=classes)
    prior = (counts + 1.0) / (counts.sum() + classes)
    return float(-np.log(prior[np.asarray(val_labels, dtype=np.int64)]).mean())


def macro_f1(truth: np.ndarray, predicted: np.ndarray, classes: int) -> float:
    """Macro-F1 over the classes present in the truth or the predictions (as sklearn's
    `f1_score(average="macro", zero_division=0)`)."""
    truth = np.asarray(truth, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    hits = np.bincount(truth[truth == predicted], minlength=classes).astype(float)
    true_counts = np.bincount(truth, minlength=classes).astype(float)
    predicted_counts = np.bincount(predicted, minlength=classes).astype(float)
    present = (true_counts + predicted_counts) > 0
    denominator = true_counts + predicted_counts
    f1 = np.divide(2 * hits, denominator, out=np.zeros(classes), where=denominator > 0)
    return float(f1[present].mean()) if present.any() else 0.0


def judge(
    train_labels: np.ndarray,
    val_labels: np.ndarray,
    val_probabilities: np.ndarray,
    *,
    class_names: Sequence[object],
    fix: str,
) -> Verdict:
    """The verdict on a model from its validation probabilities (rows: texts, columns: the
    classes in `class_names`' order). `fix` is the advice each reason ends with."""
    classes = len(class_names)
    val_labels = np.asarray(val_labels, dtype=np.int64)
    p = np.asarray(val_probabilities, dtype=np.float64)
    truth_p = p[np.arange(len(val_labels)), val_labels]
    val_loss = float(-np.log(np.clip(truth_p, _EPSILON, 1.0)).mean())
    prior = prior_loss(train_labels, val_labels, classes)
    predicted = p.argmax(axis=1)
    f1 = macro_f1(val_labels, predicted, classes)
    chance = 1.0 / classes
    used = np.unique(predicted)
    reasons = []
    if val_loss > prior * (1 - LOSS_MARGIN):
        reasons.append(
            f"validation loss {val_loss:.3f} is not clearly below {prior:.3f}, the loss of "
            f"always predicting the training class frequencies: the model learned nothing; {fix}"
        )
    if used.size == 1 and np.unique(val_labels).size > 1:
        reasons.append(
            f"the model predicts {class_names[int(used[0])]!r} for all {len(val_labels)} "
            f"validation texts of {np.unique(val_labels).size} classes: it learned nothing; {fix}"
        )
    if f1 <= chance + CHANCE_MARGIN:
        reasons.append(
            f"validation macro-F1 {f1:.3f} is not above chance for {classes} classes "
            f"({chance:.3f}): the model learned nothing; {fix}"
        )
    return Verdict(
        val_loss=val_loss,
        prior_loss=prior,
        macro_f1=f1,
        chance_macro_f1=chance,
        predicted_classes=int(used.size),
        texts=len(val_labels),
        reasons=tuple(reasons),
    )
