"""Reads for the moderators' workspace: queues, the items in them, history, activity, audit."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from moderation.engine.config import routing_config
from moderation.engine.rules import review_thresholds, rules_for_source
from moderation.engine.scoring import scorer_for
from moderation.models import Comment, Decision, Label, LabelAnnotation, ReviewItem, ReviewQueue, RoutingRule
from training.artifacts import ArtifactError


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


def review_queue_items(*, queue: ReviewQueue, filters: ItemFilters = ItemFilters()) -> QuerySet[ReviewItem]:
    """A queue's open items, most urgent first: score-based priority plus age (see
    ReviewItem.queue_order), so nothing waits for ever behind a stream of fresh, higher-scored
    comments."""
    items = ReviewItem.objects.filter(queue=queue, status=ReviewItem.Status.OPEN)
    return filters.apply(items).select_related("comment", "rule", "claimed_by").order_by("-queue_order", "id")


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
    age of the oldest: three queries whatever the number of queues."""
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
    ]


@dataclass(frozen=True)
class LabelScore:
    label: str
    score: float
    threshold: float | None
    flagged: bool


def item_scores(item: ReviewItem) -> list[LabelScore]:
    """The scores that routed the item's comment, each with its review threshold as the routing
    engine derives it under the current rules (a review rule's threshold, else the model's)."""
    comment = item.comment
    version = comment.routed_by
    if version is None:
        return []
    prediction = comment.predictions.filter(model_version=version).first()
    if prediction is None:
        return []
    rules = rules_for_source(routing_config.get().rules, comment.source)
    thresholds = review_thresholds(rules, version.thresholds)
    return [
        LabelScore(label, prediction.scores[label], thresholds.get(label), label in comment.flagged_labels)
        for label in version.labels
        if label in prediction.scores
    ]


def _routing_scorer(comment: Comment):
    """The scorer of the version that routed `comment`, or None (none routed it, or its artifact
    cannot be read: the page shows the comment without highlights)."""
    if comment.routed_by is None:
        return None
    try:
        return scorer_for(comment.routed_by)
    except (ArtifactError, OSError):
        return None


@dataclass(frozen=True)
class Passage:
    """The part of a long comment that gave a label its score, with the text around it."""

    label: str
    before: str
    text: str
    after: str


def driving_passage(item: ReviewItem, scores: list[LabelScore]) -> Passage | None:
    """For a comment longer than one model window: the window that gave its highest flagged
    label (else its highest score) that score. Only such comments are scored again here (the
    transformer alone, on the work page only)."""
    comment = item.comment
    scorer = _routing_scorer(comment) if scores else None
    if scorer is None:
        return None
    # Every token covers a character, so a short text is one window; else tokenising tells.
    if len(comment.text) <= scorer.max_len or scorer.windows_needed(comment.text) == 1:
        return None
    top = max(scores, key=lambda s: (s.flagged, s.score))
    spans = scorer.driving_spans([comment.text])
    start, end = (int(v) for v in spans[0, scorer.labels.index(top.label)])
    if (start, end) == (0, len(comment.text)):
        return None
    return Passage(top.label, comment.text[:start], comment.text[start:end], comment.text[end:])


@dataclass(frozen=True)
class Segment:
    text: str
    driving: bool  # leaving this word out lowers the score most


def driving_words(item: ReviewItem, scores: list[LabelScore], passage: Passage | None) -> list[Segment]:
    """For a flagged comment of one window (a longer one shows its driving window instead): the
    few words whose leaving out lowers its top flagged label's score most (token occlusion),
    as text segments to highlight. Computed on the work page only."""
    comment = item.comment
    flagged = [score for score in scores if score.flagged]
    scorer = _routing_scorer(comment) if passage is None and flagged else None
    if scorer is None:
        return []
    top = max(flagged, key=lambda score: score.score)
    drops = scorer.word_drops(comment.text, top.label)
    if not drops:
        return []
    biggest = max(drop for _, _, drop in drops)
    chosen = sorted(
        (span for span in drops if span[2] >= max(OCCLUSION_MIN_DROP, biggest / 4)), key=lambda span: -span[2]
    )[:3]
    segments, cursor = [], 0
    for start, end, _ in sorted(chosen):
        segments += [Segment(comment.text[cursor:start], False), Segment(comment.text[start:end], True)]
        cursor = end
    return [*segments, Segment(comment.text[cursor:], False)] if chosen else []


