"""Score comments with the active model and route them: one path for a synchronous submit, the
async scoring task, re-scoring once a model becomes active, and `manage.py score_pending`."""

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from moderation.models import Comment, Prediction, ReviewItem
from moderation.routing import AUTO_APPROVE, AUTO_REJECT, REVIEW, RouteDecision, decide_route
from moderation.services.routing_config import routing_config
from moderation.services.scoring import active_model

NO_MODEL_REASON = "no active model: every comment is reviewed by a person"
STATUS_FOR_ACTION = {
    REVIEW: Comment.Status.PENDING,
    AUTO_APPROVE: Comment.Status.APPROVED,
    AUTO_REJECT: Comment.Status.REJECTED,
}


@transaction.atomic
def comments_route(*, comments: Sequence[Comment], fresh: bool = False) -> list[RouteDecision]:
    """Score `comments` in one batch with the active model (if any), store a Prediction each,
    and route them: set each comment's route and status, and put those for review in a queue.

    A comment already waiting in a queue has that item moved and re-prioritised, unless a
    moderator has claimed it; a comment a person already decided is never re-routed. `fresh`
    says the comments were just created, so none can be waiting in a queue yet.
    """
    version = active_model.get()
    config = routing_config.get()
    fallback = config.default_queue
    if version is None:
        decisions = [RouteDecision(REVIEW, fallback.slug, NO_MODEL_REASON) for _ in comments]
        scores = [None] * len(comments)
    else:
        scores = version.score([comment.text for comment in comments])
        Prediction.objects.bulk_create(
            [
                Prediction(comment=c, model_version_id=version.id, scores=s)
                for c, s in zip(comments, scores, strict=True)
            ],
            ignore_conflicts=True,  # re-scoring with the same version keeps the first prediction
        )
        decisions = [
            decide_route(
                scores=s,
                calibrated_thresholds=version.thresholds,
                rules=config.rules,
                source=c.source,
                default_queue=fallback.slug,
                severity=config.severity,
            )
            for c, s in zip(comments, scores, strict=True)
        ]
    open_items = (
        {}
        if fresh
        else {
            item.comment_id: item
            for item in ReviewItem.objects.select_for_update().filter(
                comment__in=comments, status=ReviewItem.Status.OPEN
            )
        }
    )
    now = timezone.now()
    new_items, moved_items, routed = [], [], []
    for comment, decision, comment_scores in zip(comments, decisions, scores, strict=True):
        item = open_items.get(comment.pk)
        if item is not None and item.claimed_by_id is not None and item.claimed_until > now:
            continue  # a moderator is looking at it: leave it where it is
        queue = config.queues.get(decision.queue, fallback) if decision.action == REVIEW else None
        comment.route_action, comment.route_reason = decision.action, decision.reason[:300]
        comment.route_queue, comment.flagged_labels = queue, list(decision.flagged)
        comment.routed_by = version.version if version else None
        comment.status = STATUS_FOR_ACTION[decision.action]
        comment.routed_scores = comment_scores
        routed.append(comment)
        if decision.action == REVIEW and item is None:
            new_items.append(
                ReviewItem(
                    comment=comment,
                    queue=queue,
                    rule_id=decision.rule_id,
                    reason=decision.reason[:300],
                    priority=decision.priority,
                )
            )
        elif item is not None:
            if decision.action == REVIEW:
                item.queue, item.rule_id, item.reason, item.priority = (
                    queue,
                    decision.rule_id,
                    decision.reason[:300],
                    decision.priority,
                )
            else:
                item.status = ReviewItem.Status.DECIDED  # decided by the model: it leaves the queue
            item.claimed_by, item.claimed_until = None, None
            moved_items.append(item)
    Comment.objects.bulk_update(
        routed, ["route_action", "route_reason", "route_queue", "flagged_labels", "routed_by", "status"]
    )
    ReviewItem.objects.bulk_create(new_items)
    ReviewItem.objects.bulk_update(
        moved_items, ["queue", "rule", "reason", "priority", "status", "claimed_by", "claimed_until"]
    )
    return decisions


def comments_route_pending(
    *, comment_ids: Sequence[int] | None = None, rescore_all: bool = False, batch_size: int = 500
) -> int:
    """Route submitted comments still waiting for the active model: those never routed (an
    async submit whose task was lost) and pending ones routed without a model. Imported
    comments are training data and are never routed. With `comment_ids`, only
    those. With `rescore_all`, every pending comment not yet scored by the active version.
    Returns how many were routed."""
    version = active_model.get()
    condition = Q(route_action="")
    if version is not None:
        not_scored_by_active = Q(status=Comment.Status.PENDING) & ~Q(predictions__model_version_id=version.id)
        condition |= not_scored_by_active if rescore_all else not_scored_by_active & Q(routed_by__isnull=True)
    waiting = Comment.objects.filter(condition, client__isnull=False)
    if comment_ids is not None:
        waiting = waiting.filter(pk__in=comment_ids)
    ids = list(waiting.order_by("pk").values_list("pk", flat=True).distinct())
    for start in range(0, len(ids), batch_size):
        comments_route(comments=list(Comment.objects.filter(pk__in=ids[start : start + batch_size]).order_by("pk")))
    return len(ids)
