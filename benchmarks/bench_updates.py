"""Where warm start pays, with early stopping: warm against cold on five updates, 3 seeds.

    python benchmarks/bench_updates.py [--cases a,b,c,d] [--seeds 1,2,3] [--small]
        [--imdb-path ARCHIVE] [--news-path JSONL_GZ] [--check] [--target NAME=LIMIT]

Untracked (no MLflow), with the project's own code and default settings (masked padding,
dim 64, hidden units auto, Adam 0.005, batch/length/vocabulary auto, early stopping on
val_loss keeping the best weights; the code version is printed, the defaults move). For each
case and seed: a base trained on the "before" data, then on the update's data a warm start
mirroring stage `warm` (uniform new rows, the base's head with its output layer remapped by
class when classes were added, new classes `zeros`, Adam's state carried over), and a cold
start.

Cases: (a) IMDB, 5,000 reviews / 5,000 tokens -> 20,000 reviews / 20,000 tokens (25% of the
new vocabulary shared, so warmstart.min_overlap is lowered to 0.2 from 0.5); (b) 20
Newsgroups, base on one half of the train split, update on the other half; (c) the same with
label drift, the base seeing 15 of the 20 groups; (d) the generated ticket table (3 classes,
then a 4th and new words after 2024-06-01) at 1,000 and 10,000 rows, split by era as
`experiment=own_data` does.

Reported per case: epochs to the stop and to the best epoch, training seconds (the sum of
`FitResult.epoch_seconds`), test accuracy and macro-F1 (mean ± sd), the paired bootstrap of
warm - cold macro-F1 on the test texts per seed, the new-token slice (test texts holding a
token the update's vocabulary added over the base's), the TF-IDF + LinearSVC anchor, and the
product goal: warm's training seconds until its test macro-F1 (scored after each epoch by a
callback whose own seconds are taken out of the timed epoch) first reaches cold's final test
macro-F1 - 0.005, over cold's total training seconds.

Targets (benchmarks/gate.py; `--check` exits 1 on a miss, a failed case or absent data):
for every case, cold (the defaults) within 0.10 of the TF-IDF anchor's macro-F1
(`anchor_gap_<case>`); for case (b), where docs/benchmarks.md publishes that warm start pays,
the product goal <= 1/3 on every seed (`time_ratio_b`), under a quarter of cold's time
(`time_ratio_quarter_b`), cold's score passed after one epoch (`reach_epochs_b`) and warm's 95%
interval above cold's on every seed (`warm_above_cold_b`). The other cases' time ratios are
printed, not gated: the goal is published as missed there.

`--small` is `--cases b --seeds 1` (one seed of the case every warm-start target is published
for, about two minutes here); the full study is `--cases a,b,c,d --seeds 1,2,3`.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import gate
import keras
import numpy as np
import pandas as pd
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig
from sklearn.metrics import accuracy_score, f1_score

from warmstart.config import CONFIG_DIR, PROJECT_ROOT, with_overlay
from warmstart.config.initializer import initializer_of
from warmstart.core.labels import label_names
from warmstart.core.paired_test import PairedInterval, paired_bootstrap
from warmstart.data.example_table import example_table
from warmstart.modeling import optimizer_state
from warmstart.modeling.baseline import tfidf_baseline
from warmstart.modeling.fit import Arrays, FitResult, fit, strategy
from warmstart.modeling.heads import hidden_units
from warmstart.modeling.model import build_model, embedding_matrix_of, head_of, load_model
from warmstart.modeling.prepare import Prepared, prepare_data
from warmstart.modeling.warm_start import warm_start_model

SHARED = PROJECT_ROOT.parent / "shared" / "data"
IMDB = SHARED / "aclImdb_v1_labeled.tar.gz"
NEWS = SHARED / "20news_bydate.jsonl.gz"
GOAL = 1 / 3  # warm's seconds to cold's score over cold's seconds
# README: warm reaches cold's final score "in under a quarter of cold's time". It read 0.17-0.18
# (a fifth) before whole epochs were timed; since, 0.18-0.21: warm's one epoch carries the
# graph's tracing, which cold's seven dilute.
QUARTER = 1 / 4
REACH_EPOCHS = 1  # docs: in (b) warm "passes cold's final score after one epoch"
GOAL_CASES = ("b",)  # where the goal is published as met; elsewhere it is printed only
SMALL_CASES, SMALL_SEEDS = "b", "1"
SLACK = 0.005  # "reaches cold's score": within this of cold's final test macro-F1
BASELINE_GAP = 0.10  # cold (the defaults) within this of the TF-IDF anchor's macro-F1
PREPARE_SEED = 0  # see `prepared`
HELD_OUT_GROUPS = 5  # case (c): the base sees 20 - 5 groups
TICKET_ROWS = (1_000, 10_000)
IMDB_MIN_OVERLAP = 0.2  # case (a) only, printed
TICKET_OLD_SHARE = 1200 / 2100  # example_table's own old:new ratio


class Absent(Exception):
    """A case's data file is missing (a skip, and a failure under --check)."""


