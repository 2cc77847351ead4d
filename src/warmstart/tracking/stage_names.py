"""The name of each stage and the role each compared model plays.

One name per stage is its entry point, its module, its run's name and the value of its run's
`warmstart.stage` tag, which compare, sweeps and reuse search runs by: so each is spelled here
once. Standard library only.
"""

from __future__ import annotations

STAGE_TAG = "warmstart.stage"  # on every stage's run: one of the names below

TRAIN_BASE = "train_base"
VOCAB_DIFF = "vocab_diff"
WARM_START = "warm_start"
COLD_START = "cold_start"
COMPARE = "compare"
PIPELINE = "pipeline"
UPDATE = "update"  # the recurring job: from @champion, warm-start, evaluate, promote
SWEEP = "sweep"

# The three models compared side by side, by role (as in `compare.warm_run`, the summary's
# `warm_*` columns and the registry aliases), and the stage that trains each.
ROLE_STAGES = {"base": TRAIN_BASE, "warm": WARM_START, "cold": COLD_START}


def compare_run_tag(role: str) -> str:
    """The tag of a compare run naming the run it compared in `role` (base, warm, cold)."""
    return f"warmstart.compare.{role}_run"
