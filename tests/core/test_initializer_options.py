"""Initializers by name and keywords (`"normal", stddev=0.1`): the constant's two forms, checked
names, types and values, None as the default, and the fallback given by name."""

from __future__ import annotations

import numpy as np
import pytest
from remap_samples import BASE, NEW, embeddings

from warmstart.core.errors import RemapError
from warmstart.core.initializer_options import initializer_named
from warmstart.core.initializers import Normal, Subword, Zeros
from warmstart.core.remap import remap_embeddings
from warmstart.core.remap_plan import plan_remap


def test_constant_value_fills_every_new_row_and_matrix_form_still_works():
    emb = embeddings(len(BASE))
    added = plan_remap(BASE, NEW).added
    by_value = remap_embeddings(BASE, NEW, emb, "constant", value=0.01)
    np.testing.assert_array_equal(by_value.matrix[added], np.float32(0.01))
    assert by_value.report.source_counts["constant"] == len(added)
    matrix = np.arange(8 * 4, dtype=np.float32).reshape(8, 4)
    by_matrix = remap_embeddings(BASE, NEW, emb, "constant", matrix=matrix)
    np.testing.assert_array_equal(by_matrix.matrix[added], matrix[added])
    with pytest.raises(RemapError, match=r"exactly one of value=.* or matrix="):
        remap_embeddings(BASE, NEW, emb, "constant", value=0.01, matrix=matrix)


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("constant", {"value": "0.01"}, r"value='0.01' must be a finite number"),
        ("constant", {"value": float("nan")}, r"value=nan must be a finite number"),
        ("uniform", {"minval": True}, r"minval=True must be a finite number"),
        ("normal", {"stddev": -0.1}, r"stddev=-0.1 must be >= 0"),
        ("pretrained", {"path": 3}, r"path=3 must be a file path"),
        ("pretrained", {"fallback_options": 1}, r"fallback_options=1 must be a mapping"),
        ("zeros", {"value": 1}, r"'zeros' got unknown option\(s\) value; its options are: none"),
        ("glorot", {}, r"unknown initializer 'glorot'; use one of uniform, normal, zeros, mean"),
        ("subword", {"fallback": "subword"}, r"fallback='subword' is not a fallback initializer; "
                                             r"use one of uniform, normal, zeros, mean, mean_cov"),
        ("subword", {"fallback": Zeros(), "fallback_options": {"value": 1}},
         r"fallback_options with a fallback object; give them to the object"),
    ],
)  # fmt: skip
def test_wrong_types_and_values_are_refused_in_one_line(name, options, message):
    with pytest.raises(RemapError, match=message) as caught:
        initializer_named(name, **options)
    assert "\n" not in str(caught.value)


def test_none_means_the_default_and_fallback_options_are_checked_for_the_fallback():
    assert initializer_named("normal", mean=None, stddev=0.1) == Normal(stddev=0.1)
    made = initializer_named("subword", fallback="normal", fallback_options={"stddev": 1})
    assert made == Subword(fallback=Normal(stddev=1))
    assert initializer_named("subword", fallback="zeros", max_n=5) == Subword(
        max_n=5, fallback=Zeros()
    )
    with pytest.raises(RemapError, match=r"'normal' got unknown option\(s\) minval"):
        initializer_named("subword", fallback="normal", fallback_options={"minval": 0})
