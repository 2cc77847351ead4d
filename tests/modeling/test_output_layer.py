"""A warm model for more classes scores the old classes exactly as the binary base did,
before any training (real Keras models)."""

from __future__ import annotations

import keras
import numpy as np

from warmstart.core.label_remap import remap_output_layer
from warmstart.modeling.model import build_model, embedding_matrix_of, head_of, num_classes
from warmstart.modeling.output_layer import head_for_classes, output_weights

CFG = {"embedding_dim": 8, "hidden_units": 6}


def test_binary_base_to_three_classes_keeps_the_base_scores_before_training():
    keras.utils.set_random_seed(3)
    base = build_model(vocab_size=40, sequence_length=9, model_cfg=CFG)
    kernel, bias = output_weights(head_of(base))
    bias[:] = 0.25  # a trained base has a bias: it must carry over too
    base.get_layer("head").get_layer("logit").set_weights([kernel, bias])
    ids = np.random.default_rng(0).integers(0, 40, (32, 9))
    z = base.predict(ids, verbose=0)[:, 0]

    out = remap_output_layer(["neg", "pos"], ["neg", "new", "pos"], kernel, bias)
    head = head_for_classes(head_of(base), 3, out.kernel, out.bias)
    warm = build_model(vocab_size=40, sequence_length=9, model_cfg=CFG, num_classes=3,
                       embedding_matrix=embedding_matrix_of(base), head=head)  # fmt: skip
    scores = warm.predict(ids, verbose=0)
    assert num_classes(warm) == 3 and num_classes(base) == 2
    assert np.array_equal(scores[:, 0], np.zeros(32, "float32"))  # neg: the softmax's 0
    assert np.array_equal(scores[:, 1], np.zeros(32, "float32"))  # new class: zeros
    np.testing.assert_allclose(scores[:, 2], z, atol=1e-6)  # pos: the base's logit z
    p_pos_old = 1 / (1 + np.exp(-z))
    two = np.exp(scores[:, [0, 2]]) / np.exp(scores[:, [0, 2]]).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(two[:, 1], p_pos_old, atol=1e-6)
