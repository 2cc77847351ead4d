"""How the warm start fills new rows from a pretrained file, and what the stage keeps of a
version registered before the corpus' labels were words."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pytest
from compose import compose_config
from faults import publish_unchecked
from mlflow.tracking import MlflowClient

from warmstart.core.initializers import Pretrained, Zeros
from warmstart.core.remap import remap_embeddings
from warmstart.stages import warm_start
from warmstart.tracking.connection import connect
from warmstart.tracking.resolve import resolve_source
from warmstart.tracking.version_format import LABEL_DIFF_TAG


def test_a_pretrained_file_fills_the_new_rows_it_has_and_the_fallback_the_rest(tmp_path):
    glove = tmp_path / "vectors.txt"
    glove.write_text("fresh 1 2 3 4\nslang 5 6 7 8\n", encoding="utf-8")
    base = ["", "[UNK]", "the", "film"]
    new = ["", "[UNK]", "the", "fresh", "slang", "unknown"]
    matrix = np.arange(16, dtype="float32").reshape(4, 4)
    initializer = Pretrained(path=str(glove), fallback=Zeros())
    result = remap_embeddings(base, new, matrix, initializer=initializer, seed=0)
    np.testing.assert_array_equal(result.matrix[3], [1, 2, 3, 4])
    np.testing.assert_array_equal(result.matrix[4], [5, 6, 7, 8])
    np.testing.assert_array_equal(result.matrix[5], [0, 0, 0, 0])
    np.testing.assert_array_equal(result.matrix[2], matrix[2])
    sources = result.report.to_frame().set_index("token")["source"]
    assert sources["fresh"] == "pretrained" and sources["unknown"] == "zeros"


@pytest.mark.slow
def test_a_version_with_the_old_0_1_labels_warm_starts_on_word_labels_keeping_its_head(
    pipeline_run, tracking, data_cache, tmp_path
):
    """Versions of the aclImdb layout registered before its labels were words say 0/1 (as
    labels.txt, or no labels.txt at all): 0 was negative, 1 positive, so the trained head is
    kept as it is, with no label drift."""
    base = resolve_source("models:/pipeline-test@base", tmp_path / "base")
    with mlflow.start_run(run_name="a version of 0/1 labels"):
        old = publish_unchecked(  # labels.txt "0\n1\n", as versions before words had
            "old-labels", keras_model=base.head_path, vocabulary=base.vocabulary,
            embedding=base.embedding,
        )  # fmt: skip
    assert resolve_source(f"models:/old-labels/{old}", tmp_path / "old").labels == ["0", "1"]
    cfg = compose_config(
        "experiment=smoke", "train.epochs=1", f"warmstart.source=models:/old-labels/{old}",
        "warmstart.optimizer_state=false", "registry.model_name=old-labels-warm",
        cache_dir=data_cache,
    )  # fmt: skip
    connect(cfg)
    outcome = warm_start.run(cfg)
    diff = json.loads(MlflowClient().get_run(outcome.run_id).data.tags[LABEL_DIFF_TAG])
    assert diff["kept"] == ["negative", "positive"]
    assert diff["added"] == [] and diff["removed"] == []  # no label drift: the head is kept
    warm = resolve_source(f"models:/old-labels-warm/{outcome.published.version}", tmp_path / "w")
    assert warm.labels == ["negative", "positive"]
