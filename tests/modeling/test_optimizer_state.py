"""Adam's state crosses a vocabulary change by role: the embedding's moments follow the
token remap (shared rows keep theirs, new rows start at zero), the head's stay as they were,
the output layer's follow the label remap (real Keras models and optimizers)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from warmstart.core.errors import RemapError
from warmstart.core.remap import remap_embeddings
from warmstart.core.remap_plan import RemapPlan
from warmstart.core.vocab_diff import diff_tokens
from warmstart.modeling.model import build_model, compile_model, embedding_matrix_of, head_of
from warmstart.modeling.optimizer_state import ITERATIONS, capture, restore

CFG = {"family": "cnn", "embedding_dim": 6, "hidden_units": 5, "filters": 4, "kernel_size": 3}
BASE = ["", "[UNK]", *(f"w{i}" for i in range(20))]
NEW = ["", "[UNK]", "w13", "fresh", *(f"w{i}" for i in range(10)), "novel"]  # w13 moves up


def trained_base(num_classes: int = 2) -> keras.Model:
    keras.utils.set_random_seed(4)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, len(BASE), (64, 10))
    labels = rng.integers(0, num_classes, 64).astype("float32" if num_classes == 2 else "int32")
    model = build_model(vocab_size=len(BASE), sequence_length=10, model_cfg=CFG,
                        num_classes=num_classes)  # fmt: skip
    compile_model(model, 0.01, num_classes=num_classes)
    model.fit(ids, labels, epochs=2, batch_size=16, verbose=0)
    return model


def warm_model(base: keras.Model, head: keras.Layer | None = None, num_classes: int = 2):
    remapped = remap_embeddings(BASE, NEW, embedding_matrix_of(base), seed=0)
    model = build_model(vocab_size=len(NEW), sequence_length=10, model_cfg=CFG,
                        embedding_matrix=remapped.matrix, head=head or head_of(base),
                        num_classes=num_classes)  # fmt: skip
    compile_model(model, 0.01, num_classes=num_classes)
    return model, remapped.report.plan


def test_embedding_moments_follow_the_remap_and_new_rows_start_at_zero():
    base = trained_base()
    saved = capture(base)
    model, plan = warm_model(base)
    counts = restore(model, saved, vocabulary_plan=plan, label_plan=None)
    state = capture(model)
    for slot in ("momentum", "velocity"):
        key = f"embedding/0/embeddings:{slot}"
        old, now = saved[key], state[key]
        for j, token in enumerate(NEW):
            if token in BASE:
                np.testing.assert_array_equal(now[j], old[BASE.index(token)])
            else:
                assert not now[j].any(), token
        assert old[BASE.index("w13")].any()  # the check above compared real moments
    head_keys = [k for k in saved if k.startswith(("conv/", "hidden/", "logit/"))]
    assert len(head_keys) == 12
    for key in head_keys:
        np.testing.assert_array_equal(state[key], saved[key])
    assert int(state[ITERATIONS]) == int(saved[ITERATIONS]) == 8
    assert counts == {"vocabulary": 2, "labels": 4, "head": 8, "restarted": 0}


def test_output_moments_follow_the_label_remap_by_class():
    base = trained_base(num_classes=3)
    saved = capture(base)
    plan_labels = RemapPlan.from_diff(diff_tokens(["a", "b", "c"], ["c", "a", "d", "b"]))
    head = head_of(base)
    from warmstart.modeling.output_layer import head_for_classes

    kernel = np.zeros((5, 4), "float32")
    head4 = head_for_classes(head, 4, kernel, np.zeros(4, "float32"))
    model, plan = warm_model(base, head=head4, num_classes=4)
    restore(model, saved, vocabulary_plan=plan, label_plan=plan_labels)
    state = capture(model)
    old, now = saved["logit/0/kernel:momentum"], state["logit/0/kernel:momentum"]
    np.testing.assert_array_equal(now[:, [0, 1, 3]], old[:, [2, 0, 1]])  # c, a, b
    assert not now[:, 2].any()  # d is new


def test_a_state_from_another_architecture_is_refused_with_the_fix():
    base = trained_base()
    saved = {k: v for k, v in capture(base).items() if not k.startswith("conv/0/")}
    model, plan = warm_model(base)
    with pytest.raises(RemapError, match=r"warmstart\.optimizer_state=false"):
        restore(model, saved, vocabulary_plan=plan, label_plan=None)


def test_an_uncompiled_model_has_no_state():
    assert capture(build_model(vocab_size=5, sequence_length=4, model_cfg=CFG)) is None
