"""The model's two parts: a text input whose embedding can be swapped, and a reusable head."""

from __future__ import annotations

import numpy as np
import pytest

from warmstart.core.errors import RemapError
from warmstart.modeling.model import build_model, embedding_matrix_of, head_of, load_model

MODEL = {"embedding_dim": 16, "hidden_units": 16}


def test_tutorial_architecture_outputs_one_logit_per_review():
    model = build_model(vocab_size=100, sequence_length=10, model_cfg=MODEL)
    assert [layer.name for layer in model.layers] == ["token_ids", "embedding", "head"]
    assert [layer.name for layer in head_of(model).layers] == ["pool", "hidden", "logit"]
    assert model.predict(np.zeros((3, 10), "int64"), verbose=0).shape == (3, 1)


def test_the_input_reads_int32_ids_and_int64_ids_give_the_same_logits():
    model = build_model(vocab_size=100, sequence_length=10, model_cfg=MODEL)
    assert model.inputs[0].dtype == "int32"
    ids = np.random.default_rng(0).integers(0, 100, (4, 10))
    np.testing.assert_array_equal(
        model.predict(ids.astype("int32"), verbose=0), model.predict(ids, verbose=0)
    )


def test_embedding_is_set_after_build_and_head_is_reused_unchanged(tmp_path):
    base = build_model(vocab_size=100, sequence_length=10, model_cfg=MODEL)
    base.save(tmp_path / "m.keras")
    head = head_of(load_model(str(tmp_path / "m.keras")))
    matrix = np.random.default_rng(0).normal(size=(120, 16)).astype("float32")
    warm = build_model(
        vocab_size=120, sequence_length=10, model_cfg=MODEL, embedding_matrix=matrix, head=head
    )
    np.testing.assert_array_equal(embedding_matrix_of(warm), matrix)
    for old, new in zip(head_of(base).get_weights(), head_of(warm).get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_matrix_rows_must_match_the_vocabulary():
    with pytest.raises(RemapError, match="remap the matrix"):
        build_model(
            vocab_size=10,
            sequence_length=4,
            model_cfg=MODEL,
            embedding_matrix=np.zeros((9, 16), "float32"),
        )


def test_embedding_dimension_must_fit_the_head():
    base = build_model(vocab_size=10, sequence_length=4, model_cfg=MODEL)
    with pytest.raises(RemapError, match="expects 16-dimensional"):
        build_model(
            vocab_size=10,
            sequence_length=4,
            model_cfg=MODEL,
            embedding_matrix=np.zeros((10, 8), "float32"),
            head=head_of(base),
        )