@dataclasses.dataclass
class Case:
    key: str  # the summary's row name
    title: str
    overrides: list[str]


@dataclasses.dataclass
class Run:
    """One trained model of one seed: its fit and its test predictions."""

    fit: FitResult
    predicted: np.ndarray
    curve: list[float]  # test macro-F1 after each epoch (not timed)
    start_f1: float | None = None  # warm: before any training
    remap_seconds: float = 0.0

    @property
    def seconds(self) -> float:
        return float(sum(self.fit.epoch_seconds))

    @property
    def epochs(self) -> int:
        return self.fit.stopped_epoch + 1

    def epochs_to(self, target: float) -> int | None:
        """Epochs until the test macro-F1 first reaches `target` (None: never)."""
        return next((i + 1 for i, f1 in enumerate(self.curve) if f1 >= target - 1e-12), None)

    def seconds_to(self, target: float) -> float | None:
        """Training seconds until the test macro-F1 first reaches `target` (None: never)."""
        epochs = self.epochs_to(target)
        return None if epochs is None else float(sum(self.fit.epoch_seconds[:epochs]))


@dataclasses.dataclass
class SeedResult:
    seed: int
    base: Run
    warm: Run
    cold: Run
    truth: np.ndarray
    in_slice: np.ndarray  # test texts holding a token the update added
    interval: PairedInterval

    def f1(self, run: Run, mask: np.ndarray | None = None) -> float:
        keep = slice(None) if mask is None else mask
        return macro_f1(self.truth[keep], run.predicted[keep])

    def reach_epochs(self) -> str:
        """Warm's epochs to cold's score over cold's epochs (the time ratio without timing)."""
        return f"{maybe(self.warm.epochs_to(self.f1(self.cold) - SLACK), 'd')}/{self.cold.epochs}"

    def ratio(self) -> float | None:
        """The product goal's ratio (None: warm never reached cold's score)."""
        reached = self.warm.seconds_to(self.f1(self.cold) - SLACK)
        return None if reached is None else reached / self.cold.seconds

    def cold_self_ratio(self) -> float | None:
        reached = self.cold.seconds_to(self.f1(self.cold) - SLACK)
        return None if reached is None else reached / self.cold.seconds


@dataclasses.dataclass
class CaseResult:
    case: Case
    seeds: list[SeedResult]
    baseline_f1: float
    baseline_accuracy: float
    facts: list[str]


# ---------------------------------------------------------------- model plumbing


def macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    """sklearn's macro-F1, as `paired_bootstrap` computes it (labels in truth or predictions)."""
    if len(truth) == 0:
        return float("nan")
    return float(f1_score(truth, predicted, average="macro", zero_division=0))


