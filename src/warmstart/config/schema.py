"""Structured-config schemas: the type and the allowed keys of every setting in conf/.

The YAML files keep the values and their explanations; these dataclasses only say what may be
set, so that Hydra refuses a misspelt key or a value of the wrong type when it composes the
config, before any stage starts. Each group file names its schema first in its defaults list
(`defaults: [train_schema, _self_]`; data has one per source, and the `_global_` synthetic file
names `synthetic_schema@data`); conf/config.yaml names `config_schema` for the top-level keys.
Fields have no defaults (`MISSING`): a value lives in exactly one place, conf/. Each field
carries its one-line meaning (`key(doc)`), from which `python -m warmstart.config.reference`
writes docs/configuration.md, so the reference cannot drift from what Hydra accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

DOC = "doc"  # field metadata: the key's one-line meaning, for the generated reference
KIND = "kind"  # field metadata: the accepted values where the type says `Any` (`int | auto`)


def key(doc: str, kind: str | None = None) -> Any:
    """A required field (its value lives in conf/) with its one-line meaning."""
    return field(default=MISSING, metadata={DOC: doc, KIND: kind})


def group(schema: type, doc: str) -> Any:
    """A nested group of keys, typed by `schema`, with its one-line meaning."""
    return field(default_factory=schema, metadata={DOC: doc})


@dataclass
class PathsSchema:
    root_dir: str = key(
        "the project root (absolute), so every working directory sees the same files"
    )
    cache_dir: str = key("downloads, extracted archives and generated corpora, shared by runs")


@dataclass
class DataSchema:
    """The keys both data sources share (the reader and the split)."""

    name: str = key(
        "the data source: `synthetic`, `imdb`, `files` or `folder` (pick it with `data=`)"
    )
    path: str | None = key(
        "where the data is (a file or folder); `null` where the source finds it itself"
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
    """A table file; `since`/`until` are ISO 8601 dates or numbers, or dates in `time_format`
    (strings here, checked by validation and parsed on read)."""

    format: str | None = key("`csv`, `tsv`, `parquet` or `jsonl`; `null`: by the file's suffix")
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


AUTO = "auto"  # a setting the stage works out from the training rows (and logs)


@dataclass
class VocabSchema:
    max_tokens: Any = key(
        "most tokens kept (padding and `[UNK]` included); "
        "`auto`: tokens seen twice, at most 100,000",
        kind="int | auto",
    )
    sequence_length: Any = key(
        "tokens kept per text; `auto`: the training texts' 95th-percentile length, in 16..512",
        kind="int | auto",
    )


MODEL_FAMILIES = ("tutorial", "cnn", "bilstm", "transformer")  # conf/model/<family>.yaml


@dataclass
class ModelSchema:
    """The tutorial's model; every family shares these keys (see `modeling.heads`)."""

    family: str = "tutorial"
    embedding_dim: int = key("width of a token's embedding row")
    hidden_units: Any = key(
        "dense units before the output; `auto`: 16 for two classes, 4 per class beyond (≤128)",
        kind="int | auto",
    )
    mask_padding: bool = key("leave padding out of what the head pools, attends to or convolves")


@dataclass
class CnnModelSchema(ModelSchema):
    filters: int = key("Conv1D filters")
    kernel_size: int = key("Conv1D window, in tokens")


@dataclass
class BiLstmModelSchema(ModelSchema):
    rnn: str = key("the recurrent cell: `lstm` or `gru`")
    rnn_units: int = key("units per direction")


@dataclass
class TransformerModelSchema(ModelSchema):
    num_heads: int = key("attention heads per encoder block")
    num_blocks: int = key("encoder blocks")
    ff_units: int = key("units of each block's feed-forward layer")
    dropout: float = key("dropout in the encoder blocks")


@dataclass
class EarlyStoppingSchema:
    enabled: bool = key("stop when `monitor` stops improving, keeping the best epoch's weights")
    monitor: str = key("`val_loss`, `val_accuracy` or `val_macro_f1`")
    patience: int = key("epochs without improvement before stopping")
    min_delta: float = key("the least change that counts as an improvement")


@dataclass
class TrainSchema:
    epochs: int = key("the most epochs (early stopping usually ends sooner)")
    batch_size: Any = key(
        "rows per step; `auto`: rows/100 as a power of two within 16..256", kind="int | auto"
    )
    learning_rate: float = key("Adam's learning rate")
    tensorboard: bool = key("write TensorBoard event files with each run")
    strategy: str = key("`tf.distribute` strategy: `default`, `mirrored` or `multi_worker`")
    devices: list[str] | None = key(
        "the devices of `mirrored` (`null`: every local GPU, else the CPU)"
    )
    early_stopping: EarlyStoppingSchema = group(
        EarlyStoppingSchema, "stop early on a validation metric"
    )


@dataclass
class WarmstartSchema:
    source: str = key(
        "the version to warm-start from: "
        "`models:/NAME/VERSION`, `models:/NAME@ALIAS`, `runs:/ID/model`",
    )
    initializer: str = key(
        "how new tokens' rows are filled: `uniform`, `normal`, `zeros`, `mean`, `mean_cov`, "
        "`constant`, `pretrained`, `subword`",
    )
    initializer_options: dict[str, Any] = key(
        "the initializer's own options (`null`: its default), checked before training"
    )
    label_initializer: str = key("how output columns of new classes are filled (label drift)")
    min_overlap: float = key(
        "refuse a remap sharing fewer tokens than this share of the new vocabulary"
    )
    pretrained_path: str | None = key(
        "`initializer=pretrained`: a word2vec/GloVe text file, or an `.npy` matrix"
    )
    pretrained_vocabulary: str | None = key(
        "`initializer=pretrained` with an `.npy`: its vocabulary file"
    )
    fallback: str = key("for `pretrained` and `subword`: the initializer of rows they cannot fill")
    optimizer_state: bool = key(
        "carry the source's Adam state over (its moments remapped like the rows)"
    )


