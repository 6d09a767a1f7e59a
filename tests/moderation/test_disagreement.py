"""selectors/disagreement.py: people's disagreement with the model, from stored decisions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from moderation.models import AuditEvent, Decision, ReviewQueue
from moderation.selectors.disagreement import disagreement, disagreement_by_week
from tests.factories import CommentFactory, ModeratorFactory, ReviewItemFactory

pytestmark = pytest.mark.django_db


def decide(comment, action, labels, *, audit=False, bulk=False, undone=False, when=None):
    item = ReviewItemFactory(comment=comment, queue=ReviewQueue.objects.get(slug="audit" if audit else "general"))
    decision = Decision.objects.create(
        comment=comment,
        review_item=item,
        moderator=ModeratorFactory(),
        action=action,
        labels=labels,
        is_bulk=bulk,
        undone_at=timezone.now() if undone else None,
    )
    if when:
        Decision.objects.filter(pk=decision.pk).update(created_at=when)
    return decision


def scored(flagged, route="review", source="forum"):
    return CommentFactory(flagged_labels=flagged, route_action=route, source=source)


def test_each_measure_counts_what_people_said_against_the_model():
    decide(scored(["toxic", "insult"]), "approve", {"toxic": False, "insult": True})  # one flag overturned
    decide(scored(["toxic"]), "reject", {"toxic": True, "threat": True})  # threat: suggested no, set yes
    decide(scored([], route="auto_approve"), "reject", {}, audit=True)  # the audit rejects an auto-approval
    decide(scored([], route="auto_approve"), "approve", {}, audit=True)
    decide(scored(["toxic"]), "approve", {"toxic": False}, bulk=True)  # bulk: no one comment's judgement
    decide(scored(["toxic"]), "approve", {"toxic": False}, undone=True)  # taken back
    decide(CommentFactory(flagged_labels=[]), "approve", {"toxic": True})  # never scored: no suggestion
    rows = {(row.label, row.measure): (row.disagreed, row.judged) for row in disagreement()}
    assert rows == {
        ("toxic", "flags_overturned"): (1, 2),
        ("insult", "flags_overturned"): (0, 1),
        ("toxic", "suggestions_corrected"): (1, 2),
        ("insult", "suggestions_corrected"): (0, 1),
        ("threat", "suggestions_corrected"): (1, 1),
        ("", "auto_approvals_rejected"): (1, 2),
    }
    assert {row.source for row in disagreement()} == {"forum"}


def test_weeks_sum_the_labels_and_mark_the_promotions(active_version):
    last_week = timezone.now() - timedelta(days=7)
    decide(scored(["toxic"]), "approve", {"toxic": False}, when=last_week)
    decide(scored(["toxic"]), "reject", {"toxic": True})
    AuditEvent.objects.create(action="model_version.promote", target_type="modelversion", target_id=active_version.pk)
    weeks = disagreement_by_week()
    assert len(weeks) == 2 and weeks[0].week > weeks[1].week  # newest first
    assert weeks[0].promoted == ["tiny-active"] and weeks[1].promoted == []
    assert (weeks[1].cells[0].disagreed, weeks[1].cells[0].judged) == (1, 1)
    assert weeks[0].cells[0].share == 0 and weeks[0].cells[2] is None  # no audit judged that week


def test_the_models_page_shows_the_weeks(active_version):
    from django.test import Client

    from tests.factories import AdminFactory

    for value in (False, True):
        decide(scored(["toxic"]), "approve", {"toxic": value})
    client = Client()
    client.force_login(AdminFactory())
    page = client.get("/models/").content.decode()
    table = page[page.index('id="disagreement"') :]
    assert '50.0 % <span class="muted">of 2</span>' in table
