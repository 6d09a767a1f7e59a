"""Reads for the review queues: the items in them, their order, who holds a claim, and each
queue's counts."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, ExpressionWrapper, F, FloatField, Min, Q, QuerySet
from django.utils import timezone

from moderation.models import ReviewItem, ReviewQueue


@dataclass(frozen=True)
class ItemFilters:
    """A moderator's narrowing of a queue; the empty value of each field means "any"."""

    label: str = ""
    nothing_flagged: bool = False  # polite comments: no label over its threshold
    text: str = ""  # words in the comment: search what still waits, not only history
    source: str = ""
    model_version: int | None = None
    min_age_hours: float | None = None
    max_age_hours: float | None = None

    def apply(self, items: QuerySet[ReviewItem]) -> QuerySet[ReviewItem]:
        if self.label:
            # Label names are slugs, so the quoted name matches one element of the JSON list
            # (on PostgreSQL and SQLite alike, unlike JSON containment).
            items = items.filter(comment__flagged_labels__icontains=f'"{self.label}"')
        if self.nothing_flagged:
            items = items.filter(comment__flagged_labels=[])
        if self.text:
            items = items.filter(comment__text__icontains=self.text)
        if self.source:
            items = items.filter(comment__source=self.source)
        if self.model_version is not None:
            items = items.filter(comment__routed_by_id=self.model_version)
        now = timezone.now()
        if self.min_age_hours is not None:
            items = items.filter(created_at__lte=now - timedelta(hours=self.min_age_hours))
        if self.max_age_hours is not None:
            items = items.filter(created_at__gte=now - timedelta(hours=self.max_age_hours))
        return items


def escalation_queues() -> QuerySet[ReviewQueue]:
    """The queues an item may be escalated to: not the blind audit, nor a retired queue, nor the
    "teach the model" queue (services/review.py refuses each)."""
    return ReviewQueue.objects.filter(is_audit=False, is_retired=False).exclude(slug=settings.TOXISCOPE_TEACH_QUEUE)


def review_queue_items(*, queue: ReviewQueue, filters: ItemFilters = ItemFilters()) -> QuerySet[ReviewItem]:
    """A queue's open items, most urgent first: score-based priority plus age (see
    ReviewItem.queue_order), so nothing waits for ever behind a stream of fresh, higher-scored
    comments."""
    items = ReviewItem.objects.filter(queue=queue, status=ReviewItem.Status.OPEN)
    return filters.apply(items).select_related("comment", "rule", "claimed_by").order_by("-queue_order", "id")


def with_effective_priority(items: QuerySet[ReviewItem], *, now: datetime) -> QuerySet[ReviewItem]:
    """`items` with `effective_priority`: the score-based priority plus what waiting has added
    by `now` (`waiting_part`), which is what the queue is sorted by (queue_order plus the same
    amount for every item)."""
    lift = now.timestamp() / 3600 * settings.TOXISCOPE_PRIORITY_PER_HOUR
    effective = ExpressionWrapper(F("queue_order") + lift, output_field=FloatField())
    return items.annotate(
        effective_priority=effective,
        waiting_part=ExpressionWrapper(effective - F("priority"), output_field=FloatField()),
    )


@dataclass(frozen=True)
class ItemPlace:
    position: int  # 1 for the most urgent open item
    total: int
    due: datetime  # when the item passes its queue's SLA


def item_place(item: ReviewItem, filters: ItemFilters) -> ItemPlace:
    """Where an item stands in its queue (under the moderator's filter) and when it is due."""
    items = review_queue_items(queue=item.queue, filters=filters)
    ahead = items.filter(Q(queue_order__gt=item.queue_order) | Q(queue_order=item.queue_order, id__lt=item.id))
    return ItemPlace(
        position=ahead.count() + 1,
        total=items.count(),
        due=item.created_at + timedelta(minutes=item.queue.sla_minutes),
    )


def bulk_actionable_items(*, queue: ReviewQueue, filters: ItemFilters, moderator) -> QuerySet[ReviewItem]:
    """What a bulk action would act on: the selection, less the items other moderators are
    reviewing (they are left alone)."""
    now = timezone.now()
    return review_queue_items(queue=queue, filters=filters).filter(claim_is_free(now) | claim_held_by(moderator, now))


def claim_is_free(now) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)


def claim_held_by(moderator, now) -> Q:
    return Q(claimed_by=moderator, claimed_until__gt=now)


@dataclass(frozen=True)
class QueueSummary:
    queue: ReviewQueue
    open_items: int
    claimed: int
    over_sla: int
    oldest_age: timedelta | None


def queue_overview() -> list[QueueSummary]:
    """Each queue's size, how many are being looked at, how many wait past the SLA, and the
    age of the oldest: three queries whatever the number of queues. A retired queue is listed
    while it still holds open items."""
    now = timezone.now()
    queues = list(ReviewQueue.objects.all())
    open_items = ReviewItem.objects.filter(status=ReviewItem.Status.OPEN)
    stats = {
        row["queue"]: row
        for row in open_items.values("queue").annotate(
            size=Count("id"), claimed=Count("id", filter=Q(claimed_until__gt=now)), oldest=Min("created_at")
        )
    }
    past_sla = Q(*[Q(queue=q, created_at__lt=now - timedelta(minutes=q.sla_minutes)) for q in queues], _connector=Q.OR)
    late_counts = dict(open_items.filter(past_sla).values_list("queue").annotate(n=Count("id"))) if queues else {}
    return [
        QueueSummary(
            queue=queue,
            open_items=stats.get(queue.pk, {}).get("size", 0),
            claimed=stats.get(queue.pk, {}).get("claimed", 0),
            over_sla=late_counts.get(queue.pk, 0),
            oldest_age=now - stats[queue.pk]["oldest"] if queue.pk in stats else None,
        )
        for queue in queues
        if not queue.is_retired or queue.pk in stats
    ]


def queue_sources(*, queue: ReviewQueue) -> list[str]:
    return list(
        ReviewItem.objects.filter(queue=queue, status=ReviewItem.Status.OPEN)
        .values_list("comment__source", flat=True)
        .distinct()
        .order_by("comment__source")
    )
