"""Triage: put scored comments where they belong. One path for a synchronous submit, the async
scoring task, re-scoring once a model becomes active, and `manage.py triage_waiting`."""

import logging
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from moderation import jobs, metrics
from moderation.engine.analysis import Analysis, comments_analyze
from moderation.engine.rules import REVIEW, RouteDecision
from moderation.engine.scoring import active_model, scorer_for
from moderation.engine.teaching import RANDOM, UNCERTAIN, draw, teaching_candidate
from moderation.models import COMMENT_STATUS_AFTER, Comment, Prediction, ReviewItem, TeachingDay
from training.artifacts import ArtifactError

logger = logging.getLogger(__name__)


def analyze(comments: Sequence[Comment]) -> Analysis:
    """Score and decide `comments`: call it before a transaction opens, never inside one (on
    SQLite a transaction holds the one write lock, and every other writer would wait for the
    model), then hand its analysis to comments_triage_new or comments_triage."""
    analysis = comments_analyze(
        texts=[c.text for c in comments],
        sources=[c.source for c in comments],
        languages=[c.language for c in comments],
    )
    return _with_teacher_scores(analysis, comments)


def _with_teacher_scores(analysis: Analysis, comments: Sequence[Comment]) -> Analysis:
    """A distilled model's teacher also reads a seeded share (TOXISCOPE_TEACH_TEACHER_SHARE) of
    the comments the model would decide alone, for the teaching queue: at MiniLM's 14 times the
    student's cost, a twentieth of them costs about 70 % more scoring."""
    version, share = analysis.version, settings.TOXISCOPE_TEACH_TEACHER_SHARE
    if version is None or version.teacher is None or share <= 0 or not _teaching_open(analysis):
        return analysis
    today = timezone.localdate()
    if not _teaching_caps_left(today, {UNCERTAIN}):  # its disagreements could not be taken today
        return analysis
    seed = f"teacher:{today.isoformat()}"
    read = [
        index
        for index, comment in enumerate(comments)
        if analysis.decisions[index].action != REVIEW and draw(comment.text, seed) < share
    ]
    if not read:
        return analysis
    try:
        scores = scorer_for(version.teacher).score_dicts([comments[index].text for index in read])
    except (ArtifactError, OSError) as exc:  # the teacher's files gone: the student still routes
        logger.warning("teacher %s cannot score: %s", version.teacher.name, exc)
        return analysis
    teacher_scores: list[dict[str, float] | None] = [None] * len(comments)
    for index, row in zip(read, scores, strict=True):
        teacher_scores[index] = row
    return replace(analysis, teacher_scores=teacher_scores)


def _apply(comment: Comment, analysis: Analysis, index: int) -> None:
    decision = analysis.decisions[index]
    comment.language = comment.language or analysis.languages[index]  # the client's, else detected
    comment.route_action, comment.route_reason = decision.action, decision.reason[:300]
    comment.route_queue, comment.flagged_labels = analysis.queue(index), list(decision.flagged)
    comment.routed_by = analysis.version.version if analysis.version else None
    comment.status = COMMENT_STATUS_AFTER[decision.action]


def _review_item(comment: Comment, analysis: Analysis, index: int, now) -> ReviewItem:
    decision = analysis.decisions[index]
    return ReviewItem(
        comment=comment,
        queue=analysis.queue(index),
        rule_id=decision.rule_id,
        reason=decision.reason[:300],
        priority=decision.priority,
        # `now` is the created_at auto_now_add gives it, to within the same request.
        queue_order=ReviewItem.order_key(decision.priority, now),
    )


def _audit_samples(analysis: Analysis, routed: Sequence[tuple[int, Comment]], now) -> list[ReviewItem]:
    """A random share of the automatic decisions among `routed` (index in the batch, comment),
    for a person to judge blind: the measured precision of auto-approve and auto-reject (see
    selectors.decisions.audit_precision)."""
    rate = settings.TOXISCOPE_AUDIT_SAMPLE_RATE
    audit_queue = analysis.config.audit_queue
    if audit_queue is None or rate <= 0:
        return []
    return [
        ReviewItem(
            comment=comment,
            queue=audit_queue,
            reason="blind audit sample of an automatic decision",
            queue_order=ReviewItem.order_key(0.0, now),
        )
        for index, comment in routed
        if analysis.decisions[index].action != REVIEW and random.random() < rate
    ]


