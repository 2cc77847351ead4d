"""What every benchmark's `--check` shares: targets compared, timings repeated, memory peaks.

A benchmark declares each published target once (`Gate.compare`), measures, and returns
`gate.exit_code()`: under `--check`, 1 when any target is missed or could not be measured
(missing data, a failed step), else 0; without `--check` it only prints, and a benchmark that
could not measure says it skipped. `--target NAME=LIMIT` replaces one limit for a run, so a
check can be shown failing on purpose (`--target epoch_ratio=0.5`).

Timings alternate ours and the peer (`alternate`, at least 3 repeats, the first side swapped
each repeat) and report the median of the per-repeat ratios with their range: one sample
against the faster of two is noise, not a figure. Memory is the kernel's high-water mark
(`Peak`), reset just before the measured step, so no short peak is missed between samples.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

MIN_REPEATS = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--check` and `--target NAME=LIMIT` (repeatable)."""
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when a target is missed or could not be measured",
    )
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME=LIMIT",
        help="replace one target's limit for this run (e.g. to see the check fail)",
    )


@dataclass
class Row:
    name: str
    label: str
    value: float | None
    limit: float
    at_most: bool
    detail: str = ""

    @property
    def ok(self) -> bool:
        if self.value is None:
            return False
        return self.value <= self.limit if self.at_most else self.value >= self.limit


@dataclass
class Gate:
    """The targets of one benchmark run, compared and printed as one table."""

    title: str
    check: bool = False
    limits: dict[str, float] = field(default_factory=dict)  # --target overrides
    rows: list[Row] = field(default_factory=list)
    unmeasured: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, title: str, args: argparse.Namespace) -> Gate:
        limits = {}
        for item in args.target:
            name, sep, limit = item.partition("=")
            try:
                limits[name.strip()] = float(limit)
            except ValueError:
                sep = ""
            if not sep:
                raise SystemExit(f"error: --target {item!r}: write it as NAME=NUMBER")
        return cls(title=title, check=bool(args.check), limits=limits)

    def compare(
        self,
        name: str,
        label: str,
        value: float | None,
        limit: float,
        *,
        at_most: bool = True,
        detail: str = "",
    ) -> bool:
        """Record `value` against `limit` (`at_most`: value <= limit, else value >= limit);
        None is a measurement that could not be taken (a miss under `--check`)."""
        row = Row(name, label, value, self.limits.get(name, limit), at_most, detail)
        self.rows.append(row)
        return row.ok

    def cannot_measure(self, why: str) -> None:
        """Nothing could be measured (e.g. the data is absent): a failure under `--check`."""
        self.unmeasured.append(why)

    def unknown_targets(self) -> list[str]:
        return sorted(set(self.limits) - {row.name for row in self.rows})

    def table(self) -> str:
        lines = [f"targets: {self.title}"]
        width = max([len(r.label) for r in self.rows] + [10])
        for row in self.rows:
            shown = "not measured" if row.value is None else _number(row.value)
            sign = "<=" if row.at_most else ">="
            verdict = "ok" if row.ok else "MISSED"
            detail = f"  {row.detail}" if row.detail else ""
            lines.append(
                f"  [{verdict:>6}] {row.label:<{width}}  {shown:>10} {sign} {_number(row.limit)}"
                f"  ({row.name}){detail}"
            )
        for why in self.unmeasured:
            lines.append(f"  [{'MISSED' if self.check else 'skip':>6}] not measured: {why}")
        for name in self.unknown_targets():
            lines.append(f"  [MISSED] --target {name}: no such target")
        return "\n".join(lines)

    def failures(self) -> list[str]:
        missed = [f"{r.label} ({r.name})" for r in self.rows if not r.ok]
        return (
            missed
            + [f"not measured: {why}" for why in self.unmeasured]
            + [f"--target {n}: no such target" for n in self.unknown_targets()]
        )

    def exit_code(self) -> int:
        """Print the table; 1 under `--check` when anything was missed or unmeasured."""
        print(self.table(), flush=True)
        failures = self.failures()
        if self.unmeasured and not self.check:
            print("skipped (without --check this is not a failure)", flush=True)
        if self.check and failures:
            print(f"check FAILED: {'; '.join(failures)}", file=sys.stderr, flush=True)
            return 1
        if self.check:
            print(f"check passed: {len(self.rows)} targets", flush=True)
        return 0


def _number(value: float) -> str:
    if value == 0 or 0.01 <= abs(value) < 10_000:
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


@dataclass(frozen=True)
class Spread:
    """Repeated measurements: their median and range."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def __str__(self) -> str:
        return f"{_number(self.median)} [{_number(self.low)}..{_number(self.high)}]"


def ratios(ours: Sequence[float], peer: Sequence[float]) -> Spread:
    """Per-repeat ratios ours/peer (repeat i against repeat i: the same moment of the machine)."""
    if len(ours) != len(peer) or not ours:
        raise ValueError("ratios need as many runs of ours as of the peer, at least one")
    return Spread(tuple(o / p for o, p in zip(ours, peer, strict=True)))


def faster_beyond_spread(ratio: Spread) -> bool:
    """Ours below the peer on every repeat: a speed-up to investigate, not to publish."""
    return ratio.high < 1.0


def alternate(
    ours: Callable[[], float], peer: Callable[[], float], repeats: int = MIN_REPEATS
) -> tuple[list[float], list[float]]:
    """Run both `repeats` times, alternating which goes first; each returns its measurement."""
    if repeats < MIN_REPEATS:
        raise ValueError(f"at least {MIN_REPEATS} repeats: one sample is not a figure")
    mine, theirs = [], []
    for i in range(repeats):
        if i % 2 == 0:
            mine.append(ours())
            theirs.append(peer())
        else:
            theirs.append(peer())
            mine.append(ours())
    return mine, theirs


def _status_bytes(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {key}")


def rss_bytes() -> int:
    """Resident memory now."""
    return _status_bytes("VmRSS")


class Peak:
    """The kernel's resident high-water mark over a block, above the RSS where it began.

    Entering resets the mark to the current RSS (`/proc/self/clear_refs`, Linux 4.0+), so the
    baseline is taken before the measured step allocates and every short peak counts.
    """

    def __enter__(self) -> Peak:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        self.baseline = rss_bytes()
        self.extra = 0
        return self

    def __exit__(self, *exc: object) -> None:
        self.extra = max(_status_bytes("VmHWM") - self.baseline, 0)
