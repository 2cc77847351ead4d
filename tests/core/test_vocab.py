"""Specification of warmstart.vocab: loading, checks, exact token matching and diffs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warmstart.core import packed_tokens as packed_tokens_module
from warmstart.core.errors import VocabularyError
from warmstart.core.token_matching import _match_exact, match_tokens
from warmstart.core.vocab import (
    check_vocabulary,
    load_vocabulary,
    normalize_vocabularies,
    save_vocabulary,
)
from warmstart.core.vocab_diff import diff_vocabularies

TOKENS = st.text(max_size=20)  # any unicode, incl. '', '\n', surrogates and long tokens
VOCAB = st.lists(TOKENS, min_size=1, max_size=60, unique=True)
FAST = settings(max_examples=60, deadline=None)


# --------------------------------------------------------------------------- loading


def test_file_round_trip_keeps_empty_mask_token_first(tmp_path):
    vocab = ["", "[UNK]", "the", "café", "a b", "\t"]
    path = save_vocabulary(vocab, tmp_path / "vocab.txt")
    assert path.read_bytes().startswith(b"\n[UNK]\n")
    assert load_vocabulary(path) == vocab
    assert load_vocabulary(str(path)) == vocab


def test_file_strips_only_line_terminators(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"\r\n[UNK]\r\n x \r\nend")  # CRLF, spaces kept, no final newline
    assert load_vocabulary(path) == ["", "[UNK]", " x ", "end"]


def test_missing_file_names_the_fix(tmp_path):
    with pytest.raises(VocabularyError, match=r"does not exist.*pass the path"):
        load_vocabulary(tmp_path / "nope.txt")


def test_non_utf8_file_is_rejected(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"ok\n\xff\n")
    with pytest.raises(VocabularyError, match=r"not valid UTF-8.*re-export"):
        load_vocabulary(path)


def test_list_of_str_is_returned_without_copy():
    vocab = ["", "[UNK]", "a"]
    assert load_vocabulary(vocab) is vocab


def test_arrays_of_str_and_bytes_are_decoded():
    assert load_vocabulary(np.array(["", "a", "é"])) == ["", "a", "é"]
    assert load_vocabulary(np.array([b"", b"a", "é".encode()], dtype=object)) == ["", "a", "é"]
    assert load_vocabulary(np.array([b"x", b"y"])) == ["x", "y"]  # dtype S
    assert load_vocabulary(t for t in ["a", "b"]) == ["a", "b"]


def test_all_bytes_list_is_decoded_as_utf8():
    assert load_vocabulary([b"", b"[UNK]", "ü".encode()]) == ["", "[UNK]", "ü"]


def test_mixed_bytes_and_str_is_rejected():
    with pytest.raises(VocabularyError, match=r"mixes 1 bytes and 2 str.*decode the bytes"):
        load_vocabulary(["a", b"b", "c"])


def test_non_string_tokens_and_arrays_are_rejected():
    with pytest.raises(VocabularyError, match=r"neither str nor bytes.*not ids"):
        load_vocabulary(["a", 3])
    with pytest.raises(VocabularyError, match=r"dtype int64.*token strings"):
        load_vocabulary(np.arange(3))
    with pytest.raises(VocabularyError, match=r"must be 1-D"):
        load_vocabulary(np.array([["a", "b"]]))
    with pytest.raises(VocabularyError, match=r"single bytes object"):
        load_vocabulary(b"abc")
    with pytest.raises(VocabularyError, match=r"unsupported type"):
        load_vocabulary(3.5)


def test_invalid_utf8_bytes_token_is_rejected():
    with pytest.raises(VocabularyError, match=r"index 1.*not valid UTF-8"):
        load_vocabulary([b"a", b"\xff"])


def test_normalize_makes_bytes_base_match_str_new():
    base, new = normalize_vocabularies([b"", b"[UNK]", b"a", b"b"], ["", "[UNK]", "b", "c"])
    assert diff_vocabularies(base, new).n_shared == 3


# --------------------------------------------------------------------------- checks


def test_empty_vocabulary_is_rejected(tmp_path):
    with pytest.raises(VocabularyError, match=r"is empty; pass the vocabulary"):
        load_vocabulary([])
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(VocabularyError, match=r"is empty"):
        load_vocabulary(tmp_path / "empty.txt")


def test_duplicates_are_named_with_indices():
    with pytest.raises(VocabularyError) as err:
        check_vocabulary(["", "a", "b", "a", "", "c"])
    message = str(err.value)
    assert "2 duplicated token(s)" in message
    assert "'a' at [1, 3]" in message and "'' at [0, 4]" in message
    assert "remove the duplicates" in message


def test_duplicates_listing_is_truncated():
    with pytest.raises(VocabularyError, match=r"7 duplicated.*and 2 more"):
        check_vocabulary([str(i % 7) for i in range(14)])


def test_duplicates_with_newlines_use_the_exact_path():
    with pytest.raises(VocabularyError, match=r"duplicated"):
        check_vocabulary(["a\nb", "c", "a\nb"])


def test_distinct_oov_tokens_are_fine():
    check_vocabulary(["", "[UNK]", "[UNK1]", "[UNK2]"])


# --------------------------------------------------------------------------- matching


@FAST
@given(base=VOCAB, new=VOCAB)
def test_match_is_exact_for_any_unicode(base, new):
    got = match_tokens(base, new)
    expected = np.array([base.index(t) if t in base else -1 for t in new])
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(_match_exact(base, new), expected)


@FAST
@given(vocab=VOCAB, data=st.data())
def test_match_of_a_permutation_finds_every_token(vocab, data):
    new = data.draw(st.permutations(vocab))
    got = match_tokens(vocab, new)
    assert [vocab[i] for i in got] == list(new)


def test_match_distinguishes_prefixes_and_word_boundaries():
    base = ["abcdefgh", "abcdefghi", "abcdefgh\0", "", "abcdefgh" * 3]
    new = ["abcdefghi", "abcdefgh", "abcdefg", "abcdefgh" * 3 + "x", "", "abcdefgh\0"]
    np.testing.assert_array_equal(match_tokens(base, new), [1, 0, -1, -1, 3, 2])


def test_fingerprint_collisions_are_caught_by_byte_verification(monkeypatch):
    # A weak fingerprint (the byte length) makes every same-length pair collide.
    monkeypatch.setattr(packed_tokens_module, "_fingerprint", lambda packed: packed.lengths.copy())
    base = ["a", "bb", "x" * 20, "y" * 30 + "z"]
    new = ["b", "bb", "x" * 19 + "w", "y" * 30 + "z", "q" * 7, "r" * 7]
    np.testing.assert_array_equal(match_tokens(base, new), [-1, 1, -1, 3, -1, -1])


def test_match_rejects_duplicates_on_either_side():
    with pytest.raises(VocabularyError, match=r"base vocabulary has 1 duplicated"):
        match_tokens(["a", "a"], ["a"])
    with pytest.raises(VocabularyError, match=r"new vocabulary has 1 duplicated"):
        match_tokens(["a"], ["b", "b"])
    with pytest.raises(VocabularyError, match=r"new vocabulary is empty"):
        match_tokens(["a"], [])


# --------------------------------------------------------------------------- diff


def test_diff_classifies_every_token():
    base = ["", "[UNK]", "a", "b", "c", "d"]
    new = ["", "[UNK]", "c", "a", "x", "b"]
    diff = diff_vocabularies(base, new)
    np.testing.assert_array_equal(diff.same_row, [0, 1])
    np.testing.assert_array_equal(diff.moved_new, [2, 3, 5])
    np.testing.assert_array_equal(diff.moved_base, [4, 2, 3])
    np.testing.assert_array_equal(diff.added, [4])
    np.testing.assert_array_equal(diff.removed, [5])
    summary = diff.to_dict()
    assert json.loads(json.dumps(summary)) == summary
    # kept = every token in both (each keeps its trained row) = same_row + moved
    assert summary["kept"] == 5 and summary["same_row"] == 2 and summary["moved"] == 3
    assert "shared" not in summary  # one word for one count
    assert summary["moved_share_of_kept"] == pytest.approx(3 / 5)
    assert summary["overlap_of_new"] == pytest.approx(5 / 6)
    assert summary["retained_of_base"] == pytest.approx(5 / 6)
    frames = diff.to_frames()
    assert frames["moved"].to_dict("list") == {
        "token": ["c", "a", "b"],
        "base_index": [4, 2, 3],
        "new_index": [2, 3, 5],
    }
    assert frames["added"].to_dict("list") == {"token": ["x"], "new_index": [4]}
    assert frames["removed"].to_dict("list") == {"token": ["d"], "base_index": [5]}
    assert frames["same_row"].to_dict("list") == {"token": ["", "[UNK]"], "index": [0, 1]}
    assert set(frames) == {"same_row", "moved", "added", "removed"}


@FAST
@given(base=VOCAB, new=VOCAB)
def test_diff_counts_add_up(base, new):
    d = diff_vocabularies(base, new).to_dict()
    assert d["same_row"] + d["moved"] == d["kept"]
    assert d["kept"] + d["added"] == len(new)
    assert d["kept"] + d["removed"] == len(base)
    assert d["kept"] == len(set(base) & set(new))
