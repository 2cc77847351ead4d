"""After training: say when a run learned nothing, evaluate on the test split beside the TF-IDF
baseline, promote or not.

Base, warm and cold runs share this, so warm and cold log identical evaluation keys; only a
registered version (base, warm) is compared with the champion.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import keras
import mlflow
import numpy as np
import pandas as pd

from warmstart.core.verdict import Verdict, judge
from warmstart.modeling.baseline import Baseline, baseline_of
from warmstart.modeling.fit import FitResult
from warmstart.modeling.prepare import Prepared
from warmstart.tracking.evaluation import Evaluation, evaluate, quiet_mlflow
from warmstart.tracking.promotion import Decision, decide, promotion_metric
from warmstart.tracking.promotion_record import describe
from warmstart.tracking.pyfunc import output_columns, probabilities
from warmstart.tracking.resolve import ResolvedSource
from warmstart.tracking.stage_result import EPOCH_SECONDS, StageResult
from warmstart.tracking.version_format import (
    LEARNED,
    LEARNED_NOTHING,
    VERDICT_TAG,
    WARNING_TAG,
    Published,
)


def judge_training(model: keras.Model, data: Prepared, result: FitResult) -> Verdict:
    """Did the model learn? (core.verdict, on the validation texts.) Logs the evidence as
    metrics and the tag `warmstart.verdict`; each reason is one `warning:` line and goes into
    `warmstart.warning`. A model that learned nothing is never promoted (tracking.promotion)."""
    logits = np.asarray(model.predict(data.checked.ids, batch_size=result.batch_size, verbose=0))
    steps = math.ceil(data.train_rows / max(result.batch_size, 1))
    epochs = len(result.epoch_seconds)
    fix = (
        f"it trained {epochs} epoch(s) of {steps} step(s) at batch {result.batch_size}; try "
        "train.batch_size=auto, a higher train.learning_rate or train.epochs, more rows, and "
        "check that data.label_column follows from data.text_column"
    )
    verdict = judge(
        np.asarray(data.train_labels, dtype=np.int64),
        np.asarray(data.checked.labels, dtype=np.int64),
        probabilities(logits),
        class_names=list(data.labels),
        fix=fix,
    )
    mlflow.log_metrics(verdict.metrics())
    mlflow.set_tag(VERDICT_TAG, LEARNED if verdict.learned else LEARNED_NOTHING)
    for reason in verdict.reasons:
        print(f"warning: {reason}")
    if verdict.reasons:
        mlflow.set_tag(WARNING_TAG, verdict.line()[:5000])
    return verdict


def predicted_frame(model: keras.Model, data: Prepared) -> pd.DataFrame:
    """The pyfunc's output columns for the test rows evaluated (`splits.test`), from the
    in-memory model (cold runs)."""
    p = probabilities(np.asarray(model.predict(data.evaluated.ids, verbose=0)))
    labels = np.asarray(data.labels, dtype=object)
    out = {"label": labels[p.argmax(axis=1)].tolist()}
    out.update({f"p_{label}": p[:, i] for i, label in enumerate(data.labels)})
    if len(data.labels) == 2:
        out["probability"] = p[:, 1]
    return pd.DataFrame(out, columns=output_columns(list(data.labels)))


def test_dataset(data: Prepared) -> mlflow.data.dataset.Dataset:
    """The test split as `tracking.datasets` logged it (same name, so the same digest)."""
    splits = data.splits
    with quiet_mlflow():
        return mlflow.data.from_pandas(
            splits.test, name=f"{splits.name}-test", targets="label", source=str(splits.source)
        )


def trained_fact(result: FitResult) -> str:
    """How long it trained, and where early stopping ended it."""
    epochs, seconds = len(result.epoch_seconds), sum(result.epoch_seconds)
    best = f", keeping epoch {result.best_epoch + 1}" if result.best_epoch + 1 < epochs else ""
    return f"{epochs} epochs in {seconds:.1f} s{best}"


def base_facts(data: Prepared, result: FitResult) -> dict[str, str]:
    """What a base version's description says: trained from scratch, on what."""
    return {
        "Trained": f"from scratch, {trained_fact(result)}",
        "Vocabulary": f"{len(data.vocabulary):,} tokens, {len(data.labels)} classes",
    }


