"""`python -m warmstart.tracking.versions NAME`: a registered model's versions, newest first.

What to put in `warmstart.source`: one line per version with its aliases, whether training
learned, the promotion decision, where it was warm-started from and when it was registered.
The store is `MLFLOW_TRACKING_URI` when set, else the project's (`tracking.uri`). `mlflow
models` has no listing, and the UI takes a browser: this answers in the terminal.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import datetime

from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from warmstart import config as config_mod
from warmstart.tracking.version_format import PROMOTION_TAG, SOURCE_TAG, VERDICT_TAG, read_record

COLUMNS = ("version", "aliases", "verdict", "decision", "source", "created")
_NONE = "-"


class NoSuchModel(LookupError):
    """The store has no registered model of that name."""


def source_of(version: ModelVersion) -> str:
    """Where `version` was warm-started from: `v1` within its model, a URI, or `scratch`.

    Versions registered before `warmstart.source` carry their lineage in separate tags.
    """
    if version.tags.get(SOURCE_TAG):
        return version.tags[SOURCE_TAG]
    source = read_record(version.tags).source
    if not source:
        return "scratch"
    if source.get("name") == version.name and source.get("version"):
        return f"v{source['version']}"
    return str(source.get("uri", _NONE))


def version_lines(name: str, client: MlflowClient | None = None) -> list[str]:
    """A header and one aligned line per version of `name`, newest first."""
    client = client or MlflowClient()
    try:
        model = client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        raise NoSuchModel(name) from None
    aliases: dict[str, list[str]] = {}
    for alias, number in (model.aliases or {}).items():
        aliases.setdefault(str(number), []).append(alias)
    found = client.search_model_versions(f"name = '{name}'")
    rows = [
        (
            str(v.version),
            ",".join(sorted(aliases.get(str(v.version), []))) or _NONE,
            v.tags.get(VERDICT_TAG, _NONE),
            v.tags.get(PROMOTION_TAG, _NONE),
            source_of(v),
            datetime.fromtimestamp(v.creation_timestamp / 1000).strftime("%Y-%m-%d %H:%M:%S"),
        )
        for v in sorted(found, key=lambda v: int(v.version), reverse=True)
    ]
    widths = [max(len(row[i]) for row in (COLUMNS, *rows)) for i in range(len(COLUMNS))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in (COLUMNS, *rows)]  # fmt: skip


def _store_uri() -> str:
    """`MLFLOW_TRACKING_URI`, else the project's `tracking.uri` as its config composes it."""
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(str(config_mod.CONFIG_DIR), version_base="1.3"):
        return str(compose("config")["tracking"]["uri"])


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m warmstart.tracking.versions NAME", file=sys.stderr)
        return 2
    name = args[0]
    uri = _store_uri()
    shown = config_mod.redact("uri", uri)
    # An interactive listing fails at once rather than retrying a dead server for minutes.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    client = MlflowClient(uri)
    try:
        lines = version_lines(name, client)
    except NoSuchModel:
        known = [m.name for m in client.search_registered_models(max_results=10)]
        listed = (
            f"registered models there: {', '.join(known)}"
            if known
            else "it has no registered model yet: run train_base or the pipeline first"
        )
        print(f"error: no registered model '{name}' in {shown}; {listed}", file=sys.stderr)
        return 2
    except MlflowException as exc:
        message = exc.message.splitlines()[0]
        print(f"error: cannot read {shown}: {message}; check MLFLOW_TRACKING_URI", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
