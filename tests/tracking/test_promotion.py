"""The promotion gate: which rule promotes which candidate, with what evidence, and never a
model that learned nothing.

The champion is a real pyfunc registered on the real tracking server; it answers TEST's 2,000
texts right but for the 200 with i % 10 == 0 (accuracy 0.9). Each candidate's labels are built
from that, so where the paired interval of candidate - champion sits is known:

    candidate        difference   95% interval         non_inferior  superior  point
    tie              0            [0, 0]               promoted      rejected  promoted
    slightly_worse   -0.001       about [-0.003, 0]    promoted      rejected  rejected
    clearly_better   +0.05        about [+0.04, +0.06] promoted      promoted  promoted
    clearly_worse    -0.05        about [-0.06, -0.04] rejected      rejected  rejected
    noisy_better     +0.002       about [-0.016, +0.02] rejected     rejected  promoted
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import mlflow
import numpy as np
import pandas as pd
import pytest
from compose import compose_config
from mlflow.tracking import MlflowClient
from mlflow_fixtures import Server, tracking_env

from warmstart.core.errors import ConfigError
from warmstart.core.paired_test import PairedInterval
from warmstart.tracking import promotion
from warmstart.tracking.decision import Decision, Rule, SliceScores, passes
from warmstart.tracking.evaluation import Evaluation, result_of
from warmstart.tracking.version_format import Published, read_record

N = 2000
TEST = pd.DataFrame({"text": [f"text {i}" for i in range(N)], "label": [i % 2 for i in range(N)]})
WRONG = [i for i in range(N) if i % 10 == 0]  # the champion's mistakes
RIGHT = [i for i in range(N) if i % 10]


def wrong_on(indices: list[int]) -> list[int]:
    """TEST's labels, wrong on `indices`."""
    flip = set(indices)
    return [1 - y if i in flip else y for i, y in enumerate(TEST["label"])]


CHAMPION = wrong_on(WRONG)
CANDIDATES = {
    "tie": CHAMPION,
    "slightly_worse": wrong_on(WRONG + RIGHT[:2]),
    "clearly_better": wrong_on(WRONG[100:]),
    "clearly_worse": wrong_on(WRONG + RIGHT[:100]),
    "noisy_better": wrong_on(RIGHT[:196]),  # fixes all 200 mistakes, makes 196 new ones
}


class Answers(mlflow.pyfunc.PythonModel):
    """The champion: CHAMPION's label for each of TEST's texts."""

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        answers = dict(zip(TEST["text"], CHAMPION, strict=True))
        return pd.DataFrame({"label": [answers[t] for t in model_input["text"]]})


@pytest.fixture(scope="module")
def champion(mlflow_server: Server) -> Iterator[str]:
    """A registered model whose v1, a real pyfunc, is registered once for the module."""
    name = f"gate-{uuid.uuid4().hex[:8]}"
    with tracking_env(mlflow_server.uri, name):
        mlflow.set_tracking_uri(mlflow_server.uri)
        with mlflow.start_run():
            mlflow.pyfunc.log_model(
                name="model", python_model=Answers(), registered_model_name=name,
                pip_requirements=["pandas"],
            )  # fmt: skip
    yield name


def candidate_version(name: str) -> Published:
    """A new version of `name` (its files are never loaded: the candidate's labels are given)
    with a run of its own; `champion` reset to v1."""
    client = MlflowClient()
    with mlflow.start_run() as run:
        pass
    version = client.create_model_version(name, "s3://bucket/candidate", run_id=run.info.run_id)
    client.set_registered_model_alias(name, "champion", "1")
    return Published(name, str(version.version), "", run.info.run_id)


def evaluation(labels: list[int]) -> Evaluation:
    accuracy = float(np.mean(np.asarray(labels) == TEST["label"].to_numpy()))
    return Evaluation(
        {"test_accuracy_score": accuracy}, result_of("accuracy", accuracy), seconds=0.0
    )


def promote(published: Published, labels: list[int], **kwargs) -> Decision:
    with mlflow.start_run(run_id=published.run_id):
        return promotion.decide(
            published, TEST, evaluation(labels), predicted=labels, metric="accuracy", **kwargs
        )


def champion_now(name: str) -> str | None:
    return promotion.champion_of(name)


# ---------------------------------------------------------------- the rule on an interval


def interval(low: float, difference: float = 0.0, candidate: float = 0.8) -> PairedInterval:
    return PairedInterval(
        "accuracy", candidate, candidate - difference, difference, low, 0.05, 0.95, 500, 1000, 0
    )


@pytest.mark.parametrize(
    ("rule", "low", "promoted"),
    [
        (Rule("non_inferior", margin=0.01), -0.0099, True),
        (Rule("non_inferior", margin=0.01), -0.01, False),  # the bound must be above -margin
        (Rule("non_inferior", margin=0.0), 0.0, False),
        (Rule("superior"), 0.0001, True),
        (Rule("superior"), 0.0, False),  # a tie is not better
    ],
)
def test_interval_rules_compare_the_lower_bound(rule, low, promoted):
    ok, why = passes(rule, interval(low))
    assert ok is promoted
    assert f"{low:+.6f}" in why


