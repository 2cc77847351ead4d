"""The Keras 3 model, as two reusable parts: the token embedding and a family's head.

    token ids -> [embedding]  ->  [head: the family's body -> Dense(relu) -> Dense(1|K)]

Two classes keep the tutorial's single logit (sigmoid, binary cross-entropy); K > 2 classes
get K logits (softmax, sparse categorical cross-entropy). Families live in `modeling.heads`.

The embedding is the part a vocabulary change invalidates; the head only sees token vectors,
so a warm start keeps it whole and swaps in an embedding remapped to the new vocabulary.
Keras 3 has no `Embedding(weights=...)`: a given matrix is written into the built variable,
in place and block by block (see `_fill`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from warmstart.config.choices import MODEL_FAMILIES
from warmstart.core.errors import ModelFileError, RemapError
from warmstart.modeling.heads import (
    HEAD_LAYER,
    HIDDEN_LAYER,
    MASKED_FAMILIES,
    OUTPUT_LAYER,
    PRE_FAMILIES,
    build_head,
    family_of,
    head_positions,
    output_units,
)
from warmstart.modeling.macro_f1 import MacroF1
from warmstart.modeling.text import ID_DTYPE

EMBEDDING_LAYER = "embedding"
_MODEL_SUFFIX = "_text_classifier"

__all__ = [  # the head's layer names and `output_units` are re-exported from `heads`
    "EMBEDDING_LAYER",
    "HEAD_LAYER",
    "HIDDEN_LAYER",
    "OUTPUT_LAYER",
    "assemble",
    "build_model",
    "check_head_fits",
    "compile_model",
    "embedding_matrix_of",
    "embedding_row",
    "head_of",
    "load_model",
    "masks_padding",
    "model_family",
    "num_classes",
    "output_units",
]


def num_classes(model: keras.Model) -> int:
    """The classes a model predicts: 2 for a single logit, else its number of logits."""
    units = int(model.output_shape[-1])
    return 2 if units == 1 else units


def model_family(model: keras.Model) -> str:
    """The family a model was built as: its name says it (`cnn_text_classifier`). A model from
    before families is named `text_classifier` and is the tutorial's (`PRE_FAMILIES`); any other
    name was not given by `build_model` or `assemble`, and is refused rather than guessed."""
    name = str(model.name)
    if name == _MODEL_SUFFIX.removeprefix("_"):
        return PRE_FAMILIES
    family = name.removesuffix(_MODEL_SUFFIX)
    if family == name or family not in MODEL_FAMILIES:
        families = ", model=".join(MODEL_FAMILIES)
        raise ModelFileError(
            f"the model {name!r} is not named <family>{_MODEL_SUFFIX} for a family this "
            f"warmstart builds; build it with modeling.model.build_model or assemble "
            f"(model={families})"
        )
    return family


def check_head_fits(head: keras.Layer, *, dim: int, sequence_length: int) -> None:
    """Refuse a trained head that cannot read these token vectors, naming the fix."""
    if head.built:
        head_dim = int(head.input_shape[-1])
        if head_dim != dim:
            raise RemapError(
                f"the classifier head expects {head_dim}-dimensional token vectors but the "
                f"embedding has dimension {dim}; warm-start from a model with "
                f"model.embedding_dim={dim}, or set model.embedding_dim={head_dim}"
            )
    positions = head_positions(head)
    if positions is not None and positions != sequence_length:
        raise RemapError(
            f"the source's Transformer head has positions for {positions} tokens but "
            f"vocab.sequence_length={sequence_length}; set vocab.sequence_length={positions}, "
            "or train a new base with this length"
        )


_FILL_ROWS = 65536  # rows per in-place update: bounded extra memory for any vocabulary


def _fill(variable: keras.Variable, matrix: np.ndarray) -> None:
    """Write `matrix` into a freshly built variable block by block.

    `tf.Variable(matrix)` or `assign(matrix)` hold two more full copies for a moment (the
    converted tensor, then the variable's); in-place row updates hold one block. Under a
    distribution strategy the plain assignment keeps the replicas in step.
    """
    if tf.distribute.has_strategy():
        variable.assign(matrix.astype(variable.dtype, copy=False))
        return
    target = variable.value  # the backend's tf.Variable
    for start in range(0, matrix.shape[0], _FILL_ROWS):
        block = matrix[start : start + _FILL_ROWS].astype(variable.dtype, copy=False)
        rows = tf.range(start, start + block.shape[0])
        target.scatter_update(tf.IndexedSlices(block, rows))


def _compose(
    head: keras.Layer,
    vocab_size: int,
    dim: int,
    *,
    sequence_length: int,
    family: str,
    mask_padding: bool | None = None,
    matrix: np.ndarray | None = None,
) -> keras.Model:
    check_head_fits(head, dim=dim, sequence_length=sequence_length)
    # int32 ids (modeling.text): half the memory of int64; int64 ids are still read (cast).
    ids = keras.Input(shape=(sequence_length,), dtype=ID_DTYPE, name="token_ids")
    if mask_padding is None:  # models from before the setting: only the recurrent one masked
        mask_padding = family in MASKED_FAMILIES
    embedding = layers.Embedding(
        vocab_size,
        dim,
        mask_zero=bool(mask_padding),
        embeddings_initializer="uniform" if matrix is None else "zeros",
        name=EMBEDDING_LAYER,
    )
    model = keras.Model(ids, head(embedding(ids)), name=f"{family}{_MODEL_SUFFIX}")
    if matrix is not None:
        _fill(embedding.embeddings, matrix)
    return model


def embedding_row(model: keras.Model, index: int) -> np.ndarray:
    """One row of the model's embedding (no copy of the whole matrix)."""
    return np.asarray(model.get_layer(EMBEDDING_LAYER).embeddings[index])


def assemble(
    head: keras.Layer,
    embedding_matrix: np.ndarray,
    *,
    sequence_length: int,
    family: str,
    mask_padding: bool | None = None,
) -> keras.Model:
    """Token ids -> logits from a trained head and an embedding matrix (rows = vocabulary);
    `mask_padding` as the model was trained (None: the default of models without it)."""
    vocab_size, dim = (int(n) for n in embedding_matrix.shape)
    return _compose(head, vocab_size, dim, sequence_length=sequence_length, family=family,
                    mask_padding=mask_padding, matrix=embedding_matrix)  # fmt: skip


def masks_padding(model: keras.Model) -> bool:
    """Whether the model leaves padding out of what its head reads (`model.mask_padding`)."""
    return bool(model.get_layer(EMBEDDING_LAYER).mask_zero)


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
    if embedding_matrix is not None and embedding_matrix.shape[0] != vocab_size:
        raise RemapError(
            f"embedding matrix has {embedding_matrix.shape[0]} rows but the vocabulary has "
            f"{vocab_size} tokens; remap the matrix to this vocabulary first"
        )
    dim = int(model_cfg["embedding_dim"] if embedding_matrix is None else embedding_matrix.shape[1])
    if head is None:
        head = build_head(model_cfg, num_classes, sequence_length)
    return _compose(head, vocab_size, dim, sequence_length=sequence_length,
                    family=family_of(model_cfg), mask_padding=model_cfg.get("mask_padding"),
                    matrix=embedding_matrix)  # fmt: skip


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
    """Load a saved `.keras` model or head with `safe_mode` (no arbitrary code on the load
    path); the families' own layers are registered by importing `modeling.heads` above."""
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except ValueError as exc:  # e.g. a Lambda layer: code that safe_mode refuses to run
        reason = str(exc).split(". ")[0]
        raise ModelFileError(
            f"the Keras model {Path(path).name} cannot be loaded safely ({reason}); warm-start "
            "only from a version registered by train_base or warm_start"
        ) from None
