"""What a warmstart run and model version carry in MLflow: file names and `warmstart.*` tags.

Publishing writes these names, resolving, reuse, sweeps, the pyfunc and the stages read them,
and versions registered long ago must still be read: so every name is spelled once, here (the
stages' names, the registry aliases and a promotion's evidence tags apart: `stage_names`,
`aliases`, `evidence_tags`).
A version's tags are the few a person reads in the registry's versions table (`VERSION_TAGS`);
what programs read (digests, lineage ids, remap and label-diff numbers, the promotion's
evidence) is one JSON tag, `RECORD_TAG`, read with `read_record` in either layout.
Standard library only, because the served pyfunc imports it too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

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

# Versions registered before `RECORD_TAG` carry the sha256 of each file a warm start loads as
# a tag of its own (on the logged model and the version); a record keys them by file name.
DIGEST_TAGS = {
    VOCABULARY: "warmstart.vocabulary_sha256",
    EMBEDDING: "warmstart.embedding_sha256",
    HEAD_MODEL: "warmstart.head_sha256",
    KERAS_MODEL: "warmstart.keras_model_sha256",
    LABELS: "warmstart.labels_sha256",
    SETTINGS: "warmstart.settings_sha256",
    OPTIMIZER_STATE: "warmstart.optimizer_state_sha256",
}
DIGESTED_FILES = tuple(DIGEST_TAGS)  # every file a version's digests may name
# Digests a version may lack (registered before the file existed, or the file is optional);
# verified when present. Of HEAD_FILES a version must carry one digest.
OPTIONAL_DIGESTS = (LABELS, SETTINGS, OPTIMIZER_STATE, *HEAD_FILES)
LABEL_COUNT_TAG = "warmstart.label_count"
VOCABULARY_SIZE_TAG = "warmstart.vocabulary_size"

# ---------------------------------------------------------------- run tags

# (The stage tag and the stages' names: `stage_names`.)
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

# Champion/challenger: the decision, on the run and the version (its evidence's tags, all
# `warmstart.promotion.*`: `evidence_tags`; the registry aliases: `aliases`).
PROMOTION_TAG = "warmstart.promotion"  # promoted | rejected
PROMOTED, REJECTED = "promoted", "rejected"


def remap_count_tag(count: str) -> str:
    """The tag holding one count of the remap report (`warmstart.remap.copied`)."""
    return f"{REMAP_TAG}.{count}"


def label_diff_tag(key: str) -> str:
    """The tag holding one entry of the label diff (`warmstart.label_diff.added`)."""
    return f"{LABEL_DIFF_TAG}.{key}"


def label_diff_tags(summary: Mapping[str, Any]) -> dict[str, str]:
    """The label diff as tags: one per count and class list, and all of it in one."""
    tags = {label_diff_tag(k): (json.dumps(v) if isinstance(v, list) else str(v))[:5000]
            for k, v in summary.items()}  # fmt: skip
    return {LABEL_DIFF_TAG: json.dumps(summary)[:5000], **tags}


# ---------------------------------------------------------------- lineage of a warm start

SOURCE_URI_TAG = "warmstart.source_uri"
SOURCE_NAME_TAG = "warmstart.source_name"
SOURCE_VERSION_TAG = "warmstart.source_version"
SOURCE_MODEL_ID_TAG = "warmstart.source_model_id"
SOURCE_RUN_ID_TAG = "warmstart.source_run_id"


def source_tag(tag: str) -> str:
    """The lineage tag recording a source's `tag` (`warmstart.source_embedding_sha256`)."""
    return f"warmstart.source_{tag.removeprefix('warmstart.')}"


# ---------------------------------------------------------------- what a version shows

SOURCE_TAG = "warmstart.source"  # `v1` (a version of the same model), else the source's URI
INITIALIZER_TAG = "warmstart.initializer"  # how a warm start filled its new tokens' rows
TOKENS_KEPT_TAG = "warmstart.tokens_kept"  # tokens that kept their trained rows
TOKENS_NEW_TAG = "warmstart.tokens_new"  # tokens the warm start added
# Everything programs read, as one JSON object (`VersionRecord`): the tags stay readable.
RECORD_TAG = "warmstart.record"
RECORD_FORMAT = 2  # layout 1: the same facts as separate tags (DIGEST_TAGS, SOURCE_*_TAG, ...)
# The tags a version may carry, each meant for a person (the record excepted).
VERSION_TAGS = (
    SOURCE_TAG,
    INITIALIZER_TAG,
    VOCABULARY_SIZE_TAG,
    TOKENS_KEPT_TAG,
    TOKENS_NEW_TAG,
    LABEL_COUNT_TAG,
    VERDICT_TAG,
    PROMOTION_TAG,
    WARNING_TAG,
    RECORD_TAG,
)
_SOURCE_FIELDS = {
    SOURCE_URI_TAG: "uri",
    SOURCE_NAME_TAG: "name",
    SOURCE_VERSION_TAG: "version",
    SOURCE_MODEL_ID_TAG: "model_id",
    SOURCE_RUN_ID_TAG: "run_id",
}


