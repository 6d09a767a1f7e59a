"""Moderators' named queue filters."""

from django.core.exceptions import ValidationError
from django.db import transaction

from moderation.models import ReviewQueue, SavedFilter


@transaction.atomic
def saved_filter_save(*, user, queue: ReviewQueue, name: str, query: str) -> SavedFilter:
    """Save (or replace) `user`'s filter `name` on `queue`. `query` is the queue page's query
    string, already validated by the page's filter form."""
    name, query = name.strip(), query.strip()
    if not name:
        raise ValidationError({"name": "Give the filter a name."})
    if not query:
        raise ValidationError({"query": "Set a filter first: an empty one is the whole queue."})
    if len(name) > 60 or len(query) > 1000:
        raise ValidationError("The name or the filter is too long.")
    saved, _ = SavedFilter.objects.update_or_create(user=user, queue=queue, name=name, defaults={"query": query})
    return saved


@transaction.atomic
def saved_filter_delete(*, saved_filter: SavedFilter, user) -> None:
    if saved_filter.user_id != user.pk:
        raise ValidationError("That filter is someone else's.")
    saved_filter.delete()
