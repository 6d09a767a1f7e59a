"""A moderator's work on a queue: claim the next item, decide, escalate, undo, decide in bulk.

A claim is a lease (`TOXISCOPE_CLAIM_SECONDS`): the claiming query skips rows another
transaction holds (`select_for_update(skip_locked=True)`) and items whose lease is still
running, so two moderators never get the same item, and an abandoned claim lapses by itself.
"""

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from moderation.models import COMMENT_STATUS_AFTER, Comment, Decision, Label, LabelAnnotation, ReviewItem, ReviewQueue
from moderation.selectors.decisions import suggested_label_annotations, undoable_decisions
from moderation.selectors.queues import (
    ItemFilters,
    bulk_actionable_items,
    claim_held_by,
    claim_is_free,
    review_queue_items,
)
from moderation.services.audit import audit_event_record
from moderation.services.webhooks import webhook_deliveries_create

FINAL_ACTIONS = (Decision.Action.APPROVE, Decision.Action.REJECT)  # they set the comment's status


class ReviewError(Exception):
    """A decision that cannot be made as asked; the message is for the moderator."""


def _lease_end():
    return timezone.now() + timedelta(seconds=settings.TOXISCOPE_CLAIM_SECONDS)


@transaction.atomic
def review_item_claim_next(
    *,
    queue: ReviewQueue,
    moderator,
    filters: ItemFilters = ItemFilters(),
    skip: Sequence[int] = (),
    item_id: int | None = None,
) -> ReviewItem | None:
    """Claim the most urgent free item of `queue` (or the item `item_id`, if it is free, even
    one this moderator skipped) for `moderator`, and return it. An item this moderator already
    holds comes first, so a reload or a second tab shows the same item instead of claiming
    another. A moderator holds one item per queue: claiming another gives the first back.
    `skip`: items passed over."""
    now = timezone.now()
    items = review_queue_items(queue=queue, filters=filters)
    items = items.filter(pk=item_id) if item_id is not None else items.exclude(pk__in=skip)
    held = items.filter(claim_held_by(moderator, now)).select_for_update(of=("self",)).first()
    item = held or items.filter(claim_is_free(now)).select_for_update(skip_locked=True, of=("self",)).first()
    if item is None:
        return None
    ReviewItem.objects.filter(queue=queue, claimed_by=moderator, status=ReviewItem.Status.OPEN).exclude(
        pk=item.pk
    ).update(claimed_by=None, claimed_until=None)
    item.claimed_by, item.claimed_until = moderator, _lease_end()
    item.save(update_fields=["claimed_by", "claimed_until"])
    return item


@transaction.atomic
def review_item_release(*, item_id: int, moderator) -> None:
    """Give an item back to the queue (the moderator skipped it)."""
    ReviewItem.objects.filter(pk=item_id, claimed_by=moderator, status=ReviewItem.Status.OPEN).update(
        claimed_by=None, claimed_until=None
    )


def _locked_open_item(item_id: int, moderator) -> ReviewItem:
    item = ReviewItem.objects.select_for_update(of=("self",)).select_related("comment", "queue").get(pk=item_id)
    if item.status != ReviewItem.Status.OPEN:
        raise ReviewError("This comment has already been decided.")
    if item.claimed_by_id not in (None, moderator.pk) and item.claimed_until > timezone.now():
        raise ReviewError(f"{item.claimed_by} is reviewing this comment.")
    return item


def _annotations_write(comment: Comment, labels: Mapping[str, bool], moderator) -> dict[str, bool | None]:
    """Store the moderator's label values; return what they replaced (None: no value)."""
    known = {label.name: label for label in Label.objects.filter(name__in=labels)}
    unknown = set(labels) - set(known)
    if unknown:
        raise ReviewError(f"Unknown labels: {', '.join(sorted(unknown))}.")
    existing = {
        annotation.label.name: annotation
        for annotation in LabelAnnotation.objects.select_related("label").filter(
            comment=comment, origin=LabelAnnotation.Origin.MODERATOR
        )
    }
    previous = {name: existing[name].value if name in existing else None for name in labels}
    # One statement for all the labels: an insert, or an update of the moderator's earlier value.
    LabelAnnotation.objects.bulk_create(
        [
            LabelAnnotation(
                comment=comment,
                label=known[name],
                value=value,
                origin=LabelAnnotation.Origin.MODERATOR,
                created_by=moderator,
            )
            for name, value in labels.items()
        ],
        update_conflicts=True,
        unique_fields=["comment", "label", "origin"],
        update_fields=["value", "created_by", "updated_at"],
    )
    return previous


def _close(item: ReviewItem) -> None:
    item.close()
    item.save(update_fields=ReviewItem.STATUS_FIELDS)


