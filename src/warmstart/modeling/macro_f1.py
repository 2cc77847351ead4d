"""Macro-averaged F1 as a Keras metric, for one logit (binary) or K logits (multi-class).

Accuracy hides a class the model never predicts; macro F1 (the unweighted mean of each class's
F1) does not, so it is what multi-class models are compared and promoted by. Binary models log
it too, so warm and cold runs always carry the same metric keys. It accumulates a confusion
matrix over the epoch, so the value is the F1 of the whole split, not a mean over batches.
"""

from __future__ import annotations

import keras
from keras import ops


class MacroF1(keras.metrics.Metric):
    """Unweighted mean over classes of 2·TP / (2·TP + FP + FN), from logits."""

    def __init__(self, num_classes: int, name: str = "macro_f1", **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.num_classes = int(num_classes)
        self.confusion = self.add_variable(
            shape=(self.num_classes, self.num_classes), initializer="zeros", name="confusion"
        )

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        if self.num_classes == 2 and y_pred.shape[-1] == 1:
            predicted = ops.cast(ops.reshape(y_pred, (-1,)) > 0.0, "int32")
        else:
            predicted = ops.argmax(y_pred, axis=-1)
        actual = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        predicted = ops.cast(ops.reshape(predicted, (-1,)), "int32")
        pairs = actual * self.num_classes + predicted
        counts = ops.bincount(pairs, minlength=self.num_classes * self.num_classes)
        counts = ops.reshape(ops.cast(counts, self.dtype), (self.num_classes, self.num_classes))
        self.confusion.assign_add(counts)

    def result(self):
        true_positive = ops.diagonal(self.confusion)
        predicted = ops.sum(self.confusion, axis=0)
        actual = ops.sum(self.confusion, axis=1)
        denominator = predicted + actual
        f1 = ops.where(denominator > 0, 2.0 * true_positive / ops.maximum(denominator, 1.0), 0.0)
        return ops.mean(f1)

    def reset_state(self) -> None:
        self.confusion.assign(ops.zeros((self.num_classes, self.num_classes), dtype=self.dtype))

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes}
