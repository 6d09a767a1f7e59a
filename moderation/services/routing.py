"""Score comments with the active model and route them: one path for a synchronous submit, the
async scoring task, re-scoring once a model becomes active, and `manage.py score_pending`."""

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from moderation.models import Comment, Prediction, ReviewItem, ReviewQueue
from moderation.routing import AUTO_APPROVE, AUTO_REJECT, REVIEW, RouteDecision, decide_route
from moderation.services.routing_config import RoutingConfig, routing_config
from moderation.services.scoring import LoadedVersion, active_model
from toxiscope import metrics

NO_MODEL_REASON = "no active model: every comment is reviewed by a person"
STATUS_FOR_ACTION = {
    REVIEW: Comment.Status.PENDING,
    AUTO_APPROVE: Comment.Status.APPROVED,
    AUTO_REJECT: Comment.Status.REJECTED,
}


@dataclass(frozen=True)
class Routing:
    """Decisions for a batch of comments, before anything is written."""

    version: LoadedVersion | None
    scores: list[dict[str, float] | None]
    decisions: list[RouteDecision]
    queues: list[ReviewQueue | None]
    audit_queue: ReviewQueue | None
    shadow: bool


def routes_decide(
    *,
    scores: Sequence[Mapping[str, float]],
    thresholds: Mapping[str, float],
    sources: Sequence[str],
    config: RoutingConfig | None = None,
) -> list[RouteDecision]:
    """Each comment's route from its scores and a version's thresholds, under the current
    routing rules (the cached configuration unless one is given)."""
    config = config or routing_config.get()
    return [
        decide_route(
            scores=comment_scores,
            calibrated_thresholds=thresholds,
            rules=config.rules,
            source=source,
            default_queue=config.default_queue.slug,
            severity=config.severity,
        )
        for comment_scores, source in zip(scores, sources, strict=True)
    ]


def routing_decide(comments: Sequence[Comment]) -> Routing:
    """Score `comments` in one model call (if a model is active) and decide each one's route;
    reads the cached model and rules, writes nothing."""
    version = active_model.get()
    config = routing_config.get()
    fallback = config.default_queue
    if version is None:
        scores = [None] * len(comments)
        decisions = [RouteDecision(REVIEW, fallback.slug, NO_MODEL_REASON) for _ in comments]
    else:
        scores = version.score([comment.text for comment in comments])
        decisions = routes_decide(
            scores=scores, thresholds=version.thresholds, sources=[c.source for c in comments], config=config
        )
    queues = [config.queues.get(d.queue, fallback) if d.action == REVIEW else None for d in decisions]
    return Routing(version, scores, decisions, queues, config.audit_queue, config.has_shadow)


def _apply(comment: Comment, routing: Routing, index: int) -> None:
    decision = routing.decisions[index]
    comment.route_action, comment.route_reason = decision.action, decision.reason[:300]
    comment.route_queue, comment.flagged_labels = routing.queues[index], list(decision.flagged)
    comment.routed_by = routing.version.version if routing.version else None
    comment.status = STATUS_FOR_ACTION[decision.action]
    comment.routed_scores = routing.scores[index]


def _review_item(comment: Comment, routing: Routing, index: int, now) -> ReviewItem:
    decision = routing.decisions[index]
    return ReviewItem(
        comment=comment,
        queue=routing.queues[index],
        rule_id=decision.rule_id,
        reason=decision.reason[:300],
        priority=decision.priority,
        # `now` is the created_at auto_now_add gives it, to within the same request.
        queue_order=ReviewItem.order_key(decision.priority, now),
    )


def _audit_samples(routing: Routing, routed: Sequence[tuple[int, Comment]], now) -> list[ReviewItem]:
    """A random share of the automatic decisions among `routed` (index in the batch, comment),
    for a person to judge blind: the measured precision of auto-approve and auto-reject (see
    selectors.audit_precision)."""
    rate = settings.TOXISCOPE_AUDIT_SAMPLE_RATE
    if routing.audit_queue is None or rate <= 0:
        return []
    return [
        ReviewItem(
            comment=comment,
            queue=routing.audit_queue,
            reason="blind audit sample of an automatic decision",
            queue_order=ReviewItem.order_key(0.0, now),
        )
        for index, comment in routed
        if routing.decisions[index].action != REVIEW and random.random() < rate
    ]


