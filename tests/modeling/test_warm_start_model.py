"""Warm-starting a trained model onto a new vocabulary and classes is one call, without MLflow:
shared tokens keep their trained rows, new ones get the initializer's, the head is kept (its
output layer remapped by class when the classes change), and Adam's state follows both plans
(real Keras models)."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import pytest

from warmstart.core.errors import RemapError
from warmstart.modeling.model import (
    build_model,
    compile_model,
    embedding_matrix_of,
    head_of,
    num_classes,
)
from warmstart.modeling.optimizer_state import capture
from warmstart.modeling.warm_start import check_token, warm_start_model

CFG = {"family": "tutorial", "embedding_dim": 6, "hidden_units": 5}
BASE = ["", "[UNK]", "the", *(f"w{i}" for i in range(20))]
NEW = ["", "[UNK]", "w13", "fresh", "the", *(f"w{i}" for i in range(10)), "novel"]


@dataclass
class Source:
    """A trained model as a warm start reads it; counts how often its matrix is read."""

    vocabulary: list[str]
    labels: list
    matrix: np.ndarray
    reads: int = 0

    @property
    def embedding(self) -> np.ndarray:
        self.reads += 1
        return self.matrix.copy()


def trained(classes: list) -> tuple[Source, keras.Model]:
    keras.utils.set_random_seed(4)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, len(BASE), (64, 10))
    k = len(classes)
    labels = rng.integers(0, k, 64).astype("float32" if k == 2 else "int32")
    model = build_model(vocab_size=len(BASE), sequence_length=10, model_cfg=CFG, num_classes=k)
    compile_model(model, 0.01, num_classes=k)
    model.fit(ids, labels, epochs=2, batch_size=16, verbose=0)
    return Source(list(BASE), list(classes), embedding_matrix_of(model)), model


def test_shared_tokens_keep_their_trained_rows_and_new_ones_get_the_initializers():
    source, base = trained(["negative", "positive"])
    warm = warm_start_model(
        source, head_of(base), NEW, ["negative", "positive"], model_cfg=CFG,
        sequence_length=10, initializer="zeros", seed=0,
    )  # fmt: skip
    matrix = embedding_matrix_of(warm.model)
    for token in set(BASE) & set(NEW):
        np.testing.assert_array_equal(matrix[NEW.index(token)], source.matrix[BASE.index(token)])
    np.testing.assert_array_equal(matrix[NEW.index("fresh")], 0)
    np.testing.assert_array_equal(matrix[NEW.index("novel")], 0)
    assert warm.report.added == 2 and warm.report.removed == len(BASE) - len(set(BASE) & set(NEW))
    assert warm.checked_token == "the" and warm.labels.plan is None
    assert source.reads == 1  # the source's matrix is read once, by the remap


def test_the_same_classes_keep_the_trained_head_itself():
    source, base = trained(["negative", "positive"])
    head = head_of(base)
    warm = warm_start_model(source, head, NEW, ["negative", "positive"], model_cfg=CFG,
                            sequence_length=10)  # fmt: skip
    assert warm.model.get_layer("head") is head
    assert warm.labels.summary["kept"] == ["negative", "positive"]


def test_new_classes_remap_the_output_layer_by_class_and_keep_the_shared_columns():
    source, base = trained(["billing", "login", "refund"])
    kernel = head_of(base).get_layer("logit").get_weights()[0].copy()
    warm = warm_start_model(
        source, head_of(base), NEW, ["login", "billing", "shipping"], model_cfg=CFG,
        sequence_length=10, label_initializer="zeros",
    )  # fmt: skip
    assert num_classes(warm.model) == 3
    new_kernel, new_bias = warm.model.get_layer("head").get_layer("logit").get_weights()
    np.testing.assert_array_equal(new_kernel[:, 0], kernel[:, 1])  # login
    np.testing.assert_array_equal(new_kernel[:, 1], kernel[:, 0])  # billing
    np.testing.assert_array_equal(new_kernel[:, 2], 0)  # shipping, new
    assert new_bias[2] == 0
    assert warm.labels.summary["added"] == ["shipping"]
    assert warm.labels.summary["removed"] == ["refund"]
    assert warm.labels.plan is not None


def test_adams_state_follows_the_vocabulary_plan():
    source, base = trained(["negative", "positive"])
    saved = dict(capture(base))
    warm = warm_start_model(source, head_of(base), NEW, ["negative", "positive"],
                            model_cfg=CFG, sequence_length=10)  # fmt: skip
    compile_model(warm.model, 0.01)
    counts = warm.restore_optimizer(saved)
    assert counts["vocabulary"] > 0 and counts["head"] > 0
    assert int(warm.model.optimizer.iterations) == int(saved["iterations"])


def test_a_vocabulary_sharing_too_little_is_refused_before_any_model_is_built():
    source, base = trained(["negative", "positive"])
    unrelated = ["", "[UNK]", "the", *(f"x{i}" for i in range(30))]
    with pytest.raises(RemapError, match=r"overlap|share"):
        warm_start_model(source, head_of(base), unrelated, ["negative", "positive"],
                         model_cfg=CFG, sequence_length=10, min_overlap=0.5)  # fmt: skip


def test_the_checked_token_is_the_tutorials_or_the_first_shared_one():
    assert check_token(BASE, NEW) == "the"
    assert check_token(["", "[UNK]", "a", "b"], ["", "[UNK]", "c", "b", "a"]) == "b"
    with pytest.raises(RemapError, match="no token is shared"):
        check_token(["", "[UNK]", "a"], ["", "[UNK]", "z"])
