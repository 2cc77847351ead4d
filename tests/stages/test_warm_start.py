"""How the warm stage turns `warmstart.*` config into a remap."""

from __future__ import annotations

import numpy as np

from warmstart.core.remap import remap_embeddings
from warmstart.stages.warm_start import initializer_options


def test_pretrained_settings_reach_the_remap_and_fill_new_rows_from_the_file(tmp_path):
    glove = tmp_path / "vectors.txt"
    glove.write_text("fresh 1 2 3 4\nslang 5 6 7 8\n", encoding="utf-8")
    cfg = {
        "initializer": "pretrained",
        "pretrained_path": str(glove),
        "pretrained_vocabulary": None,
        "fallback": "zeros",
    }
    base = ["", "[UNK]", "the", "film"]
    new = ["", "[UNK]", "the", "fresh", "slang", "unknown"]
    matrix = np.arange(16, dtype="float32").reshape(4, 4)
    result = remap_embeddings(
        base, new, matrix, initializer="pretrained", seed=0, **initializer_options(cfg)
    )
    np.testing.assert_array_equal(result.matrix[3], [1, 2, 3, 4])
    np.testing.assert_array_equal(result.matrix[4], [5, 6, 7, 8])
    np.testing.assert_array_equal(result.matrix[5], [0, 0, 0, 0])
    np.testing.assert_array_equal(result.matrix[2], matrix[2])
    sources = result.report.to_frame().set_index("token")["source"]
    assert sources["fresh"] == "pretrained" and sources["unknown"] == "zeros"


def test_other_initializers_take_no_file_options():
    assert initializer_options({"initializer": "uniform", "pretrained_path": "x.txt"}) == {}
