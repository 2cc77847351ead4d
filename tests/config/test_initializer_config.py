"""`warmstart/initializer`: one group option per initializer, typed by its own schema.

`warmstart/initializer=subword warmstart.initializer.neighbours=8` picks an initializer and
sets its option; an option it does not have is refused while Hydra composes, a bad value by
the core object when the config is validated (one line naming the key). The spelling from
before the group still works for one release, with a warning naming the new one.
"""

from __future__ import annotations

import re

import pytest
from compose import compose_config
from hydra.errors import ConfigCompositionException

from warmstart.config import CONFIG_DIR, validate
from warmstart.config.initializer import initializer_of, modern_overrides
from warmstart.config.initializer_schema import INITIALIZER_SCHEMAS
from warmstart.core.errors import ConfigError
from warmstart.core.initializer_options import INITIALIZERS
from warmstart.core.initializers import Constant, Normal, Pretrained, Subword, Uniform, Zeros


def initializer(*overrides: str):
    cfg = compose_config(*overrides)
    validate(cfg)
    return initializer_of(cfg.warmstart)


def test_each_initializer_has_a_conf_file_and_a_schema_and_composes_to_its_defaults(tmp_path):
    files = {p.stem for p in (CONFIG_DIR / "warmstart" / "initializer").glob("*.yaml")}
    assert files == set(INITIALIZERS) == {n.removesuffix("_schema") for n in INITIALIZER_SCHEMAS}
    for name in sorted(files - {"constant", "pretrained"}):  # those two need a value, a file
        assert initializer(f"warmstart/initializer={name}") == INITIALIZERS[name](), name
    assert initializer() == Uniform()
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("great 1 2\n", encoding="utf-8")
    path = f"warmstart.initializer.path={vectors}"
    assert initializer("warmstart/initializer=pretrained", path) == Pretrained(path=str(vectors))
    assert initializer(
        "warmstart/initializer=constant", "warmstart.initializer.value=0.01"
    ) == Constant(value=0.01)


def test_options_typed_on_the_command_line_reach_the_initializer():
    assert initializer("warmstart/initializer=normal", "warmstart.initializer.stddev=0.2") == (
        Normal(stddev=0.2)
    )
    assert initializer(
        "warmstart/initializer=subword",
        "warmstart.initializer.neighbours=8",
        "warmstart.initializer.fallback=zeros",
    ) == Subword(neighbours=8, fallback=Zeros())
    assert initializer(
        "warmstart/initializer=subword",
        "warmstart.initializer.fallback=constant",
        "+warmstart.initializer.fallback_options.value=0.5",
    ) == Subword(fallback=Constant(value=0.5))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("warmstart/initializer=uniform", "warmstart.initializer.neighbours=8"),
         r"Key 'neighbours' not in 'UniformSchema'"),
        (("warmstart/initializer=normal", "warmstart.initializer.stdev=0.1"),
         r"Key 'stdev' not in 'NormalSchema'"),
        (("warmstart/initializer=constant", "warmstart.initializer.value=abc"),
         r"Value 'abc' of type 'str' could not be converted to Float"),
        (("warmstart/initializer=subword", "warmstart.initializer.fallback=subword"),
         r"Invalid value 'subword', expected one of \[uniform, normal, zeros, mean, mean_cov"),
        (("warmstart.label_initializer=mean_cov",),
         r"Invalid value 'mean_cov', expected one of \[zeros, uniform, normal, mean\]"),
        (("warmstart/initializer=glorot",), r"Could not find 'warmstart/initializer/glorot'"),
    ],
)  # fmt: skip
def test_an_option_or_name_the_initializer_does_not_have_fails_at_composition(overrides, message):
    with pytest.raises(ConfigCompositionException) as caught:
        compose_config(*overrides)
    said = f"{caught.value} {caught.value.__cause__ or ''}"  # Hydra's line, OmegaConf's reason
    assert re.search(message, said), said


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("warmstart/initializer=constant",), r"needs exactly one of value=<number>"),
        (("warmstart/initializer=normal", "warmstart.initializer.stddev=-1"),
         r"option stddev=-1.0 must be >= 0"),
        (("warmstart/initializer=uniform", "warmstart.initializer.minval=1"),
         r"needs minval < maxval"),
        (("warmstart/initializer=subword", "warmstart.initializer.min_n=0"),
         r"min_n=0 must be a whole number >= 1"),
        (("warmstart/initializer=subword", "+warmstart.initializer.fallback_options.minval=1"),
         r"uniform initializer needs minval < maxval, got minval=1"),
        (("warmstart/initializer=pretrained",), r"warmstart\.initializer\.path is missing"),
        (("warmstart/initializer=pretrained", "warmstart.initializer.path=no.txt"),
         r"warmstart\.initializer\.path='no\.txt'.*not a file"),
    ],
)  # fmt: skip
def test_bad_values_fail_validation_in_one_line_naming_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message) as caught:
        validate(compose_config(*overrides))
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("warmstart.initializer")


