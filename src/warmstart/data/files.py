"""The `files` source: a user's table (csv, tsv, parquet, jsonl) with a text and a label column.

`data.path` (one file, or a directory or a glob of shards: `data.shards`) is read with
`data.text_column`/`data.label_column`, optionally restricted to `data.since <=
data.time_column < data.until`; the test split is `data.test_path` (read the same way) or
`data.test_fraction` of the rows, held out as `data.split` says (`split_rule`). The base stage
reads `base.data.path` (or the same table) through the same keys, so one table with a time
column gives the "before" and "after" of a drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from warmstart.config.choices import SplitRule
from warmstart.data.holdout import hashed_holdout, stratified_holdout
from warmstart.data.pool import Pool
from warmstart.data.settings import setting
from warmstart.data.shards import table_rows


def split_rule(cfg: Mapping[str, Any], sharded: bool) -> SplitRule:
    """`data.split`, with `auto` read as `hash` for a set of shards (a directory or a glob,
    whatever its size) and `stratified` for one file, as every other source splits."""
    rule = SplitRule(str(setting(cfg, "split", SplitRule.auto)))
    if rule == SplitRule.auto:
        return SplitRule.hash if sharded else SplitRule.stratified
    return rule


def files_pool(cfg: Mapping[str, Any]) -> Pool:
    """The table's rows as a train pool and a test split (the held-out table or fraction)."""
    table = table_rows(cfg, "path")
    rows, dropped, keys = table.rows, table.dropped, table.ids
    keys = rows["text"] if keys is None else keys
    rule = split_rule(cfg, table.sharded)
    seed = int(setting(cfg, "split_seed", 123))
    source = str(table.where.resolve())
    if setting(cfg, "test_path"):
        held = table_rows(cfg, "test_path")
        train, test = rows, held.rows
        dropped += held.dropped
        source = f"{source} + {held.where.resolve()}"
    elif rule == SplitRule.hash:
        fraction = float(setting(cfg, "test_fraction", 0.2))
        train, test, rest = hashed_holdout(rows, keys, fraction, seed, "test")
        keys = keys.iloc[rest]
    else:
        fraction = float(setting(cfg, "test_fraction", 0.2))
        train, test = stratified_holdout(rows, fraction, seed)
    return Pool(
        train=train,
        test=test,
        source=source,
        origin=table.where,
        dropped_texts=dropped,
        split=str(rule),
        keys=keys.reset_index(drop=True) if rule == SplitRule.hash else None,
    )
