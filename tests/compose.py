"""Compose the project's real Hydra config in tests, as the stages would see it."""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from warmstart.config import CONFIG_DIR, validate


def compose_config(
    *overrides: str, cache_dir: Path | None = None, checked: bool = True
) -> DictConfig:
    """The composed config for `overrides` (plus a test cache dir, if given).

    Like the stage wrapper, it runs `validate` unless `checked=False` (for a test that
    wants a config with a bad value past composition).
    """
    extra = [f"paths.cache_dir={cache_dir}"] if cache_dir else []
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("config", overrides=[*overrides, *extra])
    if checked:
        validate(cfg)
    return cfg
