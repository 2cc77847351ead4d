"""A newcomer's first screen, in a real browser: the link a pipeline prints opens MLflow's UI on
the experiment's training runs (not the GenAI overview) with the headline's columns, and the
parent run's page shows its sentence and learning curves.

Headless Chromium renders the UI the test server serves and dumps the DOM; skipped where
/usr/bin/chromium is absent (CI installs it: `apt-get install chromium`).
"""

from __future__ import annotations

import html
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from warmstart.tracking.connection import ui_link

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium"),
]


def rendered(url: str, budget_ms: int = 20_000) -> tuple[str, str]:
    """The DOM Chromium renders at `url` after `budget_ms` of virtual time: (markup, text)."""
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--window-size=1600,1000",
             f"--virtual-time-budget={budget_ms}", "--dump-dom", url],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    markup = done.stdout
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", markup, flags=re.S)
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)))
    return markup, text


def test_the_experiment_link_opens_on_training_runs_with_headline_columns(
    pipeline_run, mlflow_server
):
    parent = pipeline_run["runs"]["pipeline"]
    _, text = rendered(ui_link(parent.info.experiment_id, uri=mlflow_server.uri))
    assert "Token Usage" not in text and "Tokens per Trace" not in text, "the GenAI overview"
    assert parent.info.run_name in text
    for column in ("warm_epoch1_val_accuracy", "cold_epoch1_val_accuracy", "epoch1_gap"):
        assert column in text, f"no {column} column in the runs list"
    gap = parent.data.metrics["epoch1_gap"]
    assert f"{gap:g}" in text, "the parent row shows its headline values"


def test_the_parent_run_page_shows_the_headline_sentence_and_the_learning_curves(
    pipeline_run, mlflow_server
):
    parent = pipeline_run["runs"]["pipeline"]
    link = ui_link(parent.info.experiment_id, parent.info.run_id, uri=mlflow_server.uri)
    markup, text = rendered(link)
    assert parent.data.tags["mlflow.note.content"].split("\n")[0] in text
    image = re.search(r'<img[^>]*src="(get-artifact\?path=compare%2Flearning_curves\.png[^"]*)"',
                      markup)  # fmt: skip
    assert image, "the learning curves are not on the run's first page"
    assert "warmstart.champion_version" in text and "warmstart.promotion" in text
