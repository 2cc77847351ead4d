"""The names a model version carries are spelled once, a version shows few tags and keeps the
rest in one record (read in both layouts), and a reused run yields its version."""

from __future__ import annotations

import json

from warmstart.tracking import evidence_tags, pyfunc, stage_names, version_format
from warmstart.tracking.version_format import (
    DIGEST_TAGS,
    EMBEDDING,
    HEAD_FILES,
    HEAD_MODEL,
    INITIALIZER_TAG,
    KERAS_MODEL,
    LABEL_DIFF_TAG,
    MODEL_ID_TAG,
    OPTIMIZER_STATE,
    OPTIONAL_DIGESTS,
    PROMOTION_TAG,
    RECORD_TAG,
    REGISTERED_NAME_TAG,
    REGISTERED_VERSION_TAG,
    REMAP_TAG,
    SOURCE_MODEL_ID_TAG,
    SOURCE_NAME_TAG,
    SOURCE_RUN_ID_TAG,
    SOURCE_TAG,
    SOURCE_URI_TAG,
    SOURCE_VERSION_TAG,
    TOKENS_KEPT_TAG,
    TOKENS_NEW_TAG,
    VERSION_FILES,
    VERSION_TAGS,
    VOCABULARY,
    Published,
    VersionRecord,
    label_diff_tag,
    read_record,
    remap_count_tag,
    source_tag,
    version_tags,
)

FILES = {HEAD_MODEL: "a" * 64, VOCABULARY: "b" * 64, EMBEDDING: "c" * 64}
REMAP = {"kept": 1238, "added": 762, "removed": 262, "initializer": "uniform"}
LABELS = {"kept": ["0", "1"], "added": [], "removed": []}


def warm_lineage(name: str = "imdb", version: str = "1") -> dict[str, str]:
    """The run tags a warm start hands to publishing: lineage, remap and label diff."""
    return {
        SOURCE_URI_TAG: f"models:/{name}/{version}",
        SOURCE_NAME_TAG: name,
        SOURCE_VERSION_TAG: version,
        SOURCE_MODEL_ID_TAG: "m-0123abcd",
        SOURCE_RUN_ID_TAG: "run-0",
        source_tag(DIGEST_TAGS[EMBEDDING]): "d" * 64,
        REMAP_TAG: json.dumps(REMAP),
        remap_count_tag("kept"): "1238",
        LABEL_DIFF_TAG: json.dumps(LABELS),
        label_diff_tag("kept"): json.dumps(LABELS["kept"]),
    }


def test_the_pyfunc_reads_the_files_the_version_format_names() -> None:
    assert pyfunc.KERAS_MODEL is version_format.KERAS_MODEL
    assert pyfunc.HEAD_MODEL is version_format.HEAD_MODEL
    assert {pyfunc.SETTINGS, pyfunc.VOCABULARY, pyfunc.EMBEDDING} <= set(VERSION_FILES)
    # Every file a version holds is digested: the head, and settings (family, length) too.
    assert set(VERSION_FILES) <= set(DIGEST_TAGS)


def test_a_new_version_holds_the_head_not_the_whole_model() -> None:
    assert HEAD_MODEL in VERSION_FILES and KERAS_MODEL not in VERSION_FILES
    assert HEAD_FILES == (HEAD_MODEL, KERAS_MODEL)  # the older layout is still read
    # The optimizer's state is published only on request; older versions lack the rest.
    assert OPTIMIZER_STATE not in VERSION_FILES and OPTIMIZER_STATE in OPTIONAL_DIGESTS
    assert set(OPTIONAL_DIGESTS) <= set(DIGEST_TAGS)


def test_every_tag_name_is_namespaced() -> None:
    modules = (version_format, stage_names, evidence_tags)
    names = [v for m in modules for k, v in vars(m).items() if k.endswith("_TAG")]
    names += list(DIGEST_TAGS.values())
    assert len(names) == len(set(names)) and all(n.startswith("warmstart.") for n in names)
    # Old-layout versions carry the evidence as tags that `read_record` finds by this prefix.
    evidence = [v for k, v in vars(evidence_tags).items() if k.endswith("_TAG")]
    assert len(evidence) > 10 and all(n.startswith(f"{PROMOTION_TAG}.") for n in evidence)


