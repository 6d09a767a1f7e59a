"""Every non-trivial read: here a client's comments; the review queues' in `queues`, why an
item is in review in `explanations`, people's decisions in `decisions`, the work page's item in
`workspace`, the model pages' in `model_versions`, what training reads in `training_data`."""

from collections.abc import Sequence

from django.db.models import QuerySet

from moderation.models import Comment


def comments_of_client(*, client) -> QuerySet[Comment]:
    return (
        Comment.objects.filter(client=client)
        .select_related("routed_by", "route_queue")
        .prefetch_related("predictions")
        .order_by("-created_at", "-id")
    )


def comments_routed(*, ids: Sequence[int]) -> dict[int, Comment]:
    """Those of `ids` already routed, by id, ready to serialise."""
    return {
        comment.pk: comment
        for comment in Comment.objects.filter(pk__in=ids)
        .exclude(route_action="")
        .select_related("routed_by", "route_queue")
        .prefetch_related("predictions")
    }
