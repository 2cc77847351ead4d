"""The README's first prediction: after `make run` (the default pipeline, seed 42) the
champion predicts the two demo sentences as they read, with p >= 0.9, in words.

The sentences hold the corpus' own English sentiment words (data.synthetic.words): "moving"
is positive, "boring", "predictable" and "terrible" negative. They were checked by hand with
seeds 1, 2 and 3 as well (p >= 0.998 each).
"""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest
from compose import compose_config
from mlflow_fixtures import tracking_env

from warmstart.stages import pipeline
from warmstart.tracking.connection import connect

pytestmark = pytest.mark.slow

# What the README shows, in its order: each sentence and the label the champion answers.
DEMO = {
    "A moving, beautifully acted film.": "positive",
    "A boring, predictable film with terrible acting.": "negative",
}
NAME = "demo-test"  # the registry name only: the training is the default one


@pytest.fixture(scope="module")
def champion(mlflow_server, data_cache) -> mlflow.pyfunc.PyFuncModel:
    overrides = [f"registry.model_name={NAME}"]
    with tracking_env(mlflow_server.uri, NAME):
        cfg = compose_config(*overrides, cache_dir=data_cache)
        connect(cfg)
        pipeline.run(cfg, overrides=overrides)
    mlflow.set_tracking_uri(mlflow_server.uri)
    return mlflow.pyfunc.load_model(f"models:/{NAME}@champion")


def test_the_default_champion_predicts_the_demo_sentences_as_they_read(champion):
    out = champion.predict(pd.DataFrame({"text": list(DEMO)}))
    assert list(out.columns) == ["label", "p_negative", "p_positive", "probability"]
    assert out["label"].tolist() == list(DEMO.values())
    assert (out[["p_negative", "p_positive"]].max(axis=1) >= 0.9).all(), out
    assert (out["probability"] == out["p_positive"]).all()  # probability is p(positive)
