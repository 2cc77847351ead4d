"""A sharded table streams (`data.stream`): it learns the same vocabulary, splits and digest as
the table read into memory, makes token ids batch by batch, keeps only bounded samples, and
deals its shards out to workers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from warmstart.core.errors import ConfigError
from warmstart.data.holdout import split_draws
from warmstart.modeling.prepare import Prepared, prepare_data

VOCAB = {"max_tokens": "auto", "sequence_length": "auto"}
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda", "mu"]  # fmt: skip


def table(n: int = 480) -> pd.DataFrame:
    """Three classes, each text unique (its number twice: a token the vocabulary keeps), its
    words telling its class; lengths vary."""
    rng = np.random.default_rng(0)
    labels = [("billing", "login", "shipping")[i % 3] for i in range(n)]
    texts = [
        f"ticket n{i} n{i} " + " ".join(rng.choice(WORDS[k * 4 : k * 4 + 4], size=3 + i % 9))
        for i, k in zip(range(n), [i % 3 for i in range(n)], strict=True)
    ]
    return pd.DataFrame({"text": texts, "label": labels, "id": [f"t{i}" for i in range(n)]})


def shards(folder: Path, suffix: str = ".parquet", n: int = 4) -> Path:
    folder.mkdir()
    frame = table()
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), n)):
        part = frame.iloc[rows]
        path = folder / f"part-{i:05d}{suffix}"
        part.to_parquet(path, index=False) if suffix == ".parquet" else part.to_csv(
            path, index=False
        )
    return folder


def prepared(path: Path, **data: object) -> Prepared:
    cfg = {"name": "files", "path": str(path), "validation_split": 0.2, **data}
    return prepare_data(cfg, VOCAB, seed=1)


def rows_of(ids: np.ndarray) -> list[tuple]:
    return sorted(map(tuple, np.asarray(ids).tolist()))


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_streamed_preparation_learns_what_the_in_memory_one_learns(tmp_path, suffix):
    folder = shards(tmp_path / "shards", suffix)
    streamed, held = prepared(folder, stream="always"), prepared(folder, stream="never")
    assert streamed.streamed and not held.streamed
    assert streamed.vocabulary == held.vocabulary and streamed.labels == held.labels
    assert streamed.sequence_length == held.sequence_length
    assert streamed.splits.digest() == held.splits.digest()
    assert streamed.splits.sizes() == held.splits.sizes()
    for part in ("train", "val", "test"):  # splits smaller than sample_rows: samples are whole
        pd.testing.assert_frame_equal(
            getattr(streamed.splits, part), getattr(held.splits, part), check_dtype=False
        )
    assert (streamed.checked.ids == held.val.ids).all()
    assert (streamed.evaluated.ids == held.test.ids).all()
    assert sorted(streamed.train_labels.tolist()) == sorted(held.train.labels.astype(int).tolist())


def test_every_training_row_comes_once_an_epoch_in_a_new_order_held_out_rows_in_order(tmp_path):
    folder = shards(tmp_path / "shards")
    streamed, held = prepared(folder, stream="always"), prepared(folder, stream="never")
    truth = {tuple(i): y for i, y in zip(held.train.ids.tolist(), held.train.labels, strict=True)}
    dataset = streamed.train.dataset(32, seed=7)
    epochs = []
    for _ in range(2):
        batches = [(ids.numpy(), labels.numpy()) for ids, labels in dataset]
        ids = np.concatenate([b[0] for b in batches])
        labels = np.concatenate([b[1] for b in batches])
        assert ids.dtype == np.int32 and len(batches) == streamed.train.steps(32)
        assert rows_of(ids) == rows_of(held.train.ids)  # each row once, tokenized the same
        assert [truth[tuple(i)] for i in ids.tolist()] == labels.tolist()
        epochs.append(ids)
    assert not (epochs[0] == epochs[1]).all()  # reshuffled every epoch
    val = np.concatenate([ids.numpy() for ids, _ in streamed.val.dataset(32)])
    assert (val == held.val.ids).all()  # validation and test: the table's order


def test_samples_are_bounded_and_the_same_on_every_read_and_the_sizes_whole(tmp_path):
    folder = shards(tmp_path / "shards")
    whole = prepared(folder, stream="always")
    sampled = prepared(folder, stream="always", sample_rows=25)
    again = prepared(folder, stream="always", sample_rows=25, split_seed=123)
    assert sampled.splits.sizes() == whole.splits.sizes()
    assert sampled.splits.digest() == whole.splits.digest()  # of the whole splits
    for part in ("train", "val", "test"):
        sample = getattr(sampled.splits, part)
        assert len(sample) == 25 < whole.splits.sizes()[part]
        assert set(sample["text"]) <= set(getattr(whole.splits, part)["text"])
        assert sample.equals(getattr(again.splits, part))
        # the 25 rows of the whole split with the smallest draws (test's half of a row's hash
        # for test, validation's for the rest), in table order
        rows = getattr(whole.splits, part)
        test_draws, validation_draws = split_draws(rows["text"].tolist(), 123)
        draws = test_draws if part == "test" else validation_draws
        expected = rows.iloc[np.sort(np.argsort(draws)[:25])].reset_index(drop=True)
        assert sample.equals(expected)
    assert len(sampled.evaluated.ids) == 25 and len(sampled.checked.ids) == 25


def test_each_worker_reads_its_own_shards_and_all_take_the_same_steps(tmp_path):
    train = prepared(shards(tmp_path / "shards"), stream="always").train
    mine, theirs = train.shards(0, 2), train.shards(1, 2)
    names = [{Path(part.shard).name for part in w} for w in (mine, theirs)]
    assert names == [{"part-00000.parquet", "part-00002.parquet"},
                     {"part-00001.parquet", "part-00003.parquet"}]  # fmt: skip
    assert train.rows_of(0, 2) + train.rows_of(1, 2) == train.rows
    steps = train.steps(32, workers=2)  # each worker takes 16 rows a step
    assert steps == min(train.rows_of(0, 2), train.rows_of(1, 2)) // 16
    whole = train.dataset(64, seed=1)
    passes = []
    for worker in (0, 1):  # one pass over each worker's own rows (its dataset repeats)
        own = train.dataset(32, seed=1, worker=worker, workers=2)
        batches = own.take(-(-train.rows_of(worker, 2) // 32))
        passes.append(rows_of(np.concatenate([ids.numpy() for ids, _ in batches])))
    assert [len(p) for p in passes] == [train.rows_of(0, 2), train.rows_of(1, 2)]
    assert sorted(passes[0] + passes[1]) == rows_of(np.concatenate([i for i, _ in whole]))
    assert not set(passes[0]) & set(passes[1])


@pytest.mark.parametrize(
    "data, says",
    [
        ({"stream": "always", "path": "ONE"}, "data.stream=always streams shards"),
        ({"split": "stratified"}, "set data.split=auto or hash, or data.stream=never"),
        ({"max_reviews": 100}, "set data.max_reviews=null, or data.stream=never"),
    ],
)
def test_what_needs_the_whole_table_is_refused_in_one_line_naming_the_key(tmp_path, data, says):
    folder = shards(tmp_path / "shards")
    one = tmp_path / "one.parquet"
    table().to_parquet(one, index=False)
    settings = {**data, "path": str(one) if data.get("path") == "ONE" else str(folder)}
    with pytest.raises(ConfigError, match=says) as raised:
        prepare_data({"name": "files", **settings}, VOCAB, seed=1)
    assert "\n" not in str(raised.value)


def test_the_split_rows_wait_on_local_disk_under_the_cache_dir_and_go_with_the_data(tmp_path):
    """Epochs read each split's rows from files the scan wrote (no second decode of the
    table); the files live under data.cache_dir and are removed with the prepared data."""
    import gc

    from warmstart.data.split_cache import SplitCache
    from warmstart.modeling.prepare import _prepared

    folder = shards(tmp_path / "shards")
    data = prepared(folder, stream="always", cache_dir=str(tmp_path / "cache"))
    (where,) = (tmp_path / "cache").glob("warmstart-stream-*")
    for split in (data.train, data.val, data.test):
        assert sum(SplitCache.read(p).num_rows for p in split.shards()) == split.rows
    assert len(list(where.glob("*.arrow"))) == 3 * 4  # a file per shard and split
    del data, split
    _prepared.cache_clear()
    gc.collect()
    assert not where.exists()
