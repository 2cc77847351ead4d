"""Checks a type cannot express: ranges, names from a fixed set, files that must exist.

The schemas refuse unknown keys and wrong types while Hydra composes the config; the rest is
one check per group here, run once by the stage wrapper before it connects or trains, so a
bad value fails in a second, not after the base model has trained. Every message names the
key and the fix. The checks take plain mappings too, so a lower layer can run them on a dict.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig

from warmstart.config.schema import AUTO, MODEL_FAMILIES
from warmstart.config.views import with_overlay
from warmstart.core.errors import ConfigError, RemapError
from warmstart.core.initializer_options import FALLBACKS, check_options
from warmstart.core.initializers import INITIALIZERS

DATA_SOURCES = ("imdb", "synthetic", "files", "folder")
TABLE_FORMATS = ("csv", "tsv", "parquet", "jsonl")
STRATEGIES = ("default", "mirrored", "multi_worker")
UPDATE_PERIODS = ("Y", "Q", "M", "W", "D")  # calendar periods of a time column's dates
UPDATE_HISTORIES = "window, cumulative or last_<N> (an integer N >= 1; last_1 is window)"
MONITORS = ("val_loss", "val_accuracy", "val_macro_f1")  # train.early_stopping.monitor


def _key(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _value(group: Mapping[str, Any], where: str, key: str, *, optional: bool = False) -> Any:
    """The value of `key`; a missing one is an error unless `optional`."""
    value = group.get(key) if key in group else None
    if value is None and not optional:
        name = _key(where, key)
        raise ConfigError(f"{name} is missing; set it in conf/ or as {name}=…")
    return value


def _integer(
    group: Mapping[str, Any], where: str, key: str, minimum: int, *, optional: bool = False
) -> None:
    """An integer >= `minimum`: bools and fractional numbers are refused."""
    value = _value(group, where, key, optional=optional)
    if value is None:
        return
    try:
        whole = not isinstance(value, bool) and float(value) == int(value) >= minimum
    except (TypeError, ValueError):
        whole = False
    if not whole:
        name = _key(where, key)
        raise ConfigError(f"{name}={value!r} must be an integer >= {minimum}; fix {name}")


def _number(group: Mapping[str, Any], where: str, key: str) -> float | None:
    """The value of `key` as a float, or None when it is not a number (bools are not)."""
    value = _value(group, where, key)
    try:
        return None if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def _fraction(
    group: Mapping[str, Any], where: str, key: str, *, one: bool, optional: bool = False
) -> None:
    """A number in [0, 1], or in [0, 1) where 1 itself makes no sense (`one=False`)."""
    if optional and group.get(key) is None:
        return
    number = _number(group, where, key)
    if number is None or not (0.0 <= number < 1.0 or (one and number == 1.0)):
        name, shown = _key(where, key), "[0, 1]" if one else "[0, 1)"
        raise ConfigError(f"{name}={group[key]!r} must be in {shown}; fix {name}")


def _positive(group: Mapping[str, Any], where: str, key: str) -> None:
    number = _number(group, where, key)
    if number is None or not number > 0:
        name = _key(where, key)
        raise ConfigError(f"{name}={group[key]!r} must be a positive number; fix {name}")


def _one_of(
    group: Mapping[str, Any], where: str, key: str, names: tuple[str, ...], use: str
) -> None:
    value = _value(group, where, key)
    if str(value) not in names:
        raise ConfigError(f"{_key(where, key)}={value!r} is unknown; use {use}")


def _existing_file(group: Mapping[str, Any], where: str, key: str, what: str) -> None:
    value = _value(group, where, key)
    if not Path(str(value)).expanduser().is_file():
        name = _key(where, key)
        raise ConfigError(f"{name}={value!r} is not a file (relative to {Path.cwd()}); {what}")


def check_top(cfg: Mapping[str, Any], where: str = "") -> None:
    """`seed` seeds numpy, which takes no negative seed."""
    _integer(cfg, where, "seed", 0)


def check_data(data: Mapping[str, Any], where: str = "data") -> None:
    """The source, the split and the synthetic corpus's size, as the data reader needs them.

    Keys the reader would default (`validation_split`, `split_seed`, `max_reviews`) may be
    unset; the corpus keys are needed only when the corpus is generated (no `data.path`).
    """
    _one_of(data, where, "name", DATA_SOURCES, "data=imdb, synthetic, files or folder")
    _fraction(data, where, "validation_split", one=False, optional=True)
    _integer(data, where, "split_seed", 0, optional=True)
    _integer(data, where, "max_reviews", 2, optional=True)
    if str(data.get("name")) == "synthetic" and not data.get("path"):
        for key, minimum in (("generation", 0), ("n_train", 2), ("n_test", 2), ("corpus_seed", 0)):
            _integer(data, where, key, minimum)
        _integer(data, where, "num_classes", 2, optional=True)
    if str(data.get("name")) in ("files", "folder"):
        _own_data(data, where)


def _own_data(data: Mapping[str, Any], where: str) -> None:
    """A file or folder to read, a test share, a known format, a window only with a column."""
    if not data.get("path"):
        what = "your table (.csv/.tsv/.parquet/.jsonl)" if data["name"] == "files" else "a folder"
        raise ConfigError(f"{where}.path is missing; set {where}.path=<{what}>")
    _fraction(data, where, "test_fraction", one=False, optional=True)
    if data.get("format") is not None:
        _one_of(data, where, "format", TABLE_FORMATS, ", ".join(TABLE_FORMATS))
    window = [k for k in ("since", "until", "time_format") if data.get(k) is not None]
    if window and not data.get("time_column"):
        raise ConfigError(
            f"{where}.{window[0]} is set but {where}.time_column is not; set "
            f"{where}.time_column=<the column holding each row's time>"
        )
    _time_format(data, where)
    for key in ("since", "until"):
        check_time_bound(data.get(key), _key(where, key), data.get("time_format"))


# ISO 8601 as time bounds and time columns take it: a year, a month, a day, or a day and a time
# of day (after T or a blank), with or without a zone. pandas' "ISO8601" parser alone would
# also take "now", "today" and "" (no time at all), so a value must have this shape first.
ISO_TIME = re.compile(
    r"\d{4}(-\d{2}(-\d{2}([T ]\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?)?)?"
)
TIME_FORMS = (
    "ISO 8601 (2024, 2024-06, 2024-06-01, 2024-06-01T12:00:00, with or without a zone such "
    "as Z or +02:00) or a number"
)
TIME_FORMAT_FIX = "set data.time_format to their strftime format (e.g. data.time_format=%d/%m/%Y)"


def time_number(value: Any) -> float | None:
    """`value` as a finite number (a year, a batch index), or None; bools are not numbers."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def parse_times(values: pd.Series, time_format: str | None = None) -> pd.Series:
    """`values` as UTC timestamps, read with `time_format` or else as ISO 8601; NaT where a
    value is not one (never a guess: `01/03/2024` is no ISO date, whatever it means)."""
    if pd.api.types.is_datetime64_any_dtype(values):  # a typed column (parquet) is no text
        return values.dt.tz_localize("UTC") if values.dt.tz is None else values.dt.tz_convert("UTC")
    text = values.astype("string").str.strip()
    if not time_format:
        text = text.where(text.str.fullmatch(ISO_TIME).fillna(False))
    return pd.to_datetime(text, format=time_format or "ISO8601", utc=True, errors="coerce")


