"""The closed sets of names a setting may take, each written once.

The schemas type those settings with these enums, so Hydra refuses any other name while it
composes the config, naming the key and the names it takes. A `StrEnum` member is its own
value: it compares equal to the plain string (`cfg.train.strategy == "mirrored"`), prints as
it (`str()`, f-strings, JSON) and hashes as it (a dict keyed by members is looked up with
strings), so the code that reads the config compares strings as before. OmegaConf turns a name
into its member by the member's name, so every member's name is its value.
"""

from __future__ import annotations

from enum import StrEnum


class DataSource(StrEnum):
    """`data.name`: which reader loads the data (conf/data/<name>.yaml)."""

    synthetic = "synthetic"
    imdb = "imdb"
    files = "files"
    folder = "folder"


class TableFormat(StrEnum):
    """`data.format`: how a table file is read (`null`: by its suffix)."""

    csv = "csv"
    tsv = "tsv"
    parquet = "parquet"
    jsonl = "jsonl"


class SplitRule(StrEnum):
    """`data.split` of `data=files`: how the test and validation rows are held out."""

    auto = "auto"  # hash for a directory or glob of shards, stratified for one file
    stratified = "stratified"  # a seeded, class-stratified draw over the whole table
    hash = "hash"  # a seeded hash of each row's id (or text): no shuffle, no whole table


class StreamMode(StrEnum):
    """`data.stream` of `data=files`: whether the table is streamed from its shards."""

    auto = "auto"  # stream a directory or glob of shards, read one file into memory
    always = "always"  # stream (a single file is refused)
    never = "never"  # read everything into memory, shards included


class Period(StrEnum):
    """`update.period`: the calendar periods a time column's dates are grouped by (pandas')."""

    Y = "Y"
    Q = "Q"
    M = "M"
    W = "W"
    D = "D"


class ModelFamily(StrEnum):
    """`model.family`: the classifier head (conf/model/<family>.yaml, `modeling.heads`)."""

    tutorial = "tutorial"
    cnn = "cnn"
    bilstm = "bilstm"
    transformer = "transformer"


MODEL_FAMILIES = tuple(ModelFamily)


class RecurrentCell(StrEnum):
    """`model.rnn` of the bilstm family."""

    lstm = "lstm"
    gru = "gru"


class Strategy(StrEnum):
    """`train.strategy`: the `tf.distribute` strategy models are built and trained in."""

    default = "default"
    mirrored = "mirrored"
    multi_worker = "multi_worker"


class Monitor(StrEnum):
    """`train.early_stopping.monitor`: the validation metric early stopping watches."""

    val_loss = "val_loss"
    val_accuracy = "val_accuracy"
    val_macro_f1 = "val_macro_f1"


class PromotionMetric(StrEnum):
    """`registry.promotion.metric`: what the champion gate compares."""

    auto = "auto"
    accuracy = "accuracy"
    macro_f1 = "macro_f1"


class PromotionRule(StrEnum):
    """`registry.promotion.rule`: how the champion gate decides (`tracking.decision`)."""

    non_inferior = "non_inferior"
    superior = "superior"
    point = "point"


class LabelInitializer(StrEnum):
    """`warmstart.label_initializer`: how output columns of classes new to the labels are filled."""

    zeros = "zeros"
    uniform = "uniform"
    normal = "normal"
    mean = "mean"
