"""The benchmarks' shared gate: a missed or unmeasured target fails `--check`, nothing else
does; every benchmark has one, a small size in `make bench-check` and a row in the docs' table."""

from __future__ import annotations

import argparse
import ast
import runpy
import subprocess
import sys
from pathlib import Path

import check_all  # benchmarks/ is on the tests' path (pyproject's pytest `pythonpath`)
import gate
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

BENCHMARKS = sorted(path.stem for path in (ROOT / "benchmarks").glob("bench_*.py"))


def parsed(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    gate.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_check_passes_when_every_target_is_met(capsys: pytest.CaptureFixture[str]) -> None:
    g = gate.Gate.from_args("t", parsed("--check"))
    g.compare("ratio", "epoch ratio", 1.02, 1.05)
    g.compare("accuracy", "final accuracy", 0.9, 0.8, at_most=False)
    assert g.exit_code() == 0
    assert "check passed: 2 targets" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("value", "limit", "at_most"), [(1.06, 1.05, True), (0.7, 0.8, False), (None, 1.0, True)]
)
def test_check_fails_on_a_miss_or_a_value_not_measured(
    value: float | None, limit: float, at_most: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    g = gate.Gate.from_args("t", parsed("--check"))
    g.compare("x", "the figure", value, limit, at_most=at_most)
    assert g.exit_code() == 1
    captured = capsys.readouterr()
    assert "[MISSED] the figure" in captured.out
    assert "check FAILED: the figure (x)" in captured.err


def test_missing_data_fails_under_check_and_is_a_skip_without(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv, code in ((("--check",), 1), ((), 0)):
        g = gate.Gate.from_args("t", parsed(*argv))
        g.cannot_measure("/nowhere/imdb.tar.gz is absent")
        assert g.exit_code() == code
    assert "skipped" in capsys.readouterr().out


def test_a_target_override_makes_a_met_target_miss_and_an_unknown_name_fails() -> None:
    g = gate.Gate.from_args("t", parsed("--check", "--target", "ratio=0.5"))
    g.compare("ratio", "epoch ratio", 1.02, 1.05)
    assert g.exit_code() == 1
    g = gate.Gate.from_args("t", parsed("--check", "--target", "typo=2"))
    g.compare("ratio", "epoch ratio", 1.02, 1.05)
    assert g.failures() == ["--target typo: no such target"]
    with pytest.raises(SystemExit, match="NAME=NUMBER"):
        gate.Gate.from_args("t", parsed("--target", "ratio"))


def test_alternate_swaps_which_side_runs_first_and_needs_three_repeats() -> None:
    order: list[str] = []
    ours, peer = gate.alternate(
        lambda: order.append("ours") or 2.0, lambda: order.append("peer") or 1.0, repeats=4
    )
    assert order == ["ours", "peer", "peer", "ours", "ours", "peer", "peer", "ours"]
    assert (ours, peer) == ([2.0] * 4, [1.0] * 4)
    with pytest.raises(ValueError, match="at least 3"):
        gate.alternate(lambda: 1.0, lambda: 1.0, repeats=2)


def test_ratios_pair_repeats_and_report_median_and_range() -> None:
    spread = gate.ratios([1.1, 1.0, 1.3], [1.0, 1.0, 1.0])
    assert (spread.median, spread.low, spread.high) == pytest.approx((1.1, 1.0, 1.3))
    assert not gate.faster_beyond_spread(spread)
    assert gate.faster_beyond_spread(gate.ratios([0.8, 0.9, 0.95], [1.0, 1.0, 1.0]))


def test_peak_sees_a_short_allocation_freed_before_the_block_ends() -> None:
    with gate.Peak() as peak:
        block = np.ones(64 * 2**20, dtype=np.uint8)  # 64 MiB, touched
        del block
    assert peak.extra >= 60 * 2**20


def test_every_benchmark_checks_through_the_gate_in_bench_check_and_the_figures_table() -> None:
    assert sorted(check_all.CHECKS) == BENCHMARKS
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    table = page.split("## Every published figure and its check")[1].split("\n## ")[0]
    for name in BENCHMARKS:
        source = (ROOT / "benchmarks" / f"{name}.py").read_text()
        assert "gate.add_arguments(parser)" in source and ".exit_code()" in source, name
        assert f"`{name}.py" in table, f"{name} publishes no figure in docs/benchmarks.md"


def imported_modules(source: str) -> set[str]:
    """The top-level names of every module `source` imports, function-local imports included."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_benchmarks_import_nothing_from_tests_and_the_tests_share_their_helpers() -> None:
    test_helpers = {path.stem for path in (ROOT / "tests").glob("*.py")}
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        source = path.read_text()
        assert not imported_modules(source) & test_helpers, path.name
        assert '/ "tests"' not in source, f"{path.name} puts tests/ on its path"
    # The helpers moved out of tests/ are the ones the tests import from benchmarks/.
    for shared in ("faults", "compose", "servers"):
        assert (ROOT / "benchmarks" / f"{shared}.py").is_file()
        assert not (ROOT / "tests" / f"{shared}.py").exists()


def test_bench_check_reads_each_targets_table_and_a_missing_one_as_such() -> None:
    log = "progress\ntargets: x\n  [    ok] a  1 <= 2  (a)\n  [MISSED] b\ncheck FAILED: b\n"
    assert check_all.targets_of(log) == [
        "targets: x",
        "  [    ok] a  1 <= 2  (a)",
        "  [MISSED] b",
        "check FAILED: b",
    ]
    assert "did not get as far" in check_all.targets_of("Traceback ...")[0]


# ---------------------------------------------------------------- bench-a: absent data
# bench_folder_vs_imdb and bench_updates with data they cannot find: `--check` fails with the
# reason, as `make bench-check` runs it (a process of its own); without it, a skip. The second
# run is the script's `__main__` in this process (runpy): the same code and arguments, without
# a second interpreter loading TensorFlow to print one table.


def run_main(script: Path, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """`python script *argv` run in this process: the exit code its `__main__` block gives."""
    monkeypatch.setattr(sys, "argv", [str(script), *argv])
    monkeypatch.chdir(script.parent)
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 1
    return 0


@pytest.mark.parametrize(
    ("script", "data_flag"),
    [("bench_folder_vs_imdb.py", "--archive"), ("bench_updates.py", "--news-path")],
)
def test_absent_data_fails_the_small_check_and_is_a_skip_without(
    script: str,
    data_flag: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    absent = tmp_path / "absent.gz"
    args = ["--small", data_flag, str(absent)]
    benchmarks = Path(__file__).resolve().parents[1] / "benchmarks"
    done = subprocess.run(
        [sys.executable, script, *args, "--check"],
        cwd=benchmarks, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-2000:]
    assert "[MISSED] not measured: " in done.stdout and str(absent) in done.stdout
    assert run_main(benchmarks / script, args, monkeypatch) == 0
    printed = capsys.readouterr().out
    assert "[  skip] not measured: " in printed and str(absent) in printed


# ---------------------------------------------------------------- bench_scale: sharded tables


def test_the_shard_peer_reads_as_many_rows_as_ours_hash_split_trains_and_validates_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bench_scale
    import pandas as pd

    from warmstart.data import load_splits
    from warmstart.data.synthetic.shards import write_corpus_shards

    where = tmp_path / "rows-250"
    write_corpus_shards(where, rows=250, rows_per_shard=100)
    files = bench_scale.shard_files(where)
    splits = load_splits(bench_scale.shard_config(where, tmp_path / "cache").data)
    assert bench_scale.split_counts(files) == {
        "train": len(splits.train),
        "validation": len(splits.val),
        "test": len(splits.test),
    }
    table = pd.concat([pd.read_parquet(path) for path in files], ignore_index=True)
    monkeypatch.setattr(bench_scale, "READ_ROWS", 30)  # several batches per shard
    batches = list(bench_scale.parquet_rows(files, 90, 230))  # across all three shards
    assert [t for texts, _ in batches for t in texts] == table["text"].tolist()[90:230]
    positive = [float(label == "positive") for label in table["label"].tolist()[90:230]]
    assert [y for _, labels in batches for y in labels.tolist()] == positive