def _teach(analysis: Analysis, comments: Sequence[Comment], indexes: Sequence[int]) -> None:
    """Send some of the comments at `indexes` that the model would decide alone to the "teach the
    model" queue instead, within the day's budget: those it is least sure of first, and those
    drawn at random (engine/teaching.py). Their decisions become reviews there, saying why."""
    queue = analysis.config.teaching_queue
    if queue is None or not _teaching_open(analysis):
        return
    today = timezone.localdate()
    candidates = []
    for index in indexes:
        decision = analysis.decisions[index]
        if decision.action != REVIEW:
            candidate = teaching_candidate(
                text=comments[index].text,
                scores=analysis.scores[index],
                thresholds=decision.review_thresholds,
                seed=today.isoformat(),
                parts=analysis.parts[index] if analysis.parts is not None else None,
                teacher=analysis.teacher_scores[index] if analysis.teacher_scores is not None else None,
            )
            if candidate is not None:
                candidates.append((index, candidate))
    if not candidates:
        return
    granted = _teaching_slots(today, Counter(candidate.kind for _, candidate in candidates))
    for index, candidate in sorted(candidates, key=lambda pair: -pair[1].closeness):
        if granted[candidate.kind] > 0:
            granted[candidate.kind] -= 1
            decision = analysis.decisions[index]
            analysis.decisions[index] = RouteDecision(
                action=REVIEW,
                queue=queue.slug,
                reason=candidate.reason,
                flagged=decision.flagged,
                priority=candidate.closeness,
                review_thresholds=decision.review_thresholds,
            )


def _teaching_open(analysis: Analysis) -> bool:
    """Whether a model decided these comments and the teaching queue takes any today."""
    budget = settings.TOXISCOPE_TEACH_DAILY_BUDGET
    return analysis.version is not None and analysis.config.teaching_queue is not None and budget > 0


def _teaching_caps() -> dict[str, int]:
    """The day's budget per kind of candidate (TOXISCOPE_TEACH_*)."""
    budget = settings.TOXISCOPE_TEACH_DAILY_BUDGET
    random_slots = round(budget * settings.TOXISCOPE_TEACH_RANDOM_SHARE)
    return {RANDOM: random_slots, UNCERTAIN: budget - random_slots}


def _teaching_caps_left(day: date, kinds: Iterable[str]) -> bool:
    """Whether any of `kinds` has budget left on `day` (read without a lock: a hint)."""
    caps = _teaching_caps()
    used = TeachingDay.objects.filter(day=day).values(UNCERTAIN, RANDOM).first()
    return used is None or any(used[kind] < caps[kind] for kind in kinds)


def _teaching_slots(day: date, wanted: Counter[str]) -> Counter[str]:
    """How many of `wanted` (per kind) the day's budget still allows, taken from it: counted
    under the day's row lock (on SQLite, the one write lock), so racing submits never exceed it."""
    if not _teaching_caps_left(day, wanted):
        return Counter()  # spent for today: no lock taken
    caps = _teaching_caps()
    TeachingDay.objects.get_or_create(day=day)
    counted = TeachingDay.objects.select_for_update().get(day=day)
    granted = Counter({kind: max(0, min(count, caps[kind] - getattr(counted, kind))) for kind, count in wanted.items()})
    if any(granted.values()):
        TeachingDay.objects.filter(pk=counted.pk).update(**{kind: F(kind) + count for kind, count in granted.items()})
    return granted


def _observe(analysis: Analysis, indexes: Sequence[int]) -> None:
    """Count what was scored and decided, for /metrics."""
    if analysis.version is not None and indexes:
        metrics.PREDICTIONS.labels(analysis.version.name).inc(len(indexes))
    for index in indexes:
        decision = analysis.decisions[index]
        metrics.ROUTES.labels(decision.action).inc()
        for label in decision.flagged:
            metrics.FLAGGED.labels(label).inc()


def _shadow_score_later(analysis: Analysis, comments: Sequence[Comment]) -> None:
    if analysis.config.has_shadow and comments:
        jobs.comments_shadow_score(comment_ids=[comment.pk for comment in comments])


def _write_predictions(comments: Sequence[Comment], analysis: Analysis) -> None:
    if analysis.version is not None:
        Prediction.objects.bulk_create(
            [
                Prediction(comment=c, model_version_id=analysis.version.id, scores=s)
                for c, s in zip(comments, analysis.scores, strict=True)
            ],
            ignore_conflicts=True,  # re-scoring with the same version keeps the first prediction
        )


def _save_routes(comments: Sequence[Comment]) -> None:
    """The routes of stored comments. bulk_update builds a CASE per field and row, which cost the
    worker 40% of its time: the fields most comments share (action, queue, version, status) go
    in one UPDATE per combination, and only the per-comment ones through bulk_update."""
    groups = defaultdict(list)
    for comment in comments:
        groups[(comment.route_action, comment.route_queue_id, comment.routed_by_id, comment.status)].append(comment.pk)
    for (action, queue, version, status), ids in groups.items():
        Comment.objects.filter(pk__in=ids).update(
            route_action=action, route_queue_id=queue, routed_by_id=version, status=status
        )
    Comment.objects.bulk_update(comments, ["route_reason", "flagged_labels", "language"])


