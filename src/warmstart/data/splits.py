"""Train/validation/test splits of a source's reviews, as the tutorial makes them.

The validation split follows the tutorial (`text_dataset_from_directory` with
`validation_split=0.2, seed=123`): files in path order, a seeded shuffle, the last 20% held out.
A source that splits by hash (`data.split`, `data.files.split_rule`) holds out instead the rows
whose seeded hash of their key draws below `validation_split`, without a shuffle.
`data.max_reviews` caps each split by a seeded, class-balanced draw before that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from warmstart.config.validation import check_data
from warmstart.core.errors import DataError
from warmstart.data.acl_layout import CLASSES
from warmstart.data.holdout import hashed_holdout
from warmstart.data.settings import setting
from warmstart.data.sources import read_pool

KEY = "__split_key"  # a hashed split's key column while the train pool is capped


class RowsDigest:
    """sha256 of one split's labels and texts, fed in order, batch by batch (a streamed split
    is hashed as it is read; an in-memory one in one call)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.rows = 0

    def update(self, texts: Sequence[str], labels: Sequence[Any]) -> None:
        h = self._hash
        for text, label in zip(texts, labels, strict=True):
            raw = text.encode("utf-8")
            h.update(f"{_label_text(label)}:{len(raw)}:".encode())
            h.update(raw)
        self.rows += len(texts)

    def update_arrow(self, texts: pa.Array, labels: pa.Array) -> None:
        """`update` of Arrow arrays (labels whole numbers or strings), hashed in one call:
        the records `label:bytes:text` side by side in one buffer are the same bytes."""
        if not len(texts):
            return
        if not (pa.types.is_integer(labels.type) or pa.types.is_string(labels.type)
                or pa.types.is_large_string(labels.type)):  # fmt: skip
            self.update(texts.to_pylist(), labels.to_pylist())
            return
        texts = pc.cast(texts, pa.large_string())  # int64 offsets, whatever the size
        sizes = pc.cast(pc.binary_length(texts), pa.large_string())
        label_texts = pc.cast(labels, pa.large_string())
        records = pc.binary_join_element_wise(
            label_texts, sizes, texts, pa.scalar(":", pa.large_string())
        )
        records = records.combine_chunks() if isinstance(records, pa.ChunkedArray) else records
        if len(records):
            offsets = np.frombuffer(records.buffers()[1], dtype=np.int64)
            start, end = offsets[records.offset], offsets[records.offset + len(records)]
            self._hash.update(memoryview(records.buffers()[2])[start:end])
        self.rows += len(records)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def combined_digest(parts: Sequence[RowsDigest]) -> str:
    """The data's digest from its train, validation and test digests, in that order."""
    lines = "".join(
        f"{name}:{part.rows}:{part.hexdigest()}\n"
        for name, part in zip(("train", "val", "test"), parts, strict=True)
    )
    return hashlib.sha256(lines.encode()).hexdigest()


@dataclass(frozen=True, eq=False)  # DataFrames do not compare or hash as values; use digest()
class Splits:
    """Train/validation/test texts (columns `text`, `label`; IMDB's are `negative`, `positive`).

    A streamed table's frames are bounded samples of its splits (`rows`: each split's whole
    size; `sampled`), with the digest of the whole splits computed as they were read.
    """

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    source: str
    name: str
    dropped_texts: int = 0  # rows the source left out for an empty or null text
    rows: Mapping[str, int] | None = None  # train/val/test rows, when the frames are samples
    known_digest: str | None = None  # the whole splits' digest, when the frames are samples
    _digest: str | None = field(default=None, init=False, repr=False)

    @property
    def sampled(self) -> bool:
        return self.rows is not None

    def sizes(self) -> dict[str, int]:
        """Rows of each split (the whole split's, not a sample's)."""
        if self.rows is not None:
            return dict(self.rows)
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}

    def digest(self) -> str:
        """sha256 hex of the texts and labels of all three splits, in order (`RowsDigest`).

        Lets runs record exactly which data they saw, independent of where it was read from.
        Computed once per object: reuse keys, the baseline and the logged datasets all ask.
        """
        if self.known_digest is not None:
            return self.known_digest
        if self._digest is None:
            parts = []
            for df in (self.train, self.val, self.test):
                part = RowsDigest()
                part.update(df["text"].tolist(), df["label"].tolist())
                parts.append(part)
            object.__setattr__(self, "_digest", combined_digest(parts))
        return self._digest  # type: ignore[return-value]


