"""What a warmstart run and model version carry in MLflow: file names and `warmstart.*` tags.

Publishing writes these names, resolving, reuse, sweeps, the pyfunc and the stages read them,
and versions registered long ago must still be read: so every name is spelled here once.
Standard library only, because the served pyfunc imports it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# ---------------------------------------------------------------- files of a version

# The trained head alone (a family's `Head`); the embedding is only in embedding.npy, so a
# version holds the matrix once and the model is composed from the two when loaded.
HEAD_MODEL = "head.keras"
# Versions registered before head.keras held the whole model (the matrix a second time).
KERAS_MODEL = "model.keras"
VOCABULARY = "vocabulary.txt"
EMBEDDING = "embedding.npy"
# {"sequence_length": N, "label_kind": K, "family": F}: what composing the model needs
SETTINGS = "settings.json"
LABELS = "labels.txt"  # the classes, one per line, in output order (core.labels)
# The optimizer's state, one array per name (numpy.savez, no pickle); only when published.
OPTIMIZER_STATE = "optimizer.npz"
VERSION_FILES = (HEAD_MODEL, VOCABULARY, EMBEDDING, SETTINGS, LABELS)  # every new version
# Where a version keeps its trained head, newest layout first; a version holds one of them.
HEAD_FILES = (HEAD_MODEL, KERAS_MODEL)
# Versions registered before labels existed have no labels.txt: they are binary, classes 0, 1.
LEGACY_LABELS = (0, 1)

# The sha256 of each file a warm start loads, tagged on the logged model and the version.
DIGEST_TAGS = {
    VOCABULARY: "warmstart.vocabulary_sha256",
    EMBEDDING: "warmstart.embedding_sha256",
    HEAD_MODEL: "warmstart.head_sha256",
    KERAS_MODEL: "warmstart.keras_model_sha256",
    LABELS: "warmstart.labels_sha256",
    SETTINGS: "warmstart.settings_sha256",
    OPTIMIZER_STATE: "warmstart.optimizer_state_sha256",
}
# Digests a version may lack (registered before the file existed, or the file is optional);
# verified when present. Of HEAD_FILES a version must carry one digest.
OPTIONAL_DIGESTS = (LABELS, SETTINGS, OPTIMIZER_STATE, *HEAD_FILES)
LABEL_COUNT_TAG = "warmstart.label_count"
VOCABULARY_SIZE_TAG = "warmstart.vocabulary_size"

# ---------------------------------------------------------------- run tags

STAGE_TAG = "warmstart.stage"

# One name per stage: its entry point, module, run name and `warmstart.stage` tag value.
TRAIN_BASE = "train_base"
VOCAB_DIFF = "vocab_diff"
WARM_START = "warm_start"
COLD_START = "cold_start"
COMPARE = "compare"
PIPELINE = "pipeline"
UPDATE = "update"  # the recurring job: from @champion, warm-start, evaluate, promote
SWEEP = "sweep"
# The three models compared side by side, by role (as in `compare.warm_run`, the summary's
# `warm_*` columns and the registry aliases), and the stage that trains each.
ROLE_STAGES = {"base": TRAIN_BASE, "warm": WARM_START, "cold": COLD_START}
OVERRIDES_TAG = "warmstart.overrides"
ERROR_TAG = "warmstart.error"
DATA_DIGEST_TAG = "warmstart.data_digest"
MODEL_ID_TAG = "warmstart.model_id"
REGISTERED_NAME_TAG = "warmstart.registered_name"
REGISTERED_VERSION_TAG = "warmstart.registered_version"

# Run reuse (train_base): the key two interchangeable runs share, and the run a reuse points to.
REUSE_KEY_TAG = "warmstart.reuse_key"
REUSED_FROM_TAG = "warmstart.reused_from"

# Sweeps: the parent's overrides, and each job's number and overrides.
SWEEP_OVERRIDES_TAG = "warmstart.sweep.overrides"
SWEEP_JOB_TAG = "warmstart.sweep.job"

# Warm start: the remap's counts (all in one tag, and one tag each) and the row checked.
REMAP_TAG = "warmstart.remap"
# Label drift: the label diff's counts and class lists (`warmstart.label_diff.added`, ...).
LABEL_DIFF_TAG = "warmstart.label_diff"
CHECKED_TOKEN_TAG = "warmstart.checked_token"


# Learned-nothing and similar warnings a stage prints, kept on its run.
WARNING_TAG = "warmstart.warning"
# Did training learn? `learned` or `learned_nothing` (core.verdict), on every trained run.
VERDICT_TAG = "warmstart.verdict"
LEARNED, LEARNED_NOTHING = "learned", "learned_nothing"

# Champion/challenger: the decision and its evidence, on the run and the version.
CHAMPION_ALIAS = "champion"
CURRENT_ALIAS = "current"  # the newest version, promoted or not
PROMOTION_TAG = "warmstart.promotion"  # promoted | rejected
PROMOTED, REJECTED = "promoted", "rejected"
PROMOTION_METRIC_TAG = "warmstart.promotion.metric"
PROMOTION_SCORE_TAG = "warmstart.promotion.score"
PROMOTION_CHAMPION_SCORE_TAG = "warmstart.promotion.champion_score"
PROMOTION_CHAMPION_VERSION_TAG = "warmstart.promotion.champion_version"
PROMOTION_REASON_TAG = "warmstart.promotion.reason"
# The evidence beside the decision: the rule, the texts compared, the paired interval.
PROMOTION_RULE_TAG = "warmstart.promotion.rule"
PROMOTION_TEXTS_TAG = "warmstart.promotion.texts"
PROMOTION_DIFFERENCE_TAG = "warmstart.promotion.difference"
PROMOTION_INTERVAL_LOW_TAG = "warmstart.promotion.interval_low"
PROMOTION_INTERVAL_HIGH_TAG = "warmstart.promotion.interval_high"
PROMOTION_CONFIDENCE_TAG = "warmstart.promotion.confidence"
PROMOTION_RESAMPLES_TAG = "warmstart.promotion.resamples"
PROMOTION_SEED_TAG = "warmstart.promotion.seed"
PROMOTION_MARGIN_TAG = "warmstart.promotion.margin"  # rule non_inferior only
PROMOTION_MIN_DELTA_TAG = "warmstart.promotion.min_delta"  # rule point only
# Both models on the new-token slice (`warmstart.promotion.slice.texts`, `.slice.accuracy`).
PROMOTION_SLICE_TAG = "warmstart.promotion.slice"


def champion_lock_model(name: str) -> str:
    """The registered model that exists only while a promotion moves `champion` of `name`."""
    return f"{name}.champion-lock"


def promotion_slice_tag(score: str) -> str:
    """The tag holding one score of the new-token slice (`warmstart.promotion.slice.texts`)."""
    return f"{PROMOTION_SLICE_TAG}.{score}"


def remap_count_tag(count: str) -> str:
    """The tag holding one count of the remap report (`warmstart.remap.copied`)."""
    return f"{REMAP_TAG}.{count}"


def label_diff_tag(key: str) -> str:
    """The tag holding one entry of the label diff (`warmstart.label_diff.added`)."""
    return f"{LABEL_DIFF_TAG}.{key}"


def compare_run_tag(role: str) -> str:
    """The tag of a compare run naming the run it compared in `role` (base, warm, cold)."""
    return f"warmstart.compare.{role}_run"


# ---------------------------------------------------------------- lineage of a warm start

SOURCE_URI_TAG = "warmstart.source_uri"
SOURCE_NAME_TAG = "warmstart.source_name"
SOURCE_VERSION_TAG = "warmstart.source_version"
SOURCE_MODEL_ID_TAG = "warmstart.source_model_id"
SOURCE_RUN_ID_TAG = "warmstart.source_run_id"


def source_tag(tag: str) -> str:
    """The lineage tag recording a source's `tag` (`warmstart.source_embedding_sha256`)."""
    return f"warmstart.source_{tag.removeprefix('warmstart.')}"


@dataclass
class Published:
    """A registered version and what identifies it."""

    name: str
    version: str
    model_id: str
    run_id: str
    digests: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_run_tags(cls, run_id: str, tags: Mapping[str, str]) -> Published:
        """The version a finished publishing run recorded in its tags.

        A run's tags name the version but hold no digests (the version's tags do), so
        `digests` keeps only those present.
        """
        return cls(
            name=tags[REGISTERED_NAME_TAG],
            version=tags[REGISTERED_VERSION_TAG],
            model_id=tags[MODEL_ID_TAG],
            run_id=run_id,
            digests={tag: tags[tag] for tag in DIGEST_TAGS.values() if tag in tags},
        )
