from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from moderation import jobs
from moderation.engine.analysis import Analysis
from moderation.models import Comment
from moderation.services.triage import analyze, comments_triage, comments_triage_new, comments_triage_waiting


@dataclass(frozen=True)
class SubmitResult:
    comment: Comment
    # False when the client's external_id was already stored: the submit was a retry.
    created: bool
    # The scores this submit gave the comment; None for a retry or a deferred submit (the
    # stored prediction answers then).
    scores: dict[str, float] | None = None


def comment_store_once(*, client, item: Mapping[str, Any]) -> SubmitResult:
    """The exact path: one row, tolerating a concurrent submit of the same external_id (a
    savepoint of the caller's transaction). A stored external_id returns that comment."""
    external_id = item.get("external_id")
    if external_id is not None:
        existing = Comment.objects.filter(client=client, external_id=external_id).first()
        if existing is not None:
            return SubmitResult(comment=existing, created=False)
    try:
        with transaction.atomic():  # a savepoint: a duplicate fails alone
            comment = Comment(client=client, **item)
            comment.save()
    except IntegrityError:
        if external_id is None:
            raise
        return SubmitResult(comment=Comment.objects.get(client=client, external_id=external_id), created=False)
    return SubmitResult(comment=comment, created=True)


def _plan(client, items: Sequence[Mapping[str, Any]]) -> list[SubmitResult]:
    """One query finds the retries; the rest become new, unsaved comments. An external_id
    repeated inside the batch is one new comment, its repeats answering as retries."""
    external_ids = [item["external_id"] for item in items if item.get("external_id") is not None]
    known = {}
    if external_ids:
        known = {
            c.external_id: c
            for c in Comment.objects.filter(client=client, external_id__in=external_ids)
            .select_related("routed_by", "route_queue")
            .prefetch_related("predictions")
        }
    results = []
    for item in items:
        external_id = item.get("external_id")
        if external_id is not None and external_id in known:
            results.append(SubmitResult(comment=known[external_id], created=False))
            continue
        comment = Comment(client=client, **item)
        results.append(SubmitResult(comment=comment, created=True))
        if external_id is not None:
            known[external_id] = comment
    return results


def _with_scores(results: list[SubmitResult], fresh: Sequence[Comment], analysis: Analysis) -> list[SubmitResult]:
    scores = {id(comment): row for comment, row in zip(fresh, analysis.scores, strict=True)}
    return [SubmitResult(r.comment, r.created, scores.get(id(r.comment))) if r.created else r for r in results]


def comments_submit_many(
    *, client, items: Sequence[Mapping[str, Any]], defer_scoring: bool = False
) -> list[SubmitResult]:
    """Store a batch all-or-nothing, scored and routed with one model call. Each item holds
    a comment's fields as the API's submit serializer validated them.

    A retried item (same client and external_id) returns the stored comment unchanged. With
    `defer_scoring`, the comments are stored now and scored by a worker once this transaction
    commits (here, at once, if the broker is unreachable); a periodic sweep routes any whose
    task was lost.
    """
    results = _plan(client, items)
    fresh = [result.comment for result in results if result.created]
    # Scored before the transaction opens: on SQLite it holds the one write lock, and every
    # other client's submit would wait for this batch's model time.
    analysis = None if defer_scoring else analyze(fresh)
    with transaction.atomic():
        try:
            with transaction.atomic():
                if defer_scoring:
                    Comment.objects.bulk_create(fresh)
                else:
                    results = _with_scores(results, fresh, comments_triage_new(comments=fresh, analysis=analysis))
        except IntegrityError:
            # A concurrent submit stored one of these external_ids after our query: the exact
            # path, item by item. Rare, and the comments left to score are those few.
            results = [comment_store_once(client=client, item=item) for item in items]
            fresh = [result.comment for result in results if result.created]
            if not defer_scoring:
                results = _with_scores(results, fresh, comments_triage(comments=fresh, analysis=analyze(fresh)))
        if fresh and defer_scoring:
            ids = [comment.pk for comment in fresh]
            jobs.comments_triage_waiting(
                comment_ids=ids, if_broker_down=lambda: comments_triage_waiting(comment_ids=ids)
            )
    return results
