"""`make test`'s file order (tests/scheduling.py): the `pipeline_run` files stay together, the
long files go first, and a real `pytest -n 2 --dist loadfile` does both."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from scheduling import PIPELINE_RUN, PIPELINE_RUN_FILES, SECONDS, longest_first, unit_of

from warmstart.config import PROJECT_ROOT

TESTS = PROJECT_ROOT / "tests"


def test_the_pipeline_run_files_are_exactly_those_that_use_the_fixture() -> None:
    uses = re.compile(r"\bpipeline_run\b")
    using = {
        str(path.relative_to(PROJECT_ROOT))
        for path in TESTS.rglob("test_*.py")
        if uses.search(path.read_text()) and path.name != "test_scheduling.py"
    }
    assert using == PIPELINE_RUN_FILES


def test_every_timed_unit_is_a_file_of_the_suite_or_the_pipeline_run_files() -> None:
    missing = [u for u in SECONDS if u != PIPELINE_RUN and not (PROJECT_ROOT / u).is_file()]
    assert not missing, f"tests/scheduling.py times files that are gone: {missing}"
    assert not set(SECONDS) & PIPELINE_RUN_FILES, "a pipeline_run file is timed in its unit"


def test_units_and_their_order() -> None:
    assert unit_of("tests/stages/test_pipeline.py") == unit_of("tests/test_serving.py")
    assert unit_of("tests/core/test_vocab.py") == "tests/core/test_vocab.py"
    queue = ["tests/core/test_vocab.py", "tests/stages/test_update.py", "tests/x.py",
             "tests/test_docs_pages.py"]  # fmt: skip
    assert longest_first(queue) == ["tests/test_docs_pages.py", "tests/stages/test_update.py",
                                    "tests/core/test_vocab.py", "tests/x.py"]  # fmt: skip


def test_a_loadfile_run_keeps_the_pipeline_run_files_on_one_worker_and_starts_long(
    tmp_path: Path,
) -> None:
    """Tiny files named as the suite's: the two of the pipeline_run unit have the most tests,
    so xdist alone would start one on each worker; the long one has the fewest, so xdist
    alone would hand it out last."""
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (tmp_path / "tests" / "stages").mkdir(parents=True)
    (tmp_path / "tests" / "conftest.py").write_text(
        f"import sys\nsys.path.insert(0, {str(TESTS)!r})\n"
        "from scheduling import pytest_xdist_make_scheduler  # noqa: F401\n"
    )
    files = {
        "tests/stages/test_pipeline.py": 6,
        "tests/test_serving.py": 5,
        "tests/test_docs_pages.py": 2,
        "tests/test_quick.py": 4,
    }
    for name, count in files.items():
        body = "".join(f"def test_{i}():\n    pass\n\n\n" for i in range(count))
        (tmp_path / name).write_text(body)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadfile", "-v",
         "-p", "no:cacheprovider"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ran = re.findall(r"^\[(gw\d)\] .*?PASSED (\S+)::", done.stdout, re.MULTILINE)
    assert len(ran) == sum(files.values())
    workers = {file: {w for w, f in ran if f == file} for file in files}
    assert len(workers["tests/stages/test_pipeline.py"] | workers["tests/test_serving.py"]) == 1
    firsts = {w: next(f for x, f in ran if x == w) for w in ("gw0", "gw1")}
    assert {unit_of(f) for f in firsts.values()} == {PIPELINE_RUN, "tests/test_docs_pages.py"}
