"""The families' own layers, registered as serializable Keras objects.

A saved head holds them by registered name and config, so a version loads with `safe_mode`
(no Lambda layer, no pickle): loading needs only this module imported, which
`modeling.model.load_head` guarantees.

Every layer here honours the embedding's padding mask (`model.mask_padding`): padding never
enters a pooled vector, an attention or a convolution window. Without a mask (the seed
tutorial, older versions) each behaves as the plain Keras layer it extends.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers, ops

PACKAGE = "warmstart"


@keras.saving.register_keras_serializable(package=PACKAGE)
class PositionEmbedding(layers.Layer):
    """Adds a learned vector per position to each token vector.

    It is indexed by position, not by token, so it belongs to the head: a vocabulary change
    leaves it untouched, a different sequence length does not fit it.
    """

    def __init__(self, sequence_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sequence_length = int(sequence_length)
        self.supports_masking = True

    def build(self, input_shape: tuple) -> None:
        length, dim = input_shape[-2], input_shape[-1]
        if length is not None and int(length) != self.sequence_length:
            raise ValueError(
                f"positions for {self.sequence_length} tokens, but the input has {length}"
            )
        self.positions = self.add_weight(
            name="positions",
            shape=(self.sequence_length, int(dim)),
            initializer=keras.initializers.RandomUniform(-0.05, 0.05),
        )

    def call(self, vectors: Any) -> Any:
        return vectors + ops.cast(self.positions, vectors.dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "sequence_length": self.sequence_length}


@keras.saving.register_keras_serializable(package=PACKAGE)
class EncoderBlock(layers.Layer):
    """One post-norm Transformer encoder block: self-attention, then a position-wise MLP."""

    def __init__(self, num_heads: int, ff_units: int, dropout: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.ff_units = int(ff_units)
        self.dropout = float(dropout)
        self.supports_masking = True  # the mask goes on to the pooling after the blocks

    def build(self, input_shape: tuple) -> None:
        dim = int(input_shape[-1])
        self.attention = layers.MultiHeadAttention(
            self.num_heads, key_dim=max(1, dim // self.num_heads), dropout=self.dropout,
            name="attention",
        )  # fmt: skip
        self.attention.build(input_shape, input_shape)
        self.norm1 = layers.LayerNormalization(name="norm1")
        self.norm1.build(input_shape)
        self.ff_in = layers.Dense(self.ff_units, activation="relu", name="ff_in")
        self.ff_in.build(input_shape)
        self.ff_out = layers.Dense(dim, name="ff_out")
        self.ff_out.build((*input_shape[:-1], self.ff_units))
        self.norm2 = layers.LayerNormalization(name="norm2")
        self.norm2.build(input_shape)

    def call(self, vectors: Any, training: bool | None = None, mask: Any = None) -> Any:
        attended = self.attention(
            vectors, vectors, query_mask=mask, value_mask=mask, training=training
        )
        vectors = self.norm1(vectors + attended)
        return self.norm2(vectors + self.ff_out(self.ff_in(vectors)))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "ff_units": self.ff_units,
            "dropout": self.dropout,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class Head(keras.Sequential):
    """A family's head: a `Sequential` that consumes the embedding's padding mask.

    The recurrent family reads the mask (padding is skipped); the logits carry none, which
    plain `Sequential` would warn about on every trace.
    """

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedConv1D(layers.Conv1D):
    """`Conv1D` (`padding="same"`) whose windows read zeros where the text is padding, and
    which hands the mask on, so the pooling after it skips padded positions too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.supports_masking = True

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is not None:
            inputs = inputs * ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        return super().call(inputs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return mask


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedGlobalMaxPooling1D(layers.GlobalMaxPooling1D):
    """The largest value of each feature over the text's own positions (padding skipped); a
    text of padding only pools to zeros."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None:
            return super().call(inputs)
        keep = ops.expand_dims(ops.cast(mask, "bool"), -1)
        lowest = ops.full_like(inputs, -1e9)
        pooled = ops.max(ops.where(keep, inputs, lowest), axis=1)
        return ops.where(ops.any(keep, axis=1), pooled, ops.zeros_like(pooled))

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None
