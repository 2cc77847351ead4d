"""The classifier head's output layer: read its weights, and build a head for other classes.

A warm start across a label change keeps every trained layer of the head (any family) and
swaps in an output layer remapped by class (`core.label_remap`).
"""

from __future__ import annotations

import keras
import numpy as np

from warmstart.modeling.heads import OUTPUT_LAYER, output_units, with_output_layer


def output_weights(head: keras.Layer) -> tuple[np.ndarray, np.ndarray]:
    """(kernel, bias) of a head's output layer: kernel (hidden, 1 or K)."""
    kernel, bias = head.get_layer(OUTPUT_LAYER).get_weights()
    return np.asarray(kernel), np.asarray(bias)


def head_for_classes(
    trained: keras.Sequential, num_classes: int, kernel: np.ndarray, bias: np.ndarray
) -> keras.Sequential:
    """`trained` (any family's head) with an output layer for `num_classes` holding the
    given weights; every other layer is the trained one, weights and all."""
    output = keras.layers.Dense(output_units(num_classes), name=OUTPUT_LAYER)
    output.build((None, int(kernel.shape[0])))
    output.set_weights([kernel.astype(output.dtype), bias.astype(output.dtype)])
    return with_output_layer(trained, output)