def predict(model: keras.Model, ids: np.ndarray) -> np.ndarray:
    """Class indices: a single logit above 0, else the largest of K logits."""
    logits = model.predict(ids, batch_size=1024, verbose=0)
    if logits.shape[-1] == 1:
        return (logits[:, 0] > 0).astype(np.int64)
    return logits.argmax(axis=1).astype(np.int64)


class TestScore(keras.callbacks.Callback):
    """Test macro-F1 after each epoch, and its own seconds: `fit`'s epoch timer times the whole
    epoch, this scoring included, so `train` takes them back out (a user's run does not score
    the test split every epoch)."""

    def __init__(self, test: Arrays) -> None:
        super().__init__()
        self.test = test
        self.truth = test.labels.astype(np.int64)
        self.curve: list[float] = []
        self.seconds: list[float] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        start = time.perf_counter()
        self.curve.append(macro_f1(self.truth, predict(self.model, self.test.ids)))
        self.seconds.append(time.perf_counter() - start)


def new_model(cfg: DictConfig, data: Prepared, **warm) -> keras.Model:
    """As `stages._tracked_fit.new_model`: the configured model, in the strategy's scope."""
    with strategy(cfg.train).scope():
        return build_model(vocab_size=len(data.vocabulary), sequence_length=data.sequence_length,
                           model_cfg=cfg.model, num_classes=len(data.labels), **warm)  # fmt: skip


def train(model: keras.Model, data: Prepared, cfg: DictConfig, *, scored: bool,
          on_compiled: Callable[[keras.Model], None] | None = None) -> Run:  # fmt: skip
    """As `stages._tracked_fit.train_tracked` (seed set, then fit), minus the tracking."""
    scorer = TestScore(data.test)
    keras.utils.set_random_seed(int(cfg.seed))
    result = fit(model, train=data.train, val=data.val, test=None, train_cfg=cfg.train,
                 callbacks=[scorer] if scored else [], on_compiled=on_compiled)  # fmt: skip
    if scored:  # the epochs without the benchmark's own scoring
        result.epoch_seconds = [e - s for e, s in zip(result.epoch_seconds, scorer.seconds,
                                                      strict=True)]  # fmt: skip
    return Run(fit=result, predicted=predict(model, data.test.ids) if scored else np.empty(0),
               curve=scorer.curve)  # fmt: skip


def prepared(data_cfg, vocab_cfg, seed: int) -> Prepared:
    """`prepare_data`, shared by every seed of a case.

    Splits (data.split_seed) and vocabulary do not depend on the run's seed, only
    prepare_data's cache key does; so every seed asks for the same key (the product's cache
    holds the base's and the update's entries) and the run's seed is then set as
    prepare_data would have set it.
    """
    data = prepare_data(data_cfg, vocab_cfg, PREPARE_SEED)
    keras.utils.set_random_seed(seed)
    return data


@dataclasses.dataclass
class SourceModel:
    """The base as the warm start reads it (`modeling.warm_start.Source`)."""

    vocabulary: list[str]
    labels: list
    embedding: np.ndarray


