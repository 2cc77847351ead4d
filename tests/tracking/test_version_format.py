"""The names a model version carries are spelled once, and a reused run yields its version."""

from __future__ import annotations

from warmstart.tracking import pyfunc, version_format
from warmstart.tracking.version_format import (
    DIGEST_TAGS,
    MODEL_ID_TAG,
    REGISTERED_NAME_TAG,
    REGISTERED_VERSION_TAG,
    VERSION_FILES,
    Published,
    source_tag,
)


def test_the_pyfunc_reads_the_files_the_version_format_names() -> None:
    assert pyfunc.KERAS_MODEL is version_format.KERAS_MODEL
    assert {pyfunc.SETTINGS, pyfunc.VOCABULARY} <= set(VERSION_FILES)
    assert set(DIGEST_TAGS) < set(VERSION_FILES)  # settings.json is not needed to warm-start


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
