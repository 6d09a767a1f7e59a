"""Reads of what people decided: an author's record, a moderator's labels, undo, history,
activity, and the precision of automatic decisions."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from moderation.models import Comment, Decision, Label, LabelAnnotation, ReviewItem, RoutingRule


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