def time_stamp(value: Any, time_format: str | None = None) -> pd.Timestamp | None:
    """A bound as a UTC timestamp: in `time_format` when it is set, else (or failing that) in
    ISO 8601; None when it is neither."""
    if value is None or isinstance(value, bool):
        return None
    for fmt in (time_format, None) if time_format else (None,):
        stamp = parse_times(pd.Series([str(value)], dtype=object), fmt).iloc[0]
        if not pd.isna(stamp):
            return stamp
    return None


def check_time_bound(value: Any, name: str, time_format: str | None) -> None:
    """A time bound must be a number or a date as the time column is read; anything else
    (`March`, `01/03/2024` without a format) would filter by a guessed date, so it is refused."""
    if value is None or time_number(value) is not None or time_stamp(value, time_format):
        return
    if time_format:
        fmt_key = f"{name.rpartition('.')[0] or 'data'}.time_format"
        raise ConfigError(
            f"{name}={value!r} is not a date in {fmt_key}={time_format!r}, nor {TIME_FORMS}; "
            f"fix {name}"
        )
    raise ConfigError(
        f"{name}={value!r} is not a time: use {TIME_FORMS}; for dates written another way, "
        f"{TIME_FORMAT_FIX}"
    )


def _time_format(data: Mapping[str, Any], where: str) -> None:
    """A strftime format that reads back what it writes (`%d/%m/%Y`), not `dd/mm/yyyy`."""
    fmt = data.get("time_format")
    if fmt is None:
        return
    sample = datetime(2024, 6, 1, 12, 30, 45, tzinfo=UTC)
    try:
        fine = isinstance(fmt, str) and "%" in fmt
        fine = fine and bool(datetime.strptime(sample.strftime(fmt), fmt))
    except ValueError:
        fine = False
    if not fine:
        name = _key(where, "time_format")
        raise ConfigError(
            f"{name}={fmt!r} is not a strftime format; set {name} to one such as %d/%m/%Y or "
            f"%m/%d/%Y %H:%M (or null for ISO 8601 dates and numbers)"
        )


