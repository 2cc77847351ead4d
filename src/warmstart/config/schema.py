"""Structured-config schemas: the type and the allowed keys of every setting in conf/.

The YAML files keep the values and their explanations; these dataclasses only say what may be
set, so that Hydra refuses a misspelt key or a value of the wrong type when it composes the
config, before any stage starts. Each group file names its schema first in its defaults list
(`defaults: [train_schema, _self_]`; data has one per source, and the `_global_` synthetic file
names `synthetic_schema@data`); conf/config.yaml names `config_schema` for the top-level keys.
Fields have no defaults (`MISSING`): a value lives in exactly one place, conf/. Each field
carries its one-line meaning (`key(doc)`, config.fields), from which `python -m
warmstart.config.reference` writes docs/configuration.md, so the reference cannot drift from
what Hydra accepts. A setting that takes one of a few names is typed by its enum
(config.choices), so a wrong name fails here too. The data sources' schemas are in
config.data_schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hydra.core.config_store import ConfigStore

from warmstart.config.choices import (
    LabelInitializer,
    ModelFamily,
    Monitor,
    Period,
    PromotionMetric,
    PromotionRule,
    RecurrentCell,
    Strategy,
)
from warmstart.config.data_schema import DATA_SCHEMAS, BaseDataSchema
from warmstart.config.fields import group, key
from warmstart.config.initializer_schema import INITIALIZER_SCHEMAS


@dataclass
class PathsSchema:
    root_dir: str = key(
        "the project root (absolute), so every working directory sees the same files"
    )
    cache_dir: str = key("downloads, extracted archives and generated corpora, shared by runs")


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


@dataclass
class ModelSchema:
    """The tutorial's model; every family shares these keys (see `modeling.heads`)."""

    family: ModelFamily = ModelFamily.tutorial
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
    rnn: RecurrentCell = key("the recurrent cell")
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
    monitor: Monitor = key("the validation metric that must keep improving")
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
    strategy: Strategy = key("the `tf.distribute` strategy models are built and trained in")
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
    initializer: Any = key(
        "how new tokens' rows are filled: pick with `warmstart/initializer=NAME`, set its "
        "options with `warmstart.initializer.KEY=VALUE` (conf/warmstart/initializer/NAME.yaml)",
        kind="uniform | normal | zeros | mean | mean_cov | constant | pretrained | subword",
    )
    label_initializer: LabelInitializer = key(
        "how output columns of new classes are filled (label drift)"
    )
    min_overlap: float = key(
        "refuse a remap sharing fewer tokens than this share of the new vocabulary"
    )
    optimizer_state: bool = key(
        "carry the source's Adam state over (its moments remapped like the rows)"
    )


@dataclass
class PromotionSchema:
    metric: PromotionMetric = key(
        "what the gate compares; `auto`: accuracy, macro-F1 for multi-class"
    )
    rule: PromotionRule = key("how the gate decides (see docs/evaluation.md)")
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
    period: Period | None = key(
        "`data=files`: cut windows by calendar year, quarter, month, week or day "
        "(`null`: each distinct time)"
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
    # Last, so that a printed config (`--cfg job`) opens with the settings, not with the
    # overlay's unset (`???`) keys.
    base: BaseOverlaySchema = group(
        BaseOverlaySchema,
        'what the base stage changes over `data`, `vocab` and `train` (its "before")',
    )


GROUP_SCHEMAS: dict[str, dict[str, type]] = {
    "paths": {"paths_schema": PathsSchema},
    "data": DATA_SCHEMAS,
    "vocab": {"vocab_schema": VocabSchema},
    "model": {
        "model_schema": ModelSchema,
        "cnn_schema": CnnModelSchema,
        "bilstm_schema": BiLstmModelSchema,
        "transformer_schema": TransformerModelSchema,
    },
    "train": {"train_schema": TrainSchema},
    "warmstart": {"warmstart_schema": WarmstartSchema},
    "warmstart/initializer": INITIALIZER_SCHEMAS,
    "registry": {"registry_schema": RegistrySchema},
    "tracking": {"tracking_schema": TrackingSchema},
    "update": {"update_schema": UpdateSchema},
}


def register() -> None:
    """Store every schema in Hydra's ConfigStore (idempotent), before any composition."""
    store = ConfigStore.instance()
    store.store(name="config_schema", node=ConfigSchema)
    for group_name, schemas in GROUP_SCHEMAS.items():
        for name, node in schemas.items():
            store.store(group=group_name, name=name, node=node)