OCCLUSION_MIN_DROP = 0.05  # a word whose removal moves the raw score less than this drives nothing


def author_history(comment: Comment, limit: int = 10) -> list[Decision]:
    """Earlier decisions on comments by the same author in the same community."""
    if not comment.author_id:
        return []
    return list(
        Decision.objects.filter(
            comment__author_id=comment.author_id, comment__source=comment.source, undone_at__isnull=True
        )
        .exclude(comment=comment)
        .select_related("comment", "moderator")[:limit]
    )


@dataclass(frozen=True)
class AuthorRecord:
    comments: int  # other comments by this author in this community
    rejected: int  # of those, rejected (by a person or automatically)
    recent: list[Comment]


def author_record(comment: Comment, limit: int = 5) -> AuthorRecord | None:
    """What the author has posted here before, and how much of it was rejected."""
    if not comment.author_id:
        return None
    others = Comment.objects.filter(author_id=comment.author_id, source=comment.source).exclude(pk=comment.pk)
    counts = others.aggregate(comments=Count("id"), rejected=Count("id", filter=Q(status=Comment.Status.REJECTED)))
    return AuthorRecord(counts["comments"], counts["rejected"], list(others.order_by("-created_at")[:limit]))


def moderator_labels(comment: Comment) -> dict[str, bool]:
    return dict(
        LabelAnnotation.objects.filter(comment=comment, origin=LabelAnnotation.Origin.MODERATOR).values_list(
            "label__name", "value"
        )
    )


def active_labels() -> list[str]:
    return list(Label.objects.filter(is_active=True).values_list("name", flat=True))


def undoable_decisions(*, moderator) -> QuerySet[Decision]:
    """The moderator's decisions that z may still undo, latest first: not undone yet, within
    `TOXISCOPE_UNDO_SECONDS` (a bulk action's decisions are undone together)."""
    return Decision.objects.filter(
        moderator=moderator,
        undone_at__isnull=True,
        created_at__gte=timezone.now() - timedelta(seconds=settings.TOXISCOPE_UNDO_SECONDS),
    ).select_related("comment", "review_item")


def decision_history(*, search: str = "", moderator: str = "", action: str = "") -> QuerySet[Decision]:
    decisions = Decision.objects.select_related("comment", "moderator", "review_item__queue", "escalated_to")
    if search:
        decisions = decisions.filter(
            Q(comment__text__icontains=search)
            | Q(comment__author_id=search)
            | Q(comment__external_id=search)
            | Q(reason__icontains=search)
        )
    if moderator:
        decisions = decisions.filter(moderator__username=moderator)
    if action:
        decisions = decisions.filter(action=action)
    return decisions


@dataclass(frozen=True)
class ModeratorActivity:
    username: str
    approved: int
    rejected: int
    escalated: int
    undone: int
    bulk: int
    last_decision_at: datetime


