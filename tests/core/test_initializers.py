"""Initializer objects: their options are their fields, with today's defaults, each checked
when the object is made (one line naming the fix), and they fill rows as their names do."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from remap_samples import BASE, NEW, embeddings

from warmstart.core.errors import RemapError
from warmstart.core.initializers import (
    PLAIN,
    Constant,
    Mean,
    MeanCov,
    Normal,
    Pretrained,
    Subword,
    Uniform,
    Zeros,
)
from warmstart.core.remap import apply_plan, remap_embeddings
from warmstart.core.remap_plan import plan_remap


def options(initializer) -> dict:
    return {f.name: getattr(initializer, f.name) for f in dataclasses.fields(initializer)}


def test_defaults_are_the_initializers_of_before():
    assert options(Uniform()) == {"minval": -0.05, "maxval": 0.05}
    assert options(Normal()) == {"mean": 0.0, "stddev": 0.05}
    assert options(Zeros()) == options(Mean()) == options(MeanCov()) == {}
    assert options(Subword()) == {
        "min_n": 3, "max_n": 6, "neighbours": 5, "max_df": 100, "min_shared": 2,
        "fallback": Uniform(),
    }  # fmt: skip
    assert options(Pretrained(path="v.txt")) == {
        "path": "v.txt", "vocabulary": None, "vectors": None, "fallback": Uniform(),
    }  # fmt: skip
    assert [kind.name for kind in PLAIN] == [
        "uniform", "normal", "zeros", "mean", "mean_cov", "constant",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Uniform(minval="0"), r"'uniform' option minval='0' must be a finite number"),
        (lambda: Uniform(maxval=float("inf")), r"maxval=inf must be a finite number"),
        (lambda: Uniform(minval=0.1), r"needs minval < maxval, got minval=0.1, maxval=0.05"),
        (lambda: Normal(mean=True), r"'normal' option mean=True must be a finite number"),
        (lambda: Normal(stddev=-0.1), r"stddev=-0.1 must be >= 0; pass e.g. stddev=0.05"),
        (lambda: Constant(), r"needs exactly one of value=<number>.*warmstart\.initializer\.value"),
        (lambda: Constant(value=1, matrix=np.ones(3)), r"needs exactly one of value="),
        (lambda: Constant(value=float("nan")), r"value=nan must be a finite number"),
        (lambda: Pretrained(path=3), r"'pretrained' option path=3 must be a file path"),
        (lambda: Subword(neighbours=0), r"neighbours=0 must be a whole number >= 1"),
        (lambda: Subword(max_df=2.5), r"max_df=2.5 must be a whole number >= 1"),
        (lambda: Subword(min_n=4, max_n=3), r"needs min_n <= max_n, got min_n=4, max_n=3"),
        (lambda: Subword(fallback=Subword()), r"fallback=Subword\(.*\) is not a fallback"),
        (lambda: Pretrained(path="v", fallback="zeros"), r"fallback='zeros' is not a fallback.*"
                                                         r"use one of Uniform\(\), Normal\(\)"),
    ],
)  # fmt: skip
def test_each_bad_option_is_refused_when_made_in_one_line(make, message):
    with pytest.raises(RemapError, match=message) as caught:
        make()
    assert "\n" not in str(caught.value)


def test_an_object_fills_rows_as_its_name_and_options_do():
    emb = embeddings(len(BASE))
    by_object = remap_embeddings(BASE, NEW, emb, Normal(stddev=0.2), seed=3)
    by_name = remap_embeddings(BASE, NEW, emb, "normal", seed=3, stddev=0.2)
    np.testing.assert_array_equal(by_object.matrix, by_name.matrix)
    assert by_object.report.initializer == "normal"
    assert by_object.report.source_counts == {"copied": 6, "normal": 2}


def test_options_go_to_the_object_not_beside_it():
    with pytest.raises(RemapError, match=r"give options to the object, e\.g\. Normal\(stddev"):
        remap_embeddings(BASE, NEW, embeddings(len(BASE)), Normal(), stddev=0.2)


def test_a_constant_matrix_object_follows_the_remapped_axis():
    plan = plan_remap(BASE, NEW)
    kernel = embeddings(len(BASE)).T  # (hidden, V): the vocabulary on axis 1
    const = np.full((4, len(NEW)), 7.0, dtype=np.float32)
    out = apply_plan(plan, kernel, axis=1, initializer=Constant(matrix=const)).matrix
    np.testing.assert_array_equal(out[:, plan.added], 7.0)
    np.testing.assert_array_equal(out[:, plan.shared_new], kernel[:, plan.shared_base])


def test_pretrained_and_subword_hand_the_rows_they_cannot_fill_to_their_fallback():
    emb = embeddings(len(BASE))
    vectors = Pretrained(vocabulary=["great"], vectors=np.ones((1, 4)), fallback=Constant(value=2))
    result = remap_embeddings(BASE, NEW, emb, vectors)
    assert result.report.source_counts == {"copied": 6, "pretrained": 1, "constant": 1}
    np.testing.assert_array_equal(result.matrix[NEW.index("plot")], 2.0)
    base, new = ["", "[UNK]", "watch", "watchable"], ["", "[UNK]", "unwatchable", "zzz"]
    composed = remap_embeddings(base, new, embeddings(4), Subword(fallback=Zeros()))
    frame = composed.report.to_frame().set_index("token")
    assert frame.loc["unwatchable", "source"] == "subword" and frame.loc["zzz", "source"] == "zeros"
    assert not composed.matrix[new.index("zzz")].any()


def test_no_rows_to_fill_reads_nothing():
    """A remap adding no token never opens the pretrained file (it need not exist)."""
    result = remap_embeddings(BASE, BASE, embeddings(len(BASE)), Pretrained(path="absent.txt"))
    assert result.report.source_counts == {"copied": len(BASE)}
