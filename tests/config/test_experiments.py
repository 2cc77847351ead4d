"""Every `experiment=` preset composes and runs the whole pipeline, so no preset rots.

Each preset runs as it is, made tiny on top (one epoch, a few hundred reviews, a small
vocabulary), through the real pipeline stage against a SQLite store of its own. A sweep
preset runs as one job: the first point of its `hydra.sweeper.params`. Presets reading IMDB
get a tiny generated archive in the aclImdb layout, read through the same `data.path` code
as the real one, so the test is fast and offline.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest
from compose import compose_config
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from mlflow.tracking import MlflowClient

from warmstart.config import CONFIG_DIR, with_overlay
from warmstart.data.example_table import write_example
from warmstart.stages import pipeline
from warmstart.tracking.connection import connect
from warmstart.tracking.stage_names import STAGE_TAG

pytestmark = pytest.mark.slow

PRESETS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))
TINY = (
    "train.epochs=1",
    "train.batch_size=64",
    "train.tensorboard=false",
    "vocab.max_tokens=400",
    "vocab.sequence_length=24",
    "base.vocab.max_tokens=300",
    "reuse=false",
)
TINY_DATA = {
    "synthetic": ("data.n_train=240", "data.n_test=80", "base.data.n_train=240"),
    "imdb": ("data.max_reviews=200",),
    "files": (),
}
STAGES = {"pipeline", "train_base", "vocab_diff", "warm_start", "cold_start", "compare"}


def first_sweep_point(preset: str) -> list[str]:
    """`key=value` for the first value of each swept key of `preset` (none if it sweeps none)."""
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("config", overrides=[f"experiment={preset}"], return_hydra_config=True)
    params = cfg.hydra.sweeper.params or {}
    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()])
    return [f"{o.get_key_element()}={next(iter(o.sweep_string_iterator()))}" for o in parsed]


@pytest.fixture(scope="module")
def tiny_imdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A .tar.gz in the aclImdb layout: 60 reviews per class and split, words that separate."""
    root = tmp_path_factory.mktemp("tiny-imdb")
    rng = np.random.default_rng(0)
    shared = [f"word{i}" for i in range(300)]
    cues = {"pos": ["great", "superb", "moving"], "neg": ["awful", "dull", "clumsy"]}
    for split in ("train", "test"):
        for cls, ratings in (("neg", (1, 4)), ("pos", (7, 10))):
            folder = root / "aclImdb" / split / cls
            folder.mkdir(parents=True)
            for i in range(60):
                words = [*rng.choice(shared, 30), *rng.choice(cues[cls], 4)]
                rng.shuffle(words)
                rating = int(rng.integers(ratings[0], ratings[1] + 1))
                (folder / f"{i}_{rating}.txt").write_text(" ".join(words), encoding="utf-8")
    archive = root / "aclImdb_tiny.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / "aclImdb", arcname="aclImdb")
    return archive


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite tracking store of this test's own; artifacts land under tmp_path too."""
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{tmp_path}/mlflow.db"


def preset_config(preset: str, store: str, data_cache: Path, tiny_imdb: Path):
    """The preset with its first sweep point, made tiny, on the test's store and data."""
    name = compose_config(f"experiment={preset}").data.name
    data = [*TINY_DATA[name], *([f"data.path={tiny_imdb}"] if name == "imdb" else [])]
    if name == "files":  # the README's example table, small
        data.append(f"data.path={write_example(data_cache / 'tickets.csv', n_old=240, n_new=240)}")
    overrides = [
        f"experiment={preset}",
        *TINY,
        *data,
        *first_sweep_point(preset),
        f"tracking.uri={store}",
        f"tracking.experiment_name={preset}",
    ]
    return compose_config(*overrides, cache_dir=data_cache), overrides


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_runs_the_pipeline_to_the_end(preset, store, data_cache, tiny_imdb):
    cfg, overrides = preset_config(preset, store, data_cache, tiny_imdb)
    assert with_overlay(cfg, "base").vocab.max_tokens == 300
    connect(cfg)
    ids = pipeline.run(cfg, overrides=overrides).run_ids

    client = MlflowClient(store)
    runs = [client.get_run(run_id) for run_id in ids.values()]
    runs += client.search_runs(
        [runs[0].info.experiment_id], f"tags.`mlflow.parentRunId` = '{ids['pipeline']}'"
    )
    assert {r.data.tags[STAGE_TAG] for r in runs} == STAGES
    assert all(r.info.status == "FINISHED" for r in runs), [r.info.status for r in runs]
    assert {r.data.params["train.epochs"] for r in runs} == {"1"}
    versions = client.search_model_versions(f"name = '{cfg.registry.model_name}'")
    assert len(versions) == 2  # the base and the warm model
    assert client.get_model_version_by_alias(cfg.registry.model_name, "base").run_id == ids["base"]


def test_continual_composes_with_own_data_and_leaves_data_and_training_to_it():
    default, own = compose_config(), compose_config("experiment=own_data")
    alone = compose_config("experiment=continual")
    assert alone.data.name == "synthetic"  # the default source: the embedded corpus
    assert alone.train == default.train  # the training defaults, not the preset's own
    both = compose_config("experiment=[own_data,continual]")
    assert both.data == own.data and both.train == own.train
    assert (both["update"].steps, both["update"].cold) == (4, True)
    assert both["update"].history == "cumulative"
    assert both.registry.model_name == "warmstart-continual-files"  # never the corpus' model
    assert alone.registry.model_name == "warmstart-continual-synthetic"
