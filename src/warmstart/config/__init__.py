"""Hydra/OmegaConf adapter: schemas, the project root resolver, validation and config views.

Stages receive the composed config and read it; nothing else is global. The one resolver,
`${warmstart.root:}`, gives the project root so that paths and the default SQLite URI are
absolute, whatever the working directory (Hydra 1.3 keeps it; `mlflow run` and multirun move it).
Importing this package registers the schemas (schema.py) that conf/ names in its defaults lists,
so it must be imported before Hydra composes (the stages and benchmarks/compose.py do).
"""

from __future__ import annotations

from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf

from warmstart.config import schema
from warmstart.config.validation import validate
from warmstart.config.views import (
    REDACTED,
    flatten,
    overlay_of,
    redact,
    redact_overrides,
    to_container,
    to_yaml,
    with_overlay,
)

__all__ = [
    "CONFIG_DIR",
    "PROJECT_ROOT",
    "REDACTED",
    "flatten",
    "in_multirun",
    "multirun_job",
    "overlay_of",
    "redact",
    "redact_overrides",
    "to_container",
    "to_yaml",
    "validate",
    "with_overlay",
]

PROJECT_ROOT = Path(__file__).resolve().parents[3]
CONFIG_DIR = PROJECT_ROOT / "conf"

if not OmegaConf.has_resolver("warmstart.root"):
    OmegaConf.register_new_resolver("warmstart.root", lambda: str(PROJECT_ROOT))
schema.register()


def in_multirun() -> bool:
    """Whether this process runs one job of a Hydra multirun (False outside Hydra)."""
    try:
        mode = HydraConfig.get().mode
    except ValueError:
        return False
    return mode is not None and mode.name == "MULTIRUN"


def multirun_job() -> tuple[int, str] | None:
    """(job number, its overrides redacted) of this Hydra multirun job; None outside one.

    Tracking turns these into tags; the tag names belong to `tracking.version_format`.
    """
    if not in_multirun():
        return None
    hc = HydraConfig.get()
    return int(hc.job.num), redact_overrides(hc.overrides.task)