def _integer_or_auto(group: Mapping[str, Any], where: str, key: str, minimum: int) -> None:
    """An integer >= `minimum`, or `auto` (worked out from the training rows)."""
    if group.get(key) == AUTO:
        return
    try:
        _integer(group, where, key, minimum)
    except ConfigError:
        name = _key(where, key)
        raise ConfigError(
            f"{name}={group.get(key)!r} must be auto or an integer >= {minimum}; fix {name}"
        ) from None


def check_vocab(vocab: Mapping[str, Any], where: str = "vocab") -> None:
    _integer_or_auto(vocab, where, "max_tokens", 1)
    _integer_or_auto(vocab, where, "sequence_length", 1)


def check_model(model: Mapping[str, Any], where: str = "model") -> None:
    """The shared sizes, then the family's own (`conf/model/<family>.yaml`)."""
    family = str(model.get("family", "tutorial"))
    _one_of(model, where, "family", MODEL_FAMILIES, "model=" + ", model=".join(MODEL_FAMILIES))
    _integer(model, where, "embedding_dim", 1)
    _integer(model, where, "hidden_units", 1)
    if family == "cnn":
        _integer(model, where, "filters", 1)
        _integer(model, where, "kernel_size", 1)
    elif family == "bilstm":
        _one_of(model, where, "rnn", ("lstm", "gru"), "lstm or gru")
        _integer(model, where, "rnn_units", 1)
    elif family == "transformer":
        for key in ("num_heads", "num_blocks", "ff_units"):
            _integer(model, where, key, 1)
        _fraction(model, where, "dropout", one=False)


def check_train(train: Mapping[str, Any], where: str = "train") -> None:
    _integer(train, where, "epochs", 1)
    _integer_or_auto(train, where, "batch_size", 1)
    _positive(train, where, "learning_rate")
    _one_of(train, where, "strategy", STRATEGIES, "default, mirrored or multi_worker")
    stopping = train.get("early_stopping") or {}
    if stopping.get("enabled"):
        inner = _key(where, "early_stopping")
        _one_of(stopping, inner, "monitor", MONITORS, ", ".join(MONITORS))
        _integer(stopping, inner, "patience", 0)
        min_delta = _number(stopping, inner, "min_delta")
        if min_delta is None or min_delta < 0:
            name = _key(inner, "min_delta")
            raise ConfigError(f"{name}={stopping.get('min_delta')!r} must be >= 0; fix {name}")


def check_warmstart(warm: Mapping[str, Any], where: str = "warmstart") -> None:
    """The initializer by name and its options; with `pretrained`, its files; with
    `pretrained` or `subword`, a fallback that needs no tokens."""
    _one_of(warm, where, "initializer", INITIALIZERS, ", ".join(INITIALIZERS))
    if warm.get("label_initializer") is not None:
        plain = ("zeros", "uniform", "normal", "mean")
        _one_of(warm, where, "label_initializer", plain, ", ".join(plain))
    _fraction(warm, where, "min_overlap", one=True)
    if str(warm.get("initializer")) in ("pretrained", "subword"):
        _one_of(warm, where, "fallback", FALLBACKS, ", ".join(FALLBACKS))
    _initializer_options(warm, where)
    if str(warm.get("initializer")) != "pretrained":
        return
    _existing_file(warm, where, "pretrained_path", "give a word2vec/GloVe text file or an .npy")
    if warm.get("pretrained_vocabulary") is not None:
        _existing_file(warm, where, "pretrained_vocabulary", "give the .npy's token list file")


def _initializer_options(warm: Mapping[str, Any], where: str) -> None:
    """`initializer_options` as the core checks them (names, types, values), as one line."""
    options = warm.get("initializer_options")
    name = _key(where, "initializer_options")
    if options is None:
        return
    if not isinstance(options, Mapping):
        raise ConfigError(f"{name}={options!r} must be a mapping; set {name}.KEY=VALUE")
    initializer = str(warm.get("initializer"))
    if initializer in ("pretrained", "subword") and "fallback" not in options:
        options = {"fallback": warm.get("fallback"), **options}
    try:
        check_options(initializer, options)
    except RemapError as exc:
        raise ConfigError(f"{name}: {exc}") from exc


