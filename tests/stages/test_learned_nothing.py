"""A model that learned nothing is named so and never ships, against the real tracking server.

The table is the reported failure in its purest form: four classes whose labels do not follow
from the texts at all. Base and warm must each say so (a `warning:` line per sign, the verdict
and warning tags), stay registered as evidence, and never take `champion`, not even the first
version; the baseline beside them shows the table holds nothing to learn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from compose import compose_config
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from warmstart.stages import pipeline
from warmstart.tracking.connection import connect
from warmstart.tracking.version_format import (
    LEARNED_NOTHING,
    PROMOTION_TAG,
    REJECTED,
    VERDICT_TAG,
    WARNING_TAG,
    read_record,
)

pytestmark = pytest.mark.slow


def noise_table(path, rows: int = 800, seed: int = 0) -> None:
    """Ticket-like texts and four labels drawn independently of them."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(300)]
    texts = [" ".join(rng.choice(words, rng.integers(5, 15))) for _ in range(rows)]
    labels = rng.choice(["billing", "login", "shipping", "refund"], rows)
    pd.DataFrame({"text": texts, "label": labels}).to_csv(path, index=False)


def test_a_model_that_learned_nothing_is_named_so_and_never_promoted(
    tracking, data_cache, tmp_path, capsys
):
    noise_table(tmp_path / "noise.csv")
    name = "learned-nothing-test"
    cfg = compose_config(
        "data=files",
        f"data.path={tmp_path / 'noise.csv'}",
        f"registry.model_name={name}",
        "train.epochs=4",
        cache_dir=data_cache,
    )
    connect(cfg)
    ids = pipeline.run(cfg).run_ids
    out = capsys.readouterr().out

    client = MlflowClient()
    for role in ("base", "warm", "cold"):
        run = client.get_run(ids[role])
        assert run.data.tags[VERDICT_TAG] == LEARNED_NOTHING, role
        assert "learned nothing" in run.data.tags[WARNING_TAG]
        assert run.data.metrics["verdict_val_loss"] > 0.98 * run.data.metrics["verdict_prior_loss"]
        assert run.data.metrics["baseline_test_macro_f1"] < 0.4  # nothing to learn, for anyone
    assert out.count("warning: ") >= 3 and "learned nothing" in out

    versions = {v.version: v for v in client.search_model_versions(f"name = '{name}'")}
    assert sorted(versions) == ["1", "2"]  # kept as evidence ...
    for version in versions.values():
        assert version.tags[PROMOTION_TAG] == REJECTED
        assert version.tags[VERDICT_TAG] == LEARNED_NOTHING
        assert "learned nothing" in version.tags[WARNING_TAG]
        assert read_record(version.tags).promotion["reason"].startswith("learned nothing")
        assert "learned nothing" in version.description
    with pytest.raises(MlflowException):  # ... but none ships, the first one included
        client.get_model_version_by_alias(name, "champion")
