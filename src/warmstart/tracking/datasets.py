"""Logging a stage's train/val/test splits as MLflow datasets, so runs show what they read."""

from __future__ import annotations

import warnings

import mlflow

from warmstart.data import Splits
from warmstart.tracking.version_format import DATA_DIGEST_TAG


def log_splits(splits: Splits) -> None:
    """Log train/val/test as MLflow datasets with their digests and sizes."""
    parts = (("training", splits.train), ("validation", splits.val), ("test", splits.test))
    with warnings.catch_warnings():
        # MLflow hints about integer columns and ambiguous local sources: not actionable here.
        warnings.simplefilter("ignore", UserWarning)
        for context, frame in parts:
            dataset = mlflow.data.from_pandas(
                frame, name=f"{splits.name}-{context}", targets="label", source=str(splits.source)
            )
            mlflow.log_input(dataset, context=context)
    mlflow.set_tag(DATA_DIGEST_TAG, splits.digest())
    rows = {f"data.{context}_rows": len(frame) for context, frame in parts}
    mlflow.log_params({**rows, "data.dropped_empty_texts": splits.dropped_texts})
