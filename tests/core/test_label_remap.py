"""The output layer remapped by class: shared columns bit for bit, new ones initialized,
removed ones dropped, and one-logit <-> softmax conversions that change no score."""

from __future__ import annotations

import numpy as np
import pytest

from warmstart.core.label_remap import as_softmax_columns, remap_output_layer

RNG = np.random.default_rng(0)
HIDDEN = RNG.normal(size=(7, 5)).astype("float32")  # 7 texts' hidden activations


def test_shared_classes_keep_their_columns_new_get_zeros_removed_are_dropped():
    kernel = RNG.normal(size=(5, 3)).astype("float32")
    bias = np.array([0.1, 0.2, 0.3], dtype="float32")
    out = remap_output_layer(["a", "b", "c"], ["b", "c", "d"], kernel, bias)
    assert np.array_equal(out.kernel[:, :2], kernel[:, 1:]) and not out.kernel[:, 2].any()
    assert np.array_equal(out.bias, np.array([0.2, 0.3, 0.0], dtype="float32"))
    summary = out.summary()
    assert summary["added"] == ["d"] and summary["removed"] == ["a"] and summary["n_kept"] == 2


def test_binary_to_multiclass_is_exact_sigmoid_equals_softmax_over_zero_and_z():
    kernel = RNG.normal(size=(5, 1)).astype("float32")
    bias = np.array([0.4], dtype="float32")
    z = HIDDEN @ kernel + bias
    columns, biases = as_softmax_columns(kernel, bias)
    two = HIDDEN @ columns + biases
    softmax = np.exp(two) / np.exp(two).sum(axis=1, keepdims=True)
    assert np.allclose(softmax[:, 1:], 1 / (1 + np.exp(-z)), atol=1e-6)
    out = remap_output_layer([0, 1], [0, 1, 2], kernel, bias, initializer="uniform", seed=1)
    scores = HIDDEN @ out.kernel + out.bias
    assert np.array_equal(scores[:, 0], np.zeros(7, dtype="float32"))
    assert np.allclose(scores[:, 1:2], z, atol=1e-6) and out.kernel[:, 2].any()


def test_back_to_two_classes_collapses_to_one_logit_exactly():
    kernel = RNG.normal(size=(5, 3)).astype("float32")
    bias = RNG.normal(size=3).astype("float32")
    out = remap_output_layer(["x", "y", "z"], ["x", "y"], kernel, bias)
    assert out.kernel.shape == (5, 1) and out.bias.shape == (1,)
    full = HIDDEN @ kernel + bias
    assert np.allclose(HIDDEN @ out.kernel + out.bias, full[:, 1:2] - full[:, 0:1], atol=1e-5)


@pytest.mark.parametrize("init", ["zeros", "uniform", "normal", "mean"])
def test_every_label_initializer_keeps_old_columns(init):
    kernel = RNG.normal(size=(5, 3)).astype("float32")
    out = remap_output_layer([1, 2, 3], [1, 2, 3, 4], kernel, np.zeros(3, "float32"),
                             initializer=init, seed=0)  # fmt: skip
    assert np.array_equal(out.kernel[:, :3], kernel) and out.kernel.shape == (5, 4)
