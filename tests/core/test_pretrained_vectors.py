"""Specification of pretrained vectors: word2vec/GloVe text and .npy files, and their errors."""

from __future__ import annotations

import numpy as np
import pytest
from remap_samples import BASE, NEW, embeddings

from warmstart.core.errors import RemapError
from warmstart.core.pretrained_vectors import load_pretrained_vectors
from warmstart.core.remap import remap_embeddings


def test_pretrained_text_with_word2vec_header_and_fallback(tmp_path):
    path = tmp_path / "vec.txt"
    path.write_text("2 4\ngreat 1 2 3 4\nnew york 5 6 7 8\n", encoding="utf-8")
    new = [*NEW, "new york"]
    result = remap_embeddings(BASE, new, embeddings(len(BASE)), "pretrained", seed=0, path=path,
                              fallback="zeros")  # fmt: skip
    np.testing.assert_array_equal(result.matrix[new.index("great")], [1, 2, 3, 4])
    np.testing.assert_array_equal(result.matrix[new.index("new york")], [5, 6, 7, 8])
    assert not result.matrix[new.index("plot")].any()
    frame = result.report.to_frame().set_index("token")
    assert frame.loc["great", "source"] == "pretrained"
    assert frame.loc["plot", "source"] == "zeros"
    assert frame.loc["film", "source"] == "copied"


def test_pretrained_glove_text_without_header(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text("plot 0.5 0.25 0 1\ngreat -1 -2 -3 -4\n", encoding="utf-8")
    tokens, matrix = load_pretrained_vectors(path)
    assert tokens == ["plot", "great"] and matrix.shape == (2, 4)
    result = remap_embeddings(BASE, NEW, embeddings(len(BASE)), "pretrained", path=path)
    assert result.report.source_counts == {"copied": 6, "pretrained": 2}


def test_pretrained_npy_with_vocabulary_file(tmp_path):
    np.save(tmp_path / "vec.npy", np.arange(8, dtype=np.float32).reshape(2, 4))
    (tmp_path / "vocab.txt").write_text("great\nzzz\n")
    options = {"path": tmp_path / "vec.npy", "vocabulary": tmp_path / "vocab.txt"}
    result = remap_embeddings(BASE, NEW, embeddings(len(BASE)), "pretrained", seed=3, **options)
    np.testing.assert_array_equal(result.matrix[NEW.index("great")], [0, 1, 2, 3])
    assert result.report.source_counts == {"copied": 6, "pretrained": 1, "uniform": 1}


def test_pretrained_errors(tmp_path):
    emb = embeddings(len(BASE))
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(RemapError, match=r"without pickle"):
        load_pretrained_vectors(tmp_path / "obj.npy", vocabulary=["a"])
    np.save(tmp_path / "v.npy", np.zeros((2, 3)))
    with pytest.raises(RemapError, match=r"pass vocabulary="):
        load_pretrained_vectors(tmp_path / "v.npy")
    with pytest.raises(RemapError, match=r"has 2 rows but its vocabulary has 1"):
        load_pretrained_vectors(tmp_path / "v.npy", vocabulary=["a"])
    with pytest.raises(RemapError, match=r"dimension 3.*use vectors of the embedding's"):
        remap_embeddings(BASE, NEW, emb, "pretrained", path=tmp_path / "v.npy",
                         vocabulary=["great", "plot"])  # fmt: skip
    (tmp_path / "bad.txt").write_text("a 1 2\nb 1\n")
    with pytest.raises(RemapError, match=r"line 2 does not hold a token and 2 values"):
        load_pretrained_vectors(tmp_path / "bad.txt")
    with pytest.raises(RemapError, match=r"does not exist"):
        load_pretrained_vectors(tmp_path / "missing.txt")
    with pytest.raises(RemapError, match=r"needs path="):
        remap_embeddings(BASE, NEW, emb, "pretrained")
