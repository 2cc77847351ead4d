"""Checks a type cannot express: ranges, keys that depend on each other, files that must exist.

The schemas refuse unknown keys, wrong types and names outside a closed set (config.choices)
while Hydra composes the config; the rest is one check per group here, run once by the stage
wrapper before it connects or trains, so a bad value fails in a second, not after the base
model has trained. Every message names the key and the fix. The checks take plain mappings
too, so a lower layer can run them on a dict: `data.name`, `data.format` and `update.period`,
which the data layer reads from such mappings, are checked here against the same enums.
One value's checks are `config.value_checks`, a time bound's `config.time_bounds`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from omegaconf import DictConfig

from warmstart.config.choices import DataSource, Period, SplitRule, StreamMode, TableFormat
from warmstart.config.initializer import initializer_of
from warmstart.config.schema import AUTO
from warmstart.config.time_bounds import check_time_bound, check_time_format
from warmstart.config.value_checks import (
    check_existing_file,
    check_fraction,
    check_integer,
    check_one_of,
    check_positive,
    key_name,
    number_of,
    value_of,
)
from warmstart.config.views import with_overlay
from warmstart.core.errors import ConfigError

UPDATE_HISTORIES = "window, cumulative or last_<N> (an integer N >= 1; last_1 is window)"


def check_top(cfg: Mapping[str, Any], where: str = "") -> None:
    """`seed` seeds numpy, which takes no negative seed."""
    check_integer(cfg, where, "seed", 0)


def check_data(data: Mapping[str, Any], where: str = "data") -> None:
    """The source, the split and the synthetic corpus's size, as the data reader needs them.

    Keys the reader would default (`validation_split`, `split_seed`, `max_reviews`) may be
    unset; the corpus keys are needed only when the corpus is generated (no `data.path`).
    """
    check_one_of(data, where, "name", DataSource, "data=" + ", ".join(DataSource))
    check_fraction(data, where, "validation_split", one=False, optional=True)
    check_integer(data, where, "split_seed", 0, optional=True)
    check_integer(data, where, "max_reviews", 2, optional=True)
    if str(data.get("name")) == "synthetic" and not data.get("path"):
        for key, minimum in (("generation", 0), ("n_train", 2), ("n_test", 2), ("corpus_seed", 0)):
            check_integer(data, where, key, minimum)
        check_integer(data, where, "num_classes", 2, optional=True)
    if str(data.get("name")) in ("files", "folder"):
        _own_data(data, where)


def _own_data(data: Mapping[str, Any], where: str) -> None:
    """A file or folder to read, a test share, a known format, a window only with a column."""
    if not data.get("path"):
        what = "your table (.csv/.tsv/.parquet/.jsonl)" if data["name"] == "files" else "a folder"
        raise ConfigError(f"{where}.path is missing; set {where}.path=<{what}>")
    check_fraction(data, where, "test_fraction", one=False, optional=True)
    if data.get("format") is not None:
        check_one_of(data, where, "format", TableFormat, ", ".join(TableFormat))
    if data.get("split") is not None:
        check_one_of(data, where, "split", SplitRule, ", ".join(SplitRule))
    if data.get("stream") is not None:
        check_one_of(data, where, "stream", StreamMode, ", ".join(StreamMode))
    check_integer(data, where, "sample_rows", 1, optional=True)
    window = [k for k in ("since", "until", "time_format") if data.get(k) is not None]
    if window and not data.get("time_column"):
        raise ConfigError(
            f"{where}.{window[0]} is set but {where}.time_column is not; set "
            f"{where}.time_column=<the column holding each row's time>"
        )
    check_time_format(data, where)
    for key in ("since", "until"):
        check_time_bound(data.get(key), key_name(where, key), data.get("time_format"))


def _integer_or_auto(group: Mapping[str, Any], where: str, key: str, minimum: int) -> None:
    """An integer >= `minimum`, or `auto` (worked out from the training rows)."""
    if group.get(key) == AUTO:
        return
    try:
        check_integer(group, where, key, minimum)
    except ConfigError:
        name = key_name(where, key)
        raise ConfigError(
            f"{name}={group.get(key)!r} must be auto or an integer >= {minimum}; fix {name}"
        ) from None


def check_vocab(vocab: Mapping[str, Any], where: str = "vocab") -> None:
    _integer_or_auto(vocab, where, "max_tokens", 1)
    _integer_or_auto(vocab, where, "sequence_length", 1)


def check_model(model: Mapping[str, Any], where: str = "model") -> None:
    """The shared sizes, then the family's own (`conf/model/<family>.yaml`)."""
    family = str(model.get("family", "tutorial"))
    check_integer(model, where, "embedding_dim", 1)
    _integer_or_auto(model, where, "hidden_units", 1)
    if family == "cnn":
        check_integer(model, where, "filters", 1)
        check_integer(model, where, "kernel_size", 1)
    elif family == "bilstm":
        check_integer(model, where, "rnn_units", 1)
    elif family == "transformer":
        for key in ("num_heads", "num_blocks", "ff_units"):
            check_integer(model, where, key, 1)
        check_fraction(model, where, "dropout", one=False)


