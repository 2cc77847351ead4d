"""Pick the source the `data` settings name and read its labeled reviews.

Every source yields the same `Pool`: a train pool (split into train and validation later), the
test reviews, what to record as their source and where they were read. New sources plug in
here; the splitting stays shared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from warmstart.data.acl_layout import read_acl_dir
from warmstart.data.imdb import downloaded_copy, local_copy
from warmstart.data.paths import user_path
from warmstart.data.settings import setting
from warmstart.data.synthetic.source import synthetic_copy


@dataclass(frozen=True, eq=False)  # DataFrames do not compare as values
class Pool:
    """Labeled reviews of one source before the validation split (columns `text`, `label`)."""

    train: pd.DataFrame
    test: pd.DataFrame
    source: str  # recorded as Splits.source
    origin: Path  # named in errors about the content


def read_pool(cfg: Mapping[str, Any], name: str) -> Pool:
    """The reviews of source `name` (`imdb` or `synthetic`).

    `data.path` (a local aclImdb directory or archive) wins over both the download and the
    synthetic generator, so an offline copy can always be used.
    """
    path = setting(cfg, "path")
    if path is not None and str(path) != "":
        acl, source = local_copy(cfg, path)
    else:
        cache_dir, _ = user_path(setting(cfg, "cache_dir", required=True), "cache_dir")
        if name == "synthetic":
            acl = synthetic_copy(cfg, cache_dir)
            source = str(acl)
        else:
            acl, source = downloaded_copy(cfg, cache_dir)
    train, test = read_acl_dir(acl)
    return Pool(train=train, test=test, source=source, origin=acl)
