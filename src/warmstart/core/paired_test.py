"""How sure is "the candidate scores better than the champion"? A seeded paired bootstrap.

Both models are scored on the same test texts, so the texts are resampled once and both
metrics are computed on each resample: the difference candidate - champion then varies only
with what the two models disagree on, which gives a much narrower interval than comparing two
independent scores. Resample b draws the texts of row b of
`numpy.random.default_rng(seed).integers(0, texts, size=(resamples, texts), dtype=numpy.int32)`,
generated in chunks of rows (memory stays bounded; the chunk size never changes the draws).

A resample is held as counts (how often each text was drawn: a multinomial draw), summed over
texts that share (truth, candidate, champion) labels, since every metric here depends on a
text only through those three. Each metric is then a weighted sum of counts: correct texts
(accuracy), or per class TP, P (predicted) and T (true). Macro-F1 is sklearn's
`f1_score(average="macro", zero_division=0)` on the resampled labels: the mean of
F1 = 2TP / (P + T) over the labels present in the truth or in that model's predictions.
Pure NumPy, labels of any hashable kind.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["METRICS", "PairedInterval", "paired_bootstrap", "resample_counts"]

METRICS = ("accuracy", "macro_f1")
# Indices drawn per chunk (~16 MB of int32, plus as much for their groups), whatever the size.
_CHUNK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class PairedInterval:
    """`metric` of both models on all texts, their difference and its percentile interval."""

    metric: str
    candidate: float
    champion: float
    difference: float  # candidate - champion, on all texts
    low: float
    high: float
    confidence: float
    texts: int
    resamples: int
    seed: int


def resample_counts(
    group_of: np.ndarray, groups: int, resamples: int, seed: int, chunk: int | None = None
) -> Iterator[np.ndarray]:
    """(rows, groups) counts, chunk by chunk: how many of each resample's draws fall in each
    group (`group_of[i]` is text i's group; `group_of = arange(texts)` counts texts)."""
    texts = len(group_of)
    rng = np.random.default_rng(seed)
    chunk = chunk or max(1, _CHUNK_ELEMENTS // texts)
    group_of = np.asarray(group_of, dtype=np.int32)
    for start in range(0, resamples, chunk):
        rows = min(chunk, resamples - start)
        drawn = group_of[rng.integers(0, texts, size=(rows, texts), dtype=np.int32)]
        drawn += (np.arange(rows, dtype=np.int32) * groups)[:, None]  # row r: its own bins
        yield np.bincount(drawn.ravel(), minlength=rows * groups).reshape(rows, groups)


def _codes(*columns: Sequence[Hashable]) -> tuple[list[np.ndarray], int]:
    """Each column's labels as int codes shared across columns, and the number of labels."""
    index: dict[Hashable, int] = {}
    coded = [np.fromiter((index.setdefault(v, len(index)) for v in c), np.int64) for c in columns]
    return coded, len(index)


def _by_class(counts: np.ndarray, code: np.ndarray, classes: int) -> np.ndarray:
    """(rows, classes) sums of `counts` columns by class `code` (-1: counted nowhere)."""
    keep = code >= 0
    rows = counts.shape[0]
    bins = (np.arange(rows)[:, None] * classes + code[keep][None, :]).ravel()
    weights = counts[:, keep].ravel().astype(np.float64)
    sums = np.bincount(bins, weights=weights, minlength=rows * classes)
    return sums.astype(np.float64).reshape(rows, classes)  # float even when nothing is counted


def _score(
    metric: str, counts: np.ndarray, truth: np.ndarray, predicted: np.ndarray, classes: int
) -> np.ndarray:
    """`metric` of each resample (row of group `counts`; groups labelled truth, predicted)."""
    right = truth == predicted
    if metric == "accuracy":
        return counts @ right.astype(np.float64) / counts.sum(axis=1)
    tp = _by_class(counts, np.where(right, truth, -1), classes)
    both = _by_class(counts, predicted, classes) + _by_class(counts, truth, classes)
    present = both > 0
    f1 = np.divide(2 * tp, both, out=np.zeros_like(tp), where=present)
    return f1.sum(axis=1) / present.sum(axis=1)  # a resample has texts: some label is present


def paired_bootstrap(
    truth: Sequence[Hashable],
    candidate: Sequence[Hashable],
    champion: Sequence[Hashable],
    *,
    metric: str,
    confidence: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
    chunk: int | None = None,
) -> PairedInterval:
    """The percentile interval of `metric`(candidate) - `metric`(champion) over resamples of
    the texts (`truth` and each model's predicted label per text, in one order)."""
    if metric not in METRICS:
        raise ValueError(f"metric={metric!r} is unknown; use one of {METRICS}")
    if not len(truth) == len(candidate) == len(champion) > 0:
        raise ValueError(
            f"truth, candidate and champion have {len(truth)}, {len(candidate)} and "
            f"{len(champion)} labels; pass one label per test text to each (at least one text)"
        )
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence!r} must be in (0, 1), e.g. 0.95")
    if int(resamples) < 1:
        raise ValueError(f"resamples={resamples!r} must be at least 1")
    (y, a, b), classes = _codes(truth, candidate, champion)
    keys, group_of, sizes = np.unique(
        np.stack([y, a, b], axis=1), axis=0, return_inverse=True, return_counts=True
    )
    gy, ga, gb = keys.T

    def difference(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _score(metric, counts, gy, ga, classes), _score(metric, counts, gy, gb, classes)

    mine, theirs = difference(sizes[None, :])
    differences = np.empty(int(resamples))
    start = 0
    for counts in resample_counts(group_of.ravel(), len(keys), int(resamples), seed, chunk):
        ours, champ = difference(counts)
        differences[start : start + len(counts)] = ours - champ
        start += len(counts)
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(differences, [tail, 100 - tail])
    return PairedInterval(
        metric=metric,
        candidate=float(mine[0]),
        champion=float(theirs[0]),
        difference=float(mine[0] - theirs[0]),
        low=float(low),
        high=float(high),
        confidence=float(confidence),
        texts=len(y),
        resamples=int(resamples),
        seed=int(seed),
    )