def one_seed(cfg: DictConfig, work: Path) -> SeedResult:
    """Base, then warm (as stage `warm` does it) and cold on the update, for cfg.seed."""
    seed = int(cfg.seed)
    keras.backend.clear_session()
    base_cfg = with_overlay(cfg, "base")
    old = prepared(base_cfg.data, base_cfg.vocab, seed)
    base_model = new_model(base_cfg, old)
    base = train(base_model, old, base_cfg, scored=False)
    saved = dict(optimizer_state.capture(base_model))  # as registered: numpy arrays
    head_file = work / f"head-{seed}.keras"
    head_of(base_model).save(head_file)
    embedding = embedding_matrix_of(base_model)
    del base_model

    new = prepared(cfg.data, cfg.vocab, seed)
    warm_cfg = cfg.warmstart
    start = time.perf_counter()
    with strategy(cfg.train).scope():  # as stage `warm_start`: one call, then training
        warm_start = warm_start_model(
            SourceModel(old.vocabulary, list(old.labels), embedding),
            load_model(str(head_file)),
            new.vocabulary,
            new.labels,
            model_cfg=cfg.model,
            sequence_length=new.sequence_length,
            initializer=initializer_of(warm_cfg),
            label_initializer=str(warm_cfg.label_initializer),
            seed=seed,
            min_overlap=float(warm_cfg.min_overlap),
        )
    warm_model = warm_start.model
    remap_seconds = time.perf_counter() - start
    del embedding
    restore = None
    if warm_cfg.optimizer_state:

        def restore(model: keras.Model) -> None:
            warm_start.restore_optimizer(saved)

    start_f1 = macro_f1(new.test.labels.astype(np.int64), predict(warm_model, new.test.ids))
    warm = train(warm_model, new, cfg, scored=True, on_compiled=restore)
    warm.start_f1, warm.remap_seconds = start_f1, remap_seconds
    del warm_model

    keras.utils.set_random_seed(seed)  # as stage `cold`: prepare (seeds), build, train
    cold = train(new_model(cfg, new), new, cfg, scored=True)

    truth = new.test.labels.astype(np.int64)
    added = np.flatnonzero(~np.isin(np.asarray(new.vocabulary, dtype=object),
                                    np.asarray(old.vocabulary, dtype=object)))  # fmt: skip
    in_slice = np.isin(new.test.ids, added).any(axis=1)
    interval = paired_bootstrap(truth, warm.predicted, cold.predicted, metric="macro_f1",
                                seed=seed)  # fmt: skip
    return SeedResult(seed, base, warm, cold, truth, in_slice, interval)


def facts_of(cfg: DictConfig) -> list[str]:
    """What the base and the update hold (their entries are in prepare_data's cache)."""
    base_cfg = with_overlay(cfg, "base")
    old = prepare_data(base_cfg.data, base_cfg.vocab, PREPARE_SEED)
    new = prepare_data(cfg.data, cfg.vocab, PREPARE_SEED)
    shared = len(set(old.vocabulary) & set(new.vocabulary))
    lines = []
    for name, data in (("base", old), ("update", new)):
        lines.append(
            f"{name}: {len(data.splits.train):,} train / {len(data.splits.val):,} val / "
            f"{len(data.splits.test):,} test rows, {len(data.labels)} classes, vocabulary "
            f"{len(data.vocabulary):,}, sequence length {data.sequence_length}, hidden units "
            f"{hidden_units(cfg.model, len(data.labels))}"
        )
    if len(old.labels) != len(new.labels):
        lines.append("warm keeps the base's head, hidden layer included (its hidden units)")
    lines.append(f"vocabulary: {shared:,} tokens shared, {len(new.vocabulary) - shared:,} "
                 f"added, {len(old.vocabulary) - shared:,} removed")  # fmt: skip
    added = sorted(set(label_names(new.labels)) - set(label_names(old.labels)))
    if added:
        lines.append(f"classes added: {', '.join(added)} (output columns start at zeros)")
    return lines