def test_a_name_where_the_settings_belong_names_the_group():
    """What a preset written in the old spelling (`warmstart: {initializer: subword}`) makes."""
    with pytest.raises(ConfigError, match=r"pick one with warmstart/initializer=NAME.*override"):
        initializer_of({"initializer": "subword"})


OLD_AND_NEW = [
    (["warmstart.initializer=subword", "+warmstart.initializer_options.neighbours=8"],
     ["warmstart/initializer=subword", "warmstart.initializer.neighbours=8"]),
    (["warmstart.initializer=constant", "warmstart.initializer_options.value=0.01"],
     ["warmstart/initializer=constant", "warmstart.initializer.value=0.01"]),
    (["warmstart.initializer=pretrained", "warmstart.pretrained_path=v.txt",
      "warmstart.pretrained_vocabulary=v.vocab", "warmstart.fallback=zeros"],
     ["warmstart/initializer=pretrained", "warmstart.initializer.path=v.txt",
      "warmstart.initializer.vocabulary=v.vocab", "warmstart.initializer.fallback=zeros"]),
    (["-m", "warmstart.initializer=uniform,zeros", "seed=1,2"],
     ["-m", "warmstart/initializer=uniform,zeros", "seed=1,2"]),
    (["warmstart.initializer=normal", "warmstart.initializer_options.mean=null"],
     ["warmstart/initializer=normal"]),
    # Settings the chosen initializer never read were ignored, and still are.
    (["warmstart.fallback=zeros", "warmstart.pretrained_path=x.txt", "seed=3"], ["seed=3"]),
    (["warmstart.initializer=subword", "warmstart.pretrained_path=x.txt"],
     ["warmstart/initializer=subword"]),
    # The fallback's options, a mapping that takes new keys.
    (["warmstart.initializer=subword", "warmstart.fallback=constant",
      "+warmstart.initializer_options.fallback_options={value: 0.5}"],
     ["warmstart/initializer=subword", "warmstart.initializer.fallback=constant",
      "++warmstart.initializer.fallback_options={value: 0.5}"]),
    # A preset that may pick another initializer: passed on, for Hydra to judge.
    (["experiment=init_sweep", "warmstart.fallback=zeros"],
     ["experiment=init_sweep", "warmstart.initializer.fallback=zeros"]),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new"), OLD_AND_NEW)
def test_the_old_spelling_is_rewritten_with_one_warning_naming_the_new(old, new):
    modern, warnings = modern_overrides(old)
    assert modern == new
    (warning,) = warnings
    assert "is the old spelling, read until the next release" in warning and "\n" not in warning
    assert all(m in warning for m in new if m not in old)


def test_todays_spelling_and_other_arguments_pass_untouched():
    today = ["--cfg", "job", "warmstart/initializer=subword", "warmstart.initializer.min_n=2",
             "+warmstart.initializer.fallback_options.stddev=1", "seed=3"]  # fmt: skip
    assert modern_overrides(today) == (today, [])
    with pytest.raises(ConfigError, match=r"set one by one now; write warmstart/initializer="):
        modern_overrides(["warmstart.initializer_options={stddev: 0.1}"])


def test_the_old_spelling_composes_the_same_config_and_says_so(capsys):
    old = compose_config("warmstart.initializer=subword", "warmstart.fallback=zeros",
                         "+warmstart.initializer_options.neighbours=8")  # fmt: skip
    stderr = capsys.readouterr().err
    assert stderr.startswith("deprecated: ") and stderr.count("\n") == 1
    assert "write warmstart/initializer=subword warmstart.initializer.fallback=zeros" in stderr
    new = compose_config("warmstart/initializer=subword", "warmstart.initializer.fallback=zeros",
                         "warmstart.initializer.neighbours=8")  # fmt: skip
    assert old == new and capsys.readouterr().err == ""
    assert initializer_of(old.warmstart) == Subword(neighbours=8, fallback=Zeros())
    fallback = compose_config("warmstart.initializer=pretrained", "warmstart.fallback=constant",
                              "+warmstart.initializer_options.fallback_options={value: 0.5}",
                              "warmstart.pretrained_path=v.txt")  # fmt: skip
    assert initializer_of(fallback.warmstart) == Pretrained(
        path="v.txt", fallback=Constant(value=0.5)
    )
    # The uniform initializer never read the pretrained file: still accepted, still unread.
    validate(compose_config("warmstart.fallback=pretrained", "warmstart.pretrained_path=no.txt"))
