"""How `make test` (`pytest -n 2 --dist loadfile`) hands test files to its xdist workers.

xdist's `loadfile` gives each worker whole files, the files with the most tests first. Two
changes, both to the order and grouping only (every test still runs exactly once):

- The files that use the session's `pipeline_run` are one unit, so one worker runs them all
  and the smoke pipeline behind it (`pipeline_once`, about 30 s) is made once, not once per
  worker. A file that starts using `pipeline_run` is added below (tests/test_scheduling.py
  fails until it is).
- The longest files go first, longest first: a long file handed out last keeps one worker
  busy while the other has nothing left (xdist's most-tests-first puts the few long
  end-to-end tests last). The seconds are those of a full run; a file missing here goes
  after them, in xdist's order, so a stale figure costs balance, never a test.

Without xdist, or with another `--dist`, the hook below leaves xdist's own scheduling alone.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

PIPELINE_RUN = "pipeline_run files"  # the unit the files below form
PIPELINE_RUN_FILES = frozenset(
    {
        "tests/notebooks/test_warm_start_story.py",
        "tests/stages/test_headline.py",
        "tests/stages/test_initializer_cli.py",
        "tests/stages/test_pipeline.py",
        "tests/stages/test_warm_start.py",
        "tests/test_mlflow_ui.py",
        "tests/test_serving.py",
    }
)
# Seconds per unit in a full run (-n 3, 2026-12-06, all passed), those above 20 s; only their
# order matters.
SECONDS = {
    "tests/test_docs_pages.py": 214,
    PIPELINE_RUN: 198,
    "tests/stages/test_failures.py": 194,
    "tests/tracking/test_cluster_sweeps.py": 183,
    "tests/tracking/test_sweep.py": 176,
    "tests/test_docs.py": 131,
    "tests/stages/test_update.py": 118,
    "tests/config/test_experiments.py": 110,
    "tests/stages/test_families.py": 84,
    "tests/stages/test_multi_worker.py": 80,
    "tests/stages/test_own_data.py": 63,
    "tests/test_mlflow_run.py": 59,
    "tests/stages/test_seed_tutorial.py": 57,
    "tests/test_benchmarks.py": 51,
    "tests/tracking/test_version_files.py": 40,
    "tests/stages/test_learned_nothing.py": 40,
    "tests/tracking/test_tracking.py": 37,
    "tests/tracking/test_team_server.py": 30,
    "tests/config/test_validation.py": 27,
    "tests/tracking/test_promotion.py": 23,
    "tests/stages/test_launchers.py": 23,
}


def unit_of(path: str) -> str:
    """The work unit of a test file (its path relative to the repository)."""
    return PIPELINE_RUN if path in PIPELINE_RUN_FILES else path


def longest_first(units: Iterable[str]) -> list[str]:
    """`units` with the known long ones first, longest first; the others keep their order."""
    return sorted(units, key=lambda unit: -SECONDS.get(unit, 0))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """With `--dist loadfile`: xdist's scheduler, with the grouping and order above."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        _ordered = False

        def _split_scope(self, nodeid: str) -> str:
            return unit_of(super()._split_scope(nodeid))

        def _assign_work_unit(self, node) -> None:
            if not self._ordered:  # the queue is complete before the first unit leaves
                for unit in longest_first(list(self.workqueue)):
                    self.workqueue.move_to_end(unit)
                self._ordered = True
            super()._assign_work_unit(node)

    return Scheduling(config, log)
