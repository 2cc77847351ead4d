"""One check per group for what a type cannot say; each failure names the key and the fix.

A wrong name from a closed set fails earlier, at composition (tests/config/test_schema.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from compose import compose_config
from hydra.errors import ConfigCompositionException
from mlflow.tracking import MlflowClient

from warmstart.config import PROJECT_ROOT, validate
from warmstart.config.time_bounds import TIME_FORMS
from warmstart.config.validation import check_data, check_update
from warmstart.core.errors import ConfigError

PRESETS = sorted(p.stem for p in (PROJECT_ROOT / "conf" / "experiment").glob("*.yaml"))
PRETRAINED = ("warmstart/initializer=pretrained",)
# A table that does not exist: time settings are checked before any data is read.
TIMED = ("data=files", "data.path=nowhere.csv", "data.time_column=created")
# Bounds that were read as a guessed date (`March` as the year 1, `01/03/2024` as 3 January).
NOT_TIMES = [
    ("data.since", "March"),
    ("data.until", "Mar"),
    ("data.since", "01/03/2024"),
    ("base.data.until", "March"),
    ("base.data.since", "now"),
]

# (overrides, the key the message names, what it says)
RULES = [
    (("seed=-1",), "seed=-1", "must be an integer >= 0"),
    (("data.validation_split=1.0",), "data.validation_split=1.0", "must be in [0, 1)"),
    (("data.validation_split=-0.1",), "data.validation_split=-0.1", "must be in [0, 1)"),
    (("data.split_seed=-1",), "data.split_seed=-1", "must be an integer >= 0"),
    (("data.max_reviews=1",), "data.max_reviews=1", "must be an integer >= 2"),
    (("data.generation=-1",), "data.generation=-1", "must be an integer >= 0"),
    (("data.n_train=1",), "data.n_train=1", "must be an integer >= 2"),
    (("data.n_test=0",), "data.n_test=0", "must be an integer >= 2"),
    (("data.corpus_seed=-3",), "data.corpus_seed=-3", "must be an integer >= 0"),
    (("vocab.max_tokens=0",), "vocab.max_tokens=0", "must be auto or an integer >= 1"),
    (("vocab.sequence_length=0",), "vocab.sequence_length=0", "must be auto or an integer >= 1"),
    (("vocab.max_tokens=lots",), "vocab.max_tokens='lots'", "must be auto or an integer >= 1"),
    (("model.embedding_dim=0",), "model.embedding_dim=0", "must be an integer >= 1"),
    (("model.hidden_units=-4",), "model.hidden_units=-4", "must be auto or an integer >= 1"),
    (("train.epochs=0",), "train.epochs=0", "must be an integer >= 1"),
    (("train.batch_size=-1",), "train.batch_size=-1", "must be auto or an integer >= 1"),
    (("train.learning_rate=0",), "train.learning_rate=0.0", "must be a positive number"),
    (("warmstart.min_overlap=1.5",), "warmstart.min_overlap=1.5", "must be in [0, 1]"),
    (PRETRAINED, "warmstart.initializer.path", "is missing"),
    ((*PRETRAINED, "warmstart.initializer.path=no.txt"), "path='no.txt'", "not a file"),
    (("registry.model_name=' '",), "registry.model_name", "is empty"),
    (("registry.promotion.confidence=1",), "promotion.confidence=1.0", "must be in (0, 1)"),
    (("registry.promotion.margin=-0.01",), "promotion.margin=-0.01", "must be in [0, 1)"),
    (("registry.promotion.resamples=99",), "promotion.resamples=99", "integer >= 100"),
    (("registry.promotion.seed=-1",), "registry.promotion.seed=-1", "integer >= 0"),
    (("tracking.connect_timeout=0",), "tracking.connect_timeout=0.0", "must be a positive number"),
    (("base.train.epochs=0",), "base.train.epochs=0", "must be an integer >= 1"),
    (("base.data.n_train=1",), "base.data.n_train=1", "must be an integer >= 2"),
    (("base.vocab.max_tokens=0",), "base.vocab.max_tokens=0", "must be auto or an integer >= 1"),
    (("data=imdb", "base.data.generation=0"), "`base.data.generation`", "names no setting"),
    *[
        ((*TIMED, f"{key}={bound}"), f"{key}='{bound}'", f"is not a time: use {TIME_FORMS}")
        for key, bound in NOT_TIMES
    ],
    (
        (*TIMED, "data.time_format=%d/%m/%Y", "data.since=March"),
        "data.since='March'",
        "is not a date in data.time_format='%d/%m/%Y', nor ISO 8601",
    ),
    (
        (*TIMED, "data.time_format=dd/mm/yyyy"),
        "data.time_format='dd/mm/yyyy'",
        "is not a strftime format",
    ),
    (
        ("data=files", "data.path=nowhere.csv", "data.time_format=%d/%m/%Y"),
        "data.time_format is set but data.time_column is not",
        "set data.time_column=",
    ),
]


@pytest.mark.parametrize(("overrides", "key", "says"), RULES, ids=[r[1] for r in RULES])
def test_each_rule_fails_with_the_key_and_the_fix(overrides, key, says):
    cfg = compose_config(*overrides)
    with pytest.raises(ConfigError) as raised:
        validate(cfg)
    message = str(raised.value)
    assert key in message and says in message, message
    what, _, fix = message.partition("; ")
    assert "\n" not in message and what and len(fix) > 5, message


def test_pretrained_files_must_exist_and_fallback_must_not_be_itself(tmp_path: Path):
    vectors = tmp_path / "glove.txt"
    vectors.write_text("good 0.1 0.2\n", encoding="utf-8")
    given = (*PRETRAINED, f"warmstart.initializer.path={vectors}")
    validate(compose_config(*given))
    missing_vocab = compose_config(*given, "warmstart.initializer.vocabulary=no.txt")
    with pytest.raises(ConfigError, match=r"warmstart\.initializer\.vocabulary='no\.txt'"):
        validate(missing_vocab)
    # A fallback that is no fallback is a name outside its closed set: refused at composition.
    with pytest.raises(ConfigCompositionException, match=r"initializer\.fallback=pretrained"):
        compose_config(*given, "warmstart.initializer.fallback=pretrained")
    # Without the pretrained initializer its settings are not read, so not checked.
    validate(compose_config("warmstart.fallback=pretrained", "warmstart.pretrained_path=no.txt"))


@pytest.mark.parametrize(
    "bounds",
    [
        ("data.since=2024", "data.until=2025"),
        ("data.since=2024-06", "base.data.until=2024-06-01"),
        ("data.since=2024-06-01T12:00:00", "data.until=2024-06-01T12:00:00+02:00"),
        ("data.since=2024-06-01T12:00:00Z", "data.until=2024-06-01 13:30"),
        ("data.since=7", "data.until=12.5"),
        ("data.time_format=%d/%m/%Y", "data.since=01/03/2024", "base.data.until=2024-03-01"),
    ],
)
def test_iso_8601_numbers_or_the_time_format_are_valid_bounds(bounds):
    validate(compose_config(*TIMED, *bounds))


@pytest.mark.parametrize("preset", [None, *PRESETS])
def test_every_preset_is_valid(preset):
    validate(compose_config(*([f"experiment={preset}"] if preset else [])))


@pytest.mark.parametrize(
    ("key", "value"),
    [("max_reviews", 2.5), ("max_reviews", True), ("n_train", "many"), ("split_seed", 1.5)],
)
def test_data_check_refuses_what_a_plain_dict_can_hold(key, value):
    """Lower layers may run the data check on a dict; fractions and bools are no integers."""
    data = {"name": "synthetic", "generation": 0, "n_train": 4, "n_test": 4, "corpus_seed": 1}
    with pytest.raises(ConfigError, match=rf"data\.{key}={value!r} must be an integer"):
        check_data({**data, key: value})
    check_data(data)  # the reader's defaults (validation_split, split_seed, ...) may be unset


@pytest.mark.parametrize(
    ("check", "group", "says"),
    [
        (
            check_data,
            {"name": "mnist"},
            "data.name='mnist' is unknown; use data=synthetic, imdb, files, folder",
        ),
        (
            check_data,
            {"name": "files", "path": "t.csv", "format": "xlsx"},
            "data.format='xlsx' is unknown; use csv, tsv, parquet, jsonl",
        ),
        (
            check_update,
            {"steps": 1, "period": "H"},
            "update.period='H' is unknown; use null (each distinct time) or Y, Q, M, W, D",
        ),
    ],
)
def test_a_plain_mappings_names_are_checked_against_the_same_enums(check, group, says):
    """The data layer reads these names from plain dicts, which no composition checked."""
    with pytest.raises(ConfigError) as raised:
        check(group)
    assert str(raised.value) == says


@pytest.mark.slow
def test_a_bad_value_fails_its_run_and_a_wrong_type_fails_before_any_run(tmp_path: Path):
    """A bad value (validation) ends the stage's run FAILED with the one error line as its
    tag and exit 1; a wrong type (Hydra) stops the stage before a store or a run exists, with
    exit 2 (a usage error). No traceback either way; both stages start at once."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = {}
    for case, epochs in (("value", "0"), ("type", "")):
        store = tmp_path / case / "mlflow.db"
        cmd = [sys.executable, "-m", "warmstart.stages.train_base", f"train.epochs={epochs}"]
        cmd += [f"tracking.uri=sqlite:///{store}", f"hydra.run.dir={tmp_path / case / 'out'}"]
        started[case] = (store, subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True))
    done = {case: (store, p.communicate(timeout=300)[1]) for case, (store, p) in started.items()}
    for case, (_, stderr) in done.items():
        code = {"value": 1, "type": 2}[case]
        assert started[case][1].returncode == code and "Traceback" not in stderr, stderr

    store, stderr = done["value"]
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: train.epochs=0 must be an integer >= 1; fix train.epochs"]
    (run,) = MlflowClient(f"sqlite:///{store}").search_runs(
        [e.experiment_id for e in MlflowClient(f"sqlite:///{store}").search_experiments()]
    )
    assert run.info.status == "FAILED" and run.data.params["train.epochs"] == "0"
    assert "train.epochs=0 must be an integer >= 1" in run.data.tags["warmstart.error"]

    store, stderr = done["type"]
    assert not store.exists()
    assert stderr.splitlines() == [
        "error: bad value in train.epochs= (Value '' of type 'str' could not be converted to "
        "Integer); give train.epochs a whole number (now train.epochs=20)"
    ]
