"""Claim, decide, escalate, undo, bulk: the review services against the real database."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from moderation.models import AuditEvent, Comment, Decision, Label, LabelAnnotation, ReviewItem, ReviewQueue
from moderation.selectors.decisions import audit_precision
from moderation.selectors.queues import ItemFilters, queue_overview
from moderation.selectors.training_data import training_examples
from moderation.services.review import (
    ReviewError,
    decision_undo,
    review_item_claim_next,
    review_item_decide,
    review_item_release,
    review_items_bulk_decide,
)
from tests.factories import ModeratorFactory, ReviewItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def general():
    return ReviewQueue.objects.get(slug="general")


def test_claims_go_most_urgent_first_and_never_to_two_moderators(general):
    low, high = ReviewItemFactory(priority=1, queue_order=1), ReviewItemFactory(priority=5, queue_order=5)
    alice, bob = ModeratorFactory(), ModeratorFactory()
    assert review_item_claim_next(queue=general, moderator=alice) == high
    assert review_item_claim_next(queue=general, moderator=bob) == low
    assert review_item_claim_next(queue=general, moderator=ModeratorFactory()) is None


def test_a_reload_returns_the_item_already_held(general):
    ReviewItemFactory.create_batch(3)
    alice = ModeratorFactory()
    first = review_item_claim_next(queue=general, moderator=alice)
    assert review_item_claim_next(queue=general, moderator=alice) == first


def test_an_item_opened_by_id_is_claimed_even_if_skipped_and_frees_the_one_held(general):
    first, second = ReviewItemFactory(queue_order=9), ReviewItemFactory(queue_order=1)
    alice, bob = ModeratorFactory(), ModeratorFactory()
    assert review_item_claim_next(queue=general, moderator=alice) == first
    # Alice skipped `second` earlier, then opens it from the list: it is hers, not "taken".
    assert review_item_claim_next(queue=general, moderator=alice, skip=[second.pk], item_id=second.pk) == second
    first.refresh_from_db()
    assert first.claimed_by is None  # one claim per moderator and queue: the first is free again
    assert review_item_claim_next(queue=general, moderator=bob) == first


def test_an_expired_claim_returns_to_the_queue(general):
    item = ReviewItemFactory()
    alice, bob = ModeratorFactory(), ModeratorFactory()
    review_item_claim_next(queue=general, moderator=alice)
    ReviewItem.objects.filter(pk=item.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert review_item_claim_next(queue=general, moderator=bob) == item


def test_a_skipped_item_is_passed_over_and_a_released_one_is_free(general):
    first, second = ReviewItemFactory(queue_order=9), ReviewItemFactory(queue_order=1)
    alice = ModeratorFactory()
    assert review_item_claim_next(queue=general, moderator=alice) == first
    review_item_release(item_id=first.pk, moderator=alice)
    assert review_item_claim_next(queue=general, moderator=alice, skip=[first.pk]) == second
    assert review_item_claim_next(queue=general, moderator=ModeratorFactory()) == first


def test_filters_narrow_the_claim(general):
    ReviewItemFactory(queue_order=9, comment__flagged_labels=["severe_toxic"], comment__source="forum")
    wanted = ReviewItemFactory(queue_order=1, comment__flagged_labels=["toxic", "insult"], comment__source="forum")
    claimed = review_item_claim_next(
        queue=general, moderator=ModeratorFactory(), filters=ItemFilters(label="toxic", source="forum")
    )
    assert claimed == wanted


def test_approve_with_corrected_labels_teaches_the_next_training_run(general):
    item = ReviewItemFactory(comment__text="you absolute clown", comment__flagged_labels=["toxic"])
    alice = ModeratorFactory()
    review_item_claim_next(queue=general, moderator=alice)
    labels = {"toxic": True, "insult": True, "threat": False}
    decision = review_item_decide(item_id=item.pk, moderator=alice, action="reject", labels=labels, reason="Spam")
    item.refresh_from_db()
    assert item.status == ReviewItem.Status.DECIDED and item.claimed_by is None
    assert Comment.objects.get(pk=item.comment_id).status == Comment.Status.REJECTED
    stored = dict(
        LabelAnnotation.objects.filter(comment=item.comment, origin="moderator").values_list("label__name", "value")
    )
    assert stored == labels
    assert decision.previous == {"comment_status": "pending", "labels": {"toxic": None, "insult": None, "threat": None}}
    event = AuditEvent.objects.get(action="decision.reject")
    assert event.actor == alice and event.before["status"] == "pending" and event.after["status"] == "rejected"
    examples = training_examples(labels=["toxic", "insult", "threat"], origins=["moderator"])
    assert [(e.text, e.labels) for e in examples] == [("you absolute clown", labels)]


def test_nobody_decides_an_item_someone_else_holds(general):
    item = ReviewItemFactory()
    review_item_claim_next(queue=general, moderator=ModeratorFactory())
    with pytest.raises(ReviewError, match="is reviewing"):
        review_item_decide(item_id=item.pk, moderator=ModeratorFactory(), action="approve")
    assert not Decision.objects.exists()


def test_an_item_is_decided_once(general):
    item = ReviewItemFactory()
    alice = ModeratorFactory()
    review_item_decide(item_id=item.pk, moderator=alice, action="approve")
    with pytest.raises(ReviewError, match="already been decided"):
        review_item_decide(item_id=item.pk, moderator=alice, action="reject")
    assert Decision.objects.count() == 1


def test_escalate_moves_the_comment_keeping_its_priority(general):
    urgent = ReviewQueue.objects.get(slug="urgent")
    item = ReviewItemFactory(priority=3, queue_order=3)
    decision = review_item_decide(item_id=item.pk, moderator=ModeratorFactory(), action="escalate", escalate_to=urgent)
    moved = ReviewItem.objects.get(comment=item.comment, status="open")
    assert moved.queue == urgent and moved.priority == 3 and decision.escalated_to == urgent
    assert Comment.objects.get(pk=item.comment_id).status == Comment.Status.PENDING
    with pytest.raises(ReviewError, match="another queue"):
        review_item_decide(item_id=moved.pk, moderator=ModeratorFactory(), action="escalate", escalate_to=urgent)
    audit = ReviewQueue.objects.get(slug="audit")
    with pytest.raises(ReviewError, match="blind samples"):
        review_item_decide(item_id=moved.pk, moderator=ModeratorFactory(), action="escalate", escalate_to=audit)
    ReviewQueue.objects.filter(slug="general").update(is_retired=True)  # no active rule targets it here
    with pytest.raises(ReviewError, match="retired"):
        review_item_decide(
            item_id=moved.pk,
            moderator=ModeratorFactory(),
            action="escalate",
            escalate_to=ReviewQueue.objects.get(slug="general"),
        )
    teaching = ReviewQueue.objects.get(slug="uncertain")  # its items are chosen, within a budget
    with pytest.raises(ReviewError, match="chosen to teach the model"):
        review_item_decide(item_id=moved.pk, moderator=ModeratorFactory(), action="escalate", escalate_to=teaching)


def test_undo_restores_status_labels_and_the_item(general):
    item = ReviewItemFactory()
    alice = ModeratorFactory()
    review_item_decide(item_id=item.pk, moderator=alice, action="approve", labels={"toxic": False})
    review_item_decide(
        item_id=ReviewItemFactory().pk, moderator=ModeratorFactory(), action="approve"
    )  # someone else's decision is not alice's to undo
    undone = decision_undo(moderator=alice)
    assert undone.comment_id == item.comment_id and undone.undone_at is not None
    item.refresh_from_db()
    assert item.status == ReviewItem.Status.OPEN and item.claimed_by == alice
    assert Comment.objects.get(pk=item.comment_id).status == Comment.Status.PENDING
    assert not LabelAnnotation.objects.filter(comment=item.comment, origin="moderator").exists()
    assert AuditEvent.objects.filter(action="decision.undo", actor=alice).count() == 1
    with pytest.raises(ReviewError, match="Nothing to undo"):
        decision_undo(moderator=alice)


def test_undo_puts_back_a_label_value_the_decision_replaced(general):
    item = ReviewItemFactory()
    alice = ModeratorFactory()
    LabelAnnotation.objects.create(
        comment=item.comment, label=Label.objects.get(name="toxic"), value=True, origin="moderator"
    )
    review_item_decide(item_id=item.pk, moderator=alice, action="approve", labels={"toxic": False})
    decision_undo(moderator=alice)
    assert LabelAnnotation.objects.get(comment=item.comment, origin="moderator", label__name="toxic").value is True


def test_undo_is_refused_after_the_window(general, settings):
    item = ReviewItemFactory()
    alice = ModeratorFactory()
    decision = review_item_decide(item_id=item.pk, moderator=alice, action="approve")
    Decision.objects.filter(pk=decision.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.TOXISCOPE_UNDO_SECONDS + 1)
    )
    with pytest.raises(ReviewError):
        decision_undo(moderator=alice)


def test_undo_of_an_escalation_takes_the_comment_back(general):
    urgent = ReviewQueue.objects.get(slug="urgent")
    item = ReviewItemFactory()
    alice = ModeratorFactory()
    review_item_decide(item_id=item.pk, moderator=alice, action="escalate", escalate_to=urgent)
    decision_undo(moderator=alice)
    assert list(ReviewItem.objects.filter(comment=item.comment, status="open")) == [item]


def test_bulk_reject_acts_on_the_confirmed_selection_only(general):
    ReviewItemFactory.create_batch(3, comment__source="spamfarm")
    ReviewItemFactory(comment__source="forum")
    held = ReviewItemFactory(comment__source="spamfarm")
    review_item_claim_next(queue=general, moderator=ModeratorFactory(), item_id=held.pk)
    alice = ModeratorFactory()
    spam = ItemFilters(source="spamfarm")
    with pytest.raises(ReviewError, match="has changed"):
        review_items_bulk_decide(queue=general, moderator=alice, filters=spam, action="reject", expected_count=4)
    decisions = review_items_bulk_decide(
        queue=general, moderator=alice, filters=spam, action="reject", expected_count=3
    )
    assert len(decisions) == 3 and all(d.is_bulk for d in decisions)
    assert Comment.objects.filter(source="spamfarm", status="rejected").count() == 3
    assert ReviewItem.objects.filter(status="open").count() == 2  # the forum item and the held one
    assert AuditEvent.objects.get(action="decision.bulk_reject").after["comments"]


def test_the_audit_queue_takes_no_bulk_decisions():
    audit = ReviewQueue.objects.get(slug="audit")
    ReviewItemFactory(queue=audit)
    with pytest.raises(ReviewError, match="one comment at a time"):
        review_items_bulk_decide(
            queue=audit, moderator=ModeratorFactory(), filters=ItemFilters(), action="approve", expected_count=1
        )


def test_queue_overview_counts_size_claims_and_sla(general):
    late = ReviewItemFactory()
    ReviewItem.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(days=2))
    ReviewItemFactory()
    review_item_claim_next(queue=general, moderator=ModeratorFactory())
    summary = {s.queue.slug: s for s in queue_overview()}["general"]
    assert (summary.open_items, summary.claimed, summary.over_sla) == (2, 1, 1)
    assert summary.oldest_age > timedelta(days=1)


def test_audit_precision_counts_blind_judgements():
    audit = ReviewQueue.objects.get(slug="audit")
    moderator = ModeratorFactory()

    def judged(route_action, flagged, action, labels):
        item = ReviewItemFactory(queue=audit, comment__route_action=route_action, comment__flagged_labels=flagged)
        review_item_decide(item_id=item.pk, moderator=moderator, action=action, labels=labels)

    judged("auto_reject", ["toxic"], "reject", {"toxic": True})
    judged("auto_reject", ["toxic", "insult"], "approve", {"toxic": False, "insult": True})
    judged("auto_approve", [], "approve", {"toxic": False})
    results = {r.action: r for r in audit_precision()}
    assert (results["auto_reject"].judged, results["auto_reject"].agreed) == (2, 1)
    assert results["auto_reject"].per_label == {"insult": (1, 1), "toxic": (1, 2)}
    assert results["auto_approve"].precision == 1.0


def test_labels_saved_the_old_way_are_found_and_made_unknown():
    """Before chosen-labels-only, approving saved every box as the model had ticked it."""
    from django.core.management import call_command

    from tests.factories import CommentFactory

    moderator = ModeratorFactory()
    comment = CommentFactory(flagged_labels=["racism", "identity_hate"])
    old = {name: name in ("racism", "identity_hate") for name in Label.objects.values_list("name", flat=True)}
    old["toxic"] = True  # the one box this moderator changed: their choice
    for name, value in old.items():
        LabelAnnotation.objects.create(
            comment=comment, label=Label.objects.get(name=name), value=value, origin="moderator", created_by=moderator
        )
    Decision.objects.create(comment=comment, moderator=moderator, action="approve", labels=old)
    # A decision under the new rule, whose labels a person set, is left alone.
    chosen = CommentFactory(flagged_labels=["insult"])
    LabelAnnotation.objects.create(
        comment=chosen, label=Label.objects.get(name="insult"), value=True, origin="moderator", created_by=moderator
    )
    Decision.objects.create(
        comment=chosen, moderator=moderator, action="reject", labels={"insult": True}, labels_confirmed=True
    )

    out = io.StringIO()
    call_command("find_suggested_labels", stdout=out)
    assert "6 moderator label(s) on 1 comment(s)" in out.getvalue()
    assert LabelAnnotation.objects.filter(origin="moderator").count() == 8  # a report changes nothing
    call_command("find_suggested_labels", "--unset", stdout=io.StringIO())
    left = set(LabelAnnotation.objects.filter(origin="moderator").values_list("comment_id", "label__name", "value"))
    assert left == {(comment.pk, "toxic", True), (chosen.pk, "insult", True)}
    assert AuditEvent.objects.filter(action="label_annotation.unset_suggested", target_id=str(comment.pk)).exists()
    assert Comment.objects.count() == 2
