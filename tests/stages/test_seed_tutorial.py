"""`experiment=seed_tutorial` on real IMDB keeps the tutorial's own numbers.

The new defaults (masked padding, auto sizes, early stopping) must not leak into the seed: its
model is the tutorial's unmasked dimension-16 one, trained 15 fixed epochs at batch 1024, so
the figures stay comparable with the tutorial's (shared/data/README.md: base 0.796 after 15
epochs with the tutorial's own code; this project reads accuracy at p = 0.5). Untracked (the
stages' own data, model, remap and optimizer-state code), so it costs training time only.
"""

from __future__ import annotations

import keras
import pytest
from compose import compose_config

from warmstart.config import with_overlay
from warmstart.core.remap import remap_embeddings
from warmstart.modeling import optimizer_state
from warmstart.modeling.fit import fit
from warmstart.modeling.model import build_model, embedding_matrix_of, head_of, masks_padding
from warmstart.modeling.prepare import prepare_data

pytestmark = [pytest.mark.imdb, pytest.mark.slow]


def test_the_seed_tutorial_learns_as_the_tutorial_and_warm_resumes_where_base_left_off(
    imdb_archive, tmp_path
):
    cfg = compose_config("experiment=seed_tutorial", f"data.path={imdb_archive}",
                         cache_dir=tmp_path)  # fmt: skip
    base_cfg = with_overlay(cfg, "base")
    old = prepare_data(base_cfg.data, base_cfg.vocab, int(cfg.seed))
    assert (len(old.vocabulary), old.sequence_length) == (10_000, 100)
    keras.utils.set_random_seed(int(cfg.seed))
    base = build_model(vocab_size=10_000, sequence_length=100, model_cfg=cfg.model)
    assert not masks_padding(base) and embedding_matrix_of(base).shape[1] == 16
    trained = fit(base, train=old.train, val=old.val, test=None, train_cfg=base_cfg.train)
    assert len(trained.epoch_seconds) == 15 and trained.batch_size == 1024  # no early stop
    base_final = trained.history["val_accuracy"][-1]
    assert base_final >= 0.82

    new = prepare_data(cfg.data, cfg.vocab, int(cfg.seed))
    assert len(new.vocabulary) == 10_200
    remapped = remap_embeddings(old.vocabulary, new.vocabulary, embedding_matrix_of(base),
                                initializer="uniform", seed=int(cfg.seed))  # fmt: skip
    warm = build_model(vocab_size=10_200, sequence_length=100, model_cfg=cfg.model,
                       embedding_matrix=remapped.matrix, head=head_of(base))  # fmt: skip
    saved = optimizer_state.capture(base)

    def restore(model: keras.Model) -> None:
        optimizer_state.restore(model, saved, vocabulary_plan=remapped.report.plan,
                                label_plan=None)  # fmt: skip

    one_epoch = {**cfg.train, "epochs": 1}
    keras.utils.set_random_seed(int(cfg.seed))
    first = fit(warm, train=new.train, val=new.val, test=None, train_cfg=one_epoch,
                on_compiled=restore)  # fmt: skip
    assert first.history["val_accuracy"][0] >= base_final - 0.01