@transaction.atomic
def review_item_decide(
    *,
    item_id: int,
    moderator,
    action: str,
    labels: Mapping[str, bool] | None = None,
    reason: str = "",
    escalate_to: ReviewQueue | None = None,
) -> Decision:
    """Approve, reject or escalate one item. Approve and reject set the comment's status and
    store `labels` as the moderator's annotations, which the next training run learns from;
    escalate moves the comment to another queue, keeping its priority."""
    item = _locked_open_item(item_id, moderator)
    comment = item.comment
    labels = dict(labels or {})
    if action == Decision.Action.ESCALATE:
        if escalate_to is None or escalate_to.pk == item.queue_id:
            raise ReviewError("Choose another queue to escalate to.")
        if escalate_to.is_audit:
            raise ReviewError("The audit queue takes only blind samples of automatic decisions.")
        if escalate_to.is_retired:
            raise ReviewError(f"{escalate_to.name} is retired: it takes nothing new.")
        if escalate_to.is_teaching:
            raise ReviewError(
                f"{escalate_to.name} takes only the comments chosen to teach the model, within its budget."
            )
        labels = {}  # whoever decides it in the other queue sets the labels
    elif action not in FINAL_ACTIONS:
        raise ReviewError(f"Unknown action {action!r}.")
    previous = {"comment_status": comment.status, "labels": {}}
    if action != Decision.Action.ESCALATE:
        previous["labels"] = _annotations_write(comment, labels, moderator)
        comment.status = COMMENT_STATUS_AFTER[action]
        comment.save(update_fields=["status"])
    _close(item)
    if action == Decision.Action.ESCALATE:
        ReviewItem.objects.create(
            comment=comment,
            queue=escalate_to,
            reason=f"escalated from {item.queue.name} by {moderator}" + (f": {reason}" if reason else ""),
            priority=item.priority,
            queue_order=item.queue_order,
        )
    decision = Decision.objects.create(
        comment=comment,
        review_item=item,
        moderator=moderator,
        action=action,
        reason=reason,
        labels=labels,
        labels_confirmed=True,
        escalated_to=escalate_to if action == Decision.Action.ESCALATE else None,
        previous=previous,
    )
    audit_event_record(
        actor=moderator,
        action=f"decision.{action}",
        target=comment,
        before={"status": previous["comment_status"], "queue": item.queue.slug, "labels": previous["labels"]},
        after={"status": comment.status, "decision": decision.pk, "labels": labels, "reason": reason}
        | ({"queue": escalate_to.slug} if escalate_to else {}),
    )
    webhook_deliveries_create(decisions=[decision], event="decision.created")
    return decision


@transaction.atomic
def decision_undo(*, moderator) -> Decision:
    """Undo this moderator's latest decision, if it is recent enough and nothing has happened to
    the comment since: its status and labels are restored and its item is back, claimed by
    them."""
    decision = undoable_decisions(moderator=moderator).select_for_update(of=("self",)).first()
    if decision is None:
        raise ReviewError("Nothing to undo: no decision of yours in the last few minutes.")
    if decision.bulk_id is not None:
        return _bulk_undo(decision, moderator)
    comment, item = decision.comment, decision.review_item
    if Decision.objects.filter(comment=comment, undone_at__isnull=True, created_at__gt=decision.created_at).exists():
        raise ReviewError("Someone has decided on this comment since; it cannot be undone.")
    if item is None:
        raise ReviewError("The review item of this decision no longer exists.")
    if decision.action == Decision.Action.ESCALATE:
        moved = ReviewItem.objects.select_for_update().filter(
            comment=comment, queue=decision.escalated_to, status=ReviewItem.Status.OPEN
        )
        if moved.exclude(claimed_by__isnull=True).filter(claimed_until__gt=timezone.now()).exists():
            raise ReviewError("A moderator of the other queue is reviewing this comment; it cannot be undone.")
        moved.delete()
    else:
        for name, value in decision.previous.get("labels", {}).items():
            annotations = LabelAnnotation.objects.filter(
                comment=comment, label__name=name, origin=LabelAnnotation.Origin.MODERATOR
            )
            if value is None:
                annotations.delete()
            else:
                annotations.update(value=value)
        comment.status = decision.previous["comment_status"]
        comment.save(update_fields=["status"])
    item.reopen(claimed_by=moderator, claimed_until=_lease_end())  # back with its decider
    item.save(update_fields=ReviewItem.STATUS_FIELDS)
    decision.undone_at = timezone.now()
    decision.save(update_fields=["undone_at"])
    audit_event_record(
        actor=moderator,
        action="decision.undo",
        target=comment,
        before={"decision": decision.pk, "action": decision.action, "labels": decision.labels},
        after={"status": comment.status, "queue": item.queue.slug},
    )
    webhook_deliveries_create(decisions=[decision], event="decision.undone")
    return decision