@dataclass
class PromotionSchema:
    metric: str = key(
        "what the gate compares: `auto` (accuracy; macro-F1 for multi-class), "
        "`accuracy`, `macro_f1`",
    )
    rule: str = key("`non_inferior`, `superior` or `point` (see docs/evaluation.md)")
    confidence: float = key("confidence of the paired bootstrap interval of candidate - champion")
    margin: float = key("`non_inferior`: how far below 0 the interval's lower bound may go")
    resamples: int = key("bootstrap resamples of the test texts")
    seed: int = key("the bootstrap's own seed: the same predictions always get the same decision")
    min_delta: float = key("`point`: how much the candidate must beat the champion by")


@dataclass
class RegistrySchema:
    model_name: str = key("the registered model that base and warm runs publish versions to")
    promotion: PromotionSchema = group(
        PromotionSchema, "the champion gate: a paired bootstrap on the test texts"
    )


@dataclass
class UpdateSchema:
    source: str = key("what the update job continues from")
    cold: bool = key("also train the cold baseline, for comparison")
    steps: int = key("successive updates in one run")
    first_generation: int | None = key(
        "the embedded corpus' generation of the first step (`null`: `data.generation`)"
    )
    period: str | None = key(
        "`data=files`: cut windows by calendar `Y`, `Q`, `M`, `W`, `D` (`null`: each distinct time)"
    )
    history: str = key("the windows a step trains on: `cumulative`, `last_<N>` or `window`")


@dataclass
class TrackingSchema:
    uri: str = key("the tracking store (`MLFLOW_TRACKING_URI` wins when set)")
    experiment_name: str = key(
        "the experiment runs land in (`MLFLOW_EXPERIMENT_NAME` wins when set)"
    )
    connect_timeout: float = key(
        "seconds to wait for the tracking server before failing, before any training"
    )


@dataclass
class CompareSchema:
    base_run: str | None = key(
        "the base run `compare` reads on its own (`null`: the newest finished)"
    )
    warm_run: str | None = key("the warm run `compare` reads (`null`: the newest finished)")
    cold_run: str | None = key("the cold run `compare` reads (`null`: the newest finished)")
    parent_run: str | None = key("look for the newest runs under this parent run only")


@dataclass
class BaseDataSchema(SyntheticDataSchema, ImdbDataSchema, FilesDataSchema):
    """Every key of every data source, so `base.data.<key>` is accepted whatever the preset.

    Whether the chosen source has that key is checked when the overlay is applied.
    """


@dataclass
class BaseOverlaySchema:
    """What the base stage changes over the config: unset (`MISSING`) keys change nothing."""

    data: BaseDataSchema = group(BaseDataSchema, "the base's data keys over `data`")
    vocab: VocabSchema = group(VocabSchema, "the base's vocabulary keys over `vocab`")
    train: TrainSchema = group(TrainSchema, "the base's training keys over `train`")


@dataclass
class ConfigSchema:
    """The top-level keys; each group's node is typed by its group's own schema."""

    seed: int = key("one seed for weights, shuffling and new-row initializers")
    reuse: bool = key(
        "reuse a finished base or warm run with the same config, data, code (and source)"
    )
    description: str = key("free text, shown as the runs' description")
    base: BaseOverlaySchema = group(
        BaseOverlaySchema,
        'what the base stage changes over `data`, `vocab` and `train` (its "before")',
    )
    compare: CompareSchema = key("which runs `compare` reads when run on its own")
    paths: Any = key("project paths")
    data: Any = key("the data source: `synthetic` (embedded, offline), `imdb`, `files`, `folder`")
    vocab: Any = key("the new vocabulary (warm, cold and vocab_diff)")
    model: Any = key("the classifier family: `tutorial`, `cnn`, `bilstm`, `transformer`")
    train: Any = key("training")
    warmstart: Any = key("the warm start: source version and new-row initializers")
    registry: Any = key("the registered model and the champion gate")
    tracking: Any = key("the MLflow store and experiment")
    update: Any = key("the recurring update job")


GROUP_SCHEMAS: dict[str, dict[str, type]] = {
    "paths": {"paths_schema": PathsSchema},
    "data": {
        "synthetic_schema": SyntheticDataSchema,
        "imdb_schema": ImdbDataSchema,
        "files_schema": FilesDataSchema,
        "folder_schema": FolderDataSchema,
    },
    "vocab": {"vocab_schema": VocabSchema},
    "model": {
        "model_schema": ModelSchema,
        "cnn_schema": CnnModelSchema,
        "bilstm_schema": BiLstmModelSchema,
        "transformer_schema": TransformerModelSchema,
    },
    "train": {"train_schema": TrainSchema},
    "warmstart": {"warmstart_schema": WarmstartSchema},
    "registry": {"registry_schema": RegistrySchema},
    "tracking": {"tracking_schema": TrackingSchema},
    "update": {"update_schema": UpdateSchema},
}


def register() -> None:
    """Store every schema in Hydra's ConfigStore (idempotent), before any composition."""
    store = ConfigStore.instance()
    store.store(name="config_schema", node=ConfigSchema)
    for group, schemas in GROUP_SCHEMAS.items():
        for name, node in schemas.items():
            store.store(group=group, name=name, node=node)
