import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from moderation.models import Comment
from moderation.services.routing import comments_create_routed, comments_route, comments_route_pending

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubmitResult:
    comment: Comment
    # False when the client's external_id was already stored: the submit was a retry.
    created: bool


def _new_comment(
    client,
    *,
    text: str,
    external_id: str | None = None,
    source: str = "default",
    author_id: str = "",
    metadata: Mapping[str, Any] | None = None,
) -> Comment:
    return Comment(
        client=client,
        text=text,
        external_id=external_id,
        source=source,
        author_id=author_id,
        metadata=dict(metadata or {}),
    )


def _store_one(client, item: Mapping[str, Any]) -> SubmitResult:
    """The exact path: one row, tolerating a concurrent submit of the same external_id."""
    external_id = item.get("external_id")
    if external_id is not None:
        existing = Comment.objects.filter(client=client, external_id=external_id).first()
        if existing is not None:
            return SubmitResult(comment=existing, created=False)
    try:
        with transaction.atomic():  # a savepoint: a duplicate fails alone
            comment = _new_comment(client, **item)
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
        comment = _new_comment(client, **item)
        results.append(SubmitResult(comment=comment, created=True))
        if external_id is not None:
            known[external_id] = comment
    return results


def _enqueue_scoring(comment_ids: list[int]) -> None:
    """Hand stored comments to a worker; with the broker unreachable, score them here and now
    rather than leave them waiting for the sweep."""
    from moderation.tasks import comments_score

    try:
        comments_score.delay(comment_ids)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise several connection error types
        logger.warning("broker unavailable (%s): scoring %d comment(s) synchronously", exc, len(comment_ids))
        comments_route_pending(comment_ids=comment_ids)


@transaction.atomic
def comments_submit_many(
    *, client, items: Sequence[Mapping[str, Any]], defer_scoring: bool = False
) -> list[SubmitResult]:
    """Store a batch all-or-nothing, scored and routed with one model call.

    A retried item (same client and external_id) returns the stored comment unchanged. With
    `defer_scoring`, the comments are stored now and scored by a worker once this transaction
    commits (here, at once, if the broker is unreachable); a periodic sweep routes any whose
    task was lost.
    """
    results = _plan(client, items)
    fresh = [result.comment for result in results if result.created]
    try:
        with transaction.atomic():
            if defer_scoring:
                Comment.objects.bulk_create(fresh)
            else:
                comments_create_routed(fresh)
    except IntegrityError:
        # A concurrent submit stored one of these external_ids after our query: the exact path.
        results = [_store_one(client, item) for item in items]
        fresh = [result.comment for result in results if result.created]
        if not defer_scoring:
            comments_route(comments=fresh)
    if fresh and defer_scoring:
        ids = [comment.pk for comment in fresh]
        transaction.on_commit(lambda: _enqueue_scoring(ids))
    return results


def comment_submit(
    *,
    client,
    text: str,
    external_id: str | None = None,
    source: str = "default",
    author_id: str = "",
    metadata: Mapping[str, Any] | None = None,
) -> SubmitResult:
    """Store one comment, score it and route it (see `comments_submit_many`)."""
    return comments_submit_many(
        client=client,
        items=[dict(text=text, external_id=external_id, source=source, author_id=author_id, metadata=metadata)],
    )[0]
