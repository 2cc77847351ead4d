"""Specification of warmstart.core.remap (and the new-row initializers it uses)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from remap_samples import BASE, NEW, embeddings

from warmstart.core.errors import RemapError, VocabularyError
from warmstart.core.initializer_options import INITIALIZERS
from warmstart.core.remap import apply_plan, remap_embeddings
from warmstart.core.remap_plan import plan_remap

FAST = settings(max_examples=40, deadline=None)
TOKENS = st.text(alphabet="abcdefgh[]UNK", max_size=6)
VOCAB = st.lists(TOKENS, min_size=1, max_size=40, unique=True)
DTYPES = st.sampled_from([np.float16, np.float32, np.float64])


def shared_pairs(base: list[str], new: list[str]) -> tuple[np.ndarray, np.ndarray]:
    where = {t: i for i, t in enumerate(base)}
    new_idx = np.array([j for j, t in enumerate(new) if t in where], dtype=int)
    return new_idx, np.array([where[new[j]] for j in new_idx], dtype=int)


# --------------------------------------------------------------------------- properties


@FAST
@given(base=VOCAB, new=VOCAB, dtype=DTYPES, init=st.sampled_from(["uniform", "zeros", "mean"]))
def test_shared_rows_are_copied_exactly_and_shape_dtype_hold(base, new, dtype, init):
    emb = embeddings(len(base), 3, dtype)
    result = remap_embeddings(base, new, emb, init, seed=1)
    assert result.matrix.shape == (len(new), 3) and result.matrix.dtype == dtype
    new_idx, base_idx = shared_pairs(base, new)
    np.testing.assert_array_equal(result.matrix[new_idx], emb[base_idx])
    report = result.report
    assert report.kept + report.added == len(new)
    assert report.kept + report.removed == len(base)
    assert sum(report.source_counts.values()) == len(new)
    assert report.source_counts.get("copied", 0) == len(new_idx)


@FAST
@given(base=VOCAB, new=VOCAB, dtype=DTYPES)
def test_uniform_rows_stay_in_bounds(base, new, dtype):
    result = remap_embeddings(base, new, embeddings(len(base), 5, dtype), minval=-0.2, maxval=0.1)
    added = result.report.plan.added
    assert np.all(result.matrix[added] >= dtype(-0.2)) and np.all(result.matrix[added] <= 0.1)


@FAST
@given(base=VOCAB, new=VOCAB, seed=st.integers(0, 2**32 - 1))
def test_same_seed_reproduces_and_other_seed_differs(base, new, seed):
    emb = embeddings(len(base))
    for init in ("uniform", "normal", "mean_cov")[: 3 if len(base) > 1 else 2]:
        first = remap_embeddings(base, new, emb, init, seed=seed).matrix
        again = remap_embeddings(base, new, emb, init, seed=seed).matrix
        np.testing.assert_array_equal(first, again)
        other = remap_embeddings(base, new, emb, init, seed=seed + 1).matrix
        added = plan_remap(base, new).added
        if added.size:
            assert not np.array_equal(first[added], other[added])


def test_zeros_mean_and_normal_rows():
    emb = embeddings(len(BASE), 8, np.float64)
    added = plan_remap(BASE, NEW).added
    zeros = remap_embeddings(BASE, NEW, emb, "zeros").matrix
    assert not zeros[added].any()
    mean = remap_embeddings(BASE, NEW, emb, "mean").matrix
    np.testing.assert_array_equal(mean[added], np.broadcast_to(emb.mean(axis=0), (2, 8)))
    big = remap_embeddings(
        ["x"], [f"t{i}" for i in range(20_000)], emb[:1], "normal", seed=0, min_overlap=0.0
    ).matrix
    assert abs(big.std() - 0.05) < 0.002 and abs(big.mean()) < 0.002


def test_mean_cov_samples_at_the_scale_of_the_base_covariance():
    rng = np.random.default_rng(0)
    cov = np.array([[4.0, 1.2], [1.2, 1.0]])
    emb = rng.multivariate_normal([3.0, -1.0], cov, size=4000).astype(np.float32)
    base = [f"b{i}" for i in range(4000)]
    new = [f"n{i}" for i in range(20_000)]
    rows = remap_embeddings(base, new, emb, "mean_cov", seed=0).matrix.astype(np.float64)
    np.testing.assert_allclose(rows.mean(axis=0), [3.0, -1.0], atol=0.1)
    np.testing.assert_allclose(np.cov(rows.T), np.cov(emb.T.astype(np.float64)), rtol=0.08)


def test_mean_cov_needs_two_base_rows():
    with pytest.raises(RemapError, match=r"at least 2 base rows.*use initializer='mean'"):
        remap_embeddings(["a"], ["a", "b"], embeddings(1), "mean_cov")


def test_constant_takes_only_added_rows_from_the_whole_matrix():
    emb = embeddings(len(BASE))
    const = np.full((len(NEW), 4), 7.0, dtype=np.float32)
    result = remap_embeddings(BASE, NEW, emb, "constant", matrix=const)
    plan = result.report.plan
    assert np.all(result.matrix[plan.added] == 7.0)
    np.testing.assert_array_equal(result.matrix[plan.shared_new], emb[plan.shared_base])
    assert result.report.source_counts == {"copied": 6, "constant": 2}


def test_special_tokens_are_copied_and_distinct_oov_rows_stay_distinct():
    base = ["", "[UNK]", "[UNK1]", "x"]
    new = ["", "[UNK1]", "[UNK]", "y", "x"]
    emb = embeddings(4)
    out = remap_embeddings(base, new, emb, "zeros").matrix
    np.testing.assert_array_equal(out[[0, 1, 2, 4]], emb[[0, 2, 1, 3]])


def test_bytes_base_and_str_new_overlap_fully():
    emb = embeddings(len(BASE))
    out = remap_embeddings([t.encode() for t in BASE], NEW, emb, min_overlap=0.7)
    assert out.report.kept == 6


# --------------------------------------------------------------------------- apply_plan


def test_same_plan_remaps_kernel_columns_and_bias():
    plan = plan_remap(BASE, NEW)
    kernel = np.arange(3 * len(BASE), dtype=np.float32).reshape(3, len(BASE))  # (hidden, V)
    bias = np.arange(len(BASE), dtype=np.float64)
    new_k = apply_plan(plan, kernel, axis=1, initializer="zeros").matrix
    new_b = apply_plan(plan, bias, initializer="zeros").matrix
    assert new_k.shape == (3, len(NEW)) and new_k.dtype == np.float32
    assert new_k.flags.c_contiguous
    np.testing.assert_array_equal(new_k[:, plan.shared_new], kernel[:, plan.shared_base])
    assert not new_k[:, plan.added].any()
    np.testing.assert_array_equal(new_b[plan.shared_new], bias[plan.shared_base])
    assert not new_b[plan.added].any()
    np.testing.assert_array_equal(new_b[NEW.index("film")], bias[BASE.index("film")])
    mean_b = apply_plan(plan, bias, initializer="mean").matrix
    np.testing.assert_array_equal(mean_b[plan.added], bias.mean())
    neg = apply_plan(plan, kernel, axis=-1, initializer="uniform", seed=0).matrix
    assert neg.shape == (3, len(NEW))


def test_constant_on_kernel_uses_output_layout():
    plan = plan_remap(BASE, NEW)
    kernel = np.zeros((3, len(BASE)))
    const = np.ones((3, len(NEW)))
    out = apply_plan(plan, kernel, axis=1, initializer="constant", matrix=const).matrix
    assert np.all(out[:, plan.added] == 1) and not out[:, plan.shared_new].any()
    with pytest.raises(RemapError, match=r"shape \(8, 3\).*WHOLE new vocabulary"):
        apply_plan(plan, kernel, axis=1, initializer="constant", matrix=const.T)


def test_apply_plan_errors():
    plan = plan_remap(BASE, NEW)
    with pytest.raises(RemapError, match=r"7 tokens.*1 for a Dense kernel"):
        apply_plan(plan, np.zeros((3, len(BASE))), axis=0)
    with pytest.raises(RemapError, match=r"axis 2 is out of range"):
        apply_plan(plan, np.zeros((3, len(BASE))), axis=2)


# --------------------------------------------------------------------------- errors


def test_vocabulary_length_must_match_rows():
    with pytest.raises(RemapError, match=r"7 tokens but base_embeddings has 6 rows.*including"):
        remap_embeddings(BASE, NEW, embeddings(6))


def test_duplicate_and_empty_vocabularies():
    with pytest.raises(VocabularyError, match=r"base vocabulary has 1 duplicated.*'a' at"):
        remap_embeddings(["a", "b", "a"], NEW, embeddings(3))
    with pytest.raises(VocabularyError, match=r"new vocabulary has 1 duplicated"):
        remap_embeddings(BASE, ["x", "x"], embeddings(len(BASE)))
    with pytest.raises(VocabularyError, match=r"new vocabulary is empty"):
        remap_embeddings(BASE, [], embeddings(len(BASE)))
    with pytest.raises(RemapError, match=r"0 tokens but base_embeddings has 7 rows"):
        remap_embeddings([], NEW, embeddings(len(BASE)))


def test_matrix_must_be_2d_floating():
    with pytest.raises(RemapError, match=r"must be 2-D.*apply_plan for kernels"):
        remap_embeddings(BASE, NEW, np.zeros(len(BASE), dtype=np.float32))
    with pytest.raises(RemapError, match=r"dtype int64.*floating point"):
        remap_embeddings(BASE, NEW, np.zeros((len(BASE), 4), dtype=np.int64))


def test_non_finite_values_are_counted_and_located():
    emb = embeddings(len(BASE))
    emb[3, 1] = np.nan
    emb[5, 0] = np.inf
    with pytest.raises(RemapError, match=r"2 NaN/inf value.*first at index 3.*earlier checkpoint"):
        remap_embeddings(BASE, NEW, emb)


def test_huge_finite_values_whose_sum_overflows_are_accepted():
    emb = np.full((len(BASE), 4), 3e38, dtype=np.float32)
    out = remap_embeddings(BASE, NEW, emb, "zeros").matrix
    assert np.all(out[plan_remap(BASE, NEW).shared_new] == np.float32(3e38))


def test_constant_matrix_shape_and_values_are_checked():
    emb = embeddings(len(BASE))
    with pytest.raises(RemapError, match=r"shape \(7, 4\).*\(8, 4\).*WHOLE new vocabulary"):
        remap_embeddings(BASE, NEW, emb, "constant", matrix=np.zeros((7, 4)))
    with pytest.raises(RemapError, match=r"needs exactly one of value=.* or matrix="):
        remap_embeddings(BASE, NEW, emb, "constant")
    bad = np.zeros((8, 4))
    bad[4] = np.nan
    with pytest.raises(RemapError, match=r"1 NaN|4 NaN"):
        remap_embeddings(BASE, NEW, emb, "constant", matrix=bad)


def test_low_overlap_is_refused_with_a_hint():
    emb = embeddings(len(BASE))
    with pytest.raises(RemapError, match=r"only 0 of 8.*bytes or str\(bytes\).*special tokens"):
        remap_embeddings(BASE, [f"{t}_" for t in NEW], emb, min_overlap=0.5)
    with pytest.raises(RemapError, match=r"str\(bytes\)"):
        remap_embeddings([str(t.encode()) for t in BASE], NEW, emb, min_overlap=0.5)
    assert remap_embeddings(BASE, NEW, emb, min_overlap=0.75).report.overlap == 0.75


def test_unknown_initializer_and_options_list_valid_names():
    emb = embeddings(len(BASE))
    with pytest.raises(RemapError, match=r"unknown initializer 'glorot'.*uniform, normal, zeros"):
        remap_embeddings(BASE, NEW, emb, "glorot")
    with pytest.raises(RemapError, match=r"unknown option.*stdev.*mean, stddev"):
        remap_embeddings(BASE, NEW, emb, "normal", stdev=1.0)
    with pytest.raises(RemapError, match=r"minval < maxval"):
        remap_embeddings(BASE, NEW, emb, minval=1.0, maxval=0.0)
    assert set(INITIALIZERS) == {
        "uniform", "normal", "zeros", "mean", "mean_cov", "constant", "pretrained", "subword",
    }  # fmt: skip


# --------------------------------------------------------------------------- parity


@pytest.mark.parametrize(
    "case", ["shuffled", "grown", "shrunk", "text_vectorization"], ids=lambda c: c
)
def test_shared_rows_bit_identical_to_tf_keras(case):
    import tf_keras  # pinned in requirements-test.lock: missing, this fails, never skips

    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(300)]
    if case == "shuffled":
        base, new = words, [words[i] for i in rng.permutation(300)]
    elif case == "grown":
        base, new = words[:200], [words[i] for i in rng.permutation(300)]
    elif case == "shrunk":
        base, new = words, [words[i] for i in rng.permutation(300)[:120]]
    else:
        base = ["", "[UNK]", *words[:250]]
        new = ["", "[UNK]", *[words[i] for i in rng.permutation(300)]]
    for dtype in (np.float32, np.float64):
        emb = embeddings(len(base), 16, dtype, seed=1)
        ours = remap_embeddings(base, new, emb, seed=0)
        theirs = np.asarray(tf_keras.utils.warmstart_embedding_matrix(base, new, emb, "uniform"))
        plan = ours.report.plan
        assert ours.matrix.shape == theirs.shape
        assert np.array_equal(ours.matrix[plan.shared_new], theirs[plan.shared_new])
