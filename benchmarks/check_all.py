"""Every benchmark's `--check` at its small size, one after another: `make bench-check`.

Each runs in its own process (never two at once: the timings would disturb each other), its
output goes to `--logs`, and a table of what passed closes the run. Exits 1 when any check
failed; the failing benchmark's targets are printed from its log.

    python benchmarks/check_all.py [--logs DIR] [--only NAME,...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# name -> the small check's arguments (each benchmark's docstring says what its small size is)
CHECKS = {
    "bench_remap": ["--quick"],
    "bench_scale": [
        "--sizes",
        "2000,8000",
        "--tokens",
        "300000",
        "--shard-rows",
        "20000,40000",
        "--rows-per-shard",
        "5000",
    ],
    "bench_pipeline": ["--small"],
    "bench_families": ["--small"],
    "bench_updates": ["--small"],
    "bench_folder_vs_imdb": ["--small"],
    "bench_reliability": ["--small"],
}


def targets_of(log: str) -> list[str]:
    """The targets table a benchmark printed (gate.Gate.table), and its verdict line."""
    lines = log.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("targets: ")), None)
    if start is None:
        return ["(no targets table: the benchmark did not get as far as its check)"]
    return [line for line in lines[start:] if line.startswith(("targets: ", "  [", "check "))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=Path, default=HERE.parent / ".cache" / "bench-check")
    parser.add_argument("--only", help="a comma-separated subset of: " + ", ".join(CHECKS))
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(CHECKS)
    unknown = sorted(set(names) - set(CHECKS))
    if unknown:
        parser.error(f"--only: unknown {unknown}; choose among {', '.join(CHECKS)}")
    args.logs.mkdir(parents=True, exist_ok=True)
    rows = []
    began = time.perf_counter()
    for name in names:
        command = [sys.executable, str(HERE / f"{name}.py"), *CHECKS[name], "--check"]
        print(f"== {name} {' '.join(command[2:])}", flush=True)
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent)
        seconds = time.perf_counter() - start
        log = done.stdout + done.stderr
        (args.logs / f"{name}.log").write_text(log)
        table = targets_of(done.stdout)
        print("\n".join(table), flush=True)
        passed = sum(line.startswith("  [    ok]") for line in table)
        missed = sum(line.startswith("  [MISSED]") for line in table)
        rows.append((name, " ".join(CHECKS[name]), seconds, passed, missed, done.returncode))
    print(f"\n{'benchmark':<22}{'small size':<32}{'seconds':>8}{'ok':>5}{'missed':>8}  result")
    for name, size, seconds, passed, missed, code in rows:
        result = "passed" if code == 0 else f"FAILED (exit {code})"
        print(f"{name:<22}{size:<32}{seconds:>8.0f}{passed:>5}{missed:>8}  {result}")
    total = time.perf_counter() - began
    print(f"{'all':<54}{total:>8.0f}  logs: {args.logs}")
    return 0 if all(row[-1] == 0 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