# No savepoint of their own: a failure aborts the caller's transaction (or savepoint) whole
# anyway, and two fewer statements per submit.
@transaction.atomic(savepoint=False)
def comments_triage_new(*, comments: Sequence[Comment], analysis: Analysis) -> Analysis:
    """Insert new, unsaved comments routed by `analysis` (analyze's): route fields go in
    with the INSERT, so a batch is three INSERTs (comments, predictions, review items)."""
    _teach(analysis, comments, range(len(comments)))
    for index, comment in enumerate(comments):
        _apply(comment, analysis, index)
    Comment.objects.bulk_create(comments)
    _write_predictions(comments, analysis)
    now = timezone.now()
    ReviewItem.objects.bulk_create(
        [_review_item(c, analysis, i, now) for i, c in enumerate(comments) if analysis.decisions[i].action == REVIEW]
        + _audit_samples(analysis, list(enumerate(comments)), now)
    )
    _observe(analysis, range(len(comments)))
    _shadow_score_later(analysis, comments)
    return analysis


@transaction.atomic(savepoint=False)
def comments_triage(*, comments: Sequence[Comment], analysis: Analysis) -> Analysis:
    """(Re-)route stored comments as `analysis` (analyze's) says: set each one's route
    and status, store a Prediction each, and put those for review in a queue.

    A comment already waiting in a queue has that item moved and re-prioritised, unless a
    moderator has claimed it; a comment a person already decided is never re-routed.
    """
    _write_predictions(comments, analysis)
    open_items = {
        item.comment_id: item
        for item in ReviewItem.objects.select_for_update().filter(comment__in=comments, status=ReviewItem.Status.OPEN)
    }
    now = timezone.now()
    _teach(analysis, comments, [index for index, comment in enumerate(comments) if comment.pk not in open_items])
    teaching = analysis.config.teaching_queue
    new_items, moved_items, routed = [], [], []
    for index, comment in enumerate(comments):
        item = open_items.get(comment.pk)
        if item is not None and item.claimed_by_id is not None and item.claimed_until > now:
            continue  # a moderator is looking at it: leave it where it is
        if item is not None and teaching is not None and item.queue_id == teaching.pk:
            continue  # chosen to be labelled: never decided by a model instead
        _apply(comment, analysis, index)
        routed.append((index, comment))
        decision = analysis.decisions[index]
        if decision.action == REVIEW and item is None:
            new_items.append(_review_item(comment, analysis, index, now))
        elif item is not None:
            if decision.action == REVIEW:
                item.queue, item.rule_id = analysis.queue(index), decision.rule_id
                item.reason, item.priority = decision.reason[:300], decision.priority
                item.queue_order = ReviewItem.order_key(decision.priority, item.created_at)
                item.reopen()  # moved: free for anyone
            else:
                item.close()  # decided by the model: it leaves the queue
            moved_items.append(item)
    _save_routes([comment for _, comment in routed])
    # Close the items the model decided before sampling some of those comments for audit:
    # a comment has at most one open item.
    ReviewItem.objects.bulk_update(
        moved_items, ["queue", "rule", "reason", "priority", "queue_order", "status", "claimed_by", "claimed_until"]
    )
    ReviewItem.objects.bulk_create(new_items + _audit_samples(analysis, routed, now))
    _observe(analysis, [index for index, _ in routed])
    _shadow_score_later(analysis, [comment for _, comment in routed])
    return analysis


def comments_triage_waiting(
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
    waiting = Comment.objects.filter(condition, client__isnull=False, moderated_here=True)
    if comment_ids is not None:
        waiting = waiting.filter(pk__in=comment_ids)
    ids = list(waiting.order_by("pk").values_list("pk", flat=True).distinct())
    routed = 0
    for start in range(0, len(ids), batch_size):
        candidates = list(waiting.filter(pk__in=ids[start : start + batch_size]).order_by("pk"))
        if not candidates:
            continue
        analysis = analyze(candidates)  # the model runs with no transaction open
        with transaction.atomic():
            # The scoring task and the sweep may reach for the same comments: each takes the
            # rows it can lock, re-checked under the lock that they still wait (a comment's
            # text never changes, so its scores still hold).
            locked = {
                comment.pk: comment
                for comment in waiting.filter(pk__in=[c.pk for c in candidates]).select_for_update(skip_locked=True)
            }
            keep = [index for index, comment in enumerate(candidates) if comment.pk in locked]
            if keep:
                comments_triage(comments=[locked[candidates[i].pk] for i in keep], analysis=analysis.subset(keep))
            routed += len(keep)
    return routed