def load_splits(data_cfg: Mapping[str, Any]) -> Splits:
    """Load the data described by the `data` config group.

    The source's test reviews stay in path order; its train pool is capped (if asked) and split
    into train and validation. Training must hold at least two classes, and every class of
    the validation and test splits must occur in training.
    """
    check_data(data_cfg)
    name = str(data_cfg["name"])
    validation_split = float(setting(data_cfg, "validation_split", 0.2))
    split_seed = int(setting(data_cfg, "split_seed", 123))  # the tutorial's seed
    max_reviews = setting(data_cfg, "max_reviews")

    pool = read_pool(data_cfg, name)
    train_pool, test = pool.train, pool.test
    hashed = pool.split == "hash" and pool.keys is not None
    if hashed:  # the keys ride along through the cap
        train_pool = train_pool.assign(**{KEY: pool.keys.to_numpy()})
    if max_reviews is not None:
        train_pool = _limit_balanced(train_pool, int(max_reviews), split_seed)
        test = _limit_balanced(test, int(max_reviews), split_seed)
    if hashed:
        keys, train_pool = train_pool[KEY], train_pool.drop(columns=KEY)
        train, val, _ = hashed_holdout(train_pool, keys, validation_split, split_seed, "validation")
    else:
        train, val = split_train_val(train_pool, validation_split, split_seed)
    check_classes(
        {
            "train": set(train["label"].tolist()),
            "validation": set(val["label"].tolist()),
            "test": set(test["label"].tolist()),
        },
        pool.origin,
    )
    return Splits(
        train=train,
        val=val,
        test=test,
        source=pool.source,
        name=name,
        dropped_texts=pool.dropped_texts,
    )


def split_train_val(
    df: pd.DataFrame, validation_split: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded shuffle, then the last `validation_split` share is validation (as Keras does)."""
    order = np.random.RandomState(seed).permutation(len(df))
    shuffled = df.iloc[order].reset_index(drop=True)
    n_val = int(validation_split * len(df))
    if n_val == 0:
        return shuffled, shuffled.iloc[:0].reset_index(drop=True)
    train = shuffled.iloc[:-n_val].reset_index(drop=True)
    val = shuffled.iloc[-n_val:].reset_index(drop=True)
    return train, val


def _limit_balanced(df: pd.DataFrame, limit: int, seed: int) -> pd.DataFrame:
    """At most `limit` rows, an equal share per class where possible, chosen by a seeded draw,
    order kept. Classes in sorted order; the first ones take the remainder and what a short
    class cannot fill (for IMDB's labels: negative takes limit - limit // 2, pos limit // 2)."""
    if len(df) <= limit:
        return df
    keys = np.asarray([_label_text(v) for v in df["label"].tolist()], dtype=object)
    classes = sorted(set(keys.tolist()), key=_class_order)
    idx = {c: np.flatnonzero(keys == c) for c in classes}
    share, extra = divmod(limit, len(classes))
    quota = {c: share + (i < extra) for i, c in enumerate(classes)}
    spare = sum(max(0, quota[c] - len(idx[c])) for c in classes)
    quota = {c: min(quota[c], len(idx[c])) for c in classes}
    for c in classes:  # hand what short classes cannot fill to the others, in class order
        take = min(spare, len(idx[c]) - quota[c])
        quota[c] += take
        spare -= take
    rng = np.random.RandomState(seed)
    keep = np.concatenate([np.sort(rng.permutation(idx[c])[: quota[c]]) for c in classes])
    return df.iloc[np.sort(keep)].reset_index(drop=True)


def _label_text(label: object) -> str:
    """A label's identity as text (1 and 1.0 alike), as the digest and the draw see it."""
    if isinstance(label, float | np.floating) and float(label).is_integer():
        return str(int(label))
    return str(label)


def _class_order(text: str) -> tuple[int, float | str]:
    """Whole numbers numerically (IMDB's 0 before 1), then the rest by text."""
    try:
        return (0, int(text))
    except ValueError:
        return (1, text)


def check_classes(present: Mapping[str, set[Any]], origin: Any) -> None:
    """The labels each split holds (`present`: train, validation, test -> its label values):
    two or more classes in training, none in validation or test that training lacks, and
    IMDB-style negative/positive labels both in every non-empty split."""
    texts = {split: {_label_text(v) for v in values} for split, values in present.items()}
    seen = texts["train"]
    if seen <= {str(label) for _, label in CLASSES}:
        for split, values in present.items():
            for cls, label in CLASSES:
                if values and label not in values:
                    raise DataError(
                        f"the {split} split read from {origin} has no {cls} reviews (single "
                        "class); use more data (raise data.max_reviews) or fix the dataset"
                    )
    if len(seen) < 2:
        raise DataError(
            f"the training split read from {origin} has one class only ({sorted(seen)}); a "
            "classifier needs two or more: add rows of other classes or widen the data"
        )
    for split in ("validation", "test"):
        unseen = sorted(texts[split] - seen)
        if unseen:
            raise DataError(
                f"the {split} split of {origin} holds class(es) {unseen[:5]} that the training "
                "split never has; add training rows of those classes or drop them from the "
                "test data"
            )