def _observe(routing: Routing, indexes: Sequence[int]) -> None:
    """Count what was scored and decided, for /metrics."""
    if routing.version is not None and indexes:
        metrics.PREDICTIONS.labels(routing.version.name).inc(len(indexes))
    for index in indexes:
        decision = routing.decisions[index]
        metrics.ROUTES.labels(decision.action).inc()
        for label in decision.flagged:
            metrics.FLAGGED.labels(label).inc()


def _shadow_score_later(routing: Routing, comments: Sequence[Comment]) -> None:
    """Hand the comments to a worker for the shadow version, off the request's path."""
    if not routing.shadow or not comments:
        return
    ids = [comment.pk for comment in comments]

    def enqueue():
        from moderation.tasks import comments_shadow_score

        comments_shadow_score.delay(ids)

    transaction.on_commit(enqueue, robust=True)  # a broker outage costs shadow data, not the submit


def _write_predictions(comments: Sequence[Comment], routing: Routing) -> None:
    if routing.version is not None:
        Prediction.objects.bulk_create(
            [
                Prediction(comment=c, model_version_id=routing.version.id, scores=s)
                for c, s in zip(comments, routing.scores, strict=True)
            ],
            ignore_conflicts=True,  # re-scoring with the same version keeps the first prediction
        )


@transaction.atomic
def comments_create_routed(comments: Sequence[Comment]) -> None:
    """Insert new, unsaved comments already routed: route fields go in with the INSERT, so a
    batch is three INSERTs (comments, predictions, review items) and no UPDATE."""
    routing = routing_decide(comments)
    for index, comment in enumerate(comments):
        _apply(comment, routing, index)
    Comment.objects.bulk_create(comments)
    _write_predictions(comments, routing)
    now = timezone.now()
    ReviewItem.objects.bulk_create(
        [_review_item(c, routing, i, now) for i, c in enumerate(comments) if routing.decisions[i].action == REVIEW]
        + _audit_samples(routing, list(enumerate(comments)), now)
    )
    _observe(routing, range(len(comments)))
    _shadow_score_later(routing, comments)


@transaction.atomic
def comments_route(*, comments: Sequence[Comment]) -> list[RouteDecision]:
    """Score and (re-)route stored comments: set each one's route and status, store a
    Prediction each, and put those for review in a queue.

    A comment already waiting in a queue has that item moved and re-prioritised, unless a
    moderator has claimed it; a comment a person already decided is never re-routed.
    """
    routing = routing_decide(comments)
    _write_predictions(comments, routing)
    open_items = {
        item.comment_id: item
        for item in ReviewItem.objects.select_for_update().filter(comment__in=comments, status=ReviewItem.Status.OPEN)
    }
    now = timezone.now()
    new_items, moved_items, routed = [], [], []
    for index, comment in enumerate(comments):
        item = open_items.get(comment.pk)
        if item is not None and item.claimed_by_id is not None and item.claimed_until > now:
            continue  # a moderator is looking at it: leave it where it is
        _apply(comment, routing, index)
        routed.append((index, comment))
        decision = routing.decisions[index]
        if decision.action == REVIEW and item is None:
            new_items.append(_review_item(comment, routing, index, now))
        elif item is not None:
            if decision.action == REVIEW:
                item.queue, item.rule_id = routing.queues[index], decision.rule_id
                item.reason, item.priority = decision.reason[:300], decision.priority
                item.queue_order = ReviewItem.order_key(decision.priority, item.created_at)
            else:
                item.status = ReviewItem.Status.DECIDED  # decided by the model: it leaves the queue
            item.claimed_by, item.claimed_until = None, None
            moved_items.append(item)
    Comment.objects.bulk_update(
        [comment for _, comment in routed],
        ["route_action", "route_reason", "route_queue", "flagged_labels", "routed_by", "status"],
    )
    # Close the items the model decided before sampling some of those comments for audit:
    # a comment has at most one open item.
    ReviewItem.objects.bulk_update(
        moved_items, ["queue", "rule", "reason", "priority", "queue_order", "status", "claimed_by", "claimed_until"]
    )
    ReviewItem.objects.bulk_create(new_items + _audit_samples(routing, routed, now))
    _observe(routing, [index for index, _ in routed])
    _shadow_score_later(routing, [comment for _, comment in routed])
    return routing.decisions


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
    routed = 0
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            # The scoring task and the sweep may reach for the same comments: each takes the
            # rows it can lock, and re-checks under the lock that they still wait.
            batch = list(
                waiting.filter(pk__in=ids[start : start + batch_size])
                .select_for_update(skip_locked=True)
                .order_by("pk")
            )
            if batch:
                comments_route(comments=batch)
            routed += len(batch)
    return routed
