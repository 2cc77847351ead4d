"""Compose the project's real Hydra config in tests and benchmarks, as the stages would see it."""

from __future__ import annotations

import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from warmstart.config import CONFIG_DIR
from warmstart.config.initializer import modern_overrides


def compose_config(*overrides: str, cache_dir: Path | None = None) -> DictConfig:
    """The composed config for `overrides` (plus a test cache dir, if given).

    Composition applies the schemas (types, known keys); values are checked by
    `warmstart.config.validate`, which stage runs call and tests may call themselves.
    """
    extra = [f"paths.cache_dir={cache_dir}"] if cache_dir else []
    modern, warnings = modern_overrides(overrides)  # the old spellings, as the stages read them
    for warning in warnings:
        print(f"deprecated: {warning}", file=sys.stderr)
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose("config", overrides=[*modern, *extra])