@dataclass(frozen=True)
class VersionRecord:
    """What programs read about a version: its files' sha256, where it came from, how.

    `files`: file name -> sha256 of every file a warm start verifies before use; `source`:
    uri, name, version, model_id, run_id and `files` (the source's digests), empty for a
    model trained from scratch; `remap` and `labels`: the vocabulary and label diffs' numbers;
    `promotion`: the decision's evidence (`Decision.evidence`), once the version is judged.
    """

    files: dict[str, str] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    remap: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)
    promotion: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        sections = {k: v for k, v in vars(self).items() if v}
        return json.dumps({"format": RECORD_FORMAT, **sections}, sort_keys=True)

    def with_promotion(self, evidence: Mapping[str, Any]) -> VersionRecord:
        return replace(self, promotion=dict(evidence))


def _json(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:  # a layout-1 tag cut at 5000 characters
        return None


def read_record(tags: Mapping[str, str]) -> VersionRecord:
    """The record of a logged model or version from its tags, in either layout.

    Each section comes from `RECORD_TAG` when it holds it, else from the separate tags of
    layout 1, so versions registered before the record resolve and verify as before.
    """
    found = _json(tags.get(RECORD_TAG))
    record = found if isinstance(found, dict) else {}
    files = record.get("files") or {f: tags[t] for f, t in DIGEST_TAGS.items() if tags.get(t)}
    source = record.get("source") or {
        key: tags[tag] for tag, key in _SOURCE_FIELDS.items() if tags.get(tag)
    }
    if source and "files" not in source:
        digests = {f: tags.get(source_tag(t)) for f, t in DIGEST_TAGS.items()}
        source = {**source, "files": {f: d for f, d in digests.items() if d}}
    promotion_prefix = f"{PROMOTION_TAG}."
    promotion = record.get("promotion") or {
        k.removeprefix(promotion_prefix): v
        for k, v in tags.items()
        if k.startswith(promotion_prefix)
    }
    return VersionRecord(
        files=dict(files),
        source=dict(source),
        remap=record.get("remap") or _json(tags.get(REMAP_TAG)) or {},
        labels=record.get("labels") or _json(tags.get(LABEL_DIFF_TAG)) or {},
        promotion=dict(promotion),
    )


def version_tags(
    files: Mapping[str, str],
    lineage: Mapping[str, str],
    *,
    registered_name: str,
    vocabulary_size: int,
    label_count: int,
) -> dict[str, str]:
    """The tags a new version (and its logged model) carries: readable ones and the record.

    `files` maps file name -> sha256; `lineage` holds a warm start's run tags
    (`ResolvedSource.lineage_tags`, `REMAP_TAG`, the label diff's): machine-read ones go into
    the record, a tag this module does not know stays a tag.
    """
    source: dict[str, Any] = {
        key: lineage[tag] for tag, key in _SOURCE_FIELDS.items() if lineage.get(tag)
    }
    source_digests = {
        f: lineage[source_tag(t)] for f, t in DIGEST_TAGS.items() if lineage.get(source_tag(t))
    }
    if source:
        source["files"] = source_digests
    remap = _json(lineage.get(REMAP_TAG)) or {}
    labels = _json(lineage.get(LABEL_DIFF_TAG)) or {
        k.removeprefix(f"{LABEL_DIFF_TAG}."): _json(v) if v[:1] in "[{" else v
        for k, v in lineage.items()
        if k.startswith(f"{LABEL_DIFF_TAG}.")
    }
    known = {*_SOURCE_FIELDS, *(source_tag(t) for t in DIGEST_TAGS.values()), REMAP_TAG}
    rest = {
        k: v
        for k, v in lineage.items()
        if k not in known and not k.startswith((f"{REMAP_TAG}.", LABEL_DIFF_TAG))
    }
    tags = {**rest, VOCABULARY_SIZE_TAG: str(vocabulary_size), LABEL_COUNT_TAG: str(label_count)}
    if source:
        same_model = source.get("name") == registered_name and source.get("version")
        tags[SOURCE_TAG] = f"v{source['version']}" if same_model else str(source.get("uri", ""))
    if remap:
        tags[INITIALIZER_TAG] = str(remap.get("initializer", ""))
        tags[TOKENS_KEPT_TAG] = str(remap.get("kept", remap.get("copied", "")))  # older: copied
        tags[TOKENS_NEW_TAG] = str(remap.get("added", ""))
    record = VersionRecord(dict(files), source, remap, labels)
    tags[RECORD_TAG] = record.to_json()
    return {k: v for k, v in tags.items() if v != ""}


@dataclass
class Published:
    """A registered version and what identifies it (`digests`: file name -> sha256)."""

    name: str
    version: str
    model_id: str
    run_id: str
    digests: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_run_tags(cls, run_id: str, tags: Mapping[str, str]) -> Published:
        """The version a finished publishing run recorded in its tags.

        A run's tags name the version but hold no digests (its version's record does), so
        `digests` is empty.
        """
        return cls(
            name=tags[REGISTERED_NAME_TAG],
            version=tags[REGISTERED_VERSION_TAG],
            model_id=tags[MODEL_ID_TAG],
            run_id=run_id,
        )
