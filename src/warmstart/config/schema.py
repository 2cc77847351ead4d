"""Structured-config schemas: the type and the allowed keys of every setting in conf/.

The YAML files keep the values and their explanations; these dataclasses only say what may be
set, so that Hydra refuses a misspelt key or a value of the wrong type when it composes the
config, before any stage starts. Each group file names its schema first in its defaults list
(`defaults: [train_schema, _self_]`; data has one per source, and the `_global_` synthetic file
names `synthetic_schema@data`); conf/config.yaml names `config_schema` for the top-level keys.
Fields have no defaults (`MISSING`): a value lives in exactly one place, conf/.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


@dataclass
class PathsSchema:
    root_dir: str = MISSING
    cache_dir: str = MISSING


@dataclass
class DataSchema:
    """The keys both data sources share (the reader and the split)."""

    name: str = MISSING
    path: str | None = MISSING
    cache_dir: str = MISSING
    validation_split: float = MISSING
    split_seed: int | None = MISSING
    max_reviews: int | None = MISSING


@dataclass
class SyntheticDataSchema(DataSchema):
    generation: int = MISSING
    n_train: int = MISSING
    n_test: int = MISSING
    corpus_seed: int = MISSING
    num_classes: int = MISSING


@dataclass
class ImdbDataSchema(DataSchema):
    path_sha256: str | None = MISSING
    url: str = MISSING
    sha256: str = MISSING


@dataclass
class FolderDataSchema(DataSchema):
    """`data.path/<class>/*.txt`, optionally under train/ and test/."""

    test_fraction: float = MISSING


@dataclass
class FilesDataSchema(FolderDataSchema):
    """A table file; `since`/`until` are ISO 8601 dates or numbers, or dates in `time_format`
    (strings here, checked by validation and parsed on read)."""

    format: str | None = MISSING
    text_column: str = MISSING
    label_column: str = MISSING
    time_column: str | None = MISSING
    time_format: str | None = MISSING
    since: str | None = MISSING
    until: str | None = MISSING
    test_path: str | None = MISSING


AUTO = "auto"  # a setting the stage works out from the training rows (and logs)


@dataclass
class VocabSchema:
    max_tokens: Any = MISSING  # int, or "auto": every token seen twice in training (at most 100k)
    sequence_length: Any = MISSING  # int, or "auto": from the training texts' token counts


MODEL_FAMILIES = ("tutorial", "cnn", "bilstm", "transformer")  # conf/model/<family>.yaml


@dataclass
class ModelSchema:
    """The tutorial's model; every family shares these keys (see `modeling.heads`)."""

    family: str = "tutorial"
    embedding_dim: int = MISSING
    hidden_units: Any = MISSING  # int, or "auto": from the number of classes
    mask_padding: bool = MISSING


@dataclass
class CnnModelSchema(ModelSchema):
    filters: int = MISSING
    kernel_size: int = MISSING


@dataclass
class BiLstmModelSchema(ModelSchema):
    rnn: str = MISSING  # lstm | gru
    rnn_units: int = MISSING


@dataclass
class TransformerModelSchema(ModelSchema):
    num_heads: int = MISSING
    num_blocks: int = MISSING
    ff_units: int = MISSING
    dropout: float = MISSING


@dataclass
class EarlyStoppingSchema:
    enabled: bool = MISSING
    monitor: str = MISSING
    patience: int = MISSING
    min_delta: float = MISSING


@dataclass
class TrainSchema:
    epochs: int = MISSING
    batch_size: Any = MISSING  # int, or "auto": from the number of training rows
    learning_rate: float = MISSING
    tensorboard: bool = MISSING
    strategy: str = MISSING
    devices: list[str] | None = MISSING
    early_stopping: EarlyStoppingSchema = field(default_factory=EarlyStoppingSchema)


@dataclass
class WarmstartSchema:
    source: str = MISSING
    initializer: str = MISSING
    initializer_options: dict[str, Any] = MISSING
    label_initializer: str = MISSING
    min_overlap: float = MISSING
    pretrained_path: str | None = MISSING
    pretrained_vocabulary: str | None = MISSING
    fallback: str = MISSING
    optimizer_state: bool = MISSING


@dataclass
class PromotionSchema:
    metric: str = MISSING
    rule: str = MISSING
    confidence: float = MISSING
    margin: float = MISSING
    resamples: int = MISSING
    seed: int = MISSING
    min_delta: float = MISSING


@dataclass
class RegistrySchema:
    model_name: str = MISSING
    promotion: PromotionSchema = field(default_factory=PromotionSchema)


@dataclass
class UpdateSchema:
    source: str = MISSING
    cold: bool = MISSING
    steps: int = MISSING
    first_generation: int | None = MISSING
    period: str | None = MISSING
    history: str = MISSING


@dataclass
class TrackingSchema:
    uri: str = MISSING
    experiment_name: str = MISSING
    connect_timeout: float = MISSING


@dataclass
class CompareSchema:
    base_run: str | None = MISSING
    warm_run: str | None = MISSING
    cold_run: str | None = MISSING
    parent_run: str | None = MISSING


@dataclass
class BaseDataSchema(SyntheticDataSchema, ImdbDataSchema, FilesDataSchema):
    """Every key of every data source, so `base.data.<key>` is accepted whatever the preset.

    Whether the chosen source has that key is checked when the overlay is applied.
    """


@dataclass
class BaseOverlaySchema:
    """What the base stage changes over the config: unset (`MISSING`) keys change nothing."""

    data: BaseDataSchema = field(default_factory=BaseDataSchema)
    vocab: VocabSchema = field(default_factory=VocabSchema)
    train: TrainSchema = field(default_factory=TrainSchema)


@dataclass
class ConfigSchema:
    """The top-level keys; each group's node is typed by its group's own schema."""

    seed: int = MISSING
    reuse: bool = MISSING
    description: str = MISSING
    base: BaseOverlaySchema = field(default_factory=BaseOverlaySchema)
    compare: CompareSchema = MISSING
    paths: Any = MISSING
    data: Any = MISSING
    vocab: Any = MISSING
    model: Any = MISSING
    train: Any = MISSING
    warmstart: Any = MISSING
    registry: Any = MISSING
    tracking: Any = MISSING
    update: Any = MISSING


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
