"""Model families: everything a classifier does after the token embedding (`conf/model/`).

Each family's head sees only token vectors, never token ids, so a vocabulary change leaves it
valid and a warm start reuses it whole. Every head is a `Head` (a `Sequential`) named `head`,
ending in the same two layers, `hidden` (Dense, relu) and `logit` (Dense, 1 or K units),
so the label remap swaps the output layer of any family the same way.

    tutorial     GlobalAveragePooling1D                       (the TF tutorial's model)
    cnn          MaskedConv1D(relu) -> MaskedGlobalMaxPooling1D
    bilstm       Bidirectional(LSTM | GRU) over a masked embedding
    transformer  PositionEmbedding -> EncoderBlock x N -> GlobalAveragePooling1D
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import keras
from keras import layers

from warmstart.config.choices import RecurrentCell
from warmstart.config.schema import AUTO
from warmstart.core.errors import ConfigError, RemapError
from warmstart.modeling.layers import (
    EncoderBlock,
    Head,
    MaskedConv1D,
    MaskedGlobalMaxPooling1D,
    PositionEmbedding,
)

HEAD_LAYER = "head"
HIDDEN_LAYER = "hidden"
OUTPUT_LAYER = "logit"
# Families whose versions from before `model.mask_padding` masked padding (index 0).
MASKED_FAMILIES = ("bilstm",)
# The family of what names none: configs, models and versions from before model families
# existed, when the tutorial's model was the only one.
PRE_FAMILIES = "tutorial"


def output_units(num_classes: int) -> int:
    """Logits for `num_classes` classes: one for two (the tutorial's head), else one each."""
    return 1 if int(num_classes) == 2 else int(num_classes)


AUTO_HIDDEN_PER_CLASS = 4  # model.hidden_units=auto: 16 for two classes, 4 a class beyond
AUTO_HIDDEN_BOUNDS = (16, 128)


def hidden_units(model_cfg: Mapping, num_classes: int) -> int:
    """`model.hidden_units`; `auto`: the tutorial's 16 for two classes, 4 per class beyond
    (at most 128). A 16-unit layer before 20 logits is a bottleneck: 20 Newsgroups on half its
    train split scores test macro-F1 0.686 with 16 units, 0.736 with 64; two classes learn as
    well with 16, and a small head keeps what the warm start carries over decisive."""
    value = model_cfg["hidden_units"]
    if value != AUTO:
        return int(value)
    low, high = AUTO_HIDDEN_BOUNDS
    return int(min(max(AUTO_HIDDEN_PER_CLASS * int(num_classes), low), high))


def family_of(model_cfg: Mapping) -> str:
    """The configured family (`model.family`). A model config without one is from before
    families existed (the tutorial's model was the only one), so it is `PRE_FAMILIES`; a name
    this module has no head for is refused, naming those it has."""
    family = str(model_cfg.get("family", PRE_FAMILIES))
    if family not in _BODIES:
        raise ConfigError(
            f"model.family={family!r} is not a model family; set model=" + ", model=".join(_BODIES)
        )
    return family


def _tutorial(cfg: Mapping, sequence_length: int) -> list[layers.Layer]:
    return [layers.GlobalAveragePooling1D(name="pool")]


def _cnn(cfg: Mapping, sequence_length: int) -> list[layers.Layer]:
    return [
        MaskedConv1D(int(cfg["filters"]), int(cfg["kernel_size"]), activation="relu",
                     padding="same", name="conv"),
        MaskedGlobalMaxPooling1D(name="pool"),
    ]  # fmt: skip


def _bilstm(cfg: Mapping, sequence_length: int) -> list[layers.Layer]:
    cell = {RecurrentCell.lstm: layers.LSTM, RecurrentCell.gru: layers.GRU}[cfg["rnn"]]
    return [layers.Bidirectional(cell(int(cfg["rnn_units"])), name="rnn")]


def _transformer(cfg: Mapping, sequence_length: int) -> list[layers.Layer]:
    blocks = [
        EncoderBlock(int(cfg["num_heads"]), int(cfg["ff_units"]), float(cfg["dropout"]),
                     name=f"encoder_{i}")
        for i in range(int(cfg["num_blocks"]))
    ]  # fmt: skip
    return [
        PositionEmbedding(sequence_length, name="positions"),
        *blocks,
        layers.GlobalAveragePooling1D(name="pool"),
    ]


_BODIES: dict[str, Callable[[Mapping, int], list[layers.Layer]]] = {
    "tutorial": _tutorial,
    "cnn": _cnn,
    "bilstm": _bilstm,
    "transformer": _transformer,
}


def build_head(model_cfg: Mapping, num_classes: int, sequence_length: int) -> keras.Sequential:
    """The configured family's head: its body, then `hidden` and `logit`."""
    body = _BODIES[family_of(model_cfg)](model_cfg, sequence_length)
    return Head(
        [
            *body,
            layers.Dense(
                hidden_units(model_cfg, num_classes), activation="relu", name=HIDDEN_LAYER
            ),
            layers.Dense(output_units(num_classes), name=OUTPUT_LAYER),
        ],
        name=HEAD_LAYER,
    )


def with_output_layer(trained: keras.Sequential, output: layers.Dense) -> keras.Sequential:
    """`trained`'s layers (weights and all) with `output` in place of its `logit` layer."""
    kept = [layer for layer in trained.layers if layer.name != OUTPUT_LAYER]
    return Head([*kept, output], name=HEAD_LAYER)


def head_positions(head: keras.Layer) -> int | None:
    """How many positions the head's position embedding has (None: it has none)."""
    for layer in getattr(head, "layers", ()):
        if isinstance(layer, PositionEmbedding):
            return layer.sequence_length
    return None


def check_same_family(source_family: str, model_cfg: Mapping, source: str) -> None:
    """A head warm-starts only a model of its own family: refuse anything else in one line."""
    family = family_of(model_cfg)
    if source_family != family:
        raise RemapError(
            f"{source} is a model={source_family} model but this run builds model={family}; "
            f"set model={source_family} to warm-start from it, or train a new base with "
            f"model={family}"
        )