def moderator_activity(*, since_days: int) -> list[ModeratorActivity]:
    since = timezone.now() - timedelta(days=since_days)
    live = Q(undone_at__isnull=True)
    rows = (
        Decision.objects.filter(created_at__gte=since)
        .values("moderator__username")
        .annotate(
            approved=Count("id", filter=live & Q(action=Decision.Action.APPROVE)),
            rejected=Count("id", filter=live & Q(action=Decision.Action.REJECT)),
            escalated=Count("id", filter=live & Q(action=Decision.Action.ESCALATE)),
            undone=Count("id", filter=Q(undone_at__isnull=False)),
            bulk=Count("id", filter=live & Q(is_bulk=True)),
            last_decision_at=Max("created_at"),
        )
        .order_by("moderator__username")
    )
    return [
        ModeratorActivity(
            row["moderator__username"],
            row["approved"],
            row["rejected"],
            row["escalated"],
            row["undone"],
            row["bulk"],
            row["last_decision_at"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class AuditPrecision:
    """How often a person, judging blind, agreed with the automatic decisions: per action and
    per label (an auto-reject "for" a label counts as right when the person confirmed that
    label; an auto-approve is right for a label when the person left it unticked)."""

    action: str
    sampled: int
    judged: int
    agreed: int
    per_label: dict[str, tuple[int, int]]  # label -> (agreed, judged)

    @property
    def precision(self) -> float | None:
        return self.agreed / self.judged if self.judged else None


def audit_precision() -> list[AuditPrecision]:
    audit_items = ReviewItem.objects.filter(queue__is_audit=True)
    sampled = Counter(audit_items.values_list("comment__route_action", flat=True))
    decisions = (
        Decision.objects.filter(
            review_item__queue__is_audit=True,
            undone_at__isnull=True,
            is_bulk=False,
            action__in=[Decision.Action.APPROVE, Decision.Action.REJECT],
        )
        .select_related("comment")
        .order_by("created_at")
    )
    judged: Counter = Counter()
    agreed: Counter = Counter()
    per_label: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for decision in decisions:
        auto = decision.comment.route_action
        expected = "reject" if auto == "auto_reject" else "approve"
        judged[auto] += 1
        agreed[auto] += decision.action == expected
        if auto == "auto_reject":
            for label in decision.comment.flagged_labels:
                counts = per_label[auto][label]
                counts[0] += bool(decision.labels.get(label))
                counts[1] += 1
        else:
            for label, value in decision.labels.items():
                counts = per_label[auto][label]
                counts[0] += not value
                counts[1] += 1
    return [
        AuditPrecision(
            action,
            sampled[action],
            judged[action],
            agreed[action],
            {label: tuple(counts) for label, counts in sorted(per_label[action].items())},
        )
        for action in (RoutingRule.Action.AUTO_REJECT, RoutingRule.Action.AUTO_APPROVE)
    ]


def queue_sources(*, queue: ReviewQueue) -> list[str]:
    return list(
        ReviewItem.objects.filter(queue=queue, status=ReviewItem.Status.OPEN)
        .values_list("comment__source", flat=True)
        .distinct()
        .order_by("comment__source")
    )


def suggested_label_annotations() -> QuerySet:
    """Moderator labels that may be the model's guesses: stored by a decision made before only
    chosen labels were saved (labels_confirmed false), with the value the model suggested (a
    flagged label yes, any other no). A value the moderator changed from the suggestion was
    their choice and is not among them."""
    # (comment, label, value, moderator) of every label value saved as suggested; one clause per
    # value in a query would grow without bound, so the annotations are matched here instead.
    suspect = set()
    decisions = Decision.objects.filter(
        labels_confirmed=False, action__in=[Decision.Action.APPROVE, Decision.Action.REJECT]
    ).select_related("comment")
    for decision in decisions.iterator():
        flagged = set(decision.comment.flagged_labels)
        suspect |= {
            (decision.comment_id, name, value, decision.moderator_id)
            for name, value in decision.labels.items()
            if value == (name in flagged)
        }
    annotations = LabelAnnotation.objects.filter(
        origin=LabelAnnotation.Origin.MODERATOR, comment_id__in={comment for comment, *_ in suspect}
    ).values_list("pk", "comment_id", "label__name", "value", "created_by_id")
    return LabelAnnotation.objects.filter(pk__in=[pk for pk, *key in annotations if tuple(key) in suspect])
