"""The Keras 3 model, as two reusable parts: a text input and a classifier head.

    token ids -> [embedding]  ->  [head: GlobalAveragePooling1D -> Dense(relu) -> Dense(1|K)]

Two classes keep the tutorial's single logit (sigmoid, binary cross-entropy); K > 2 classes
get K logits (softmax, sparse categorical cross-entropy).

The text input is the part a vocabulary change invalidates; the head only sees embedding
vectors, so a warm start keeps it unchanged and swaps in an embedding remapped to the new
vocabulary. Keras 3 has no `Embedding(weights=...)`: weights are set after the layer is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import keras
import numpy as np
from keras import layers

from warmstart.core.errors import ModelFileError, RemapError
from warmstart.modeling.macro_f1 import MacroF1

EMBEDDING_LAYER = "embedding"
HEAD_LAYER = "head"
HIDDEN_LAYER = "hidden"
OUTPUT_LAYER = "logit"


def output_units(num_classes: int) -> int:
    """Logits for `num_classes` classes: one for two (the tutorial's head), else one each."""
    return 1 if int(num_classes) == 2 else int(num_classes)


def build_head(model_cfg: Mapping, num_classes: int = 2) -> keras.Sequential:
    """The tutorial's classifier on top of token vectors: one logit, or K for K > 2 classes."""
    return keras.Sequential(
        [
            layers.GlobalAveragePooling1D(name="pool"),
            layers.Dense(int(model_cfg["hidden_units"]), activation="relu", name=HIDDEN_LAYER),
            layers.Dense(output_units(num_classes), name=OUTPUT_LAYER),
        ],
        name=HEAD_LAYER,
    )


def num_classes(model: keras.Model) -> int:
    """The classes a model predicts: 2 for a single logit, else its number of logits."""
    units = int(model.output_shape[-1])
    return 2 if units == 1 else units


def build_model(
    *,
    vocab_size: int,
    sequence_length: int,
    model_cfg: Mapping,
    embedding_matrix: np.ndarray | None = None,
    head: keras.Layer | None = None,
    num_classes: int = 2,
) -> keras.Model:
    """Token ids -> logits. Give `embedding_matrix` and/or a trained `head` to warm-start."""
    dim = int(model_cfg["embedding_dim"])
    if embedding_matrix is not None:
        if embedding_matrix.shape != (vocab_size, embedding_matrix.shape[1]):
            raise RemapError(
                f"embedding matrix has {embedding_matrix.shape[0]} rows but the vocabulary has "
                f"{vocab_size} tokens; remap the matrix to this vocabulary first"
            )
        dim = int(embedding_matrix.shape[1])
    if head is None:
        head = build_head(model_cfg, num_classes)
    elif head.built:
        head_dim = int(head.input_shape[-1])
        if head_dim != dim:
            raise RemapError(
                f"the classifier head expects {head_dim}-dimensional token vectors but the "
                f"embedding has dimension {dim}; warm-start from a model with "
                f"model.embedding_dim={dim}, or set model.embedding_dim={head_dim}"
            )
    ids = keras.Input(shape=(sequence_length,), dtype="int64", name="token_ids")
    embedding = layers.Embedding(vocab_size, dim, name=EMBEDDING_LAYER)
    logits = head(embedding(ids))
    model = keras.Model(ids, logits, name="text_classifier")
    if embedding_matrix is not None:
        embedding.set_weights([embedding_matrix.astype(embedding.dtype, copy=False)])
    return model


def compile_model(model: keras.Model, learning_rate: float, num_classes: int = 2) -> keras.Model:
    """Adam + cross-entropy on logits; `accuracy` and `macro_f1` for any number of classes.

    Binary: `accuracy` thresholds the logit at 0 (p = 0.5), the correct reading of a logit
    output. `tutorial_accuracy` is what the tutorial's `metrics=["accuracy"]` computes on
    logits: a threshold of 0.5 on the *logit* (p = 0.62). It is logged so that figures can be
    set beside the tutorial's published ones. K > 2: softmax over K logits.
    """
    if num_classes == 2:
        loss = keras.losses.BinaryCrossentropy(from_logits=True)
        metrics = [
            keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy"),
            keras.metrics.BinaryAccuracy(threshold=0.5, name="tutorial_accuracy"),
        ]
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=loss,
        metrics=[*metrics, MacroF1(num_classes)],
    )
    return model


def embedding_matrix_of(model: keras.Model) -> np.ndarray:
    """The trained embedding matrix (one row per vocabulary index)."""
    return np.asarray(model.get_layer(EMBEDDING_LAYER).get_weights()[0])


def head_of(model: keras.Model) -> keras.Layer:
    """The trained classifier head, reusable on top of another embedding of the same dim."""
    return model.get_layer(HEAD_LAYER)


def load_model(path: str) -> keras.Model:
    """Load a saved `.keras` model with `safe_mode` (no arbitrary code on the load path)."""
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except ValueError as exc:  # e.g. a Lambda layer: code that safe_mode refuses to run
        reason = str(exc).split(". ")[0]
        raise ModelFileError(
            f"the Keras model {Path(path).name} cannot be loaded safely ({reason}); warm-start "
            "only from a version registered by train_base or warm_start"
        ) from None
