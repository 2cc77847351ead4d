"""Logging a stage's train/val/test splits as MLflow datasets, so runs show what they read."""

from __future__ import annotations

import warnings

import mlflow

from warmstart.data import Splits
from warmstart.tracking.version_format import DATA_DIGEST_TAG
from warmstart.tracking.write_retry import retry_conflicts


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
            # Parallel jobs of one sweep log the same dataset at once; MLflow does not retry
            # the lost insert (UNIQUE datasets.experiment_id, name, digest), so we do.
            retry_conflicts(lambda d=dataset, c=context: mlflow.log_input(d, context=c))
    mlflow.set_tag(DATA_DIGEST_TAG, splits.digest())
    rows = {f"data.{context}_rows": len(frame) for context, frame in parts}
    mlflow.log_params({**rows, "data.dropped_empty_texts": splits.dropped_texts})
