"""Reading the `data` settings: checked once (`config.validation.check_data`), then read.

The data layer can be called with a plain dict (tests, benchmarks), so `load_splits` runs the
same check the stages run; after it, values are read here with the reader's defaults. A key
is required only where it is used (a local `data.path` needs no cache directory).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from warmstart.core.errors import ConfigError


def setting(
    cfg: Mapping[str, Any], key: str, default: Any = None, *, required: bool = False
) -> Any:
    """The value of `data.<key>`; None counts as unset."""
    if key in cfg and cfg[key] is not None:
        return cfg[key]
    if required:
        raise ConfigError(f"data.{key} is missing; set it in conf/data/*.yaml or as data.{key}=…")
    return default
