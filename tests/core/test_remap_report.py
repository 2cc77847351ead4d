"""Specification of the remap report: JSON-safe counts and the per-row provenance table."""

from __future__ import annotations

import json

import pytest
from remap_samples import BASE, NEW, embeddings

from warmstart.core.remap import remap_embeddings


def test_report_summary_and_table():
    result = remap_embeddings(BASE, NEW, embeddings(len(BASE)), "zeros")
    summary = result.report.to_dict()
    assert json.loads(json.dumps(summary)) == summary
    assert summary | {"overlap": 0, "retained": 0} == {
        "base_size": 7, "new_size": 8, "axis": 0, "shape": [8, 4], "dtype": "float32",
        "kept": 6, "same_row": 2, "moved": 4, "added": 2, "removed": 1, "overlap": 0,
        "retained": 0, "initializer": "zeros", "sources": {"copied": 6, "zeros": 2},
    }  # fmt: skip
    # the report's counts are the diff's, word for word: kept rows are the copied ones
    diff = result.report.diff.to_dict()
    assert {k: summary[k] for k in ("kept", "same_row", "moved", "added", "removed")} == {
        k: diff[k] for k in ("kept", "same_row", "moved", "added", "removed")
    }
    assert summary["overlap"] == pytest.approx(6 / 8)
    frame = result.report.to_frame()
    assert frame.columns.tolist() == [
        "token", "new_index", "base_index", "source", "neighbours", "weights",
    ]  # fmt: skip
    assert frame.neighbours.map(len).eq(0).all()  # only subword rows name neighbours
    assert frame.loc[frame.token == "great", ["base_index", "source"]].values.tolist() == [
        [-1, "zeros"]
    ]
    assert frame.loc[frame.token == "film", "base_index"].item() == 5