PROMOTION_METRICS = ("auto", "accuracy", "macro_f1")
PROMOTION_RULES = ("non_inferior", "superior", "point")


def check_registry(registry: Mapping[str, Any], where: str = "registry") -> None:
    """An empty name would only fail at registration, after training; so would a bad metric
    or promotion rule."""
    if not str(_value(registry, where, "model_name")).strip():
        raise ConfigError(f"{where}.model_name is empty; set {where}.model_name=NAME")
    promotion = registry.get("promotion")
    if promotion is not None:
        _check_promotion(promotion, f"{where}.promotion")


def _check_promotion(promotion: Mapping[str, Any], inner: str) -> None:
    _one_of(promotion, inner, "metric", PROMOTION_METRICS, ", ".join(PROMOTION_METRICS))
    _one_of(promotion, inner, "rule", PROMOTION_RULES, ", ".join(PROMOTION_RULES))
    number = _number(promotion, inner, "min_delta")
    if number is None or not 0.0 <= number < 1.0:
        raise ConfigError(
            f"{inner}.min_delta={promotion['min_delta']!r} must be in [0, 1); fix "
            f"{inner}.min_delta (0: at least as good as the champion)"
        )
    number = _number(promotion, inner, "confidence")
    if number is None or not 0.0 < number < 1.0:
        raise ConfigError(
            f"{inner}.confidence={promotion['confidence']!r} must be in (0, 1); fix "
            f"{inner}.confidence (0.95: a 95% interval)"
        )
    number = _number(promotion, inner, "margin")
    if number is None or not 0.0 <= number < 1.0:
        raise ConfigError(
            f"{inner}.margin={promotion['margin']!r} must be in [0, 1); fix {inner}.margin "
            "(how much worse than the champion still counts as not worse, e.g. 0.01)"
        )
    _integer(promotion, inner, "resamples", 100)
    _integer(promotion, inner, "seed", 0)


def history_length(history: Any, where: str = "update") -> int | None:
    """How many time windows an update step trains on (`update.history`): 1 for `window`, N for
    `last_N`, None for `cumulative` (every window so far)."""
    value = str(history)
    count = value.removeprefix("last_")
    if value == "window":
        return 1
    if value == "cumulative":
        return None
    if count != value and count.isascii() and count.isdigit() and int(count) >= 1:
        return int(count)
    name = _key(where, "history")
    raise ConfigError(f"{name}={history!r} is unknown; use {UPDATE_HISTORIES}")


def check_update(update: Mapping[str, Any], where: str = "update") -> None:
    """The number of successive updates, the generation the first one reads, and how a time
    column is cut into windows and which of them a step trains on (data=files)."""
    _integer(update, where, "steps", 1)
    _integer(update, where, "first_generation", 0, optional=True)
    if update.get("history") is not None:  # data.windows checks a period on its own
        history_length(update["history"], where)
    if update.get("period") is not None:
        _one_of(
            update, where, "period", UPDATE_PERIODS, "null (each distinct time) or Y, Q, M, W, D"
        )


def check_tracking(tracking: Mapping[str, Any], where: str = "tracking") -> None:
    _positive(tracking, where, "connect_timeout")


GROUP_CHECKS: dict[str, Callable[[Mapping[str, Any], str], None]] = {
    "data": check_data,
    "vocab": check_vocab,
    "model": check_model,
    "train": check_train,
    "warmstart": check_warmstart,
    "registry": check_registry,
    "tracking": check_tracking,
    "update": check_update,
}
# The groups the `base` overlay may change (see schema.BaseOverlaySchema).
OVERLAID = ("data", "vocab", "train")


def validate(cfg: DictConfig) -> None:
    """Check every group of `cfg`, then the groups the base stage sees through `base`.

    A bad value in the overlay is reported under its own key (`base.train.epochs`); the
    overlay's keys must also exist in the chosen data source (with_overlay checks that).
    """
    check_top(cfg)
    for group, check in GROUP_CHECKS.items():
        check(cfg[group], group)
    base = with_overlay(cfg, "base")
    for group in OVERLAID:
        GROUP_CHECKS[group](base[group], f"base.{group}")
