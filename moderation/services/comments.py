from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from moderation.models import Comment
from moderation.services.routing import comments_route


@dataclass(frozen=True)
class SubmitResult:
    comment: Comment
    # False when the client's external_id was already stored: the submit was a retry.
    created: bool


def _store(
    *,
    client,
    text: str,
    external_id: str | None = None,
    source: str = "default",
    author_id: str = "",
    metadata: Mapping[str, Any] | None = None,
) -> SubmitResult:
    if external_id is not None:
        existing = Comment.objects.filter(client=client, external_id=external_id).first()
        if existing is not None:
            return SubmitResult(comment=existing, created=False)
    try:
        # The savepoint lets a concurrent duplicate fail alone, keeping the caller's transaction.
        with transaction.atomic():
            comment = Comment.objects.create(
                client=client,
                text=text,
                external_id=external_id,
                source=source,
                author_id=author_id,
                metadata=dict(metadata or {}),
            )
    except IntegrityError:
        if external_id is None:
            raise
        return SubmitResult(comment=Comment.objects.get(client=client, external_id=external_id), created=False)
    return SubmitResult(comment=comment, created=True)


@transaction.atomic
def comments_submit_many(
    *, client, items: Sequence[Mapping[str, Any]], defer_scoring: bool = False
) -> list[SubmitResult]:
    """Store a batch all-or-nothing, then score and route the new comments in one model call.

    A retried item (same client and external_id) returns the stored comment unchanged. With
    `defer_scoring`, the comments are stored now and scored by a worker once this transaction
    commits; a periodic sweep routes any whose task was lost.
    """
    results = [_store(client=client, **item) for item in items]
    fresh = [result.comment for result in results if result.created]
    if fresh and defer_scoring:
        from moderation.tasks import comments_score

        ids = [comment.pk for comment in fresh]
        # robust: a broker outage must not fail a submit whose comments are already stored;
        # the periodic sweep routes them once the broker is back.
        transaction.on_commit(lambda: comments_score.delay(ids), robust=True)
    elif fresh:
        comments_route(comments=fresh)
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
