"""What a promotion decision leaves behind: its tags on the judged run, the few a person reads
on the version, the evidence in the version's record (beside what the record held), `champion`
moved only by a promotion, and a plain-words description (a real MLflow server)."""

from __future__ import annotations

import json
import uuid

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from warmstart.tracking.decision import Decision, Rule
from warmstart.tracking.promotion_record import describe, record
from warmstart.tracking.version_format import (
    EMBEDDING,
    PROMOTION_TAG,
    RECORD_TAG,
    VERDICT_TAG,
    WARNING_TAG,
    Published,
    VersionRecord,
    read_record,
)

FILES = {EMBEDDING: "e" * 64}


def new_version(name: str) -> Published:
    """A version of `name` with a run of its own and a record naming its files."""
    client = MlflowClient()
    with mlflow.start_run() as run:
        pass
    version = client.create_model_version(name, "s3://bucket/candidate", run_id=run.info.run_id)
    client.set_model_version_tag(name, version.version, RECORD_TAG, VersionRecord(FILES).to_json())
    return Published(name, str(version.version), "", run.info.run_id)


@pytest.fixture
def model(tracking) -> str:
    name = f"record-{uuid.uuid4().hex[:8]}"
    MlflowClient().create_registered_model(name)
    return name


def recorded(published: Published, decision: Decision) -> tuple[dict, dict]:
    """Record `decision` from inside the judged run; the run's and the version's tags."""
    with mlflow.start_run(run_id=published.run_id):
        record(published, decision)
    client = MlflowClient()
    run_tags = client.get_run(published.run_id).data.tags
    return run_tags, client.get_model_version(published.name, published.version).tags


def test_a_promotion_tags_run_and_version_keeps_its_evidence_and_moves_champion(model):
    first = new_version(model)
    decision = Decision(True, "accuracy", 0.9, None, None, "first version of the model",
                        Rule(), texts=120)  # fmt: skip
    run_tags, tags = recorded(first, decision)
    assert decision.tags().items() <= run_tags.items()
    assert (tags[PROMOTION_TAG], tags[VERDICT_TAG]) == ("promoted", "learned")
    assert WARNING_TAG not in tags
    kept = read_record(tags)
    assert kept.files == FILES  # the record keeps what it held
    assert kept.promotion == json.loads(json.dumps(decision.evidence()))
    assert MlflowClient().get_model_version_by_alias(model, "champion").version == first.version


def test_a_version_that_learned_nothing_is_rejected_with_a_warning_and_champion_stays(model):
    champion = new_version(model)
    MlflowClient().set_registered_model_alias(model, "champion", champion.version)
    candidate = new_version(model)
    reason = "learned nothing: validation accuracy 0.50 is chance"
    decision = Decision(False, "accuracy", 0.5, champion.version, 0.8, reason, Rule(), 120,
                        learned=False)  # fmt: skip
    _, tags = recorded(candidate, decision)
    assert (tags[PROMOTION_TAG], tags[VERDICT_TAG]) == ("rejected", "learned_nothing")
    assert tags[WARNING_TAG] == reason
    assert read_record(tags).promotion["champion_version"] == champion.version
    assert MlflowClient().get_model_version_by_alias(model, "champion").version == champion.version


def test_the_runs_own_verdict_and_warning_are_what_the_version_shows(model):
    candidate = new_version(model)
    MlflowClient().set_tag(candidate.run_id, WARNING_TAG, "loss rose in epoch 3")
    MlflowClient().set_tag(candidate.run_id, VERDICT_TAG, "learned")
    decision = Decision(True, "accuracy", 0.9, None, None, "first version of the model", Rule(), 9)
    _, tags = recorded(candidate, decision)
    assert (tags[VERDICT_TAG], tags[WARNING_TAG]) == ("learned", "loss rose in epoch 3")


def test_the_description_lists_the_facts_given_then_the_decision_in_words(model):
    candidate = new_version(model)
    decision = Decision(True, "accuracy", 0.9, None, None, "first version of the model", Rule(), 9)
    text = describe(candidate, decision, {"source": "v1", "initializer": "", "new tokens": "42"})
    assert text.splitlines() == ["source: v1", "new tokens: 42", decision.sentence()]
    version = MlflowClient().get_model_version(model, candidate.version)
    assert version.description == text
