"""The `data` group's schemas: the keys every source shares, then each source's own.

`data=<source>` picks one (conf/data/<source>.yaml names its schema first); `BaseDataSchema`
holds every source's keys for the `base` overlay, which is typed before the source is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from warmstart.config.choices import DataSource, SplitRule, StreamMode, TableFormat
from warmstart.config.fields import key


@dataclass
class DataSchema:
    """The keys both data sources share (the reader and the split)."""

    name: DataSource = key("the data source (pick it with `data=`)")
    path: str | None = key(
        "where the data is (a file, a folder, a glob of shards or an `s3://` prefix for "
        "`data=files`); `null` where the source finds it itself"
    )
    cache_dir: str = key("where this source keeps what it extracts or generates")
    validation_split: float = key("share of the training rows held out to validate each epoch")
    split_seed: int | None = key(
        "seed of the validation split (and of the test split a table holds out)"
    )
    max_reviews: int | None = key(
        "keep at most this many rows per split, classes balanced (`null`: all)"
    )


@dataclass
class SyntheticDataSchema(DataSchema):
    generation: int = key("corpus era: a later one adds words, retires some and shifts frequencies")
    n_train: int = key("training texts the corpus holds")
    n_test: int = key("test texts the corpus holds")
    corpus_seed: int = key("seed of the generated texts (the same corpus on every machine)")
    num_classes: int = key(
        "2: `negative`/`positive` reviews; more: topics, one added per generation"
    )


@dataclass
class ImdbDataSchema(DataSchema):
    path_sha256: str | None = key(
        "checked against `data.path` when given (a local archive's sha256)"
    )
    url: str = key("where the official archive is downloaded from when `data.path` is `null`")
    sha256: str = key("the official archive's sha256, checked after every download")


@dataclass
class FolderDataSchema(DataSchema):
    """`data.path/<class>/*.txt`, optionally under train/ and test/."""

    test_fraction: float = key(
        "share of each class held out for the test split when there is no test file or folder"
    )


@dataclass
class FilesDataSchema(FolderDataSchema):
    """A table file, or a directory or glob of shards of one format; `since`/`until` are ISO
    8601 dates or numbers, or dates in `time_format` (strings here, checked by validation and
    parsed on read)."""

    format: TableFormat | None = key(
        "how the file (or every shard) is read; `null`: by the suffix, one format per source"
    )
    text_column: str = key("the column holding the text")
    label_column: str = key(
        "the column holding the label (strings or integers, any number of classes)"
    )
    time_column: str | None = key(
        "a column of ISO 8601 dates or numbers that `since`/`until` cut (`null`: none)"
    )
    time_format: str | None = key(
        "the time column's strftime format when it is not ISO 8601 (`%d/%m/%Y`)"
    )
    since: str | None = key("first time read (inclusive), written like the time column")
    until: str | None = key("first time no longer read (exclusive)")
    test_path: str | None = key(
        "a held-out test file read like `data.path` (`null`: hold out `test_fraction`)"
    )
    split: SplitRule = key(
        "how test and validation rows are held out: `stratified` (a seeded draw per class), "
        "`hash` (a seeded hash per row, no shuffle), `auto` (`hash` for shards, else stratified)"
    )
    id_column: str | None = key(
        "the column `split=hash` hashes (`null`: the text, so duplicate texts split together)"
    )
    stream: StreamMode = key(
        "read shards in turn during training, token ids made on the fly, nothing whole in "
        "memory: `auto` (for a directory or glob of shards), `always` or `never`"
    )
    sample_rows: int = key(
        "rows of each split a streamed table keeps in memory for the evaluator, the gate, "
        "the TF-IDF baseline and the verdict (the whole split when smaller)"
    )


@dataclass
class BaseDataSchema(SyntheticDataSchema, ImdbDataSchema, FilesDataSchema):
    """Every key of every data source, so `base.data.<key>` is accepted whatever the preset.

    Whether the chosen source has that key is checked when the overlay is applied.
    """


DATA_SCHEMAS: dict[str, type] = {
    "synthetic_schema": SyntheticDataSchema,
    "imdb_schema": ImdbDataSchema,
    "files_schema": FilesDataSchema,
    "folder_schema": FolderDataSchema,
}
