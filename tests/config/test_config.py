"""The composed config: presets, absolute paths, the base overlay, secret-safe flattening."""

from __future__ import annotations

import pytest
from compose import compose_config
from omegaconf import OmegaConf

from warmstart.config import PROJECT_ROOT, flatten, redact, to_yaml, with_overlay
from warmstart.core.errors import ConfigError


def test_default_is_the_embedded_corpus_with_a_drift_between_base_and_update():
    cfg = compose_config()
    assert cfg.data.name == "synthetic"
    base = with_overlay(cfg, "base")
    assert base.data.generation == 0 and cfg.data.generation == 1
    # Each stage learns its vocabulary and sequence length from its own training rows.
    assert base.vocab.max_tokens == cfg.vocab.max_tokens == "auto"
    assert base.vocab.sequence_length == cfg.vocab.sequence_length == "auto"


def test_defaults_learn_on_small_tables_and_the_seed_tutorial_keeps_the_tutorials_settings():
    train = compose_config("data=files", "data.path=t.csv").train
    assert train.batch_size == "auto" and train.learning_rate == 0.005
    assert train.early_stopping.enabled and train.early_stopping.monitor == "val_loss"
    assert compose_config("data=files", "data.path=t.csv").model.mask_padding
    tutorial = compose_config("experiment=seed_tutorial")
    assert (tutorial.train.epochs, tutorial.train.batch_size) == (15, 1024)
    assert tutorial.train.learning_rate == 0.001 and not tutorial.train.early_stopping.enabled
    assert tutorial.model.embedding_dim == tutorial.model.hidden_units == 16
    assert not tutorial.model.mask_padding
    assert (tutorial.vocab.max_tokens, tutorial.vocab.sequence_length) == (10200, 100)
    assert with_overlay(tutorial, "base").vocab.max_tokens == 10000


def test_default_store_is_an_absolute_sqlite_uri_at_the_project_root():
    cfg = compose_config()
    assert cfg.tracking.uri == f"sqlite:///{PROJECT_ROOT}/mlflow.db"
    assert cfg.paths.cache_dir.startswith(str(PROJECT_ROOT))


def test_seed_tutorial_preset_is_the_tutorial():
    cfg = compose_config("experiment=seed_tutorial")
    base = with_overlay(cfg, "base")
    assert cfg.data.name == "imdb"
    assert (base.vocab.max_tokens, cfg.vocab.max_tokens) == (10000, 10200)
    assert (cfg.train.epochs, cfg.train.batch_size, cfg.data.validation_split) == (15, 1024, 0.2)
    assert cfg.model.embedding_dim == 16 and cfg.warmstart.initializer.name == "uniform"


def test_drift_preset_trains_base_on_older_smaller_data_and_vocabulary():
    cfg = compose_config("experiment=drift")
    base = with_overlay(cfg, "base")
    assert base.data.generation < cfg.data.generation
    assert base.data.n_train < cfg.data.n_train
    assert base.vocab.max_tokens < cfg.vocab.max_tokens


def test_overlay_with_an_unknown_key_is_an_error_naming_the_key():
    cfg = compose_config("+base.vocab.max_tokenz=5")
    with pytest.raises(ConfigError, match=r"base\.vocab\.max_tokenz"):
        with_overlay(cfg, "base")


def test_flatten_gives_dotted_keys_and_no_hydra_node():
    flat = flatten(compose_config())
    assert flat["train.epochs"] == 20
    assert flat["train.early_stopping.patience"] == 2
    assert flat["vocab.max_tokens"] == "auto"
    assert not any(key.startswith("hydra") for key in flat)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("tracking.uri", "http://alice:s3cret@host:5000", "http://***@host:5000"),
        ("db.password", "hunter2", "***"),
        ("auth.api_key", "abc", "***"),
        ("service.token", "t0k", "***"),
        ("s3.aws_secret", "x", "***"),
        ("data.path", "/data/aclImdb", "/data/aclImdb"),
        ("vocab.max_tokens", 10200, 10200),
    ],
)
def test_secrets_are_redacted(key, value, expected):
    assert redact(key, value) == expected


def test_yaml_artifact_never_holds_a_credential():
    cfg = compose_config("tracking.uri=http://bob:pa55word@127.0.0.1:5000")
    text = to_yaml(cfg)
    assert "pa55word" not in text and "***@127.0.0.1" in text
    assert OmegaConf.create(text).train.epochs == 20


@pytest.mark.parametrize(
    ("preset", "swept"),
    [("init_sweep", "warmstart/initializer"), ("growth_sweep", "vocab.max_tokens")],
)
def test_sweep_presets_sweep_their_question_across_seeds(preset, swept):
    from hydra import compose, initialize_config_dir

    from warmstart.config import CONFIG_DIR

    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("config", overrides=[f"experiment={preset}"], return_hydra_config=True)
    params = cfg.hydra.sweeper.params
    assert len(str(params[swept]).split(",")) >= 4
    assert len(str(params["seed"]).split(",")) >= 3
    assert cfg.data.name == "synthetic"
