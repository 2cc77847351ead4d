"""The review data as train/validation/test DataFrames: IMDB (aclImdb) or the synthetic corpus.

Both sources end up as an `aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt` tree read by one
reader, so the synthetic corpus exercises exactly the code path of the real data. Archives are
verified (when a checksum is known), extracted safely into the cache and only trusted once a
completion marker exists, so an interrupted run never leaves a half tree that is later read.

Modules: `splits` (entry point and the tutorial's split), `sources` (which source to read),
`files`, `table` and `shards` (own tables: one file or shards; `holdout`: stratified or hash),
`imdb` and `synthetic` (the sources), `archive` (safe extraction), `cache` (lock, completion
marker, verified download), `acl_layout` (the reader), `settings` (config value checks).
"""

from __future__ import annotations

from warmstart.data.cache import MARKER
from warmstart.data.splits import Splits, load_splits

__all__ = ["MARKER", "Splits", "load_splits"]