def test_a_reused_run_rebuilds_the_version_it_published() -> None:
    tags = {
        REGISTERED_NAME_TAG: "imdb",
        REGISTERED_VERSION_TAG: "3",
        MODEL_ID_TAG: "m-0123abcd",
        "warmstart.stage": "train_base",
    }
    published = Published.from_run_tags("run-1", tags)
    assert published == Published("imdb", "3", "m-0123abcd", "run-1", {})


def test_lineage_tags_name_the_source_digest() -> None:
    assert source_tag("warmstart.embedding_sha256") == "warmstart.source_embedding_sha256"


def test_a_warm_version_shows_a_few_readable_tags_and_keeps_the_rest_in_its_record() -> None:
    tags = version_tags(
        FILES, warm_lineage(), registered_name="imdb", vocabulary_size=2000, label_count=2
    )
    assert set(tags) <= set(VERSION_TAGS) and len(VERSION_TAGS) <= 10
    assert tags[SOURCE_TAG] == "v1"  # a version of the same model: its number
    assert (tags[INITIALIZER_TAG], tags[TOKENS_KEPT_TAG], tags[TOKENS_NEW_TAG]) == (
        "uniform",
        "1238",
        "762",
    )
    record = read_record(tags)
    assert record.files == FILES
    assert record.source["model_id"] == "m-0123abcd" and record.source["run_id"] == "run-0"
    assert record.source["files"] == {EMBEDDING: "d" * 64}
    assert record.remap == REMAP and record.labels == LABELS and record.promotion == {}


def test_a_source_of_another_model_is_shown_by_its_uri_and_a_base_version_has_none() -> None:
    other = version_tags(
        FILES, warm_lineage("news", "4"), registered_name="imdb", vocabulary_size=9, label_count=3
    )
    assert other[SOURCE_TAG] == "models:/news/4"
    base = version_tags(FILES, {}, registered_name="imdb", vocabulary_size=9, label_count=2)
    assert SOURCE_TAG not in base and INITIALIZER_TAG not in base
    assert read_record(base) == VersionRecord(files=FILES)


def test_a_version_in_the_old_layout_reads_as_the_same_record() -> None:
    """Versions registered before the record carry each fact as a tag of its own."""
    old = {DIGEST_TAGS[f]: digest for f, digest in FILES.items()}
    old.update(warm_lineage())
    old.update({PROMOTION_TAG: "promoted", f"{PROMOTION_TAG}.champion_version": "1"})
    record = read_record(old)
    new = read_record(
        version_tags(
            FILES, warm_lineage(), registered_name="imdb", vocabulary_size=1, label_count=2
        )
    )
    assert record.files == new.files == FILES
    assert record.source == new.source and record.remap == new.remap
    assert record.promotion == {"champion_version": "1"}


def test_a_record_without_a_section_falls_back_to_the_old_tags_and_promotion_merges() -> None:
    """A promotion recorded on an old-layout version must not hide its digest tags."""
    old = {DIGEST_TAGS[f]: digest for f, digest in FILES.items()}
    judged = read_record(old).with_promotion({"decision": "rejected"})
    old[RECORD_TAG] = judged.to_json()
    record = read_record(old)
    assert record.files == FILES and record.promotion == {"decision": "rejected"}
    assert json.loads(old[RECORD_TAG])["format"] == version_format.RECORD_FORMAT


def test_a_remap_report_from_before_kept_names_its_kept_tokens_copied() -> None:
    older = {**warm_lineage(), REMAP_TAG: json.dumps({"copied": 5, "added": 2})}
    tags = version_tags(FILES, older, registered_name="imdb", vocabulary_size=7, label_count=2)
    assert (tags[TOKENS_KEPT_TAG], tags[TOKENS_NEW_TAG]) == ("5", "2")