@pytest.mark.parametrize(
    ("min_delta", "difference", "promoted"),
    [(0.0, 0.0, True), (0.0, -0.001, False), (0.05, 0.04, False), (0.05, 0.06, True)],
)
def test_the_point_rule_is_mlflows_threshold_on_the_two_scores(min_delta, difference, promoted):
    # The interval plays no part: the lower bound here would fail either interval rule.
    ok, why = passes(Rule("point", min_delta=min_delta), interval(-0.5, difference))
    assert ok is promoted
    assert ("passed MLflow validation" in why) is promoted


def test_the_rule_comes_from_the_composed_config_and_an_unknown_one_is_refused():
    promotion_cfg = compose_config().registry.promotion
    assert Rule.of(promotion_cfg) == Rule("non_inferior", 0.95, 0.01, 0.0, 1000, 0)
    assert Rule.of({"rule": "superior", "resamples": 200}) == Rule("superior", resamples=200)
    with pytest.raises(ConfigError, match=r"registry\.promotion\.rule='better' is unknown; use"):
        Rule.of({"rule": "better"})


# ---------------------------------------------------------------- decide, on the server

DECIDES = [
    ("tie", "non_inferior", True),
    ("tie", "superior", False),
    ("tie", "point", True),
    ("slightly_worse", "non_inferior", True),
    ("slightly_worse", "point", False),
    ("clearly_better", "superior", True),
    ("clearly_worse", "non_inferior", False),
    ("noisy_better", "non_inferior", False),
    ("noisy_better", "point", True),
]


@pytest.mark.parametrize(("candidate", "rule", "promoted"), DECIDES, ids=lambda v: str(v))
def test_each_rule_promotes_the_candidates_the_interval_says(
    tracking, champion, candidate, rule, promoted
):
    published = candidate_version(champion)
    decision = promote(published, CANDIDATES[candidate], rule={"rule": rule})
    assert decision.promoted is promoted, decision.sentence()
    assert champion_now(champion) == (published.version if promoted else "1")
    got = decision.interval
    assert got is not None and got.texts == N and got.confidence == 0.95
    assert (decision.champion_version, decision.champion_score) == ("1", 0.9)
    # Where the interval sits, as the module docstring's table says.
    place = {
        "tie": got.low == got.difference == got.high == 0.0,
        "slightly_worse": -0.01 < got.low < got.difference < 0.0,
        "clearly_better": 0.0 < got.low < got.difference == pytest.approx(0.05),
        "clearly_worse": got.high < -0.01,
        "noisy_better": got.low < -0.01 < 0.0 < got.difference,
    }
    assert place[candidate], got
    tags = MlflowClient().get_model_version(champion, published.version).tags
    assert tags["warmstart.promotion"] == decision.word  # the decision is a tag, ...
    evidence = read_record(tags).promotion  # ... its evidence is in the version's record
    assert evidence["rule"] == rule and evidence["texts"] == N
    assert evidence["interval_low"] == pytest.approx(got.low, abs=1e-6)
    assert evidence["interval_high"] == pytest.approx(got.high, abs=1e-6)
    assert evidence["confidence"] == 0.95
    run_tags = MlflowClient().get_run(published.run_id).data.tags  # the run keeps one tag each
    assert float(run_tags["warmstart.promotion.interval_low"]) == pytest.approx(got.low, abs=1e-6)


def test_min_delta_given_to_decide_raises_the_point_rules_bar(tracking, champion):
    published = candidate_version(champion)
    decision = promote(published, CANDIDATES["tie"], rule={"rule": "point"}, min_delta=0.001)
    assert not decision.promoted and decision.rule.min_delta == 0.001
    assert decision.sentence().endswith(
        "difference +0.0000, below min_delta 0.001 (95% interval [+0.0000, +0.0000])."
    )
    tags = MlflowClient().get_model_version(champion, published.version).tags
    assert read_record(tags).promotion["min_delta"] == 0.001
    assert champion_now(champion) == "1"


def test_the_interval_is_the_same_for_the_same_seed(tracking, champion):
    labels = CANDIDATES["noisy_better"]
    first, again = (promote(candidate_version(champion), labels, rule={"seed": 7}) for _ in "ab")
    assert first.interval is not None and first.interval.seed == 7
    assert first.interval == again.interval  # another seed moves it: tests/core/test_paired_test


