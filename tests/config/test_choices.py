"""Names from a closed set are enum members in the composed config, yet read, compare, print
and get logged as the plain names conf/ writes."""

from __future__ import annotations

import json
from enum import StrEnum

import mlflow
import pytest
from compose import compose_config
from mlflow.tracking import MlflowClient

from warmstart.config import choices, flatten, to_container, to_yaml
from warmstart.config.reference import render

ENUMS = [e for e in vars(choices).values() if isinstance(e, type) and issubclass(e, StrEnum)]
# A name other than the default for every key typed by an enum, under the options that have it.
NAMES = {
    "data.format": "parquet",
    "model.rnn": "gru",
    "train.strategy": "mirrored",
    "train.early_stopping.monitor": "val_macro_f1",
    "registry.promotion.metric": "macro_f1",
    "registry.promotion.rule": "point",
    "update.period": "M",
    "base.train.strategy": "multi_worker",
}
SET = ("data=files", "data.path=t.csv", "model=bilstm", *(f"{k}={v}" for k, v in NAMES.items()))


def test_every_member_is_named_as_its_value():
    """OmegaConf reads `train.strategy=mirrored` as `Strategy["mirrored"]`: by name."""
    assert len(ENUMS) >= 9
    for enum in ENUMS:
        assert [m.name for m in enum] == [m.value for m in enum], enum


def test_a_composed_name_compares_prints_and_hashes_as_the_plain_string():
    cfg = compose_config(*SET)
    strategy = cfg.train.strategy
    assert strategy is choices.Strategy.mirrored
    assert strategy == "mirrored" and str(strategy) == "mirrored" and f"{strategy}" == "mirrored"
    assert {"mirrored": 1}[strategy] == 1 and json.dumps(strategy) == '"mirrored"'
    assert cfg.data.name == "files" and cfg["update"].period == "M" and cfg.model.rnn == "gru"


def test_flattened_params_and_the_yaml_hold_plain_strings():
    cfg = compose_config(*SET)
    flat = flatten(cfg)
    for key, value in {**NAMES, "data.name": "files", "model.family": "bilstm"}.items():
        assert flat[key] == value and type(flat[key]) is str, (key, flat[key])
    assert type(to_container(cfg)["data"]["name"]) is str
    text = to_yaml(cfg)
    assert "strategy: mirrored" in text and "Strategy" not in text and "period: M" in text


def test_mlflow_params_logged_from_the_config_are_the_plain_names(tracking):
    cfg = compose_config(*SET)
    with mlflow.start_run() as run:
        mlflow.log_params({k: v for k, v in flatten(cfg).items() if v is not None})
    params = MlflowClient().get_run(run.info.run_id).data.params
    assert params["train.strategy"] == "mirrored"
    assert params["base.train.strategy"] == "multi_worker"
    assert params["registry.promotion.rule"] == "point" and params["update.period"] == "M"


# `model.family` is not a row of its own: the page lists each family as an option of `model=`.
@pytest.mark.parametrize(
    "enum", [e for e in ENUMS if e is not choices.ModelFamily], ids=lambda e: e.__name__
)
def test_each_enum_is_listed_with_its_names_on_the_reference_page(enum):
    listed = "one of " + ", ".join(f"`{name}`" for name in enum)
    assert listed in render(), enum
