"""Block-by-block packing, fingerprinting and matching give the results of one whole pass.

Blocks are shrunk to a few tokens so that small random vocabularies (any unicode, '\\n',
surrogates, tokens longer than 16 bytes) cross many block and join boundaries.
"""

from __future__ import annotations

import contextlib
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warmstart.core import packed_tokens, token_matching
from warmstart.core.errors import VocabularyError
from warmstart.core.packed_tokens import fingerprint_tokens, pack_tokens
from warmstart.core.token_matching import _match_exact, match_tokens
from warmstart.core.vocab import check_vocabulary

TOKENS = st.text(max_size=40)  # any unicode, incl. '', '\n', surrogates and long tokens
VOCAB = st.lists(TOKENS, min_size=1, max_size=80, unique=True)
FAST = settings(max_examples=60, deadline=None)


@contextlib.contextmanager
def tiny_blocks(block: int = 3, join: int = 2):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(packed_tokens, "BLOCK", block)
        mp.setattr(token_matching, "BLOCK", block)
        mp.setattr(packed_tokens, "_JOIN", join)
        yield


def token_bytes(packed, i: int) -> bytes:
    start, length = int(packed.starts[i]), int(packed.lengths[i])
    return packed.buffer[start : start + length].tobytes()


@FAST
@given(tokens=st.lists(TOKENS.filter(lambda t: "\n" not in t), min_size=1, max_size=80))
def test_blocks_pack_every_token_and_fingerprint_as_one_pass(tokens):
    whole = pack_tokens(tokens)
    with tiny_blocks():
        blocks = pack_tokens(tokens)
        streamed = fingerprint_tokens(tokens)
        ranged = pack_tokens(tokens, 1, len(tokens) - 1)
    for i, token in enumerate(tokens):
        assert token_bytes(blocks, i) == token.encode("utf-8", "surrogatepass")
    np.testing.assert_array_equal(blocks.fingerprint, whole.fingerprint)
    np.testing.assert_array_equal(streamed, whole.fingerprint)
    if len(tokens) > 2:
        np.testing.assert_array_equal(ranged.fingerprint, whole.fingerprint[1:-1])
    else:
        assert ranged is None


def test_blocks_refuse_what_one_pass_refuses():
    with tiny_blocks():
        assert pack_tokens(["a", "b", "c", "d\ne", "f"]) is None  # '\n' in a later block
        assert pack_tokens(["a", "b", "c", "d", b"e"]) is None  # not a str
        assert fingerprint_tokens(["a", "b", "c", "d", 5]) is None
        assert pack_tokens([]) is None


@FAST
@given(base=VOCAB, new=VOCAB)
def test_blockwise_match_is_exact_for_any_unicode(base, new):
    expected = np.array([base.index(t) if t in base else -1 for t in new])
    with tiny_blocks():
        np.testing.assert_array_equal(match_tokens(base, new), expected)


@FAST
@given(vocab=VOCAB, data=st.data())
def test_blockwise_duplicates_are_found_across_blocks(vocab, data):
    again = data.draw(st.sampled_from(vocab))
    at = data.draw(st.integers(0, len(vocab)))
    with tiny_blocks(), pytest.raises(VocabularyError, match="duplicated"):
        match_tokens(["base"], [*vocab[:at], again, *vocab[at:]])
    with tiny_blocks(), pytest.raises(VocabularyError, match="duplicated"):
        check_vocabulary([*vocab[:at], again, *vocab[at:]])


def random_vocabulary(rng: np.random.Generator, n: int) -> list[str]:
    """ASCII, accented, CJK and emoji tokens, some longer than 16 bytes, all distinct."""
    alphabet = np.array([*"abcdefghijklmnopqrstuvwxyz", "é", "ü", "中", "文", "😀"])
    chars = rng.choice(alphabet, (n, 29)).tolist()
    tokens = {"".join(row[:size]) for row, size in zip(chars, rng.integers(1, 30, n), strict=True)}
    return list(tokens)


def test_real_blocks_match_a_large_vocabulary_like_the_reference():
    """Beyond several real blocks (65,536 tokens), as a warm start at scale does."""
    rng = np.random.default_rng(7)
    base = random_vocabulary(rng, 150_000)
    kept = [base[i] for i in rng.permutation(len(base))[: len(base) * 9 // 10]]
    known = set(base)
    new = kept + [t for t in random_vocabulary(rng, 30_000) if t not in known]
    new = [new[i] for i in rng.permutation(len(new))]
    got = match_tokens(base, new)
    np.testing.assert_array_equal(got, _match_exact(base, new))
    assert np.count_nonzero(got >= 0) == len(kept)


def test_matching_memory_stays_below_two_index_sized_arrays_per_token():
    """The old whole-vocabulary pass peaked at ~104 bytes per token (heads, gathered copies);
    blocks keep it to the base's buffer, offsets, fingerprints and hash table."""
    base = ["", "[UNK]", *(f"t{i}" for i in range(300_000))]
    new = ["", "[UNK]", *(f"t{i}" for i in range(330_000))][::-1]
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        got = match_tokens(base, new)
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    assert np.count_nonzero(got >= 0) == len(base)
    per_token = peak / (len(base) + len(new))
    assert per_token < 64, f"{per_token:.0f} bytes per token"
