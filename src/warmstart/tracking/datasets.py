"""Logging a stage's train/val/test splits as MLflow datasets, so runs show what they read.

A streamed table logs its bounded samples as the datasets (and the params
`data.<split>_sample_rows`), its whole sizes as `data.<split>_rows` and its whole digest.

MLflow infers a pandas dataset's schema and digest from the whole frame each time one is
built (0.2-0.5 s per IMDB split), and a pipeline logs the same splits in every stage. So the
dataset entities are built once per data content per process (keyed by `Splits.digest()`,
which each `Splits` object computes once) and every stage logs the same entities in one call.
"""

from __future__ import annotations

import warnings

import mlflow
from mlflow.entities import Dataset, DatasetInput, InputTag, Param, RunTag
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

from warmstart.data import Splits
from warmstart.tracking.version_format import DATA_DIGEST_TAG
from warmstart.tracking.write_retry import retry_conflicts

CONTEXTS = ("training", "validation", "test")
_KEEP = 8  # data contents whose entities are kept (a sweep reads a few)
_entities_by_digest: dict[str, tuple[Dataset, ...]] = {}


def _entities(digest: str, splits: Splits) -> tuple[Dataset, ...]:
    """The MLflow dataset entity of each split, built once per `digest` (same data, same)."""
    if digest in _entities_by_digest:
        return _entities_by_digest[digest]
    out = []
    parts = (splits.train, splits.val, splits.test)
    with warnings.catch_warnings():
        # MLflow hints about integer columns and ambiguous local sources: not actionable here.
        warnings.simplefilter("ignore", UserWarning)
        for context, frame in zip(CONTEXTS, parts, strict=True):
            # mlflow adds its dataset constructors at import (setattr): typing cannot see them
            dataset = mlflow.data.from_pandas(  # type: ignore[attr-defined]
                frame, name=f"{splits.name}-{context}", targets="label", source=str(splits.source)
            )
            out.append(Dataset(**dataset.to_dict()))
    if len(_entities_by_digest) >= _KEEP:
        _entities_by_digest.pop(next(iter(_entities_by_digest)))
    _entities_by_digest[digest] = tuple(out)
    return _entities_by_digest[digest]


def log_splits(splits: Splits) -> None:
    """Log train/val/test as MLflow datasets with their digests and sizes (on the active run)."""
    digest = splits.digest()
    inputs = [
        DatasetInput(dataset, tags=[InputTag(MLFLOW_DATASET_CONTEXT, context)])
        for context, dataset in zip(CONTEXTS, _entities(digest, splits), strict=True)
    ]
    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("log_splits needs an active run")
    run_id = run.info.run_id
    client = MlflowClient()
    # Parallel jobs of one sweep log the same dataset at once; MLflow does not retry the lost
    # insert (UNIQUE datasets.experiment_id, name, digest), so we do.
    retry_conflicts(lambda: client.log_inputs(run_id, datasets=inputs))
    sizes = splits.sizes()
    params: dict[str, object] = {
        f"data.{context}_rows": sizes[part]
        for context, part in zip(CONTEXTS, ("train", "val", "test"), strict=True)
    }
    if splits.sampled:  # a streamed table: the datasets above are its bounded samples
        parts = (splits.train, splits.val, splits.test)
        for context, frame in zip(CONTEXTS, parts, strict=True):
            params[f"data.{context}_sample_rows"] = len(frame)
    params["data.dropped_empty_texts"] = splits.dropped_texts
    client.log_batch(
        run_id,
        params=[Param(k, str(v)) for k, v in params.items()],
        tags=[RunTag(DATA_DIGEST_TAG, digest)],
    )
