"""The classifier head's output layer: read its weights, and build a head for other classes.

A warm start across a label change keeps the head's trained hidden layer and swaps in an
output layer remapped by class (`core.label_remap`); everything else in the head is rebuilt
exactly as `build_head` builds it.
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np

from warmstart.modeling.model import HIDDEN_LAYER, OUTPUT_LAYER, build_head, head_of


def output_weights(model: keras.Model) -> tuple[np.ndarray, np.ndarray]:
    """(kernel, bias) of the model's output layer: kernel (hidden, 1 or K)."""
    kernel, bias = head_of(model).get_layer(OUTPUT_LAYER).get_weights()
    return np.asarray(kernel), np.asarray(bias)


def head_for_classes(
    source: keras.Model,
    model_cfg: Mapping,
    num_classes: int,
    kernel: np.ndarray,
    bias: np.ndarray,
) -> keras.Sequential:
    """A head for `num_classes` with `source`'s trained hidden layer and the given output layer."""
    trained = head_of(source)
    units = int(trained.get_layer(HIDDEN_LAYER).units)  # the trained layer's, whatever the config
    head = build_head({**model_cfg, "hidden_units": units}, num_classes)
    head.build(trained.input_shape)
    head.get_layer(HIDDEN_LAYER).set_weights(trained.get_layer(HIDDEN_LAYER).get_weights())
    layer = head.get_layer(OUTPUT_LAYER)
    layer.set_weights([kernel.astype(layer.dtype), bias.astype(layer.dtype)])
    return head
