"""Every non-trivial read."""

from django.db.models import QuerySet

from moderation.models import Comment


def comments_of_client(*, client) -> QuerySet[Comment]:
    return Comment.objects.filter(client=client).order_by("-created_at", "-id")
