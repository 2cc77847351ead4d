"""Pick the source the `data` settings name and read its labeled reviews.

Every source yields the same `Pool` (data.pool): a train pool (split into train and validation
later), the test texts, what to record as their source and where they were read. New sources
plug in here; the splitting stays shared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from warmstart.data.acl_layout import read_acl_dir
from warmstart.data.files import files_pool
from warmstart.data.folder import folder_pool, read_class_folders
from warmstart.data.imdb import downloaded_copy, local_copy
from warmstart.data.paths import user_path
from warmstart.data.pool import Pool
from warmstart.data.settings import setting
from warmstart.data.synthetic.source import TOPICS_DIR, synthetic_copy


def read_pool(cfg: Mapping[str, Any], name: str) -> Pool:
    """The labeled texts of source `name` (`imdb`, `synthetic`, `files` or `folder`).

    For `imdb` and `synthetic`, `data.path` (a local aclImdb directory or archive) wins over
    both the download and the generator, so an offline copy can always be used.
    """
    if name == "files":
        return files_pool(cfg)
    if name == "folder":
        return folder_pool(cfg)
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
    if acl.name == TOPICS_DIR:  # the corpus's multi-class mode: topic folders
        train, dropped = read_class_folders(acl / "train")
        test, _ = read_class_folders(acl / "test")
        return Pool(train=train, test=test, source=source, origin=acl, dropped_texts=dropped)
    train, test = read_acl_dir(acl)
    return Pool(train=train, test=test, source=source, origin=acl)