def test_the_new_token_slice_scores_both_models_and_says_so(tracking, champion):
    published = candidate_version(champion)
    mask = np.zeros(N, dtype=bool)
    mask[WRONG] = True  # all class 0: the champion says 1 to all, the candidate to half
    decision = promote(published, CANDIDATES["clearly_better"], new_token_mask=mask)
    # Macro-F1 over classes 0 and 1: the candidate's F1 is 2/3 for 0 and 0 for 1.
    assert decision.slice == SliceScores(
        texts=200,
        accuracy=0.5,
        macro_f1=pytest.approx(1 / 3),
        champion_accuracy=0.0,
        champion_macro_f1=0.0,
    )
    tags = MlflowClient().get_model_version(champion, published.version).tags
    found = read_record(tags).promotion["slice"]
    assert (found["texts"], found["accuracy"], found["champion_accuracy"]) == (200, 0.5, 0.0)
    sentence = decision.sentence()
    assert sentence.startswith("Promoted to champion (non-inferior): accuracy 0.9500 against")
    assert "champion v1's 0.9000 on 2,000 test texts; difference +0.0500, 95% interval [" in (
        sentence
    )
    assert sentence.endswith("above -0.01. New-token slice (200 texts): 0.5000 vs 0.0000.")
    plain = json.loads(json.dumps(decision.to_dict()))  # plain values only
    assert plain["decision"] == "promoted" and plain["rule"] == "non_inferior"
    assert plain["interval_low"] == decision.interval.low and plain["texts"] == N
    assert plain["slice"]["champion_accuracy"] == 0.0 and plain["sentence"] == sentence


def test_a_model_that_learned_nothing_is_rejected_even_as_the_first_version(tracking):
    name = f"nothing-{uuid.uuid4().hex[:8]}"
    client = MlflowClient()
    client.create_registered_model(name)
    with mlflow.start_run() as run:
        pass
    version = client.create_model_version(name, "s3://bucket/m", run_id=run.info.run_id).version
    published = Published(name, str(version), "", run.info.run_id)
    reason = "final val accuracy 0.500 is the majority-class rate 0.500: the model learned nothing"
    decision = promote(published, CHAMPION, learned_nothing=reason)
    assert not decision.promoted and decision.reason == f"learned nothing: {reason}"
    assert champion_now(name) is None  # no champion at all
    tags = client.get_model_version(name, str(version)).tags
    assert tags["warmstart.promotion"] == "rejected"
    assert tags["warmstart.verdict"] == "learned_nothing"
    assert tags["warmstart.warning"] == f"learned nothing: {reason}"
    assert read_record(tags).promotion["reason"] == f"learned nothing: {reason}"
    assert client.get_run(run.info.run_id).data.tags["warmstart.promotion"] == "rejected"
    assert decision.sentence() == f"Rejected (accuracy 0.9000): learned nothing: {reason}."


def test_a_better_model_that_learned_nothing_leaves_the_champion_where_it_is(tracking, champion):
    published = candidate_version(champion)
    decision = promote(published, CANDIDATES["clearly_better"], learned_nothing="1 step per epoch")
    assert not decision.promoted and not decision.learned
    assert decision.interval is not None and decision.interval.low > 0  # the rule would promote
    assert champion_now(champion) == "1"
    tags = MlflowClient().get_model_version(champion, published.version).tags
    assert tags["warmstart.promotion"] == "rejected"
    evidence = read_record(tags).promotion
    assert evidence["reason"] == "learned nothing: 1 step per epoch"
    assert evidence["champion_version"] == "1"  # compared, as evidence
    assert decision.sentence().startswith(
        "Rejected, champion unchanged (learned nothing: 1 step per epoch): accuracy 0.9500 "
        "against champion v1's 0.9000 on 2,000 test texts; difference +0.0500, 95% interval ["
    )


def test_predictions_that_are_not_the_evaluated_ones_are_refused_before_any_call():
    published = Published("never-contacted", "2", "", "no-run")
    with pytest.raises(ValueError, match="1999 predicted labels for 2000 test texts"):
        promotion.decide(
            published, TEST, evaluation(CHAMPION), predicted=CHAMPION[1:], metric="accuracy"
        )
    with pytest.raises(ValueError, match="pass the `label` column of the predictions that"):
        promotion.decide(
            published,
            TEST,
            evaluation(CHAMPION),
            predicted=CANDIDATES["clearly_better"],
            metric="accuracy",
        )
    with pytest.raises(ValueError, match="pass one bool per test text"):
        promotion.decide(
            published,
            TEST,
            evaluation(CHAMPION),
            predicted=CHAMPION,
            metric="accuracy",
            new_token_mask=np.ones(3, dtype=bool),
        )


@pytest.mark.parametrize(
    ("answers", "truth", "named"),
    [
        ([0, 1, 1], ["negative", "positive"], ["negative", "positive", "positive"]),
        (["1", "0"], ["negative", "positive"], ["positive", "negative"]),
        ([0, 1], [0, 1], [0, 1]),  # a 0/1 table stays 0/1
        (["x", "y"], ["negative", "positive"], ["x", "y"]),  # other names: label drift, as is
    ],
)
def test_a_champion_of_the_old_0_1_acl_labels_is_judged_in_the_tests_words(answers, truth, named):
    """A champion registered before the aclImdb layout's labels were words answers 0/1: read as
    negative/positive it is judged on what it predicts, not scored 0 for its spelling."""
    test = pd.DataFrame({"text": ["t"] * len(truth), "label": truth})
    assert promotion.in_test_names(answers, test) == named
