"""After training: say when a run learned nothing, evaluate on the test split, promote or not.

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

from warmstart.modeling.fit import FitResult
from warmstart.modeling.prepare import Prepared
from warmstart.tracking.evaluation import Evaluation, evaluate, quiet_mlflow
from warmstart.tracking.promotion import Decision, decide, describe, promotion_metric
from warmstart.tracking.pyfunc import output_columns, probabilities
from warmstart.tracking.resolve import ResolvedSource
from warmstart.tracking.version_format import LABEL_DIFF_TAG, WARNING_TAG, Published

MIN_STEPS = 10  # fewer training steps per epoch than this rarely moves the weights
MAJORITY_MARGIN = 0.01  # val accuracy this close to the majority-class rate: nothing learned


def learned_nothing(result: FitResult, data: Prepared, train_cfg: Mapping) -> str | None:
    """One line naming the likely fix when training evidently learned nothing, else None."""
    steps = math.ceil(len(data.train.labels) / int(train_cfg["batch_size"]))
    val = result.history.get("val_accuracy") or []
    _, counts = np.unique(np.asarray(data.val.labels), return_counts=True)
    majority = float(counts.max() / counts.sum()) if counts.size else math.nan
    if val and abs(val[-1] - majority) <= MAJORITY_MARGIN:
        return (
            f"final val accuracy {val[-1]:.3f} is the majority-class rate {majority:.3f}: the "
            f"model learned nothing; with {steps} steps per epoch, lower train.batch_size, raise "
            "train.epochs or add data"
        )
    if steps < MIN_STEPS:
        return (
            f"only {steps} training steps per epoch ({len(data.train.labels)} rows at "
            f"train.batch_size={train_cfg['batch_size']}); lower train.batch_size, raise "
            "train.epochs or add data"
        )
    return None


def warn_if_learned_nothing(result: FitResult, data: Prepared, train_cfg: Mapping) -> None:
    """Print the learned-nothing line and tag the run with it."""
    line = learned_nothing(result, data, train_cfg)
    if line:
        print(f"warning: {line}")
        mlflow.set_tag(WARNING_TAG, line)


def predicted_frame(model: keras.Model, data: Prepared) -> pd.DataFrame:
    """The pyfunc's output columns for the test split, from the in-memory model (cold runs)."""
    p = probabilities(np.asarray(model.predict(data.test.ids, verbose=0)))
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


def base_facts(data: Prepared, epoch_seconds: list[float]) -> dict[str, str]:
    """What a base version's description says: trained from scratch, on what."""
    return {
        "Trained": f"from scratch, {len(epoch_seconds)} epochs in {sum(epoch_seconds):.1f} s",
        "Vocabulary": f"{len(data.vocabulary):,} tokens, {len(data.labels)} classes",
    }


def warm_facts(source: ResolvedSource, counts: Mapping, epoch_seconds: list[float]) -> dict:
    """What a warm version's description says: from what, how, what changed."""
    run = mlflow.active_run()
    tags = mlflow.get_run(run.info.run_id).data.tags if run else {}
    labels = {k.removeprefix(f"{LABEL_DIFF_TAG}."): v for k, v in tags.items()}
    labels = {k: v for k, v in labels.items() if k in ("kept", "added", "removed", "moved")}
    name = f"{source.name} v{source.version}" if source.version else source.uri
    return {
        "Warm-started from": f"{name} ({source.uri})",
        "Initializer for new tokens": str(counts.get("initializer", "")),
        "Tokens": (
            f"{counts.get('copied', 0):,} kept their trained rows ({counts.get('moved', 0):,} "
            f"moved), {counts.get('added', 0):,} added, {counts.get('dropped', 0):,} removed"
        ),
        "Labels": ", ".join(f"{v} {k}" for k, v in labels.items()),
        "Trained": f"{len(epoch_seconds)} epochs in {sum(epoch_seconds):.1f} s",
    }


@dataclass
class Assessed:
    evaluation: Evaluation
    decision: Decision | None = None


def assess(
    cfg: Mapping,
    data: Prepared,
    model: keras.Model,
    published: Published | None = None,
    facts: Mapping[str, str] | None = None,
) -> Assessed:
    """Evaluate (a registered version through its own pyfunc) and, if registered, promote.

    `evaluation_seconds` is all of it (pyfunc loads, predictions, MLflow's evaluator, the
    champion's score): what the benchmark reports apart from training.
    """
    start = time.perf_counter()
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
        return Assessed(evaluation)
    metric, min_delta = promotion_metric(cfg["registry"], list(data.labels))
    decision = decide(published, data.splits.test, evaluation, metric=metric, min_delta=min_delta)
    describe(published, decision, facts or {})
    mlflow.log_metric("evaluation_seconds", time.perf_counter() - start)
    print(f"{published.name} v{published.version}: {decision.sentence()}")
    return Assessed(evaluation, decision)
