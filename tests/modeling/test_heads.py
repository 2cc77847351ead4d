"""Every model family builds, trains, saves its head alone and loads it back safely; a head
refuses token vectors or a sequence length it was not trained for (real Keras models)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from compose import compose_config

from warmstart.config import validate
from warmstart.config.choices import MODEL_FAMILIES
from warmstart.core.errors import ConfigError, ModelFileError, RemapError
from warmstart.modeling.heads import PRE_FAMILIES, check_same_family, family_of, head_positions
from warmstart.modeling.layers import Head
from warmstart.modeling.model import (
    EMBEDDING_LAYER,
    assemble,
    build_model,
    compile_model,
    embedding_matrix_of,
    head_of,
    load_model,
    masks_padding,
    model_family,
)

SMALL = ("model.embedding_dim=8", "model.hidden_units=8")


def family_cfg(family: str, *extra: str) -> dict:
    """The family's real config from conf/model/, made small."""
    return dict(compose_config(f"model={family}", *SMALL, *extra).model)


def toy_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, 60, (96, 12))
    ids[:, 9:] = 0  # padding
    return ids, (ids[:, 0] > 30).astype("float32")


@pytest.mark.parametrize("family", MODEL_FAMILIES)
def test_each_family_trains_and_its_saved_head_rebuilds_the_same_model(family, tmp_path):
    keras.utils.set_random_seed(1)
    ids, labels = toy_data()
    cfg = family_cfg(family)
    model = build_model(vocab_size=60, sequence_length=12, model_cfg=cfg)
    compile_model(model, 0.01)
    model.fit(ids, labels, epochs=2, batch_size=32, verbose=0)
    assert model_family(model) == family and isinstance(head_of(model), Head)
    head_of(model).save(tmp_path / "head.keras")
    head = load_model(str(tmp_path / "head.keras"))  # safe_mode: no Lambda, no pickle
    again = assemble(head, embedding_matrix_of(model), sequence_length=12, family=family,
                     mask_padding=masks_padding(model))  # fmt: skip
    np.testing.assert_allclose(again.predict(ids, verbose=0), model.predict(ids, verbose=0),
                               atol=1e-5)  # fmt: skip


def _with_padding_row(model: keras.Model, value: float) -> keras.Model:
    layer = model.get_layer(EMBEDDING_LAYER)
    matrix = layer.get_weights()[0]
    matrix[0] = value  # the padding row
    layer.set_weights([matrix])
    return model


@pytest.mark.parametrize("family", MODEL_FAMILIES)
def test_every_family_leaves_padding_out_of_what_it_reads(family):
    """Pooled averages, maxima, attention and convolution windows: the padding row never
    changes a prediction (model.mask_padding, the default)."""
    keras.utils.set_random_seed(2)
    ids, _ = toy_data()
    model = build_model(vocab_size=60, sequence_length=12, model_cfg=family_cfg(family))
    assert masks_padding(model)
    before = model.predict(ids, verbose=0)
    after = _with_padding_row(model, 7.0).predict(ids, verbose=0)
    np.testing.assert_allclose(after, before, atol=1e-5)


def test_the_seed_tutorial_model_averages_padding_in_as_the_tutorial_did():
    keras.utils.set_random_seed(2)
    ids, _ = toy_data()
    cfg = family_cfg("tutorial", "model.mask_padding=false")
    model = build_model(vocab_size=60, sequence_length=12, model_cfg=cfg)
    before = model.predict(ids, verbose=0)
    after = _with_padding_row(model, 7.0).predict(ids, verbose=0)
    assert not masks_padding(model) and np.abs(after - before).max() > 1e-3


def test_gru_swaps_the_recurrent_cell():
    model = build_model(vocab_size=20, sequence_length=6,
                        model_cfg=family_cfg("bilstm", "model.rnn=gru"))  # fmt: skip
    rnn = head_of(model).get_layer("rnn")
    assert isinstance(rnn.forward_layer, keras.layers.GRU)


def test_a_head_refuses_another_embedding_dimension():
    model = build_model(vocab_size=30, sequence_length=12, model_cfg=family_cfg("cnn"))
    with pytest.raises(RemapError, match=r"set model.embedding_dim=8"):
        build_model(vocab_size=40, sequence_length=12, head=head_of(model),
                    model_cfg=family_cfg("cnn", "model.embedding_dim=16"))  # fmt: skip


def test_a_transformer_head_refuses_another_sequence_length():
    model = build_model(vocab_size=30, sequence_length=12, model_cfg=family_cfg("transformer"))
    assert head_positions(head_of(model)) == 12
    with pytest.raises(RemapError, match=r"set vocab.sequence_length=12"):
        build_model(vocab_size=30, sequence_length=20, head=head_of(model),
                    model_cfg=family_cfg("transformer"))  # fmt: skip


def test_a_warm_start_across_families_is_refused_with_the_fix():
    with pytest.raises(RemapError, match=r"set model=cnn to warm-start from it"):
        check_same_family("cnn", family_cfg("transformer"), "models:/m/1")
    check_same_family("tutorial", {"embedding_dim": 16, "hidden_units": 16}, "old config")


def test_family_settings_are_checked_before_training():
    """Sizes out of range fail validation (a wrong `model.rnn` fails at composition)."""
    cases = (("cnn", "model.kernel_size=0", "model.kernel_size"),
             ("transformer", "model.dropout=1.0", "model.dropout"))  # fmt: skip
    for family, bad, fix in cases:
        with pytest.raises(ConfigError, match=fix):
            validate(compose_config(f"model={family}", bad))


@pytest.mark.parametrize(("classes", "units"), [(2, 16), (4, 16), (20, 80), (40, 128)])
def test_auto_hidden_units_grow_with_the_classes(classes, units):
    """16 units before 20 logits is a bottleneck; two classes keep the tutorial's 16."""
    cfg = family_cfg("tutorial", "model.hidden_units=auto")
    model = build_model(vocab_size=30, sequence_length=6, model_cfg=cfg, num_classes=classes)
    assert head_of(model).get_layer("hidden").units == units


def test_a_config_or_model_from_before_families_is_the_tutorials():
    """Logged configs and registered models from before families name none: the tutorial's
    model was the only one, so they still build and publish as it."""
    old_cfg = {"embedding_dim": 8, "hidden_units": 8}
    assert family_of(old_cfg) == PRE_FAMILIES == "tutorial"
    model = build_model(vocab_size=20, sequence_length=6, model_cfg=old_cfg)
    assert model_family(model) == "tutorial"
    old = keras.Model(model.inputs, model.outputs, name="text_classifier")  # the old name
    assert model_family(old) == "tutorial"


def test_an_unknown_family_is_refused_never_taken_for_the_tutorials():
    with pytest.raises(ConfigError, match=r"model.family='rnn' .*set model=tutorial, model=cnn"):
        build_model(vocab_size=20, sequence_length=6,
                    model_cfg={**family_cfg("tutorial"), "family": "rnn"})  # fmt: skip
    with pytest.raises(ConfigError, match=r"model.family='rnn'"):
        check_same_family("tutorial", {"family": "rnn"}, "models:/m/1")
    model = build_model(vocab_size=20, sequence_length=6, model_cfg=family_cfg("tutorial"))
    for name in ("rnn_text_classifier", "sequential"):
        renamed = keras.Model(model.inputs, model.outputs, name=name)
        with pytest.raises(ModelFileError, match=r"build it with modeling.model.build_model"):
            model_family(renamed)
