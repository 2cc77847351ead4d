"""The names a model version carries are spelled once, and a reused run yields its version."""

from __future__ import annotations

from warmstart.tracking import pyfunc, version_format
from warmstart.tracking.version_format import (
    DIGEST_TAGS,
    HEAD_FILES,
    HEAD_MODEL,
    KERAS_MODEL,
    MODEL_ID_TAG,
    OPTIMIZER_STATE,
    OPTIONAL_DIGESTS,
    REGISTERED_NAME_TAG,
    REGISTERED_VERSION_TAG,
    VERSION_FILES,
    Published,
    source_tag,
)


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
    names = [v for k, v in vars(version_format).items() if k.endswith("_TAG")]
    names += list(DIGEST_TAGS.values())
    assert len(names) == len(set(names)) and all(n.startswith("warmstart.") for n in names)


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
