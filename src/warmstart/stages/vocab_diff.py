"""Stage `vocab_diff`: what changes between a registered version's vocabulary and the one this
config builds: kept tokens (same row or moved), added and removed ones, as metrics, tables and a
plot, in the words of `core.vocab_diff`; and the classes kept, added and removed (label drift)."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import mlflow
import pandas as pd
from matplotlib.figure import Figure
from omegaconf import DictConfig

from warmstart.core.label_remap import diff_labels, label_diff_summary
from warmstart.core.vocab_diff import VocabDiff, diff_vocabularies
from warmstart.data.acl_layout import legacy_labels_renamed
from warmstart.stages._entry import hydra_app
from warmstart.stages._tracked_fit import prepare
from warmstart.tracking.resolve import resolve_source
from warmstart.tracking.runs import stage_run
from warmstart.tracking.stage_names import VOCAB_DIFF
from warmstart.tracking.stage_result import StageResult
from warmstart.tracking.version_format import label_diff_tags


def plot(diff: VocabDiff, moved: pd.DataFrame) -> Figure:
    """Counts per change kind (kept = same row + moved), and base rank against new rank for the
    tokens that moved."""
    summary = diff.to_dict()
    kinds = ["same_row", "moved", "added", "removed"]
    counts = [int(summary[k]) for k in kinds]
    fig = Figure(figsize=(11, 4))
    left, right = fig.subplots(1, 2)
    left.bar(kinds, counts, color=["#4c72b0", "#dd8452", "#55a868", "#c44e52"])
    left.set_title("tokens by change")
    for x, c in enumerate(counts):
        left.annotate(f"{c:,}", (x, c), ha="center", va="bottom")
    right.scatter(moved["base_index"], moved["new_index"], s=2, alpha=0.4)
    right.set_xlabel("index in base vocabulary")
    right.set_ylabel("index in new vocabulary")
    right.set_title("moved tokens")
    fig.tight_layout()
    return fig


def diff_line(summary: dict) -> str:
    """The counts as printed: `kept=5826 (same_row=30, moved=5796), added=120, removed=100`."""
    return (
        f"kept={summary['kept']} (same_row={summary['same_row']}, moved={summary['moved']}), "
        f"added={summary['added']}, removed={summary['removed']}"
    )


def run(
    cfg: DictConfig, *, overrides: Sequence[str] = (), parent_run_id: str | None = None
) -> StageResult:
    with stage_run(cfg, VOCAB_DIFF, overrides=overrides, parent_run_id=parent_run_id) as active:
        with tempfile.TemporaryDirectory() as tmp:
            source = resolve_source(str(cfg.warmstart.source), Path(tmp))
        mlflow.set_tags(source.lineage_tags())
        data = prepare(cfg)
        diff = diff_vocabularies(source.vocabulary, data.vocabulary)
        summary = diff.to_dict()
        mlflow.log_metrics({k: float(v) for k, v in summary.items() if isinstance(v, int | float)})
        mlflow.log_dict(summary, "vocab_diff/summary.json")
        frames = diff.to_frames()
        for kind, frame in frames.items():
            mlflow.log_table(frame, f"vocab_diff/{kind}.json")
        source_labels = legacy_labels_renamed(source.labels, data.labels)
        labels = label_diff_summary(diff_labels(source_labels, data.labels))
        mlflow.log_dict(labels, "vocab_diff/labels.json")
        mlflow.log_metrics(
            {f"labels_{k}": float(v) for k, v in labels.items() if isinstance(v, int)}
        )
        mlflow.set_tags(label_diff_tags(labels))
        figure = plot(diff, frames["moved"])
        mlflow.log_figure(figure, "vocab_diff/vocab_diff.png")
        print(f"vocab_diff: run {active.info.run_id}: {diff_line(summary)}; classes "
              f"added={labels['added']}, removed={labels['removed']}")  # fmt: skip
        return StageResult(VOCAB_DIFF, active.info.run_id, source_version=source.version)


main = hydra_app(run)

if __name__ == "__main__":
    main()
