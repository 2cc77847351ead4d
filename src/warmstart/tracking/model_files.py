"""A logged model's own files downloaded, without the copy of the `warmstart` package.

Every version carries the package's source under `code/` (so a served version imports the
code it was trained with): over a hundred files, one request each. Resolving a source and
checking what was just logged read only the model's files, so `code/` is left on the server.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

CODE_DIR = "code"


def download_model_files(model_id: str, dst: Path) -> Path:
    """The files of logged model `model_id` but its `code/` copy, laid out as stored, in `dst`."""
    location = MlflowClient().get_logged_model(model_id).artifact_location.rstrip("/")
    for entry in mlflow.artifacts.list_artifacts(artifact_uri=location):
        if Path(entry.path).name == CODE_DIR and entry.is_dir:
            continue
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"{location}/{Path(entry.path).name}", dst_path=str(dst)
        )
    return dst
