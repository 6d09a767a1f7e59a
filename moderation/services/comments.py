from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from moderation.models import Comment
from moderation.services.routing import Route, comment_route


@dataclass(frozen=True)
class SubmitResult:
    comment: Comment
    # False when the client's external_id was already stored: the submit was a retry.
    created: bool
    route: Route | None


@transaction.atomic
def comment_submit(
    *,
    client,
    text: str,
    external_id: str | None = None,
    source: str = "default",
    author_id: str = "",
    metadata: Mapping[str, Any] | None = None,
) -> SubmitResult:
    """Store one comment and route it; a retry with a known external_id returns the stored one."""
    if external_id is not None:
        existing = Comment.objects.filter(client=client, external_id=external_id).first()
        if existing is not None:
            return SubmitResult(comment=existing, created=False, route=None)
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
        existing = Comment.objects.get(client=client, external_id=external_id)
        return SubmitResult(comment=existing, created=False, route=None)
    return SubmitResult(comment=comment, created=True, route=comment_route(comment=comment))


@transaction.atomic
def comments_submit_many(*, client, items: Iterable[Mapping[str, Any]]) -> list[SubmitResult]:
    """Submit a batch all-or-nothing: an error in any item stores none of them."""
    return [comment_submit(client=client, **item) for item in items]