def run_case(case: Case, seeds: list[int], work: Path) -> CaseResult:
    results = []
    for seed in seeds:
        cfg = config(work, *case.overrides, f"seed={seed}")
        start = time.perf_counter()
        results.append(one_seed(cfg, work))
        print(f"  case {case.key} seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)
    new = prepare_data(cfg.data, cfg.vocab, PREPARE_SEED)
    facts = facts_of(cfg)
    start = time.perf_counter()
    anchor = tfidf_baseline(new.splits.train["text"].tolist(), new.splits.train["label"].tolist(),
                            new.splits.test["text"].tolist(),
                            new.splits.test["label"].tolist())  # fmt: skip
    facts.append(f"batch {results[0].warm.fit.batch_size} (auto), TF-IDF anchor fitted in "
                 f"{time.perf_counter() - start:.1f} s")  # fmt: skip
    return CaseResult(case, results, anchor.macro_f1, anchor.accuracy, facts)


# ---------------------------------------------------------------- cases and their data


def config(work: Path, *overrides: str) -> DictConfig:
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose("config", overrides=[f"paths.cache_dir={work / 'cache'}", *overrides])


def imdb_case(path: Path) -> Case:
    if not path.exists():
        raise Absent(f"case a: {path} is absent; pass --imdb-path to an aclImdb archive")
    return Case("a", "IMDB drift: base 5,000 reviews / 5,000 tokens -> update 20,000 / 20,000",
                ["data=imdb", f"data.path={path}", "base.data.max_reviews=6250",
                 "base.vocab.max_tokens=5000", "vocab.max_tokens=20000",
                 # 5,000 of 20,000 tokens shared (25%): the default min_overlap=0.5 refuses
                 # this intended growth, as the error says to, it is lowered here
                 f"warmstart.min_overlap={IMDB_MIN_OVERLAP}"])  # fmt: skip


@functools.cache
def news_frames(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(train half 1, train half 2, test): halves drawn per group with a fixed seed."""
    if not path.exists():
        raise Absent(f"cases b, c: {path} is absent; pass --news-path to 20news_bydate.jsonl.gz")
    rows = pd.read_json(path, lines=True)[["text", "label", "split"]]
    train = rows[rows["split"] == "train"].reset_index(drop=True)
    rng = np.random.default_rng(0)
    first = np.zeros(len(train), dtype=bool)
    for _, index in train.groupby("label").indices.items():
        first[rng.permutation(index)[: len(index) // 2]] = True
    test = rows[rows["split"] == "test"]
    return (train[first][["text", "label"]], train[~first][["text", "label"]],
            test[["text", "label"]])  # fmt: skip


def write_jsonl(frame: pd.DataFrame, path: Path) -> str:
    frame.to_json(path, orient="records", lines=True, force_ascii=False)
    return str(path)


def news_case(path: Path, work: Path) -> Case:
    half1, half2, test = news_frames(path)
    return Case("b", "20 Newsgroups: base on train half 1, update on train half 2",
                ["data=files", f"data.path={write_jsonl(half2, work / 'news-half2.jsonl')}",
                 f"data.test_path={write_jsonl(test, work / 'news-test.jsonl')}",
                 f"base.data.path={write_jsonl(half1, work / 'news-half1.jsonl')}"])  # fmt: skip


def held_out_groups(groups: list[str]) -> list[str]:
    """Every 4th group in sorted order (a hardware, a rec, a sci, a religion, a talk group)."""
    return sorted(groups)[3::4][:HELD_OUT_GROUPS]


def news_label_case(path: Path, work: Path) -> Case:
    half1, half2, test = news_frames(path)
    out = held_out_groups(half1["label"].unique().tolist())
    base_train = half1[~half1["label"].isin(out)]
    base_test = test[~test["label"].isin(out)]
    return Case("c", f"20 Newsgroups label drift: base on 15 groups of half 1 (without "
                     f"{', '.join(out)}), update on all 20 of half 2",
                ["data=files", f"data.path={write_jsonl(half2, work / 'news-half2.jsonl')}",
                 f"data.test_path={write_jsonl(test, work / 'news-test.jsonl')}",
                 f"base.data.path={write_jsonl(base_train, work / 'news-half1-15.jsonl')}",
                 f"base.data.test_path={write_jsonl(base_test, work / 'news-test-15.jsonl')}",
                 ])  # fmt: skip


def ticket_case(rows: int, work: Path) -> Case:
    n_old = round(rows * TICKET_OLD_SHARE)
    path = work / f"tickets-{rows}.csv"
    example_table(n_old=n_old, n_new=rows - n_old, seed=0).to_csv(path, index=False)
    return Case(f"d {rows // 1000}k", f"ticket table, {rows:,} rows ({n_old:,} before "
                f"2024-06-01, {rows - n_old:,} after), experiment=own_data",
                ["experiment=own_data", f"data.path={path}"])  # fmt: skip


def cases_of(keys: list[str], args, work: Path) -> list[Case | Absent]:
    out: list[Case | Absent] = []
    makers = {
        "a": [lambda: imdb_case(Path(args.imdb_path))],
        "b": [lambda: news_case(Path(args.news_path), work)],
        "c": [lambda: news_label_case(Path(args.news_path), work)],
        "d": [functools.partial(ticket_case, rows, work) for rows in TICKET_ROWS],
    }
    for key in keys:
        for make in makers[key]:
            try:
                out.append(make())
            except Absent as absent:
                out.append(absent)
    return out


# ---------------------------------------------------------------- tables


def spread(values: list[float], digits: int = 3) -> str:
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.{digits}f}±{sd:.{digits}f}"


def maybe(value: float | None, fmt: str = ".2f") -> str:
    return "never" if value is None else format(value, fmt)


def run_row(s: SeedResult, name: str) -> str:
    """One seed's base, warm or cold row of a case's table."""
    run: Run = getattr(s, name)
    cells = [f"{s.seed:<5}{name:<6}{run.epochs:>5}{run.fit.best_epoch + 1:>5}",
             f"{run.seconds:>9.1f}{statistics.median(run.fit.epoch_seconds):>9.2f}",
             f"{run.remap_seconds:>8.2f}" if name == "warm" else " " * 8,
             f"{run.start_f1:>7.3f}" if run.start_f1 is not None else " " * 7]  # fmt: skip
    if name != "base":
        reach = run.seconds_to(s.f1(s.cold) - SLACK)
        ratio = None if reach is None else reach / s.cold.seconds
        cells += [f"{accuracy_score(s.truth, run.predicted):>7.3f}{s.f1(run):>7.3f}",
                  f"{s.f1(run, s.in_slice):>9.3f}",
                  f"{maybe(run.epochs_to(s.f1(s.cold) - SLACK), 'd'):>9}",
                  f"{maybe(reach, '.1f'):>9}{maybe(ratio):>8}"]  # fmt: skip
    return "  " + "".join(cells)


def mean_row(seeds: list[SeedResult], name: str) -> str:
    runs = [(s, getattr(s, name)) for s in seeds]
    return (f"  {'mean':<5}{name:<6}"
            f"  stop {spread([r.fit.stopped_epoch + 1 for _, r in runs], 1)}"
            f"  best {spread([r.fit.best_epoch + 1 for _, r in runs], 1)}"
            f"  train s {spread([r.seconds for _, r in runs], 1)}"
            f"  acc {spread([accuracy_score(s.truth, r.predicted) for s, r in runs])}"
            f"  F1 {spread([s.f1(r) for s, r in runs])}"
            f"  slice F1 {spread([s.f1(r, s.in_slice) for s, r in runs])}")  # fmt: skip


def print_case(result: CaseResult) -> None:
    case, seeds = result.case, result.seeds
    print(f"\ncase ({case.key}) {case.title}")
    print(f"  overrides: {' '.join(case.overrides)}")
    for line in result.facts:
        print(f"  {line}")
    n_slice = int(seeds[0].in_slice.sum())
    print(f"  new-token slice: {n_slice:,} of {len(seeds[0].truth):,} test texts")
    print(f"  TF-IDF + LinearSVC anchor: test accuracy {result.baseline_accuracy:.3f}, "
          f"macro-F1 {result.baseline_f1:.3f}")  # fmt: skip
    print("  (stop/best: epochs to the early stop and to the kept epoch; F1 @0: warm before "
          "training; epoch s: median epoch seconds; reach ep / reach s: epochs / training "
          "seconds until the test macro-F1 first reaches cold's final - 0.005; /cold s: "
          "reach s over cold's training seconds)")  # fmt: skip
    print(f"  {'seed':<5}{'run':<6}{'stop':>5}{'best':>5}{'train s':>9}{'epoch s':>9}"
          f"{'remap s':>8}{'F1 @0':>7}{'acc':>7}{'F1':>7}{'slice F1':>9}"
          f"{'reach ep':>9}{'reach s':>9}{'/cold s':>8}")  # fmt: skip
    for s in seeds:
        for name in ("base", "warm", "cold"):
            print(run_row(s, name))
    for name in ("warm", "cold"):
        print(mean_row(seeds, name))
    print("  paired bootstrap, warm - cold test macro-F1 (1,000 resamples, 95%): " + "; ".join(
        f"seed {s.seed} {s.interval.difference:+.3f} [{s.interval.low:+.3f}, "
        f"{s.interval.high:+.3f}]" for s in seeds))  # fmt: skip
    print("  product goal, warm's seconds to cold's F1 - 0.005 over cold's seconds: " + "; ".join(
        f"seed {s.seed} {maybe(s.ratio())}" for s in seeds)
        + f" (goal <= {GOAL:.3f}); cold itself gets there at "
        + ", ".join(maybe(s.cold_self_ratio()) for s in seeds) + " of its time")  # fmt: skip


def print_summary(results: list[CaseResult]) -> None:
    print("\nsummary (mean±sd over seeds; intervals: seeds whose 95% interval of warm - cold "
          "macro-F1 lies above 0 / spans 0 / lies below 0; epochs: to the stop; reach ep/cold: "
          "warm's epochs to cold's F1 - 0.005 over cold's epochs, per seed)")  # fmt: skip
    print(f"{'case':<6}{'anchor':>7}{'cold F1':>13}{'warm F1':>13}{'warm-cold':>10}"
          f"{'+/0/-':>7}{'slice n':>8}{'slice warm/cold':>17}{'epochs w/c':>12}"
          f"{'seconds w/c':>14}{'time ratio per seed':>21}{'reach ep/cold':>22}"
          f"{'goal':>6}")  # fmt: skip
    for r in results:
        s = r.seeds
        diffs = [x.interval.difference for x in s]
        above = sum(x.interval.low > 0 for x in s)
        below = sum(x.interval.high < 0 for x in s)
        met = sum(x.ratio() is not None and x.ratio() <= GOAL + 1e-12 for x in s)
        print(f"{r.case.key:<6}{r.baseline_f1:>7.3f}{spread([x.f1(x.cold) for x in s]):>13}"
              f"{spread([x.f1(x.warm) for x in s]):>13}{statistics.fmean(diffs):>+10.3f}"
              f"{f'{above}/{len(s) - above - below}/{below}':>7}{int(s[0].in_slice.sum()):>8}"
              f"{statistics.fmean([x.f1(x.warm, x.in_slice) for x in s]):>9.3f}/"
              f"{statistics.fmean([x.f1(x.cold, x.in_slice) for x in s]):<7.3f}"
              f"{statistics.fmean([x.warm.fit.stopped_epoch + 1 for x in s]):>6.1f}/"
              f"{statistics.fmean([x.cold.fit.stopped_epoch + 1 for x in s]):<5.1f}"
              f"{statistics.fmean([x.warm.seconds for x in s]):>8.1f}/"
              f"{statistics.fmean([x.cold.seconds for x in s]):<5.1f}"
              f"{' '.join(maybe(x.ratio()) for x in s):>21}"
              f"{' '.join(x.reach_epochs() for x in s):>22}"
              f"{f'{met}/{len(s)}':>6}")  # fmt: skip


def gate_case(g: gate.Gate, r: CaseResult) -> None:
    """Compare one case's published targets (see the module docstring)."""
    key = r.case.key.replace(" ", "")
    cold = statistics.fmean(s.f1(s.cold) for s in r.seeds)
    g.compare(f"anchor_gap_{key}", f"case {r.case.key}: TF-IDF anchor - cold macro-F1",
              r.baseline_f1 - cold, BASELINE_GAP,
              detail=f"anchor {r.baseline_f1:.3f}, cold {cold:.3f}")  # fmt: skip
    ratios = [s.ratio() for s in r.seeds]
    shown = ", ".join(f"seed {s.seed} {maybe(x)}" for s, x in zip(r.seeds, ratios, strict=True))
    worst = max(math.inf if x is None else x for x in ratios)
    if r.case.key not in GOAL_CASES:
        print(f"not gated (the goal is published as missed here): case {r.case.key} time "
              f"ratio {shown}")  # fmt: skip
        return
    g.compare(f"time_ratio_{key}", f"case {r.case.key}: time ratio, worst seed", worst, GOAL,
              detail=shown)  # fmt: skip
    g.compare(f"time_ratio_quarter_{key}", f"case {r.case.key}: time ratio under a quarter",
              worst, QUARTER)  # fmt: skip
    reach = [s.warm.epochs_to(s.f1(s.cold) - SLACK) for s in r.seeds]
    g.compare(f"reach_epochs_{key}", f"case {r.case.key}: warm's epochs to cold's F1, worst",
              max(math.inf if e is None else e for e in reach), REACH_EPOCHS)  # fmt: skip
    above = sum(s.interval.low > 0 for s in r.seeds)
    g.compare(f"warm_above_cold_{key}", f"case {r.case.key}: seeds with warm - cold above 0",
              above, len(r.seeds), at_most=False,
              detail=f"of {len(r.seeds)}; 95% paired intervals")  # fmt: skip


def code_version() -> str:
    """The commit run, and whether src/ or conf/ differ from it (others edit the tree)."""

    def git(*words: str) -> str:
        done = subprocess.run(["git", *words], cwd=PROJECT_ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "src", "conf")
    return f"{git('rev-parse', '--short', 'HEAD')}" + (
        f" with uncommitted changes: {' '.join(changed.split())}" if changed else ""
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", help="any of a,b,c,d, comma-separated (default all)")
    parser.add_argument("--seeds", help="default 1,2,3")
    parser.add_argument(
        "--small", action="store_true", help=f"--cases {SMALL_CASES} --seeds {SMALL_SEEDS}"
    )
    parser.add_argument("--imdb-path", default=str(IMDB))
    parser.add_argument("--news-path", default=str(NEWS))
    gate.add_arguments(parser)
    args = parser.parse_args()
    cases = args.cases or (SMALL_CASES if args.small else "a,b,c,d")
    keys = [k.strip() for k in cases.split(",") if k.strip()]
    unknown = sorted(set(keys) - {"a", "b", "c", "d"})
    if unknown:
        parser.error(f"--cases: unknown {unknown}; use any of a,b,c,d")
    seeds = [int(s) for s in (args.seeds or (SMALL_SEEDS if args.small else "1,2,3")).split(",")]
    g = gate.Gate.from_args(f"where warm start pays (cases {','.join(keys)}, seeds "
                            f"{','.join(map(str, seeds))})", args)  # fmt: skip
    began = time.perf_counter()
    print(f"code: {code_version()}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-updates-") as tmp:
        work = Path(tmp)
        for case in cases_of(keys, args, work):
            if isinstance(case, Absent):
                print(f"skipped: {case}", flush=True)
                g.cannot_measure(str(case))
                continue
            print(f"case ({case.key}): {case.title}", flush=True)
            print(f"  overrides: {' '.join(case.overrides)}", flush=True)
            try:
                result = run_case(case, seeds, work)
            except Exception as error:  # one case's failure is reported, the others still run
                traceback.print_exc()
                g.cannot_measure(f"case {case.key} failed: {type(error).__name__}: {error}")
                continue
            results.append(result)
            print_case(result)
    if results:
        print_summary(results)
    print(f"\ncommand: {shlex.join([sys.executable, *sys.argv])}  (in {Path.cwd()})")
    print(f"total runtime: {time.perf_counter() - began:.0f} s")
    for result in results:
        gate_case(g, result)
    return g.exit_code()


if __name__ == "__main__":
    sys.exit(main())