def warm_facts(
    source: ResolvedSource, counts: Mapping, labels: Mapping, result: FitResult
) -> dict[str, str]:
    """What a warm version's description says: from what, how, what changed (`labels`: the
    label diff's summary)."""
    changes = {k: labels[k] for k in ("kept", "added", "removed", "moved") if k in labels}
    name = f"{source.name} v{source.version}" if source.version else source.uri
    return {
        "Warm-started from": f"{name} ({source.uri})",
        "Initializer for new tokens": str(counts.get("initializer", "")),
        "Tokens": (
            f"{counts.get('kept', 0):,} kept their trained rows ({counts.get('same_row', 0):,} "
            f"same row, {counts.get('moved', 0):,} moved), {counts.get('added', 0):,} added, "
            f"{counts.get('removed', 0):,} removed"
        ),
        "Labels": ", ".join(f"{v} {k}" for k, v in changes.items()),
        "Trained": trained_fact(result),
    }


def new_token_mask(data: Prepared, added: np.ndarray) -> np.ndarray:
    """Which test texts hold at least one `added` token (rows of the new vocabulary, as a
    warm start's remap plan lists them), within the kept sequence."""
    if len(added) == 0:
        return np.zeros(len(data.evaluated.ids), dtype=bool)
    return np.isin(data.evaluated.ids, np.asarray(added)).any(axis=1)


def baseline_facts(baseline: Baseline) -> dict[str, str]:
    """The anchor, as a version's description states it."""
    return {
        "TF-IDF + linear SVM baseline": (
            f"macro-F1 {baseline.macro_f1:.4f}, accuracy {baseline.accuracy:.4f} on the same "
            "test texts"
        )
    }


@dataclass
class Assessed:
    evaluation: Evaluation
    baseline: Baseline
    decision: Decision | None = None


def assess(
    cfg: Mapping,
    data: Prepared,
    model: keras.Model,
    published: Published | None = None,
    facts: Mapping[str, str] | None = None,
    *,
    verdict: Verdict | None = None,
    added_tokens: np.ndarray | None = None,
) -> Assessed:
    """Evaluate (a registered version through its own pyfunc) beside the TF-IDF baseline and,
    if registered, judge it against the champion: never promoted when `verdict` says it
    learned nothing; `added_tokens` (a warm start's new tokens) picks the new-token slice.

    `evaluation_seconds` is all of it (pyfunc loads, predictions, MLflow's evaluator, the
    champion's score): what the benchmark reports apart from training.
    """
    start = time.perf_counter()
    baseline = baseline_of(data.splits)
    mlflow.log_metrics(baseline.metrics())
    if published is None:
        predicted = predicted_frame(model, data)
    else:
        with quiet_mlflow():
            pyfunc = mlflow.pyfunc.load_model(f"models:/{published.model_id}")
        predicted = pyfunc.predict(pd.DataFrame({"text": data.splits.test["text"].tolist()}))
    evaluation = evaluate(
        data.splits.test,
        predicted,
        data.labels,
        dataset=test_dataset(data),
        model_id=published.model_id if published else None,
    )
    if published is None:
        mlflow.log_metric("evaluation_seconds", time.perf_counter() - start)
        return Assessed(evaluation, baseline)
    metric, _ = promotion_metric(cfg["registry"], list(data.labels))
    decision = decide(
        published,
        data.splits.test,
        evaluation,
        predicted=predicted["label"].tolist(),
        metric=metric,
        rule=cfg["registry"].get("promotion"),
        learned_nothing=verdict.line() if verdict else None,
        new_token_mask=None if added_tokens is None else new_token_mask(data, added_tokens),
        test_rows=data.splits.sizes()["test"] if data.splits.sampled else None,
    )
    mlflow.log_dict(decision.to_dict(), "promotion/decision.json")
    describe(published, decision, {**(facts or {}), **baseline_facts(baseline)})
    mlflow.log_metric("evaluation_seconds", time.perf_counter() - start)
    print(
        f"{published.name} v{published.version}: {decision.sentence()} TF-IDF baseline: "
        f"{metric} {baseline.macro_f1 if metric == 'macro_f1' else baseline.accuracy:.4f}."
    )
    return Assessed(evaluation, baseline, decision)


def trained_result(
    stage: str,
    run_id: str,
    result: FitResult,
    assessed: Assessed,
    published: Published | None = None,
    source_version: str | None = None,
) -> StageResult:
    """What a stage that trained hands back: its curves and scores as it logged them (Keras'
    test scores, the TF-IDF baseline's, then the evaluator's, so a key logged twice keeps the
    evaluator's value, as the run's latest metric does), its verdict and its gate."""
    decision = assessed.decision
    return StageResult(
        stage=stage,
        run_id=run_id,
        published=published,
        curves={**result.history, EPOCH_SECONDS: list(result.epoch_seconds)},
        scores={**result.test, **assessed.baseline.metrics(), **assessed.evaluation.metrics},
        learned=None if result.verdict is None else result.verdict.learned,
        promoted=None if decision is None else decision.promoted,
        source_version=source_version,
        evaluation=assessed.evaluation,
        decision=decision,
    )
