"""Concurrent promotions against a real MLflow server: `champion` ends where a sequential order
puts it, and every version's tags name the champion it really beat or lost to.

The versions are small real pyfunc models that answer a fixed share of the test texts right
(accuracy 0.5, 0.9, 0.7), so their scores are known and the champion is re-scored for real;
the default rule (non-inferior) applies, and 0.2 apart on 20 texts is well outside its interval.
"""

from __future__ import annotations

import threading
import uuid

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from warmstart.tracking import champion_lock as lock_mod
from warmstart.tracking import promotion
from warmstart.tracking.aliases import champion_lock_model
from warmstart.tracking.champion_lock import champion_lock
from warmstart.tracking.evaluation import Evaluation, result_of
from warmstart.tracking.version_format import Published, read_record

TEST = pd.DataFrame({"text": [f"text {i}" for i in range(20)], "label": [i % 2 for i in range(20)]})


def answers(right: int) -> list[int]:
    """Labels right on the first `right` texts of TEST, wrong on the rest."""
    return [y if i < right else 1 - y for i, y in enumerate(TEST["label"])]


class Answers(mlflow.pyfunc.PythonModel):
    """Answers `answers(right)` for TEST's texts."""

    def __init__(self, right: int) -> None:
        self.answers = dict(zip(TEST["text"], answers(right), strict=True))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return pd.DataFrame({"label": [self.answers.get(t, 0) for t in model_input["text"]]})


def _register(name: str, right: int) -> tuple[Published, float]:
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(
            name="model", python_model=Answers(right), registered_model_name=name,
            pip_requirements=["pandas"],
        )  # fmt: skip
    version = str(info.registered_model_version)
    return Published(name, version, info.model_id, run.info.run_id), right / len(TEST)


def _promote(published: Published, accuracy: float) -> promotion.Decision:
    candidate = Evaluation(
        {"test_accuracy_score": accuracy}, result_of("accuracy", accuracy), seconds=0.0
    )
    predicted = answers(round(accuracy * len(TEST)))
    with mlflow.start_run(run_id=published.run_id):
        return promotion.decide(published, TEST, candidate, predicted=predicted, metric="accuracy")


@pytest.fixture
def model(tracking) -> dict:
    """v1 (accuracy 0.5, champion), v2 (0.9) and v3 (0.7), none promoted yet but v1."""
    name = f"race-{uuid.uuid4().hex[:8]}"
    mlflow.set_experiment(name)
    v1, _ = _register(name, 10)
    MlflowClient().set_registered_model_alias(name, "champion", v1.version)
    v2, s2 = _register(name, 18)
    v3, s3 = _register(name, 14)
    return {"name": name, "v2": (v2, s2), "v3": (v3, s3), "client": MlflowClient()}


def _tags(model: dict, published: Published) -> dict:
    return model["client"].get_model_version(model["name"], published.version).tags


def test_two_concurrent_promotions_end_as_a_sequential_order_would(model, monkeypatch):
    """Neither promotion goes on to the lock until both have scored the champion (v1), so
    they really overlap: whichever takes the lock second finds the champion moved and must be
    judged again, against the first. The champions scored are counted to prove it."""
    (v2, s2), (v3, s3) = model["v2"], model["v3"]
    gate = threading.Barrier(2)
    both_scored = threading.Barrier(2, timeout=120)
    guard = threading.Lock()
    scored: list[str] = []  # the champion version of each judgement, in order
    real_predictions = promotion.champion_predictions

    def score_then_wait_for_the_other(name, version, test):
        value = real_predictions(name, version, test)
        with guard:
            scored.append(version)
            first_round = len(scored) <= 2
        if first_round:
            both_scored.wait()
        return value

    monkeypatch.setattr(promotion, "champion_predictions", score_then_wait_for_the_other)
    decisions: dict = {}

    def one(published: Published, accuracy: float) -> None:
        gate.wait()
        try:
            decisions[published.version] = _promote(published, accuracy)
        except Exception as exc:  # asserted below
            decisions[published.version] = exc

    threads = [threading.Thread(target=one, args=a) for a in ((v2, s2), (v3, s3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    d2, d3 = decisions[v2.version], decisions[v3.version]
    assert isinstance(d2, promotion.Decision) and isinstance(d3, promotion.Decision), decisions
    client, name = model["client"], model["name"]
    # Either order gives v2 (the best) as champion; the tags tell which order it was.
    assert client.get_model_version_by_alias(name, "champion").version == v2.version
    assert d2.promoted
    if d3.promoted:  # v3 first: it beat v1, then v2, judged again, beat v3
        assert (d3.champion_version, d3.champion_score) == ("1", 0.5)
        assert (d2.champion_version, d2.champion_score) == (v3.version, s3)
        assert scored == ["1", "1", v3.version], scored
    else:  # v2 first: it beat v1, then v3, judged again, lost to v2
        assert (d2.champion_version, d2.champion_score) == ("1", 0.5)
        assert (d3.champion_version, d3.champion_score) == (v2.version, s2)
        assert scored == ["1", "1", v2.version], scored  # exactly one judgement again
    for published, decision in ((v2, d2), (v3, d3)):
        tags = _tags(model, published)
        assert tags["warmstart.promotion"] == decision.word
        evidence = read_record(tags).promotion
        assert evidence["champion_version"] == decision.champion_version
        assert evidence["champion_score"] == decision.champion_score
        assert client.get_run(published.run_id).data.tags["warmstart.promotion"] == decision.word
    with pytest.raises(mlflow.exceptions.MlflowException):
        client.get_registered_model(champion_lock_model(name))  # released


def test_a_champion_moved_while_judging_is_judged_against_again(model, monkeypatch):
    (v2, _), (v3, s3) = model["v2"], model["v3"]
    client, name = model["client"], model["name"]
    scored = threading.Event()
    real_predictions = promotion.champion_predictions

    def score_then_signal(*args, **kwargs):
        value = real_predictions(*args, **kwargs)
        scored.set()
        return value

    monkeypatch.setattr(promotion, "champion_predictions", score_then_signal)
    out: list = []
    with champion_lock(name, holder="the test"):
        thread = threading.Thread(target=lambda: out.append(_promote(v3, s3)))
        thread.start()
        assert scored.wait(60)  # v3 was judged against v1 (it would win) and waits for the lock
        client.set_registered_model_alias(name, "champion", v2.version)  # another job won
    thread.join(60)
    (decision,) = out
    assert not decision.promoted and decision.champion_version == v2.version
    assert client.get_model_version_by_alias(name, "champion").version == v2.version
    assert read_record(_tags(model, v3)).promotion["champion_version"] == v2.version


def test_a_lock_left_by_a_dead_holder_is_broken_after_its_lease(model, monkeypatch):
    v3, s3 = model["v3"]
    client, name = model["client"], model["name"]
    monkeypatch.setattr(lock_mod, "LEASE_SECONDS", 1.0)
    client.create_registered_model(champion_lock_model(name))  # its holder died
    decision = _promote(v3, s3)
    assert decision.promoted and decision.champion_version == "1"
    assert client.get_model_version_by_alias(name, "champion").version == v3.version
