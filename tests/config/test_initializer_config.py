"""`warmstart.initializer_options`: composed from the command line, checked before training.

Each option's name, type and value is checked by the core initializer it belongs to; the
config check runs that same check and names the config key, in one line.
"""

from __future__ import annotations

import pytest
from compose import compose_config
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from warmstart.config import validate
from warmstart.core.errors import ConfigError
from warmstart.stages.warm_start import initializer_options


def options_of(*overrides: str) -> dict:
    cfg = compose_config(*overrides)
    validate(cfg)
    return initializer_options(OmegaConf.to_container(cfg.warmstart, resolve=True))


def test_options_typed_on_the_command_line_reach_the_initializer():
    assert options_of("warmstart.initializer=uniform") == {}
    assert options_of(
        "warmstart.initializer=constant", "warmstart.initializer_options.value=0.01"
    ) == {"value": 0.01}
    assert options_of(
        "warmstart.initializer=normal", "warmstart.initializer_options.stddev=0.2"
    ) == {"stddev": 0.2}
    assert options_of(
        "warmstart.initializer=subword",
        "warmstart.initializer_options.max_n=5",
        "warmstart.fallback=zeros",
    ) == {"fallback": "zeros", "max_n": 5}
    # A key no yaml lists is added with Hydra's +, and still checked by the initializer.
    assert options_of(
        "warmstart.initializer=subword",
        "+warmstart.initializer_options.fallback_options={value: 0.5}",
        "warmstart.fallback=constant",
    ) == {"fallback": "constant", "fallback_options": {"value": 0.5}}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("warmstart.initializer=constant",), r"needs exactly one of value=<number>"),
        (
            ("warmstart.initializer=constant", "warmstart.initializer_options.value=abc"),
            r"option value='abc' must be a finite number",
        ),
        (
            ("warmstart.initializer=uniform", "warmstart.initializer_options.stddev=0.1"),
            r"'uniform' got unknown option\(s\) stddev; its options are: maxval, minval",
        ),
        (
            ("warmstart.initializer=normal", "warmstart.initializer_options.stddev=-1"),
            r"stddev=-1 must be >= 0",
        ),
        (
            ("warmstart.initializer=uniform", "warmstart.initializer_options.minval=1"),
            r"needs minval < maxval",
        ),
        (
            ("warmstart.initializer=subword", "warmstart.initializer_options.min_n=0"),
            r"min_n=0 must be a whole number >= 1",
        ),
        (
            ("warmstart.initializer=subword", "warmstart.fallback=subword"),
            r"warmstart\.fallback='subword' is unknown; use uniform, normal, zeros",
        ),
    ],
)
def test_bad_options_fail_validation_in_one_line_naming_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message) as caught:
        validate(compose_config(*overrides))
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("warmstart.")


def test_a_misspelt_listed_option_is_refused_at_composition():
    with pytest.raises(ConfigCompositionException, match=r"initializer_options\.stdev"):
        compose_config("warmstart.initializer_options.stdev=0.1")