def _bulk_undo(latest: Decision, moderator) -> Decision:
    """Undo a whole bulk action, as one: every comment back to its status, every item back in
    its queue for anyone to take; or nothing, if any of them has been decided since."""
    decisions = list(
        Decision.objects.select_for_update(of=("self",))
        .filter(bulk_id=latest.bulk_id, undone_at__isnull=True)
        .select_related("comment", "review_item__queue")
    )
    comments = [decision.comment for decision in decisions]
    since = Decision.objects.filter(comment__in=comments, undone_at__isnull=True, created_at__gt=latest.created_at)
    if since.exclude(bulk_id=latest.bulk_id).exists():
        raise ReviewError("Some of these comments have been decided since; the bulk action cannot be undone.")
    for decision in decisions:
        decision.comment.status = decision.previous["comment_status"]
        decision.review_item.reopen()
    Comment.objects.bulk_update(comments, ["status"])
    ReviewItem.objects.bulk_update([d.review_item for d in decisions], ReviewItem.STATUS_FIELDS)
    Decision.objects.filter(pk__in=[decision.pk for decision in decisions]).update(undone_at=timezone.now())
    audit_event_record(
        actor=moderator,
        action="decision.bulk_undo",
        target=latest.review_item.queue,
        before={"action": latest.action, "count": len(decisions), "bulk": str(latest.bulk_id)},
        after={"status": "reopened"},
    )
    webhook_deliveries_create(decisions=decisions, event="decision.undone")
    return latest


@transaction.atomic
def review_items_bulk_decide(
    *, queue: ReviewQueue, moderator, filters: ItemFilters, action: str, expected_count: int, reason: str = ""
) -> list[Decision]:
    """Approve or reject every free item that `filters` selects in `queue`. `expected_count` is
    the count the moderator confirmed: if the selection has changed since, nothing is done.
    Items another moderator holds are left alone. No labels are stored: nobody looked at each
    comment's labels."""
    if action not in FINAL_ACTIONS:
        raise ReviewError("A bulk action approves or rejects.")
    if queue.is_audit:
        # Its verdicts measure the automatic decisions' precision: each needs a person's look.
        raise ReviewError("The audit queue is judged one comment at a time.")
    if expected_count > settings.TOXISCOPE_MAX_BATCH:
        raise ReviewError(f"At most {settings.TOXISCOPE_MAX_BATCH} comments at once; narrow the selection.")
    selected = bulk_actionable_items(queue=queue, filters=filters, moderator=moderator)
    items = list(selected.select_for_update(skip_locked=True, of=("self",))[: settings.TOXISCOPE_MAX_BATCH + 1])
    if len(items) != expected_count:
        raise ReviewError(f"The selection has changed: {len(items)} comments match now, not {expected_count}.")
    comments = [item.comment for item in items]
    previous_status = {comment.pk: comment.status for comment in comments}
    for comment in comments:
        comment.status = COMMENT_STATUS_AFTER[action]
    Comment.objects.bulk_update(comments, ["status"])
    for item in items:
        item.close()
    ReviewItem.objects.bulk_update(items, ReviewItem.STATUS_FIELDS)
    bulk_id = uuid.uuid4()
    decisions = Decision.objects.bulk_create(
        [
            Decision(
                comment=item.comment,
                review_item=item,
                moderator=moderator,
                action=action,
                reason=reason,
                is_bulk=True,
                bulk_id=bulk_id,
                previous={"comment_status": previous_status[item.comment_id], "labels": {}},
            )
            for item in items
        ]
    )
    audit_event_record(
        actor=moderator,
        action=f"decision.bulk_{action}",
        target=queue,
        before={"filters": asdict(filters), "count": expected_count},
        after={
            "status": COMMENT_STATUS_AFTER[action],
            "comments": [comment.pk for comment in comments],
            "reason": reason,
        },
    )
    webhook_deliveries_create(decisions=decisions, event="decision.created")
    return decisions


@transaction.atomic
def label_annotations_unset_suggested(*, actor=None) -> int:
    """Make the labels that earlier decisions saved straight from the model's suggestions
    unknown again (selectors.decisions.suggested_label_annotations), so training masks them
    instead of learning the model's guesses as truth. Returns how many were removed."""
    annotations = list(suggested_label_annotations().select_for_update().select_related("comment", "label"))
    by_comment = defaultdict(dict)
    for annotation in annotations:
        by_comment[annotation.comment][annotation.label.name] = annotation.value
    LabelAnnotation.objects.filter(pk__in=[annotation.pk for annotation in annotations]).delete()
    for comment, labels in by_comment.items():
        audit_event_record(
            actor=actor, action="label_annotation.unset_suggested", target=comment, before=labels, after=None
        )
    return len(annotations)
