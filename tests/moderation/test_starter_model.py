"""The shipped starter model, as `make run` serves it, on real posts it never trained on: the
typed Civil Comments test part (training/starter.py). Needs ../shared: skipped loudly without."""

from pathlib import Path

import pytest
from django.core.management import call_command

from moderation.models import Comment, ModelVersion
from moderation.services import comments_submit_many
from tests.factories import ApiClientFactory
from tests.tiny import REPO
from training.starter import test_part as held_back_part

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
SHARED = REPO.parent / "shared" / "data"
STARTER = REPO / "moderation" / "fixtures" / "starter" / "model"


@pytest.fixture
def typed_test_part():
    if not (SHARED / "toxic_spans_typed.csv").is_file():
        pytest.skip(f"SKIPPED LOUDLY: {SHARED / 'toxic_spans_typed.csv'} is absent (../shared not laid out)")
    return held_back_part(SHARED, typed=True)


@pytest.fixture
def starter(artifacts_dir) -> ModelVersion:
    call_command("install_starter_model", "--source", str(STARTER), "--name", "starter")
    return ModelVersion.objects.get(name="starter", status=ModelVersion.Status.ACTIVE)


def _routes(texts: list[str]) -> list[Comment]:
    results = comments_submit_many(client=ApiClientFactory(), items=[{"text": text} for text in texts])
    return [Comment.objects.select_related("route_queue").get(pk=r.comment.pk) for r in results]


def test_the_built_in_urgent_rule_catches_real_threats(starter, typed_test_part):
    """The model shipped before sent none of these 27 threats to `urgent` (threat recall 0 %).
    This one sends 6 there and reviews all but 3: short of the goal of half caught at the
    served threshold (docs/benchmarks.md), and guarded here so that no rebuild slips back."""
    threats = [e.text for e in typed_test_part if e.labels.get("threat")]
    assert len(threats) >= 20
    comments = _routes(threats)
    urgent = sum(1 for c in comments if c.route_queue and c.route_queue.slug == "urgent")
    approved = sum(1 for c in comments if c.route_action == "auto_approve")
    assert urgent >= len(threats) / 5, (urgent, len(threats))
    assert approved <= len(threats) / 7, (approved, len(threats))


def test_real_attacks_on_groups_are_rarely_auto_approved(starter, typed_test_part):
    """The model shipped before auto-approved 37 of these 62 posts; this one 12."""
    attacks = [e.text for e in typed_test_part if e.labels.get("identity_hate")]
    comments = _routes(attacks)
    approved = sum(1 for c in comments if c.route_action == "auto_approve")
    assert approved <= len(attacks) / 4, (approved, len(attacks))


def test_the_starter_model_records_its_evidence_and_trust_reports(starter):
    assert Path(STARTER / "metrics.json").is_file()
    assert {"evidence", "bias", "robustness"} <= set(starter.metrics)
    assert starter.metrics["bias"]["templates"]["final_bias_metric"] is not None