def check_train(train: Mapping[str, Any], where: str = "train") -> None:
    check_integer(train, where, "epochs", 1)
    _integer_or_auto(train, where, "batch_size", 1)
    check_positive(train, where, "learning_rate")
    stopping = train.get("early_stopping") or {}
    if stopping.get("enabled"):
        inner = key_name(where, "early_stopping")
        check_integer(stopping, inner, "patience", 0)
        min_delta = number_of(stopping, inner, "min_delta")
        if min_delta is None or min_delta < 0:
            name = key_name(inner, "min_delta")
            raise ConfigError(f"{name}={stopping.get('min_delta')!r} must be >= 0; fix {name}")


def check_warmstart(warm: Mapping[str, Any], where: str = "warmstart") -> None:
    """The overlap's range; with `pretrained`, its files; then the initializer's options as
    its own object checks them (`config.initializer.initializer_of`), in one line."""
    check_fraction(warm, where, "min_overlap", one=True)
    node = warm.get("initializer")
    if isinstance(node, Mapping) and node.get("name") == "pretrained":
        inner = key_name(where, "initializer")
        check_existing_file(node, inner, "path", "give a word2vec/GloVe text file or an .npy")
        if node.get("vocabulary") is not None:
            check_existing_file(node, inner, "vocabulary", "give the .npy's token list file")
    initializer_of(warm, where)


def check_registry(registry: Mapping[str, Any], where: str = "registry") -> None:
    """An empty name would only fail at registration, after training; so would a bad bound of
    the promotion gate."""
    if not str(value_of(registry, where, "model_name")).strip():
        raise ConfigError(f"{where}.model_name is empty; set {where}.model_name=NAME")
    promotion = registry.get("promotion")
    if promotion is not None:
        _check_promotion(promotion, f"{where}.promotion")


def _check_promotion(promotion: Mapping[str, Any], inner: str) -> None:
    number = number_of(promotion, inner, "min_delta")
    if number is None or not 0.0 <= number < 1.0:
        raise ConfigError(
            f"{inner}.min_delta={promotion['min_delta']!r} must be in [0, 1); fix "
            f"{inner}.min_delta (0: at least as good as the champion)"
        )
    number = number_of(promotion, inner, "confidence")
    if number is None or not 0.0 < number < 1.0:
        raise ConfigError(
            f"{inner}.confidence={promotion['confidence']!r} must be in (0, 1); fix "
            f"{inner}.confidence (0.95: a 95% interval)"
        )
    number = number_of(promotion, inner, "margin")
    if number is None or not 0.0 <= number < 1.0:
        raise ConfigError(
            f"{inner}.margin={promotion['margin']!r} must be in [0, 1); fix {inner}.margin "
            "(how much worse than the champion still counts as not worse, e.g. 0.01)"
        )
    check_integer(promotion, inner, "resamples", 100)
    check_integer(promotion, inner, "seed", 0)


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
    name = key_name(where, "history")
    raise ConfigError(f"{name}={history!r} is unknown; use {UPDATE_HISTORIES}")


def check_update(update: Mapping[str, Any], where: str = "update") -> None:
    """The number of successive updates, the generation the first one reads, and how a time
    column is cut into windows and which of them a step trains on (data=files)."""
    check_integer(update, where, "steps", 1)
    check_integer(update, where, "first_generation", 0, optional=True)
    if update.get("history") is not None:  # data.windows checks a period on its own
        history_length(update["history"], where)
    if update.get("period") is not None:
        check_one_of(
            update, where, "period", Period, "null (each distinct time) or " + ", ".join(Period)
        )


def check_tracking(tracking: Mapping[str, Any], where: str = "tracking") -> None:
    check_positive(tracking, where, "connect_timeout")


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
