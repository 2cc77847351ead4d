"""Adam's state, saved with a version and carried into a warm start (`warmstart.optimizer_state`).

Keras keeps one `momentum` and one `velocity` per trainable variable, named after the
variable's path, plus the step count. A warm start restores them so that training continues
instead of restarting Adam from nothing. Which tensor gets which treatment is declared by
layer, never guessed from shapes:

    vocabulary  the embedding's rows: the token remap plan, the very one the weights went
                through (shared rows keep their moments, new rows start at zero)
    labels      the output layer: the label remap plan on its class axis; a change between
                one logit and K logits has no exact counterpart, so those moments restart
    head        everything else: as it was
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import keras
import numpy as np

from warmstart.core.errors import RemapError
from warmstart.core.remap import apply_plan
from warmstart.core.remap_plan import RemapPlan
from warmstart.modeling.heads import HEAD_LAYER, OUTPUT_LAYER
from warmstart.modeling.model import EMBEDDING_LAYER

ITERATIONS = "iterations"
SLOTS = ("momentum", "velocity")
VOCABULARY, LABELS, HEAD = "vocabulary", "labels", "head"


def variables(model: keras.Model) -> dict[str, tuple[keras.Variable, str, int]]:
    """Each trainable variable by key `<layer>/<index in the layer>/<name>` -> (variable,
    role, the axis its role indexes).

    Keys come from the model's declared structure (the embedding, then the head's layers by
    name), not from variable paths, which differ between a head built in a model and one
    loaded on its own.
    """
    head = model.get_layer(HEAD_LAYER)
    out = {}
    for layer in (model.get_layer(EMBEDDING_LAYER), *head.layers):
        role = {EMBEDDING_LAYER: VOCABULARY, OUTPUT_LAYER: LABELS}.get(layer.name, HEAD)
        for i, v in enumerate(layer.trainable_weights):
            axis = v.ndim - 1 if role == LABELS else 0  # kernel (hidden, K), bias (K,)
            out[f"{layer.name}/{i}/{v.name}"] = (v, role, axis)
    if len(out) != len(model.trainable_variables):
        raise RemapError(
            "the model has trainable variables outside its embedding and head; optimizer "
            "state carries over only for warmstart's models: set warmstart.optimizer_state=false"
        )
    return out


def _slots(model: keras.Model) -> dict[str, tuple[keras.Variable, str, int]]:
    """`<variable key>:<slot>` -> (the optimizer's variable, role, axis); builds the optimizer."""
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    by_name = {v.name: v for v in optimizer.variables}
    slots = {}
    for key, (v, role, axis) in variables(model).items():
        for slot in SLOTS:
            name = f"{v.path.replace('/', '_')}_{slot}"
            if name not in by_name:
                raise RemapError(
                    f"the optimizer keeps no {slot} for {v.path}; optimizer state carries "
                    "over only for Adam: set warmstart.optimizer_state=false"
                )
            slots[f"{key}:{slot}"] = (by_name[name], role, axis)
    return slots


class CapturedState(Mapping[str, np.ndarray]):
    """A compiled model's optimizer state, read one tensor at a time when asked for, so that
    writing it (`tracking.publish`) never holds every moment matrix at once."""

    def __init__(self, model: keras.Model) -> None:
        self._iterations = model.optimizer.iterations
        self._slots = {key: var for key, (var, _, _) in _slots(model).items()}

    def __getitem__(self, key: str) -> np.ndarray:
        if key == ITERATIONS:
            return np.asarray(self._iterations.numpy())
        return np.asarray(self._slots[key].numpy())

    def __iter__(self) -> Iterator[str]:
        return iter((ITERATIONS, *self._slots))

    def __len__(self) -> int:
        return 1 + len(self._slots)


def capture(model: keras.Model) -> CapturedState | None:
    """The compiled model's optimizer state (None before compiling)."""
    if getattr(model, "optimizer", None) is None:
        return None
    return CapturedState(model)


def restore(
    model: keras.Model,
    state: Mapping[str, np.ndarray],
    *,
    vocabulary_plan: RemapPlan,
    label_plan: RemapPlan | None,
) -> dict[str, int]:
    """Put a source's optimizer state into the compiled warm `model`, each tensor by role.

    `label_plan` is None when the classes did not change. Returns how many tensors each
    role restored (and how many restarted at zero), for the run's record.
    """
    counts = {VOCABULARY: 0, LABELS: 0, HEAD: 0, "restarted": 0}
    for key, (var, role, axis) in _slots(model).items():
        if key not in state:
            raise RemapError(
                f"the source's optimizer state has no {key}; warm-start with the same "
                "model family and sizes, or set warmstart.optimizer_state=false"
            )
        saved = np.asarray(state[key])
        if role == VOCABULARY:
            value = apply_plan(vocabulary_plan, saved, axis, "zeros").matrix
        elif role == LABELS and label_plan is not None:
            if saved.shape[axis] == label_plan.base_size and var.shape[axis] == label_plan.new_size:
                value = apply_plan(label_plan, saved, axis, "zeros").matrix
            else:  # one logit <-> K logits: no exact counterpart
                value, role = np.zeros(var.shape, saved.dtype), "restarted"
        else:
            value = saved
        if tuple(value.shape) != tuple(var.shape):
            raise RemapError(
                f"the source's {key} has shape {saved.shape}, the warm model needs "
                f"{tuple(var.shape)}; warm-start with the same model sizes, or set "
                "warmstart.optimizer_state=false"
            )
        var.assign(value.astype(var.dtype, copy=False))
        counts[role] += 1
    model.optimizer.iterations.assign(int(state[ITERATIONS]))
    return counts
